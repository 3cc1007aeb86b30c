"""Bootstrap against real Git: empty remote, idempotence, environments, foreign layouts,
user edits and push races."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksgitops.fleet import bootstrap as ops
from eksgitops.fleet.credentials import Credentials
from eksgitops.fleet.layout import Options
from eksgitops.fleet.repo import FleetError
from tests.fleet.conftest import clone, commit_file, git, invoke, log


def changed_paths(remote: Path, rev: str = "main") -> dict[str, str]:
    """{path: status} of the files the commit `rev` changed."""
    out = git("--git-dir", str(remote), "show", "--name-status", "--format=", rev)
    return {line.split("\t")[1]: line.split("\t")[0] for line in out.splitlines() if line}


def test_bootstrap_empty_remote_then_verify_dev_and_prod(cli, bare_remote: Path) -> None:
    for env in ("dev", "prod"):
        result = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", env)
        assert result.exit_code == 0, result.output
        assert f"{env}: pushed" in result.stdout
        check = invoke(cli, "verify", "--repo", str(bare_remote), "--env", env)
        assert check.exit_code == 0, check.output
        assert "no findings" in check.stdout
    assert len(log(bare_remote)) == 2
    message = git("--git-dir", str(bare_remote), "log", "-1", "--format=%s%n%an")
    assert message.splitlines() == ["fleet: scaffold prod (flux) at clusters/prod", "Test Author"]


def test_argocd_layout_verifies_for_dev_and_prod(cli, bare_remote: Path) -> None:
    for env in ("dev", "prod"):
        assert (
            invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", env, "--agent", "argocd").exit_code
            == 0
        )
        check = invoke(cli, "verify", "--repo", str(bare_remote), "--env", env)
        assert check.exit_code == 0, check.output
    files = git("--git-dir", str(bare_remote), "ls-tree", "-r", "--name-only", "main").splitlines()
    assert "clusters/prod/infrastructure.yaml" in files
    assert "apps/base/podinfo-rollout/rollout.yaml" in files


def test_second_run_makes_no_commit(cli, bare_remote: Path) -> None:
    args = ("bootstrap", "--repo", str(bare_remote), "--env", "dev", "--image-automation")
    assert invoke(cli, *args).exit_code == 0
    before = log(bare_remote)
    again = invoke(cli, *args)
    assert again.exit_code == 0
    assert "up to date" in again.stdout
    assert log(bare_remote) == before


def test_dry_run_lists_files_and_commits_nothing(cli, bare_remote: Path) -> None:
    result = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev", "--dry-run")
    assert result.exit_code == 0
    assert "would write: clusters/dev/infrastructure.yaml" in result.stdout
    assert "nothing committed" in result.stdout
    assert git("--git-dir", str(bare_remote), "for-each-ref") == ""


def test_second_environment_leaves_the_first_alone(cli, bare_remote: Path) -> None:
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev").exit_code == 0
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "prod").exit_code == 0
    changed = changed_paths(bare_remote)
    assert changed, "prod made no commit"
    assert all(status == "A" for status in changed.values()), changed
    assert all(p.startswith(("clusters/prod/", "apps/prod/", ".eksgitops/prod.yaml")) for p in changed), (
        changed
    )


def test_foreign_layout_that_would_not_reconcile_is_refused_and_nothing_pushed(
    cli, bare_remote: Path, tmp_path: Path
) -> None:
    theirs = tmp_path / "theirs"
    git("init", "-q", "--initial-branch=main", str(theirs))
    foreign = {
        "clusters/staging/infra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: theirs\n",
        "infrastructure/controllers/kustomization.yaml": "resources: []\n",
        "infrastructure/crds/kustomization.yaml": "resources: []\n",
        "infrastructure/configs/kustomization.yaml": "resources: []\n",
        "apps/base/podinfo/kustomization.yaml": "resources: []  # their own podinfo\n",
        "README.md": "our fleet\n",
    }
    for rel, content in foreign.items():
        commit_file(theirs, rel, content, f"add {rel}")
    git("remote", "add", "origin", str(bare_remote), cwd=theirs)
    git("push", "-q", "origin", "main", cwd=theirs)
    before = log(bare_remote)

    result = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev")
    assert result.exit_code == 1, result.output
    # The overlay patches a Canary their podinfo base does not have; the health checks name
    # releases their controllers layer does not define. Both are said, and nothing is pushed.
    assert "no matches for Id Canary.v1beta1.flagger.app/podinfo.podinfo" in result.stdout
    assert "healthChecks HelmRelease flux-system/flagger is applied by nothing" in result.stdout
    assert "these layers already existed and were kept as they are: apps/base/podinfo/" in result.stderr
    assert result.stderr.strip().endswith(
        "error: refusing to push: 7 error(s) in the layout; nothing was pushed"
    )
    assert log(bare_remote) == before
    for rel, content in foreign.items():
        assert git("--git-dir", str(bare_remote), "show", f"main:{rel}") == content.strip()


def test_an_existing_helm_chart_folder_is_never_written_into(cli, bare_remote: Path, tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    git("init", "-q", "--initial-branch=main", str(theirs))
    commit_file(theirs, "apps/Chart.yaml", "apiVersion: v2\nname: apps\nversion: 0.1.0\n", "a chart")
    git("remote", "add", "origin", str(bare_remote), cwd=theirs)
    git("push", "-q", "origin", "main", cwd=theirs)
    before = log(bare_remote)
    result = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev")
    assert "kept, existing layout not created by eksgitops: apps/base/podinfo/" in result.stdout
    assert (
        "kept, changed since the scaffold wrote it (use --force to overwrite): apps/dev/kustomization.yaml"
        in (result.stdout)
    )
    # Without its overlay the environment's apps Kustomization has nothing to build: refused.
    assert result.exit_code == 1, result.output
    assert "apps/dev not found" in result.stdout
    assert log(bare_remote) == before


def test_user_edited_file_is_protected_until_force(cli, bare_remote: Path, tmp_path: Path) -> None:
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev").exit_code == 0
    mine = clone(bare_remote, tmp_path / "mine")
    edited = "apps/dev/canary-patch.yaml"
    text = (mine / edited).read_text().replace("threshold: 5", "threshold: 7")
    commit_file(mine, edited, text, "tune canary")
    git("rm", "-q", "apps/dev/kustomization.yaml", cwd=mine)
    git("commit", "-q", "-m", "oops", cwd=mine)
    git("push", "-q", "origin", "main", cwd=mine)

    result = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev")
    assert result.exit_code == 0, result.output
    assert f"kept, changed since the scaffold wrote it (use --force to overwrite): {edited}" in result.stdout
    assert "threshold: 7" in git("--git-dir", str(bare_remote), "show", f"main:{edited}")
    assert changed_paths(bare_remote).get("apps/dev/kustomization.yaml") == "A"  # the deleted one is back

    again = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev")
    assert "up to date" in again.stdout and edited in again.stdout

    forced = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev", "--force")
    assert forced.exit_code == 0
    assert f"overwrite (--force): {edited}" in forced.stdout
    assert "threshold: 5" in git("--git-dir", str(bare_remote), "show", f"main:{edited}")


def test_missing_branch_is_created_from_the_default_branch(cli, bare_remote: Path, tmp_path: Path) -> None:
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev").exit_code == 0
    result = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "qa", "--branch", "fleet/qa")
    assert result.exit_code == 0, result.output
    assert "branch fleet/qa does not exist on the remote; creating it from main" in result.stdout
    assert log(bare_remote, "main")[0] in log(bare_remote, "fleet/qa")


def _race(remote: Path, workdir: Path, times: int):
    """A push hook: a teammate pushes a commit just before each of our first `times` pushes."""
    mate = clone(remote, workdir) if (remote / "refs/heads/main").exists() else None
    pushed: list[str] = []

    def hook(attempt: int) -> None:
        nonlocal mate
        if attempt > times:
            return
        if mate is None:
            git("init", "-q", "--initial-branch=main", str(workdir))
            git("remote", "add", "origin", str(remote), cwd=workdir)
            mate = workdir
        else:
            git("pull", "-q", "--rebase", "origin", "main", cwd=mate)
        pushed.append(
            commit_file(mate, f"team/change-{attempt}.txt", f"change {attempt}\n", f"team {attempt}")
        )
        git("push", "-q", "origin", "HEAD:main", cwd=mate)

    return hook, pushed


def test_push_conflict_replays_on_the_new_tip_and_keeps_every_commit(
    bare_remote: Path, tmp_path: Path
) -> None:
    opts = Options(env="dev")
    ops.bootstrap(str(bare_remote), opts, Credentials(), echo=lambda _: None)
    first = log(bare_remote)
    hook, pushed = _race(bare_remote, tmp_path / "mate", times=2)
    lines: list[str] = []
    result = ops.bootstrap(
        str(bare_remote), Options(env="prod"), Credentials(), echo=lines.append, before_push=hook
    )
    assert result.committed and result.attempts == 3
    history = log(bare_remote)
    assert history[0] == result.sha
    assert set(first) | set(pushed) <= set(history)  # nothing lost
    assert git("--git-dir", str(bare_remote), "rev-parse", "main^") == pushed[-1]
    assert any("after 3 attempts" in line for line in lines)


def test_push_conflict_on_an_empty_remote(bare_remote: Path, tmp_path: Path) -> None:
    hook, pushed = _race(bare_remote, tmp_path / "mate", times=1)
    result = ops.bootstrap(
        str(bare_remote), Options(env="dev"), Credentials(), echo=lambda _: None, before_push=hook
    )
    assert result.committed and result.attempts == 2
    assert set(pushed) <= set(log(bare_remote))


def test_push_gives_up_without_pushing_anything(bare_remote: Path, tmp_path: Path) -> None:
    ops.bootstrap(str(bare_remote), Options(env="dev"), Credentials(), echo=lambda _: None)
    hook, pushed = _race(bare_remote, tmp_path / "mate", times=99)
    with pytest.raises(FleetError, match="gave up after 3 attempts"):
        ops.bootstrap(
            str(bare_remote), Options(env="prod"), Credentials(), echo=lambda _: None, before_push=hook
        )
    assert log(bare_remote)[0] == pushed[-1]
    tree = git("--git-dir", str(bare_remote), "ls-tree", "-r", "--name-only", "main")
    assert "clusters/prod" not in tree


def test_race_on_a_file_we_write_protects_the_teammates_version(bare_remote: Path, tmp_path: Path) -> None:
    ops.bootstrap(str(bare_remote), Options(env="dev"), Credentials(), echo=lambda _: None)
    mate = clone(bare_remote, tmp_path / "mate")

    def hook(attempt: int) -> None:
        if attempt == 1:
            commit_file(mate, "clusters/prod/apps.yaml", "# prod apps, by hand\n", "hand-made prod")
            git("push", "-q", "origin", "main", cwd=mate)

    lines: list[str] = []
    ops.bootstrap(str(bare_remote), Options(env="prod"), Credentials(), echo=lines.append, before_push=hook)
    assert (
        git("--git-dir", str(bare_remote), "show", "main:clusters/prod/apps.yaml") == "# prod apps, by hand"
    )
    assert any("kept" in line and "clusters/prod/apps.yaml" in line for line in lines)


def test_git_daemon_bootstrap_and_verify(cli, git_daemon: tuple[str, Path]) -> None:
    base_url, base = git_daemon
    git("init", "-q", "--bare", "--initial-branch=main", str(base / "fleet.git"))
    url = f"{base_url}/fleet.git"
    result = invoke(cli, "bootstrap", "--repo", url, "--env", "dev", "--image-automation")
    assert result.exit_code == 0, result.output
    assert invoke(cli, "bootstrap", "--repo", url, "--env", "dev", "--image-automation").stdout.count(
        "up to date"
    )
    check = invoke(cli, "verify", "--repo", url, "--env", "dev")
    assert check.exit_code == 0, check.output
    assert len(log(base / "fleet.git")) == 1


def test_tool_identity_is_used_when_none_is_configured(
    bare_remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("EMAIL", "")
    ops.bootstrap(str(bare_remote), Options(env="dev"), Credentials(), echo=lambda _: None)
    assert (
        git("--git-dir", str(bare_remote), "log", "-1", "--format=%an <%ae>")
        == "eksgitops <eksgitops@localhost>"
    )


def test_custom_path_is_synced_and_verified(cli, bare_remote: Path) -> None:
    args = ("--repo", str(bare_remote), "--env", "dev", "--path", "clusters/eu-west-1/dev")
    assert invoke(cli, "bootstrap", *args).exit_code == 0
    files = git("--git-dir", str(bare_remote), "ls-tree", "-r", "--name-only", "main").splitlines()
    assert "clusters/eu-west-1/dev/apps.yaml" in files and "apps/dev/kustomization.yaml" in files
    check = invoke(cli, "verify", *args)
    assert check.exit_code == 0, check.output
    assert "clusters/eu-west-1/dev at" in check.stdout
