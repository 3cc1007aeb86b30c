"""The IAM documents and names the workload-identity roles are built from.

Pure functions over plain values, so the components, the policy tests and the CrossGuard
pack all judge the same documents. Documents are plain dicts; callers `json.dumps` them
(inside `Output.apply` when a value is only known later) instead of calling the
`aws.iam.get_policy_document` invoke, which the offline plan cannot answer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from eksgitops.components.spec.rules import service_account_name
from eksgitops.components.spec.syntax import dns_label

POLICY_VERSION = "2012-10-17"
STS_AUDIENCE = "sts.amazonaws.com"
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
ROLE_NAME_MAX = 64

# Roles the components create for themselves, named `<cluster>-<name>` like workload
# identities; a workload identity may not take one of these names.
CLUSTER_ROLE = "cluster"
NODE_ROLE = "node"
AUTO_MODE_NODE_ROLE = "auto-node"
EBS_CSI_ROLE = "ebs-csi"
# The GitOps agent's roles (components/gitops): `flux-<controller>` and the EKS Argo CD capability.
FLUX_CONTROLLER_ROLES = (
    "flux-kustomize-controller",
    "flux-image-reflector-controller",
    "flux-source-controller",
)
ARGOCD_CAPABILITY_ROLE = "argocd-capability"
RESERVED_ROLE_NAMES = (
    CLUSTER_ROLE,
    NODE_ROLE,
    AUTO_MODE_NODE_ROLE,
    EBS_CSI_ROLE,
    *FLUX_CONTROLLER_ROLES,
    ARGOCD_CAPABILITY_ROLE,
)

_ROLE_NAME_CHARS = re.compile(r"^[\w+=,.@-]+$")


def issuer_host_of(issuer: str) -> str:
    """The OIDC issuer without its scheme: IAM condition keys name the host and path only."""
    return issuer.removeprefix("https://").removeprefix("http://").rstrip("/")


def irsa_trust_policy(provider_arn: str, issuer_host: str, namespace: str, service_account: str) -> dict:
    """Trust for IRSA: only this service account, and only tokens minted for STS (IRSA-TRUST).

    Both keys are pinned with StringEquals: without `aud` any token from the cluster's
    issuer for that subject would do, and StringLike on `sub` lets other accounts in.
    """
    validate_namespace(namespace)
    validate_service_account(service_account)
    # Accept the issuer URL as well as its host: a scheme in a condition key never matches.
    host = issuer_host_of(issuer_host)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{host}:aud": STS_AUDIENCE,
                    }
                },
            }
        ],
    }


def pod_identity_trust_policy(
    account_id: str, cluster_name: str, namespace: str, service_account: str
) -> dict:
    """Trust for EKS Pod Identity (PODID-TRUST): only the Pod Identity agent of this account, and
    only for this cluster, namespace and service account.

    The agent assumes the role with session tags (`eks-cluster-name`, `kubernetes-namespace`,
    `kubernetes-service-account`, …; AWS docs "Create IAM role with trust policy required by
    EKS Pod Identity"). Without conditions, any association in any cluster that can name the
    role gets it; `aws:SourceAccount` keeps other accounts' clusters out. The cluster is named,
    not its ARN, so the role still trusts a rebuilt cluster of the same name.
    """
    validate_namespace(namespace)
    validate_service_account(service_account)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:SourceAccount": account_id,
                        "aws:RequestTag/eks-cluster-name": cluster_name,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": service_account,
                    }
                },
            }
        ],
    }


def role_name_for(cluster_name: str, identity: str) -> str:
    """`<cluster>-<identity>`, cut to IAM's 64 characters with a stable hash when too long.

    Git reaches these roles through the bridge and a rebuild must find the same name, so
    the result depends on the two inputs only; the hash keeps two long names that share a
    prefix from colliding after the cut.
    """
    name = f"{cluster_name}-{identity}"
    if not _ROLE_NAME_CHARS.match(name):
        raise ValueError(f"role name {name!r}: IAM allows only letters, digits and +=,.@_-")
    if len(name) <= ROLE_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: ROLE_NAME_MAX - len(digest) - 1].rstrip('-')}-{digest}"


def validate_namespace(namespace: str) -> None:
    """Raise ValueError unless `namespace` is a Kubernetes namespace name (the spec's rule)."""
    dns_label(namespace, "namespace")


def validate_service_account(service_account: str) -> None:
    """Raise ValueError unless `service_account` is a ServiceAccount name (DNS-1123 subdomain)."""
    service_account_name(service_account)


def validate_policy_document(document: Any, what: str = "inline policy") -> None:
    """Raise ValueError unless `document` has the shape IAM accepts: a dict with statements.

    What the statements grant is not judged here: IAM-NO-WILDCARD-ADMIN judges every policy
    the program registers (eksgitops/policy), where a stack can waive it with a reason.
    """
    if not isinstance(document, Mapping):
        raise ValueError(f"{what} must be a dict (an IAM policy document), got {type(document).__name__}")
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise ValueError(f"{what} needs a non-empty 'Statement' (a statement dict or a list of them)")
    for index, statement in enumerate(statements):
        if not isinstance(statement, Mapping):
            raise ValueError(f"{what}: Statement[{index}] must be a dict")
