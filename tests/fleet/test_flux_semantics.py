"""The Kustomization controller's own steps, modelled per Kustomization, and the things a
naive checker flags wrongly (issue 8): each passes clean, or is caught, as Flux would decide."""

from __future__ import annotations

import os
from pathlib import Path

from eksgitops.fleet.findings import ERROR, POLICY
from eksgitops.fleet.verify import applied_objects
from tests.fleet.helpers import PROVIDED, lines, request, run, write, write_all


def ks(name: str, path: str, extra: str = "") -> str:
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata:\n  name: {name}\n  namespace: flux-system\n"
        f"spec:\n  interval: 10m\n  prune: true\n  path: {path}\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n" + extra
    )


def cm(name: str, ns: str = "apps", data: str = "  key: value\n", meta: str = "") -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n{meta}data:\n{data}"
    )


NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n"


def applied(root: Path, env_path: str = "clusters/dev") -> dict[str, dict]:
    """{`Kind ns/name`: object} of everything verify would apply."""
    out = {}
    for a in applied_objects(request(env_path, provided=dict.fromkeys(PROVIDED, "x")), root):
        meta = a.obj.get("metadata", {})
        out[f"{a.obj.get('kind')} {meta.get('namespace', '')}/{meta.get('name')}"] = a.obj
    return out


def test_variables_belong_to_their_own_kustomization(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/a.yaml": ks("a", "./a", "  postBuild:\n    substitute:\n      team: alpha\n"),
            "clusters/dev/b.yaml": ks("b", "./b", "  postBuild:\n    substitute:\n      other: x\n"),
            "clusters/dev/ns.yaml": NS,
            "a/cm.yaml": cm("a", data="  team: ${team}\n"),
            "b/cm.yaml": cm("b", data="  team: ${team}\n"),
        },
    )
    report = run(tmp_path)
    assert lines(report) == [
        "policy: b/cm.yaml: ConfigMap apps/b: ${team} has no value under Kustomization flux-system/b: Flux "
        "substitutes an empty string (provided: other)"
    ]
    objects = applied(tmp_path)
    assert objects["ConfigMap apps/a"]["data"]["team"] == "alpha"


def test_no_substitution_without_postbuild_or_when_disabled_and_defaults_and_escapes(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/plain.yaml": ks("plain", "./plain"),
            "clusters/dev/vars.yaml": ks("vars", "./vars", "  postBuild:\n    substitute:\n      known: k\n"),
            "clusters/dev/ns.yaml": NS,
            "plain/cm.yaml": cm("plain", data="  script: echo ${HOME}\n"),
            "vars/off.yaml": cm(
                "off",
                data="  script: echo ${HOME}\n",
                meta="  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
            ),
            "vars/on.yaml": cm("on", data="  a: ${team:=platform}\n  b: $${literal}\n  c: ${known}\n"),
        },
    )
    assert lines(run(tmp_path)) == []
    objects = applied(tmp_path)
    assert objects["ConfigMap apps/plain"]["data"]["script"] == "echo ${HOME}"
    assert objects["ConfigMap apps/off"]["data"]["script"] == "echo ${HOME}"
    assert objects["ConfigMap apps/on"]["data"] == {"a": "platform", "b": "${literal}", "c": "k"}


HELM = """apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  interval: 1h
  url: https://charts.example.com
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: apps
spec:
  interval: 1h
  chart:
    spec:
      chart: web
      version: "${web_version}"
      sourceRef:
        kind: HelmRepository
        name: charts
        namespace: flux-system
"""


def _versions_layout(root: Path, version: str) -> None:
    write_all(
        root,
        {
            "clusters/dev/versions.yaml": cm("versions", "flux-system", f'  web_version: "{version}"\n'),
            "clusters/dev/ns.yaml": NS,
            "clusters/dev/apps.yaml": ks(
                "apps",
                "./apps",
                "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: versions\n",
            ),
            "apps/release.yaml": HELM,
        },
    )


def test_chart_pins_are_checked_after_substitution(tmp_path: Path) -> None:
    _versions_layout(tmp_path / "pinned", "1.2.3")
    assert lines(run(tmp_path / "pinned")) == []
    _versions_layout(tmp_path / "ranged", "1.x")
    assert lines(run(tmp_path / "ranged")) == [
        "policy: apps/release.yaml: HelmRelease apps/web: chart web version '1.x' is not an exact version"
    ]


def test_substitute_from_missing_configmap_and_invalid_names(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/ns.yaml": NS,
            "clusters/dev/apps.yaml": ks(
                "apps",
                "./apps",
                "  postBuild:\n    substitute:\n      my-var: x\n    substituteFrom:\n"
                "      - kind: ConfigMap\n        name: nowhere\n"
                "      - kind: Secret\n        name: optional-one\n        optional: true\n",
            ),
            "apps/cm.yaml": cm("c"),
        },
    )
    found = lines(run(tmp_path))
    assert (
        "error: clusters/dev/apps.yaml: Kustomization flux-system/apps: postBuild.substituteFrom ConfigMap "
        "flux-system/nowhere not found (Flux stops this Kustomization until it exists)" in found
    )
    assert any("postBuild variable name 'my-var' is invalid" in f for f in found)
    assert not any("optional-one" in f for f in found)


