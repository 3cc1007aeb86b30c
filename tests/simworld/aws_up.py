"""What a correct `pulumi up` of a stack leaves in AWS, made in moto, and what `destroy` removes.

`AwsSide` is hooked to a `SimBackend` (`on_up`/`on_destroy`) by `SimWorld`: the EKS cluster
(tagged for its environment), its IAM role, the OIDC provider, one role per workload
identity (IRSA trust on the issuer, or Pod Identity). moto has no Pod Identity API:
`SimAwsClients` answers its two read calls from what `up` recorded (modeled, not moto);
every other call goes to moto.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from eksgitops.components.iam_documents import irsa_trust_policy, issuer_host_of, role_name_for
from eksgitops.components.spec import EnvironmentSpec
from eksgitops.dr.aws import AwsClients

LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
POD_IDENTITY_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    ],
}


@dataclass
class AwsSide:
    """The AWS resources of each stack's cluster, as `up` makes them and `destroy` removes them."""

    pod_identities: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """(cluster, namespace, service account) -> role ARN."""
    made: dict[str, dict[str, Any]] = field(default_factory=dict)
    """cluster name -> what was made (role names, OIDC provider ARN)."""

    def up(self, spec: EnvironmentSpec) -> None:
        if spec.cluster_name in self.made:
            return
        region = spec.region
        iam = boto3.client("iam", region_name=region)
        tags = {"eksgitops:environment": spec.environment, "eksgitops:cluster": spec.cluster_name}
        role_name = f"{spec.cluster_name}-cluster"
        role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        key = boto3.client("kms", region_name=region).create_key()["KeyMetadata"]["Arn"]
        cluster = boto3.client("eks", region_name=region).create_cluster(
            name=spec.cluster_name,
            version=spec.kubernetes_version,
            roleArn=role,
            resourcesVpcConfig={
                "subnetIds": ["subnet-1", "subnet-2"],
                "endpointPrivateAccess": spec.endpoint.private_access,
                "endpointPublicAccess": spec.endpoint.public_access,
                **(
                    {"publicAccessCidrs": list(spec.endpoint.public_access_cidrs)}
                    if spec.endpoint.public_access
                    else {}
                ),
            },
            logging={"clusterLogging": [{"types": list(spec.logging), "enabled": True}]},
            encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": key}}],
            tags=tags,
        )["cluster"]
        issuer = cluster["identity"]["oidc"]["issuer"]
        provider = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"])[
            "OpenIDConnectProviderArn"
        ]
        host = issuer_host_of(issuer)
        roles = [role_name]
        for identity in spec.identities:
            name = role_name_for(spec.cluster_name, identity.name)
            trust = (
                irsa_trust_policy(provider, host, identity.namespace, identity.service_account)
                if identity.mode == "irsa"
                else POD_IDENTITY_TRUST
            )
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
            roles.append(name)
            if identity.mode == "pod-identity":
                self.pod_identities[(spec.cluster_name, identity.namespace, identity.service_account)] = arn
        self.made[spec.cluster_name] = {"region": region, "roles": roles, "provider": provider}

    def destroy(self, spec: EnvironmentSpec) -> None:
        made = self.made.pop(spec.cluster_name, None)
        if made is None:
            return
        iam = boto3.client("iam", region_name=made["region"])
        boto3.client("eks", region_name=made["region"]).delete_cluster(name=spec.cluster_name)
        for name in made["roles"]:
            iam.delete_role(RoleName=name)
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=made["provider"])
        for key in [k for k in self.pod_identities if k[0] == spec.cluster_name]:
            del self.pod_identities[key]


class _Eks:
    """moto's EKS client, with the Pod Identity reads answered from `AwsSide`."""

    def __init__(self, moto: Any, side: AwsSide):
        self._moto, self._side = moto, side

    def list_pod_identity_associations(
        self, *, clusterName: str, namespace: str, serviceAccount: str, **_: Any
    ) -> dict[str, Any]:
        role = self._side.pod_identities.get((clusterName, namespace, serviceAccount))
        found = [
            {
                "associationId": f"a-{abs(hash((clusterName, namespace, serviceAccount))) % 10**10:010d}",
                "clusterName": clusterName,
                "namespace": namespace,
                "serviceAccount": serviceAccount,
                "roleArn": role,
            }
        ]
        self._found = {a["associationId"]: a for a in found} if role else {}
        return {
            "associations": [{k: v for k, v in a.items() if k != "roleArn"} for a in found] if role else []
        }

    def describe_pod_identity_association(self, *, clusterName: str, associationId: str) -> dict[str, Any]:
        return {"association": dict(self._found[associationId])}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._moto, name)


class SimAwsClients(AwsClients):
    """AwsClients on moto, with `eks` answering the Pod Identity reads from `side`."""

    def __init__(self, region: str, side: AwsSide):
        super().__init__(region)
        self._side = side

    def client(self, service: str) -> Any:
        real = super().client(service)
        return _Eks(real, self._side) if service == "eks" else real
