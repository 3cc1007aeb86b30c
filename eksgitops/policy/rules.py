"""The guardrail rules, one per line of the security checklist (docs/policy.md), in its order."""

from __future__ import annotations

from eksgitops.components import type_tokens as tokens
from eksgitops.policy import control_plane, gitops, identity, nodes, signed_sources
from eksgitops.policy.model import Rule

CLUSTER_TYPES = (tokens.AWS_EKS_CLUSTER, tokens.EKS_CLUSTER)
NODE_GROUP_TYPES = (tokens.EKS_NODE_GROUP, tokens.EKS_MANAGED_NODE_GROUP)

RULES: tuple[Rule, ...] = (
    Rule(
        "EKS-ENDPOINT",
        "private endpoint on; public endpoint off, or on with an allow-list that is not all of IPv4",
        "CIS EKS 5.4.1/5.4.2; checkov CKV_AWS_38, CKV_AWS_39",
        control_plane.check_endpoint,
        applies_to=CLUSTER_TYPES,
    ),
    Rule(
        "EKS-LOGGING",
        "control-plane logs: api, audit, authenticator, controllerManager, scheduler",
        "CIS EKS 2.1.1; checkov CKV_AWS_37",
        control_plane.check_logging,
        applies_to=CLUSTER_TYPES,
    ),
    Rule(
        "EKS-SECRETS-KMS",
        "envelope encryption of secrets with a customer KMS key that has rotation on",
        "CIS EKS 5.3.1; checkov CKV_AWS_58",
        control_plane.check_secrets_kms,
        applies_to=CLUSTER_TYPES,
    ),
    Rule(
        "EKS-VERSION",
        "Kubernetes version inside EKS standard support (components/data/kubernetes_versions.json)",
        "checkov CKV_AWS_339",
        control_plane.check_version,
        applies_to=CLUSTER_TYPES,
    ),
    Rule(
        "EKS-ACCESS",
        "authentication mode API (or API_AND_CONFIG_MAP while migrating); admins through access entries, "
        "not aws-auth; no permanent creator admin",
        "EKS best practices guide, IAM section",
        control_plane.check_access,
        applies_to=CLUSTER_TYPES,
    ),
    Rule(
        "NODE-IMDSV2",
        "launch templates require IMDSv2 tokens with hop limit 1",
        "checkov CKV_AWS_79, CKV_AWS_341; best practices guide",
        nodes.check_imdsv2,
        applies_to=(tokens.LAUNCH_TEMPLATE, *NODE_GROUP_TYPES),
    ),
    Rule(
        "NODE-NO-SSH",
        "no remote (SSH) access on node groups; use SSM",
        "checkov CKV_AWS_100 (stricter); best practices guide",
        nodes.check_no_ssh,
        applies_to=(tokens.LAUNCH_TEMPLATE, *NODE_GROUP_TYPES),
    ),
    Rule(
        "NODE-IAM",
        "node role carries only the worker node, CNI and ECR read-only managed policies",
        "CIS EKS 5.1.3",
        nodes.check_node_iam,
        applies_to=(tokens.IAM_ROLE, *NODE_GROUP_TYPES),
    ),
    Rule(
        "NODE-PRIVATE",
        "nodes in private subnets",
        "CIS EKS 5.4.3",
        nodes.check_private,
        applies_to=NODE_GROUP_TYPES,
    ),
    Rule(
        "IRSA-TRUST",
        "IRSA trust: StringEquals on <issuer>:sub (one service account) and <issuer>:aud; no StringLike",
        "best practices guide; known IRSA pitfalls",
        identity.check_irsa_trust,
        scope="resource",
        applies_to=(tokens.IAM_ROLE,),
    ),
    Rule(
        "PODID-TRUST",
        "Pod Identity roles trust pods.eks.amazonaws.com with sts:AssumeRole and sts:TagSession",
        "best practices guide",
        identity.check_pod_identity_trust,
        applies_to=(tokens.IAM_ROLE,),
    ),
    Rule(
        "IAM-NO-WILDCARD-ADMIN",
        "no admin-equivalent grant: Action */*:*/iam:* or NotAction on Resource *, iam:PassRole on *, "
        "admin-class managed policies",
        "parliament; checkov CKV_AWS_62/63, CKV_AWS_286-289",
        identity.check_wildcard_admin,
        applies_to=(tokens.IAM_ROLE, tokens.IAM_ROLE_POLICY_ATTACHMENT, *identity.POLICY_DOCUMENTS),
    ),
    Rule(
        "GIT-CREDS-SECRET",
        "Git credentials only as Pulumi secrets",
        "project rule",
        gitops.check_credentials_secret,
        crossguard=False,
        subjects=gitops.git_credential_holders,
        applies_to=(*gitops.SECRET_TYPES, tokens.HELM_RELEASE),
    ),
    Rule(
        "GIT-SSH-KNOWN-HOSTS",
        "SSH credentials carry known_hosts (pinned host keys)",
        "Flux bootstrap behaviour",
        gitops.check_known_hosts,
        scope="resource",
        subjects=lambda graph: [secret for secret, _, _ in gitops.git_secrets(graph)],
        applies_to=gitops.SECRET_TYPES,
    ),
    Rule(
        "GIT-READONLY",
        "read-only deploy key unless image automation writes back",
        "Flux docs, bootstrap guides",
        gitops.check_readonly,
        applies_to=tuple(gitops.DEPLOY_KEYS),
    ),
    Rule(
        "FLUX-LOCKDOWN",
        "controllers with no cross-namespace refs and no remote bases; no insecure kubeconfig flags",
        "Flux security best practices, multi-tenancy lockdown",
        gitops.check_flux_lockdown,
        scope="resource",
        applies_to=(tokens.FLUX_INSTANCE,),
    ),
    Rule(
        "FLUX-SOPS",
        "the decrypting controller's identity may only kms:Decrypt/DescribeKey on the one key",
        "Flux SOPS guide for AWS",
        gitops.check_flux_sops,
        subjects=gitops.sops_identities,
        applies_to=(tokens.FLUX_INSTANCE,),
    ),
    Rule(
        "ARGO-HARDEN",
        "Argo CD: admin user off once SSO is set; default RBAC role empty or read-only",
        "Argo CD operator manual",
        gitops.check_argo_harden,
        scope="resource",
        subjects=gitops.argo_releases,
        applies_to=(tokens.HELM_RELEASE,),
    ),
    Rule(
        "GITOPS-VERIFY",
        "with deletion protection on, the agent applies only signed commits or artifacts (gitops.verify)",
        "Flux source-controller verification; Argo CD GnuPG verification",
        signed_sources.check_verified_sources,
        subjects=signed_sources.subjects,
        applies_to=(tokens.FLUX_INSTANCE, tokens.HELM_RELEASE, tokens.EKS_CAPABILITY),
    ),
)

BY_ID = {rule.id: rule for rule in RULES}
