"""Base against head: every object the walk applies at each, matched by cluster, API group, kind,
namespace and name (an object that moves to another Kustomization is updated, not recreated)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eksgitops.fleet.diff import destructive, prune
from eksgitops.fleet.diff.fields import changed_fields
from eksgitops.fleet.diff.model import Change, Destructive, FieldChange, Owner
from eksgitops.fleet.schema import ident
from eksgitops.fleet.verify.model import Applied, as_dict, meta

ObjectKey = tuple[str, str, str, str, str]
"""(cluster, API group, kind, namespace, name)."""


def object_key(item: Applied) -> ObjectKey:
    group, kind = destructive.group_kind(item.obj)
    m = meta(item.obj)
    return (item.cluster, group, kind, str(m.get("namespace") or ""), str(m.get("name") or ""))


@dataclass
class Side:
    """One revision's objects: by key, and the owners (Kustomizations, Applications) by name."""

    items: dict[ObjectKey, Applied]
    owners: dict[str, dict[str, Any]]
    parent: dict[str, str]
    """owner -> the owner that applies it."""
    applying: set[str]
    """Every owner that applies at least one object, and every owner object the walk met."""

    @classmethod
    def of(cls, applied: Sequence[Applied]) -> Side:
        items: dict[ObjectKey, Applied] = {}
        owners: dict[str, dict[str, Any]] = {}
        parent: dict[str, str] = {}
        for item in applied:
            items.setdefault(object_key(item), item)  # the first owner wins, as the walk reaches it
            if _is_owner(item.obj):
                name = ident(item.obj)
                owners.setdefault(name, item.obj)
                parent.setdefault(name, item.owner)
        return cls(items, owners, parent, {a.owner for a in applied} | set(owners))


def _is_owner(obj: dict[str, Any]) -> bool:
    api = str(obj.get("apiVersion") or "")
    return (obj.get("kind") == "Kustomization" and api.startswith("kustomize.toolkit.fluxcd.io/")) or (
        obj.get("kind") == "Application" and api.startswith("argoproj.io/")
    )


def _agent(owner: dict[str, Any] | None, default: str) -> str:
    if owner is None:
        return default
    return "Flux" if prune.is_flux(owner) else "Argo CD"


def stalled_owners(
    base_applied: Sequence[Applied], head_applied: Sequence[Applied], head_lines: Sequence[str]
) -> set[str]:
    """Owners that applied objects at base and apply none at head because they fail there (or are
    suspended, or their source is not built): the agent then applies nothing and prunes nothing
    for them. Told by the head's errors and not-checked lines, which name the owner."""
    before = {a.owner for a in base_applied}
    after = {a.owner for a in head_applied}
    present = after | {ident(a.obj) for a in head_applied if _is_owner(a.obj)}
    if not head_applied and head_lines:
        return before  # nothing at all builds at head (its path is gone, the root fails)
    return {
        owner
        for owner in before - after
        if (owner in present or owner not in Side.of(base_applied).owners)
        and any(f"{owner}:" in line or f"{owner} " in line for line in head_lines)
    }


def compare(
    base_applied: Sequence[Applied],
    head_applied: Sequence[Applied],
    agent: str,
    stalled: frozenset[str] = frozenset(),
) -> tuple[list[Change], list[Owner]]:
    """The changes from base to head and the owners at either; `agent` names the root's agent.
    `stalled`: owners that apply nothing at head because they fail there (`stalled_owners`):
    what they applied stays as it is."""
    base, head = Side.of(base_applied), Side.of(head_applied)
    root_agent = "Argo CD" if agent == "argocd" else "Flux"
    changes: list[Change] = []
    for k, new in head.items.items():
        old = base.items.get(k)
        if old is None:
            changes.append(_change("create", new))
            continue
        secret = (k[1], k[2]) == ("", "Secret")
        fields, more = changed_fields(old.obj, new.obj, secret=secret)
        if more:
            fields.append(FieldChange(f"({more} more changed fields not listed)", None, None))
        moved = old.owner if old.owner != new.owner else None
        if not fields and moved is None:
            continue
        owner = head.owners.get(new.owner)
        change = _change("update", new, fields=fields, moved_from=moved)
        change.destructive = destructive.on_update(
            old.obj, new.obj, prune.force(owner), _agent(owner, root_agent)
        )
        changes.append(change)
    base_objects = [a.obj for a in base.items.values()]
    gone = _deleted_crds(base, head, stalled)
    for k, old in base.items.items():
        if old.owner in stalled and k not in head.items:
            continue
        crd = gone.get(k[1:3])
        if k in head.items:
            if crd is not None:
                changes.append(_custom_resource(old, crd))
            continue
        if crd is not None:
            changes.append(_custom_resource(old, crd))
            continue
        pruned = _pruned(old, base, head)
        change = _change("delete", old, pruned=pruned)
        if pruned:
            change.destructive = destructive.on_delete(old.obj, base_objects)
        changes.append(change)
    return changes, _owners(base, head)


