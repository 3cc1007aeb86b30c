"""The `gitops` section of the environment spec: where the GitOps agent pulls the fleet from.

Its checks are pydantic validators that raise `SpecValueError`, so a mistake ends in the
same one-line form as every other key of the spec.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from components.spec_errors import SpecValueError
from components.spec_model import SpecModel

SSH_SCP = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!/)[^\s]+")
SSH_URL = re.compile(r"ssh://([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:\d+)?/[^\s]+")
HTTPS_URL = re.compile(r"https://(?P<userinfo>[^@/\s]+@)?[A-Za-z0-9.-]+(:\d+)?/[^\s]+")


def valid_ref_name(name: str) -> bool:
    """Git's check-ref-format rules for a branch name."""
    if not name or name == "@" or name.startswith(("/", "-")) or name.endswith(("/", ".", ".lock")):
        return False
    if ".." in name or "//" in name or "@{" in name:
        return False
    if any(ord(c) < 0x20 or c in " ~^:?*[\\\x7f" for c in name):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


class GitOpsSpec(SpecModel):
    """Where the GitOps agent pulls the fleet from."""

    agent: Literal["flux", "argocd"] = "flux"
    """Flux (default) or Argo CD."""
    repo_url: str | None = None
    """https://… or SSH (git@host:path, ssh://…); no credentials in the URL."""
    branch: str = "main"
    """Branch the agent follows (a valid Git ref name)."""
    path: str | None = None
    """Relative path in the fleet repo; load_spec fills in clusters/<stack> when unset."""

    @field_validator("repo_url")
    @classmethod
    def _repo_url(cls, url: str | None) -> str | None:
        if url is None:
            return url
        https = HTTPS_URL.fullmatch(url)
        if https and https["userinfo"]:
            raise SpecValueError(
                "carries credentials in the URL",
                "a URL without user:password@; credentials go in a Pulumi secret",
            )
        if not (https or SSH_SCP.fullmatch(url) or SSH_URL.fullmatch(url)):
            raise SpecValueError(
                f'the string "{url}" is neither an https:// nor an SSH Git URL',
                "https://host/org/repo.git, git@host:org/repo.git or ssh://git@host/org/repo.git",
            )
        return url

    @field_validator("branch")
    @classmethod
    def _branch(cls, branch: str) -> str:
        if not valid_ref_name(branch):
            raise SpecValueError(
                f'the string "{branch}" is not a valid Git branch name',
                "a name git check-ref-format accepts, e.g. main or release/1.2",
            )
        return branch

    @field_validator("path")
    @classmethod
    def _path(cls, path: str | None) -> str | None:
        if path is None:
            return path
        parts = path.replace("\\", "/").split("/")
        if not path or path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path):
            raise SpecValueError(f'the string "{path}" is not a relative path', "a path like clusters/dev")
        if ".." in parts:
            raise SpecValueError(f'the string "{path}" climbs out with ..', "a path inside the repo")
        return path
