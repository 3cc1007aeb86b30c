"""How the stack reader composes YAML: the node tree, the core schema's tags, and the guards.

`compose(path, what)` reads a file into YAML nodes without expanding aliases, refusing a file
that is not UTF-8, nests deeper than `MAX_DEPTH` (naming the key) or is not YAML, and marks
every scalar whose tag the user wrote. NEXT LINE, LINE SEPARATOR and PARAGRAPH SEPARATOR
are swapped for stand-ins while composing (`show` swaps them back).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from eksgitops.components.document_limits import DocumentLimit, Limits, check_yaml
from eksgitops.components.spec.base import SecretValue
from eksgitops.components.spec.errors import SpecError

STR, NULL, BOOL, INT, FLOAT = (f"tag:yaml.org,2002:{t}" for t in ("str", "null", "bool", "int", "float"))
_CORE = (
    (NULL, re.compile(r"~|null|Null|NULL|")),
    (BOOL, re.compile(r"true|True|TRUE|false|False|FALSE")),
    (INT, re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")),
    (FLOAT, re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")),
)
SPECIAL_FLOAT = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


class _TooDeep(Exception):
    def __init__(self, key: str, line: int):
        super().__init__(key)
        self.key, self.line = key, line


MAX_DEPTH = 32
"""Lists and mappings a value may nest (the deepest shipped value, an IAM Condition, has 8)."""
MAX_CHARS = 4 << 20
"""Characters of all values together (the shipped stacks hold ~10 KiB), aliases expanded."""
STACK_LIMITS = Limits(
    chars=16 << 20, values=20_000, expanded_chars=MAX_CHARS, aliases=10_000, depth=MAX_DEPTH
)
"""What a stack file may hold as written (aliases not expanded; keys count as values): the
stack reader counts expanded values itself (stack_file.MAX_VALUES) and names the key."""
_STACK_ALLOWED = "a stack file holds a few hundred short values"

# YAML reads NEXT LINE, LINE SEPARATOR and PARAGRAPH SEPARATOR as line breaks, so one inside
# a quoted value ends in "could not find expected ':'" lines away. The reader swaps them for
# private-use stand-ins, composes, and swaps them back in what it returns, where the spec
# names the key that holds one (components.spec.syntax.control_characters).
_STAND_INS = {"\u0085": "\uf8f0", "\u2028": "\uf8f1", "\u2029": "\uf8f2"}
_HIDE = str.maketrans(_STAND_INS)
_SHOW = str.maketrans({v: k for k, v in _STAND_INS.items()})


class _Loader(yaml.SafeLoader):
    """SafeLoader that marks scalars with a tag the user wrote and refuses deep nesting early."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.path: list[str | int | None] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:  # type: ignore[override]
        part = (
            index.value if isinstance(index, yaml.ScalarNode) else index if isinstance(index, int) else None
        )
        self.path.append(part)
        try:
            if len(self.path) > MAX_DEPTH:
                # Name the innermost key: the list indices below it say nothing to a reader.
                named = list(self.path)
                while named and not isinstance(named[-1], str):
                    named.pop()
                raise _TooDeep(_format_key(named), self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self.path.pop()

    def compose_scalar_node(self, anchor: str | None) -> yaml.ScalarNode:  # type: ignore[override]
        # An explicit tag that YAML would also infer (!!timestamp 2024-01-01, !!int 3) leaves no
        # trace in the node; Pulumi's reader would honour it (a timestamp becomes
        # 2024-01-01T00:00:00Z), so the reader must know it was written.
        tag = self.peek_event().tag
        node = super().compose_scalar_node(anchor)  # type: ignore[misc]
        node.explicit = tag not in (None, "!", STR)  # type: ignore[attr-defined]
        # Untagged plain scalars are the ones go-yaml resolves by their text (stack_file's numbers).
        node.untagged = tag is None  # type: ignore[attr-defined]
        return node


def _format_key(parts: list[str | int | None]) -> str:
    named = [p for p in parts if p is not None]
    if named[:1] == ["config"]:
        named = named[1:]
    text = ""
    for part in named:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the file"


def show(value: Any) -> Any:
    """`value` with the line-break stand-ins turned back into the characters the file holds."""
    if isinstance(value, str):
        return value.translate(_SHOW)
    if isinstance(value, SecretValue):
        return SecretValue(value.value.translate(_SHOW))
    if isinstance(value, dict):
        return {show(k): show(v) for k, v in value.items()}
    return [show(v) for v in value] if isinstance(value, list) else value


def core_tag(node: yaml.ScalarNode) -> str:
    """The tag YAML 1.2's core schema gives a scalar (quoted scalars are strings)."""
    if node.style is None:
        for tag, pattern in _CORE:
            if pattern.fullmatch(node.value):
                return tag
        if SPECIAL_FLOAT.fullmatch(node.value):
            return FLOAT
    return STR


def explicit_tag(node: yaml.Node) -> str | None:
    """The tag the user wrote, if it differs from what YAML would infer (and is not !!str)."""
    if isinstance(node, yaml.ScalarNode):
        if getattr(node, "explicit", False) and node.tag != STR:
            return node.tag
        implicit = yaml.SafeLoader.resolve(
            yaml.SafeLoader,  # type: ignore[arg-type]
            yaml.ScalarNode,
            node.value,
            (node.style is None, node.style is not None),
        )
        return None if node.tag in (implicit, STR) else node.tag
    implicit = "tag:yaml.org,2002:seq" if isinstance(node, yaml.SequenceNode) else "tag:yaml.org,2002:map"
    return None if node.tag == implicit else node.tag


def short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def compose(path: Path, what: str) -> yaml.Node | None:
    """The file's YAML node tree (aliases not expanded), or SpecError naming the file."""
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(STACK_LIMITS.chars + 1)  # never more than the limit, whatever the file
    except OSError as exc:
        raise SpecError(
            [f"{path}: cannot read the {what} ({exc.strerror}); create it or check the path"]
        ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SpecError([f"{path}: is UTF-16 text; save the file as UTF-8"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError(
            [f"{path}:{line}: is not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"]
        ) from None
    if len(data) > STACK_LIMITS.chars:
        raise SpecError([f"{path}: is larger than {STACK_LIMITS.chars >> 20} MiB; a {what} holds a few KiB"])
    try:
        # Before anything is composed: size, depth and keys, each refused naming the key.
        check_yaml(text, STACK_LIMITS, expand_aliases=False, count_keys=True)
    except DocumentLimit as exc:
        named: list[str | int | None] = list(exc.key)
        while named and not isinstance(named[-1], str):
            named.pop()
        where = f" (line {exc.line})" if exc.line is not None else ""
        allowed = exc.allowed if "nests" in exc.problem else _STACK_ALLOWED
        raise SpecError([f"{path}: {_format_key(named)}: {exc.problem}{where}; {allowed}"]) from None
    except yaml.YAMLError:
        pass  # composing below says where the syntax is wrong, in the reader's own words
    loader: _Loader | None = None
    try:
        loader = _Loader(text.translate(_HIDE))  # reads the first characters already
        return loader.get_single_node()
    except _TooDeep as exc:
        raise SpecError(
            [
                f"{path}: {exc.key}: nests more than {MAX_DEPTH} lists or mappings deep (line {exc.line}); "
                "a flatter value"
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError([yaml_error_line(path, exc)]) from None
    except RecursionError:
        raise SpecError([f"{path}: nests lists or mappings too deeply; a flat stack file"]) from None
    finally:
        if loader is not None:
            loader.dispose()


def yaml_error_line(path: Path | str, exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error, with the line number when YAML knows it."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        return f"{where}: not valid YAML ({exc.problem or exc.context}); fix the syntax"
    return f"{path}: not valid YAML ({' '.join(str(exc).split())}); fix the syntax"
