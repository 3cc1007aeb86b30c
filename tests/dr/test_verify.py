"""verify: the AWS half against moto's server, the cluster half against a fake API server, and the
IRSA trust re-pointed at a new issuer by the program itself (run under Pulumi's mocks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from components.iam_documents import irsa_trust_policy, issuer_host_of, role_name_for
from eksgitops.dr.aws import AwsClients
from eksgitops.dr.cluster_api import CONFIG_MAP, KUSTOMIZATION
from eksgitops.dr.context import load_stack
from eksgitops.dr.verify import verify_aws, verify_cluster
from tests.dr.conftest import REGION, FakeClock, client, healthy_cluster, ready

SHA = "1" * 40
LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def spec_of(project: Path):
    return load_stack(
        "dev",
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command="verify",
    ).spec


class PodIdentityStub:
    """moto has no Pod Identity API: those two calls go to a botocore Stubber (which checks the
    requests and responses against the real EKS service model); every other call goes to moto."""

    def __init__(self, moto_eks: Any, associations: dict[tuple[str, str], str]):
        self.moto = moto_eks
        import boto3

        self.stubbed = boto3.client("eks", region_name=REGION)
        self.stubber = Stubber(self.stubbed)
        self.associations = associations

    def expect(self, cluster: str, namespace: str, service_account: str) -> None:
        role = self.associations.get((namespace, service_account))
        params = {"clusterName": cluster, "namespace": namespace, "serviceAccount": service_account}
        found = (
            [
                {
                    "associationId": "a-1234567890",
                    "clusterName": cluster,
                    "namespace": namespace,
                    "serviceAccount": service_account,
                }
            ]
            if role
            else []
        )
        self.stubber.add_response("list_pod_identity_associations", {"associations": found}, params)
        if role:
            self.stubber.add_response(
                "describe_pod_identity_association",
                {"association": {"associationId": "a-1234567890", "roleArn": role, "clusterName": cluster}},
                {"clusterName": cluster, "associationId": "a-1234567890"},
            )

    def __getattr__(self, name: str) -> Any:
        if name in ("list_pod_identity_associations", "describe_pod_identity_association"):
            return getattr(self.stubbed, name)
        return getattr(self.moto, name)


def build_environment(
    spec, *, version: str | None = None, logs: list[str] | None = None, issuer_trusted: str | None = None
) -> dict[str, Any]:
    """The cluster and its IAM side as a correct `up` leaves them, in moto."""
    iam = client("iam")
    role = iam.create_role(RoleName="cluster", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    key = client("kms").create_key()["KeyMetadata"]["Arn"]
    cluster = client("eks").create_cluster(
        name=spec.cluster_name,
        version=version or spec.kubernetes_version,
        roleArn=role,
        resourcesVpcConfig={
            "subnetIds": ["subnet-1", "subnet-2"],
            "endpointPrivateAccess": True,
            "endpointPublicAccess": False,
        },
        logging={"clusterLogging": [{"types": logs if logs is not None else LOGS, "enabled": True}]},
        encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": key}}],
    )["cluster"]
    issuer = cluster["identity"]["oidc"]["issuer"]
    provider = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"])[
        "OpenIDConnectProviderArn"
    ]
    trusted_host = issuer_host_of(issuer_trusted or issuer)
    trusted_provider = f"arn:aws:iam::123456789012:oidc-provider/{trusted_host}"
    for identity in spec.identities:
        name = role_name_for(spec.cluster_name, identity.name)
        if identity.mode == "irsa":
            trust = irsa_trust_policy(
                trusted_provider, trusted_host, identity.namespace, identity.service_account
            )
        else:
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "pods.eks.amazonaws.com"},
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                    }
                ],
            }
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    return {"issuer": issuer, "provider": provider}


def aws_with_pod_identity(spec, role_for: dict[tuple[str, str], str] | None = None) -> AwsClients:
    clients = AwsClients(REGION)
    associations = (
        role_for
        if role_for is not None
        else {
            (
                i.namespace,
                i.service_account,
            ): f"arn:aws:iam::123456789012:role/{role_name_for(spec.cluster_name, i.name)}"
            for i in spec.identities
            if i.mode == "pod-identity"
        }
    )
    stub = PodIdentityStub(clients.client("eks"), associations)
    for identity in spec.identities:
        if identity.mode == "pod-identity":
            stub.expect(spec.cluster_name, identity.namespace, identity.service_account)
    stub.stubber.activate()
    clients._clients["eks"] = stub
    return clients


def failing(rows) -> dict[str, str]:
    return {r.check: r.reason for r in rows if not r.ok}


def test_aws_side_of_a_correct_environment_passes(aws_env, project):
    spec = spec_of(project)
    build_environment(spec)
    rows = verify_aws(spec, aws_with_pod_identity(spec))
    assert failing(rows) == {}
    assert [r.check for r in rows] == [
        "cluster ACTIVE",
        "Kubernetes version",
        "control-plane logging",
        "secrets encryption",
        "API endpoint",
        "OIDC provider",
        "Pod Identity external-dns",
        "IRSA trust app-s3-reader",
    ]


def test_aws_side_names_each_difference(aws_env, project):
    spec = spec_of(project)
    build_environment(spec, version="1.34", logs=["api"])
    rows = verify_aws(spec, aws_with_pod_identity(spec, role_for={}))
    failed = failing(rows)
    assert failed["Kubernetes version"] == "1.34 (spec 1.35)"
    assert failed["control-plane logging"].startswith("api (spec api, audit")
    assert failed["Pod Identity external-dns"] == "no association for external-dns/external-dns"
    assert set(failed) == {"Kubernetes version", "control-plane logging", "Pod Identity external-dns"}


def test_endpoint_difference_is_caught(aws_env, project):
    text = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    (project / "stacks" / "Pulumi.dev.yaml").write_text(
        text
        + "  eksgitops:endpoint:\n    privateAccess: true\n    publicAccess: true\n"
        + "    publicAccessCidrs: [203.0.113.0/24]\n"
    )
    spec = spec_of(project)
    build_environment(spec)  # built private only
    failed = failing(verify_aws(spec, aws_with_pod_identity(spec)))
    assert set(failed) == {"API endpoint"}
    assert "spec private True, public True ['203.0.113.0/24']" in failed["API endpoint"]


def test_stale_irsa_trust_after_an_issuer_change_is_caught_then_passes_once_re_pointed(aws_env, project):
    spec = spec_of(project)
    old_issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/OLDCLUSTER0000"
    env = build_environment(spec, issuer_trusted=old_issuer)
    failed = failing(verify_aws(spec, aws_with_pod_identity(spec)))
    assert set(failed) == {"IRSA trust app-s3-reader"}
    assert "does not trust the current issuer" in failed["IRSA trust app-s3-reader"]
    # What `up` does on a rebuild: the same role, its trust re-pointed at the new issuer.
    host = issuer_host_of(env["issuer"])
    client("iam").update_assume_role_policy(
        RoleName=role_name_for(spec.cluster_name, "app-s3-reader"),
        PolicyDocument=json.dumps(irsa_trust_policy(env["provider"], host, "apps", "s3-reader")),
    )
    assert failing(verify_aws(spec, aws_with_pod_identity(spec))) == {}


def test_missing_oidc_provider_is_caught(aws_env, project):
    spec = spec_of(project)
    env = build_environment(spec)
    client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=env["provider"])
    failed = failing(verify_aws(spec, aws_with_pod_identity(spec)))
    assert failed["OIDC provider"].startswith(
        "no IAM OIDC provider for the current issuer oidc.eks.eu-west-1"
    )


def test_missing_cluster_is_one_failed_row_not_a_traceback(aws_env, project):
    spec = spec_of(project)
    rows = verify_aws(spec, AwsClients(REGION))
    assert (
        rows[0].check == "cluster ACTIVE" and not rows[0].ok and "ResourceNotFoundException" in rows[0].reason
    )


# --- the cluster half -------------------------------------------------------------------

BRIDGE = {"environment": "dev", "cluster_name": "eksgitops-dev", "region": "eu-west-1"}


def test_cluster_side_of_a_healthy_cluster_passes():
    api = healthy_cluster(FakeClock(), SHA, BRIDGE)
    assert failing(verify_cluster(api, "flux", SHA, BRIDGE)) == {}


def test_cluster_side_names_revision_failure_and_bridge_drift():
    api = healthy_cluster(FakeClock(), SHA, {**BRIDGE, "region": "us-east-1", "stale_key": "x"})
    api.objects[("kustomizations", "flux-system", "apps")]["status"] = {
        "conditions": ready("False", "BuildFailed", "kustomize build failed: missing resource"),
        "lastAppliedRevision": "main@sha1:" + "0" * 40,
    }
    failed = failing(verify_cluster(api, "flux", SHA, BRIDGE))
    assert failed["synced revision"].startswith("Kustomization flux-system/apps: Ready=False (BuildFailed")
    assert "Kustomization flux-system/apps: Ready=False (BuildFailed" in failed["no failed reconciliation"]
    assert (
        failed["bridge"] == "region: cluster 'us-east-1', stack 'eu-west-1'; stale_key: in the cluster only"
    )


def test_cluster_side_without_bridge_or_agent():
    api = healthy_cluster(FakeClock(), SHA)
    del api.objects[("configmaps", "flux-system", "cluster-vars")]
    del api.objects[("fluxinstances", "flux-system", "flux")]
    failed = failing(verify_cluster(api, "flux", SHA, BRIDGE))
    assert failed["agent Ready"] == "FluxInstance flux-system/flux: not found"
    assert failed["bridge"] == "ConfigMap flux-system/cluster-vars not found"
    assert (
        failing(verify_cluster(api, "flux", SHA, None))["bridge"]
        == "the stack has no bridge output to compare with"
    )


@pytest.mark.parametrize(
    ("applied", "ok"),
    [
        (f"main@sha1:{SHA}", True),
        (f"sha1:{SHA}", True),
        (f"main/{SHA}", True),
        (SHA, True),
        ("main@sha1:" + "2" * 40, False),
        ("", False),
    ],
)
def test_revision_formats(applied, ok):
    api = healthy_cluster(FakeClock(), SHA, BRIDGE)
    api.objects[(KUSTOMIZATION.plural, "flux-system", "apps")]["status"]["lastAppliedRevision"] = applied
    assert ("synced revision" not in failing(verify_cluster(api, "flux", SHA, BRIDGE))) is ok
    assert CONFIG_MAP.plural == "configmaps"


# --- the IRSA trust is re-pointed by the program itself on a rebuild -----------------------


def test_rebuild_re_points_the_irsa_trust_at_the_new_issuer(monkeypatch):
    """Two `up`s of the same stack whose cluster comes back with a new issuer: the IRSA role keeps
    its name (so it is updated in place) and its trust names only the new issuer."""
    from components.spec import load_spec
    from components.spec.base import PROJECT
    from components.spec.read import config_for_pulumi, stack_config
    from eksgitops.plan import engine
    from eksgitops.program import main

    repo = Path(__file__).resolve().parents[2]
    raw = stack_config(repo / "stacks" / "Pulumi.dev.yaml", repo / "Pulumi.yaml")
    spec = load_spec(raw, stack="dev", source="dev")
    irsa = [i for i in spec.identities if i.mode == "irsa"]
    assert irsa, "the dev stack has an IRSA identity"
    config, secrets = config_for_pulumi(raw, PROJECT)
    trusts = []
    for generation in ("OLD", "NEW"):
        # A rebuilt cluster gets a new issuer id from EKS: each generation answers its own.
        def issuer_for(name: str, attr: str, g: str = generation, real=engine.unknown) -> str:
            if attr == "identities[0].oidcs[0].issuer":
                return f"oidc.eks.{spec.region}.amazonaws.com/id/{g}CLUSTERPLAN"
            return real(name, attr)

        monkeypatch.setattr(engine, "unknown", issuer_for)
        result = engine.run_program(
            main, project=PROJECT, stack="dev", config=config, secret_keys=secrets, region=spec.region
        )
        role = next(
            r
            for r in result.by_type("aws:iam/role:Role")
            if r.inputs.get("name") == role_name_for(spec.cluster_name, irsa[0].name)
        )
        trusts.append((role.inputs["name"], json.loads(role.inputs["assumeRolePolicy"])))
    (old_name, old_trust), (new_name, new_trust) = trusts
    assert old_name == new_name
    new_host = f"oidc.eks.{spec.region}.amazonaws.com/id/NEWCLUSTERPLAN"
    old_host = f"oidc.eks.{spec.region}.amazonaws.com/id/OLDCLUSTERPLAN"
    assert json.dumps(new_trust).count(old_host) == 0 and new_host in json.dumps(new_trust)
    assert old_host in json.dumps(old_trust)
