"""`ArgoCdAgent`: Argo CD from the argo-helm chart (pinned), hardened, with the fleet's root Application.

Order: namespace argocd → the argo-cd Helm release (brings the Application CRD) and,
beside it, the repository Secret and the in-cluster cluster Secret with the bridge →
the root Application, which waits for all three.

ARGO-HARDEN: the local admin is disabled once SSO is configured; the default RBAC role is
read-only; exec into pods from the UI is off; anonymous access is off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from eksgitops.components.arg_checks import check_args
from eksgitops.components.gitops.argocd_objects import (
    ARGOCD_NAMESPACE,
    IN_CLUSTER_SERVER,
    cluster_secret,
    repository_secret,
    root_application,
)
from eksgitops.components.gitops.git_credentials import secret
from eksgitops.components.gitops.verify_objects import ROOT_PROJECT, argocd_gpg_keys, root_project
from eksgitops.components.gitops_checks import AGENT, string_map
from eksgitops.components.spec.gitops import GitOpsSpec

ARGOCD_CHART = "argo-cd"
ARGOCD_CHART_REPO = "https://argoproj.github.io/argo-helm"
SSO_SECRET_KEY = "oidc.eksgitops.clientSecret"


def argocd_values(spec: GitOpsSpec) -> dict:
    """The chart values: hardened defaults, SSO when configured, the fleet's SSH host keys."""
    cm: dict = {"exec.enabled": "false", "users.anonymous.enabled": "false", "admin.enabled": "true"}
    values: dict = {
        "crds": {"install": True, "keep": True},
        "configs": {
            "cm": cm,
            "rbac": {"policy.default": "role:readonly", "policy.csv": ""},
            "params": {"server.insecure": "false"},
        },
        "dex": {"enabled": False},
    }
    sso = spec.argocd_sso
    if sso is not None:
        cm["admin.enabled"] = "false"
        cm["oidc.config"] = (
            f"name: SSO\nissuer: {sso.issuer}\nclientID: {sso.client_id}\n"
            f"clientSecret: ${SSO_SECRET_KEY}\nrequestedScopes: [openid, profile, email, groups]\n"
        )
        values["configs"]["secret"] = {"extra": {SSO_SECRET_KEY: secret(sso.client_secret)}}
    creds = spec.credentials
    if creds is not None and creds.type == "ssh" and creds.known_hosts:
        # Argo CD pins SSH host keys in argocd-ssh-known-hosts-cm (GIT-SSH-KNOWN-HOSTS).
        values["configs"]["ssh"] = {"extraHosts": creds.known_hosts}
    if gpg_keys := argocd_gpg_keys(spec):
        # The chart writes them into argocd-gpg-keys-cm, the repo-server's keyring.
        values["configs"]["gpg"] = {"keys": gpg_keys}
    return values


@dataclass
class ArgoCdAgentArgs:
    """What an `ArgoCdAgent` needs."""

    gitops: GitOpsSpec
    """The validated gitops section (agent argocd)."""
    environment: str
    """Stack name; labels the cluster Secret `eksgitops.io/environment`."""
    bridge_variables: pulumi.Input[Mapping[str, str]]
    """The bridge, as annotations of the in-cluster cluster Secret."""
    addons: Sequence[str] = field(default_factory=list)
    """Add-ons of the cluster, as `enable_<addon>` labels."""

    def __post_init__(self) -> None:
        check_args(self, {**AGENT, "bridge_variables": string_map("the bridge variables")})


class ArgoCdAgent(pulumi.ComponentResource):
    """Argo CD installed from its chart, pulling the fleet through one root Application."""

    release: k8s.helm.v3.Release
    root: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: ArgoCdAgentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:gitops:ArgoCdAgent", name, None, opts)
        spec = args.gitops
        labels = {"app.kubernetes.io/managed-by": "eksgitops"}
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ARGOCD_NAMESPACE, labels=labels),
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        self.release = k8s.helm.v3.Release(
            f"{name}-argocd",
            name="argocd",
            chart=ARGOCD_CHART,
            version=spec.versions.argocd_chart,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=ARGOCD_CHART_REPO),
            namespace=ARGOCD_NAMESPACE,
            create_namespace=False,
            atomic=True,
            values=argocd_values(spec),
            opts=in_namespace,
        )
        repository = repository_secret(name, spec, labels, in_namespace)
        cluster = cluster_secret(
            name,
            environment=args.environment,
            server=IN_CLUSTER_SERVER,
            variables=args.bridge_variables,
            addons=args.addons,
            labels=labels,
            opts=in_namespace,
        )
        # With gitops.verify the root syncs in a project that requires the keys' signatures.
        project = root_project(
            name,
            spec,
            ARGOCD_NAMESPACE,
            labels,
            pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
        )
        self.root = root_application(
            name,
            spec,
            destination_server=IN_CLUSTER_SERVER,
            labels=labels,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.release, repository, cluster, *([project] if project else [])]
            ),
            project=ROOT_PROJECT if project is not None else "default",
        )
        self.register_outputs({})
