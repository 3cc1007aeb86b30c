"""plan.md is posted as a pull-request comment: what it quotes from a state file, a stack file or
the program stays text (issue 22.6). The worst strings go in; a real Markdown parser
(markdown-it-py) reads the result, and its structure is counted."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.plan.cli import run_plan
from eksgitops.plan.insight import analyse
from eksgitops.plan.markdown_text import code_block, code_span
from eksgitops.plan.offline_engine import PlanResult
from eksgitops.plan.summary import markdown
from eksgitops.policy.model import Finding
from tests.plan.test_against_as_preview import export_of

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = [
    "```\n# injected heading\n```",
    "````",
    "~~~\n## tilde",
    "![pixel](https://evil.example/p.png)",
    "[approve here](https://evil.example/)",
    "<https://evil.example/auto>",
    "https://evil.example/bare www.evil.example",
    "@octocat @org/team please approve",
    "<details><summary>nothing to see</summary>",
    "</details></code></pre>",
    "<img src=x onerror=alert(1)>",
    "<!-- the rest is hidden",
    "| a | b |\n|---|---|\n| c | d |",
    "\x1b[2J\x1b]0;owned\x07",
    "\u202eevil\u2028line",
    "`` ` ``",
    "- [x] reviewed\n* item",
    "> quoted\n\n---",
    "&lt;b&gt; &#64;octocat",
    "\\`escaped\\`",
]
# What may never appear in text outside code once rendered.
LIVE = ("@", "http", "www.", "<", ">", "![", "](", "`", "&", "|", "---", "#", "\x1b", "\u202e")
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


def hostile_state(plan: PlanResult) -> dict[str, Any]:
    """The plan's own state, plus resources and inputs named with the worst strings."""
    state = export_of(plan, "dev")
    resources = state["deployment"]["resources"]
    config_map = next(r for r in resources if r["type"] == CONFIG_MAP)
    for index, text in enumerate(HOSTILE):
        resources.append(
            {
                "urn": f"urn:pulumi:dev::eksgitops::aws:s3/bucket:Bucket::{text}",
                "custom": True,
                "type": f"aws:s3/bucket:Bucket{text}",
                "parent": "",
                "inputs": {"bucket": text},
            }
        )
        config_map["inputs"]["data"][f"key-{index}-{text}"] = text
    return state


def structure(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Block token types, and every inline (type, content) outside code, as markdown-it reads it."""
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    tokens = parser.parse(text)
    blocks = [t.type for t in tokens]
    inline = [
        (child.type, child.content)
        for t in tokens
        if t.type == "inline"
        for child in t.children or []
        if child.type != "code_inline"
    ]
    return blocks, inline


def assert_inert(comment: str, fences: int) -> None:
    blocks, inline = structure(comment)
    assert blocks.count("fence") == fences, blocks
    assert blocks.count("heading_open") == 1
    for forbidden in ("html_block", "table_open", "bullet_list_open", "hr", "code_block"):
        assert forbidden not in blocks, (forbidden, blocks)
    assert {kind for kind, _ in inline} <= {"text", "softbreak", "strong_open", "strong_close"}, inline
    for _, content in inline:
        assert not any(mark in content for mark in LIVE), content
    rendered = MarkdownIt("commonmark").render(comment)
    for tag in ("<img", "<a ", "<details", "<summary", "<h1", "<h2", "<table", "<li", "<hr", "<!--"):
        assert tag not in rendered


@pytest.fixture(scope="module")
def dev() -> PlanResult:
    return run_plan("dev", stacks_dir=ROOT / "stacks", project_dir=ROOT)


def test_the_worst_strings_in_a_state_file_stay_text(
    dev: PlanResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The state file's own name is quoted too.
    state = tmp_path / "```\n<details>@octocat ![x](https:evil) `.json"
    state.write_text(json.dumps(hostile_state(dev)))
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["plan", "dev", "--against", str(state), "--out", str(tmp_path / "build")]
    )
    assert result.exit_code == 0, result.output
    comment = (tmp_path / "build" / "dev" / "plan.md").read_text()
    assert_inert(comment, fences=1)
    assert f"{len(HOSTILE)} to delete" in comment
    # Every line of the diff is in the one fence, each value on its line, escaped as on a terminal.
    [fence] = [t for t in MarkdownIt("commonmark").parse(comment) if t.type == "fence"]
    assert "\\x1b[2J\\x1b]0;owned\\x07" in fence.content and "\\u202eevil\\u2028line" in fence.content
    fenced = "```\\n# injected heading\\n```"
    assert f"- delete aws:s3/bucket:Bucket{fenced} {fenced}" in fence.content.splitlines()
    assert str(tmp_path) not in comment

    # The terminal: the same names escaped, no control character through.
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and "\u202e" not in stream and "\u2028" not in stream
    assert (
        "- delete aws:s3/bucket:Bucket\\x1b[2J\\x1b]0;owned\\x07 \\x1b[2J\\x1b]0;owned\\x07" in result.stdout
    )


def test_a_policy_message_from_a_stack_file_stays_text(dev: PlanResult, tmp_path: Path) -> None:
    insight = analyse(dev, [], tmp_path)
    result = insight.report.results[0]
    findings = [Finding(rule="EKS-\n# X", urn="", resource=text, message=text) for text in HOSTILE]
    insight.report.results[0] = replace(result, violations=findings)
    comment = markdown("dev", dev, insight, tmp_path / "build" / "dev", None)
    blocks, _ = structure(comment)
    # The violations are a list of their own (one item each); nothing inside them is live.
    assert blocks.count("list_item_open") == len(HOSTILE)
    without_list = "\n".join(line for line in comment.splitlines() if not line.startswith("- "))
    assert_inert(without_list, fences=0)
    for line in comment.splitlines():
        if line.startswith("- "):
            _, inline = structure(line[2:])
            assert all(not any(mark in content for mark in LIVE) for _, content in inline)


@pytest.mark.parametrize("text", HOSTILE)
def test_a_code_span_or_block_holds_any_string(text: str) -> None:
    parser = MarkdownIt("commonmark")
    [_, inline, _] = parser.parse(f"x {code_span(text)} y")
    assert [c.type for c in inline.children or []] == ["text", "code_inline", "text"]
    tokens = parser.parse("\n".join(code_block([text, text + "`````"])))
    assert [t.type for t in tokens] == ["fence"]
