"""Node rules: NODE-IMDSV2, NODE-NO-SSH, NODE-IAM, NODE-PRIVATE.

Node groups are read from the `aws:eks/nodeGroup:NodeGroup` pulumi-eks creates when it is
visible, else from the `eks:index:ManagedNodeGroup` component's inputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from components import type_tokens as tokens
from eksgitops.policy.model import (
    Finding,
    Graph,
    Resource,
    UnknownDocument,
    as_list,
    document,
    finding,
    is_unknown,
    statements,
)

AWS_POLICY = "arn:aws:iam::aws:policy/"
# CIS EKS 5.1.3: these three for managed node groups; EKS Auto Mode nodes take the two narrower
# ones AWS documents for them (AmazonEKSWorkerNodeMinimalPolicy, AmazonEC2ContainerRegistryPullOnly).
NODE_POLICIES = frozenset(
    AWS_POLICY + p
    for p in (
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEKSWorkerNodeMinimalPolicy",
        "AmazonEC2ContainerRegistryPullOnly",
    )
)


def node_groups(graph: Graph) -> list[Resource]:
    return graph.effective(tokens.EKS_MANAGED_NODE_GROUP, tokens.EKS_NODE_GROUP)


def _sources(graph: Graph, resource: Resource, prop: str) -> list[Resource]:
    """Where `prop` came from; for a synthesized child, what its component's input came from."""
    found = graph.sources(resource, prop)
    if not found and resource.parent in graph.by_urn:
        found = graph.sources(graph.by_urn[resource.parent], prop)
    return found


# --- NODE-IMDSV2 ----------------------------------------------------------------------


def check_imdsv2(graph: Graph) -> Iterator[Finding]:
    for template in graph.of_type(tokens.LAUNCH_TEMPLATE):
        options = template.props.get("metadataOptions")
        options = options if isinstance(options, Mapping) else {}
        if options.get("httpEndpoint") == "disabled":
            continue  # no IMDS at all
        if options.get("httpTokens") != "required":
            yield finding(
                "NODE-IMDSV2", template, "IMDSv1 is allowed (metadataOptions.httpTokens is not required)"
            )
        hops = options.get("httpPutResponseHopLimit")
        if hops is None:
            yield finding(
                "NODE-IMDSV2",
                template,
                "IMDS hop limit unset: the AMI's default applies, which may let pods reach the node role",
            )
        elif not is_unknown(hops) and hops != 1:
            yield finding(
                "NODE-IMDSV2",
                template,
                f"IMDS hop limit {hops} lets pods reach the node role's credentials "
                "(waive with a reason if pods need IMDS)",
            )
    for group in node_groups(graph):
        if not group.props.get("launchTemplate"):
            yield finding(
                "NODE-IMDSV2",
                group,
                "no launch template of the stack's own: IMDS settings are EKS's "
                "defaults, which do not require IMDSv2",
            )


# --- NODE-NO-SSH ----------------------------------------------------------------------


def check_no_ssh(graph: Graph) -> Iterator[Finding]:
    for group in node_groups(graph):
        if group.props.get("remoteAccess"):
            yield finding("NODE-NO-SSH", group, "remote (SSH) access is configured; use SSM instead")
    for template in graph.of_type(tokens.LAUNCH_TEMPLATE):
        if template.props.get("keyName"):
            yield finding(
                "NODE-NO-SSH", template, "launch template sets an EC2 key pair (SSH); use SSM instead"
            )


# --- NODE-IAM -------------------------------------------------------------------------


def trusts_service(role: Resource, service: str) -> bool:
    try:
        doc = document(role.props.get("assumeRolePolicy"))
    except UnknownDocument:
        return False
    for s in statements(doc):
        principal = s.get("Principal")
        services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if s.get("Effect", "Allow") == "Allow" and service in services:
            return True
    return False


def roles_by_reference(graph: Graph, resource: Resource, prop: str) -> list[Resource]:
    """Roles a property names: by dependency, by the URN a reference became, or by ARN/name."""
    found = [r for r in _sources(graph, resource, prop) if r.type == tokens.IAM_ROLE]
    if found:
        return found
    value = resource.props.get(prop)
    roles = graph.of_type(tokens.IAM_ROLE)
    if isinstance(value, str):
        for role in roles:
            name = role.props.get("name")
            if value == role.urn or (
                isinstance(name, str) and (value == name or value.endswith(f":role/{name}"))
            ):
                found.append(role)
    return found


def node_roles(graph: Graph) -> list[Resource]:
    roles: dict[str, Resource] = {}
    for group in node_groups(graph):
        for prop in ("nodeRole", "nodeRoleArn"):
            for role in roles_by_reference(graph, group, prop):
                roles[role.urn] = role
    for role in graph.of_type(tokens.IAM_ROLE):
        if trusts_service(role, "ec2.amazonaws.com"):
            roles[role.urn] = role
    return list(roles.values())


