"""`FluxAgent`: Flux installed by the Flux Operator, synced to the fleet repository.

Creation order, each step waiting for the one before:
namespace flux-system → Flux Operator Helm release (pinned; brings the FluxInstance CRD)
and, beside it, the sync credentials Secret and the bridge ConfigMap → the FluxInstance
(distribution, components, `cluster.type: aws`, the sync and the FLUX-LOCKDOWN patches),
which waits for all three, and for the controllers' Pod Identity associations, so that the
first reconciliation already finds its credentials, its substitution variables and its AWS
identities → the Receiver (its CRD comes with Flux itself).

Pod Identity gives a pod its AWS credentials when the pod is created, so a controller that
was running before its association existed (SOPS, image automation or an OCI source turned
on later) keeps running without them. Each controller with an association carries a hash of
it as a pod-template annotation: a change of the association set changes the template of
exactly the controllers it concerns, and Kubernetes restarts them.

Pulumi does not wait on custom resources by default: unless `gitops.waitForSync` is on (or
the Receiver needs Flux's CRDs), a green `pulumi up` proves the FluxInstance was accepted,
not that Flux has synced.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from eksgitops.components.arg_checks import check_args, instance
from eksgitops.components.gitops.bridge_values import (
    BRIDGE_NAMESPACE,
    BridgeValues,
    FluxBridge,
    FluxBridgeArgs,
)
from eksgitops.components.gitops.git_credentials import flux_secret_data, secret
from eksgitops.components.gitops.verify_objects import flux_verify_patch, flux_verify_secret
from eksgitops.components.gitops_checks import FLUX_AGENT
from eksgitops.components.spec.gitops import GitOpsSpec, flux_git_url, url_host

FLUX_OPERATOR_CHART = "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator"
FLUX_REGISTRY = "ghcr.io/fluxcd"
FLUX_MANIFESTS = "oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests"
SYNC_NAME = "flux-system"
"""The GitRepository/OCIRepository and Kustomization the FluxInstance creates; the fleet's
Kustomizations refer to `GitRepository flux-system/flux-system`."""
PULL_SECRET = "flux-system"
ALERTS_SECRET = "alerts-webhook"
"""The Secret the fleet's notification Provider reads (key `address`), see docs/fleet.md."""
RECEIVER_SECRET = "webhook-token"
RECEIVER_EVENTS = {"github": ["ping", "push"], "gitlab": ["Push Hook"], "bitbucket": ["repo:push"]}

# FLUX-LOCKDOWN (Flux's multi-tenancy lockdown flags) as kustomize patches on the controllers.
# `cluster.multitenant` would also set them, but it makes every Kustomization without a
# serviceAccountName impersonate the namespace's `default` account, which the fleet's do not.
# source-watcher (ArtifactGenerators) honours the same flag for the sources it reads.
CROSS_NAMESPACE_CONTROLLERS = (
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
    "image-reflector-controller",
    "image-automation-controller",
    "source-watcher",
)
POD_IDENTITY_ANNOTATION = "eksgitops.io/pod-identity"
"""Pod-template annotation: a hash of the controller's Pod Identity association."""
SYNC_TIMEOUT = "20m"
"""With waitForSync: how long `pulumi up` waits for the FluxInstance to be Ready."""


def _add_arg(flag: str) -> str:
    return f"- op: add\n  path: /spec/template/spec/containers/0/args/-\n  value: {flag}\n"


def lockdown_patches(cross_namespace_refs: bool) -> list[dict]:
    """Kustomize patches of the FluxInstance that lock the controllers down."""
    patches = [
        {
            "patch": _add_arg("--no-remote-bases=true"),
            "target": {"kind": "Deployment", "name": "kustomize-controller"},
        }
    ]
    if not cross_namespace_refs:
        patches.append(
            {
                "patch": _add_arg("--no-cross-namespace-refs=true"),
                "target": {"kind": "Deployment", "name": "(" + "|".join(CROSS_NAMESPACE_CONTROLLERS) + ")"},
            }
        )
    return patches


def pod_identity_hash(namespace: str, service_account: str, role_name: str) -> str:
    """A short, stable digest of one controller's association (who, and which role)."""
    return hashlib.sha256(f"{namespace}/{service_account}={role_name}".encode()).hexdigest()[:16]


