"""Issue 22, class 2 (and issue 24, item 3): no YAML or JSON document can explode.

Every document read from a repository, a stack file, a `.eksgitops/*.yaml` state file or a
`--against` state file goes through one reader with limits on aliases, values, depth and
characters, aliases expanded (components/document_limits.py). Each test builds the hostile
document; the commands run in a process of their own with a timeout, because before the fix
several of these hung (the build cache's dependency walk expanded a kustomization's aliases
before the precheck counted anything) or ended in MemoryError/RecursionError.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from eksgitops.components.document_limits import REPOSITORY, DocumentLimit, check_yaml, load_json
from eksgitops.components.spec.errors import SpecError
from eksgitops.components.spec.read import raw_config_from_stack_file
from tests.fleet.hostile.harness import evil_kustomization, make_remote
from tests.security.helpers import assert_one_error, run_cli

ROOT = Path(__file__).resolve().parents[2]
NO_CACHE = {"EKSGITOPS_BUILD_CACHE": "off"}


def bomb(name: str = "bomb", leaf: str = "[]", levels: int = 9) -> str:
    """`name:` holding `levels` levels of ten aliases each: 10**levels values once expanded.

    The leaves are empty lists, not strings: a walk that stops after N strings never stops.
    """
    text = (
        f"{name}:\n  - &l0 [{leaf}, {leaf}, {leaf}, {leaf}, {leaf}, {leaf}, {leaf}, {leaf}, {leaf}, {leaf}]\n"
    )
    for i in range(1, levels):
        text += f"  - &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n"
    return text


# --- the reader itself --------------------------------------------------------------------


def test_an_alias_bomb_is_refused_before_anything_is_built() -> None:
    started = time.monotonic()
    with pytest.raises(DocumentLimit) as caught:
        check_yaml(bomb())
    assert "through YAML aliases" in str(caught.value)
    assert str(caught.value).startswith("bomb[")
    assert time.monotonic() - started < 2


def test_a_large_string_referenced_many_times_is_refused_by_its_size() -> None:
    text = "big: &s " + "x" * (1 << 20) + "\nuses: [" + ", ".join(["*s"] * 3000) + "]\n"
    with pytest.raises(DocumentLimit) as caught:
        check_yaml(text)
    assert "characters through YAML aliases" in str(caught.value)
    assert str(caught.value).startswith("uses[")


def test_a_large_file_without_aliases_names_its_key_and_not_aliases() -> None:
    text = "spec:\n  values:\n" + "".join(f"    k{i}: v\n" for i in range(REPOSITORY.values + 10))
    with pytest.raises(DocumentLimit) as caught:
        check_yaml(text)
    assert str(caught.value).startswith("spec.values.k")
    assert "alias" not in str(caught.value)


def test_deep_nesting_is_refused_naming_the_key() -> None:
    with pytest.raises(DocumentLimit) as caught:
        check_yaml("spec:\n  deep: " + "[" * 150 + "]" * 150 + "\n")
    assert "nests more than 100" in str(caught.value)
    assert str(caught.value).startswith("spec.deep")


def test_ordinary_documents_pass() -> None:
    for path in (ROOT / "eksgitops" / "fleet" / "schemas").glob("*.yaml"):
        check_yaml(path.read_text(encoding="utf-8"))  # the largest shipped CRDs (1.4 MB)
    check_yaml("a: &x {b: 1}\nc: *x\n")


def test_json_nesting_is_counted_outside_strings_only() -> None:
    assert load_json('{"a": "[[[[{{{{"}') == {"a": "[[[[{{{{"}
    with pytest.raises(DocumentLimit):
        load_json("[" * 100_000 + "]" * 100_000)


# --- every path that reads one ------------------------------------------------------------


def test_an_alias_bomb_kustomization_does_not_hang_verify(tmp_path: Path) -> None:
    # With the build cache on: its dependency walk read the kustomization before the precheck
    # counted anything, and walked every expanded value.
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    bare = make_remote(tmp_path, evil_kustomization(bomb() + "resources:\n  - cm.yaml\n"), "bomb")
    env = {"EKSGITOPS_BUILD_CACHE": str(cache)}
    done = run_cli("fleet", "verify", "--repo", str(bare), "--env", "dev", env=env, timeout=120)
    assert done.code == 1, done.stdout + done.stderr
    assert "evil/kustomization.yaml" in done.stdout and "through YAML aliases" in done.stdout, done.stdout
    assert "Traceback" not in done.stderr


def test_an_alias_bomb_in_a_state_file_is_one_line(tmp_path: Path) -> None:
    files = evil_kustomization("resources:\n  - cm.yaml\n")
    files[".eksgitops/dev.yaml"] = "agent: flux\nfiles: {}\n" + bomb("x") + "identities: *l8\n"
    bare = make_remote(tmp_path, files, "state-bomb")
    done = run_cli("fleet", "verify", "--repo", str(bare), "--env", "dev", env=NO_CACHE, timeout=120)
    assert_one_error(done, 1, ".eksgitops/dev.yaml", "through YAML aliases")


def test_an_alias_bomb_in_an_argo_cd_directory_manifest_is_a_finding(tmp_path: Path) -> None:
    url = "https://git.example.com/org/fleet.git"
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n  namespace: argocd\n"
        f"spec:\n  project: default\n  source:\n    repoURL: {url}\n    path: web\n"
        "  destination:\n    server: https://kubernetes.default.svc\n    namespace: web\n"
    )
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n" + bomb("x") + "data: *l8\n"
    bare = make_remote(tmp_path, {"clusters/dev/web.yaml": app, "web/cm.yaml": manifest}, "argo-bomb")
    done = run_cli(
        "fleet", "verify", "--repo", str(bare), "--env", "dev", "--agent", "argocd", "--repo-url", url,
        env=NO_CACHE, timeout=120,
    )  # fmt: skip
    assert done.code == 1, done.stdout + done.stderr
    assert "web/cm.yaml" in done.stdout and "through YAML aliases" in done.stdout, done.stdout
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr


def test_a_100000_deep_against_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    shutil.copy(ROOT / "stacks" / "Pulumi.dev.yaml", tmp_path / "stacks" / "Pulumi.dev.yaml")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    deep = tmp_path / "state.json"
    deep.write_text('{"version": 3, "deployment": ' + "[" * 100_000 + "]" * 100_000 + "}")
    done = run_cli("plan", "dev", "--against", str(deep), cwd=tmp_path, timeout=120)
    assert done.code == 2, done.stderr
    assert "RecursionError" not in done.stderr and "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--against" in lines[0] and "nests more than 100" in lines[0], done.stderr


def test_a_well_formed_against_file_is_still_read(tmp_path: Path) -> None:
    from eksgitops.plan.state_file import load_state

    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": []}}))
    assert load_state(path) == {}


# --- stack files (issue 24, item 3) -------------------------------------------------------

HEAD = "config:\n  eksgitops:environment: dev\n"


def _stack(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_stack_file_a_1mib_string_referenced_3000_times_is_refused_by_size(tmp_path: Path) -> None:
    text = HEAD + "  other:big: &s " + "x" * (1 << 20) + "\n  eksgitops:tags:\n"
    text += "".join(f"    k{i}: *s\n" for i in range(3000))
    started = time.monotonic()
    with pytest.raises(SpecError) as caught:
        raw_config_from_stack_file(_stack(tmp_path, text))
    assert time.monotonic() - started < 5
    (line,) = caught.value.lines
    assert ": eksgitops:tags: " in line and "characters through YAML aliases" in line, line


def test_stack_file_a_large_value_without_aliases_names_the_key_not_aliases(tmp_path: Path) -> None:
    text = HEAD + "  eksgitops:tags:\n    team: " + "x" * (5 << 20) + "\n"
    with pytest.raises(SpecError) as caught:
        raw_config_from_stack_file(_stack(tmp_path, text))
    (line,) = caught.value.lines
    assert "eksgitops:tags.team" in line and "alias" not in line, line


def test_stack_file_100000_unknown_keys_are_refused_quickly(tmp_path: Path) -> None:
    text = HEAD + "".join(f"  eksgitops:unknown{i}: 1\n" for i in range(100_000))
    started = time.monotonic()
    with pytest.raises(SpecError) as caught:
        raw_config_from_stack_file(_stack(tmp_path, text))
    assert time.monotonic() - started < 5
    (line,) = caught.value.lines
    assert "eksgitops:unknown" in line and "alias" not in line, line


def test_every_shipped_stack_file_is_within_the_limits() -> None:
    for stack in ("dev", "staging", "prod"):
        raw_config_from_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
