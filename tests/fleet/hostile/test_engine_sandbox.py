"""The kustomize engine runs sandboxed: no inherited environment, no network, no plugins."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from eksgitops.fleet.kustomize_engine import BuildFailed, Engine, find_engine, sandbox_env
from tests.fleet.hostile.harness import CANARY_ENV, CanaryServer

READ_ENVIRON = (
    "configMapGenerator:\n  - name: environ\n    files:\n      - environ=/proc/self/environ\n"
    "generatorOptions:\n  disableNameSuffixHash: true\n"
)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_the_engine_sees_none_of_the_callers_environment(sandbox, tmp_path: Path) -> None:
    # Even unrestricted (the precheck would refuse this path), the engine's own environment holds
    # nothing of ours: no token, no cloud key, a HOME of its own.
    work = tmp_path / "cmdtmp" / "k"
    work.mkdir()
    (work / "kustomization.yaml").write_text(READ_ENVIRON)
    [cm] = find_engine().build(work, load_restrictor_none=True)
    work.joinpath("kustomization.yaml").unlink()
    work.rmdir()
    environ = cm["data"]["environ"]
    for value in CANARY_ENV.values():
        assert value not in environ
    names = {item.split("=", 1)[0] for item in environ.split("\0") if item}
    assert "HOME" in names and not names & {*CANARY_ENV, "KUBECONFIG_ORIGINAL", "GIT_ASKPASS"}
    home = next(item.split("=", 1)[1] for item in environ.split("\0") if item.startswith("HOME="))
    assert home.startswith(str(tmp_path / "cmdtmp" / "eksgitops-kustomize-"))
    assert not Path(home).exists()  # removed after the build
    sandbox.assert_untouched()


def test_sandbox_env_points_every_proxy_at_the_closed_port(tmp_path: Path) -> None:
    env = sandbox_env(tmp_path, "http://127.0.0.1:9")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        assert env[name] == "http://127.0.0.1:9"
    assert env["NO_PROXY"] == env["no_proxy"] == "" and env["PATH"] == ""
    assert env["KUBECONFIG"].startswith(str(tmp_path)) and env["HOME"] == str(tmp_path)
    if sys.platform != "win32":
        assert set(env) == {
            "HOME",
            "USERPROFILE",
            "KUBECONFIG",
            "XDG_CONFIG_HOME",
            "XDG_CACHE_HOME",
            "XDG_DATA_HOME",
            "KUSTOMIZE_PLUGIN_HOME",
            "TMPDIR",
            "PATH",
            "NO_PROXY",
            "no_proxy",
            "GIT_TERMINAL_PROMPT",
            "GIT_CONFIG_NOSYSTEM",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        }


def test_the_engines_http_goes_through_the_proxy_setting(canary_server: CanaryServer, tmp_path: Path) -> None:
    """The canary as the proxy receives the request: the variables reach the engine and it obeys them.

    With the default (a closed port) the same build fails without any connection reaching anything.
    """
    work = tmp_path / "k"
    work.mkdir()
    (work / "kustomization.yaml").write_text("resources:\n  - http://fleet-canary.invalid/cm.yaml\n")
    real = find_engine()
    objects = Engine(real.binary, real.kubectl, proxy=canary_server.url).build(work)
    assert any("fleet-canary.invalid/cm.yaml" in hit for hit in canary_server.hits)
    assert [o["metadata"]["name"] for o in objects] == ["fetched-from-canary"]
    before = len(canary_server.hits)
    with pytest.raises(BuildFailed, match="connection refused"):
        real.build(work)
    assert len(canary_server.hits) == before


def test_plugins_and_helm_are_off_on_the_command_line(tmp_path: Path) -> None:
    argv = Engine("/bin/kubectl", kubectl=True).argv(tmp_path, load_restrictor_none=False)
    assert argv[:3] == ["/bin/kubectl", "kustomize", str(tmp_path)]
    assert {"--enable-alpha-plugins=false", "--enable-helm=false", "--network=false"} <= set(argv)
    assert argv[argv.index("--load-restrictor") + 1] == "LoadRestrictionsRootOnly"
