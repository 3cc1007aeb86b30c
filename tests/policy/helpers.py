"""Crafting violations: the planned resources with one input changed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any

from eksgitops.plan.offline_engine import PlanResult
from eksgitops.policy.evaluate import evaluate, from_recorded
from eksgitops.policy.model import Resource


def resources(plan: PlanResult) -> list[Resource]:
    return from_recorded(plan.resources)


def change(
    items: Sequence[Resource], match: Callable[[Resource], bool], edit: Callable[[dict[str, Any]], None]
) -> list[Resource]:
    """A copy of `items` where every resource `match` selects has its props edited."""
    out = []
    hits = 0
    for r in items:
        if match(r):
            props = json.loads(json.dumps(r.props))
            edit(props)
            r = dataclasses.replace(r, props=props)
            hits += 1
        out.append(r)
    assert hits, "the edit matched no resource: the test would check nothing"
    return out


def of_type(type_: str) -> Callable[[Resource], bool]:
    return lambda r: r.type == type_


def statuses(items: Sequence[Resource], waivers: Sequence[Any] = ()) -> dict[str, str]:
    return {r.rule.id: r.status for r in evaluate(items, waivers).results}


def messages(items: Sequence[Resource], rule: str) -> list[str]:
    report = evaluate(items)
    return [f.message for r in report.results if r.rule.id == rule for f in r.violations]


CLUSTER = "eks:index:Cluster"
RAW_CLUSTER = "aws:eks/cluster:Cluster"
MANAGED_NODE_GROUP = "eks:index:ManagedNodeGroup"
RAW_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
# Where a pulumi-eks component input lands on the aws:eks/cluster:Cluster it creates.
RAW_CLUSTER_PATHS = {
    "publicAccessCidrs": "vpcConfig.publicAccessCidrs",
    "endpointPrivateAccess": "vpcConfig.endpointPrivateAccess",
    "endpointPublicAccess": "vpcConfig.endpointPublicAccess",
    "enabledClusterLogTypes": "enabledClusterLogTypes",
    "version": "version",
    "authenticationMode": "accessConfig.authenticationMode",
    "encryptionConfigKeyArn": "encryptionConfig.provider.keyArn",
}
DROP = object()
"""As a value: remove the input."""


def _put(props: dict[str, Any], dotted: str, value: Any) -> None:
    *path, last = dotted.split(".")
    for part in path:
        props = props.setdefault(part, {})
    if value is DROP:
        props.pop(last, None)
    else:
        props[last] = value


def edit_cluster(items: Sequence[Resource], **changes: Any) -> list[Resource]:
    """Change the cluster inputs as the rules see them: on the aws:eks/cluster:Cluster pulumi-eks
    creates when the plan shows it, and on the eks:index:Cluster component (the fallback)."""

    def component(props: dict[str, Any]) -> None:
        for key, value in changes.items():
            _put(props, key, value)

    def raw(props: dict[str, Any]) -> None:
        for key, value in changes.items():
            if key == "encryptionConfigKeyArn" and value is DROP:
                props.pop("encryptionConfig", None)
            else:
                _put(props, RAW_CLUSTER_PATHS[key], value)

    out = change(items, of_type(CLUSTER), component)
    if any(r.type == RAW_CLUSTER for r in out):
        out = change(out, of_type(RAW_CLUSTER), raw)
    return out


def edit_node_groups(items: Sequence[Resource], **changes: Any) -> list[Resource]:
    """The same input on the node groups pulumi-eks creates and on its component."""

    def edit(props: dict[str, Any]) -> None:
        for key, value in changes.items():
            _put(props, key, value)

    out = change(items, of_type(MANAGED_NODE_GROUP), edit)
    if any(r.type == RAW_NODE_GROUP for r in out):
        out = change(out, of_type(RAW_NODE_GROUP), edit)
    return out


def cluster_name(items: Sequence[Resource]) -> str:
    """The name the control-plane findings carry: the raw cluster's when shown, else the component's."""
    raw = [r.name for r in items if r.type == RAW_CLUSTER]
    return raw[0] if raw else next(r.name for r in items if r.type == CLUSTER)