def pod_identity_patches(associations: Mapping[str, str], namespace: str) -> list[dict]:
    """Strategic-merge patches that annotate each associated controller's pod template.

    `associations` maps a controller (its Deployment and service account share the name) to
    the role its association names.
    """
    patches = []
    for controller, role_name in sorted(associations.items()):
        digest = pod_identity_hash(namespace, controller, role_name)
        patches.append(
            {
                "patch": (
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                    f"  name: {controller}\nspec:\n  template:\n    metadata:\n      annotations:\n"
                    f'        {POD_IDENTITY_ANNOTATION}: "{digest}"\n'
                ),
                "target": {"kind": "Deployment", "name": controller},
            }
        )
    return patches


def flux_components(spec: GitOpsSpec) -> list[str]:
    """The controllers the FluxInstance installs."""
    components = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"]
    if spec.image_automation:
        components += ["image-reflector-controller", "image-automation-controller"]
    if spec.artifact_generators:
        components.append("source-watcher")
    return components


def receiver_type(repo_url: str) -> str:
    """The Receiver type matching the Git host's webhook format."""
    host = url_host(repo_url)
    if host == "github.com" or host.startswith("github."):
        return "github"
    if "gitlab" in host:
        return "gitlab"
    if "bitbucket" in host:
        return "bitbucket"
    return "generic-hmac"


def flux_sync(spec: GitOpsSpec, has_pull_secret: bool) -> dict:
    """The FluxInstance `spec.sync`."""
    assert spec.repo_url is not None and spec.path is not None
    url = spec.repo_url if spec.source == "oci" else flux_git_url(spec.repo_url)
    sync: dict = {"name": SYNC_NAME, "url": url, "path": spec.path, "interval": spec.interval}
    if spec.source == "oci":
        # The cluster's own IAM identity (source-controller's Pod Identity) pulls from ECR.
        sync.update(kind="OCIRepository", ref=spec.oci_tag, provider="aws")
        return sync
    # With a Tag verification mode the agent follows (and verifies) the tag, not the branch.
    tag = spec.verify.tag if spec.verify is not None else None
    sync.update(kind="GitRepository", ref=f"refs/tags/{tag}" if tag else f"refs/heads/{spec.branch}")
    if spec.credentials is not None and spec.credentials.type == "github-app":
        sync["provider"] = "github"
    if has_pull_secret:
        sync["pullSecret"] = PULL_SECRET
    return sync


@dataclass
class FluxAgentArgs:
    """What a `FluxAgent` needs."""

    gitops: GitOpsSpec
    """The validated gitops section (agent flux)."""
    bridge: BridgeValues
    """Values for the bridge ConfigMap."""
    cross_namespace_refs: bool = False
    """Relax FLUX-LOCKDOWN's no-cross-namespace-refs; default False (locked down)."""
    labels: Mapping[str, str] | None = None
    """Extra labels on the objects created here."""
    pod_identities: Mapping[str, str] = field(default_factory=dict)
    """The controllers' Pod Identity associations: controller (service account) → role name.
    Each controller named gets the restart annotation."""
    identities: Sequence[pulumi.Resource] = field(default_factory=tuple)
    """What creates those associations: the FluxInstance waits for it."""

    def __post_init__(self) -> None:
        check_args(self, {**FLUX_AGENT, "bridge": instance(BridgeValues, "BridgeValues")})


