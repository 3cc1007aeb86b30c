"""eksgitops.terminal_text.shown: what is printed is what is there."""

from __future__ import annotations

import pytest

from eksgitops.terminal_text import shown


@pytest.mark.parametrize(
    ("raw", "printed"),
    [
        ("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07"),  # clear screen, retitle, bell
        ("line\nverify: will reconcile", "line\\nverify: will reconcile"),  # a forged second line
        ("a\rb", "a\\rb"),
        ("tab\there", "tab\\there"),
        ("\x9b31m", "\\x9b31m"),  # the 8-bit CSI
        ("\x7f", "\\x7f"),
        ("admin\u202etxt.exe", "admin\\u202etxt.exe"),  # right-to-left override
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("para\u2029graph", "para\\u2029graph"),
        ("bad\udcffbyte", "bad\\udcffbyte"),  # an undecodable byte in a file name
    ],
)
def test_controls_and_format_characters_are_escaped(raw: str, printed: str) -> None:
    assert shown(raw) == printed
    assert shown(raw).isprintable()


@pytest.mark.parametrize("text", ["clusters/dev/apps.yaml", "Ünïcödé names stay", "日本語", "[secret] a=b"])
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert shown(text) == text


def test_newlines_kept_only_when_asked() -> None:
    assert shown("a\nb\x1b", keep_newlines=True) == "a\nb\\x1b"
    assert shown(42) == "42"
