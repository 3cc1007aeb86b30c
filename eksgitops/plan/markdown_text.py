"""Text from stack files, state files and repositories, made inert in a pull-request comment.

plan.md is posted as a comment on the pull request, and what it quotes (resource names, URNs,
input paths and values from a `--against` state file, policy messages built from a stack file)
is anyone's to write. Quoted as they are, a value can close the diff's fence and write live
Markdown after it, show an image that calls a server, add a link, an `@mention` that notifies
people, or raw HTML such as `<details>` that hides what follows.

Every quoted value therefore goes into code: a code span inline, a fenced block for many lines.
In code, GitHub renders no Markdown, no HTML, no link, no mention and no emoji; what is left is
choosing a fence no run of backticks inside can close, and keeping each value on its one line
(controls and line breaks are escaped as on a terminal).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from eksgitops.terminal_text import shown

_BACKTICKS = re.compile(r"`+")


def _longest_run(text: str) -> int:
    return max((len(m) for m in _BACKTICKS.findall(text)), default=0)


def code_span(value: object) -> str:
    """`value` as one inline code span, whatever backticks, HTML or Markdown it holds."""
    text = shown(value)
    fence = "`" * (_longest_run(text) + 1)
    # A span that starts or ends with a backtick (or a space) needs a space inside the fence,
    # which CommonMark strips again; padding always keeps the rule simple.
    return f"{fence} {text} {fence}"


def code_block(lines: Iterable[object], info: str = "") -> list[str]:
    """`lines` as a fenced code block whose fence no line inside can close."""
    body = [shown(line) for line in lines]
    fence = "`" * max(3, max((_longest_run(line) for line in body), default=0) + 1)
    return [f"{fence}{info}", *body, fence]


def public_path(path: str | Path, keep: int = 1) -> str:
    """A path as a comment may show it: relative as given; an absolute one by its last `keep`
    parts only, so no runner's or user's local folder (home, user name, workspace) is published."""
    path = Path(path)
    return str(path) if not path.is_absolute() else str(Path(*path.parts[-keep:]))
