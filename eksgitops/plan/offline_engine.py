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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as resource_runtime
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.settings import ROOT, SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from eksgitops.components import type_tokens as tokens
from eksgitops.components.spec.data import zone_names
from eksgitops.plan import sdk_loading
from eksgitops.plan.pulumi_eks import synthesize_children
from eksgitops.plan.records import (
    PLAN_ACCOUNT_ID,
    RESOURCE_VALUE,
    SECRET_SIG,
    SECRET_VALUE,
    UNKNOWN,
    RecordedResource,
    plain,
    unknown,
)

# Callers (the plan, the tests) import these from the engine, where they were first defined.
__all__ = [
    "PLAN_ACCOUNT_ID",
    "RESOURCE_VALUE",
    "SECRET_SIG",
    "SECRET_VALUE",
    "UNKNOWN",
    "CloudMocks",
    "PlanResult",
    "RecordedResource",
    "RecordingMonitor",
    "plain",
    "run_program",
    "unknown",
]


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
        if request.type != tokens.STACK:
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
            tokens.EKS_CLUSTER: self._eks_cluster,
            tokens.EKS_MANAGED_NODE_GROUP: self._eks_managed_node_group,
            tokens.LAUNCH_TEMPLATE: self._launch_template,
            tokens.EIP: self._eip,
            tokens.STACK_REFERENCE: self._stack_reference,
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
        if args.typ in {tokens.IAM_ROLE, tokens.IAM_POLICY} and "name" in args.inputs:
            return str(args.inputs["name"])
        return unknown(args.name, "id")

    def _arn_for(self, args: pulumi_mocks.MockResourceArgs) -> str:
        if args.typ == tokens.IAM_ROLE and isinstance(args.inputs.get("name"), str):
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
    with _no_stack_traces():
        return _run(program, project, stack, config, secret_keys, region, stack_references)


@contextmanager
def _no_stack_traces() -> Iterator[None]:
    """The SDK captures the caller's stack (traceback.extract_stack, which reads every frame's
    source line) for each registration, to tell the engine where a resource was declared. The
    mocks record none of it and the plan shows none of it: an empty trace, as the SDK sends when
    it finds no user frame, for the plan's process and only while the program runs."""
    saved = resource_runtime._get_stack_trace
    resource_runtime._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        resource_runtime._get_stack_trace = saved


def _run(
    program: Callable[[], Any],
    project: str,
    stack: str,
    config: Mapping[str, str] | None,
    secret_keys: list[str] | None,
    region: str,
    stack_references: Mapping[str, Mapping[str, Any]] | None,
) -> PlanResult:
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
