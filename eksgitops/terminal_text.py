"""Text from users and repositories, made safe to print on a terminal or into a CI log.

A waiver reason in a stack file, a file or branch name in a fleet repository, a message built
from either: printed as they are, an escape sequence rewrites the screen (clears it, retitles
the window, hides the next lines, forges a `will reconcile` line after a newline), and a
bidirectional override shows text in another order than it is. `shown` writes such characters
as Python escapes (`\\x1b`, `\\n`, `\\u202e`), so what is printed is what is there.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from typing import TextIO

# Cc: C0 and C1 controls (ESC, CSI, BEL, CR, LF, DEL…); Cf: format characters (bidirectional
# overrides, zero-width joiners); Zl/Zp: line and paragraph separators; Cs: lone surrogates
# (undecodable bytes in a file name), which cannot even be encoded for output.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def shown(text: object, *, keep_newlines: bool = False) -> str:
    """`text` (str() of it) with every control, format and separator character escaped.

    `keep_newlines` keeps `\\n` for text that is meant to span lines (a block of several
    findings); everything else that moves the cursor or changes the terminal is escaped.
    """
    value = str(text)
    if value.isprintable() and value.isascii():
        return value  # the common case, without a per-character walk
    return "".join(
        char
        if (keep_newlines and char == "\n") or unicodedata.category(char) not in _UNSAFE_CATEGORIES
        else _escape(char)
        for char in value
    )


# Piped into a file or a CI log there is no terminal to ask: wide enough for a resource line,
# narrow enough to read in a log viewer.
PIPED_WIDTH = 100


def output_width(stream: TextIO | None = None) -> int | None:
    """The width to lay output out in. On a terminal None: rich asks the terminal (and honours
    COLUMNS). Piped: COLUMNS when it is a sensible number, else PIPED_WIDTH."""
    stream = stream or sys.stdout
    try:
        if stream is not None and stream.isatty():
            return None
    except (AttributeError, ValueError):  # a closed or unusual stream is no terminal
        pass
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and 20 <= int(columns) <= 1000:
        return int(columns)
    return PIPED_WIDTH
