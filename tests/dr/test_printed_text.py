"""What dr prints from git, AWS or the fleet repository is shown escaped and never read as markup."""

from __future__ import annotations

import pytest

from eksgitops.dr import session
from eksgitops.dr.report import CheckRow


def test_a_check_table_shows_escapes_and_markup_as_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that the cell holds the reason on one line
    reason = "fatal: \x1b]0;pwned\x07[link=https://evil.example]click[/link]\x1b[2J\u202e"
    session.table([CheckRow("fleet repository reachable", False, reason, "git")], "preflight dev")
    out = capsys.readouterr().out
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in out
    assert "\\x1b]0;pwned\\x07" in out and "\\u202e" in out
    assert "[link=https://evil.example]click[/link]" in out  # printed, not turned into a link
