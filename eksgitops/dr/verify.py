"""`eksgitops dr verify STACK`: is the environment what the spec and Git say?

The AWS half with boto3 (cluster, logging, encryption, endpoint, OIDC provider, IRSA
trusts, Pod Identity associations) and the cluster half through `ClusterApi` (agent Ready,
synced revision, no failed reconciliation, the bridge equal to the stack's outputs).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from eksgitops.components.iam_documents import issuer_host_of, role_name_for
from eksgitops.components.spec import EnvironmentSpec
from eksgitops.dr.aws import AwsClients, error_text
from eksgitops.dr.cluster_api import ClusterApi
from eksgitops.dr.report import CheckRow
from eksgitops.dr.sync_status import (
    Accepts,
    agent_probe,
    bridge_in_cluster,
    failed_reconciliations,
    is_argo,
    workloads_probe,
)


def _guard(check: str, side: str, body: Callable[[], list[CheckRow]]) -> list[CheckRow]:
    try:
        return body()
    except Exception as exc:
        return [CheckRow(check, False, error_text(exc), side)]


def verify_aws(spec: EnvironmentSpec, aws: AwsClients) -> list[CheckRow]:
    """The AWS half; each row names what was compared."""
    rows: list[CheckRow] = []
    cluster: dict[str, Any] = {}

    def control_plane() -> list[CheckRow]:
        cluster.update(aws.client("eks").describe_cluster(name=spec.cluster_name)["cluster"])
        out = [
            CheckRow(
                "cluster ACTIVE",
                cluster.get("status") == "ACTIVE",
                f"{spec.cluster_name} is {cluster.get('status')}",
                "aws",
            ),
            CheckRow(
                "Kubernetes version",
                cluster.get("version") == spec.kubernetes_version,
                f"{cluster.get('version')} (spec {spec.kubernetes_version})",
                "aws",
            ),
        ]
        enabled = sorted(
            t
            for entry in cluster.get("logging", {}).get("clusterLogging", [])
            if entry.get("enabled")
            for t in entry.get("types", [])
        )
        out.append(
            CheckRow(
                "control-plane logging",
                enabled == sorted(spec.logging),
                f"{', '.join(enabled) or 'none'} (spec {', '.join(sorted(spec.logging)) or 'none'})",
                "aws",
            )
        )
        encryption = cluster.get("encryptionConfig") or []
        secrets = [e for e in encryption if "secrets" in (e.get("resources") or [])]
        key = secrets[0].get("provider", {}).get("keyArn") if secrets else None
        if not secrets:
            out.append(CheckRow("secrets encryption", False, "no KMS envelope encryption of secrets", "aws"))
        elif spec.secrets_kms_key_arn and key != spec.secrets_kms_key_arn:
            out.append(
                CheckRow("secrets encryption", False, f"key {key}, spec {spec.secrets_kms_key_arn}", "aws")
            )
        else:
            out.append(CheckRow("secrets encryption", True, f"secrets encrypted with {key}", "aws"))
        vpc = cluster.get("resourcesVpcConfig", {})
        want = spec.endpoint
        got_cidrs = sorted(vpc.get("publicAccessCidrs") or []) if vpc.get("endpointPublicAccess") else []
        want_cidrs = sorted(want.public_access_cidrs) if want.public_access else []
        same = (
            bool(vpc.get("endpointPrivateAccess")) == want.private_access
            and bool(vpc.get("endpointPublicAccess")) == want.public_access
            and got_cidrs == want_cidrs
        )
        got = f"private {vpc.get('endpointPrivateAccess')}, public {vpc.get('endpointPublicAccess')}"
        wanted = f"private {want.private_access}, public {want.public_access}"
        got += f" {got_cidrs}" if got_cidrs else ""
        wanted += f" {want_cidrs}" if want_cidrs else ""
        out.append(CheckRow("API endpoint", same, f"{got} (spec {wanted})", "aws"))
        return out

    rows += _guard("cluster ACTIVE", "aws", control_plane)
    issuer = cluster.get("identity", {}).get("oidc", {}).get("issuer")
    if not issuer:
        rows.append(CheckRow("OIDC provider", False, "the cluster reports no OIDC issuer", "aws"))
        return rows
    host = issuer_host_of(issuer)
    provider_arn: list[str] = []

    def oidc() -> list[CheckRow]:
        iam = aws.client("iam")
        for entry in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            answer = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=entry["Arn"])
            if issuer_host_of(answer["Url"]) == host:
                provider_arn.append(entry["Arn"])
                ok = "sts.amazonaws.com" in answer.get("ClientIDList", [])
                return [
                    CheckRow(
                        "OIDC provider",
                        ok,
                        f"{entry['Arn']} for {host}" + ("" if ok else " lacks client id sts.amazonaws.com"),
                        "aws",
                    )
                ]
        return [
            CheckRow("OIDC provider", False, f"no IAM OIDC provider for the current issuer {host}", "aws")
        ]

    rows += _guard("OIDC provider", "aws", oidc)
    for identity in spec.identities:
        role_name = role_name_for(spec.cluster_name, identity.name)
        if identity.mode == "irsa":
            rows += _guard(
                f"IRSA trust {identity.name}",
                "aws",
                lambda n=role_name, i=identity: [_irsa_trust(aws, n, i.name, host, provider_arn)],
            )
        else:
            rows += _guard(
                f"Pod Identity {identity.name}",
                "aws",
                lambda n=role_name, i=identity: [_pod_identity(aws, spec, n, i)],
            )
    return rows


def trust_names_issuer(document: Mapping[str, Any], host: str, provider_arn: str | None) -> bool:
    """True when some statement trusts `host` (federated principal and `<host>:sub` condition)."""
    statements = document.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        principal = st.get("Principal", {}).get("Federated")
        principals = principal if isinstance(principal, list) else [principal]
        conditions = json.dumps(st.get("Condition", {}))
        if (
            any(isinstance(p, str) and p.endswith(f"oidc-provider/{host}") for p in principals)
            and (provider_arn is None or provider_arn in principals)
            and f'"{host}:sub"' in conditions
        ):
            return True
    return False


def _irsa_trust(
    aws: AwsClients, role_name: str, identity: str, host: str, provider_arn: list[str]
) -> CheckRow:
    role = aws.client("iam").get_role(RoleName=role_name)["Role"]
    doc = role["AssumeRolePolicyDocument"]
    if isinstance(doc, str):
        doc = json.loads(unquote(doc))
    ok = trust_names_issuer(doc, host, provider_arn[0] if provider_arn else None)
    return CheckRow(
        f"IRSA trust {identity}",
        ok,
        f"{role_name} trusts {host}"
        if ok
        else f"{role_name} does not trust the current issuer {host} (stale trust: run `dr rebuild`)",
        "aws",
    )


def _pod_identity(aws: AwsClients, spec: EnvironmentSpec, role_name: str, identity: Any) -> CheckRow:
    eks = aws.client("eks")
    found = eks.list_pod_identity_associations(
        clusterName=spec.cluster_name, namespace=identity.namespace, serviceAccount=identity.service_account
    ).get("associations", [])
    where = f"{identity.namespace}/{identity.service_account}"
    if not found:
        return CheckRow(f"Pod Identity {identity.name}", False, f"no association for {where}", "aws")
    detail = eks.describe_pod_identity_association(
        clusterName=spec.cluster_name, associationId=found[0]["associationId"]
    )["association"]
    ok = str(detail.get("roleArn", "")).endswith(f":role/{role_name}")
    return CheckRow(f"Pod Identity {identity.name}", ok, f"{where} -> {detail.get('roleArn')}", "aws")


def verify_cluster(
    api: ClusterApi,
    agent: str,
    sha: str,
    expected_bridge: Mapping[str, str] | None,
    *,
    accepts: Accepts | None = None,
    repo_url: str | None = None,
) -> list[CheckRow]:
    """The cluster half; `accepts`/`repo_url` as in `workloads_probe`."""
    rows: list[CheckRow] = []

    def agent_ready() -> list[CheckRow]:
        probe = agent_probe(api, agent)
        return [CheckRow("agent Ready", probe.done, f"{probe.subject}: {probe.seen}", "cluster")]

    def synced() -> list[CheckRow]:
        probe = workloads_probe(api, agent, sha, accepts=accepts, repo_url=repo_url)
        return [
            CheckRow(
                "synced revision",
                probe.done,
                probe.seen if probe.done else f"{probe.subject}: {probe.seen}",
                "cluster",
            )
        ]

    def failures() -> list[CheckRow]:
        failed = failed_reconciliations(api, agent)
        return [
            CheckRow("no failed reconciliation", not failed, "; ".join(failed) or "none failed", "cluster")
        ]

    def bridge() -> list[CheckRow]:
        where, actual = bridge_in_cluster(api, agent)
        if expected_bridge is None:
            return [CheckRow("bridge", False, "the stack has no bridge output to compare with", "cluster")]
        if actual is None:
            return [CheckRow("bridge", False, f"{where} not found", "cluster")]
        diffs = [
            f"{k}: cluster {actual.get(k)!r}, stack {v!r}"
            for k, v in sorted(expected_bridge.items())
            if actual.get(k) != str(v)
        ]
        if not is_argo(agent):
            diffs += [f"{k}: in the cluster only" for k in sorted(set(actual) - set(expected_bridge))]
        return [
            CheckRow(
                "bridge",
                not diffs,
                "; ".join(diffs) or f"{where} equals the stack outputs ({len(expected_bridge)} keys)",
                "cluster",
            )
        ]

    for name, body in (
        ("agent Ready", agent_ready),
        ("synced revision", synced),
        ("no failed reconciliation", failures),
        ("bridge", bridge),
    ):
        rows += _guard(name, "cluster", body)
    return rows
