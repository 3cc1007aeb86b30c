"""A recording fake of `eksgitops.dr.pulumi_workspace.PulumiWorkspace`, with a backend that
outlives one workspace (so a command run again sees what the first run left).

`SimBackend` holds the stacks: config, resources (URN -> op), outputs, pending operations
and the update lease. `SimWorkspace(backend, clock)` is one command's workspace; every call
is recorded in `backend.calls` as (verb, stack, detail).

Injectable failures (set on the backend, consumed as they fire):
- `fail_up_after`: `up` creates that many resources, leaves the next one as a pending
  create in the state, and fails (a rebuild that stopped half way: crash or quota);
- `pending_blocks_up`: while pending creates are in the state, `up` refuses (as the
  engine does for an interrupted update) until `refresh(clear_pending_creates=True)`;
- `lease_held_by`: another update holds the stack: `up`/`refresh`/`destroy` raise
  ConcurrentUpdate until `cancel()` (or `release_lease_after` failed attempts).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eksgitops.dr.pulumi_workspace import ConcurrentUpdate, ResourceEvent, StackNotFound, WorkspaceError

OnEvent = Callable[[ResourceEvent], None]


@dataclass
class SimStack:
    name: str
    config: dict[str, str] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    """Keys removed from the copied config (path syntax)."""
    copied_from: str | None = None
    resources: dict[str, str] = field(default_factory=dict)
    """URN -> type, for each resource in the state."""
    protected: set[str] = field(default_factory=set)
    pending: list[tuple[str, str]] = field(default_factory=list)
    """(type, urn) of pending operations, e.g. ("creating", urn)."""
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class SimBackend:
    """The state backend: stacks by name, the resources each `up` creates, the faults."""

    program: list[tuple[str, str]] = field(default_factory=list)
    """(type, name) of the resources `up` creates, in order."""
    protected: set[str] = field(default_factory=set)
    """Names of protected (durable) resources, kept by destroy(keep_protected=True)."""
    outputs: Callable[[str], dict[str, Any]] = lambda stack: {}
    """The outputs a completed `up` of this stack leaves."""
    stacks: dict[str, SimStack] = field(default_factory=dict)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    fail_up_after: int | None = None
    pending_blocks_up: bool = True
    lease_held_by: str | None = None
    release_lease_after: int | None = None
    seconds_per_resource: float = 30.0
    on_up: Callable[[str], None] = lambda stack: None
    """Run when an `up` of the stack completes (SimWorld makes its AWS side in moto)."""
    on_destroy: Callable[[str], None] = lambda stack: None

    def verbs(self, stack: str | None = None) -> list[str]:
        return [verb for verb, name, _ in self.calls if stack is None or name == stack]

    def urn(self, stack: str, type_: str, name: str) -> str:
        return f"urn:pulumi:{stack}::eksgitops::{type_}::{name}"


class SimWorkspace:
    """One command's workspace on a `SimBackend`; `clock` (with `.now`) advances per resource."""

    def __init__(self, backend: SimBackend, clock: Any = None, env: Mapping[str, str] | None = None):
        self.backend = backend
        self.clock = clock
        self.env = dict(env or {})
        self._stack: SimStack | None = None

    # --- PulumiWorkspace ------------------------------------------------------------------
    def select(
        self,
        stack: str,
        *,
        create: bool = True,
        copy_config_from: str | None = None,
        config: Mapping[str, str | None] | None = None,
    ) -> None:
        b = self.backend
        b.calls.append(("select", stack, {"create": create, "copy_config_from": copy_config_from}))
        if stack not in b.stacks:
            if not create:
                raise StackNotFound(f"stack {stack} does not exist in the state backend")
            b.stacks[stack] = SimStack(stack)
        selected = b.stacks[stack]
        if copy_config_from:
            selected.copied_from = copy_config_from
        for key, value in (config or {}).items():
            if value is None:
                selected.config.pop(key, None)
                selected.removed.add(key)
            else:
                selected.config[key] = value
        self._stack = selected

    def up(self, on_event: OnEvent, *, targets: Sequence[str] | None = None) -> None:
        stack = self._selected("up", {"targets": list(targets)} if targets else None)
        b = self.backend
        self._lease()
        creating = [p for p in stack.pending if p[0] == "creating"]
        if creating and b.pending_blocks_up:
            raise WorkspaceError(
                f"error: the current deployment has {len(creating)} resource(s) with pending operations"
            )
        for i, (type_, name) in enumerate(b.program):
            urn = b.urn(stack.name, type_, name)
            if targets and urn not in targets:
                continue
            existed = urn in stack.resources
            on_event(ResourceEvent("same" if existed else "create", urn, type_, False))
            if b.fail_up_after is not None and i == b.fail_up_after:
                b.fail_up_after = None  # the fault fires once
                stack.pending.append(("creating", urn))
                on_event(ResourceEvent("failed", urn, type_, True))
                raise WorkspaceError(f"error: creating {name}: operation error EKS: CreateCluster, timeout")
            if self.clock is not None and not existed:
                self.clock.now += b.seconds_per_resource
            stack.resources[urn] = type_
            if name in b.protected:
                stack.protected.add(urn)
            on_event(ResourceEvent("same" if existed else "create", urn, type_, True))
        b.on_up(stack.name)
        stack.outputs = dict(b.outputs(stack.name))

    def destroy(self, on_event: OnEvent, *, keep_protected: bool = True) -> None:
        stack = self._selected("destroy", {"keep_protected": keep_protected})
        self._lease()
        for urn, type_ in reversed(list(stack.resources.items())):
            if keep_protected and urn in stack.protected:
                continue
            del stack.resources[urn]
            on_event(ResourceEvent("delete", urn, type_, True))
        self.backend.on_destroy(stack.name)
        stack.outputs = {}

    def outputs(self) -> dict[str, Any]:
        return dict(self._selected("outputs", None).outputs)

    def pending_operations(self) -> list[str]:
        return [f"{kind} {urn}" for kind, urn in self._selected("pending_operations", None).pending]

    def refresh(self, on_event: OnEvent, *, clear_pending_creates: bool = False) -> None:
        stack = self._selected("refresh", {"clear_pending_creates": clear_pending_creates})
        self._lease()
        if clear_pending_creates:
            stack.pending = [p for p in stack.pending if p[0] != "creating"]
        for urn, type_ in stack.resources.items():
            on_event(ResourceEvent("same", urn, type_, True))

    def cancel(self) -> None:
        self._selected("cancel", None)
        self.backend.lease_held_by = None

    # --- helpers ---------------------------------------------------------------------------
    def _selected(self, verb: str, detail: Any) -> SimStack:
        if self._stack is None:
            raise WorkspaceError("no stack selected")
        self.backend.calls.append((verb, self._stack.name, detail))
        return self._stack

    def _lease(self) -> None:
        b = self.backend
        if b.lease_held_by is None:
            return
        if b.release_lease_after is not None:
            b.release_lease_after -= 1
            if b.release_lease_after < 0:
                b.lease_held_by = b.release_lease_after = None
                return
        raise ConcurrentUpdate(
            f"error: [409] Conflict: Another update is currently in progress ({b.lease_held_by})"
        )
