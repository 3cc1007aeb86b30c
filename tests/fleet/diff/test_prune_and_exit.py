"""Deleted means what the agent really does (Flux `spec.prune`, `deletionPolicy`, the prune
annotation; Argo CD automated prune and the resources finalizer), Kustomizations added and
removed with what goes with them, objects that move, Secret values, and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.fleet.conftest import invoke
from tests.fleet.diff.fleet import DATA, FILES, KEEP, commit, ks, push_base
from tests.fleet.diff.helpers import changes, diff_json, one, validator
from tests.fleet.helpers import REPO_URL

PVC_ONLY = DATA["data/db.yaml"][: DATA["data/db.yaml"].index("---\n")]
SCRATCH = PVC_ONLY.replace("name: uploads", "name: scratch")
"""A claim of its own (the same claim in two Kustomizations would be one object of the cluster)."""


def test_a_non_pruning_kustomization_leaves_what_left_git(
    tmp_path: Path, bare_remote: Path, cli: CliRunner
) -> None:
    work = tmp_path / "work"
    keep = {"keep/kustomization.yaml": "resources:\n  - cm.yaml\n  - pvc.yaml\n", "keep/pvc.yaml": SCRATCH}
    push_base(work, bare_remote, {**FILES, **keep})
    commit(
        work,
        {"keep/pvc.yaml": None, "keep/kustomization.yaml": "resources:\n  - cm.yaml\n"},
        "drop",
        push="pr",
    )
    result, doc = diff_json(cli, bare_remote, "pr")
    # A PVC left behind destroys nothing: changes, not destructive ones.
    assert result.exit_code == 5
    pvc = one(doc, kind="PersistentVolumeClaim")
    assert (pvc["action"], pvc["pruned"], pvc["destructive"]) == ("delete", False, None)
    assert doc["counts"]["left"] == 1 and doc["counts"]["delete"] == 0
    lines = invoke(
        cli, "diff", "--repo", str(bare_remote), "--env", "dev", "--base", "main", "--revision", "pr"
    )
    assert "  = left in the cluster, no longer in Git: v1 PersistentVolumeClaim db/scratch" in lines.stdout


def test_the_prune_annotation_keeps_an_object(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    work = tmp_path / "work"
    kept = PVC_ONLY.replace(
        "  namespace: db\n",
        "  namespace: db\n  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\n",
        1,
    )
    db = DATA["data/db.yaml"]
    push_base(work, bare_remote, {**FILES, "data/db.yaml": kept + "---\n" + db[db.index("---\n") + 4 :]})
    commit(work, {"data/db.yaml": db[db.index("---\n") + 4 :]}, "drop", push="pr")
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 5
    assert one(doc, kind="PersistentVolumeClaim")["pruned"] is False


def test_a_kustomization_its_parent_does_not_prune_stays_with_its_objects(
    tmp_path: Path, bare_remote: Path, cli: CliRunner
) -> None:
    # keep (prune: false) applies child (prune: true); the child leaves Git, keep does not delete it.
    work = tmp_path / "work"
    child = {
        "keep/kustomization.yaml": "resources:\n  - cm.yaml\n  - child.yaml\n",
        "keep/child.yaml": ks("child", "child"),
        "child/kustomization.yaml": "resources:\n  - pvc.yaml\n",
        "child/pvc.yaml": SCRATCH,
    }
    push_base(work, bare_remote, {**FILES, **child})
    commit(
        work,
        {"keep/child.yaml": None, "keep/kustomization.yaml": KEEP["keep/kustomization.yaml"]},
        "x",
        push="pr",
    )
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 5
    assert one(doc, kind="Kustomization", name="child")["pruned"] is False
    assert one(doc, kind="PersistentVolumeClaim")["pruned"] is False
    removed = next(o for o in doc["owners"] if o["name"] == "Kustomization flux-system/child")
    assert removed["state"] == "removed" and "does not prune it" in removed["note"]


def test_deletion_policy_orphan_leaves_the_objects_of_a_removed_kustomization(
    tmp_path: Path, bare_remote: Path, cli: CliRunner
) -> None:
    work = tmp_path / "work"
    push_base(
        work,
        bare_remote,
        {**FILES, "clusters/dev/data.yaml": ks("data", "data", extra="  deletionPolicy: Orphan\n")},
    )
    root = FILES["clusters/dev/kustomization.yaml"].replace("  - data.yaml\n", "")
    commit(work, {"clusters/dev/data.yaml": None, "clusters/dev/kustomization.yaml": root}, "x", push="pr")
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 5, doc["changes"]
    assert one(doc, kind="Kustomization", name="data")["pruned"] is True
    assert {c["pruned"] for c in changes(doc, owner="Kustomization flux-system/data")} == {False}


def test_an_added_kustomization_creates_what_it_applies(
    tmp_path: Path, bare_remote: Path, cli: CliRunner
) -> None:
    work = tmp_path / "work"
    push_base(work, bare_remote)
    root = FILES["clusters/dev/kustomization.yaml"] + "  - extra.yaml\n"
    extra = {
        "clusters/dev/kustomization.yaml": root,
        "clusters/dev/extra.yaml": ks("extra", "extra"),
        "extra/kustomization.yaml": "resources:\n  - cm.yaml\n",
        "extra/cm.yaml": KEEP["keep/cm.yaml"].replace("name: kept", "name: extra"),
    }
    commit(work, extra, "add", push="pr")
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 5
    assert [(c["action"], c["kind"], c["owner"]) for c in doc["changes"]] == [
        ("create", "ConfigMap", "Kustomization flux-system/extra"),
        ("create", "Kustomization", "Kustomization flux-system/flux-system"),
    ]
    assert {"name": "Kustomization flux-system/extra", "state": "added", "prune": True, "note": None} in doc[
        "owners"
    ]


def test_an_object_that_moves_to_another_kustomization_is_updated_not_recreated(
    tmp_path: Path, bare_remote: Path, cli: CliRunner
) -> None:
    work = tmp_path / "work"
    push_base(work, bare_remote)
    moved = {
        "keep/cm.yaml": None,
        "keep/kustomization.yaml": "resources: []\n",
        "apps/kept.yaml": KEEP["keep/cm.yaml"],
        "apps/kustomization.yaml": FILES["apps/kustomization.yaml"] + "  - kept.yaml\n",
    }
    commit(work, moved, "move", push="pr")
    _, doc = diff_json(cli, bare_remote, "pr")
    change = one(doc, kind="ConfigMap", name="kept")
    assert (change["action"], change["owner"], change["movedFrom"]) == (
        "update",
        "Kustomization flux-system/apps",
        "Kustomization flux-system/keep",
    )
    assert change["fields"] == []


def test_secret_values_never_appear(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    work = tmp_path / "work"
    push_base(work, bare_remote)
    commit(
        work,
        {"apps/config.yaml": FILES["apps/config.yaml"].replace("hunter2-base", "hunter2-head")},
        "rotate",
        push="pr",
    )
    _, doc = diff_json(cli, bare_remote, "pr")
    assert one(doc, kind="Secret")["fields"] == [
        {"path": "stringData.token", "old": "(secret value)", "new": "(secret value)"}
    ]
    args = ["diff", "--repo", str(bare_remote), "--env", "dev", "--base", "main", "--revision", "pr"]
    for flags in ([], ["--json"], ["--markdown"]):
        result = invoke(cli, *args, *flags)
        assert "hunter2" not in result.stdout + result.stderr
        assert "stringData" in result.stdout


def test_exit_codes(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    work = tmp_path / "work"
    push_base(work, bare_remote)
    args = ["diff", "--repo", str(bare_remote), "--env", "dev", "--base", "main"]
    same = invoke(cli, *args, "--revision", "main")
    assert same.exit_code == 0, same.output
    assert "0 to create, 0 to update, 0 to delete" in same.stdout
    broken = FILES["apps/config.yaml"].replace("data:\n  level", "dta:\n  level")
    commit(work, {"apps/config.yaml": broken}, "break", push="broken")
    _, doc = diff_json(cli, bare_remote, "broken")
    assert doc["exitCode"] == 1 and doc["outcome"] == "head will not reconcile"
    assert any("dta" in f["message"] for f in doc["verify"]["findings"])
    lost = invoke(cli, *args, "--revision", "no-such-branch", "--json")
    assert lost.exit_code == 4 and "not found" in lost.stderr
    failure = json.loads(lost.stdout)  # the failure document is valid against the schema too
    validator().validate(failure)
    assert failure["error"] and failure["exitCode"] == 4
    usage = invoke(cli, "diff", "--repo", str(bare_remote), "--env", "dev", "--base", "-x")
    assert usage.exit_code == 2 and usage.stdout == ""
    assert usage.stderr.startswith("error: --base: '-x' is not a Git branch, tag or commit")
    both = invoke(cli, *args, "--json", "--markdown")
    assert both.exit_code == 2 and "--json/--markdown" in both.stderr
    small = invoke(cli, *args, "--max-chars", "100")
    assert small.exit_code == 2 and "--max-chars" in small.stderr


ARGO_ROOT = "resources:\n  - web.yaml\n"


def argo_app(prune: bool, finalizer: bool = False) -> str:
    finalizers = "  finalizers:\n    - resources-finalizer.argocd.argoproj.io\n" if finalizer else ""
    automated = f"    automated:\n      prune: {'true' if prune else 'false'}\n"
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        f"metadata:\n  name: web\n  namespace: argocd\n{finalizers}"
        f"spec:\n  project: default\n  source:\n    repoURL: {REPO_URL}\n    path: web\n"
        "  destination:\n    server: https://kubernetes.default.svc\n    namespace: web\n"
        f"  syncPolicy:\n{automated}"
    )


def _argo(tmp_path: Path, bare: Path, app: str, head: dict[str, str | None]) -> dict:
    work = tmp_path / "work"
    base = {
        "clusters/dev/kustomization.yaml": ARGO_ROOT,
        "clusters/dev/web.yaml": app,
        "web/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
        "web/pvc.yaml": PVC_ONLY.replace("namespace: db", "namespace: web"),
    }
    push_base(work, bare, base)
    commit(work, head, "head", push="pr")
    result, doc = diff_json(
        cli_runner := CliRunner(), bare, "pr", "--agent", "argocd", "--repo-url", REPO_URL
    )
    assert cli_runner is not None and result is not None
    return doc


def test_argo_cd_prunes_only_with_automated_prune(tmp_path: Path, bare_remote: Path) -> None:
    doc = _argo(tmp_path, bare_remote, argo_app(prune=True), {"web/pvc.yaml": None})
    pvc = one(doc, kind="PersistentVolumeClaim")
    assert (pvc["pruned"], pvc["owner"], doc["exitCode"]) == (True, "Application argocd/web", 6)
    doc = _argo(tmp_path, bare_remote, argo_app(prune=False), {"web/pvc.yaml": None})
    assert one(doc, kind="PersistentVolumeClaim")["pruned"] is False and doc["exitCode"] == 5


def test_a_removed_application_deletes_its_objects_only_with_the_finalizer(
    tmp_path: Path, bare_remote: Path
) -> None:
    gone = {"clusters/dev/web.yaml": None, "clusters/dev/kustomization.yaml": "resources: []\n"}
    doc = _argo(tmp_path, bare_remote, argo_app(prune=True, finalizer=True), gone)
    assert one(doc, kind="Namespace")["pruned"] is True and doc["exitCode"] == 6
    doc = _argo(tmp_path, bare_remote, argo_app(prune=True), gone)
    assert one(doc, kind="Application")["pruned"] is True  # the root Application prunes it
    assert one(doc, kind="Namespace")["pruned"] is False and doc["exitCode"] == 5


def test_a_kustomization_that_fails_at_head_deletes_nothing(
    tmp_path: Path, bare_remote: Path, cli: CliRunner
) -> None:
    # Flux stops a Kustomization whose build fails before it applies or prunes anything.
    work = tmp_path / "work"
    push_base(work, bare_remote)
    broken = FILES["apps/kustomization.yaml"] + "patches:\n  - path: missing-patch.yaml\n"
    commit(work, {"apps/kustomization.yaml": broken}, "break apps", push="pr")
    result, doc = diff_json(cli, bare_remote, "pr")
    assert result.exit_code == 1
    assert changes(doc, owner="Kustomization flux-system/apps") == []
    assert any(n.startswith("Kustomization flux-system/apps applies nothing at head") for n in doc["notes"])


def test_a_suspended_kustomization_deletes_nothing(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    work = tmp_path / "work"
    push_base(work, bare_remote)
    commit(
        work, {"clusters/dev/data.yaml": ks("data", "data", extra="  suspend: true\n")}, "pause", push="pr"
    )
    result, doc = diff_json(cli, bare_remote, "pr")
    assert [(c["action"], c["kind"]) for c in doc["changes"]] == [("update", "Kustomization")]
    assert result.exit_code == 5
