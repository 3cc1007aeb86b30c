"""The `${...}` grammar of Flux's postBuild substitution (fluxcd/pkg envsubst, forked from
drone/envsubst), reimplemented from its documented behaviour and its test table.

Flux does not run a shell: it parses the object's YAML with its own scanner and evaluates the
tree. Its quirks are part of what a Kustomization applies, so they are kept here on purpose:

- text: `$$` is an escape for `$` (so `$${x}` stays `${x}`); `\\` is kept as it is;
- `${name}`; a name is letters, digits and `_` (a digit may come first);
- `${name:=d}`, `${name=d}`, `${name:-d}`, `${name:+d}`, `${name:?d}`: every one of them gives the
  value when it is not empty, else the default (Flux does not implement `+` or `?` as a shell
  does); the default may hold nested `${...}`; `${name-d}` is a "missing closing brace" error;
- `${#name}` (length in bytes), `${name^}`, `${name^^}`, `${name,}`, `${name,,}`;
- `${name:pos}`, `${name:pos:len}` (bytes; a position that is not a number gives the value);
- `${name#glob}`, `${name##glob}`, `${name%glob}`, `${name%%glob}` (`*` matches `/` too);
- `${name/pat/rep}`, `${name//pat/rep}`, `${name/#pat/rep}`, `${name/%pat/rep}`, where `\\/`
  and `\\\\` escape a slash and a backslash in `pat` and `rep`; `${name/pat/}` deletes `pat` (but
  `${name/#pat/}` and `${name/%pat/}` change nothing), and `${name/pat}` is an error.

A name with no value becomes an empty string (Flux's default, non-strict mode); `missing` lists
the names that would fail under strict mode (referenced without a default).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

MAX_DEPTH = 64
"""Nested `${...}` deeper than this is refused instead of exhausting the stack."""
MAX_OUTPUT = 16 << 20
"""A substitution that would produce more than this many characters is refused (`${v//}` can
multiply a value's size)."""

DEFAULT_OPS = frozenset({"=", ":=", ":-", ":+", ":?"})


class SubstitutionError(ValueError):
    """The text cannot be parsed as Flux parses it; the message is Flux's own wording."""


@dataclass
class Func:
    """`${param<op>args...}`; `op` is "" for a bare reference."""

    param: str
    op: str = ""
    args: list[Node] = field(default_factory=list)


Node = str | Func
Accept = Callable[[str, int], bool]


def _ident_char(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or unicodedata.category(ch) == "Nd"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def peek(self, ahead: int = 0) -> str:
        i = self.pos + ahead
        return self.text[i] if i < len(self.text) else ""

    def opens(self) -> bool:
        return self.text.startswith("${", self.pos)

    def token(self, accept: Accept, *, stop_at_open: bool, escapes: str = "") -> str | None:
        """The longest run of accepted characters (escapes resolved), None when there is none.
        `accept(ch, i)`: i is the 1-based place of `ch` in the token."""
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.peek()
            if stop_at_open and self.opens():
                break
            after = self.peek(1)
            if (ch == "$" and "$" in escapes and after == "$") or (
                ch == "\\" and "\\" in escapes and after in ("/", "\\")
            ):
                out.append(after)  # the escaped character is kept and never read again
                self.pos += 2
                continue
            if not accept(ch, len(out) + 1):
                break
            out.append(ch)
            self.pos += 1
        return "".join(out) if out else None

    def expect_close(self, error: str = "bad substitution") -> None:
        if self.peek() != "}":
            raise SubstitutionError(error)
        self.pos += 1

    def parse(self) -> list[Node]:
        """Text and `${...}` at the top level, where only `$$` is an escape. Text between two `$`
        is taken in one step (an object's YAML is mostly text)."""
        nodes: list[Node] = []
        text = self.text
        while self.pos < len(text):
            dollar = text.find("$", self.pos)
            if dollar < 0:
                nodes.append(text[self.pos :])
                break
            if dollar > self.pos:
                nodes.append(text[self.pos : dollar])
                self.pos = dollar
            if self.opens():
                self.pos += 2
                nodes.append(self.func())
            else:
                # `$$` is one `$` whatever follows; a lone `$` is itself.
                self.pos += 2 if text.startswith("$$", self.pos) else 1
                nodes.append("$")
        return nodes

    def func(self) -> Func:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SubstitutionError(f"substitutions nested deeper than {MAX_DEPTH} levels")
        try:
            return self._func()
        finally:
            self.depth -= 1

    def _func(self) -> Func:
        if self.peek() == "#":
            self.pos += 1
            name = self.token(lambda c, i: _ident_char(c), stop_at_open=False)
            if name is None:
                raise SubstitutionError("bad substitution")
            self.expect_close()
            return Func(name, "#")
        name = self.token(lambda c, i: _ident_char(c), stop_at_open=False)
        if name is None:
            raise SubstitutionError("unable to parse variable name")
        ch = self.peek()
        if ch == ":":
            return self.defaulted(name) if self.peek(1) in ("=", "-", "?", "+") else self.substring(name)
        if ch == "=":
            return self.defaulted(name)
        if ch in (",", "^"):
            return self.casing(name)
        if ch == "/":
            return self.replace(name)
        if ch in ("#", "%"):
            return self.remove(name, ch)
        self.expect_close("missing closing brace")
        return Func(name)

    def param(self, accept: Accept, escapes: str = "") -> Node:
        if self.opens():
            self.pos += 2
            return self.func()
        text = self.token(accept, stop_at_open=True, escapes=escapes)
        if text is None:
            raise SubstitutionError("unable to parse substitution within function")
        return text

    def operator(self, allowed: Callable[[str, int], bool]) -> str:
        op = self.token(allowed, stop_at_open=False)
        if op is None:
            raise SubstitutionError("bad substitution")
        return op

    def defaulted(self, name: str) -> Func:
        op = "=" if self.peek() == "=" else self.text[self.pos : self.pos + 2]
        self.pos += len(op)
        node = Func(name, op)
        while self.peek() != "}":
            node.args.append(self.param(lambda c, i: c != "}"))
        self.pos += 1
        return node

    def substring(self, name: str) -> Func:
        self.pos += 1
        node = Func(name, ":", [self.param(lambda c, i: c not in (":", "}"))])
        if self.peek() == "}":
            self.pos += 1
            return node
        self.operator(lambda c, i: c == ":")
        node.args.append(self.param(lambda c, i: c != "}"))
        self.expect_close()
        return node

    def remove(self, name: str, ch: str) -> Func:
        op = self.operator(lambda c, i: c == ch and i < 3)
        node = Func(name, op, [self.param(lambda c, i: c != "}")])
        self.expect_close()
        return node

    def replace(self, name: str) -> Func:
        op = self.operator(lambda c, i: (i == 1 and c == "/") or (i == 2 and c in ("/", "#", "%")))
        node = Func(name, op)
        if self.peek() == "/":
            node.args.append("")  # an empty pattern: prepend or append
        else:
            node.args.append(self.param(lambda c, i: c != "/", escapes="$\\"))
        self.operator(lambda c, i: c == "/")
        if self.peek() != "}":
            node.args.append(self.param(lambda c, i: c != "}", escapes="$\\"))
        self.expect_close()
        return node

    def casing(self, name: str) -> Func:
        op = self.operator(lambda c, i: c in (",", "^") and i < 3)
        self.expect_close()
        return Func(name, op)


def parse(text: str) -> list[Node]:
    """The tree of `text`, or SubstitutionError with Flux's message."""
    return _Parser(text).parse()


@dataclass
class Evaluation:
    text: str
    used: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)


def evaluate(text: str, values: Mapping[str, str]) -> Evaluation:
    """`text` with every `${...}` replaced as Flux replaces it with `values` (non-strict)."""
    if "$" not in text:
        return Evaluation(text)
    result = Evaluation("")
    size = [0]

    def run(node: Node) -> str:
        if isinstance(node, str):
            out = node
        else:
            args = [run(a) for a in node.args]
            result.used.add(node.param)
            value = values.get(node.param)
            if value is None and node.op not in DEFAULT_OPS:
                result.missing.add(node.param)
            out = _apply(node.op, value or "", args)
        size[0] += len(out)
        if size[0] > MAX_OUTPUT:
            raise SubstitutionError(f"the substituted text would exceed {MAX_OUTPUT} characters")
        return out

    result.text = "".join(run(n) for n in parse(text))
    return result


def _apply(op: str, s: str, args: list[str]) -> str:
    if op == ",":
        return s[:1].lower() + s[1:] if len(s[:1].lower()) == 1 else s
    if op == ",,":
        return "".join(c.lower() if len(c.lower()) == 1 else c for c in s)
    if op == "^":
        return s[:1].upper() + s[1:] if len(s[:1].upper()) == 1 else s
    if op == "^^":
        return "".join(c.upper() if len(c.upper()) == 1 else c for c in s)
    if op == "#" and not args:
        return str(len(s.encode()))
    if op in ("#", "##", "%", "%%"):
        return _trim(s, args[0], longest=len(op) == 2, suffix=op[0] == "%")
    if op == ":":
        return _substring(s, args)
    if op in ("/", "//"):
        new = args[1] if len(args) > 1 else ""
        return s.replace(args[0], new, 1 if op == "/" else -1)
    if op == "/#":
        return args[1] + s[len(args[0]) :] if len(args) == 2 and s.startswith(args[0]) else s
    if op == "/%":
        return s[: len(s) - len(args[0])] + args[1] if len(args) == 2 and s.endswith(args[0]) else s
    # "", "=", ":=", ":-", ":+", ":?" and any casing mix such as `^,`: the value, else the default.
    return s if s or not args else "".join(args)


def _substring(s: str, args: list[str]) -> str:
    data = s.encode()
    try:
        pos = int(args[0])
    except ValueError:
        return s
    if pos < 0:
        pos = max(len(data) + pos, 0)
    if len(args) == 1:
        return data[pos:].decode(errors="replace")
    try:
        length = int(args[1])
    except ValueError:
        return s
    if length < 0:
        end = len(data) + length
        return "" if end < pos else data[pos:end].decode(errors="replace")
    return data[pos : pos + length].decode(errors="replace")


def _trim(s: str, pattern: str, *, longest: bool, suffix: bool) -> str:
    """Remove the shortest or longest prefix (or suffix) of `s` that the glob `pattern` matches."""
    if suffix:
        return _trim(s[::-1], pattern[::-1], longest=longest, suffix=False)[::-1]
    try:
        compiled = _glob(pattern)
    except SubstitutionError:
        return s
    ends = [n for n in _prefixes_matched(compiled, s) if n > 0]
    if not ends:
        return s
    return s[(ends[-1] if longest else ends[0]) :]


Glob = list[tuple[str, object]]


def _glob(pattern: str) -> Glob:
    """Pieces of a glob: ("*", None), ("?", None), ("lit", ch), ("set", (negated, ranges))."""
    out: Glob = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(("*", None))
        elif ch == "?":
            out.append(("?", None))
        elif ch == "\\":
            if i + 1 >= len(pattern):
                raise SubstitutionError("bad pattern")
            i += 1
            out.append(("lit", pattern[i]))
        elif ch == "[":
            i, piece = _char_class(pattern, i + 1)
            out.append(("set", piece))
            continue
        else:
            out.append(("lit", ch))
        i += 1
    return out


def _char_class(pattern: str, i: int) -> tuple[int, tuple[bool, list[tuple[str, str]]]]:
    negated = i < len(pattern) and pattern[i] == "^"
    i += negated
    ranges: list[tuple[str, str]] = []
    while True:
        if i >= len(pattern):
            raise SubstitutionError("bad pattern")
        if pattern[i] == "]" and ranges:
            return i + 1, (negated, ranges)
        lo, i = _class_char(pattern, i)
        hi = lo
        if i < len(pattern) and pattern[i] == "-":
            hi, i = _class_char(pattern, i + 1)
        ranges.append((lo, hi))


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    if i >= len(pattern) or pattern[i] in "-]":
        raise SubstitutionError("bad pattern")
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise SubstitutionError("bad pattern")
    return pattern[i], i + 1


def _one(piece: tuple[str, object], ch: str) -> bool:
    kind, arg = piece
    if kind == "?":
        return True
    if kind == "lit":
        return ch == arg
    negated, ranges = arg  # type: ignore[misc]
    inside = any(lo <= ch <= hi for lo, hi in ranges)  # type: ignore[operator]
    return inside != negated


def _prefixes_matched(glob: Glob, s: str) -> list[int]:
    """The lengths of the prefixes of `s` that all of `glob` matches (`*` matches `/` too), in
    one pass over `s` with every place in the glob at once: no pattern makes it exponential."""

    def closure(places: set[int]) -> set[int]:
        out = set(places)
        for p in sorted(places):
            while p < len(glob) and glob[p][0] == "*":
                p += 1
                out.add(p)
        return out

    places = closure({0})
    found = [0] if len(glob) in places else []
    for i, ch in enumerate(s):
        step: set[int] = set()
        for p in places:
            if p < len(glob) and glob[p][0] == "*":
                step.add(p)
            elif p < len(glob) and _one(glob[p], ch):
                step.add(p + 1)
        places = closure(step)
        if not places:
            break
        if len(glob) in places:
            found.append(i + 1)
    return found
