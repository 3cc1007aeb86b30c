"""`fleet diff` flags every destructive class, each on a base/head pair of our own fleet (fleet.py):
deleting a Namespace, a CRD and its custom resources, a PVC, a StatefulSet's volume claim
templates; immutable fields; a HelmRelease's chart major version. Only what the agent really
deletes counts: what a non-pruning owner leaves behind destroys nothing."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.fleet.diff.fleet import DATA, FILES, commit, ks, push_base
from tests.fleet.diff.helpers import destructive_kinds, diff_json, one


def _head(tmp_path: Path, bare: Path, files: dict[str, str | None]) -> None:
    work = tmp_path / "work"
    push_base(work, bare)
    commit(work, files, "head", push="pr")


def _without(folder_file: str, entry: str) -> str:
    text = FILES[folder_file]
    assert f"  - {entry}\n" in text
    return text.replace(f"  - {entry}\n", "")


def test_removing_a_kustomization_deletes_its_namespace_and_everything_it_applied(
    tmp_path: Path, bare_remote: Path, cli: CliRunner
) -> None:
    _head(
        tmp_path,
        bare_remote,
        {
            "clusters/dev/apps.yaml": None,
            "clusters/dev/kustomization.yaml": _without("clusters/dev/kustomization.yaml", "apps.yaml"),
        },
    )
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 6
    namespace = one(doc, kind="Namespace", name="web")
    assert namespace["action"] == "delete" and namespace["pruned"] is True
    assert destructive_kinds(namespace) == ["namespace-deleted"]
    assert "deletes every object in it" in namespace["destructive"][0]["reason"]
    # What goes with the Kustomization: itself (pruned by the root) and every object it applied.
    assert one(doc, kind="Kustomization", name="apps")["owner"] == "Kustomization flux-system/flux-system"
    for kind, name in (("Deployment", "web"), ("Service", "web"), ("ConfigMap", "web-config")):
        change = one(doc, kind=kind, name=name)
        assert (change["action"], change["pruned"], change["owner"]) == (
            "delete",
            True,
            "Kustomization flux-system/apps",
        )
    removed = next(o for o in doc["owners"] if o["name"] == "Kustomization flux-system/apps")
    assert removed["state"] == "removed" and "deletes the objects it applied" in removed["note"]


def test_deleting_a_crd_deletes_every_custom_resource_of_it(
    tmp_path: Path, bare_remote: Path, cli: CliRunner
) -> None:
    _head(tmp_path, bare_remote, {"data/kustomization.yaml": _without("data/kustomization.yaml", "crd.yaml")})
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code in (1, 6)  # the Backup left in Git has no CRD at head any more
    crd = one(doc, kind="CustomResourceDefinition", name="backups.example.com")
    assert crd["action"] == "delete" and destructive_kinds(crd) == ["crd-deleted"]
    assert "every custom resource of it (1 in Git at base" in crd["destructive"][0]["reason"]
    # Still in Git, yet the API server deletes it with its CRD.
    backup = one(doc, kind="Backup", name="nightly")
    assert backup["action"] == "delete" and destructive_kinds(backup) == ["custom-resource-deleted"]


def test_deleting_a_crd_with_its_resources_flags_both(
    tmp_path: Path, bare_remote: Path, cli: CliRunner
) -> None:
    text = _without("data/kustomization.yaml", "crd.yaml").replace("  - backup.yaml\n", "")
    _head(tmp_path, bare_remote, {"data/kustomization.yaml": text})
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 6
    assert destructive_kinds(one(doc, kind="Backup")) == ["custom-resource-deleted"]
    assert destructive_kinds(one(doc, kind="CustomResourceDefinition")) == ["crd-deleted"]


def test_deleting_a_pvc_is_destructive(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    db = DATA["data/db.yaml"]
    _head(tmp_path, bare_remote, {"data/db.yaml": db[db.index("---\n") + 4 :]})
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 6
    pvc = one(doc, kind="PersistentVolumeClaim", name="uploads")
    assert pvc["action"] == "delete" and destructive_kinds(pvc) == ["pvc-deleted"]
    assert doc["counts"] == {"create": 0, "update": 0, "delete": 1, "left": 0, "destructive": 1}


def test_deleting_a_statefulset_with_claim_templates_is_destructive(
    tmp_path: Path, bare_remote: Path, cli: CliRunner
) -> None:
    db = DATA["data/db.yaml"]
    retain_delete = db[db.index("---\n") + 4 :].replace(
        "  serviceName: pg\n",
        "  serviceName: pg\n  persistentVolumeClaimRetentionPolicy:\n    whenDeleted: Delete\n",
    )
    work = tmp_path / "work"
    push_base(work, bare_remote, {**FILES, "data/db.yaml": db[: db.index("---\n") + 4] + retain_delete})
    commit(work, {"data/db.yaml": db[: db.index("---\n")]}, "drop the database", push="pr")
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 6
    sts = one(doc, kind="StatefulSet", name="pg")
    assert destructive_kinds(sts) == ["volume-claim-templates-deleted"]
    assert "whenDeleted: Delete" in sts["destructive"][0]["reason"]


def test_removing_a_claim_template_is_destructive(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    db = DATA["data/db.yaml"]
    head = db[: db.index("  volumeClaimTemplates:")]
    _head(tmp_path, bare_remote, {"data/db.yaml": head})
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 6
    sts = one(doc, kind="StatefulSet", name="pg")
    assert sts["action"] == "update" and destructive_kinds(sts) == ["volume-claim-templates-deleted"]
    assert [f["path"] for f in sts["fields"]] == ["spec.volumeClaimTemplates"]


def test_immutable_fields_of_each_kind(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    web = (
        FILES["apps/web.yaml"]
        .replace("app: web\n  template", "app: web-v2\n  template")
        .replace("      app: web\n    spec:", "      app: web-v2\n    spec:")
        .replace("clusterIP: 10.100.0.10", "clusterIP: 10.100.0.20")
    )
    db = (
        DATA["data/db.yaml"]
        .replace("storageClassName: gp3", "storageClassName: io2")
        .replace("app: pg\n  template", "app: postgres\n  template")
        .replace("      app: pg\n    spec:", "      app: postgres\n    spec:")
    )
    job = DATA["data/job.yaml"].replace("migrate:1.0.0", "migrate:1.1.0")
    _head(tmp_path, bare_remote, {"apps/web.yaml": web, "data/db.yaml": db, "data/job.yaml": job})
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 6, result.stderr
    expected = {
        "Deployment": "spec.selector",
        "Service": "spec.clusterIP",
        "StatefulSet": "spec.selector",
        "PersistentVolumeClaim": "spec.storageClassName",
        "Job": "spec.template",
    }
    for kind, field in expected.items():
        change = one(doc, kind=kind)
        assert change["action"] == "update" and destructive_kinds(change) == ["immutable-field"], change
        assert change["destructive"][0]["reason"].startswith(f"{field} is immutable: Flux's apply fails")


def test_force_recreates_instead_of_failing(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    work = tmp_path / "work"
    push_base(
        work, bare_remote, {**FILES, "clusters/dev/data.yaml": ks("data", "data", extra="  force: true\n")}
    )
    commit(
        work,
        {"data/job.yaml": DATA["data/job.yaml"].replace("migrate:1.0.0", "migrate:2.0.0")},
        "job",
        push="pr",
    )
    _, doc = diff_json(cli, bare_remote, "pr")
    reason = one(doc, kind="Job")["destructive"][0]["reason"]
    assert reason == "spec.template is immutable: the agent deletes and recreates the object (force)"


def test_a_mutable_change_is_not_destructive(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    web = FILES["apps/web.yaml"].replace("replicas: 2", "replicas: 3").replace("web:1.0.0", "web:1.0.1")
    release = DATA["data/release.yaml"].replace("19.6.4", "19.7.0")
    _head(tmp_path, bare_remote, {"apps/web.yaml": web, "data/release.yaml": release})
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 5
    deployment = one(doc, kind="Deployment")
    assert deployment["destructive"] is None
    assert deployment["fields"] == [
        {"path": "spec.replicas", "old": 2, "new": 3},
        {
            "path": "spec.template.spec.containers[name=web].image",
            "old": "ghcr.io/example/web:1.0.0",
            "new": "ghcr.io/example/web:1.0.1",
        },
    ]
    assert one(doc, kind="HelmRelease")["destructive"] is None


def test_a_chart_major_version_is_destructive(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    _head(tmp_path, bare_remote, {"data/release.yaml": DATA["data/release.yaml"].replace("19.6.4", "20.0.1")})
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 6
    release = one(doc, kind="HelmRelease", name="redis")
    assert destructive_kinds(release) == ["chart-major-version"]
    assert release["destructive"][0]["reason"].startswith("chart major version 19 -> 20")
    assert release["fields"] == [{"path": "spec.chart.spec.version", "old": "19.6.4", "new": "20.0.1"}]