COMPONENT = """apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - target:
      kind: ConfigMap
    patch: |
      - op: add
        path: /metadata/labels
        value:
          component: "yes"
"""


def test_images_components_prefix_suffix_common_metadata_of_the_flux_kustomization(tmp_path: Path) -> None:
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\nspec:\n"
        "  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n"
        "        app: web\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.0\n"
    )
    extra = (
        "  namePrefix: pre-\n  nameSuffix: -suf\n"
        "  images:\n    - name: nginx\n      newTag: '1.27.1'\n"
        "  components:\n    - ../components/labels\n"
        "  commonMetadata:\n    labels:\n      team: platform\n"
    )
    write_all(
        tmp_path,
        {
            "clusters/dev/ns.yaml": NS,
            "clusters/dev/apps.yaml": ks("apps", "./apps/web", extra),
            "apps/web/kustomization.yaml": "resources:\n  - deployment.yaml\n  - cm.yaml\n",
            "apps/web/deployment.yaml": deployment,
            "apps/web/cm.yaml": cm("settings"),
            "apps/components/labels/kustomization.yaml": COMPONENT,
        },
    )
    assert lines(run(tmp_path)) == []
    objects = applied(tmp_path)
    web = objects["Deployment apps/pre-web-suf"]
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27.1"
    assert web["metadata"]["labels"] == {"team": "platform"}
    assert objects["ConfigMap apps/pre-settings-suf"]["metadata"]["labels"] == {
        "component": "yes",
        "team": "platform",
    }


def test_what_kustomize_accepts_is_accepted(tmp_path: Path) -> None:
    """A trailing tab, JSON6902 copy/move, a Component's patch on its parent's resources, $patch: delete."""
    write_all(
        tmp_path,
        {
            "clusters/dev/ns.yaml": NS,
            "clusters/dev/apps.yaml": ks("apps", "./apps/overlay"),
            "apps/base/kustomization.yaml": "resources:\n  - cms.yaml\n",
            "apps/base/cms.yaml": cm("one", data="  key: value\t\n")
            + "---\n"
            + cm("two")
            + "---\n"
            + cm("gone"),
            "apps/overlay/kustomization.yaml": (
                "resources:\n  - ../base\ncomponents:\n  - ../components/labels\npatches:\n"
                "  - target:\n      kind: ConfigMap\n      name: one\n    patch: |\n"
                "      - op: copy\n        from: /data/key\n        path: /data/copied\n"
                "      - op: move\n        from: /data/key\n        path: /data/moved\n"
                "  - patch: |\n      $patch: delete\n      apiVersion: v1\n      kind: ConfigMap\n"
                "      metadata:\n        name: gone\n        namespace: apps\n"
            ),
            "apps/components/labels/kustomization.yaml": COMPONENT,
        },
    )
    assert lines(run(tmp_path)) == []
    objects = applied(tmp_path)
    assert objects["ConfigMap apps/one"]["data"] == {"copied": "value", "moved": "value"}
    assert "ConfigMap apps/gone" not in objects
    assert objects["ConfigMap apps/two"]["metadata"]["labels"] == {"component": "yes"}


def test_generated_kustomization_is_fluxs_own(tmp_path: Path) -> None:
    """Recursive; a sub-folder with a kustomization is one resource; dotfiles are included as Flux does."""
    write_all(
        tmp_path,
        {
            "clusters/dev/ns.yaml": NS,
            "clusters/dev/nested/deeper/cm.yaml": cm("deep"),
            "clusters/dev/withk/kustomization.yaml": "resources:\n  - cm.yaml\nnamePrefix: k-\n",
            "clusters/dev/withk/cm.yaml": cm("inner"),
            "clusters/dev/withk/not-listed.yaml": cm("not-listed"),
            "clusters/dev/.hidden.yaml": cm("hidden"),
            "clusters/dev/README.md": "not yaml\n",
        },
    )
    assert lines(run(tmp_path)) == []
    objects = applied(tmp_path)
    assert {"ConfigMap apps/deep", "ConfigMap apps/k-inner", "ConfigMap apps/hidden"} <= set(objects)
    assert "ConfigMap apps/not-listed" not in objects


