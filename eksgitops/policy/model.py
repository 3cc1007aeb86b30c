"""What the rules look at and what they say: resources, findings, rules, and the graph index.

A rule sees resources as the engine would register them (type token, name, parent, inputs
with camelCase wire names), whether they come from the offline plan's recording monitor or
from CrossGuard under `pulumi preview`. Inputs are plain values: a secret reads "[secret]"
in the plan (CrossGuard hands secrets over in clear), a value only known after apply reads
"(known after apply…)".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

UNKNOWN_PREFIX = "(known after apply"
SECRET = "[secret]"

Scope = Literal["resource", "stack"]


@dataclass(frozen=True)
class Resource:
    """One registered resource, in the form every rule reads."""

    urn: str
    type: str
    name: str
    parent: str = ""
    """URN of the parent ("" for the stack or unknown)."""
    props: Mapping[str, Any] = field(default_factory=dict)
    """Inputs, plain (see the module docstring)."""
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Per input, the URNs its value depends on."""
    synthesized: bool = False
    """Made by the offline plan to show what a remote component creates inside itself."""
    transforms: int | None = None
    """How many transforms the program attached (they rewrite children the rules may not see);
    None when the source does not say (CrossGuard)."""


@dataclass(frozen=True)
class Finding:
    """One thing a rule found wrong with one resource (or the stack, urn "")."""

    rule: str
    urn: str
    resource: str
    """The resource's name, as the plan shows it."""
    message: str
    advisory: bool = False
    """Printed but never fails the plan (e.g. a value that cannot be judged before apply)."""


@dataclass(frozen=True)
class Rule:
    """A guardrail: one line of the security checklist (docs/policy.md)."""

    id: str
    title: str
    source: str
    check: Callable[[Graph], Iterable[Finding]]
    scope: Scope = "stack"
    """`resource`: judges each resource alone (CrossGuard runs it per resource, before the
    resource is created); `stack`: needs several resources together."""
    crossguard: bool = True
    """False when CrossGuard cannot judge it (it hands secrets over in clear)."""
    applies_to: tuple[str, ...] = ()
    """Type tokens (or `prefix*`) the rule reads; none present means "not applicable"."""
    subjects: Callable[[Graph], list[Resource]] | None = None
    """The resources the rule judges, when the types alone say too little (a Helm release that
    is not Argo CD's); default: every resource of the `applies_to` types."""

    def judged(self, graph: Graph) -> list[Resource]:
        if self.subjects is not None:
            return self.subjects(graph)
        return [r for r in graph.resources if matches_type(r.type, self.applies_to)]

    def judge(self, graph: Graph) -> list[Finding]:
        """The rule's findings; a rule that fails on the plan fails it (closed), never passes it."""
        try:
            return list(self.check(graph))
        except Exception as exc:
            return [
                Finding(
                    self.id,
                    "",
                    "(stack)",
                    f"the rule could not judge this plan ({type(exc).__name__}: {exc})",
                )
            ]


class Graph:
    """The resources of one stack with the lookups the rules need."""

    def __init__(self, resources: Iterable[Resource]):
        self.resources: list[Resource] = list(resources)
        self.by_urn: dict[str, Resource] = {r.urn: r for r in self.resources}
        self.children: dict[str, list[Resource]] = {}
        for r in self.resources:
            self.children.setdefault(r.parent, []).append(r)

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if matches_type(r.type, types)]

    def has_type(self, *types: str) -> bool:
        return any(matches_type(r.type, types) for r in self.resources)

    def descendants(self, urn: str) -> Iterator[Resource]:
        for child in self.children.get(urn, []):
            yield child
            yield from self.descendants(child.urn)

    def sources(self, resource: Resource, prop: str) -> list[Resource]:
        """The resources the value of `prop` came from (property dependencies)."""
        return [self.by_urn[u] for u in resource.property_dependencies.get(prop, ()) if u in self.by_urn]

    def effective(self, component_type: str, raw_type: str) -> list[Resource]:
        """The raw resources of `raw_type`, plus every `component_type` (a remote component that
        creates one) whose raw child is not visible: its own inputs stand in for the child."""
        raw = self.of_type(raw_type)
        shown = [
            c
            for c in self.of_type(component_type)
            if not any(d.type == raw_type for d in self.descendants(c.urn))
        ]
        return raw + shown


def matches_type(type_: str, patterns: Iterable[str]) -> bool:
    return any(type_ == p or (p.endswith("*") and type_.startswith(p[:-1])) for p in patterns)


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(UNKNOWN_PREFIX)


def get(props: Mapping[str, Any], dotted: str, default: Any = None) -> Any:
    """`props["a"]["b"]` for "a.b", or `default` when any step is missing."""
    value: Any = props
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return default
        value = value[part]
    return default if value is None else value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


class UnknownDocument(Exception):
    """A policy document that is not known before apply (or not valid JSON)."""


def document(value: Any) -> dict[str, Any]:
    """An IAM policy document from an input (JSON text or an object)."""
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str) or is_unknown(value) or value == SECRET:
        raise UnknownDocument("not known before apply")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise UnknownDocument(f"not JSON ({exc.msg})") from None
    if not isinstance(parsed, dict):
        raise UnknownDocument("not a JSON object")
    return parsed


def statements(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, dict)]


def finding(rule: str, resource: Resource | None, message: str, advisory: bool = False) -> Finding:
    if resource is None:
        return Finding(rule, "", "(stack)", message, advisory)
    return Finding(rule, resource.urn, resource.name, message, advisory)
