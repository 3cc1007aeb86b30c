"""The one place `upgrade` reaches fleet verify: what the agent would apply for a stack.

It builds the layout as `eksgitops fleet verify --stack` does (the same clone, the same
bridge variables, the same walk with the real kustomize) and hands back every object with
the file it came from, plus verify's own report. Only this module knows verify's API, so
re-pointing it at another verify entry changes nothing else in `upgrade`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eksgitops.fleet.credentials import Credentials
from eksgitops.fleet.engine import find_engine
from eksgitops.fleet.findings import Report
from eksgitops.fleet.repo import FleetError, checkout, checkout_revision
from eksgitops.fleet.schema import PLACEHOLDER
from eksgitops.fleet.verify import Options, Verifier


class FleetUnreadable(Exception):
    """The repository or revision could not be read (one line, credentials scrubbed)."""


@dataclass(frozen=True)
class BuiltObject:
    obj: dict[str, Any]
    file: str
    """The repository file it came from (or the source it was built from)."""


@dataclass
class FleetObjects:
    sha: str
    objects: list[BuiltObject]
    report: Report
    """fleet verify's findings on the same build (errors mean it would not reconcile today)."""


def stack_objects(
    repo: str,
    revision: str | None,
    bridge: dict[str, Any],
    creds: Credentials,
) -> FleetObjects:
    """Clone `repo` at `revision` and build the environment the stack's bridge describes.

    `bridge` is the document `eksgitops plan` writes to build/<stack>/bridge.json.
    """
    variables = {
        str(k): (str(v) if v and "(known after apply" not in str(v) else PLACEHOLDER)
        for k, v in dict(bridge.get("variables") or {}).items()
    }
    agent = str(bridge.get("agent") or "flux")
    agent = "argocd" if agent == "eks-argocd" else agent
    env_path = str(bridge.get("path") or f"clusters/{bridge.get('stack')}").strip("/")
    try:
        with checkout(repo, None, creds) as co:
            sha = checkout_revision(co, revision)
            opts = Options(
                env_path,
                {co.url, repo, str(bridge.get("repoUrl") or "")},
                agent,
                variables,
                str(bridge.get("stack") or ""),
                f"build/{bridge.get('stack')}/bridge.json",
                bool(bridge.get("crossNamespaceRefs", False)),
            )
            if not (co.root / env_path).is_dir():
                raise FleetUnreadable(f"path {env_path} not found at {sha[:12]}")
            verifier = Verifier(co.root, opts, find_engine(), disposable=True)
            report = verifier.run()
            objects = [BuiltObject(a.obj, a.file) for a in verifier.applied]
    except FleetError as exc:
        raise FleetUnreadable(creds.scrub(str(exc))) from None
    return FleetObjects(sha, objects, report)