class FluxAgent(pulumi.ComponentResource):
    """Flux, installed and kept up to date by the Flux Operator, pulling the fleet."""

    namespace: k8s.core.v1.Namespace
    operator: k8s.helm.v3.Release
    bridge: FluxBridge
    instance: k8s.apiextensions.CustomResource
    pull_secret: k8s.core.v1.Secret | None

    def __init__(self, name: str, args: FluxAgentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:gitops:FluxAgent", name, None, opts)
        spec = args.gitops
        labels = {"app.kubernetes.io/managed-by": "eksgitops", **(args.labels or {})}
        child = pulumi.ResourceOptions(parent=self)

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=BRIDGE_NAMESPACE, labels=labels),
            opts=child,
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        self.operator = k8s.helm.v3.Release(
            f"{name}-operator",
            name="flux-operator",
            chart=FLUX_OPERATOR_CHART,
            version=spec.versions.flux_operator,
            namespace=BRIDGE_NAMESPACE,
            create_namespace=False,
            atomic=True,
            wait_for_jobs=True,
            values={},
            opts=in_namespace,
        )

        self.pull_secret = None
        if spec.credentials is not None:
            self.pull_secret = k8s.core.v1.Secret(
                f"{name}-pull-secret",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=PULL_SECRET, namespace=BRIDGE_NAMESPACE, labels=labels
                ),
                type="Opaque",
                string_data=flux_secret_data(spec.credentials),
                opts=in_namespace,
            )
        self.bridge = FluxBridge(
            f"{name}-bridge",
            FluxBridgeArgs(values=args.bridge, depends_on=[self.namespace]),
            opts=pulumi.ResourceOptions(parent=self),
        )

        extras: list[pulumi.Resource] = []
        if spec.notifications is not None:
            extras.append(
                k8s.core.v1.Secret(
                    f"{name}-alerts-webhook",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=ALERTS_SECRET, namespace=BRIDGE_NAMESPACE, labels=labels
                    ),
                    type="Opaque",
                    string_data={"address": secret(spec.notifications.address)},
                    opts=in_namespace,
                )
            )

        verify_patches: list[dict] = []
        if spec.verify is not None:
            verify_keys = flux_verify_secret(name, spec.verify, BRIDGE_NAMESPACE, labels, in_namespace)
            extras += [verify_keys] if verify_keys is not None else []
            verify_patches.append(flux_verify_patch(spec.verify, spec.source, SYNC_NAME))

        waits = spec.wait_for_sync or spec.webhook_receiver
        self.instance = k8s.apiextensions.CustomResource(
            f"{name}-instance",
            api_version="fluxcd.controlplane.io/v1",
            kind="FluxInstance",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="flux",
                namespace=BRIDGE_NAMESPACE,
                labels=labels,
                # Waited for with waitForSync, and with a Receiver, whose CRD comes with Flux
                # itself. Otherwise `pulumi up` does not wait on Flux's health.
                annotations={"pulumi.com/waitFor": "condition=Ready"} if waits else None,
            ),
            spec={
                "distribution": {
                    "version": spec.versions.flux,
                    "registry": FLUX_REGISTRY,
                    "artifact": FLUX_MANIFESTS,
                },
                "components": flux_components(spec),
                "cluster": {"type": "aws", "multitenant": False, "networkPolicy": True},
                "sync": flux_sync(spec, self.pull_secret is not None),
                "kustomize": {
                    "patches": [
                        *lockdown_patches(args.cross_namespace_refs),
                        *pod_identity_patches(args.pod_identities, BRIDGE_NAMESPACE),
                        *verify_patches,
                    ]
                },
                "wait": True,
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    self.operator,
                    self.bridge,
                    *([self.pull_secret] if self.pull_secret is not None else []),
                    *extras,
                    *args.identities,
                ],
                custom_timeouts=pulumi.CustomTimeouts(create=SYNC_TIMEOUT, update=SYNC_TIMEOUT)
                if waits
                else None,
            ),
        )

        if spec.webhook_receiver:
            assert spec.repo_url is not None
            token = k8s.core.v1.Secret(
                f"{name}-webhook-token",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=RECEIVER_SECRET, namespace=BRIDGE_NAMESPACE, labels=labels
                ),
                type="Opaque",
                string_data={"token": secret(spec.webhook_token)},
                opts=in_namespace,
            )
            kind = "OCIRepository" if spec.source == "oci" else "GitRepository"
            k8s.apiextensions.CustomResource(
                f"{name}-receiver",
                api_version="notification.toolkit.fluxcd.io/v1",
                kind="Receiver",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=SYNC_NAME, namespace=BRIDGE_NAMESPACE, labels=labels
                ),
                spec={
                    "type": receiver_type(spec.repo_url),
                    "events": RECEIVER_EVENTS.get(receiver_type(spec.repo_url), []),
                    "secretRef": {"name": RECEIVER_SECRET},
                    "resources": [
                        {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": kind, "name": SYNC_NAME}
                    ],
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.instance, token]),
            )

        self.register_outputs({"bridge": self.bridge.variables})