def test_source_ignore_and_default_exclusions(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            ".sourceignore": "clusters/dev/drafts/\n",
            "clusters/dev/ns.yaml": NS,
            "clusters/dev/drafts/broken.yaml": "kind: [\n",
            # With a .sourceignore of its own the defaults (.sops.yaml…) no longer apply, as in
            # source-controller: tests/security/test_sourceignore.py.
            "clusters/dev/cm.yaml": cm("kept"),
        },
    )
    report = run(tmp_path)
    assert lines(report) == []
    assert (
        "clusters/dev/drafts/: left out, as source-controller leaves it out of the artifact" in report.notes
    )


def test_symlinks_are_not_followed(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/ns.yaml": NS,
            "clusters/dev/apps.yaml": ks("apps", "./apps"),
            "apps/kustomization.yaml": "resources:\n  - linked\n",
            "shared/cm.yaml": cm("shared"),
            "shared/kustomization.yaml": "resources:\n  - cm.yaml\n",
        },
    )
    os.symlink(tmp_path / "shared", tmp_path / "apps/linked")
    report = run(tmp_path)
    # The finding names the kustomization and the key that use the symlink.
    assert any(
        f.severity == ERROR
        and f.path == "apps/kustomization.yaml"
        and "resources: linked is a symlink in the repository (apps/linked)" in f.message
        for f in report.findings
    ), lines(report)
    assert "apps/linked: symlink dropped (source-controller does not keep symlinks)" in report.not_checked


def test_remote_bases_and_files_outside_the_repository_are_refused(tmp_path: Path) -> None:
    write_all(
        tmp_path / "repo",
        {
            "clusters/dev/ns.yaml": NS,
            "clusters/dev/remote.yaml": ks("remote", "./remote"),
            "clusters/dev/outside.yaml": ks("outside", "./outside"),
            "remote/kustomization.yaml": "resources:\n  - https://github.com/org/repo//deploy?ref=v1\n",
            "outside/kustomization.yaml": "resources:\n  - ../../secret.yaml\n",
        },
    )
    write(tmp_path, "secret.yaml", cm("stolen"))
    found = lines(run(tmp_path / "repo"))
    assert any(
        "remote/kustomization.yaml" in f and "remote base https://github.com/org/repo" in f for f in found
    )
    assert any(
        "outside/kustomization.yaml" in f and "../../secret.yaml is outside the repository" in f
        for f in found
    )


SOPS = (
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: apps\n"
    "data:\n  password: ENC[AES256_GCM,data:abc,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:xyz]\n"
)


def test_sops_secrets_need_decryption_and_are_then_valid(tmp_path: Path) -> None:
    decrypt = "  decryption:\n    provider: sops\n"
    write_all(
        tmp_path,
        {
            "clusters/dev/ns.yaml": NS,
            "clusters/dev/apps.yaml": ks("apps", "./apps"),
            "clusters/dev/decrypted.yaml": ks("decrypted", "./decrypted", decrypt),
            "apps/secret.yaml": SOPS,
            "decrypted/secret.yaml": SOPS.replace("name: db", "name: db2") + "  version: 3.9.0\n",
            "decrypted/half.yaml": SOPS.replace("name: db", "name: db3") + "stringData:\n  user: admin\n",
        },
    )
    report = run(tmp_path)
    assert lines(report) == [
        "error: apps/secret.yaml: Secret apps/db: SOPS-encrypted Secret, but Kustomization flux-system/apps "
        "has "
        "no spec.decryption: it would be applied encrypted and refused",
        "policy: decrypted/half.yaml: Secret apps/db3: Secret values not SOPS-encrypted: user",
    ]


def test_unbuilt_sources_are_listed_and_never_called_reconciled(tmp_path: Path, cli) -> None:
    oci = (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: vendor\n"
        "  namespace: flux-system\nspec:\n  interval: 1h\n  url: oci://ghcr.io/vendor/manifests\n"
        "  ref:\n    tag: 1.0.0\n"
    )
    vendor = ks("vendor", "./deploy").replace(
        "kind: GitRepository\n    name: flux-system", "kind: OCIRepository\n    name: vendor"
    )
    write_all(tmp_path, {"clusters/dev/oci.yaml": oci, "clusters/dev/vendor.yaml": vendor})
    report = run(tmp_path)
    assert lines(report) == []
    assert report.not_checked == [
        "clusters/dev/vendor.yaml: Kustomization flux-system/vendor: source OCIRepository flux-system/vendor "
        "(oci://ghcr.io/vendor/manifests) is not this repository; ./deploy not built"
    ]
    from eksgitops.fleet.cli import print_report

    assert print_report(report, "clusters/dev at abc1234") == 0


def test_severity_of_policy_only_findings(tmp_path: Path) -> None:
    write_all(
        tmp_path, {"clusters/dev/ns.yaml": NS, "clusters/dev/cm.yaml": cm("c", data="  v: ${nothing}\n")}
    )
    # Without postBuild nothing is substituted: the literal is kept, nothing to report.
    assert lines(run(tmp_path)) == []
    assert POLICY != ERROR
