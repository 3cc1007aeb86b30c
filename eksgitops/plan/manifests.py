"""What the plan writes for the GitOps side: the Kubernetes objects, the Helm releases and the bridge.

- `build/<stack>/manifests/`: one YAML file per Kubernetes object or Helm release the
  program declares, as the provider would send it (secrets as "[secret]");
- `build/<stack>/bridge.json`: the variables Git may use, for `eksgitops fleet verify --stack`.

Both come from the recorded graph and the stack outputs, so they show what `pulumi up`
would apply, not a second rendering of the spec.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from eksgitops.components import type_tokens as tokens
from eksgitops.components.spec import EnvironmentSpec
from eksgitops.components.spec.base import SECRET_PLACEHOLDER
from eksgitops.components.spec.gitops import flux_git_url
from eksgitops.plan.offline_engine import SECRET_SIG, SECRET_VALUE, PlanResult, RecordedResource, plain

# Inputs of a Helm release that describe it (the rest are Helm client flags).
HELM_FIELDS = ("name", "namespace", "chart", "version", "repositoryOpts", "values")


def is_kubernetes_object(resource: RecordedResource) -> bool:
    """A Kubernetes object (not a provider, not a Helm release, not a component)."""
    return (
        resource.custom and resource.type.startswith("kubernetes:") and resource.type != tokens.HELM_RELEASE
    )


def manifest_documents(result: PlanResult) -> dict[str, dict[str, Any]]:
    """File name → document, for every Kubernetes object and Helm release in the plan."""
    documents: dict[str, dict[str, Any]] = {}
    for resource in result.resources:
        if resource.type == tokens.HELM_RELEASE:
            inputs = resource.plain_inputs()
            release = {key: inputs[key] for key in HELM_FIELDS if key in inputs}
            release.setdefault("values", {})
            name = f"helmrelease-{inputs.get('namespace', 'default')}-{inputs.get('name', resource.name)}"
            documents[_file_name(name, documents)] = {"helmRelease": release}
        elif is_kubernetes_object(resource):
            document = manifest_document(resource)
            meta = document.get("metadata") or {}
            parts = [
                str(document.get("kind", "object")),
                str(meta.get("namespace", "")),
                str(meta.get("name", "")),
            ]
            documents[_file_name("-".join(p for p in parts if p), documents)] = document
    return documents


def manifest_document(resource: RecordedResource) -> dict[str, Any]:
    """One Kubernetes object as a manifest, secrets redacted.

    The Kubernetes SDK makes a Secret's `data`/`stringData` secret as a whole; the keys are
    not secret, so the manifest keeps them and redacts each value: the file stays a valid
    Secret and shows what the cluster will hold.
    """
    inputs = resource.plain_inputs()
    if resource.type == tokens.K8S_SECRET:
        for field in ("data", "stringData"):
            wire = resource.inputs.get(field)
            if (
                isinstance(wire, dict)
                and wire.get(SECRET_SIG) == SECRET_VALUE
                and isinstance(wire.get("value"), dict)
            ):
                inputs[field] = {key: SECRET_PLACEHOLDER for key in sorted(wire["value"])}
    # apiVersion and kind first, as people write manifests.
    head = {key: inputs.pop(key) for key in ("apiVersion", "kind", "metadata") if key in inputs}
    return {**head, **inputs}


def _file_name(stem: str, taken: dict[str, Any]) -> str:
    base = re.sub(r"[^a-z0-9.-]+", "-", stem.lower()).strip("-") or "object"
    name, n = f"{base}.yaml", 2
    while name in taken:
        name, n = f"{base}-{n}.yaml", n + 1
    return name


def write_manifests(result: PlanResult, directory: Path) -> list[Path]:
    """Write the manifests (replacing an earlier plan's); return the files written."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    written = []
    for name, document in sorted(manifest_documents(result).items()):
        path = directory / name
        path.write_text(yaml.safe_dump(document, sort_keys=False, default_flow_style=False))
        written.append(path)
    return written


def bridge_document(result: PlanResult, spec: EnvironmentSpec) -> dict[str, Any]:
    """The bridge file: the agent, where it pulls from and the variables the stack provides."""
    outputs = result.outputs
    variables = plain(outputs.get("bridge") or {})
    return {
        "stack": spec.environment,
        "agent": plain(outputs.get("gitopsAgent", spec.gitops.agent)),
        "repoUrl": plain(outputs.get("gitopsRepoUrl", spec.gitops.repo_url or "")),
        "branch": plain(outputs.get("gitopsBranch", spec.gitops.branch)),
        "path": plain(outputs.get("gitopsPath", spec.gitops.path or "")),
        "variables": variables,
        "identities": [identity.name for identity in spec.identities],
        # FLUX-LOCKDOWN as the FluxAgent applies it: false = --no-cross-namespace-refs.
        "crossNamespaceRefs": spec.gitops.cross_namespace_refs,
        # The cluster's version: fleet verify --stack checks against its built-in schemas.
        "kubernetesVersion": spec.kubernetes_version,
    }


def write_bridge(result: PlanResult, spec: EnvironmentSpec, path: Path) -> dict[str, Any]:
    """Write build/<stack>/bridge.json; return what was written."""
    document = bridge_document(result, spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return document


def gitops_summary(document: dict[str, Any], spec: EnvironmentSpec) -> str:
    """One line for the plan's summary: agent, repository, ref and path."""
    if document["agent"] == "none":
        return "GitOps agent: none (no agent is installed)"
    gitops = spec.gitops
    ref = gitops.oci_tag if gitops.source == "oci" else f"refs/heads/{document['branch']}"
    line = (
        f"GitOps agent: {document['agent']} · repository {document['repoUrl']} · "
        f"ref {ref} · path {document['path']}"
    )
    if gitops.agent == "flux" and gitops.source == "git":
        flux_url = flux_git_url(document["repoUrl"])
        if flux_url != document["repoUrl"]:
            line += f" · Flux reads it as {flux_url} (its GitRepository takes ssh:// URLs, not scp-style)"
    if gitops.agent == "flux" and gitops.cross_namespace_refs:
        line += " · FLUX-LOCKDOWN relaxed: cross-namespace references allowed (gitops.crossNamespaceRefs)"
    if gitops.agent == "flux":
        if gitops.wait_for_sync or gitops.webhook_receiver:
            line += (
                " · pulumi up waits for the FluxInstance to be Ready: the controllers run, the fleet "
                "was fetched and its path applied (not that every workload it deploys is healthy)"
            )
        else:
            line += (
                " · pulumi up does not wait for Flux: a green up means the FluxInstance was accepted, "
                "not that Flux synced (gitops.waitForSync: true waits)"
            )
    return line
