"""Issue 22, class 1: every command finishes, with one `error:` line, whatever the remote does.

A server on 127.0.0.1 that accepts connections and never answers stands for a remote that
stalls (a tarpit, a half-dead proxy). Before the fix `fleet verify` and `fleet bootstrap` cloned
with no timeout at all and waited forever; the tests run the real command in a process of its
own, so the old code fails them by not finishing instead of hanging the suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eksgitops.fleet import budget
from eksgitops.git_transport import git_environment, run_git
from tests.fleet.hostile.harness import Files, evil_kustomization, make_remote
from tests.security.helpers import assert_one_error, run_cli

FAST = {"EKSGITOPS_GIT_TIMEOUT": "3", "EKSGITOPS_BUILD_CACHE": "off"}
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  namespace: default\n"


@pytest.mark.parametrize("scheme", ["http", "git"])
def test_verify_gives_up_on_a_remote_that_never_answers(stalled_server: str, scheme: str) -> None:
    # http(s) stalls are also cut by git's low-speed limit; git:// has only our own timeout.
    done = run_cli(
        "fleet",
        "verify",
        "--repo",
        f"{scheme}://{stalled_server}/fleet.git",
        "--env",
        "dev",
        env=FAST,
        timeout=60,
    )
    assert_one_error(done, 4, "did not finish within 3s", "nothing was changed")
    assert done.seconds < 30


def test_bootstrap_gives_up_on_a_remote_that_never_answers(stalled_server: str) -> None:
    done = run_cli(
        "fleet",
        "bootstrap",
        "--repo",
        f"http://{stalled_server}/fleet.git",
        "--env",
        "dev",
        env=FAST,
        timeout=60,
    )
    assert_one_error(done, 1, "did not finish within 3s")


def test_the_deadline_bounds_the_clone_too(stalled_server: str) -> None:
    # No git timeout of our own (the default is minutes): the run's --deadline ends it.
    done = run_cli(
        "fleet",
        "verify",
        "--repo",
        f"git://{stalled_server}/fleet.git",
        "--env",
        "dev",
        "--deadline",
        "2",
        env={"EKSGITOPS_BUILD_CACHE": "off"},
        timeout=60,
    )
    assert_one_error(done, 4, "did not finish within 2s")
    assert done.seconds < 30


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "100000"])
def test_a_deadline_that_is_not_a_duration_is_refused(value: str) -> None:
    done = run_cli(
        "fleet", "verify", "--repo", "https://example.invalid/f.git", "--env", "dev", "--deadline", value
    )
    assert_one_error(done, 2, "--deadline", "seconds", "above 0 and at most 86400")


def test_git_is_given_a_low_speed_limit(tmp_path: Path) -> None:
    env = git_environment(ssh_command="ssh", url="https://git.example.com/f.git")
    for key, value in (("http.lowSpeedLimit", "1000"), ("http.lowSpeedTime", "60")):
        got = run_git(["config", "--get", key], env=env, timeout=30, cwd=tmp_path)
        assert got.stdout.strip() == value


def test_run_git_kills_what_git_started_at_the_timeout(stalled_server: str, tmp_path: Path) -> None:
    import subprocess

    env = git_environment(ssh_command="ssh", url=f"http://{stalled_server}/f.git")
    with pytest.raises(subprocess.TimeoutExpired):
        run_git(["ls-remote", "--", f"http://{stalled_server}/f.git"], env=env, timeout=1, cwd=tmp_path)


# --- caps on what one run reads and builds ------------------------------------------------


def test_a_repository_over_the_file_cap_ends_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from eksgitops.cli import app

    files = evil_kustomization("resources:\n  - cm.yaml\n")
    files.update({f"bulk/f{i}.txt": "x\n" for i in range(40)})
    bare = make_remote(tmp_path, files, "many-files")
    monkeypatch.setattr(budget, "MAX_FILES", 20)
    monkeypatch.setenv("EKSGITOPS_BUILD_CACHE", "off")
    result = CliRunner().invoke(app, ["fleet", "verify", "--repo", str(bare), "--env", "dev"])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "more than 20 files" in errors[0], result.stderr


def test_a_repository_over_the_byte_cap_ends_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from eksgitops.cli import app

    files = evil_kustomization("resources:\n  - cm.yaml\n")
    files["bulk/big.txt"] = "x" * (3 << 20)
    bare = make_remote(tmp_path, files, "many-bytes")
    monkeypatch.setattr(budget, "MAX_BYTES", 1 << 20)
    monkeypatch.setenv("EKSGITOPS_BUILD_CACHE", "off")
    result = CliRunner().invoke(app, ["fleet", "verify", "--repo", str(bare), "--env", "dev", "--json"])
    assert result.exit_code == 1, result.output
    assert "more than 1 MiB of files" in result.stdout  # the --json document says it too


def test_a_layout_over_the_build_cap_ends_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from eksgitops.cli import app
    from tests.fleet.hostile.harness import flux_ks

    files: Files = {f"clusters/dev/app{i}.yaml": flux_ks(f"app{i}", f"./apps/app{i}") for i in range(6)}
    for i in range(6):
        files[f"apps/app{i}/kustomization.yaml"] = "resources:\n  - cm.yaml\n"
        files[f"apps/app{i}/cm.yaml"] = CM.format(i=i)
    bare = make_remote(tmp_path, files, "many-builds")
    monkeypatch.setattr(budget, "MAX_BUILDS", 3)
    monkeypatch.setenv("EKSGITOPS_BUILD_CACHE", "off")
    result = CliRunner().invoke(app, ["fleet", "verify", "--repo", str(bare), "--env", "dev"])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "more than 3 kustomize builds" in errors[0], result.stderr


def test_within_the_caps_verify_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from eksgitops.cli import app

    bare = make_remote(tmp_path, evil_kustomization("resources:\n  - cm.yaml\n"), "small")
    monkeypatch.setattr(budget, "MAX_FILES", 20)
    monkeypatch.setenv("EKSGITOPS_BUILD_CACHE", "off")
    result = CliRunner().invoke(app, ["fleet", "verify", "--repo", str(bare), "--env", "dev"])
    assert result.exit_code == 0, result.output


def test_time_running_out_while_building_is_exit_4() -> None:
    run = budget.Budget(deadline=0.01)
    import time

    time.sleep(0.05)
    with pytest.raises(budget.LimitReached) as caught:
        run.count_build()
    assert caught.value.exit_code == budget.COULD_NOT_VERIFY
    assert "--deadline" in str(caught.value)
