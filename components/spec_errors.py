"""How the spec reports mistakes: `SpecValueError` inside models, `SpecError` lines outside.

Field and model validators in the spec models raise `SpecValueError(what, allowed, at=...)`.
pydantic keeps the exception in the error's context, and `components.spec` turns it into
the usual line `<file>: eksgitops:<path>: <what>; <allowed>`, where `<path>` is the
location pydantic reports for the validator plus `at` (a sub-path relative to it, so a
model validator can point at the exact key that is wrong, e.g. `at=("minSize",)`).

Every line goes through `redact`, so a credential a user pasted into a URL
(`https://user:TOKEN@host/…`, `ssh://git:TOKEN@…`) never reaches a terminal or a log.
"""

from __future__ import annotations

import re

PathPart = str | int
KeyPath = tuple[PathPart, ...]

# scheme://userinfo@ for every scheme (a user name alone, as in ssh://git@host, is kept
# except over http(s), where it is usually a token), and scp-like user:secret@host:.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s\"']+)@")
_SCP_USERINFO = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z0-9._~%!$&'()*+,;=-]+:[^/@\s\"']+@(?=[A-Za-z0-9.-]+:)")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SpecValueError(ValueError):
    """A value that is well typed but not allowed: what is wrong, and what is allowed."""

    def __init__(self, what: str, allowed: str, at: KeyPath = ()):
        super().__init__(f"{what}; {allowed}")
        self.what = what
        self.allowed = allowed
        self.at = at


class SpecError(Exception):
    """Every mistake in a stack's config, one line each, ready to print (credentials redacted)."""

    def __init__(self, lines: list[str]):
        # One line each, whatever a value held: control characters are shown escaped.
        self.lines = [_CONTROL.sub(lambda m: repr(m[0])[1:-1], redact(line)) for line in lines]
        super().__init__("\n".join(self.lines))


def redact(text: str) -> str:
    """`text` with the userinfo of every URL (and of scp-like Git addresses) replaced by ***."""

    def hide(match: re.Match[str]) -> str:
        secret = ":" in match["userinfo"] or match["scheme"].lower() in ("http://", "https://")
        return f"{match['scheme']}***@" if secret else match[0]

    text = _URL_USERINFO.sub(hide, text)
    return _SCP_USERINFO.sub("***@", text)


def format_path(path: KeyPath) -> str:
    """`("nodeGroups", 0, "minSize")` -> `nodeGroups[0].minSize`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
