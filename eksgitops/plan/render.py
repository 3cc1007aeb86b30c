"""How a plan is shown: a tree of what would be created, counts by type, and resources.json.

What AWS creates is counted apart from what only exists in Pulumi's state (components and
providers), and the resources pulumi-eks creates inside its components (synthesized by the
engine) are shown in the tree and counted, marked as pulumi-eks's.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from eksgitops.components import type_tokens as tokens
from eksgitops.plan.offline_engine import PlanResult, RecordedResource, plain
from eksgitops.terminal_text import shown

# The inputs a reviewer wants to see per type; everything else is in resources.json.
# Keys are wire (camelCase) names; a dotted key reaches into a nested object.
KEY_INPUTS: dict[str, tuple[str, ...]] = {
    tokens.VPC: ("cidrBlock", "enableDnsHostnames"),
    tokens.SUBNET: ("cidrBlock", "availabilityZone", "mapPublicIpOnLaunch"),
    tokens.NAT_GATEWAY: ("subnetId",),
    tokens.ROUTE: ("destinationCidrBlock", "gatewayId", "natGatewayId"),
    tokens.ROUTE_TABLE: ("routes",),
    tokens.LAUNCH_TEMPLATE: ("metadataOptions",),
    tokens.IAM_ROLE: ("name",),
    tokens.IAM_ROLE_POLICY_ATTACHMENT: ("policyArn",),
    tokens.IAM_ROLE_POLICY: ("name",),
    tokens.IAM_OIDC_PROVIDER: ("url", "clientIdLists"),
    tokens.KMS_KEY: ("enableKeyRotation", "description"),
    tokens.KMS_ALIAS: ("name",),
    tokens.EKS_ADDON: ("addonName", "addonVersion"),
    tokens.EKS_POD_IDENTITY_ASSOCIATION: ("namespace", "serviceAccount"),
    tokens.AWS_EKS_CLUSTER: (
        "name",
        "version",
        "vpcConfig.subnetIds",
        "vpcConfig.endpointPublicAccess",
        "vpcConfig.publicAccessCidrs",
        "accessConfig",
        "upgradePolicy.supportType",
        "deletionProtection",
    ),
    # Who gets into the cluster, and with what.
    tokens.EKS_ACCESS_ENTRY: ("principalArn", "type"),
    tokens.EKS_ACCESS_POLICY_ASSOCIATION: ("principalArn", "policyArn", "accessScope"),
    tokens.EKS_NODE_GROUP: ("nodeGroupNamePrefix", "scalingConfig", "instanceTypes", "subnetIds"),
    tokens.LOG_GROUP: ("name", "retentionInDays"),
    tokens.EKS_CLUSTER: (
        "name",
        "version",
        "authenticationMode",
        "endpointPrivateAccess",
        "endpointPublicAccess",
        "publicAccessCidrs",
        "enabledClusterLogTypes",
        "encryptionConfigKeyArn",
    ),
    # The GitOps agent (components/gitops): what it installs and where it pulls from.
    tokens.HELM_RELEASE: ("chart", "version", "namespace"),
    tokens.K8S_NAMESPACE: ("metadata.name",),
    tokens.K8S_CONFIG_MAP: ("metadata.namespace", "metadata.name", "data"),
    tokens.K8S_SECRET: ("metadata.namespace", "metadata.name", "stringData"),
    tokens.FLUX_INSTANCE: (
        "spec.distribution.version",
        "spec.components",
        "spec.sync.url",
        "spec.sync.ref",
        "spec.sync.path",
    ),
    tokens.FLUX_RECEIVER: ("spec.type", "spec.resources"),
    tokens.ARGO_APPLICATION: ("spec.source.repoURL", "spec.source.path"),
    tokens.EKS_CAPABILITY: ("type", "capabilityName"),
    tokens.KUBERNETES_PROVIDER: ("kubeconfig",),
    tokens.EKS_MANAGED_NODE_GROUP: (
        "nodeGroupName",
        "instanceTypes",
        "capacityType",
        "scalingConfig",
        "amiType",
        "subnetIds",
    ),
}
FALLBACK_INPUT_COUNT = 3


def _lookup(inputs: Mapping[str, Any], dotted: str) -> Any:
    value: Any = inputs
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _short(value: Any) -> str:
    # Never cut: a reviewer must see the whole value (a CIDR list, a policy ARN). The spaces after
    # `,` and `:` let rich wrap a long value between JSON tokens, never inside one.
    return value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "))


def key_inputs(resource: RecordedResource) -> list[tuple[str, str]]:
    """The few inputs shown beside a resource in the tree."""
    inputs = resource.plain_inputs()
    keys = KEY_INPUTS.get(resource.type)
    if keys is None:
        # Unknown types: the first few scalar inputs, so nothing is shown blind.
        keys = tuple(
            k for k, v in sorted(inputs.items()) if isinstance(v, str | int | float | bool) and k != "tags"
        )[:FALLBACK_INPUT_COUNT]
    shown = []
    for key in keys:
        value = _lookup(inputs, key)
        if value is not None and value != [] and value != {}:
            shown.append((key, _short(value)))
    return shown


def _label(resource: RecordedResource) -> Text:
    # Text, not markup: values such as "[secret]" must print as they are.
    label = Text()
    if not resource.custom:
        label.append("(component) ", style="dim")
    if resource.synthesized:
        label.append("(created by pulumi-eks) ", style="dim")
    # Names and values come from the stack file and the program: escapes are shown, not obeyed.
    label.append(shown(resource.type), style="bold")
    label.append(" ")
    label.append(shown(resource.name), style="cyan")
    if resource.protect or resource.retain_on_delete:
        kept = [
            flag
            for flag, on in (("protected", resource.protect), ("kept on delete", resource.retain_on_delete))
            if on
        ]
        label.append(f" ({', '.join(kept)})", style="yellow")
    for key, value in key_inputs(resource):
        label.append("\n")
        label.append(f"{shown(key)}=", style="dim")
        label.append(shown(value))
    return label


def build_tree(result: PlanResult, title: str) -> Tree:
    """Resources nested under their parents, in URN order."""
    tree = Tree(Text(title, style="bold"))
    nodes: dict[str, Tree] = {}
    known = {r.urn for r in result.resources}
    pending = list(result.resources)
    # Parents are registered before children, but records are sorted by URN: attach in
    # passes until every resource found its parent (or hangs off the root).
    while pending:
        remaining = []
        for resource in pending:
            if resource.parent in nodes:
                nodes[resource.urn] = nodes[resource.parent].add(_label(resource))
            elif resource.parent not in known:
                nodes[resource.urn] = tree.add(_label(resource))
            else:
                remaining.append(resource)
        if len(remaining) == len(pending):  # a cycle cannot happen, but never spin
            for resource in remaining:
                nodes[resource.urn] = tree.add(_label(resource))
            break
        pending = remaining
    return tree


PROVIDER_TYPE_PREFIX = "pulumi:providers:"


def kind_of(resource: RecordedResource) -> str:
    """`aws` for what the cloud creates, `kubernetes` for objects and Helm releases in the
    cluster, `component` or `provider` for what only Pulumi keeps."""
    if not resource.custom:
        return "component"
    if resource.type.startswith(PROVIDER_TYPE_PREFIX):
        return "provider"
    if resource.type.startswith("kubernetes:"):
        return "kubernetes"
    return "aws"


def counts(resources: Iterable[RecordedResource]) -> dict[str, int]:
    """How many AWS resources (synthesized ones included), Kubernetes objects, components and providers."""
    found = Counter(kind_of(r) for r in resources)
    return {kind: found.get(kind, 0) for kind in ("aws", "kubernetes", "component", "provider")}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def count_table(resources: Iterable[RecordedResource]) -> Table:
    """AWS resources by type with their total; components and providers counted apart."""
    resources = list(resources)
    aws_types = Counter(r.type for r in resources if kind_of(r) == "aws")
    inside = Counter(r.type for r in resources if r.synthesized)
    total = counts(resources)
    table = Table(title="AWS resources by type", show_footer=True)
    # fold: a narrow terminal wraps a long type onto the next line instead of cutting it with "…".
    table.add_column("type", footer="total AWS resources", overflow="fold")
    table.add_column("count", justify="right", footer=str(total["aws"]))
    for type_, n in sorted(aws_types.items()):
        label = f"{type_} (created by pulumi-eks)" if inside.get(type_) == n else type_
        table.add_row(label, str(n))
    table.caption = (
        f"plus {_plural(total['kubernetes'], 'Kubernetes object')} in the cluster (Helm releases included), "
        f"and {_plural(total['component'], 'component')} and {_plural(total['provider'], 'provider')}, "
        "which exist in Pulumi's state only"
    )
    return table


def shown_outputs(result: PlanResult) -> dict[str, Any]:
    """Stack outputs as they may be shown or written: secret ones masked whole."""
    return {
        key: "[secret]" if key in result.secret_outputs else plain(value)
        for key, value in sorted(result.outputs.items())
    }


def outputs_table(result: PlanResult) -> Table:
    table = Table(title="Stack outputs")
    table.add_column("output", overflow="fold")
    table.add_column("value", overflow="fold")
    for key, value in shown_outputs(result).items():
        table.add_row(Text(shown(key)), Text(shown(_short(value))))
    return table


def write_resources_json(result: PlanResult, path: Path, *, project: str, stack: str) -> None:
    """Every resource with urn, type, name, parent and inputs; secrets as "[secret]"."""
    document = {
        "project": project,
        "stack": stack,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "custom": r.custom,
                "remote": r.remote,
                "synthesized": r.synthesized,
                "delete_before_replace": r.delete_before_replace,
                "ignore_changes": list(r.ignore_changes),
                "dependencies": sorted(r.dependencies),
                "protect": r.protect,
                "retainOnDelete": r.retain_on_delete,
                "inputs": r.plain_inputs(),
            }
            for r in result.resources
        ],
        "counts": counts(result.resources),
        "outputs": shown_outputs(result),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def print_plan(result: PlanResult, console: Console, *, stack: str) -> None:
    console.print(build_tree(result, f"Plan for stack {stack} (offline: no cloud calls)"))
    console.print(count_table(result.resources))
    console.print(outputs_table(result))
