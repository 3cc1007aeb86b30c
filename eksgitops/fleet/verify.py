"""Will this revision reconcile? Static checks over a checkout of the fleet repository.

Starting from the environment's path (what the agent syncs), every Flux Kustomization or
Argo CD Application that points into this repository is built with the small kustomize in
`kustomize.py`, recursively, and the objects are checked:

* every kustomization builds; every object has apiVersion, kind and metadata.name;
* each `dependsOn` and `sourceRef` (and `imageRepositoryRef`, `providerRef`) target exists;
  the GitRepository `flux-system/flux-system` is provided by the agent (the Flux Operator's
  FluxInstance creates it), so it counts as existing;
* every `${var}` is provided by the bridge, by `--var`/`--identity`, or by the manifests
  (`postBuild.substitute` keys, data of ConfigMaps named in `substituteFrom`);
* no plaintext Secret: only SOPS-encrypted ones (a `sops` block with a `mac`, ENC[...] values);
* every HelmRelease (and Argo CD Helm source) pins an exact chart version.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eksgitops.fleet.kustomize import Builder, BuildError, Resource

FLUX_KS = "kustomize.toolkit.fluxcd.io"
AGENT_PROVIDED = {("GitRepository", "flux-system", "flux-system")}
BRIDGE_CONFIGMAP = "cluster-vars"
# Flux postBuild: ${var} and ${var:=default} (a default satisfies it); $${var} is an escape.
VAR_RE = re.compile(r"(?<!\$)\$\{([_a-zA-Z][_a-zA-Z0-9]*)(:?[-=][^}]*)?\}")
ARGO_ANNOTATION_RE = re.compile(r'index\s+\.metadata\.annotations\s+"([^"]+)"')
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class Finding:
    """One problem, printed as `path: message`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class Report:
    """All findings plus what was looked at, for the summary line."""

    findings: list[Finding] = field(default_factory=list)
    objects: int = 0
    builds: int = 0
    provided: list[str] = field(default_factory=list)


def verify_tree(root: Path, env_path: str, provided_vars: set[str], repo_urls: set[str]) -> Report:
    """Check the checkout at `root` for the environment synced from `env_path`."""
    report = Report()
    builder = Builder(root)
    resources: list[Resource] = []
    queue: list[tuple[str, str]] = [(env_path.strip("/"), env_path)]
    seen: set[str] = set()
    while queue:
        path, via = queue.pop(0)
        key = path.strip("./") or "."
        if key in seen:
            continue
        seen.add(key)
        directory = root / path
        if not directory.is_dir():
            report.findings.append(Finding(via, f"path {path} not found in the repository"))
            continue
        try:
            built = builder.build(directory)
        except BuildError as exc:
            report.findings.append(Finding(exc.path, f"does not build: {exc.message}"))
            continue
        report.builds += 1
        resources.extend(built)
        queue.extend(_children(built, repo_urls))
    report.objects = len(resources)
    index = _index(resources)
    provided = set(provided_vars) | _manifest_vars(resources)
    report.provided = sorted(provided)
    for res in resources:
        report.findings.extend(_check_object(res, index, provided))
    report.findings = sorted(set(report.findings), key=lambda f: (f.path, f.message))
    return report


def _children(built: list[Resource], repo_urls: set[str]) -> Iterator[tuple[str, str]]:
    """Paths in this repository that built objects ask an agent to apply."""
    for res in built:
        spec = res.obj.get("spec") or {}
        if not isinstance(spec, dict):
            continue
        api = str(res.obj.get("apiVersion", ""))
        if res.kind == "Kustomization" and api.startswith(FLUX_KS):
            ref = spec.get("sourceRef") or {}
            ns = ref.get("namespace") or res.namespace or "flux-system"
            if (ref.get("kind"), ns, ref.get("name")) in AGENT_PROVIDED:
                yield str(spec.get("path") or "."), f"{res.source}: {res.ident()}"
        elif res.kind == "Application" and api.startswith("argoproj.io/"):
            sources = [spec["source"]] if isinstance(spec.get("source"), dict) else []
            sources += [s for s in spec.get("sources") or [] if isinstance(s, dict)]
            for src in sources:
                if (
                    src.get("path") is not None
                    and not src.get("chart")
                    and _same_repo(src.get("repoURL"), repo_urls)
                ):
                    yield str(src["path"]), f"{res.source}: {res.ident()}"


def normalize_url(url: str) -> str:
    """Compare repository URLs loosely: scheme, credentials, `.git` and slashes don't matter."""
    url = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url.strip())
    url = re.sub(r"^[^/@]+@", "", url)
    url = re.sub(r"^([^/:]+):(?!\d)", r"\1/", url)  # scp-like git@host:org/repo
    return url.removesuffix("/").removesuffix(".git").lower()


def _same_repo(url: Any, repo_urls: set[str]) -> bool:
    return isinstance(url, str) and normalize_url(url) in {normalize_url(u) for u in repo_urls}


def _index(resources: list[Resource]) -> set[tuple[str, str, str]]:
    return {(r.kind, r.namespace, r.name) for r in resources} | AGENT_PROVIDED


def _manifest_vars(resources: list[Resource]) -> set[str]:
    names: set[str] = set()
    referenced: set[str] = set()
    for res in resources:
        post = ((res.obj.get("spec") or {}) if isinstance(res.obj.get("spec"), dict) else {}).get("postBuild")
        if isinstance(post, dict):
            names.update(str(k) for k in (post.get("substitute") or {}))
            for ref in post.get("substituteFrom") or []:
                if ref.get("name") != BRIDGE_CONFIGMAP:
                    referenced.add(str(ref.get("name")))
    for res in resources:
        if res.kind in ("ConfigMap", "Secret") and res.name in referenced:
            names.update(str(k) for k in (res.obj.get("data") or {}))
    return names


