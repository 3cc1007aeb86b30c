"""`fleet diff --markdown`: the cluster change as one pull-request comment.

Per Kustomization or Application a collapsible `<details>` section (open when it holds a
destructive change), those with destructive changes first, each listing its destructive changes
first. The comment stays under `max_chars` (default well below GitHub's 65,536-character limit,
so that a caller can put another section beside it); what did not fit is named in a closing note.

Everything quoted comes from the repository and is hostile until escaped: `text` writes every
character but letters, digits, space, `-` and `/` as an HTML numeric reference, which means the
same inside a Markdown paragraph and inside the raw HTML of a `<summary>`, and which neither
Markdown (emphasis, links, images, code spans, autolinks) nor HTML (`</details>`) can read as
syntax. Names are quoted in `<code>` elements, where GitHub resolves no @mention, issue
reference or emoji; in prose a zero-width space after `@` and `#` stops mentions and references.
"""

from __future__ import annotations

from collections.abc import Callable

from eksgitops.fleet.diff.lines import by_owner, short
from eksgitops.fleet.diff.model import Change, DiffResult
from eksgitops.terminal_text import shown

GITHUB_LIMIT = 65_536
DEFAULT_MAX_CHARS = 60_000
MARKER = "<!-- eksgitops fleet diff -->"
"""First line of the comment: a CI job finds its earlier comment by it, to update it in place."""
MAX_FIELDS = 20
"""Field lines shown per updated object; the rest are counted."""
MAX_FINDINGS = 30
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -/")
_ZWSP = "&#8203;"


def text(value: object) -> str:
    """`value` escaped for Markdown and HTML alike (see the module's docstring)."""
    return "".join(c if c in _SAFE else f"&#{ord(c)};" for c in shown(value))


def prose(value: object) -> str:
    """`text`, and no @mention or #reference either when not inside `<code>`."""
    return text(value).replace("&#64;", "&#64;" + _ZWSP).replace("&#35;", "&#35;" + _ZWSP)


def code(value: object) -> str:
    return f"<code>{text(value)}</code>"


def _change_items(change: Change, scrub: Callable[[str], str]) -> list[str]:
    what = code(_cut(f"{change.api_version} {change.ident}"))
    where = f" in cluster {code(change.cluster)}" if change.cluster else ""
    boom = ":boom: " if change.destructive else ""
    if change.left:
        head = f"- {boom}**left in the cluster**, no longer in Git: {what}{where}"
    else:
        moved = f" (moves from {code(change.moved_from)})" if change.moved_from else ""
        head = f"- {boom}**{change.action}** {what}{where}{moved}"
    lines = [head]
    lines += [f"  - **destructive**: {prose(scrub(d.reason))}" for d in change.destructive]
    for field in change.fields[:MAX_FIELDS]:
        lines.append(f"  - {code(field.path)}: {code(short(field.old, 200))} → {code(short(field.new, 200))}")
    if len(change.fields) > MAX_FIELDS:
        lines.append(f"  - and {len(change.fields) - MAX_FIELDS} more changed fields (see `--json`)")
    return lines


def _counts(changes: list[Change], html: bool = False) -> str:
    """`html`: for a `<summary>`, raw HTML where Markdown emphasis is not read."""
    parts = []
    destructive = sum(1 for c in changes if c.destructive)
    if destructive:
        parts.append(f"<b>{destructive} destructive</b>" if html else f"**{destructive} destructive**")
    for label, test in (
        ("to create", lambda c: c.action == "create"),
        ("to update", lambda c: c.action == "update"),
        ("to delete", lambda c: c.action == "delete" and not c.left),
        ("left in the cluster", lambda c: c.left),
    ):
        n = sum(1 for c in changes if test(c))
        if n:
            parts.append(f"{n} {label}")
    return ", ".join(parts) or "no change"


