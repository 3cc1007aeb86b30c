"""`fleet diff` on a terminal: per owner, its changes (destructive first), then the head's
verification and a summary line. Every name and value comes from the repository: printed through
`terminal_text.shown`, so an escape sequence in a name is shown, never obeyed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from eksgitops.fleet.diff.model import Change, DiffResult, ordered
from eksgitops.terminal_text import shown

MAX_VALUE = 120
"""Characters of a value shown on a line; the JSON document has it whole."""
MARK = {"create": "+", "update": "~", "delete": "-"}


def short(raw: Any, limit: int = MAX_VALUE) -> str:
    """A value as JSON, cut to `limit` characters."""
    text = "(absent)" if raw is None else json.dumps(raw, sort_keys=True, default=str)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def by_owner(result: DiffResult) -> list[tuple[str, list[Change]]]:
    """(owner, its changes ordered) for every owner with changes; owners with destructive changes
    first, then by name."""
    groups: dict[str, list[Change]] = {}
    for change in result.changes:
        groups.setdefault(change.owner, []).append(change)
    return sorted(
        ((owner, ordered(changes)) for owner, changes in groups.items()),
        key=lambda g: (not any(c.destructive for c in g[1]), g[0]),
    )


def change_lines(change: Change) -> Iterator[str]:
    where = f" (cluster {change.cluster})" if change.cluster else ""
    what = f"{change.api_version} {change.ident}{where}"
    if change.left:
        yield f"  = left in the cluster, no longer in Git: {what}"
    else:
        moved = f" (moves from {change.moved_from})" if change.moved_from else ""
        yield f"  {MARK[change.action]} {change.action} {what}{moved}"
    for field in change.fields:
        yield f"      {field.path}: {short(field.old)} -> {short(field.new)}"
    for reason in change.destructive:
        yield f"      DESTRUCTIVE ({reason.kind}): {reason.reason}"


def print_result(result: DiffResult, echo: Callable[[str], None], scrub: Callable[[str], str] = str) -> None:
    """Everything but the summary line, which the caller prints (to stderr when it asks to stop)."""

    def out(text: str) -> None:
        echo(shown(scrub(text)))

    states = {o.name: o for o in result.owners}
    for owner, changes in by_owner(result):
        info = states.get(owner)
        state = f", {info.state}" if info is not None and info.state in ("added", "removed") else ""
        prunes = "" if info is None else ", prunes" if info.prune else ", does not prune"
        out(f"{owner}{state}{prunes}:")
        for change in changes:
            for line in change_lines(change):
                out(line)
    for info in result.owners:
        if info.state == "removed":
            out(f"note: {info.name} removed: {info.note}")
    for note in result.notes:
        out(f"note: {note}")
    report = result.head_report
    for finding in report.findings:
        out(f"head: {finding}")
    verdict = report.verdict(f"{result.path} at {result.head[:7]}")
    out(f"head: {verdict.summary}")
