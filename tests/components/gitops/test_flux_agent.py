"""FluxAgent under the mocks: operator chart, FluxInstance, credentials, bridge, order and lockdown."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.gitops.bridge import FIXED_KEYS
from components.gitops.flux_agent import FLUX_OPERATOR_CHART
from components.spec.base import SecretValue
from eksgitops.fleet.schema import validate
from eksgitops.plan.engine import PlanResult, RecordedResource
from eksgitops.plan.manifests import manifest_document
from tests.gitops_support import (
    FLEET_HTTPS,
    FLEET_OCI,
    FLEET_SSH,
    KNOWN_HOSTS,
    assert_aws_through_the_platform_provider,
    is_secret,
    k8s,
    plan,
    spec_for,
    wire_text,
)

SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nssh-test-key-material\n-----END OPENSSH PRIVATE KEY-----"
TOKEN = "ghp_testtokenvalue0123456789"
APP_KEY = "-----BEGIN RSA PRIVATE KEY-----\napp-test-key\n-----END RSA PRIVATE KEY-----"

CREDENTIALS: dict[str, dict[str, Any]] = {
    "ssh": {
        "repoUrl": FLEET_SSH,
        "credentials": {"type": "ssh", "privateKey": SecretValue(SSH_KEY), "knownHosts": KNOWN_HOSTS},
    },
    "https": {
        "repoUrl": FLEET_HTTPS,
        "credentials": {"type": "https", "username": "bot", "token": SecretValue(TOKEN)},
    },
    "github-app": {
        "repoUrl": FLEET_HTTPS,
        "credentials": {
            "type": "github-app",
            "appId": 1234,
            "installationId": 5678,
            "privateKey": SecretValue(APP_KEY),
        },
    },
    "public": {"repoUrl": FLEET_HTTPS},
}
PLAINTEXT = {"ssh": SSH_KEY, "https": TOKEN, "github-app": APP_KEY}


@pytest.fixture(scope="module", params=sorted(CREDENTIALS))
def flux_plan(request: pytest.FixtureRequest) -> tuple[str, PlanResult]:
    return request.param, plan(spec_for(CREDENTIALS[request.param]))


def instance_spec(result: PlanResult) -> dict[str, Any]:
    return k8s(result, "FluxInstance", "flux").plain_inputs()["spec"]


def test_the_operator_chart_is_pinned(flux_plan: tuple[str, PlanResult]) -> None:
    _, result = flux_plan
    release = result.one("kubernetes:helm.sh/v3:Release").plain_inputs()
    assert (release["chart"], release["version"], release["namespace"]) == (
        FLUX_OPERATOR_CHART,
        "0.58.1",
        "flux-system",
    )


def test_the_instance_syncs_the_stacks_path_hardened(flux_plan: tuple[str, PlanResult]) -> None:
    kind, result = flux_plan
    spec = instance_spec(result)
    assert spec["distribution"]["version"] == "2.9.4"
    assert spec["cluster"] == {"type": "aws", "multitenant": False, "networkPolicy": True}
    assert spec["components"] == [
        "source-controller",
        "kustomize-controller",
        "helm-controller",
        "notification-controller",
    ]
    sync = spec["sync"]
    assert sync["kind"] == "GitRepository" and sync["name"] == "flux-system"
    assert (sync["ref"], sync["path"], sync["interval"]) == ("refs/heads/main", "clusters/qa", "1m")
    assert sync["url"] == CREDENTIALS[kind]["repoUrl"]
    if kind == "public":
        assert "pullSecret" not in sync
    else:
        assert sync["pullSecret"] == "flux-system"
    assert sync.get("provider") == ("github" if kind == "github-app" else None)
    # FLUX-LOCKDOWN as kustomize patches of the controllers.
    patches = {
        p["patch"].split("value: ")[1].strip(): p["target"]["name"] for p in spec["kustomize"]["patches"]
    }
    assert patches["--no-remote-bases=true"] == "kustomize-controller"
    assert (
        "kustomize-controller|helm-controller|notification-controller"
        in patches["--no-cross-namespace-refs=true"]
    )
    assert validate(k8s(result, "FluxInstance", "flux").plain_inputs()) == []


def test_the_instance_waits_for_the_operator_the_bridge_and_the_credentials(
    flux_plan: tuple[str, PlanResult],
) -> None:
    kind, result = flux_plan
    instance = k8s(result, "FluxInstance", "flux")
    release = result.one("kubernetes:helm.sh/v3:Release")
    bridge = k8s(result, "ConfigMap", "cluster-vars")
    assert release.urn in instance.dependencies
    assert bridge.urn in instance.dependencies
    if kind != "public":
        assert k8s(result, "Secret", "flux-system").urn in instance.dependencies
    # Everything in flux-system waits for the namespace, directly or through what it waits
    # for (a component's own dependencies do not reach its children, so this is not a given).
    namespace = k8s(result, "Namespace", "flux-system")
    objects = [
        r for r in result.resources if r.custom and r.type.startswith("kubernetes:") and r is not namespace
    ]
    assert objects
    for resource in objects:
        assert namespace.urn in upstream(result, resource), resource.type


def upstream(result: PlanResult, resource: RecordedResource) -> set[str]:
    """Every URN `resource` waits for, transitively."""
    by_urn = {r.urn: r for r in result.resources}
    seen: set[str] = set()
    todo = list(resource.dependencies)
    while todo:
        urn = todo.pop()
        if urn not in seen:
            seen.add(urn)
            todo.extend(by_urn[urn].dependencies if urn in by_urn else [])
    return seen


def test_credentials_stay_secret_into_the_kubernetes_secret(flux_plan: tuple[str, PlanResult]) -> None:
    kind, result = flux_plan
    if kind == "public":
        assert not [r for r in result.resources if r.type == "kubernetes:core/v1:Secret"]
        return
    secret = k8s(result, "Secret", "flux-system")
    assert is_secret(secret.inputs["stringData"])
    assert secret.plain_inputs()["stringData"] == "[secret]"
    # The plaintext did flow (so the check above is about the real value), only inside the secret.
    needle = json.dumps(PLAINTEXT[kind])[1:-1]  # as it reads inside JSON text
    assert needle in json.dumps(secret.inputs)
    assert needle not in json.dumps([r.plain_inputs() for r in result.resources])
    assert needle not in json.dumps(result.outputs)
    expected_keys = {
        "ssh": {"identity", "known_hosts"},
        "https": {"username", "password"},
        "github-app": {"githubAppID", "githubAppInstallationID", "githubAppPrivateKey"},
    }[kind]
    data = json.loads(json.dumps(secret.inputs["stringData"]["value"]))
    assert set(data) == expected_keys


def test_the_bridge_holds_exactly_the_documented_keys_equal_to_the_outputs(
    flux_plan: tuple[str, PlanResult],
) -> None:
    _, result = flux_plan
    data = k8s(result, "ConfigMap", "cluster-vars").plain_inputs()["data"]
    outputs = result.outputs
    assert set(data) == {*FIXED_KEYS, "aws_load_balancer_controller_role_arn", "reports_role_arn"}
    assert data == outputs["bridge"]
    assert data["environment"] == outputs["environment"] == "qa"
    assert data["cluster_name"] == outputs["clusterName"]
    assert data["region"] == outputs["region"]
    assert data["vpc_id"] == outputs["vpcId"]
    assert data["oidc_issuer_host"] == outputs["oidcIssuerUrl"].removeprefix("https://")
    assert data["account_id"] == "000000000000"
    assert data["reports_role_arn"] == outputs["identityRoleArns"]["reports"]
    assert (
        data["aws_load_balancer_controller_role_arn"]
        == outputs["identityRoleArns"]["aws-load-balancer-controller"]
    )
    assert (outputs["gitopsAgent"], outputs["gitopsBranch"], outputs["gitopsPath"]) == (
        "flux",
        "main",
        "clusters/qa",
    )
    for document in (
        k8s(result, "ConfigMap", "cluster-vars").plain_inputs(),
        k8s(result, "Namespace", "flux-system").plain_inputs(),
    ):
        assert validate(document) == []


def test_image_automation_adds_the_controllers_and_their_ecr_identity() -> None:
    result = plan(
        spec_for(
            {
                "repoUrl": FLEET_HTTPS,
                "imageAutomation": True,
                "credentials": {"type": "https", "token": SecretValue(TOKEN), "readOnly": False},
            }
        )
    )
    assert instance_spec(result)["components"][-2:] == [
        "image-reflector-controller",
        "image-automation-controller",
    ]
    assert validate(k8s(result, "FluxInstance", "flux").plain_inputs()) == []
    association = next(
        r.plain_inputs()
        for r in result.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if r.plain_inputs()["serviceAccount"] == "image-reflector-controller"
    )
    assert association["namespace"] == "flux-system"
    attached = {
        r.plain_inputs()["policyArn"]
        for r in result.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    assert "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly" in attached


def test_artifact_generators_add_source_watcher() -> None:
    result = plan(spec_for({"repoUrl": FLEET_HTTPS, "artifactGenerators": True}))
    assert instance_spec(result)["components"][-1] == "source-watcher"
    assert validate(k8s(result, "FluxInstance", "flux").plain_inputs()) == []


def test_source_oci_pulls_with_the_clusters_own_identity() -> None:
    result = plan(spec_for({"repoUrl": FLEET_OCI, "source": "oci", "ociTag": "qa"}))
    sync = instance_spec(result)["sync"]
    assert sync == {
        "name": "flux-system",
        "kind": "OCIRepository",
        "url": FLEET_OCI,
        "ref": "qa",
        "path": "clusters/qa",
        "provider": "aws",
        "interval": "1m",
    }
    assert not [r for r in result.resources if r.type == "kubernetes:core/v1:Secret"]
    assert validate(k8s(result, "FluxInstance", "flux").plain_inputs()) == []
    policies = [
        json.loads(r.plain_inputs()["policy"])
        for r in result.by_type("aws:iam/rolePolicy:RolePolicy")
        if "source-controller" in r.name
    ]
    assert len(policies) == 1
    resources = {json.dumps(s["Resource"]) for s in policies[0]["Statement"]}
    assert '"arn:aws:ecr:eu-west-1:111122223333:repository/fleet/qa"' in resources


def test_sops_key_is_durable_and_only_kustomize_controller_may_decrypt() -> None:
    result = plan(spec_for({"repoUrl": FLEET_HTTPS, "sops": {"enabled": True}}))
    key = result.one("aws:kms/key:Key", "eksgitops-qa-gitops-sops")
    alias = result.one("aws:kms/alias:Alias", "eksgitops-qa-gitops-sops")
    assert key.protect and key.retain_on_delete
    assert alias.protect and alias.retain_on_delete
    assert alias.plain_inputs()["name"] == "alias/eksgitops-qa-sops"
    assert key.plain_inputs()["enableKeyRotation"] is True
    decrypt = [
        json.loads(r.plain_inputs()["policy"])
        for r in result.by_type("aws:iam/rolePolicy:RolePolicy")
        if "kustomize-controller" in r.name
    ]
    assert decrypt == [
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    # The one key, by its ARN (known once AWS creates it).
                    "Resource": "(known after apply: eksgitops-qa-gitops-sops.arn)",
                }
            ],
        }
    ]
    association = next(
        r.plain_inputs()
        for r in result.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if r.plain_inputs()["serviceAccount"] == "kustomize-controller"
    )
    assert association["namespace"] == "flux-system"
    assert_aws_through_the_platform_provider(result)


def test_an_existing_sops_key_is_referenced_not_managed() -> None:
    arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    result = plan(spec_for({"repoUrl": FLEET_HTTPS, "sops": {"enabled": True, "kmsKeyArn": arn}}))
    assert [r.name for r in result.by_type("aws:kms/key:Key")] == ["eksgitops-qa-cluster-secrets"]
    assert arn in wire_text(result)


def test_receiver_and_notifications() -> None:
    result = plan(
        spec_for(
            {
                "repoUrl": FLEET_HTTPS,
                "webhookReceiver": True,
                "webhookToken": SecretValue("hmac-test-token"),
                "notifications": {
                    "type": "slack",
                    "address": SecretValue("https://hooks.slack.test/T0/B0/xyz"),
                },
            }
        )
    )
    receiver = k8s(result, "Receiver", "flux-system")
    assert validate(receiver.plain_inputs()) == []
    assert receiver.plain_inputs()["spec"]["type"] == "github"
    instance = k8s(result, "FluxInstance", "flux")
    assert instance.urn in receiver.dependencies
    # The Receiver's CRD comes with Flux: Pulumi waits for the instance to be Ready first.
    assert instance.plain_inputs()["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}
    for name in ("webhook-token", "alerts-webhook"):
        secret = k8s(result, "Secret", name)
        assert is_secret(secret.inputs["stringData"])
        assert validate(manifest_document(secret)) == []
    assert k8s(result, "Secret", "alerts-webhook").urn in k8s(result, "FluxInstance", "flux").dependencies
    plain = json.dumps([r.plain_inputs() for r in result.resources])
    assert "hmac-test-token" not in plain and "hooks.slack.test" not in plain


def test_cross_namespace_refs_is_a_visible_relaxation() -> None:
    result = plan(spec_for({"repoUrl": FLEET_HTTPS, "crossNamespaceRefs": True}))
    patches = json.dumps(instance_spec(result)["kustomize"]["patches"])
    assert "--no-cross-namespace-refs" not in patches and "--no-remote-bases=true" in patches


def test_agent_none_installs_nothing_in_the_cluster_but_keeps_the_bridge_output() -> None:
    result = plan(spec_for({"agent": "none"}))
    assert not [r for r in result.resources if r.type.startswith("kubernetes:") or "kubernetes" in r.type]
    assert result.outputs["gitopsAgent"] == "none"
    assert set(result.outputs["bridge"]) >= set(FIXED_KEYS)
