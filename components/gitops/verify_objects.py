"""What `gitops.verify` becomes in the cluster (docs/signing.md).

Flux: the trusted keys in the Secret `flux-system/fleet-verify-keys`, named by the suffix
source-controller reads (`.asc` OpenPGP, `.sshpub` SSH, `.pub` cosign, `.crt` plus a
`trustpolicy.json` for notation), and a kustomize patch of the FluxInstance that adds
`spec.verify` to the sync GitRepository or OCIRepository, the way the Flux Operator documents
it ("Cluster sync GitRepository verification"). Argo CD: the OpenPGP keys in its GnuPG keyring
(`argocd-gpg-keys-cm`, through the chart's `configs.gpg.keys`) and a root AppProject whose
`signatureKeys` lists them, so the root Application syncs signed commits only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from eksgitops.components.spec.gitops import GitOpsSpec
from eksgitops.components.spec.gitops_verify import VerifySpec

VERIFY_SECRET = "fleet-verify-keys"
"""The Secret in flux-system holding the keys the sync source is verified with."""
NOTATION_TRUST_STORE = "fleet"
ROOT_PROJECT = "eksgitops-root"
"""Argo CD: the AppProject of the root Application when verification is on."""


def notation_trust_policy() -> str:
    """notation's trust policy: strict verification against the certificates of the Secret."""
    return json.dumps(
        {
            "version": "1.0",
            "trustPolicies": [
                {
                    "name": "fleet",
                    "registryScopes": ["*"],
                    "signatureVerification": {"level": "strict"},
                    "trustStores": [f"ca:{NOTATION_TRUST_STORE}"],
                    "trustedIdentities": ["*"],
                }
            ],
        },
        indent=2,
    )


def flux_verify_secret_data(verify: VerifySpec) -> dict[str, str]:
    """The verification Secret's entries: one file per key, as source-controller reads them."""
    data = {key.file_name: key.text for key in verify.parsed_keys()}
    if verify.provider == "notation":
        data["trustpolicy.json"] = notation_trust_policy()
    return data


def flux_verify_value(verify: VerifySpec, source: str) -> dict:
    """The `spec.verify` of the sync source (GitRepository or OCIRepository, shipped CRDs)."""
    if source == "oci":
        value: dict = {"provider": verify.provider or "cosign"}
        if verify.match_oidc_identity:
            value["matchOIDCIdentity"] = [
                {"issuer": i.issuer, "subject": i.subject} for i in verify.match_oidc_identity
            ]
        else:
            value["secretRef"] = {"name": VERIFY_SECRET}
        return value
    return {"mode": verify.mode, "secretRef": {"name": VERIFY_SECRET}}


def flux_verify_patch(verify: VerifySpec, source: str, sync_name: str) -> dict:
    """The FluxInstance kustomize patch adding `spec.verify` to the sync source."""
    kind = "OCIRepository" if source == "oci" else "GitRepository"
    operation = [{"op": "add", "path": "/spec/verify", "value": flux_verify_value(verify, source)}]
    # A JSON patch as YAML text; JSON is YAML, and json.dumps quotes every string (a regexp's
    # backslashes and `$` included) so that nothing in it is read as YAML syntax.
    return {"patch": json.dumps(operation), "target": {"kind": kind, "name": sync_name}}


def flux_verify_secret(
    name: str, verify: VerifySpec, namespace: str, labels: Mapping[str, str], opts: pulumi.ResourceOptions
) -> k8s.core.v1.Secret | None:
    """The keys' Secret, or None when keyless cosign needs no key."""
    data = flux_verify_secret_data(verify)
    if not data:
        return None
    return k8s.core.v1.Secret(
        f"{name}-verify-keys",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=VERIFY_SECRET, namespace=namespace, labels=dict(labels)),
        type="Opaque",
        string_data=data,
        opts=opts,
    )


def argocd_gpg_keys(spec: GitOpsSpec) -> dict[str, str]:
    """`configs.gpg.keys` of the argo-cd chart (argocd-gpg-keys-cm): key id → armored key."""
    if spec.verify is None:
        return {}
    return {key.key_id: key.text for key in spec.verify.parsed_keys() if key.kind == "openpgp"}


def root_project(
    name: str, spec: GitOpsSpec, namespace: str, labels: Mapping[str, str], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource | None:
    """The root AppProject requiring the keys' signatures, or None without verification."""
    keys = argocd_gpg_keys(spec)
    if not keys:
        return None
    assert spec.repo_url is not None
    return k8s.apiextensions.CustomResource(
        f"{name}-root-project",
        api_version="argoproj.io/v1alpha1",
        kind="AppProject",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=ROOT_PROJECT, namespace=namespace, labels=dict(labels)),
        spec={
            "description": "The fleet's root: syncs only commits signed by gitops.verify's keys",
            "sourceRepos": [spec.repo_url],
            "destinations": [{"server": "*", "namespace": "*"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
            "signatureKeys": [{"keyID": key_id} for key_id in sorted(keys)],
        },
        opts=opts,
    )
