"""GitOps agent rules: GIT-CREDS-SECRET, GIT-SSH-KNOWN-HOSTS, GIT-READONLY, FLUX-LOCKDOWN,
FLUX-SOPS, ARGO-HARDEN.

They read the Kubernetes objects and Helm releases the program declares, in the shapes of
the upstream APIs: Flux's Git Secret keys (`identity`, `known_hosts`, `username`,
`password`, `githubAppPrivateKey`), Argo CD's repository Secrets (label
`argocd.argoproj.io/secret-type`), the Flux Operator's `FluxInstance`, and the argo-cd
chart's values. A stack without an agent has nothing for them to judge: "not applicable".
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from components import type_tokens as tokens
from eksgitops.policy.identity import admin_problems
from eksgitops.policy.model import (
    SECRET,
    Finding,
    Graph,
    Resource,
    UnknownDocument,
    as_list,
    document,
    finding,
    get,
    is_unknown,
    statements,
)
from eksgitops.policy.nodes import attached_to, roles_by_reference

SECRET_TYPES = (tokens.K8S_SECRET,)
IMAGE_AUTOMATION = "kubernetes:image.toolkit.fluxcd.io/*"
DEPLOY_KEYS = {
    "github:index/repositoryDeployKey:RepositoryDeployKey": ("readOnly", True),
    "gitlab:index/deployKey:DeployKey": ("canPush", False),
}
# Keys of a Git credentials Secret: Flux (source-controller) and Argo CD (repository Secrets).
FLUX_CREDENTIAL_KEYS = ("identity", "password", "bearerToken", "githubAppPrivateKey")
ARGO_CREDENTIAL_KEYS = ("sshPrivateKey", "password", "githubAppPrivateKey", "bearerToken")
ARGO_SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
KUSTOMIZE_CONTROLLER = ("flux-system", "kustomize-controller")


def _data(secret: Resource) -> dict[str, Any]:
    """A Secret's keys with their values (stringData over data); a whole map may read "[secret]"."""
    merged: dict[str, Any] = {}
    for field in ("data", "stringData"):
        value = secret.props.get(field)
        if value == SECRET:
            return {"*": SECRET}
        if isinstance(value, Mapping):
            merged.update(value)
    return merged


def _argo_repository(secret: Resource) -> bool:
    labels = get(secret.props, "metadata.labels", {})
    return isinstance(labels, Mapping) and labels.get(ARGO_SECRET_TYPE_LABEL) in ("repository", "repo-creds")


def git_secrets(graph: Graph) -> list[tuple[Resource, dict[str, Any], tuple[str, ...]]]:
    found = []
    for secret in graph.of_type(*SECRET_TYPES):
        data = _data(secret)
        keys = ARGO_CREDENTIAL_KEYS if _argo_repository(secret) else FLUX_CREDENTIAL_KEYS
        if "*" in data or any(k in data for k in keys) or _argo_repository(secret):
            found.append((secret, data, keys))
    return found


def check_credentials_secret(graph: Graph) -> Iterator[Finding]:
    for secret, data, keys in git_secrets(graph):
        if "*" in data:
            continue
        for key in keys:
            if key in data and data[key] != SECRET:
                yield finding(
                    "GIT-CREDS-SECRET",
                    secret,
                    f"Git credential {key} is not a Pulumi secret (plaintext in state)",
                )
    for release in graph.of_type(tokens.HELM_RELEASE):
        values = release.props.get("values")
        if not isinstance(values, Mapping):
            continue
        for group in ("repositories", "credentialTemplates"):
            entries = get(values, f"configs.{group}", {})
            if not isinstance(entries, Mapping):
                continue
            for name, entry in entries.items():
                if not isinstance(entry, Mapping):
                    continue
                for key in ARGO_CREDENTIAL_KEYS:
                    if key in entry and entry[key] != SECRET:
                        yield finding(
                            "GIT-CREDS-SECRET",
                            release,
                            f"values configs.{group}.{name}.{key} is not a Pulumi secret",
                        )


def check_known_hosts(graph: Graph) -> Iterator[Finding]:
    for secret, data, _ in git_secrets(graph):
        if "*" in data:
            continue
        if _argo_repository(secret):
            if str(data.get("insecure", "")).lower() == "true":
                yield finding(
                    "GIT-SSH-KNOWN-HOSTS", secret, "insecure: true skips the Git server's host key check"
                )
        elif "identity" in data and not data.get("known_hosts"):
            yield finding(
                "GIT-SSH-KNOWN-HOSTS", secret, "SSH credentials without known_hosts (no pinned host key)"
            )


def _writes_back(graph: Graph) -> bool:
    if graph.has_type(IMAGE_AUTOMATION):
        return True
    for instance in graph.of_type(tokens.FLUX_INSTANCE):
        if "image-automation-controller" in as_list(get(instance.props, "spec.components", [])):
            return True
    return False


def check_readonly(graph: Graph) -> Iterator[Finding]:
    if _writes_back(graph):
        return
    for type_, (field, wanted) in DEPLOY_KEYS.items():
        for key in graph.of_type(type_):
            if key.props.get(field, not wanted) != wanted:
                yield finding(
                    "GIT-READONLY", key, "deploy key can push, and no image automation writes back to Git"
                )


