"""`fleet diff --markdown`: a pull-request comment whose structure no repository content can
change (parsed with markdown-it, a CommonMark parser, and the HTML it renders counted), sections
per owner with the destructive ones first, and a size below GitHub's limit with a note of the cut."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt
from typer.testing import CliRunner

from eksgitops.fleet.diff.markdown import GITHUB_LIMIT, MARKER, render, text
from eksgitops.fleet.diff.model import Change, Destructive, DiffResult, FieldChange, Owner
from eksgitops.fleet.findings import Finding, Report
from tests.fleet.conftest import invoke
from tests.fleet.diff.fleet import DATA, FILES, commit, push_base

HOSTILE = [
    "`rm -rf /`",
    "</details><details open><summary>forged",
    "@octocat",
    "![img](https://evil.example/x.png)",
    "[click](https://evil.example)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "**bold** _em_ ~~gone~~",
    "| a | b |\n|---|---|",
    "#1234 and GH-1",
    "https://evil.example/autolink www.evil.example",
    "&lt;already escaped&gt; &amp;",
    "\x1b[31mred\x1b[0m \u202eevil",
    "line one\n\n# heading",
    ":rocket: -->",
]
SHA_A, SHA_B = "a" * 40, "b" * 40
OWN_CODE = {"fleet verify", "--json", "eksgitops fleet diff --json"}
"""Code spans the comment itself writes (in its own prose)."""


def _result(
    changes: list[Change], findings: list[Finding] | None = None, owners: list[Owner] | None = None
) -> DiffResult:
    report = Report(findings=findings or [], builds=3, objects=10, verified=10)
    return DiffResult("clusters/dev", SHA_A, SHA_B, changes, owners or [], report)


def _hostile_result() -> DiffResult:
    changes: list[Change] = []
    for i, bad in enumerate(HOSTILE):
        owner = f"Kustomization flux-system/{bad}"
        changes.append(
            Change(
                "update",
                "v1",
                "ConfigMap",
                bad,
                f"cm-{bad}",
                owner,
                fields=[FieldChange(f'data["{bad}"]', bad, f"new {bad}")],
            )
        )
        changes.append(
            Change(
                "delete",
                "v1",
                "Namespace",
                "",
                bad,
                owner,
                destructive=[
                    Destructive("namespace-deleted", f"deleting Namespace {bad} deletes every object in it")
                ],
            )
        )
        changes.append(
            Change("create", f"example.com/{bad}", bad, "ns", f"x{i}", owner, cluster=bad, moved_from=None)
        )
    findings = [Finding(f"apps/{bad}.yaml", f"broken by {bad}", "policy") for bad in HOSTILE]
    owners = [Owner(f"Kustomization flux-system/{HOSTILE[0]}", "removed", True, f"gone: {HOSTILE[1]}")]
    return _result(changes, findings, owners)


class Tree(HTMLParser):
    """Counts elements of the rendered HTML, and the text outside and inside <code>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: dict[str, int] = {}
        self.depth: list[str] = []
        self.code_text: list[str] = []
        self.plain_text: list[str] = []
        self.unbalanced = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag not in ("br", "hr", "img", "input"):
            self.depth.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.depth or self.depth[-1] != tag:
            self.unbalanced += 1
            return
        self.depth.pop()

    def handle_data(self, data: str) -> None:
        (self.code_text if "code" in self.depth else self.plain_text).append(data)


def _parse(comment: str) -> tuple[list, Tree]:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    tokens = md.parse(comment)
    tree = Tree()
    tree.feed(md.render(comment))
    tree.close()
    return tokens, tree


def _inline(tokens: list) -> list:
    return [child for t in tokens if t.type == "inline" for child in (t.children or [])]


def test_hostile_names_and_values_change_no_structure() -> None:
    result = _hostile_result()
    comment = render(result)
    tokens, tree = _parse(comment)
    inline = _inline(tokens)
    assert [t.type for t in inline if t.type in ("image", "link_open", "html_block", "heading_open")] == []
    assert {t.content for t in inline if t.type == "code_inline"} <= OWN_CODE
    assert [t.type for t in tokens if t.type in ("table_open", "hr")] == []
    assert sum(1 for t in tokens if t.type == "heading_open") == 1
    assert tree.tags.get("table", 0) == 0 and tree.tags.get("img", 0) == 0 and tree.tags.get("a", 0) == 0
    assert tree.tags.get("script", 0) == 0 and tree.unbalanced == 0 and tree.depth == []
    # One section per owner, plus the findings and the notes; every one closed.
    owners = len(HOSTILE)
    assert tree.tags["details"] == owners + 2 and comment.count("</details>") == owners + 2
    assert tree.tags["summary"] == owners + 2
    # Inline HTML the comment writes itself, and nothing else.
    allowed = {"<code>", "</code>", "<b>", "</b>", "<sub>", "</sub>"}
    assert {t.content for t in inline if t.type == "html_inline"} <= allowed
    # Every hostile text is there, as text: what GitHub shows is what the repository holds.
    shown_text = "".join(tree.code_text + tree.plain_text)
    for bad in HOSTILE:
        if "\n" not in bad and "\x1b" not in bad:
            assert bad in shown_text, bad
    assert "\\x1b[31mred\\x1b[0m \\u202eevil" in shown_text and "\x1b" not in comment
    # No @mention or #reference outside <code>: a zero-width space follows @ and # in prose.
    plain = "".join(tree.plain_text)
    assert "@octocat" not in plain and "#1234" not in plain
    assert "@\u200boctocat" in plain