def _header(result: DiffResult, max_chars: int, scrub: Callable[[str], str]) -> list[str]:
    report = result.head_report
    verdict = report.verdict(f"{result.path} at {result.head[:7]}")
    lines = [
        MARKER,
        f"### Cluster changes of {code(result.path)}: {code(result.base[:7])} → {code(result.head[:7])}",
        "",
        _counts(result.changes),
        "",
    ]
    destructive = sum(1 for c in result.changes if c.destructive)
    if destructive:
        lines += [
            "> [!CAUTION]",
            f"> {destructive} destructive change(s): data is deleted, or an object the API server cannot "
            "change in place is changed. They are listed first below.",
            "",
        ]
    state = f"**{verdict.outcome}**: {len(report.errors)} error(s), {len(report.policy)} policy finding(s)"
    lines.append(f"Head verified as `fleet verify` does: {state}.")
    if report.findings:
        lines += ["", "<details open>" if report.errors else "<details>"]
        lines += ["<summary>Findings at head</summary>", ""]
        room, listed = max_chars // 5, 0
        for finding in report.findings[:MAX_FINDINGS]:
            line = (
                f"- **{finding.severity}** {code(_cut(finding.path))}: {prose(_cut(scrub(finding.message)))}"
            )
            room -= len(line) + 1
            if room < 0:
                break
            lines.append(line)
            listed += 1
        if len(report.findings) > listed:
            lines.append(f"- and {len(report.findings) - listed} more (see `fleet verify`)")
        lines += ["", "</details>"]
    notes = [f"{o.name} removed: {o.note}" for o in result.owners if o.state == "removed"]
    notes += result.notes
    if notes:
        lines += ["", "<details>", "<summary>Notes</summary>", ""]
        room, listed = max_chars // 10, 0
        for note in notes[:MAX_FINDINGS]:
            line = f"- {prose(_cut(scrub(note)))}"
            room -= len(line) + 1
            if room < 0:
                break
            lines.append(line)
            listed += 1
        if len(notes) > listed:
            lines.append(f"- and {len(notes) - listed} more (see the command's output)")
        lines += ["", "</details>"]
    return [*lines, ""]


def _cut(value: str, limit: int = 300) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def _section_head(owner: str, changes: list[Change], state: str) -> list[str]:
    opened = "<details open>" if any(c.destructive for c in changes) else "<details>"
    return [opened, f"<summary>{code(_cut(owner))}{state}: {_counts(changes, html=True)}</summary>", ""]


def render(result: DiffResult, max_chars: int = DEFAULT_MAX_CHARS, scrub: Callable[[str], str] = str) -> str:
    """The comment, at most `max_chars` characters (at least 2,000; at most GitHub's limit)."""
    max_chars = max(2_000, min(max_chars, GITHUB_LIMIT - 1))
    states = {o.name: o.state for o in result.owners}
    out = _header(result, max_chars, scrub)
    # Room for the closing note and the footer, whatever they say.
    budget = max_chars - 600
    size = sum(len(line) + 1 for line in out)
    if size > budget:
        out = out[:2]
        size = sum(len(line) + 1 for line in out)
    cut_sections = cut_changes = 0
    full = True
    for owner, changes in by_owner(result):
        if not full:
            cut_sections += 1
            cut_changes += len(changes)
            continue
        state = states.get(owner, "")
        section = _section_head(owner, changes, f" ({state})" if state in ("added", "removed") else "")
        shown_here = 0
        for change in changes:
            items = _change_items(change, scrub)
            cost = sum(len(line) + 1 for line in [*section, *items]) + 100
            if size + cost > budget:
                break
            section += items
            shown_here += 1
        if shown_here == 0:
            full = False
            cut_sections += 1
            cut_changes += len(changes)
            continue
        if shown_here < len(changes):
            full = False
            section.append(f"- and {len(changes) - shown_here} more change(s), cut to fit the comment")
            cut_changes += len(changes) - shown_here
        section += ["", "</details>", ""]
        out += section
        size += sum(len(line) + 1 for line in section)
    if cut_changes:
        whole = f", {cut_sections} Kustomization(s)/Application(s) of them entirely" if cut_sections else ""
        out.append(
            f"**Cut to stay below GitHub's comment size limit:** {cut_changes} change(s) not shown{whole}; "
            "`eksgitops fleet diff --json` lists every one."
        )
        out.append("")
    out.append(f"<sub>{prose(scrub(result.summary()))}</sub>")
    comment = "\n".join(out) + "\n"
    return comment if len(comment) <= max_chars else comment[: max_chars - 1] + "\n"


def failure_comment(path: str, error: str) -> str:
    """The comment when the repository or a revision could not be read (exit 4)."""
    return f"{MARKER}\n### Cluster changes of {code(path)}: could not diff\n\n{prose(_cut(error, 1000))}\n"
