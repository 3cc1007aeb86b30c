"""The in-cluster objects both Argo CD flavours need: repository Secret, cluster Secret, root Application.

Shared by `ArgoCdAgent` (Argo CD from the argo-helm chart) and `EksArgoCd` (the EKS managed
capability): the fleet is the same, only who runs Argo CD differs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from eksgitops.components.gitops.git_credentials import argocd_repository_data
from eksgitops.components.spec.gitops import GitOpsSpec

ARGOCD_NAMESPACE = "argocd"
IN_CLUSTER = "in-cluster"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
ENVIRONMENT_LABEL = "eksgitops.io/environment"
"""The label the fleet's ApplicationSets select the cluster Secret by (docs/fleet.md)."""


def addon_labels(addons: Sequence[str]) -> dict[str, str]:
    """`enable_<addon>: "true"` labels (GitOps Bridge), `-` turned into `_`."""
    return {f"enable_{name.replace('-', '_')}": "true" for name in addons}


def repository_secret(
    name: str, spec: GitOpsSpec, labels: Mapping[str, str], opts: pulumi.ResourceOptions
) -> k8s.core.v1.Secret:
    """The repository Secret: Argo CD's credentials for the fleet (stringData stays secret)."""
    assert spec.repo_url is not None
    return k8s.core.v1.Secret(
        f"{name}-repository",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name="fleet-repository",
            namespace=ARGOCD_NAMESPACE,
            labels={**labels, "argocd.argoproj.io/secret-type": "repository"},
        ),
        type="Opaque",
        string_data=argocd_repository_data(spec.repo_url, spec.credentials),
        opts=opts,
    )


KNOWN_HOSTS_CONFIG_MAP = "argocd-ssh-known-hosts-cm"
"""Where Argo CD's repo-server reads the SSH host keys it trusts (Argo CD declarative setup)."""


def known_hosts_config_map(
    name: str, spec: GitOpsSpec, labels: Mapping[str, str], opts: pulumi.ResourceOptions
) -> k8s.core.v1.ConfigMap | None:
    """The pinned SSH host keys of the fleet's Git server (GIT-SSH-KNOWN-HOSTS), for SSH credentials.

    The chart flavour writes them through its values (configs.ssh); the managed capability has
    no chart, so the ConfigMap is written directly. Argo CD reads only ConfigMaps labelled
    part-of argocd.
    """
    creds = spec.credentials
    if creds is None or creds.type != "ssh" or not creds.known_hosts:
        return None
    return k8s.core.v1.ConfigMap(
        f"{name}-ssh-known-hosts",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=KNOWN_HOSTS_CONFIG_MAP,
            namespace=ARGOCD_NAMESPACE,
            labels={
                **labels,
                "app.kubernetes.io/name": KNOWN_HOSTS_CONFIG_MAP,
                "app.kubernetes.io/part-of": "argocd",
            },
        ),
        data={"ssh_known_hosts": creds.known_hosts},
        opts=opts,
    )


def cluster_secret(
    name: str,
    *,
    environment: str,
    server: pulumi.Input[str],
    variables: pulumi.Input[Mapping[str, str]],
    addons: Sequence[str],
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Secret:
    """The in-cluster cluster Secret carrying the bridge as annotations and `enable_<addon>` labels."""
    return k8s.core.v1.Secret(
        f"{name}-cluster",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=IN_CLUSTER,
            namespace=ARGOCD_NAMESPACE,
            labels={
                **labels,
                "argocd.argoproj.io/secret-type": "cluster",
                ENVIRONMENT_LABEL: environment,
                **addon_labels(addons),
            },
            annotations=variables,
        ),
        type="Opaque",
        string_data={"name": IN_CLUSTER, "server": server},
        opts=opts,
    )


def root_application(
    name: str,
    spec: GitOpsSpec,
    *,
    destination_server: pulumi.Input[str],
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    project: str = "default",
) -> k8s.apiextensions.CustomResource:
    """The root Application: the stack's path, synced automatically with self-heal and prune."""
    assert spec.repo_url is not None and spec.path is not None
    return k8s.apiextensions.CustomResource(
        f"{name}-root",
        api_version="argoproj.io/v1alpha1",
        kind="Application",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name="root",
            namespace=ARGOCD_NAMESPACE,
            labels=dict(labels),
            # Deleting the root Application cascades to everything it created.
            finalizers=["resources-finalizer.argocd.argoproj.io"],
        ),
        spec={
            "project": project,
            "source": {"repoURL": spec.repo_url, "targetRevision": spec.branch, "path": spec.path},
            "destination": {"server": destination_server, "namespace": ARGOCD_NAMESPACE},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["ServerSideApply=true"],
                "retry": {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}},
            },
        },
        opts=opts,
    )