def check_flux_lockdown(graph: Graph) -> Iterator[Finding]:
    for instance in graph.of_type(tokens.FLUX_INSTANCE):
        spec = instance.props.get("spec") or {}
        patches = json.dumps(get(spec, "kustomize.patches", []))
        # Either the operator's multitenant lockdown or the flag itself, patched onto the controllers.
        if get(spec, "cluster.multitenant") is not True and "--no-cross-namespace-refs=true" not in patches:
            yield finding(
                "FLUX-LOCKDOWN",
                instance,
                "cross-namespace references allowed: neither spec.cluster.multitenant nor "
                "--no-cross-namespace-refs=true on the controllers",
            )
        if get(spec, "cluster.networkPolicy") is False:
            yield finding("FLUX-LOCKDOWN", instance, "spec.cluster.networkPolicy is off")
        if "--no-remote-bases=true" not in patches:
            yield finding(
                "FLUX-LOCKDOWN", instance, "kustomize-controller runs without --no-remote-bases=true"
            )
        if "--insecure-kubeconfig" in patches:
            yield finding("FLUX-LOCKDOWN", instance, "a controller runs with an --insecure-kubeconfig flag")


def _kustomize_controller_roles(graph: Graph) -> list[Resource]:
    roles: dict[str, Resource] = {}
    for association in graph.of_type(tokens.EKS_POD_IDENTITY_ASSOCIATION):
        who = (association.props.get("namespace"), association.props.get("serviceAccount"))
        if who == KUSTOMIZE_CONTROLLER:
            for role in roles_by_reference(graph, association, "roleArn"):
                roles[role.urn] = role
    subject = "system:serviceaccount:{}:{}".format(*KUSTOMIZE_CONTROLLER)
    for role in graph.of_type(tokens.IAM_ROLE):
        text = role.props.get("assumeRolePolicy")
        if isinstance(text, str) and subject in text:
            roles[role.urn] = role
    return list(roles.values())


def check_flux_sops(graph: Graph) -> Iterator[Finding]:
    for role in _kustomize_controller_roles(graph):
        for attachment in attached_to(graph, role, tokens.IAM_ROLE_POLICY_ATTACHMENT):
            yield finding(
                "FLUX-SOPS",
                attachment,
                f"the decrypting controller's role carries {attachment.props.get('policyArn')}",
            )
        keys: set[str] = set()
        for inline in attached_to(graph, role, tokens.IAM_ROLE_POLICY):
            try:
                doc = document(inline.props.get("policy"))
            except UnknownDocument as exc:
                yield finding("FLUX-SOPS", inline, f"policy {exc}", advisory=True)
                continue
            for statement in statements(doc):
                if statement.get("Effect", "Allow") != "Allow":
                    continue
                actions = {a.lower() for a in as_list(statement.get("Action")) if isinstance(a, str)}
                extra = actions - {"kms:decrypt", "kms:describekey"}
                if extra or statement.get("NotAction") is not None or admin_problems(statement):
                    yield finding(
                        "FLUX-SOPS",
                        inline,
                        f"allows {sorted(extra) or 'NotAction'} beyond kms:Decrypt/DescribeKey",
                    )
                resources = [r for r in as_list(statement.get("Resource")) if isinstance(r, str)]
                if "*" in resources or any(r.endswith("*") for r in resources if not is_unknown(r)):
                    yield finding(
                        "FLUX-SOPS", inline, "kms:Decrypt on a wildcard instead of the one SOPS key"
                    )
                keys.update(resources)
        if len(keys) > 1:
            yield finding("FLUX-SOPS", role, f"decrypts with {len(keys)} keys; one SOPS key only")


def _argo_values(release: Resource) -> Mapping[str, Any] | None:
    chart = str(release.props.get("chart", ""))
    values = release.props.get("values")
    if chart.rstrip("/").rsplit("/", 1)[-1] != "argo-cd" or not isinstance(values, Mapping):
        return None
    return values


def argo_releases(graph: Graph) -> list[Resource]:
    return [r for r in graph.of_type(tokens.HELM_RELEASE) if _argo_values(r) is not None]


def git_credential_holders(graph: Graph) -> list[Resource]:
    secrets = [secret for secret, _, _ in git_secrets(graph)]
    return secrets + argo_releases(graph)


def sops_identities(graph: Graph) -> list[Resource]:
    return _kustomize_controller_roles(graph)


def check_argo_harden(graph: Graph) -> Iterator[Finding]:
    for release in graph.of_type(tokens.HELM_RELEASE):
        values = _argo_values(release)
        if values is None:
            continue
        cm = get(values, "configs.cm", {})
        cm = cm if isinstance(cm, Mapping) else {}
        sso = bool(cm.get("dex.config") or cm.get("oidc.config"))
        admin = str(cm.get("admin.enabled", "true")).lower() != "false"
        if sso and admin:
            yield finding(
                "ARGO-HARDEN", release, "the local admin user stays enabled although SSO is configured"
            )
        default_role = get(values, "configs.rbac", {})
        policy_default = default_role.get("policy.default", "") if isinstance(default_role, Mapping) else ""
        if policy_default not in ("", "role:readonly"):
            yield finding(
                "ARGO-HARDEN", release, f"default RBAC role is {policy_default}; empty or role:readonly only"
            )