def _change(action: str, item: Applied, **extra: Any) -> Change:
    m = meta(item.obj)
    return Change(
        action,  # type: ignore[arg-type]
        str(item.obj.get("apiVersion") or ""),
        str(item.obj.get("kind") or ""),
        str(m.get("namespace") or ""),
        str(m.get("name") or ""),
        item.owner,
        cluster=item.cluster,
        **extra,
    )


def _pruned(old: Applied, base: Side, head: Side) -> bool:
    """Whether the agent deletes `old`, which left Git."""
    if old.owner in head.applying or old.owner not in base.owners:
        # Still there (the agent's own root, which applies nothing else, always is).
        owner = head.owners.get(old.owner)
        return prune.prunes(owner) and not prune.kept_on_prune(old.obj, owner)
    # Its owner is gone too: the object goes only when the owner is deleted, and takes it along.
    owner = base.owners.get(old.owner)
    if owner is None:
        return False
    return (
        _owner_deleted(old.owner, base, head)
        and prune.deletes_when_deleted(owner)
        and not prune.kept_on_delete(old.obj, owner)
    )


def _owner_deleted(name: str, base: Side, head: Side, depth: int = 0) -> bool:
    """Whether the owner `name`, absent at head, is deleted from the cluster."""
    if name in head.applying:
        return False
    parent = base.parent.get(name)
    obj = base.owners.get(name)
    if parent is None or obj is None or depth > 64:
        return False
    if parent in head.applying or parent not in base.owners:
        parent_obj = head.owners.get(parent)
        return prune.prunes(parent_obj) and not prune.kept_on_prune(obj, parent_obj)
    parent_obj = base.owners.get(parent)
    return (
        parent_obj is not None
        and _owner_deleted(parent, base, head, depth + 1)
        and prune.deletes_when_deleted(parent_obj)
        and not prune.kept_on_delete(obj, parent_obj)
    )


def _deleted_crds(base: Side, head: Side, stalled: frozenset[str]) -> dict[tuple[str, str], str]:
    """(group, kind) -> name of every CustomResourceDefinition the agent deletes."""
    out: dict[tuple[str, str], str] = {}
    for k, item in base.items.items():
        if k[1:3] != ("apiextensions.k8s.io", "CustomResourceDefinition") or k in head.items:
            continue
        if item.owner in stalled:
            continue
        if _pruned(item, base, head):
            spec = as_dict(item.obj.get("spec"))
            out[(str(spec.get("group") or ""), str(as_dict(spec.get("names")).get("kind") or ""))] = k[4]
    return out


def _custom_resource(item: Applied, crd: str) -> Change:
    """A custom resource whose CRD is deleted: the API server deletes it, whatever Git says."""
    change = _change("delete", item)
    change.destructive = [
        Destructive(
            "custom-resource-deleted",
            f"its CustomResourceDefinition {crd} is deleted, and the API server deletes every "
            "custom resource of it (even one still in Git, until the CRD is back)",
        )
    ]
    return change


def _owners(base: Side, head: Side) -> list[Owner]:
    out: list[Owner] = []
    for name in sorted(set(base.owners) | set(head.owners)):
        old, new = base.owners.get(name), head.owners.get(name)
        if new is not None:
            state = "added" if old is None else "unchanged" if old == new else "changed"
            out.append(Owner(name, state, prune.prunes(new)))
            continue
        assert old is not None
        if _owner_deleted(name, base, head):
            takes = "deletes" if prune.deletes_when_deleted(old) else "leaves"
            note = f"deleted by {base.parent.get(name)}; it {takes} the objects it applied"
        else:
            note = (
                f"no longer in Git, but {base.parent.get(name)} does not prune it: it stays in the "
                "cluster and keeps applying what it applied"
            )
        out.append(Owner(name, "removed", prune.prunes(old), note))
    return out
