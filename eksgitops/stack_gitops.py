"""Where a stack's GitOps agent pulls from (agent, repository, branch, path), read from its stack file.

`eksgitops fleet bootstrap --stack ENV` lays out the repository the stack's agent will sync,
so it takes these from the validated spec instead of asking for them again: one source of truth.
Reads configuration only (the spec is plain pydantic), so the fleet tooling still never loads
the Pulumi SDKs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eksgitops.components.spec import SpecError, load_spec
from eksgitops.components.spec.gitops_verify import VerifySpec
from eksgitops.components.spec.read.stack_file import stack_config


class StackGitOpsError(ValueError):
    """The stack file is missing or invalid, or installs no agent; `lines` say what and where."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class GitOpsTarget:
    agent: str
    repo_url: str
    branch: str
    path: str
    verify: VerifySpec | None = None
    """gitops.verify: the signatures the agent requires (fleet bootstrap signs, fleet verify checks)."""


def gitops_target(
    stack: str, stacks_dir: Path = Path("stacks"), project_dir: Path = Path(".")
) -> GitOpsTarget:
    """The stack's agent and what it syncs, as `eksgitops plan` and `pulumi up` read them."""
    stack_file = stacks_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise StackGitOpsError(
            [f"--stack {stack}: no stack file {stack_file}; `eksgitops init {stack}` writes one"]
        )
    try:
        raw = stack_config(stack_file, project_dir / "Pulumi.yaml")
        spec = load_spec(raw, stack=stack, source=str(stack_file))
    except SpecError as err:
        raise StackGitOpsError(list(err.lines)) from None
    gitops = spec.gitops
    if gitops.agent == "none" or not gitops.repo_url:
        raise StackGitOpsError(
            [f"--stack {stack}: {stack_file} installs no GitOps agent (gitops.agent: none)"]
        )
    return GitOpsTarget(
        agent=gitops.agent,
        repo_url=gitops.repo_url,
        branch=gitops.branch,
        path=gitops.path or "",
        verify=gitops.verify,
    )
