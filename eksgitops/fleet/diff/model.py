"""What `fleet diff` reports: changes to cluster objects, per owner, and the exit code they make."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from eksgitops.fleet.findings import Report

NO_CHANGE, WILL_NOT_RECONCILE, USAGE, COULD_NOT_DIFF, CHANGES, DESTRUCTIVE = 0, 1, 2, 4, 5, 6
"""Exit codes of `fleet diff` (docs/fleet.md), beside verify's: 0, 1, 2 and 4 mean what they mean
for `fleet verify` (1: the head revision will not reconcile); 5 changes, 6 changes of which at
least one is destructive. 1 wins over 6 and 5: a head that fails to reconcile is fixed first."""

DIFF_SCHEMA = Path(__file__).parent / "diff.schema.json"
"""The JSON Schema of what `fleet diff --json` prints."""

Action = Literal["create", "update", "delete"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete")

SECRET_MASK = "(secret value)"
"""What a Secret's data or stringData value is shown as, before and after."""


@dataclass(frozen=True)
class Destructive:
    """Why a change destroys data or makes the agent fail or recreate the object."""

    kind: str
    """`namespace-deleted`, `crd-deleted`, `custom-resource-deleted`, `pvc-deleted`,
    `volume-claim-templates-deleted`, `immutable-field` or `chart-major-version`."""
    reason: str


@dataclass(frozen=True)
class FieldChange:
    """One field path of an updated object, with its value at base and at head (None: absent)."""

    path: str
    old: Any
    new: Any


@dataclass
class Change:
    """One object the merge creates, updates or deletes, and who applies it."""

    action: Action
    api_version: str
    kind: str
    namespace: str
    name: str
    owner: str
    """The Flux Kustomization or Argo CD Application (`Kind namespace/name`) that applies it;
    for a delete, the one that applied it at base."""
    cluster: str = ""
    """Empty for the cluster the agent runs in, else the Application's destination."""
    fields: list[FieldChange] = field(default_factory=list)
    pruned: bool = True
    """For a delete: whether the agent deletes it (False: left in the cluster, no longer in Git)."""
    moved_from: str | None = None
    """For an update: the owner that applied it at base, when another one does at head."""
    destructive: list[Destructive] = field(default_factory=list)

    @property
    def ident(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"

    @property
    def left(self) -> bool:
        """A delete that the agent does not carry out: the object stays in the cluster."""
        return self.action == "delete" and not self.pruned


OwnerState = Literal["added", "removed", "changed", "unchanged"]


@dataclass
class Owner:
    """A Flux Kustomization or Argo CD Application at base and head."""

    name: str
    state: OwnerState
    prune: bool
    """Whether it deletes what leaves Git (at head; at base when it is removed)."""
    note: str = ""
    """For a removed one: what happens to it and to its objects."""


@dataclass
class DiffResult:
    """The whole comparison of `path` between two commits, and the verification of the head."""

    path: str
    base: str
    head: str
    changes: list[Change]
    owners: list[Owner]
    head_report: Report
    base_errors: int = 0
    """Errors verify finds at base: the cluster may not hold everything base lists."""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "delete": 0, "left": 0, "destructive": 0}
        for change in self.changes:
            out["left" if change.left else change.action] += 1
            out["destructive"] += bool(change.destructive)
        return out

    def exit_code(self) -> int:
        if self.head_report.errors:
            return WILL_NOT_RECONCILE
        if any(c.destructive for c in self.changes):
            return DESTRUCTIVE
        return CHANGES if self.changes else NO_CHANGE

    def outcome(self) -> str:
        return {
            NO_CHANGE: "no change",
            CHANGES: "changes",
            DESTRUCTIVE: "destructive changes",
            WILL_NOT_RECONCILE: "head will not reconcile",
        }[self.exit_code()]

    def summary(self) -> str:
        c = self.counts
        what = (
            f"{c['create']} to create, {c['update']} to update, {c['delete']} to delete, "
            f"{c['left']} left in the cluster"
        )
        if c["destructive"]:
            what += f"; {c['destructive']} destructive"
        head = "; head will not reconcile" if self.head_report.errors else ""
        return f"diff: {self.path} {self.base[:7]}..{self.head[:7]}: {what}{head} ({self.seconds:.1f}s)"


def ordered(changes: list[Change]) -> list[Change]:
    """Destructive first, then creates, updates, deletes; by kind, namespace and name."""
    rank = {"create": 1, "update": 2, "delete": 3}
    return sorted(
        changes,
        key=lambda c: (not c.destructive, rank[c.action], c.left, c.kind, c.namespace, c.name, c.cluster),
    )
