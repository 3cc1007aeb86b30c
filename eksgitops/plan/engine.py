"""Run a Pulumi program in-process, with no CLI, no cloud and no credentials.

Pulumi's mocks replace the engine; a recording monitor keeps every registration (type,
name, parent, inputs, remote flag) so the plan, the policies and the tests all look at
the same graph. Values only the cloud would know come back as readable placeholders
(`(known after apply: <name>.<attr>)`) so that they read as such in the plan.

The mocks see a packaged (remote) component such as pulumi-eks's `eks:index:Cluster` as
one registration; what it creates inside (the EKS cluster, its access entries, the node
groups) is added afterwards by `eksgitops.plan.pulumi_eks` from the component's recorded
inputs, marked `synthesized` (see `synthesize_children`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.settings import ROOT, SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.spec import zone_names
from eksgitops.plan import sdk_loading

# Wire markers Pulumi uses inside serialized properties.
SECRET_SIG = rpc._special_sig_key
SECRET_VALUE = rpc._special_secret_sig
RESOURCE_VALUE = rpc._special_resource_sig
UNKNOWN = rpc.UNKNOWN

# An account id no real account has: the plan runs with no credentials, so the real one
# is unknown, and a made-up "real-looking" id would be mistaken for one.
PLAN_ACCOUNT_ID = "000000000000"


def unknown(name: str, attr: str) -> str:
    """The placeholder for a value the cloud assigns when the resource is created."""
    return f"(known after apply: {name}.{attr})"


@dataclass
class RecordedResource:
    """One registration as the engine would have received it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    remote: bool
    provider: str
    """The provider reference of a custom resource (empty: the default provider)."""
    providers: dict[str, str]
    """The provider map a component (notably a remote one) was given, by package."""
    dependencies: list[str]
    transforms: int
    """How many transforms the program attached (they reach children the mocks never see)."""
    inputs: dict[str, Any]
    """Inputs in wire form (JSON from the protobuf Struct): secrets, unknowns and
    resource references keep Pulumi's signature markers; see `plain()`."""
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Per input, the URNs its value came from (how a policy links a key ARN to its key)."""
    synthesized: bool = False
    """True for a resource a packaged component creates inside itself (the mocks never see
    those): added by the plan from the component's inputs, with the real type token and the
    wire inputs of that type, parented to the component."""
    delete_before_replace: bool = False
    """The resource option, as registered (or as the program's transforms set it on a synthesized child)."""
    ignore_changes: list[str] = field(default_factory=list)
    """The resource option's property paths, as registered (or as pulumi-eks sets them)."""
    protect: bool = False
    """`protect=True`: the engine refuses to delete it."""
    retain_on_delete: bool = False
    """`retain_on_delete=True`: deleting it from the stack leaves it in the cloud."""

    def plain_inputs(self) -> dict[str, Any]:
        """Inputs with secrets as "[secret]", unknowns as a placeholder and references as URNs."""
        return plain(self.inputs)


def plain(value: Any) -> Any:
    """Turn wire-form values into plain JSON a person (or a policy) can read.

    Secrets never leave this function in clear: the whole secret subtree becomes "[secret]".
    """
    if isinstance(value, dict):
        sig = value.get(SECRET_SIG)
        if sig == SECRET_VALUE:
            return "[secret]"
        if sig == RESOURCE_VALUE:
            return value.get("urn", "")
        if sig is not None and "value" in value:  # output values, assets: keep the payload
            return plain(value["value"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if value == UNKNOWN:
        return "(known after apply)"
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire carries every number as a double; 3.0 nodes read as 3
    return value


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also keeps the whole graph, parents included.

    Properties are kept as JSON from the protobuf message, never deserialized here: this
    runs on another event loop than the program.
    """

    def __init__(self, mocks: pulumi_mocks.Mocks):
        super().__init__(mocks)
        self.records: list[RecordedResource] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(_resource_refs_as_urns(request))
        if request.type != "pulumi:pulumi:Stack":
            self.records.append(
                RecordedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=bool(request.custom),
                    remote=bool(request.remote),
                    provider=request.provider,
                    providers=dict(request.providers),
                    dependencies=list(request.dependencies),
                    transforms=len(request.transforms),
                    inputs=json_format.MessageToDict(request.object),
                    property_dependencies={
                        key: list(deps.urns) for key, deps in request.propertyDependencies.items()
                    },
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    ignore_changes=list(request.ignoreChanges),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                )
            )
        return response

    def resource_ref(self, urn: str, id_: str, state: dict[str, Any]) -> dict[str, Any]:
        """Register a fake resource and return a reference to it.

        Multi-language components (pulumi-eks) return resources as outputs; the SDK
        rehydrates those references by URN, so the state must be known to the monitor.
        """
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, state)
        return {SECRET_SIG: RESOURCE_VALUE, "urn": urn, "id": id_}


def _resource_refs_as_urns(request):
    """The request with every resource reference in its inputs replaced by the URN.

    The base mock monitor deserializes inputs, and rehydrating a reference (a role passed
    as `service_role`, an `eks.Cluster` passed to `eks.ManagedNodeGroup(cluster=...)`)
    starts a read on this thread's event loop that the program's loop may then await:
    "attached to a different loop", depending on timing. The mocks only need the URN (what
    `plain()` shows too); the record keeps the original wire form.
    """
    inputs = json_format.MessageToDict(request.object)

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get(SECRET_SIG) == RESOURCE_VALUE:
                return value.get("urn", "")
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    swapped = swap(inputs)
    if swapped == inputs:
        return request
    copy = type(request)()
    copy.CopyFrom(request)
    copy.object.Clear()
    json_format.ParseDict(swapped, copy.object)
    return copy


Outputs = dict[str, Any]
OutputFactory = Callable[[pulumi_mocks.MockResourceArgs, RecordingMonitor], Outputs]


class CloudMocks(pulumi_mocks.Mocks):
    """Answers registrations and invokes the way AWS would, with placeholders for what only
    AWS knows. Each resource echoes its inputs (so secrets stay wrapped) plus the computed
    attributes a program reads from it."""

    def __init__(
        self, region: str = "us-east-1", stack_references: Mapping[str, Mapping[str, Any]] | None = None
    ):
        self.region = region
        self.stack_references = dict(stack_references or {})
        self.monitor: RecordingMonitor | None = None
        self.transforms: dict[tuple[str, str], list[Any]] = {}
        """The transform functions the program gave each remote component, by (type, name):
        the plan applies them to the children it synthesizes, as the engine would."""
        self._outputs: dict[str, OutputFactory] = {
            "eks:index:Cluster": self._eks_cluster,
            "eks:index:ManagedNodeGroup": self._eks_managed_node_group,
            "aws:ec2/launchTemplate:LaunchTemplate": self._launch_template,
            "aws:ec2/eip:Eip": self._eip,
            "pulumi:pulumi:StackReference": self._stack_reference,
        }

    # -- resources ---------------------------------------------------------------------
    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        outputs: dict[str, Any] = dict(args.inputs)
        resource_id = args.resource_id or self._id_for(args)
        outputs.setdefault("arn", self._arn_for(args))
        outputs.setdefault("id", resource_id)
        if args.transforms:
            self.transforms[(args.typ, args.name)] = list(args.transforms)
        factory = self._outputs.get(args.typ)
        if factory is not None and self.monitor is not None:
            outputs.update(factory(args, self.monitor))
        return resource_id, outputs

    def _id_for(self, args: pulumi_mocks.MockResourceArgs) -> str:
        # Resources whose id is their name in AWS keep it; the rest get a placeholder.
        if args.typ in {"aws:iam/role:Role", "aws:iam/policy:Policy"} and "name" in args.inputs:
            return str(args.inputs["name"])
        return unknown(args.name, "id")

    def _arn_for(self, args: pulumi_mocks.MockResourceArgs) -> str:
        if args.typ == "aws:iam/role:Role" and isinstance(args.inputs.get("name"), str):
            return f"arn:aws:iam::{PLAN_ACCOUNT_ID}:role/{args.inputs['name']}"
        # Everything else, the OIDC provider's ARN included (it embeds the issuer's id), is
        # AWS's to say.
        return unknown(args.name, "arn")

    def _eks_cluster(self, args: pulumi_mocks.MockResourceArgs, monitor: RecordingMonitor) -> Outputs:
        name = str(args.inputs.get("name") or args.name)
        # The issuer's id is EKS's to choose: a made-up one would read as real in the plan and
        # in every IRSA trust policy built from it.
        issuer_host = unknown(f"{args.name}-eksCluster", "identities[0].oidcs[0].issuer")
        issuer = f"https://{issuer_host}"
        endpoint = unknown(args.name, "endpoint")
        cluster_urn = (
            f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::aws:eks/cluster:Cluster::{name}"
        )
        cluster_state = {
            "name": name,
            "arn": f"arn:aws:eks:{self.region}:{PLAN_ACCOUNT_ID}:cluster/{name}",
            "endpoint": endpoint,
            "version": args.inputs.get("version", ""),
            "identities": [{"oidcs": [{"issuer": issuer}]}],
            "certificateAuthority": {"data": unknown(args.name, "certificateAuthority")},
            "vpcConfig": {"clusterSecurityGroupId": unknown(args.name, "clusterSecurityGroupId")},
        }
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": endpoint}}],
            "users": [{"name": "aws", "user": {"exec": {"command": "aws", "args": ["eks", "get-token"]}}}],
        }
        return {
            "eksCluster": monitor.resource_ref(cluster_urn, name, cluster_state),
            "kubeconfig": kubeconfig,
            "kubeconfigJson": json.dumps(kubeconfig),
            "oidcIssuer": issuer_host,
            "oidcProviderUrl": issuer,
            "clusterSecurityGroupId": unknown(args.name, "clusterSecurityGroupId"),
            "nodeSecurityGroupId": unknown(args.name, "nodeSecurityGroupId"),
            "core": {"cluster": monitor.resource_ref(cluster_urn, name, cluster_state), "endpoint": endpoint},
        }

    def _eip(self, args: pulumi_mocks.MockResourceArgs, monitor: RecordingMonitor) -> Outputs:
        return {"publicIp": unknown(args.name, "publicIp"), "allocationId": unknown(args.name, "id")}

    def _launch_template(self, args: pulumi_mocks.MockResourceArgs, monitor: RecordingMonitor) -> Outputs:
        # A new template's first version is 1; node groups pin `latestVersion`.
        return {"latestVersion": 1, "defaultVersion": 1}

    def _eks_managed_node_group(
        self, args: pulumi_mocks.MockResourceArgs, monitor: RecordingMonitor
    ) -> Outputs:
        name = str(args.inputs.get("nodeGroupName") or args.name)
        urn = f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::aws:eks/nodeGroup:NodeGroup::{name}"
        state = {"nodeGroupName": name, "arn": unknown(args.name, "arn"), "status": "ACTIVE"}
        return {"nodeGroup": monitor.resource_ref(urn, name, state)}

    def _stack_reference(self, args: pulumi_mocks.MockResourceArgs, monitor: RecordingMonitor) -> Outputs:
        # Another stack's outputs cannot be read offline: the caller supplies them.
        name = str(args.inputs.get("name") or args.name)
        if name not in self.stack_references:
            raise LookupError(f"the offline plan has no outputs for the stack reference {name}")
        return {"outputs": dict(self.stack_references[name]), "secretOutputNames": []}

    # -- invokes -----------------------------------------------------------------------
    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": PLAN_ACCOUNT_ID,
                "arn": f"arn:aws:iam::{PLAN_ACCOUNT_ID}:user/plan",
                "userId": "PLAN",
                "id": PLAN_ACCOUNT_ID,
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            # The region's zones as a new account sees them (components/data/aws_regions.json);
            # a region newer than that file gets a-f.
            names = zone_names(self.region) or [f"{self.region}{letter}" for letter in "abcdef"]
            filters = args.args.get("filters") or []
            region_only = any(
                f.get("name") == "opt-in-status" and list(f.get("values") or []) == ["opt-in-not-required"]
                for f in filters
            )
            if not region_only:
                # As AWS answers for an account that opted in to a Local Zone: it is
                # "available" too, and sorts before the region's own zones.
                names = [f"{self.region}-lax-1a", *names]
            ids = [f"az{i}" for i in range(1, len(names) + 1)]
            return {"names": names, "zoneIds": ids, "id": self.region}, []
        if token == "aws:eks/getAddonVersion:getAddonVersion":
            # most_recent: only EKS knows its newest version for this Kubernetes version.
            addon = str(args.args.get("addonName", "addon"))
            return {**args.args, "version": unknown(addon, "version"), "id": addon}, []
        raise NotImplementedError(f"the offline plan has no answer for the invoke {token}")


@dataclass
class PlanResult:
    """The graph a program would register, and its stack outputs."""

    resources: list[RecordedResource]
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)

    def by_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.by_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {type_} {name or ''}, found {len(found)}")
        return found[0]


def run_program(
    program: Callable[[], Any],
    *,
    project: str = "eksgitops",
    stack: str = "dev",
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
    region: str = "us-east-1",
    stack_references: Mapping[str, Mapping[str, Any]] | None = None,
) -> PlanResult:
    """Run `program` against the mocks and return what it registered.

    Config keys are full Pulumi keys (`eksgitops:region`) with string values (structured
    values as JSON), exactly as the CLI hands them to a program. `stack_references` gives
    the outputs of other stacks the program reads through a StackReference.
    """
    # The SDKs' subpackages load per name, not whole (see sdk_loading): same classes, less work.
    sdk_loading.install()
    mocks = CloudMocks(region=region, stack_references=stack_references)
    monitor = RecordingMonitor(mocks)
    mocks.monitor = monitor
    set_all_config(dict(config or {}), secret_keys or [])
    # A fresh root stack per run, so outputs of an earlier run in this process do not leak in.
    ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    # set_mocks renews the RPC manager but not the pending outputs: a run that failed
    # would otherwise re-raise its error in the next run of this process.
    SETTINGS.outputs.clear()  # pyright: ignore[reportAttributeAccessIssue] - a contextproperty
    _sync_await(run_pulumi_func(program))

    outputs: dict[str, Any] = {}
    secret: set[str] = set()
    root = pulumi.runtime.get_root_resource()
    for key, value in (getattr(root, "outputs", None) or {}).items():
        out = pulumi.Output.from_input(value)
        outputs[key] = _sync_await(out.future(with_unknowns=True))
        if _sync_await(out.is_secret()):
            secret.add(key)
    records = monitor.records + synthesize_children(monitor.records, mocks.transforms)
    records = sorted(records, key=lambda r: r.urn)
    return PlanResult(resources=records, outputs=outputs, secret_outputs=secret)


# -- what pulumi-eks creates inside its components ---------------------------------------
# pulumi-eks 4.x (nodejs/eks/cluster/cluster.ts, nodes/nodegroup.ts) creates these children
# from its inputs; the mocks never see them, so the plan adds them here, from the same
# inputs, with the type tokens and wire names of pulumi-aws. Only what AWS itself creates is
# synthesized: the EKS cluster, its access entries and policy associations, the node groups.

EKS_CLUSTER = "eks:index:Cluster"
EKS_MANAGED_NODE_GROUP = "eks:index:ManagedNodeGroup"
AWS_EKS_CLUSTER = "aws:eks/cluster:Cluster"
AWS_ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
AWS_ACCESS_POLICY_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
AWS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
# pulumi-eks's own ignoreChanges on the cluster it creates.
_CLUSTER_IGNORE_CHANGES = [
    "accessConfig.bootstrapClusterCreatorAdminPermissions",
    "bootstrapSelfManagedAddons",
]
# Node group inputs pulumi-eks passes through from ManagedNodeGroup to aws.eks.NodeGroup.
_NODE_GROUP_PASS_THROUGH = (
    "nodeGroupName",
    "nodeGroupNamePrefix",
    "instanceTypes",
    "capacityType",
    "amiType",
    "version",
    "releaseVersion",
    "labels",
    "taints",
    "launchTemplate",
    "updateConfig",
    "remoteAccess",
    "forceUpdateVersion",
    "diskSize",
    "tags",
)


def _urn_of(value: Any) -> str:
    """The URN a resource reference (or a URN string) points at."""
    if isinstance(value, dict) and value.get(SECRET_SIG) == RESOURCE_VALUE:
        return str(value.get("urn", ""))
    return value if isinstance(value, str) else ""


def _child_urn(parent_urn: str, type_: str, name: str) -> str:
    prefix, project, qualified_type, _ = parent_urn.split("::", 3)
    return f"{prefix}::{project}::{qualified_type}${type_}::{name}"


def _role_arn(by_urn: Mapping[str, RecordedResource], ref: Any) -> Any:
    """The ARN of a role passed as a resource, as the mocks answer it for that role."""
    role = by_urn.get(_urn_of(ref))
    if role is None:
        return UNKNOWN
    if role.type == "aws:iam/role:Role" and isinstance(role.inputs.get("name"), str):
        return f"arn:aws:iam::{PLAN_ACCOUNT_ID}:role/{role.inputs['name']}"
    return unknown(role.name, "arn")


def _apply_transforms(
    transforms: list[Any], type_: str, name: str, props: dict[str, Any]
) -> tuple[dict[str, Any], pulumi.ResourceOptions]:
    """Run the program's transforms on a synthesized child, as the engine runs them on the real one."""
    opts = pulumi.ResourceOptions()
    for transform in transforms:
        result = transform(pulumi.ResourceTransformArgs(True, type_, name, props, opts))
        if hasattr(result, "__await__"):
            result = _sync_await(result)
        if result is not None:
            props, opts = dict(result.props), result.opts or opts
    return props, opts


def _cluster_props(component: RecordedResource, by_urn: Mapping[str, RecordedResource]) -> dict[str, Any]:
    """The inputs pulumi-eks gives the `aws:eks/cluster:Cluster` (createCore in cluster.ts)."""
    args = component.inputs
    auto: dict[str, Any] = args["autoMode"] if isinstance(args.get("autoMode"), dict) else {}
    auto_on = auto.get("enabled") is True
    subnets = args.get("subnetIds")
    if subnets is None:
        # pulumi-eks joins the public and private subnets, in that order.
        subnets = [*(args.get("publicSubnetIds") or []), *(args.get("privateSubnetIds") or [])]
    vpc: dict[str, Any] = {"subnetIds": subnets}
    for key in ("endpointPrivateAccess", "endpointPublicAccess", "publicAccessCidrs"):
        if key in args:
            vpc[key] = args[key]
    name = args.get("name", component.name)
    props: dict[str, Any] = {
        "name": name,
        "roleArn": _role_arn(by_urn, args.get("serviceRole")),
        "vpcConfig": vpc,
        "bootstrapSelfManagedAddons": False if auto_on else args.get("bootstrapSelfManagedAddons", True),
        "tags": {
            "Name": f"{component.name}-eksCluster",
            **(args.get("clusterTags") or {}),
            **(args.get("tags") or {}),
        },
    }
    for key in ("version", "enabledClusterLogTypes", "upgradePolicy", "deletionProtection"):
        if key in args:
            props[key] = args[key]
    if "encryptionConfigKeyArn" in args:
        props["encryptionConfig"] = {
            "provider": {"keyArn": args["encryptionConfigKeyArn"]},
            "resources": ["secrets"],
        }
    if "authenticationMode" in args:
        # pulumi-eks hard-codes the creator's admin entry; the program's transforms may change it.
        props["accessConfig"] = {
            "authenticationMode": args["authenticationMode"],
            "bootstrapClusterCreatorAdminPermissions": True,
        }
    if "kubernetesServiceIpAddressRange" in args or auto_on:
        network: dict[str, Any] = {"ipFamily": args.get("ipFamily", "ipv4")}
        if "kubernetesServiceIpAddressRange" in args:
            network["serviceIpv4Cidr"] = args["kubernetesServiceIpAddressRange"]
        if auto_on:
            network["elasticLoadBalancing"] = {"enabled": True}
        props["kubernetesNetworkConfig"] = network
    if auto_on:
        compute = {
            "enabled": True,
            "nodePools": ["general-purpose", "system"],
            **(auto.get("computeConfig") or {}),
        }
        props["computeConfig"] = compute
        props["storageConfig"] = {"blockStorage": {"enabled": True}}
    return props


def _synthesized(
    parent: RecordedResource,
    type_: str,
    name: str,
    props: dict[str, Any],
    *,
    dependencies: list[str],
    transforms: list[Any],
    ignore_changes: Sequence[str] = (),
) -> RecordedResource:
    props, opts = _apply_transforms(transforms, type_, name, props)
    return RecordedResource(
        urn=_child_urn(parent.urn, type_, name),
        type=type_,
        name=name,
        parent=parent.urn,
        custom=True,
        remote=False,
        provider=parent.providers.get("aws", ""),
        providers={},
        dependencies=dependencies,
        transforms=0,
        inputs=props,
        synthesized=True,
        delete_before_replace=bool(opts.delete_before_replace),
        ignore_changes=[*ignore_changes, *(opts.ignore_changes or [])],
    )


def synthesize_children(
    records: list[RecordedResource], transforms: Mapping[tuple[str, str], list[Any]]
) -> list[RecordedResource]:
    """The AWS resources pulumi-eks's remote components would create, from their recorded inputs."""
    by_urn = {r.urn: r for r in records}
    children: list[RecordedResource] = []
    for component in records:
        own_transforms = list(transforms.get((component.type, component.name), []))
        if component.type == EKS_CLUSTER:
            cluster = _synthesized(
                component,
                AWS_EKS_CLUSTER,
                f"{component.name}-eksCluster",
                _cluster_props(component, by_urn),
                dependencies=list(component.dependencies),
                transforms=own_transforms,
                ignore_changes=_CLUSTER_IGNORE_CHANGES,
            )
            children.append(cluster)
            children += _access_entries(component, cluster, own_transforms)
        elif component.type == EKS_MANAGED_NODE_GROUP:
            children.append(_node_group(component, by_urn, own_transforms))
    return children


def _access_entries(
    component: RecordedResource, cluster: RecordedResource, transforms: list[Any]
) -> list[RecordedResource]:
    """pulumi-eks's createAccessEntries: `<component>-<key>` and `<component>-<key>-<policy key>`."""
    args = component.inputs
    if args.get("authenticationMode") not in ("API", "API_AND_CONFIG_MAP"):
        return []
    created: list[RecordedResource] = []
    for key, entry in sorted((args.get("accessEntries") or {}).items()):
        entry_props = {"clusterName": cluster.inputs["name"], "principalArn": entry.get("principalArn")}
        for field_name in ("type", "kubernetesGroups", "tags"):
            if field_name in entry:
                entry_props[field_name] = entry[field_name]
        if "username" in entry:
            entry_props["userName"] = entry["username"]
        access_entry = _synthesized(
            component,
            AWS_ACCESS_ENTRY,
            f"{component.name}-{key}",
            entry_props,
            dependencies=[cluster.urn],
            transforms=transforms,
        )
        created.append(access_entry)
        for policy_key, association in sorted((entry.get("accessPolicies") or {}).items()):
            created.append(
                _synthesized(
                    component,
                    AWS_ACCESS_POLICY_ASSOCIATION,
                    f"{component.name}-{key}-{policy_key}",
                    {
                        "clusterName": cluster.inputs["name"],
                        "principalArn": entry.get("principalArn"),
                        "policyArn": association.get("policyArn"),
                        "accessScope": association.get("accessScope"),
                    },
                    dependencies=[cluster.urn, access_entry.urn],
                    transforms=transforms,
                )
            )
    return created


def _node_group(
    component: RecordedResource, by_urn: Mapping[str, RecordedResource], transforms: list[Any]
) -> RecordedResource:
    """pulumi-eks's createManagedNodeGroupInternal: an `aws:eks/nodeGroup:NodeGroup` of the same name."""
    args = component.inputs
    cluster = by_urn.get(_urn_of(args.get("cluster")))
    cluster_name = args.get("clusterName") or (cluster.inputs.get("name") if cluster else UNKNOWN)
    scaling: dict[str, Any] = args["scalingConfig"] if isinstance(args.get("scalingConfig"), dict) else {}
    props: dict[str, Any] = {
        "clusterName": cluster_name,
        "nodeRoleArn": args.get("nodeRoleArn") or _role_arn(by_urn, args.get("nodeRole")),
        "scalingConfig": {
            "desiredSize": scaling.get("desiredSize", 2),
            "minSize": scaling.get("minSize", 1),
            "maxSize": scaling.get("maxSize", 2),
        },
        "subnetIds": args.get("subnetIds", UNKNOWN),
    }
    for key in _NODE_GROUP_PASS_THROUGH:
        if key in args:
            props[key] = args[key]
    return _synthesized(
        component,
        AWS_NODE_GROUP,
        component.name,
        props,
        dependencies=list(component.dependencies),
        transforms=transforms,
        ignore_changes=["scalingConfig.desiredSize"] if args.get("ignoreScalingChanges") is True else [],
    )
