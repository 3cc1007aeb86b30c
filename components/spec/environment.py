"""The whole environment spec (`EnvironmentSpec`), its cross-section rules, and `load_spec`.

Components trust a validated `EnvironmentSpec`; they never read Pulumi config themselves.
Keys in the stack file are camelCase under the `eksgitops:` namespace; attributes here
are snake_case.

How it is used:
- `load_spec(raw, stack=..., source=...)` -> a validated `EnvironmentSpec`, or raises
  `SpecError` whose `.lines` hold the problems found, sorted by key path, each exactly
  `"<source>: eksgitops:<key path>: <what is wrong>; <what is allowed>"`, e.g.
  `stacks/Pulumi.dev.yaml: eksgitops:nodeGroups[0].minSize: 3 is greater than desiredSize 2; ...`.
  Nothing is registered with Pulumi before this returns; callers print the lines and
  exit 2 (no traceback).
- The models (here and one module per section) are the single source of truth: strict
  types, `Annotated` checks and field/model validators that raise `SpecValueError`.
  pydantic reports every key that is wrong on its own; a rule that compares keys (sizes
  in order, subnets fit the VPC, some admin entry exists) runs once the keys it compares
  are well formed, so fixing one line can reveal another.
- `raw` is the project's config with the `eksgitops:` prefix removed: top-level scalars
  (`SCALAR_KEYS`) are strings, as Pulumi hands them over; the keys in `STRUCTURED_KEYS`
  are parsed dicts/lists (Pulumi hands those over as JSON).
- The readers in `eksgitops.components.spec.read` produce `raw`: `stack_config(stack_file, project_file)`
  lays a stack file over Pulumi.yaml's defaults, both read strictly; `raw_config_from_pulumi()`
  reads the running program's config; `config_for_pulumi(raw)` is the inverse, for
  `pulumi.runtime.set_all_config` offline. The readers import the models, never the reverse.
- Credentials: a field typed `SecretValue` holds a credential and takes only a Pulumi
  secret; a secret anywhere else is refused. Secrets are never printed.
- The spec refuses what AWS itself would reject (or what would leave a cluster nobody can
  manage); posture (an open endpoint, an IMDS hop limit above 1, an admin-equivalent
  policy, a version outside standard support) is judged once, by the rules in
  eksgitops/policy over what the program registers, where a stack can waive it with a
  reason. Defaults pass every rule of the security checklist.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import AfterValidator, Field
from pydantic import model_validator as _model_validator

from eksgitops.components.iam_documents import AUTO_MODE_NODE_ROLE, NODE_ROLE, role_name_for
from eksgitops.components.spec import rules
from eksgitops.components.spec.access import AccessSpec
from eksgitops.components.spec.addons import AddonName, AddonSpec, missing_node_addons
from eksgitops.components.spec.base import DNS_LABEL, DNS_LABEL_ALLOWED, PROJECT, SpecModel
from eksgitops.components.spec.compute import AutoModeSpec, NodeGroupSpec
from eksgitops.components.spec.control_plane import ControlPlaneSpec, EndpointSpec, LogType, kms_key_arn
from eksgitops.components.spec.data import (
    default_kubernetes_version,
    known_addon_versions,
    offered_kubernetes_versions,
    region_partition,
)
from eksgitops.components.spec.errors import (
    Problem,
    SpecError,
    SpecValueError,
    format_problems,
    raise_all,
    validate,
)
from eksgitops.components.spec.escrow import EscrowSpec, escrow_environment
from eksgitops.components.spec.gitops import GitOpsSpec
from eksgitops.components.spec.identities import IdentitySpec, bound_service_accounts
from eksgitops.components.spec.network import NetworkSpec
from eksgitops.components.spec.policy import PolicySpec
from eksgitops.components.spec.syntax import (
    CLUSTER_ADMIN_POLICY,
    MAX_PUBLIC_ACCESS_CIDRS,
    MAX_STACK_TAGS,
    RESERVED_TAG_PREFIX,
    character_name,
    control_characters,
    dns,
    fail,
    fmt,
    no_repeats,
    region_name,
    unique,
)

after = _model_validator(mode="after")


def _versions_allowed() -> str:
    return "one of " + ", ".join(f'"{v}"' for v in offered_kubernetes_versions()) + " (offered by EKS)"


def _kubernetes_version(value: str) -> str:
    if value not in offered_kubernetes_versions():
        raise fail(f"{fmt(value)} is not a Kubernetes version EKS offers", _versions_allowed())
    return value


def _tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > MAX_STACK_TAGS:
        raise fail(
            f"has {len(tags)} tags", f"at most {MAX_STACK_TAGS} (AWS allows 50; the project adds its own)"
        )
    rules.tag_keys(tags, MAX_STACK_TAGS, reserved=(RESERVED_TAG_PREFIX,))
    for key, value in tags.items():
        rules.tag_value(key, value)
    return tags


class EnvironmentSpec(SpecModel):
    """One stack's validated configuration; build it with `load_spec`."""

    hidden_keys: ClassVar[frozenset[str]] = frozenset({"environment"})
    """Keys a stack cannot set: `environment` comes from the stack name."""

    environment: str
    """The stack name (dev, staging, prod…)."""
    region: Annotated[str, AfterValidator(region_name)]
    """AWS region, e.g. eu-west-1 (required); a name of a known partition (data/aws_regions.json)."""
    cluster_name: Annotated[str, dns("cluster name")]
    """EKS cluster name (DNS-1123 label); defaults to eksgitops-<stack>."""
    cluster_role: Literal["primary", "drill", "green"] = "primary"
    """The part this cluster plays for its environment (bridge key `cluster_role`): the
    environment's own, a disaster-recovery drill's, or an upgrade's green. `eksgitops dr drill`
    and `eksgitops upgrade` set it on the stacks they derive; the fleet uses it to keep writers
    such as external-dns off in a drill (docs/runbooks/disaster-recovery.md)."""
    kubernetes_version: Annotated[str, AfterValidator(_kubernetes_version)]
    """Kubernetes minor version EKS offers (components/data/kubernetes_versions.json); EKS-VERSION
    fails one outside standard support."""
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    """New or existing VPC."""
    endpoint: EndpointSpec = Field(default_factory=EndpointSpec)
    """API server endpoint access."""
    logging: Annotated[list[LogType], unique("log type")] = Field(
        default_factory=lambda: ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    )
    """Control-plane log types sent to CloudWatch (all five by default)."""
    secrets_kms_key_arn: Annotated[str | None, AfterValidator(kms_key_arn)] = None
    """Existing KMS key for secrets envelope encryption; unset creates one with rotation on."""
    access: AccessSpec = Field(default_factory=AccessSpec)
    """Authentication mode and access entries."""
    node_groups: Annotated[
        list[NodeGroupSpec],
        no_repeats(lambda g: g.name, "has two node groups named {}".format, "unique node group names"),
    ] = Field(default_factory=list)
    """Managed node groups (at least one, unless Auto Mode with built-in node pools is on)."""
    auto_mode: AutoModeSpec = Field(default_factory=AutoModeSpec)
    """EKS Auto Mode."""
    addons: dict[AddonName, AddonSpec] = Field(default_factory=dict)
    """Per-add-on overrides (enabled, version pin); see enabled_addons()."""
    identities: Annotated[
        list[IdentitySpec],
        no_repeats(lambda i: i.name, "has two identities named {}".format, "unique identity names"),
        no_repeats(
            lambda i: f"{i.namespace}/{i.service_account}",
            "has two identities for service account {}".format,
            "one identity per namespace and service account",
        ),
    ] = Field(default_factory=list)
    """Workload identities (IAM roles for service accounts)."""
    gitops: GitOpsSpec = Field(default_factory=GitOpsSpec)
    """The GitOps agent's source."""
    policy: PolicySpec = Field(default_factory=PolicySpec)
    """Waivers of the guardrail rules, each with a reason (components.spec.policy)."""
    tags: Annotated[dict[str, str], AfterValidator(_tags)] = Field(default_factory=dict)
    """AWS tags on every resource (at most 40; no aws: or eksgitops: prefix)."""
    control_plane: ControlPlaneSpec = Field(default_factory=ControlPlaneSpec)
    """Deletion protection, upgrade policy and control-plane log retention."""
    escrow: EscrowSpec = Field(default_factory=EscrowSpec)
    """Durable escrow of the fleet repository and its Git credentials (off unless enabled)."""

    def enabled_addons(self) -> dict[str, AddonSpec]:
        """All five managed add-ons unless a stack turns one off; each with its pin.

        With Auto Mode and no node groups, none unless a stack turns one on: Auto Mode nodes run
        pod and service networking, cluster DNS, block storage and the Pod Identity agent
        themselves, so the add-ons would only be pods with nothing to do (and a version to keep
        up). Node groups beside Auto Mode still need them: their nodes are ordinary EC2."""
        names: tuple[str, ...] = get_args(AddonName)
        default = AddonSpec(enabled=not (self.auto_mode.enabled and not self.node_groups))
        chosen = {name: self.addons.get(name, default) for name in names}  # type: ignore[call-overload]
        return {name: addon for name, addon in chosen.items() if addon.enabled}

    @after
    def _escrow_names_fit(self) -> EnvironmentSpec:
        # The bucket name carries the stack name (components.spec.escrow.escrow_environment).
        if self.escrow.enabled:
            try:
                escrow_environment(self.environment)
            except SpecValueError as exc:
                raise fail(exc.what, f"{exc.allowed}, or enabled: false", "escrow", "enabled") from None
        return self

    @after
    def _works_on_aws(self) -> EnvironmentSpec:
        raise_all(list(self._cross_checks()))
        return self

    def _endpoint_and_identity_checks(self) -> Iterator[SpecValueError]:
        endpoint, network = self.endpoint, self.network
        if endpoint.public_access:
            # Without the private endpoint the components add each NAT gateway's address as a /32
            # (components.cluster), and EKS takes at most 40 CIDRs in publicAccessCidrs.
            nats = 0
            if not endpoint.private_access and not network.existing:
                nats = 1 if network.nat_gateways == "single" else network.zone_count
            total = len(endpoint.public_access_cidrs) + nats
            if total > MAX_PUBLIC_ACCESS_CIDRS:
                added = f" and the {nats} NAT /32s the components add" if nats else ""
                yield fail(
                    f"lists {len(endpoint.public_access_cidrs)} CIDRs{added}: {total} in all",
                    f"at most {MAX_PUBLIC_ACCESS_CIDRS} (EKS's limit on publicAccessCidrs)",
                    "endpoint",
                    "publicAccessCidrs",
                )
        taken = bound_service_accounts(self.enabled_addons(), self.gitops)
        for i, identity in enumerate(self.identities):
            owner = taken.get((identity.namespace, identity.service_account))
            if owner:
                yield fail(
                    f"{identity.namespace}/{identity.service_account} is already bound by the platform "
                    f"({owner}); two roles for one service account leave it with whichever EKS picks",
                    "another service account, or turn that feature off",
                    "identities",
                    i,
                    "serviceAccount",
                )

    def _cross_checks(self) -> Iterator[SpecValueError]:
        """Rules across sections: each yields its line; all are reported together."""
        auto = self.auto_mode
        # EKS makes the node roles' access entries itself (EC2_LINUX for managed node groups,
        # EC2 for Auto Mode), and a principal can be in one access entry only (CreateAccessEntry:
        # ResourceInUseException; "Create access entries", EKS User Guide).
        node_roles = {role_name_for(self.cluster_name, r) for r in (NODE_ROLE, AUTO_MODE_NODE_ROLE)}
        for i, entry in enumerate(self.access.entries):
            if entry.principal_arn.rpartition("/")[2] in node_roles and ":role/" in entry.principal_arn:
                yield fail(
                    "is the platform's node role, whose access entry EKS creates itself",
                    "a role of people or automation (a principal can have one access entry)",
                    "access",
                    "entries",
                    i,
                    "principalArn",
                )
        if not self.node_groups and not (auto.enabled and auto.node_pools):
            if auto.enabled:
                # EKS rejects a compute config with a node role but no node pools, and
                # without pools or groups nothing could run.
                yield fail(
                    "no compute: autoMode.nodePools is empty and there are no node groups",
                    "a built-in node pool (general-purpose, system) or at least one node group",
                    "nodeGroups",
                )
            else:
                yield fail(
                    "no compute: no node groups and autoMode.enabled is not true",
                    "at least one node group, or autoMode.enabled: true (or both)",
                    "nodeGroups",
                )
        enabled = self.enabled_addons()
        for name in missing_node_addons(enabled, node_groups=bool(self.node_groups), auto_mode=auto.enabled):
            yield fail(
                "is false without Auto Mode: nodes would have no pod network, service "
                "routing or cluster DNS and never become Ready"
                if not auto.enabled
                else "is false, and Auto Mode runs it only on its own nodes: the managed node "
                "groups' nodes would never become Ready",
                "keep it on (or turn on autoMode, which runs it itself)"
                if not auto.enabled
                else "keep it on while there are node groups",
                "addons",
                name,
                "enabled",
            )
        # Auto Mode nodes run the Pod Identity agent themselves; node groups need the add-on.
        agent_missing = "eks-pod-identity-agent" not in enabled and bool(self.node_groups or not auto.enabled)
        pod_identities = [i for i, ident in enumerate(self.identities) if ident.mode == "pod-identity"]
        if agent_missing and pod_identities:
            yield fail(
                f"is false but identities[{pod_identities[0]}] uses mode pod-identity",
                "keep the agent on, or use mode irsa for those identities",
                "addons",
                "eks-pod-identity-agent",
                "enabled",
            )
        elif agent_missing and "aws-ebs-csi-driver" in enabled:
            yield fail(
                "is false but aws-ebs-csi-driver is on, and that driver gets its AWS credentials "
                "through Pod Identity",
                "keep the agent on, or turn aws-ebs-csi-driver off",
                "addons",
                "eks-pod-identity-agent",
                "enabled",
            )
        # EKS refuses an add-on version it does not offer for the cluster's Kubernetes
        # version, minutes into an apply; the data file says what is offered.
        for name, addon in self.addons.items():
            known = known_addon_versions(name, self.kubernetes_version)
            if addon.version is None or known is None or addon.version in known:
                continue
            yield fail(
                f"{addon.version} is not a {name} version known to be offered for Kubernetes "
                f"{self.kubernetes_version}",
                "one of " + ", ".join(known) + " (components/data/addon_versions.json; "
                "or remove the pin to follow the Kubernetes version)",
                "addons",
                name,
                "version",
            )
        yield from self._endpoint_and_identity_checks()
        # Without the private endpoint, nodes reach the API server through NAT: the components
        # add a new VPC's NAT addresses to the allow-list, but an existing VPC's are unknown.
        if self.network.existing and not self.endpoint.private_access:
            yield fail(
                "is false with an existing VPC, so nodes could only reach the API server through NAT "
                "addresses this program does not know",
                "privateAccess: true (or a new VPC, whose NAT addresses are added to the allow-list)",
                "endpoint",
                "privateAccess",
            )
        # Not posture (no rule covers it): the cluster is created without the creator's implicit
        # admin entry, so a stack without a cluster-wide admin entry builds a cluster nobody can manage.
        if not any(
            e.policy.rsplit("/", 1)[-1] == CLUSTER_ADMIN_POLICY and not e.namespaces
            for e in self.access.entries
        ):
            yield fail(
                "has no cluster-wide AmazonEKSClusterAdminPolicy entry, and the cluster's creator gets no "
                "permanent admin",
                "an entry {principalArn: <the role that runs pulumi up or your admins' role>} "
                "(policy AmazonEKSClusterAdminPolicy is the default, no namespaces)",
                "access",
                "entries",
            )


