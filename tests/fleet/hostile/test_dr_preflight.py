"""`dr preflight` on a hostile fleet: the real `fleet verify` child refuses it and nothing escapes.

AWS is moto (tests/dr), the plan a fake; the fleet check is the real `eksgitops fleet verify`
subprocess, which inherits the canary environment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.dr import world as dr_world
from eksgitops.dr.fleet_check import SubprocessFleetVerifier
from tests.dr.conftest import FleetRepo, aws_env, moto_url, project  # noqa: F401 (fixtures)
from tests.dr.test_cli import World
from tests.dr.test_preflight import good_aws
from tests.fleet.hostile.harness import CANARY_ENV, Files, Sandbox, climb, evil_kustomization, site_packages
from tests.fleet.hostile.test_path_attacks import artifact_layout

BRIDGE = {
    "stack": "dev",
    "agent": "flux",
    "repoUrl": "https://git.example.com/platform/fleet.git",
    "branch": "main",
    "path": "clusters/dev",
    "variables": {"environment": "dev"},
    "identities": [],
    "crossNamespaceRefs": False,
}


def layouts(box: Sandbox) -> dict[str, Files]:
    return {
        "case-variant generator": evil_kustomization(
            "ConfigMapGenerator:\n  - name: env\n    files:\n      - /proc/self/environ\n"
        ),
        "remote resource": evil_kustomization(f"resources:\n  - {box.canary.url}/pwn.yaml\n"),
        "copy into site-packages": artifact_layout(
            "@repo/apps/web/cm.yaml",
            f"@artifact/{climb()}{str(site_packages()).lstrip('/')}/eksgitops-hostile.pth",
        ),
    }


@pytest.mark.parametrize("attack", ["case-variant generator", "remote resource", "copy into site-packages"])
def test_dr_preflight_refuses_a_hostile_fleet(
    aws_env,  # noqa: F811
    project: Path,  # noqa: F811
    sandbox: Sandbox,
    hostile_remote,
    monkeypatch: pytest.MonkeyPatch,
    attack: str,
) -> None:
    # aws_env set moto's fake keys; the canaries replace them (moto accepts any).
    for key, value in CANARY_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COLUMNS", "250")  # each check row on one line, as the assertions read it
    monkeypatch.chdir(project)
    (project / "build" / "dev").mkdir(parents=True)
    (project / "build" / "dev" / "bridge.json").write_text(json.dumps(BRIDGE))
    good_aws()
    bare = hostile_remote(layouts(sandbox)[attack])
    world = World(project, FleetRepo(bare, ""))
    world.fleet = SubprocessFleetVerifier(cwd=project)  # type: ignore[assignment]
    monkeypatch.setattr(dr_world, "default_world", world.build)
    result = CliRunner().invoke(
        app,
        ["dr", "preflight", "dev", "--repo-url", str(bare), "--backend", "s3://state-bucket"],
        catch_exceptions=False,
    )
    assert result.exit_code == 1, result.stdout + result.stderr
    fleet_row = next(line for line in result.stdout.splitlines() if "fleet verify" in line)
    assert "FAIL" in fleet_row and "will not reconcile" in fleet_row, result.stdout
    reports = project / "build" / "dr"
    written = "\n".join(p.read_text() for p in sorted(reports.iterdir()))
    sandbox.assert_no_leak(result.stdout, result.stderr, written)
    sandbox.assert_untouched(allowed=[reports])
    assert not (site_packages() / "eksgitops-hostile.pth").exists()
