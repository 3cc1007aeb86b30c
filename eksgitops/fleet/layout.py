"""What the scaffold writes for one environment, for Flux or Argo CD.

Templates live in `templates/<agent>/` as they appear in the fleet repo; a `_env_` directory
is per environment (`clusters/_env_` goes to `--path`, `apps/_env_` to `apps/<env>`), every
other file is shared by all environments and grouped in a *layer*: the directory it sits in
(`infrastructure/controllers`, `apps/base/podinfo`, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

AGENTS = ("flux", "argocd")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

# The keys of the bridge ConfigMap flux-system/cluster-vars (annotations of the in-cluster
# cluster Secret for Argo CD), plus `<identity>_role_arn` per workload identity.
BRIDGE_KEYS = (
    "environment",
    "cluster_name",
    "cluster_role",
    "region",
    "account_id",
    "vpc_id",
    "oidc_issuer_host",
)
# Workload identities the scaffold itself uses; the infrastructure stack must define them.
SCAFFOLD_IDENTITIES = ("aws-load-balancer-controller",)
IMAGE_MARKER = ' # {"$imagepolicy": "flux-system:podinfo:tag"}'
PRODUCTION_NAMES = ("prod", "production", "prd")


def scaffold_identities_yaml(indent: str = "    ") -> str:
    """The stack-file entries (`eksgitops:identities` items) of SCAFFOLD_IDENTITIES, indented for
    a stack file: what `eksgitops init` writes so that the scaffold's `${..._role_arn}` resolve."""
    text = (files("eksgitops.fleet") / "scaffold_identities.yaml").read_text(encoding="utf-8")
    body = [line for line in text.splitlines() if line and not line.startswith("#")]
    return "".join(f"{indent}{line}\n" for line in body)


def identity_var(identity: str) -> str:
    """`aws-load-balancer-controller` -> `aws_load_balancer_controller_role_arn`."""
    return identity.replace("-", "_") + "_role_arn"


def bridge_vars(identities: tuple[str, ...] | list[str] = SCAFFOLD_IDENTITIES) -> list[str]:
    """Every variable name the bridge provides for these identities, sorted."""
    return sorted({*BRIDGE_KEYS, *(identity_var(i) for i in identities)})


@dataclass(frozen=True)
class LayoutFile:
    """One file of the scaffold; `layer` is None for per-environment files."""

    path: str
    content: str
    layer: str | None


@dataclass(frozen=True)
class Options:
    """Everything that shapes the rendered layout."""

    env: str
    agent: str = "flux"
    path: str | None = None
    branch: str = "main"
    repo_url: str = ""
    image_automation: bool = False

    @property
    def cluster_path(self) -> str:
        return self.path or f"clusters/{self.env}"


def render(opts: Options) -> list[LayoutFile]:
    """The files for `opts.env`, sorted by path, contents final (placeholders substituted)."""
    root = files("eksgitops.fleet") / "templates" / opts.agent
    prod = opts.env in PRODUCTION_NAMES
    values = {
        "__ENV__": opts.env,
        "__BRANCH__": opts.branch,
        "__REPO_URL__": opts.repo_url,
        "__IMAGE_MARKER__": IMAGE_MARKER if opts.image_automation else "",
        # Production waits for more healthy checks before promoting and runs more replicas.
        "__THRESHOLD__": "10" if prod else "5",
        "__REPLICAS__": "6" if prod else "2",
    }
    out: list[LayoutFile] = []
    for rel, node in _walk(root, ""):
        if rel.endswith("image-automation.yaml") and not opts.image_automation:
            continue
        text = node.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace(key, value)
        if rel.startswith("clusters/_env_/"):
            out.append(LayoutFile(f"{opts.cluster_path}/{rel.removeprefix('clusters/_env_/')}", text, None))
        elif "/_env_/" in rel:
            out.append(LayoutFile(rel.replace("/_env_/", f"/{opts.env}/"), text, None))
        else:
            out.append(LayoutFile(rel, text, rel.rsplit("/", 1)[0]))
    return sorted(out, key=lambda f: f.path)


def _walk(node: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for child in node.iterdir():
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            found.extend(_walk(child, rel + "/"))
        elif child.name.endswith((".yaml", ".yml")):
            found.append((rel, child))
    return found
