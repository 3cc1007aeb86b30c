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
from eksgitops.fleet.findings import Report
from eksgitops.fleet.kustomize_engine import find_engine
from eksgitops.fleet.repo import FleetError, checkout, checkout_revision
from eksgitops.fleet.stack_bridge import StackBridge
from eksgitops.fleet.verify import VerifyRequest, verify_and_apply


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
    stack = str(bridge.get("stack") or "")
    stack_bridge = StackBridge(
        stack=stack,
        agent=str(bridge.get("agent") or "flux"),
        repo_url=str(bridge.get("repoUrl") or ""),
        branch=str(bridge.get("branch") or "main"),
        path=str(bridge.get("path") or f"clusters/{stack}").strip("/"),
        variables={str(k): str(v or "") for k, v in dict(bridge.get("variables") or {}).items()},
        identities=tuple(str(i) for i in bridge.get("identities") or ()),
        file=f"build/{stack}/bridge.json",
        cross_namespace_refs=bool(bridge.get("crossNamespaceRefs", False)),
    )
    request = VerifyRequest.from_stack(stack_bridge, stack_bridge.path, env=stack or None, repo_urls=[repo])
    try:
        with checkout(repo, None, creds) as co:
            sha = checkout_revision(co, revision)
            if not (co.root / request.env_path).is_dir():
                raise FleetUnreadable(f"path {request.env_path} not found at {sha[:12]}")
            report, applied = verify_and_apply(
                request, co.root, engine=find_engine(), disposable=True, clone_urls=[co.url]
            )
            objects = [BuiltObject(a.obj, a.file) for a in applied]
    except FleetError as exc:
        raise FleetUnreadable(creds.scrub(str(exc))) from None
    return FleetObjects(sha, objects, report)
