"""Faults injected by the simulated world, each through the CLI on the shipped dev stack:
a throttling / dropping API server, a push to the fleet during a wait, a rebuild that stopped
half way and is run again, and teardown / verify of a stack the backend does not have."""

from __future__ import annotations

import itertools

import pytest

from eksgitops.dr.cluster_api import KUSTOMIZATION
from tests.dr.conftest import git
from tests.dr.test_shipped_stacks import reports, run, shipped
from tests.simworld.cluster import set_revision
from tests.simworld.kube_server import Request

DEV = [("dev", None)]
__all__ = ["shipped"]


def source(world: dict) -> tuple[str, ...]:
    return ("--repo-url", world["bare"], "--backend", "s3://state-bucket")


@pytest.mark.parametrize("shipped", DEV, indirect=True)
def test_throttling_and_dropped_connections_on_every_poll_are_not_yet_until_the_deadline(shipped):
    world = shipped["world"]
    faults = itertools.cycle(["throttle", "drop"])
    world.kube.fault = lambda req: next(faults)
    result = run("dr", "rebuild", "dev", *source(shipped), "--poll", "5", "--timeout-nodes", "300")
    assert result.exit_code == 1
    assert "stopped in phase nodes ready: timed out after 300s waiting for nodes" in result.stderr
    assert "not yet" in result.stderr
    sleeps = world.clock.sleeps
    # Backed off while the API kept failing: 10, 20, 40 (8 intervals at most), never past the deadline.
    assert sleeps[:3] == [10.0, 20.0, 40.0] and max(sleeps) == 40.0 and sum(sleeps) == 300
    assert {r.method for r in world.kube.calls()} == {"GET"}


@pytest.mark.parametrize("shipped", DEV, indirect=True)
def test_an_api_server_that_recovers_within_the_deadline_lets_the_rebuild_finish(shipped):
    world = shipped["world"]
    failing = itertools.chain(["throttle", "drop"] * 6, itertools.repeat(None))
    world.kube.fault = lambda req: next(failing)
    result = run("dr", "rebuild", "dev", *source(shipped), "--poll", "5")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert any(s > 5 for s in world.clock.sleeps)  # it backed off while it failed


def push(work_dir, message: str) -> str:
    (work_dir / "clusters" / "dev" / "extra.txt").write_text(message)
    git("add", ".", cwd=work_dir)
    git("commit", "-q", "-m", message, cwd=work_dir)
    return git("rev-parse", "HEAD", cwd=work_dir)


@pytest.mark.parametrize("shipped", DEV, indirect=True)
def test_a_push_to_the_fleet_branch_during_the_wait_counts_as_synced(shipped, tmp_path):
    world = shipped["world"]
    work = tmp_path / "fleet-work"
    pushed: list[str] = []

    def on_request(server, req: Request) -> None:
        # While the rebuild waits for the workloads, someone pushes and Flux applies the new commit.
        if not pushed and "kustomizations" in req.path:
            sha = push(work, "a push during the wait")
            git("push", "-q", str(shipped["bare"]), "main", cwd=work)
            set_revision(server, "flux", sha)
            pushed.append(sha)

    for ks in world.kube.items(KUSTOMIZATION):
        ks["status"]["lastAppliedRevision"] = "main@sha1:" + "0" * 40  # not there yet
    world.kube.hooks.append(on_request)
    result = run("dr", "rebuild", "dev", *source(shipped), "--poll", "5", "--timeout-workloads", "120")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert pushed and f"rebuild: dev is Ready at {shipped['sha'][:12]}" in result.stdout


@pytest.mark.parametrize("shipped", DEV, indirect=True)
def test_a_commit_that_does_not_contain_the_expected_one_is_not_synced(shipped, tmp_path):
    world = shipped["world"]
    work = tmp_path / "fleet-work"
    git("checkout", "-q", "--orphan", "other", cwd=work)
    unrelated = push(work, "unrelated history")
    git("push", "-q", str(shipped["bare"]), "other", cwd=work)
    set_revision(world.kube, "flux", unrelated)
    result = run("dr", "rebuild", "dev", *source(shipped), "--poll", "5", "--timeout-workloads", "60")
    assert result.exit_code == 1
    assert "stopped in phase workloads synced: timed out" in result.stderr


@pytest.mark.parametrize("shipped", DEV, indirect=True)
@pytest.mark.parametrize("cancel", [True, False])
def test_a_rebuild_that_failed_half_way_completes_when_run_again(shipped, cancel):
    world = shipped["world"]
    backend = world.backend
    backend.fail_up_after = 2
    result = run("dr", "rebuild", "dev", *source(shipped), "--poll", "5")
    assert result.exit_code == 1 and "stopped in phase infrastructure" in result.stderr
    assert backend.stacks["dev"].pending  # the interrupted create is in the state
    # The killed run still holds the update lease.
    backend.lease_held_by = "the rebuild that was killed"
    flags = ("--cancel-stale-update",) if cancel else ()
    result = run("dr", "rebuild", "dev", *source(shipped), "--poll", "5", *flags)
    verbs = backend.verbs("dev")
    if not cancel:
        assert result.exit_code == 1
        assert "pulumi cancel --stack dev" in result.stderr and "--cancel-stale-update" in result.stderr
        assert "cancel" not in verbs  # never cancels an update that may be someone else's, unasked
        return
    assert result.exit_code == 0, result.stdout + result.stderr
    second = verbs[verbs.index("select", 1) :]
    assert second[:2] == ["select", "pending_operations"]
    assert second.index("refresh") < second.index("cancel") < len(second) - second[::-1].index("up") - 1
    assert backend.calls[[c[0] for c in backend.calls].index("refresh")][2] == {"clear_pending_creates": True}
    assert not backend.stacks["dev"].pending and len(backend.stacks["dev"].resources) == len(backend.program)
    [_, report] = reports(shipped["project"])
    assert "pending operations cleared" in report["facts"]


@pytest.mark.parametrize("shipped", DEV, indirect=True)
def test_an_update_lease_released_during_the_wait_needs_no_cancel(shipped):
    backend = shipped["world"].backend
    backend.lease_held_by, backend.release_lease_after = "a colleague's update", 2
    result = run("dr", "rebuild", "dev", *source(shipped), "--poll", "5")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "cancel" not in backend.verbs("dev")


@pytest.mark.parametrize("shipped", DEV, indirect=True)
@pytest.mark.parametrize("command", ["teardown", "verify"])
def test_teardown_and_verify_never_create_a_stack_that_does_not_exist(shipped, command):
    backend = shipped["world"].backend
    args = ("--yes",) if command == "teardown" else ("--repo-url", shipped["bare"])
    result = run("dr", command, "dev", *args)
    assert result.exit_code == 1
    assert "stack dev does not exist in the state backend" in result.stderr
    assert backend.stacks == {}
    assert backend.calls == [("select", "dev", {"create": False, "copy_config_from": None})]
