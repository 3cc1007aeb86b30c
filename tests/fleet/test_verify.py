"""verify: the scaffold is clean for every agent and environment; each finding class is caught."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from eksgitops.fleet import layout
from eksgitops.fleet.layout import Options
from eksgitops.fleet.verify import verify_tree
from tests.fleet.conftest import clone, commit_file, git, invoke

REPO_URL = "https://git.example.com/org/fleet.git"
PROVIDED = set(layout.bridge_vars())


def scaffold_tree(root: Path, env: str = "dev", agent: str = "flux", image_automation: bool = False) -> Path:
    for item in layout.render(
        Options(env=env, agent=agent, repo_url=REPO_URL, image_automation=image_automation)
    ):
        target = root / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(item.content)
    return root


def findings(root: Path, env: str = "dev", provided: set[str] = PROVIDED) -> list[str]:
    return [str(f) for f in verify_tree(root, f"clusters/{env}", provided, {REPO_URL}).findings]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1))


def append(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((path.read_text() if path.exists() else "") + text)


@pytest.mark.parametrize("agent", ["flux", "argocd"])
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_scaffold_is_clean(tmp_path: Path, agent: str, env: str) -> None:
    root = scaffold_tree(tmp_path, env=env, agent=agent, image_automation=agent == "flux")
    report = verify_tree(root, f"clusters/{env}", PROVIDED, {REPO_URL})
    assert report.findings == []
    assert report.builds >= 2 and report.objects > 5


SECRET_META = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: podinfo\n"
SECRET = SECRET_META + "stringData:\n  password: hunter2\n"
SOPS_SECRET = (
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: podinfo\n"
    "data:\n  password: ENC[AES256_GCM,data:abc,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:xyz]\n"
)

Breakage = Callable[[Path], None]
CASES: dict[str, tuple[Breakage, str]] = {
    "missing resource file": (
        lambda r: edit(r, "apps/base/podinfo/kustomization.yaml", "- hpa.yaml", "- hpa-missing.yaml"),
        "apps/base/podinfo/kustomization.yaml: does not build: resource 'hpa-missing.yaml' not found",
    ),
    "patch without target": (
        lambda r: edit(r, "apps/dev/canary-patch.yaml", "name: podinfo", "name: podinfo-typo"),
        "apps/dev/kustomization.yaml: does not build: patch target Canary podinfo-typo not found",
    ),
    "json6902 bad path": (
        lambda r: append(
            r,
            "apps/dev/kustomization.yaml",
            "  - target:\n      kind: Deployment\n      name: podinfo\n"
            "    patch: |\n      - op: replace\n        path: /spec/nope/replicas\n        value: 3\n",
        ),
        "apps/dev/kustomization.yaml: does not build: JSON6902 replace /spec/nope/replicas",
    ),
    "missing path of a Flux Kustomization": (
        lambda r: edit(r, "clusters/dev/apps.yaml", "path: ./apps/dev", "path: ./apps/qa"),
        "clusters/dev/apps.yaml: Kustomization flux-system/apps: path ./apps/qa not found in the repository",
    ),
    "invalid yaml": (
        lambda r: append(r, "infrastructure/configs/gateway.yaml", "  bad: [unclosed\n"),
        "infrastructure/configs/gateway.yaml: does not build: not valid YAML",
    ),
    "object without name": (
        lambda r: append(r, "clusters/dev/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"),
        "clusters/dev/extra.yaml: ConfigMap (unnamed): missing metadata.name",
    ),
    "object without kind": (
        lambda r: append(r, "clusters/dev/extra.yaml", "apiVersion: v1\nmetadata:\n  name: x\n"),
        "clusters/dev/extra.yaml: object x: missing kind",
    ),
    "dependsOn": (
        lambda r: edit(
            r, "clusters/dev/apps.yaml", "- name: infrastructure-configs", "- name: infra-configs"
        ),
        "clusters/dev/apps.yaml: Kustomization flux-system/apps: dependsOn infra-configs not found",
    ),
    "HelmRelease dependsOn": (
        lambda r: edit(r, "infrastructure/controllers/flagger.yaml", "- name: prometheus", "- name: prom"),
        "controllers/flagger.yaml: HelmRelease flagger-system/flagger: dependsOn prom not found",
    ),
    "Kustomization sourceRef": (
        lambda r: edit(r, "clusters/dev/apps.yaml", "name: flux-system\n  path", "name: fleet\n  path"),
        "clusters/dev/apps.yaml: Kustomization flux-system/apps: sourceRef GitRepository flux-system/fleet",
    ),
    "HelmRelease sourceRef": (
        lambda r: edit(
            r,
            "infrastructure/controllers/metrics-server.yaml",
            "name: metrics-server\n        namespace",
            "name: ms\n        namespace",
        ),
        "HelmRelease kube-system/metrics-server: sourceRef HelmRepository flux-system/ms not found",
    ),
    "undefined variable": (
        lambda r: edit(r, "infrastructure/configs/gateway.yaml", "${cluster_name}", "${cluster_nmae}"),
        "Gateway gateway/public: ${cluster_nmae} is not provided (provided: account_id, "
        "aws_load_balancer_controller_role_arn, cluster_name, environment, oidc_issuer_host, region, vpc_id)",
    ),
    "plaintext secret": (
        lambda r: (
            append(r, "apps/base/podinfo/secret.yaml", SECRET)
            or edit(r, "apps/base/podinfo/kustomization.yaml", "- hpa.yaml", "- hpa.yaml\n  - secret.yaml")
        ),
        "apps/base/podinfo/secret.yaml: Secret podinfo/db: plaintext Secret (encrypt it with SOPS)",
    ),
    "half-encrypted secret": (
        lambda r: append(r, "clusters/dev/db.yaml", SOPS_SECRET + "stringData:\n  user: admin\n"),
        "clusters/dev/db.yaml: Secret podinfo/db: Secret values not SOPS-encrypted: user",
    ),
    "unpinned chart": (
        lambda r: edit(r, "infrastructure/controllers/flagger.yaml", 'version: "1.43.0"', 'version: "1.x"'),
        "HelmRelease flagger-system/flagger: chart flagger version '1.x' is not pinned",
    ),
    "chart without version": (
        lambda r: edit(r, "infrastructure/controllers/metrics-server.yaml", '      version: "3.13.1"\n', ""),
        "HelmRelease kube-system/metrics-server: chart metrics-server no version is not pinned",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_finding_class_is_caught(tmp_path: Path, case: str) -> None:
    root = scaffold_tree(tmp_path)
    breakage, expected = CASES[case]
    breakage(root)
    found = findings(root)
    assert any(expected in line for line in found), found


ARGO_CASES: dict[str, tuple[Breakage, str]] = {
    "unpinned chart in ApplicationSet": (
        lambda r: edit(r, "clusters/dev/infrastructure.yaml", 'version: "3.13.1"', 'version: "*"'),
        "ApplicationSet argocd/infrastructure-controllers: chart metrics-server version '*' is not pinned",
    ),
    "annotation not in the bridge": (
        lambda r: edit(r, "clusters/dev/infrastructure.yaml", '"vpc_id"', '"vpc"'),
        "ApplicationSet argocd/infrastructure-controllers: cluster annotation vpc is not provided",
    ),
    "app path missing": (
        lambda r: edit(r, "clusters/dev/apps.yaml", "path: apps/dev", "path: apps/qa"),
        "clusters/dev/apps.yaml: Application argocd/apps: path apps/qa not found in the repository",
    ),
    "rollout patch target": (
        lambda r: edit(r, "apps/dev/rollout-patch.yaml", "name: podinfo", "name: web"),
        "does not build: patch target Rollout web not found in resources",
    ),
}


@pytest.mark.parametrize("case", sorted(ARGO_CASES))
def test_argocd_finding_classes(tmp_path: Path, case: str) -> None:
    root = scaffold_tree(tmp_path, agent="argocd")
    breakage, expected = ARGO_CASES[case]
    breakage(root)
    assert any(expected in line for line in findings(root)), findings(root)


def test_variables_with_defaults_escapes_and_manifest_values_pass(tmp_path: Path) -> None:
    root = scaffold_tree(tmp_path)
    edit(root, "infrastructure/configs/gateway.yaml", "${cluster_name}", "${team:=platform}-$${literal}")
    append(
        root,
        "clusters/dev/apps.yaml",
        "      - kind: ConfigMap\n        name: app-vars\n",
    )
    app_vars = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-vars\n  namespace: flux-system\n"
    append(root, "clusters/dev/app-vars.yaml", app_vars + "data:\n  hostname: podinfo.example.com\n")
    edit(root, "apps/base/podinfo/canary.yaml", "podinfo.${environment}.example.com", "${hostname}")
    assert findings(root) == []
    edit(root, "apps/base/podinfo/canary.yaml", "${hostname}", "${extra_thing}")
    assert any("${extra_thing} is not provided" in f for f in findings(root))
    assert findings(root, provided=PROVIDED | {"extra_thing"}) == []


def test_flux_generated_kustomization_recurses_and_skips_dotfiles(tmp_path: Path) -> None:
    root = scaffold_tree(tmp_path)
    deep = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n"
    append(root, "clusters/dev/nested/deeper/cm.yaml", deep)
    append(root, "clusters/dev/.hidden.yaml", "not: a k8s object\n")
    report = verify_tree(root, "clusters/dev", PROVIDED, {REPO_URL})
    assert report.findings == []


def test_verify_cli_at_a_revision_reads_history_without_changing_the_repo(
    cli, bare_remote: Path, tmp_path: Path
) -> None:
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev").exit_code == 0
    good = git("--git-dir", str(bare_remote), "rev-parse", "main")
    work = clone(bare_remote, tmp_path / "work")
    text = (work / "clusters/dev/apps.yaml").read_text().replace("infrastructure-configs", "nothing-here")
    commit_file(work, "clusters/dev/apps.yaml", text, "break dependsOn")
    git("push", "-q", "origin", "main:broken", cwd=work)
    refs_before = git("--git-dir", str(bare_remote), "for-each-ref")

    bad = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "dev", "--revision", "broken")
    assert bad.exit_code == 1
    assert bad.stdout.strip() == (
        "clusters/dev/apps.yaml: Kustomization flux-system/apps: dependsOn nothing-here not found"
    )
    assert "1 finding(s)" in bad.stderr
    ok = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "dev", "--revision", good[:10])
    assert ok.exit_code == 0, ok.output
    assert git("--git-dir", str(bare_remote), "for-each-ref") == refs_before


def test_verify_requires_identities_the_repo_uses(cli, bare_remote: Path, tmp_path: Path) -> None:
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev").exit_code == 0
    work = clone(bare_remote, tmp_path / "work")
    path = work / "infrastructure/controllers/metrics-server.yaml"
    commit_file(
        work,
        "infrastructure/controllers/metrics-server.yaml",
        path.read_text() + "  values:\n    serviceAccount:\n      annotations:\n"
        "        eks.amazonaws.com/role-arn: ${metrics_server_role_arn}\n",
        "metrics-server identity",
    )
    git("push", "-q", "origin", "main", cwd=work)
    missing = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "dev")
    assert missing.exit_code == 1
    assert "${metrics_server_role_arn} is not provided (provided: account_id," in missing.stdout
    ok = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "dev", "--identity", "metrics-server")
    assert ok.exit_code == 0, ok.output
