"""ArgoCdAgent and EksArgoCd under the mocks: chart, hardening, repository, bridge, root Application."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.gitops.argocd_agent import ARGOCD_CHART_REPO
from components.gitops.bridge import FIXED_KEYS
from components.spec.base import SecretValue
from eksgitops.fleet.schema import validate
from eksgitops.plan.engine import PlanResult
from eksgitops.plan.manifests import manifest_document
from tests.gitops_support import (
    FLEET_HTTPS,
    FLEET_SSH,
    IDC_INSTANCE,
    KNOWN_HOSTS,
    assert_aws_through_the_platform_provider,
    is_secret,
    k8s,
    plan,
    spec_for,
)

SSH = {"type": "ssh", "privateKey": SecretValue("argo-test-ssh-key"), "knownHosts": KNOWN_HOSTS}
SSO = {
    "issuer": "https://idp.example.com",
    "clientId": "argocd",
    "clientSecret": SecretValue("argo-sso-secret"),
}


@pytest.fixture(scope="module")
def argocd_plan() -> PlanResult:
    return plan(
        spec_for({"agent": "argocd", "repoUrl": FLEET_SSH, "credentials": SSH, "path": "clusters/qa-eu"})
    )


@pytest.fixture(scope="module")
def eks_argocd_plan() -> PlanResult:
    return plan(
        spec_for(
            {
                "agent": "eks-argocd",
                "repoUrl": FLEET_HTTPS,
                "eksArgocd": {"identityCenterInstanceArn": IDC_INSTANCE, "adminGroupIds": ["g-admins"]},
            }
        )
    )


def values(result: PlanResult) -> dict[str, Any]:
    return result.one("kubernetes:helm.sh/v3:Release").plain_inputs()["values"]


def test_the_argo_cd_chart_is_pinned_and_hardened(argocd_plan: PlanResult) -> None:
    release = argocd_plan.one("kubernetes:helm.sh/v3:Release").plain_inputs()
    assert (release["chart"], release["version"], release["repositoryOpts"]["repo"]) == (
        "argo-cd",
        "10.1.1",
        ARGOCD_CHART_REPO,
    )
    configs = values(argocd_plan)["configs"]
    assert configs["cm"]["exec.enabled"] == "false"
    assert configs["cm"]["users.anonymous.enabled"] == "false"
    assert configs["rbac"]["policy.default"] == "role:readonly"
    # Without SSO the admin is the only way in; it goes once SSO is set (next test).
    assert configs["cm"]["admin.enabled"] == "true"
    assert configs["ssh"]["extraHosts"] == KNOWN_HOSTS


def test_sso_turns_the_admin_off_and_keeps_the_client_secret_secret() -> None:
    result = plan(spec_for({"agent": "argocd", "repoUrl": FLEET_HTTPS, "argocdSso": SSO}))
    configs = values(result)["configs"]
    assert configs["cm"]["admin.enabled"] == "false"
    assert "issuer: https://idp.example.com" in configs["cm"]["oidc.config"]
    assert configs["secret"]["extra"]["oidc.eksgitops.clientSecret"] == "[secret]"
    assert "argo-sso-secret" not in json.dumps([r.plain_inputs() for r in result.resources])


def test_the_root_application_syncs_the_stacks_path(argocd_plan: PlanResult) -> None:
    root = k8s(argocd_plan, "Application", "root")
    spec = root.plain_inputs()["spec"]
    assert spec["source"] == {"repoURL": FLEET_SSH, "targetRevision": "main", "path": "clusters/qa-eu"}
    assert spec["destination"]["server"] == "https://kubernetes.default.svc"
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert validate(root.plain_inputs()) == []
    # The Application CRD comes with the chart; the credentials and bridge must be there first.
    for dependency in (
        argocd_plan.one("kubernetes:helm.sh/v3:Release"),
        k8s(argocd_plan, "Secret", "fleet-repository"),
        k8s(argocd_plan, "Secret", "in-cluster"),
    ):
        assert dependency.urn in root.dependencies


def test_the_repository_secret_keeps_the_key_secret(argocd_plan: PlanResult) -> None:
    repository = k8s(argocd_plan, "Secret", "fleet-repository")
    inputs = repository.plain_inputs()
    assert inputs["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
    assert is_secret(repository.inputs["stringData"])
    assert set(repository.inputs["stringData"]["value"]) == {"type", "url", "sshPrivateKey"}
    assert "argo-test-ssh-key" not in json.dumps([r.plain_inputs() for r in argocd_plan.resources])
    assert validate(manifest_document(repository)) == []


def test_the_cluster_secret_carries_the_bridge_and_addon_labels(argocd_plan: PlanResult) -> None:
    cluster = k8s(argocd_plan, "Secret", "in-cluster")
    metadata = cluster.plain_inputs()["metadata"]
    assert metadata["annotations"] == argocd_plan.outputs["bridge"]
    assert set(metadata["annotations"]) >= set(FIXED_KEYS)
    labels = metadata["labels"]
    assert labels["argocd.argoproj.io/secret-type"] == "cluster"
    assert labels["eksgitops.io/environment"] == "qa"
    assert labels["enable_vpc_cni"] == labels["enable_aws_ebs_csi_driver"] == "true"
    assert set(cluster.inputs["stringData"]["value"]) == {"name", "server"}
    assert validate(manifest_document(cluster)) == []


def test_no_flux_objects_with_argo_cd(argocd_plan: PlanResult) -> None:
    assert not [r for r in argocd_plan.resources if "fluxcd" in r.type or r.type.endswith(":ConfigMap")]
    assert argocd_plan.outputs["gitopsAgent"] == "argocd"


def test_eks_argocd_is_a_capability_with_its_role(eks_argocd_plan: PlanResult) -> None:
    capability = eks_argocd_plan.one("aws:eks/capability:Capability").plain_inputs()
    assert capability["type"] == "ARGOCD"
    assert capability["deletePropagationPolicy"] == "RETAIN"
    argo = capability["configuration"]["argoCd"]
    assert argo["awsIdc"] == {"idcInstanceArn": IDC_INSTANCE, "idcRegion": "eu-west-1"}
    assert argo["namespace"] == "argocd"
    assert argo["rbacRoleMappings"] == [
        {"role": "ADMIN", "identities": [{"id": "g-admins", "type": "SSO_GROUP"}]}
    ]
    role = eks_argocd_plan.one("aws:iam/role:Role", "eksgitops-qa-gitops-eks-argocd-role").plain_inputs()
    assert role["name"] == "eksgitops-qa-argocd-capability"
    assert capability["roleArn"] == f"arn:aws:iam::000000000000:role/{role['name']}"
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "capabilities.eks.amazonaws.com"}
    # The platform's own associations (synthesized from pulumi-eks) are there too: the
    # capability's is the one registered by the program for its role.
    (association,) = [
        r.plain_inputs()
        for r in eks_argocd_plan.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if not r.synthesized
    ]
    assert association["principalArn"] == capability["roleArn"]
    # No chart: AWS runs Argo CD.
    assert not eks_argocd_plan.by_type("kubernetes:helm.sh/v3:Release")
    assert_aws_through_the_platform_provider(eks_argocd_plan)


def test_eks_argocd_registers_the_cluster_by_arn_and_syncs_the_path(eks_argocd_plan: PlanResult) -> None:
    cluster_arn = "arn:aws:eks:eu-west-1:000000000000:cluster/eksgitops-qa"
    cluster = k8s(eks_argocd_plan, "Secret", "in-cluster")
    assert json.loads(json.dumps(cluster.inputs["stringData"]["value"]))["server"] == cluster_arn
    root = k8s(eks_argocd_plan, "Application", "root")
    spec = root.plain_inputs()["spec"]
    assert spec["destination"]["server"] == cluster_arn
    assert spec["source"]["path"] == "clusters/qa"
    assert eks_argocd_plan.one("aws:eks/capability:Capability").urn in root.dependencies
    assert validate(root.plain_inputs()) == []
    assert cluster.plain_inputs()["metadata"]["annotations"] == eks_argocd_plan.outputs["bridge"]


@pytest.mark.parametrize(
    ("credentials", "keys"),
    [
        ({"type": "https", "username": "bot", "token": SecretValue("argo-token")}, {"username", "password"}),
        (
            {
                "type": "github-app",
                "appId": 1,
                "installationId": 2,
                "privateKey": SecretValue("argo-app-key"),
            },
            {"githubAppID", "githubAppInstallationID", "githubAppPrivateKey"},
        ),
        (None, set()),
    ],
)
def test_each_credential_type_in_the_repository_secret(
    credentials: dict[str, Any] | None, keys: set[str]
) -> None:
    gitops: dict[str, Any] = {"agent": "argocd", "repoUrl": FLEET_HTTPS}
    if credentials is not None:
        gitops["credentials"] = credentials
    result = plan(spec_for(gitops))
    repository = k8s(result, "Secret", "fleet-repository")
    assert is_secret(repository.inputs["stringData"])
    assert set(repository.inputs["stringData"]["value"]) == {"type", "url", *keys}
    plain = json.dumps([r.plain_inputs() for r in result.resources])
    assert "argo-token" not in plain and "argo-app-key" not in plain
    assert validate(manifest_document(repository)) == []