def _check_object(res: Resource, index: set[tuple[str, str, str]], provided: set[str]) -> list[Finding]:
    obj, out = res.obj, []
    missing = [k for k in ("apiVersion", "kind") if not obj.get(k)]
    if not res.name:
        missing.append("metadata.name")
    if missing:
        label = f"{res.kind or 'object'} {res.name or '(unnamed)'}"
        return [Finding(res.source, f"{label}: missing {', '.join(missing)}")]
    spec: dict[str, Any] = obj["spec"] if isinstance(obj.get("spec"), dict) else {}
    chart_field = spec.get("chart")
    chart = chart_field.get("spec") if isinstance(chart_field, dict) else None
    api = str(obj.get("apiVersion"))
    who = res.ident()

    def need(kind: str, name: Any, namespace: Any, what: str) -> None:
        ns = str(namespace or res.namespace)
        if (kind, ns, str(name)) not in index:
            out.append(Finding(res.source, f"{who}: {what} {kind} {ns}/{name} not found"))

    if api.startswith(FLUX_KS) or api.startswith("helm.toolkit.fluxcd.io"):
        for dep in spec.get("dependsOn") or []:
            if (res.kind, str(dep.get("namespace") or res.namespace), str(dep.get("name"))) not in index:
                out.append(Finding(res.source, f"{who}: dependsOn {dep.get('name')} not found"))
    if "fluxcd.io" in api:
        refs = [spec.get("sourceRef")]
        if isinstance(chart, dict):
            refs.append(chart.get("sourceRef"))
        refs.append(spec.get("chartRef"))
        for ref in refs:
            if isinstance(ref, dict) and ref.get("name"):
                need(str(ref.get("kind", "GitRepository")), ref["name"], ref.get("namespace"), "sourceRef")
        for field_name, kind in (("imageRepositoryRef", "ImageRepository"), ("providerRef", "Provider")):
            ref = spec.get(field_name)
            if isinstance(ref, dict) and ref.get("name"):
                need(kind, ref["name"], ref.get("namespace"), field_name)
    if res.kind == "HelmRelease":
        out.extend(_check_chart_pin(res, chart if isinstance(chart, dict) else None))
    if res.kind in ("Application", "ApplicationSet") and api.startswith("argoproj.io/"):
        out.extend(_check_argo(res, spec, provided))
    if res.kind == "Secret" and api == "v1":
        out.extend(_check_secret(res))
    out.extend(_check_vars(res, provided))
    return out


def _check_chart_pin(res: Resource, chart: dict | None) -> list[Finding]:
    if chart is None:
        return []  # chartRef: the OCIRepository/HelmChart carries the pin
    version = chart.get("version")
    if version is None or not EXACT_VERSION.match(str(version)):
        shown = "no version" if version is None else f"version {version!r}"
        return [Finding(res.source, f"{res.ident()}: chart {chart.get('chart')} {shown} is not pinned")]
    return []


def _check_argo(res: Resource, spec: dict, provided: set[str]) -> list[Finding]:
    out: list[Finding] = []
    sources = [spec.get("source"), *(spec.get("sources") or [])]
    for src in sources:
        if isinstance(src, dict) and src.get("chart"):
            rev = str(src.get("targetRevision", ""))
            if "{{" not in rev and not EXACT_VERSION.match(rev):
                out.append(
                    Finding(res.source, f"{res.ident()}: chart {src['chart']} version {rev!r} is not pinned")
                )
    for element in _list_elements(spec.get("generators") or []):
        version = element.get("version")
        if element.get("chart") and not EXACT_VERSION.match(str(version or "")):
            message = f"{res.ident()}: chart {element['chart']} version {version!r} is not pinned"
            out.append(Finding(res.source, message))
    if res.kind == "ApplicationSet":
        text = repr(spec.get("template")) + str(spec.get("templatePatch") or "")
        for name in sorted(set(ARGO_ANNOTATION_RE.findall(text))):
            if name not in provided:
                out.append(
                    Finding(
                        res.source,
                        f"{res.ident()}: cluster annotation {name} is not provided by the bridge "
                        f"(provided: {', '.join(sorted(provided))})",
                    )
                )
    return out


def _list_elements(generators: list[Any]) -> Iterator[dict]:
    for gen in generators:
        if not isinstance(gen, dict):
            continue
        for element in (gen.get("list") or {}).get("elements") or []:
            if isinstance(element, dict):
                yield element
        for nested in ("matrix", "merge"):
            yield from _list_elements((gen.get(nested) or {}).get("generators") or [])


def _check_secret(res: Resource) -> list[Finding]:
    sops = res.obj.get("sops")
    values = {**(res.obj.get("data") or {}), **(res.obj.get("stringData") or {})}
    if not isinstance(sops, dict) or not sops.get("mac"):
        return [Finding(res.source, f"{res.ident()}: plaintext Secret (encrypt it with SOPS)")]
    plain = sorted(k for k, v in values.items() if not str(v).startswith("ENC["))
    if plain:
        return [Finding(res.source, f"{res.ident()}: Secret values not SOPS-encrypted: {', '.join(plain)}")]
    return []


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _check_vars(res: Resource, provided: set[str]) -> list[Finding]:
    used: set[str] = set()
    for text in _strings(res.obj):
        for match in VAR_RE.finditer(text):
            if match.group(2) is None:  # a default (`${var:=x}`) satisfies it
                used.add(match.group(1))
    missing = sorted(v for v in used if v not in provided)
    return [
        Finding(
            res.source,
            f"{res.ident()}: ${{{name}}} is not provided (provided: {', '.join(sorted(provided))})",
        )
        for name in missing
    ]
