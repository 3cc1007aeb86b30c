"""Hostile paths: ArtifactGenerator copy rules, symlinks, Flux `spec.path` and bootstrap's targets.

Every read and write stays inside its root and never passes through a symlink the repository
holds; each layout is refused by `fleet verify` and `fleet bootstrap` (through the CLI) with a line
naming the file and the key, nothing written outside their temporary folder, nothing printed of
the canaries, and nothing pushed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fleet.hostile.harness import (
    CANARY_FILE_TEXT,
    Files,
    Link,
    Sandbox,
    climb,
    evil_kustomization,
    fleet,
    flux_ks,
    remote_refs,
    site_packages,
    verify_and_bootstrap,
)

GENERATOR = """apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: gen
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: web
      copy:
        - from: "{source}"
          to: "{target}"
"""


def artifact_layout(source: str, target: str) -> Files:
    return {
        "clusters/dev/artifacts.yaml": GENERATOR.format(source=source, target=target),
        "clusters/dev/web.yaml": flux_ks("web", "./", kind="ExternalArtifact", source="web"),
        "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: default\n",
    }


def test_copy_to_writing_a_pth_into_site_packages(sandbox: Sandbox, hostile_remote) -> None:
    planted = site_packages() / "eksgitops-hostile.pth"
    target = f"@artifact/{climb()}{str(planted).lstrip('/')}"
    bare = hostile_remote(artifact_layout("@repo/apps/web/cm.yaml", target))
    verify_and_bootstrap(
        sandbox, bare, "clusters/dev/artifacts.yaml", "ArtifactGenerator flux-system/gen", "copy[0].to"
    )
    assert not planted.exists()


def test_copy_from_climbing_out_to_the_canary(sandbox: Sandbox, hostile_remote) -> None:
    source = f"@repo/{climb()}{str(sandbox.canary_file).lstrip('/')}"
    bare = hostile_remote(artifact_layout(source, "@artifact/cm.yaml"))
    verify_and_bootstrap(
        sandbox, bare, "clusters/dev/artifacts.yaml", "copy[0].from", "is outside its source"
    )


def test_copy_from_an_absolute_path(sandbox: Sandbox, hostile_remote) -> None:
    bare = hostile_remote(artifact_layout(f"@repo/{sandbox.canary_file}", "@artifact/cm.yaml"))
    verify_and_bootstrap(
        sandbox, bare, "clusters/dev/artifacts.yaml", "copy[0].from", "is outside its source"
    )


def test_copy_to_that_is_not_below_artifact(sandbox: Sandbox, hostile_remote) -> None:
    bare = hostile_remote(artifact_layout("@repo/apps/web/cm.yaml", "@artifact../../x.yaml"))
    verify_and_bootstrap(sandbox, bare, "clusters/dev/artifacts.yaml", "copy[0].to", "must be @artifact/path")


def test_artifact_name_cannot_name_a_scratch_folder_outside(sandbox: Sandbox, hostile_remote) -> None:
    # The artifact's name picks its scratch folder: only its safe characters are used, so a
    # climbing name composes harmlessly inside the command's temporary folder.
    layout = artifact_layout("@repo/apps/web/**", "@artifact/")
    name = "../../../../outside/made"
    generator = GENERATOR.format(source="@repo/apps/web/**", target="@artifact/")
    layout["clusters/dev/artifacts.yaml"] = generator.replace(
        "name: web\n      copy", f"name: {name}\n      copy"
    )
    layout["clusters/dev/web.yaml"] = flux_ks("web", "./", kind="ExternalArtifact", source=name)
    bare = hostile_remote(layout)
    result = fleet("verify", "--repo", str(bare), "--env", "dev")
    assert "Traceback" not in result.output
    sandbox.assert_clean(result.output)
    assert not (sandbox.tmp / "outside" / "made").exists()


def test_symlinked_file_in_kustomization_resources(sandbox: Sandbox, hostile_remote) -> None:
    files = evil_kustomization("resources:\n  - leak.yaml\n", **{"leak.yaml": Link(str(sandbox.canary_file))})
    bare = hostile_remote(files)
    verify_and_bootstrap(sandbox, bare, "evil/kustomization.yaml", "resources", "leak.yaml is a symlink")


def test_symlinked_directory_pointing_outside(sandbox: Sandbox, hostile_remote) -> None:
    files = evil_kustomization("resources:\n  - ../shared\n")
    files["shared"] = Link(str(sandbox.canary_file.parent))
    bare = hostile_remote(files)
    verify_and_bootstrap(sandbox, bare, "evil/kustomization.yaml", "resources", "../shared is a symlink")


def test_spec_path_through_a_symlink(sandbox: Sandbox, hostile_remote) -> None:
    files: Files = {
        "clusters/dev/evil.yaml": flux_ks("evil", "./linked"),
        "linked": Link(str(sandbox.canary_file.parent)),
    }
    bare = hostile_remote(files)
    verify_and_bootstrap(sandbox, bare, "clusters/dev/evil.yaml", "spec.path ./linked", "symlink")


def test_spec_path_climbing_out(sandbox: Sandbox, hostile_remote) -> None:
    bare = hostile_remote({"clusters/dev/evil.yaml": flux_ks("evil", f"./{climb(12)}{sandbox.tmp}/outside")})
    verify_and_bootstrap(sandbox, bare, "clusters/dev/evil.yaml", "spec.path", "is outside its source")


@pytest.mark.parametrize(
    ("link", "written"),
    [
        ("clusters/dev", "clusters/dev/apps.yaml"),
        (".eksgitops", ".eksgitops/dev.yaml"),
        ("clusters/dev/apps.yaml", "clusters/dev/apps.yaml"),
        ("apps", "apps/base/podinfo/canary.yaml"),
    ],
)
def test_bootstrap_never_writes_through_a_symlink(
    sandbox: Sandbox, hostile_remote, link: str, written: str
) -> None:
    outside = sandbox.canary_file.parent
    target = sandbox.canary_file if link.endswith(".yaml") else outside
    files: Files = {"README.md": "fleet\n", link: Link(str(target))}
    bare = hostile_remote(files)
    refs = remote_refs(bare)
    result = fleet("bootstrap", "--repo", str(bare), "--env", "dev")
    assert result.exit_code == 1, result.output
    assert f"{link} is a symlink in the repository" in result.stderr
    assert "Nothing was written" in result.stderr
    sandbox.assert_clean(result.output)
    assert remote_refs(bare) == refs
    assert sandbox.canary_file.read_text() == CANARY_FILE_TEXT
    assert sorted(p.name for p in outside.iterdir()) == ["canary-secret.txt", "kubeconfig"]
    del written


def test_a_symlink_elsewhere_does_not_stop_bootstrap(sandbox: Sandbox, hostile_remote) -> None:
    """Only symlinks on the paths bootstrap writes refuse it; verify drops the others, as Flux does."""
    bare = hostile_remote({"docs/outside": Link("/etc"), "README.md": "fleet\n"})
    result = fleet("bootstrap", "--repo", str(bare), "--env", "dev")
    assert result.exit_code == 0, result.output
    sandbox.assert_no_leak(result.output)
    result = fleet("verify", "--repo", str(bare), "--env", "dev")
    assert result.exit_code in (0, 3), result.output
    assert "docs/outside: symlink dropped" in result.stdout


def test_site_packages_is_where_the_first_attack_would_land(tmp_path: Path) -> None:
    # The .pth attack needs the real site-packages path; make sure the harness points at it.
    assert (site_packages() / "typer").is_dir()
