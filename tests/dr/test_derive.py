"""The derived stacks (a drill's, an upgrade's green) of every shipped stack, with every agent,
are accepted by the spec and isolated from the environment they rehearse."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksgitops.components.spec import load_spec
from eksgitops.dr.context import DrUsageError, load_stack
from eksgitops.dr.derive import derive_parallel
from tests.simworld.stacks import AGENTS, SHIPPED, install

CASES = [(env, agent) for env in SHIPPED for agent in (None, *AGENTS)]


def derive(tmp_path: Path, env: str, agent: str | None, suffix: str = "-drill", *, write: bool = True):
    if write:
        install(tmp_path, env, agent)
    return load_stack(
        env,
        stacks_dir=tmp_path / "stacks",
        project_dir=tmp_path,
        build_dir=tmp_path / "build",
        command="drill",
        drill=True,
        suffix=suffix,
    )


@pytest.mark.parametrize(("env", "agent"), CASES, ids=[f"{e}-{a or 'shipped'}" for e, a in CASES])
@pytest.mark.parametrize("suffix", ["-drill", "-green"])
def test_every_shipped_stack_derives_a_stack_the_spec_accepts(tmp_path, env, agent, suffix):
    ctx = derive(tmp_path, env, agent, suffix)
    role = suffix.strip("-")
    environment = load_stack(
        env, stacks_dir=tmp_path / "stacks", project_dir=tmp_path, build_dir=tmp_path, command="preflight"
    )
    spec = ctx.spec
    assert ctx.stack == f"{env}{suffix}"
    # Its own names everywhere AWS wants unique ones: all derive from the cluster name.
    assert spec.cluster_name == f"{environment.spec.cluster_name}-{role}"
    assert spec.cluster_role == role and environment.spec.cluster_role == "primary"
    assert not spec.control_plane.deletion_protection
    assert not spec.gitops.image_automation
    assert spec.gitops.credentials is None or spec.gitops.credentials.read_only
    assert not spec.escrow.enabled
    assert spec.gitops.path == environment.spec.gitops.path == f"clusters/{env}"
    # The environment's escrow stays readable by the drill (preflight, --from-escrow).
    assert ctx.escrow.enabled == environment.spec.escrow.enabled
    assert ctx.escrow_region == environment.escrow_region
    # The config Pulumi runs the derived stack with (the environment's, then the overrides)
    # is the config that was validated.
    assert ctx.overrides["eksgitops:clusterRole"] == role
    if environment.spec.escrow.enabled:
        assert ctx.overrides["eksgitops:escrow.enabled"] == "false"
        removed = {k for k, v in ctx.overrides.items() if v is None}
        raw_escrow = environment.raw["escrow"]
        assert removed == {f"eksgitops:escrow.{k}" for k in raw_escrow if k != "enabled"}


def test_the_shipped_prod_stack_turns_on_what_the_derivation_turns_off(tmp_path):
    """The isolation above is tested against a stack that has each of these on."""
    prod = derive(tmp_path, "prod", None)
    environment = load_stack(
        "prod", stacks_dir=tmp_path / "stacks", project_dir=tmp_path, build_dir=tmp_path, command="preflight"
    )
    assert environment.spec.control_plane.deletion_protection
    assert environment.spec.escrow.enabled and environment.spec.escrow.region
    assert prod.overrides["eksgitops:controlPlane.deletionProtection"] == "false"
    assert "eksgitops:escrow.region" in prod.overrides and prod.overrides["eksgitops:escrow.region"] is None


def test_image_automation_and_read_write_credentials_are_turned_off():
    raw = {
        "region": "eu-west-1",
        "gitops": {
            "agent": "flux",
            "repoUrl": "https://github.com/example/fleet.git",
            "imageAutomation": True,
            "credentials": {"type": "https", "token": {"secure": "v1:x"}, "readOnly": False},
        },
    }
    derived = derive_parallel(raw, "dev", "drill")
    assert derived.raw["gitops"]["imageAutomation"] is False
    assert derived.raw["gitops"]["credentials"]["readOnly"] is True
    assert derived.overrides["eksgitops:gitops.imageAutomation"] == "false"
    assert derived.overrides["eksgitops:gitops.credentials.readOnly"] == "true"
    assert raw["gitops"]["imageAutomation"] is True  # the environment's config is left alone


def test_a_stack_file_the_spec_refuses_is_still_the_users_mistake(tmp_path):
    install(tmp_path, "dev", None)
    path = tmp_path / "stacks" / "Pulumi.dev.yaml"
    path.write_text(path.read_text() + "  eksgitops:bogus: 1\n")
    with pytest.raises(DrUsageError) as err:
        derive(tmp_path, "dev", None, write=False)
    assert "Pulumi.dev.yaml" in err.value.lines[0] and "bogus" in err.value.lines[0]


def test_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="role 'blue'"):
        derive_parallel({}, "dev", "blue")


def test_cluster_role_is_checked_by_the_spec():
    raw = {"region": "eu-west-1", "clusterRole": "standby"}
    with pytest.raises(Exception, match="clusterRole"):
        load_spec(raw, stack="dev", source="Pulumi.dev.yaml")