def test_escaping_is_the_same_in_markdown_and_in_html() -> None:
    for bad in HOSTILE:
        escaped = text(bad)
        assert set(escaped) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -/&#;")
        assert html.unescape(escaped) == bad.replace("\n", "\\n").replace("\x1b", "\\x1b").replace(
            "\u202e", "\\u202e"
        )


def test_destructive_sections_and_changes_come_first() -> None:
    calm = [
        Change("create", "v1", "ConfigMap", "a", f"c{i}", "Kustomization flux-system/aaa") for i in range(3)
    ]
    boom = [
        Change("create", "v1", "ConfigMap", "z", "new", "Kustomization flux-system/zzz"),
        Change(
            "delete",
            "v1",
            "PersistentVolumeClaim",
            "z",
            "data",
            "Kustomization flux-system/zzz",
            destructive=[
                Destructive("pvc-deleted", "deleting PersistentVolumeClaim data deletes its volume")
            ],
        ),
    ]
    comment = render(_result(calm + boom))
    assert comment.startswith(MARKER + "\n")
    assert comment.index("flux-system/zzz") < comment.index("flux-system/aaa")
    assert comment.index("PersistentVolumeClaim") < comment.index("ConfigMap z/new")
    lines = comment.splitlines()
    opened = [lines[i - 1] for i, line in enumerate(lines) if line.startswith("<summary><code>Kustomization")]
    assert opened == ["<details open>", "<details>"]  # the destructive one open, the other folded
    assert "> [!CAUTION]" in comment


def test_a_huge_change_is_cut_below_the_limit_with_a_note() -> None:
    changes = []
    for owner in range(60):
        for i in range(80):
            fields = [FieldChange(f"data.key{j}", "x" * 150, "y" * 150) for j in range(5)]
            changes.append(
                Change(
                    "update",
                    "v1",
                    "ConfigMap",
                    "ns",
                    f"cm{i}",
                    f"Kustomization flux-system/o{owner:02d}",
                    fields=fields,
                )
            )
    changes.append(
        Change(
            "delete",
            "v1",
            "Namespace",
            "",
            "last",
            "Kustomization flux-system/o99",
            destructive=[
                Destructive("namespace-deleted", "deleting Namespace last deletes every object in it")
            ],
        )
    )
    for limit in (60_000, GITHUB_LIMIT - 1, 8_000):
        comment = render(_result(changes), max_chars=limit)
        assert len(comment) <= limit and len(comment.encode()) <= limit
        _, tree = _parse(comment)
        assert tree.unbalanced == 0 and tree.depth == []
        assert "**Cut to stay below GitHub's comment size limit:**" in comment
        assert "change(s) not shown" in comment
        # The destructive change survives any cut: it comes first.
        assert "o99" in comment[: comment.index("o00") if "o00" in comment else len(comment)]


def test_the_comment_of_a_real_fleet(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    """Hostile values that Kubernetes accepts (ConfigMap data, annotations) through the command."""
    work = tmp_path / "work"
    push_base(work, bare_remote)
    config = FILES["apps/config.yaml"].replace(
        "  level: info\n",
        '  level: "</details> @octocat ![x](https://evil.example/x.png) <b>hi</b> `tick`"\n',
    )
    commit(
        work,
        {
            "apps/config.yaml": config,
            "data/release.yaml": DATA["data/release.yaml"].replace("19.6.4", "20.1.0"),
        },
        "pr",
        push="pr",
    )
    args = ["diff", "--repo", str(bare_remote), "--env", "dev", "--base", "main", "--revision", "pr"]
    result = invoke(cli, *args, "--markdown")
    assert result.exit_code == 6
    tokens, tree = _parse(result.stdout)
    assert tree.unbalanced == 0 and tree.tags.get("img", 0) == 0 and tree.tags.get("a", 0) == 0
    assert tree.tags["details"] == 4  # findings, notes, the two Kustomizations
    assert "</details> @octocat ![x](https://evil.example/x.png) <b>hi</b> `tick`" in "".join(tree.code_text)
    assert {t.content for t in _inline(tokens) if t.type == "code_inline"} <= OWN_CODE
