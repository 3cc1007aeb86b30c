"""What the agent's own Git source depends on: URLs source-controller accepts, and one Flux only.

source-controller's GitRepository schema takes `http`, `https` and `ssh` URLs; the Flux Operator
copies a FluxInstance's `spec.sync.url` into the GitRepository it creates, where no schema of ours
sees it, so an scp-style `git@host:org/repo.git` there fails on the cluster only. On a cluster
whose Flux the FluxInstance installs, a repository that also carries Flux's own install
(`gotk-components.yaml`) or its own `flux-system/flux-system` GitRepository with another URL
has two owners for the same controllers and source: they overwrite each other at each reconcile.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from eksgitops.fleet.findings import ERROR, Finding
from eksgitops.fleet.schema import ident
from eksgitops.fleet.verify.checks.context import Applying
from eksgitops.fleet.verify.model import LOCAL, as_dict, meta, normalize_url

_SCP = re.compile(r"^(?:(?P<user>[^@/\s]+)@)?(?P<host>[^/:\s]+):(?P<path>(?!//).+)$")
AGENT_SOURCE = ("flux-system", "flux-system")
FLUX_CONTROLLERS = frozenset(
    {
        "source-controller",
        "kustomize-controller",
        "helm-controller",
        "notification-controller",
        "image-reflector-controller",
        "image-automation-controller",
        "source-watcher",
    }
)


def scp_url(url: object) -> str | None:
    """The `ssh://` spelling of an scp-style URL, else None."""
    if not isinstance(url, str) or "://" in url:
        return None
    m = _SCP.match(url.strip())
    if m is None or len(m.group("host")) == 1:  # `C:\path` is a Windows path, not a host
        return None
    user = f"{m.group('user')}@" if m.group("user") else ""
    return f"ssh://{user}{m.group('host')}/{m.group('path').lstrip('/')}"


def check(ctx: Applying) -> Iterator[Finding]:
    if ctx.walk.agent != "flux":
        return
    install_files: set[str] = set()
    for a in ctx.applied:
        if a.cluster != LOCAL or a.argo:
            continue
        kind, md = a.obj.get("kind"), meta(a.obj)
        spec = as_dict(a.obj.get("spec"))
        if kind == "FluxInstance":
            sync = as_dict(spec.get("sync"))
            fixed = scp_url(sync.get("url")) if sync.get("kind", "GitRepository") == "GitRepository" else None
            if fixed is not None:
                yield Finding(
                    a.file,
                    f"{ident(a.obj)}: spec.sync.url {sync.get('url')} is an scp-style URL; the GitRepository "
                    f"the Flux Operator creates from it is refused (source-controller accepts http, https "
                    f"and ssh URLs): write {fixed}",
                    ERROR,
                )
        elif _flux_install(a.obj) and a.file not in install_files:
            install_files.add(a.file)
            yield Finding(
                a.file,
                f"{ident(a.obj)}: this repository carries its own Flux install; on this cluster Flux is "
                "installed and upgraded by the FluxInstance, and the two would overwrite each other's "
                "controllers and CRDs: remove the file (flux bootstrap's gotk-components.yaml)",
                ERROR,
            )
        elif kind == "GitRepository" and (md.get("namespace"), md.get("name")) == AGENT_SOURCE:
            url = spec.get("url")
            if isinstance(url, str) and ctx.walk.urls and normalize_url(url) not in ctx.walk.urls:
                yield Finding(
                    a.file,
                    f"{ident(a.obj)}: the FluxInstance syncs flux-system/flux-system from "
                    f"{', '.join(sorted(ctx.walk.urls))}; this one points at {url}, and the two would "
                    "overwrite each other at each reconcile: remove it (flux bootstrap's gotk-sync.yaml)",
                    ERROR,
                )


def _flux_install(obj: dict) -> bool:
    md = meta(obj)
    if obj.get("kind") == "Deployment" and md.get("namespace") == "flux-system":
        return md.get("name") in FLUX_CONTROLLERS
    if obj.get("kind") == "CustomResourceDefinition":
        return str(as_dict(obj.get("spec")).get("group", "")).endswith(".toolkit.fluxcd.io")
    return False