# --- reading config -------------------------------------------------------------------

SCALAR_KEYS = frozenset({"region", "clusterName", "clusterRole", "kubernetesVersion", "secretsKmsKeyArn"})
"""Top-level keys whose values are plain strings in Pulumi config."""
TOP_LEVEL_KEYS = frozenset(
    f.alias or n for n, f in EnvironmentSpec.model_fields.items() if n != "environment"
)
"""Every key a stack may set under eksgitops: (`environment` comes from the stack name)."""
STRUCTURED_KEYS = TOP_LEVEL_KEYS - SCALAR_KEYS
"""Top-level keys whose values are objects/lists: Pulumi hands them to the program as JSON."""


def default_cluster_name(stack: str) -> str:
    """The cluster name a stack gets when it does not set clusterName."""
    return f"{PROJECT}-{stack}"


def load_spec(raw: Mapping[str, Any], *, stack: str, source: str) -> EnvironmentSpec:
    """Validate a stack's raw config; raise SpecError listing the problems found."""
    # Pulumi.yaml declares "" as the default of the optional scalars (a declared key
    # without a default is required by Pulumi), so "" means "not set".
    data = {k: v for k, v in raw.items() if not (k in SCALAR_KEYS - {"region"} and v == "")}
    problems: list[Problem] = []
    if "environment" in data:  # it comes from the stack name
        problems.append(
            Problem(
                ("environment",), "unknown key", "allowed keys here: " + ", ".join(sorted(TOP_LEVEL_KEYS))
            )
        )
        del data["environment"]
    if "clusterName" not in data and not DNS_LABEL.fullmatch(default_cluster_name(stack)):
        problems.append(
            Problem(
                ("clusterName",),
                f'"{default_cluster_name(stack)}" is not a valid cluster name '
                f"(the default, from stack {stack})",
                DNS_LABEL_ALLOWED,
            )
        )
    data.setdefault("clusterName", default_cluster_name(stack))
    data.setdefault("kubernetesVersion", default_kubernetes_version())
    version = data["kubernetesVersion"]
    if isinstance(version, int | float) and not isinstance(version, bool):
        # YAML reads an unquoted 1.30 as the number 1.3: the trailing zero is gone.
        guess = f"{version:.2f}" if isinstance(version, float) else str(version)
        problems.append(
            Problem(
                ("kubernetesVersion",),
                f"is the number {version} (an unquoted {guess}?): quote it",
                _versions_allowed(),
            )
        )
        data["kubernetesVersion"] = default_kubernetes_version()
    text_problems: list[Problem] = []
    for path, char in control_characters(data):
        if path == ("gitops", "credentials", "knownHosts") and char == "\n":
            continue  # known_hosts holds one host key a line
        if path[:3] == ("gitops", "verify", "publicKeys") and char == "\n":
            continue  # an armored key is many lines (gitops_verify parses it)
        text_problems.append(
            Problem(
                path,
                f"holds the character {character_name(char)}, which breaks or hides a line",
                "a single line of printable characters",
            )
        )
    gitops = data.get("gitops", {})
    if isinstance(gitops, dict) and gitops.get("path") is None:
        data["gitops"] = {**gitops, "path": f"clusters/{stack}"}
    region = data.get("region")
    context = {"region": region if isinstance(region, str) and region_partition(region) else None}
    spec, found = validate(EnvironmentSpec, {**data, "environment": stack}, context)
    # A problem explained above beats pydantic's words for the same key.
    problems += [p for p in found if p.path not in {q.path for q in problems}]
    # A key pydantic already explained keeps that line; a value otherwise fine gets this one.
    problems += [p for p in text_problems if p.path not in {q.path for q in problems}]
    if problems or spec is None:
        raise SpecError(format_problems(problems, source))
    return spec