def attached_to(graph: Graph, role: Resource, type_: str) -> list[Resource]:
    return [a for a in graph.of_type(type_) if role in roles_by_reference(graph, a, "role")]


def check_node_iam(graph: Graph) -> Iterator[Finding]:
    for role in node_roles(graph):
        for attachment in attached_to(graph, role, tokens.IAM_ROLE_POLICY_ATTACHMENT):
            arn = attachment.props.get("policyArn")
            if not isinstance(arn, str) or arn not in NODE_POLICIES:
                yield finding(
                    "NODE-IAM",
                    attachment,
                    f"node role {role.props.get('name') or role.name} carries {arn}; nodes get only "
                    "AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy, AmazonEC2ContainerRegistryReadOnly",
                )
        for inline in attached_to(graph, role, tokens.IAM_ROLE_POLICY):
            yield finding(
                "NODE-IAM", inline, f"node role {role.props.get('name') or role.name} has an inline policy"
            )
        for arn in as_list(role.props.get("managedPolicyArns")):
            if not isinstance(arn, str) or arn not in NODE_POLICIES:
                yield finding("NODE-IAM", role, f"node role carries {arn} (managedPolicyArns)")
        if as_list(role.props.get("inlinePolicies")):
            yield finding("NODE-IAM", role, "node role has inline policies (inlinePolicies)")


# --- NODE-PRIVATE ---------------------------------------------------------------------


def _routes_to_internet(graph: Graph, table: Resource) -> bool:
    inline = [r for r in as_list(table.props.get("routes")) if isinstance(r, dict)]
    routes = [r.props for r in graph.of_type(tokens.ROUTE) if table in graph.sources(r, "routeTableId")]
    for route in [*inline, *routes]:
        gateway = route.get("gatewayId")
        if isinstance(gateway, str) and gateway.startswith("igw-"):
            return True
    for route in graph.of_type(tokens.ROUTE):
        if table in graph.sources(route, "routeTableId") and any(
            g.type == tokens.INTERNET_GATEWAY for g in graph.sources(route, "gatewayId")
        ):
            return True
    return False


def public_subnet_reason(graph: Graph, subnet: Resource) -> str | None:
    if subnet.props.get("mapPublicIpOnLaunch") is True:
        return "gives instances public IPs (mapPublicIpOnLaunch)"
    for association in graph.of_type(tokens.ROUTE_TABLE_ASSOCIATION):
        if subnet not in graph.sources(association, "subnetId"):
            continue
        for table in graph.sources(association, "routeTableId"):
            if table.type == tokens.ROUTE_TABLE and _routes_to_internet(graph, table):
                return "routes to an internet gateway"
    return None


def check_private(graph: Graph) -> Iterator[Finding]:
    public_ids = {
        sid
        for c in graph.of_type(tokens.EKS_CLUSTER)
        for sid in as_list(c.props.get("publicSubnetIds"))
        if isinstance(sid, str) and not is_unknown(sid)
    }
    for group in node_groups(graph):
        subnets = [s for s in _sources(graph, group, "subnetIds") if s.type == tokens.SUBNET]
        for subnet in subnets:
            reason = public_subnet_reason(graph, subnet)
            if reason:
                yield finding("NODE-PRIVATE", group, f"node subnet {subnet.name} is public: it {reason}")
        for sid in as_list(group.props.get("subnetIds")):
            if isinstance(sid, str) and sid in public_ids:
                yield finding(
                    "NODE-PRIVATE", group, f"node subnet {sid} is one of the cluster's public subnets"
                )
        given = [s for s in as_list(group.props.get("subnetIds")) if isinstance(s, str) and not is_unknown(s)]
        if not subnets and not given and not as_list(group.props.get("subnetIds")):
            yield finding(
                "NODE-PRIVATE",
                group,
                "no subnets given: EKS would take the cluster's subnets, public ones included",
            )
        elif not subnets and given and not public_ids.intersection(given):
            yield finding(
                "NODE-PRIVATE",
                group,
                f"subnets {', '.join(given)} are not created by this stack: whether they are private "
                "cannot be seen here",
                advisory=True,
            )
    for template in graph.of_type(tokens.LAUNCH_TEMPLATE):
        for nic in as_list(template.props.get("networkInterfaces")):
            if isinstance(nic, dict) and str(nic.get("associatePublicIpAddress")).lower() == "true":
                yield finding("NODE-PRIVATE", template, "launch template gives nodes public IP addresses")
