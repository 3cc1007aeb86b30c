"""The stack's side of the bridge: `build/<stack>/bridge.json`, written by `eksgitops plan STACK`.

Format (one JSON object):
`{"stack": "dev", "agent": "flux", "repoUrl": "...", "branch": "main", "path": "clusters/dev",
  "variables": {"environment": "dev", ..., "<identity>_role_arn": "..."}, "identities": [...],
  "crossNamespaceRefs": false, "kubernetesVersion": "1.36"}`.
Values may be plan placeholders such as `(known after apply: x.y)`; only names matter here.
`crossNamespaceRefs` is the stack's `gitops.crossNamespaceRefs`: false (also when absent, as in
files written before it existed) means the Flux controllers run with `--no-cross-namespace-refs`.
`kubernetesVersion` is the stack's cluster version, whose built-in schemas verify checks against
(absent in files written before it existed: the newest shipped schemas).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from eksgitops.fleet.layout import BRIDGE_KEYS, DNS1123_LABEL, identity_var
from eksgitops.fleet.substitute import VAR_NAME


class BridgeError(Exception):
    """bridge.json is missing or malformed: a usage problem (exit 2)."""


@dataclass(frozen=True)
class StackBridge:
    stack: str
    agent: str
    repo_url: str
    branch: str
    path: str
    variables: dict[str, str]
    identities: tuple[str, ...]
    file: str
    cross_namespace_refs: bool = False
    """True when the stack relaxes FLUX-LOCKDOWN (`gitops.crossNamespaceRefs: true`)."""
    kubernetes_version: str | None = None
    """The stack's `kubernetesVersion` (`1.36`), None in bridge files written before it was kept."""


def load(stack: str, build_dir: Path = Path("build")) -> StackBridge:
    """Read and check `build_dir/stack/bridge.json`."""
    if not DNS1123_LABEL.fullmatch(stack):
        raise BridgeError(f"--stack: {stack!r} is not a stack name (a DNS-1123 label, e.g. dev)")
    path = build_dir / stack / "bridge.json"
    shown = path.as_posix()
    if not path.is_file():
        raise BridgeError(f"--stack {stack}: {shown} not found; run `eksgitops plan {stack}` first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BridgeError(
            f"--stack {stack}: {shown} is not valid JSON ({exc}); run `eksgitops plan {stack}` again"
        ) from None
    if not isinstance(data, dict):
        raise BridgeError(f"--stack {stack}: {shown}: expected a JSON object")

    def text(key: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            raise BridgeError(f"--stack {stack}: {shown}: {key} must be a string")
        return value

    variables = data.get("variables")
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and VAR_NAME.fullmatch(k) and isinstance(v, str) for k, v in variables.items()
    ):
        raise BridgeError(f"--stack {stack}: {shown}: variables must map variable names to strings")
    identities = data.get("identities", [])
    if not isinstance(identities, list) or not all(
        isinstance(i, str) and DNS1123_LABEL.fullmatch(i) for i in identities
    ):
        raise BridgeError(f"--stack {stack}: {shown}: identities must be a list of identity names")
    cross_namespace_refs = data.get("crossNamespaceRefs", False)
    if not isinstance(cross_namespace_refs, bool):
        raise BridgeError(f"--stack {stack}: {shown}: crossNamespaceRefs must be true or false")
    kubernetes_version = data.get("kubernetesVersion")
    if kubernetes_version is not None and not (
        isinstance(kubernetes_version, str) and re.fullmatch(r"1\.\d{1,3}", kubernetes_version)
    ):
        raise BridgeError(f'--stack {stack}: {shown}: kubernetesVersion must be a version such as "1.36"')
    return StackBridge(
        stack=text("stack", stack),
        agent=text("agent", "flux"),
        repo_url=text("repoUrl", ""),
        branch=text("branch", "main"),
        path=text("path", f"clusters/{stack}"),
        variables=dict(variables),
        identities=tuple(identities),
        file=shown,
        cross_namespace_refs=cross_namespace_refs,
        kubernetes_version=kubernetes_version,
    )


def from_stack_file(stack: str, stacks_dir: Path = Path("stacks")) -> StackBridge:
    """What `eksgitops plan STACK` would write to bridge.json, read from the stack file itself:
    the agent, the variable names (values only the cluster knows stay placeholders), the workload
    identities, FLUX-LOCKDOWN and the Kubernetes version. `fleet bootstrap --stack` checks the
    layout against it before it pushes, so no plan has to run first. Raises BridgeError (one line
    per problem of the stack file)."""
    from eksgitops.components.spec import SpecError, load_spec
    from eksgitops.components.spec.read.stack_file import stack_config

    stack_file = stacks_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise BridgeError(f"--stack {stack}: no stack file {stack_file.as_posix()}")
    try:
        spec = load_spec(
            stack_config(stack_file, stacks_dir.parent / "Pulumi.yaml"), stack=stack, source=str(stack_file)
        )
    except SpecError as err:
        raise BridgeError("\n".join(err.lines)) from None
    identities = tuple(identity.name for identity in spec.identities)
    names = [*BRIDGE_KEYS, *(identity_var(i) for i in identities)]
    return StackBridge(
        stack=stack,
        agent=spec.gitops.agent,
        repo_url=spec.gitops.repo_url or "",
        branch=spec.gitops.branch,
        path=spec.gitops.path or f"clusters/{stack}",
        variables={name: f"(known after apply: {name})" for name in names},
        identities=identities,
        file=stack_file.as_posix(),
        cross_namespace_refs=spec.gitops.cross_namespace_refs,
        kubernetes_version=spec.kubernetes_version,
    )
