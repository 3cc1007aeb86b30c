"""Which files of a repository source-controller leaves out of its artifact (`.sourceignore`).

source-controller (fluxcd/pkg `sourceignore`, go-git's gitignore rules) reads every
`.sourceignore` of the tree, each scoped to its own directory, and judges each regular file on
its own; the last pattern that matches decides (`!` includes again, even below an excluded
directory). The VCS patterns (`.git/`, `.gitignore`, ...) always apply; the other default
patterns apply only when the repository has no pattern of its own (`SourceIgnoreFilter`).

Each go-git pattern is rewritten as the gitwildmatch pattern that means the same, scoped to
its directory, and matched by `pathspec` (on RE2 when google-re2 is installed: linear time, so
a pattern such as `**a**a**a…` cannot backtrack against a long name). The differences from
git are go-git's: a pattern without `/` matches any path component below its directory, and a
segment holding `**` next to other characters (`a/**foo/b`) never matches.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

import pathspec

IGNORE_FILE = ".sourceignore"
VCS = (".git/", ".gitignore", ".gitmodules", ".gitattributes")
# fluxcd/pkg sourceignore: ExcludeCI and ExcludeExtra.
DEFAULTS = (
    *(".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml", ".drone.yml"),
    *("cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml"),
    *("**/.goreleaser.yml", "**/.goreleaser.brew.yml", "**/.sops.yaml", "**/.flux.yaml", "**/.golangci.yaml"),
)
MAX_PATTERNS = 10_000
"""Patterns read from all `.sourceignore` files together; the rest are not read."""
MAX_PATTERN_CHARS = 1024
"""A longer line is not a pattern anyone writes; it is skipped."""
_BACKEND = "re2" if importlib.util.find_spec("re2") is not None else "simple"


def read_patterns(text: str) -> list[str]:
    """The pattern lines of a `.sourceignore` (comments and blank lines dropped, as ReadPatterns)."""
    return [
        line
        for line in text.splitlines()
        if line.strip() and not line.startswith("#") and len(line) <= MAX_PATTERN_CHARS
    ]


def translate(pattern: str, domain: str) -> str | None:
    """The gitwildmatch pattern (from the repository root) meaning go-git's `pattern` in
    directory `domain`; None for one that never matches."""
    negate = pattern.startswith("!")
    body = pattern[1:] if negate else pattern
    if not body.endswith("\\ "):
        body = body.rstrip(" ")
    dir_only = body.endswith("/")
    body = body.removesuffix("/")
    if not body:
        return None
    if _malformed(body):
        return None  # go-git: filepath.Match refuses it, so it matches nothing
    prefix = f"{domain}/" if domain else ""
    if "/" in body:
        segments = body.split("/")
        if any("**" in s and s != "**" for s in segments):
            return None  # go-git: `**` glued to other characters matches nothing
        scoped = prefix + body.lstrip("/")
    else:
        scoped = f"{prefix}**/{body}"
    return ("!" if negate else "") + scoped + ("/" if dir_only else "")


def _malformed(body: str) -> bool:
    """A `[` never closed, or a trailing `\\`: Go's filepath.Match calls that ErrBadPattern."""
    i, n = 0, len(body)
    while i < n:
        if body[i] == "\\":
            if i + 1 >= n:
                return True
            i += 2
            continue
        if body[i] == "[":
            close = body.find("]", i + 2)
            if close == -1 or "/" in body[i:close]:
                return True
            i = close
        i += 1
    return False


class Matcher:
    """The repository's patterns, in source-controller's order; `ignored(rel)` for a file."""

    def __init__(self, scoped: Iterable[tuple[str, str]]) -> None:
        """`scoped`: (domain, pattern) of every `.sourceignore` line, parents before children."""
        own = list(scoped)[:MAX_PATTERNS]
        base = VCS if own else (*VCS, *DEFAULTS)
        lines = [translate(p, "") for p in base] + [translate(p, d) for d, p in own]
        compiled = []
        for line in lines:
            if line is None:
                continue
            try:
                pathspec.PathSpec.from_lines("gitignore", [line])
            except (ValueError, TypeError):
                continue  # go-git: a malformed pattern matches nothing
            compiled.append(line)
        self.has_own = bool(own)
        self.negates = any(line.startswith("!") for line in compiled)
        self._spec = pathspec.PathSpec.from_lines("gitignore", compiled, backend=_BACKEND)

    def ignored(self, rel: str) -> bool:
        """Whether the file at repository-relative `rel` is left out of the artifact."""
        return bool(self._spec.match_file(rel))
