"""Which plain scalars Pulumi's YAML reader takes for numbers, and which numbers.

Pulumi reads stack files with go-yaml (gopkg.in/yaml.v2 2.4 in sdk/go/common/encoding; v3 3.0.1
is also in its go.mod). Both resolve an untagged plain scalar the same way (resolve.go, the
`'D', 'S'` and `'.'` cases), which is not YAML 1.2's core schema that PyYAML-based readers
follow:

- every `_` is dropped first (`1_001` is 1001, `1_` is 1);
- then Go's `strconv.ParseInt(s, 0, 64)`: an optional sign, then `0x`/`0X` hex, `0o`/`0O`
  octal, `0b`/`0B` binary, a leading `0` octal (`0100` is 64), else decimal; a positive
  value past int64 is tried as uint64;
- else, when it has the shape `[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?`, a float
  (`1e3` is 1000.0, `08` is 8.0), unless it overflows (`1e400` stays text);
- a scalar starting with `.` is a float when Go's `ParseFloat` reads it (`.5`).

`go_number(text)` returns what go-yaml makes of such a scalar, or None for text; the stack
reader refuses a value it would read differently (components.spec.read.stack_file).
"""

from __future__ import annotations

import math
import re

_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}
# Longer than any int64/uint64 or float64 go-yaml keeps exactly; bounds the work on a long scalar.
_LONGEST = 400
LONGEST = _LONGEST
INT64 = (-(2**63), 2**63 - 1)
UINT64_MAX = 2**64 - 1


def _go_base0(text: str) -> int | None:
    """Go's unsigned base-0 parse of `text` (no sign), or None where Go reports a syntax error."""
    base, digits = 10, text
    if text[:1] == "0" and len(text) > 1:
        prefix = text[1].lower()
        if len(text) >= 3 and prefix in "box":
            base, digits = {"b": 2, "o": 8, "x": 16}[prefix], text[2:]
        else:
            base, digits = 8, text[1:]
    if any(c not in _DIGITS[base] for c in digits):
        return None
    return int(digits, base) if digits else 0


NUMBERISH = re.compile(r"[-+]?[0-9._][0-9A-Za-z._+-]*")
"""A plain scalar long enough to need `too_long` checked before anything converts it."""


def too_long(text: str) -> bool:
    """A number-like scalar longer than any number go-yaml (or JSON) keeps: refused, never converted."""
    return len(text) > _LONGEST and bool(NUMBERISH.fullmatch(text))


def go_number(text: str) -> int | float | None:
    """The number go-yaml reads a plain, untagged scalar as; None when it reads text."""
    if not text or len(text) > _LONGEST:
        return None
    if text[0] == ".":
        return float(text) if _DOT_FLOAT.fullmatch(text) else None
    if text[0] not in "+-0123456789":
        return None
    plain = text.replace("_", "")
    if plain:
        sign, unsigned = (plain[0], plain[1:]) if plain[0] in "+-" else ("", plain)
        value = _go_base0(unsigned) if unsigned else None
        if value is not None:
            signed = -value if sign == "-" else value
            if INT64[0] <= signed <= INT64[1] or (not sign and signed <= UINT64_MAX):
                return signed
        if _YAML_STYLE_FLOAT.fullmatch(plain):
            number = float(plain)
            return None if math.isinf(number) else number
    return None
