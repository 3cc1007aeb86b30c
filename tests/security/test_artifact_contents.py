"""Issue 22, classes 2 and 4: builds read what source-controller's artifact holds.

* `.git/` is not in the artifact, so a generator reading `../.git/config` fails as under Flux;
* `.sourceignore` is matched with source-controller's rules (go-git's gitignore), on pathspec
  with RE2, so no pattern can backtrack: `**a**a**a…` against a long name took minutes with the
  hand-made regular expression.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from eksgitops.fleet.scratch_copy import Workspace
from eksgitops.fleet.sourceignore import Matcher
from tests.fleet.hostile.harness import evil_kustomization, make_remote
from tests.security.helpers import run_cli

NO_CACHE = {"EKSGITOPS_BUILD_CACHE": "off"}


def test_a_generator_reading_the_git_config_fails_as_under_flux(tmp_path: Path) -> None:
    kustomization = (
        "resources:\n  - cm.yaml\nconfigMapGenerator:\n  - name: leak\n    namespace: default\n"
        "    files:\n      - ../.git/config\n"
    )
    bare = make_remote(tmp_path, evil_kustomization(kustomization), "git-config")
    done = run_cli("fleet", "verify", "--repo", str(bare), "--env", "dev", env=NO_CACHE)
    assert done.code == 1, done.stdout + done.stderr
    assert ".git/config" in done.stdout, done.stdout


def test_the_checkout_gets_its_git_back_when_verify_is_done(tmp_path: Path) -> None:
    source = tmp_path / "clone"
    (source / ".git").mkdir(parents=True)
    (source / ".git" / "config").write_text("[core]\n")
    (source / "a.yaml").write_text("a: 1\n")
    ws = Workspace(source, disposable=True)
    assert not (source / ".git").exists()
    assert (ws.root / "a.yaml").is_file()
    ws.close()
    assert (source / ".git" / "config").read_text() == "[core]\n"


def test_a_backtracking_pattern_against_a_long_name_is_fast(tmp_path: Path) -> None:
    files = evil_kustomization("resources:\n  - cm.yaml\n")
    # No `c` in the name: the old expression tried every way to split the `a`s first
    # (3.7 s for 22 of them, growing exponentially).
    files[".sourceignore"] = "**a" * 12 + "**c\n"
    files["evil/" + "a" * 40 + ".txt"] = "x\n"
    bare = make_remote(tmp_path, files, "backtrack")
    done = run_cli("fleet", "verify", "--repo", str(bare), "--env", "dev", env=NO_CACHE, timeout=120)
    assert done.code == 0, done.stdout + done.stderr
    assert done.seconds < 60


def _ignored(lines: dict[str, str], rel: str) -> bool:
    return Matcher([(domain, line) for domain, text in lines.items() for line in text.splitlines()]).ignored(
        rel
    )


# go-git's gitignore rules, as fluxcd/pkg sourceignore tests them: (domain: patterns, path, ignored)
RULES = [
    ({"": "value"}, "head/value/tail", True),  # a name matches any component
    ({"": "value"}, "head/value", True),
    ({"": "value"}, "head/val/tail", False),
    ({"": "val"}, "head/value/tail", False),
    ({"": "v*o"}, "value/vulkano/tail", True),
    ({"": "vul?ano"}, "value/vulkano/tail", True),
    ({"": "v[ou]l[kc]ano"}, "value/volcano", True),
    ({"": "v[ou]l["}, "value/vol[", False),  # a malformed pattern matches nothing
    ({"": "value/"}, "head/value/tail", True),  # a directory pattern: files below it
    ({"": "value/"}, "head/value", False),  # not a file of that name
    ({"": "/value/vul?ano"}, "value/vulkano/tail", True),
    ({"": "value/vul?ano"}, "value/vulkano/tail", True),  # a slash anchors it
    ({"": "/value/volcano"}, "value/value/volcano", False),
    ({"": "**/*lue/vol?ano"}, "head/value/volcano/tail", True),
    ({"": "**/*lue/vol?ano"}, "head/value/Volcano/tail", False),
    ({"": "/*lue/vol?ano/**"}, "value/volcano/tail/moretail", True),
    ({"": "/*lue/**/vol?ano"}, "value/volcano", True),
    ({"": "/*lue/**/vol?ano"}, "value/middle1/middle2/volcano", True),
    ({"": "/*lue/**foo/vol?ano"}, "value/foo/volcano/tail", False),  # `**` glued: never matches
    ({"": "**/android/**/GeneratedPluginRegistrant.java"}, "packages/lib/src/android/gradle.dart", False),
    ({"value/volcano": "middle/"}, "value/volcano/middle/tail", True),  # scoped to its directory
    ({"value/volcano": "volcano/"}, "value/volcano/tail", False),  # only below it
    ({"head/middle/tail": "value"}, "head/middle/_tail_/value", False),
    ({"": "drafts/\n!drafts/keep.yaml"}, "drafts/keep.yaml", False),  # `!` includes again
    ({"": "drafts/\n!drafts/keep.yaml"}, "drafts/other.yaml", True),
    ({"": "*.yaml\n", "apps": "!*.yaml"}, "apps/a.yaml", False),  # the deeper file wins
    ({"": "*.yaml\n", "apps": "!*.yaml"}, "web/a.yaml", True),
]


@pytest.mark.parametrize(("patterns", "rel", "expected"), RULES)
def test_sourceignore_rules_are_source_controllers(
    patterns: dict[str, str], rel: str, expected: bool
) -> None:
    assert _ignored(patterns, rel) is expected


def test_defaults_apply_only_without_patterns_of_the_repository() -> None:
    # SourceIgnoreFilter: VCS patterns always; ExcludeCI/ExcludeExtra only with no patterns of its own.
    assert Matcher([]).ignored("apps/.sops.yaml")
    assert Matcher([]).ignored(".github/workflows/ci.yaml")
    own = Matcher([("", "drafts/")])
    assert not own.ignored("apps/.sops.yaml")
    assert own.ignored(".git/config") and own.ignored(".gitignore")


def test_many_hostile_patterns_match_in_linear_time() -> None:
    patterns = [("", "**a" * 40 + "**"), ("", "*a" * 60 + "b"), ("", "[a-z]*" * 50)]
    name = "a" * 4000 + "c"
    started = time.monotonic()
    for _ in range(50):
        Matcher(patterns).ignored(name)
    assert time.monotonic() - started < 5
