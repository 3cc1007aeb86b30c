"""Reading `stacks/Pulumi.<stack>.yaml` and `Pulumi.yaml` the way the Pulumi CLI does, strictly.

YAML can say far more than a stack file should: tags (`!Ref`, `!!binary`, `!!python/…`,
`!!set`), complex and non-string keys, duplicate keys (the last silently wins), aliases
that expand exponentially, timestamps. The reader works on the composed node tree (where
an alias is a shared node, so nothing is expanded yet) and builds plain values itself:

- scalars are resolved with YAML 1.2's core schema, as Pulumi's Go YAML reader does for
  config: `true`/`false` only (`yes`, `on` stay strings), decimal/hex/octal integers,
  floats, null; everything else is a string — a date (`Version: 2012-10-17`) included;
- a tag other than the one YAML would infer (or `!!str`) is refused, as are merge keys;
- mapping keys must be strings, once each, at every depth;
- at most `MAX_VALUES` values after alias expansion, and no alias inside itself;
- `{secure: <ciphertext>}` becomes a `SecretValue`.

Top-level project values keep their source text (`1.30` stays "1.30"), as Pulumi passes
top-level config to the program as strings. Every problem is one line that names the
file and the key; the reader raises `SpecError` with all of them before anything else.
"""

from __future__ import annotations

import difflib
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from eksgitops.components.spec.base import PROJECT, SecretValue
from eksgitops.components.spec.environment import TOP_LEVEL_KEYS
from eksgitops.components.spec.errors import SpecError
from eksgitops.components.spec.read.go_numbers import LONGEST, UINT64_MAX, go_number, too_long
from eksgitops.components.spec.read.yaml_nodes import (
    BOOL,
    FLOAT,
    INT,
    MAX_CHARS,
    NULL,
    SPECIAL_FLOAT,
    STR,
    compose,
    core_tag,
    explicit_tag,
    short_tag,
    show,
)

MAX_VALUES = 10_000
"""Values a stack file may hold after alias expansion (the shipped stacks hold ~200)."""
STACK_FILE_KEYS = ("config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider")
"""Top-level keys of a Pulumi stack file (pulumi/pulumi sdk/go/common/workspace/project.go)."""


class _TooBig(Exception):
    pass


class _Reader:
    """Builds plain values from composed YAML nodes, collecting every problem."""

    def __init__(self, source: str):
        self.source = source
        self.lines: list[str] = []
        self.count = 0
        self.chars = 0
        self.seen: set[int] = set()  # nodes built once: meeting one again means an alias
        self.aliased = False
        self.open: set[int] = set()  # nodes being built: an alias to one of them is a cycle

    def problem(self, key: str, what: str, allowed: str, node: yaml.Node | None = None) -> None:
        where = f" (line {node.start_mark.line + 1})" if node is not None else ""
        self.lines.append(f"{self.source}: {key}: {what}{where}; {allowed}")

    def value(self, node: yaml.Node, key: str) -> Any:
        self.count += 1
        if id(node) in self.seen:
            self.aliased = True
        self.seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            self.chars += len(node.value)
        if self.count > MAX_VALUES or self.chars > MAX_CHARS:
            raise _TooBig(key)
        tag = explicit_tag(node)
        if tag is not None:
            self.problem(
                key,
                f"has the YAML tag {short_tag(tag)}, which a stack file cannot use",
                "a plain value",
                node,
            )
            return None
        if id(node) in self.open:
            self.problem(
                key, "contains itself through a YAML alias", "a value that does not refer to itself", node
            )
            return None
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, key)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.value(item, f"{key}[{i}]") for i, item in enumerate(node.value)]
            assert isinstance(node, yaml.MappingNode)  # the composer makes only these three kinds
            return self.mapping(node, key)
        finally:
            self.open.discard(id(node))

    def scalar(self, node: yaml.ScalarNode, key: str) -> Any:
        if node.style is None and getattr(node, "untagged", False):
            return self.plain(node, key)
        return self.resolved(node, key)

    def plain(self, node: yaml.ScalarNode, key: str) -> Any:
        """An untagged plain scalar, if go-yaml (Pulumi's reader) reads it as this reader does."""
        text = node.value
        if too_long(text):
            what = f"is a number {len(text)} characters long, more than Pulumi can hold"
            self.problem(key, what, f"at most {LONGEST} characters, or quote it for text", node)
            return None
        ours, theirs = self.resolved(node, key), go_number(text)
        if isinstance(ours, bool) or ours is None or (type(ours) is type(theirs) and ours == theirs):
            return ours
        if theirs is None and not isinstance(ours, int | float):
            return ours
        if theirs is None:
            what = f"is {text}, which Pulumi reads as text, not a number"
            self.problem(key, what, f'quote it ("{text}")', node)
            return None
        if isinstance(ours, int) and isinstance(theirs, float):
            what = f"is {text}, a whole number too large for Pulumi, which reads it as about {theirs!r}"
            self.problem(key, what, f"at most {UINT64_MAX}, or quote it for text", node)
            return None
        what = f"is {text}, which Pulumi reads as the number {theirs!r}"
        allowed = (
            f'write {theirs!r} (plain digits, no leading 0 or _) for that number, or quote it ("{text}")'
        )
        self.problem(key, what, allowed, node)
        return None

    def resolved(self, node: yaml.ScalarNode, key: str) -> Any:
        if node.tag == STR:  # quoted, !!str, or plain text no schema reads otherwise
            return node.value
        tag = core_tag(node)
        text = node.value
        if tag == NULL:
            return None
        if tag == BOOL:
            return text.lower() == "true"
        if tag == INT:
            return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
        if tag == FLOAT:
            if SPECIAL_FLOAT.fullmatch(text):
                self.problem(key, f"is {text}, which JSON (how Pulumi passes config) cannot hold", "a number")
                return None
            return float(text)
        return text

    def keys(self, node: yaml.MappingNode, key: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """The string keys of a mapping with their nodes; other keys and repeats are problems."""
        seen: dict[str, yaml.Node] = {}
        items: list[tuple[str, yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problem(key, "uses a YAML merge key (<<)", "write the keys out", key_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                kind = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
                self.problem(key, f"has {kind} as a key", "string keys", key_node)
                continue
            tag = explicit_tag(key_node) or core_tag(key_node)
            if tag != STR:
                reads = {NULL: "null", BOOL: "a boolean", INT: "a number", FLOAT: "a number"}
                what = reads.get(tag, f"the YAML tag {short_tag(tag)}")
                self.problem(
                    key,
                    f"has the key {key_node.value or '~'}, which YAML reads as {what}",
                    "quote the key",
                    key_node,
                )
                continue
            name = key_node.value
            if name in seen:
                first = seen[name].start_mark.line + 1
                where = f"{key}.{name}" if key not in ("", "config") else name
                self.problem(
                    where, f"is set twice (lines {first} and {key_node.start_mark.line + 1})", "each key once"
                )
                continue
            seen[name] = key_node
            items.append((name, key_node, value_node))
        return items

    def mapping(self, node: yaml.MappingNode, key: str) -> Any:
        items = self.keys(node, key)
        if [name for name, _, _ in items] == ["secure"] and len(node.value) == 1:
            secure = items[0][2]
            if isinstance(secure, yaml.ScalarNode) and core_tag(secure) == STR and not explicit_tag(secure):
                return SecretValue(secure.value)
            self.problem(
                f"{key}.secure", "is not a ciphertext string", "set it with pulumi config set --secret"
            )
            return None
        return {name: self.value(value, f"{key}.{name}") for name, _, value in items}


# Letters of other scripts that look like Latin ones (from Unicode's confusables, for a-z).
_LATIN_LOOKALIKES = str.maketrans(
    "\u0430\u0435\u0456\u0458\u043a\u043e\u0440\u0455\u0442\u0445\u0443\u0441\u0501\u0261\u0585",
    "aeijkopstxycdgo",
)


def _looks_like(word: str, target: str) -> bool:
    skeleton = unicodedata.normalize("NFKC", word).casefold().translate(_LATIN_LOOKALIKES)
    return skeleton == target or _near(skeleton, target)


def _near(word: str, target: str) -> bool:
    folded = word.lower().replace("_", "").replace("-", "")
    return folded == target or difflib.SequenceMatcher(None, folded, target).ratio() >= 0.8


def _build(reader: _Reader, node: yaml.Node, key: str) -> Any:
    try:
        return reader.value(node, key)
    except _TooBig:
        # Aliases are named only when the value used one: a large value written out is just large.
        what = f"{MAX_VALUES} values" if reader.count > MAX_VALUES else f"{MAX_CHARS:,} characters"
        text = (
            f"expands to more than {what} through YAML aliases; write the values out, or use fewer aliases"
            if reader.aliased
            else f"holds more than {what}; a stack file holds a few hundred short values"
        )
        raise SpecError([f"{reader.source}: {key or 'the file'}: {text}"]) from None
    except RecursionError:
        raise SpecError([f"{reader.source}: {key}: nests too deeply; a flatter value"]) from None


def raw_config_from_stack_file(path: Path) -> dict[str, Any]:
    """The project's keys (prefix removed) from a stack file, read as the Pulumi CLI reads them.

    Keys of other namespaces (`aws:region`) are left out, except that `aws:region` must
    match `eksgitops:region`. Raises SpecError listing every problem of the file.
    """
    root = compose(path, "stack file")
    reader = _Reader(str(path))
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise SpecError([f"{path}: the file is not a YAML mapping; a mapping with a config: key"])
    config_node: yaml.Node | None = None
    for name, key_node, value_node in reader.keys(root, ""):
        if name == "config":
            config_node = value_node
        elif name not in STACK_FILE_KEYS:
            if ":" in name or name in TOP_LEVEL_KEYS:
                what = "is outside config:, so Pulumi ignores it"
                allowed = "move it under config:"
            else:
                close = difflib.get_close_matches(name, STACK_FILE_KEYS, n=1)
                what = "unknown stack file key" + (f', did you mean "{close[0]}"?' if close else "")
                allowed = "a stack file holds " + ", ".join(f"{k}:" for k in STACK_FILE_KEYS)
            reader.problem(name, what, allowed, key_node)
    raw: dict[str, Any] = {}
    regions: dict[str, str] = {}
    if isinstance(config_node, yaml.MappingNode):
        keys = reader.keys(config_node, "config")
        for name, key_node, value_node in keys:
            namespace, _, short = name.rpartition(":")
            if namespace not in ("", PROJECT):
                if ":" in namespace:
                    reader.problem(name, "is not a Pulumi config key", "<namespace>:<name>", key_node)
                elif not namespace.isascii():
                    # Pulumi project names are ASCII, so no program reads this namespace: it is a
                    # look-alike (a Cyrillic i U+0456, full-width letters) of a real one, most likely ours.
                    odd = next(c for c in namespace if not c.isascii())
                    guess = f', did you mean "{PROJECT}:{short}"?' if _looks_like(namespace, PROJECT) else ""
                    reader.problem(
                        name,
                        f'is in namespace "{namespace}", whose character U+{ord(odd):04X} '
                        f"({unicodedata.name(odd, 'unnamed')}) no Pulumi project name has{guess}",
                        f"keys of this project start with {PROJECT}: (ASCII)",
                        key_node,
                    )
                elif _near(namespace, PROJECT):
                    reader.problem(
                        name,
                        f'is in namespace "{namespace}", which no program reads, '
                        f'did you mean "{PROJECT}:{short}"?',
                        f"keys of this project start with {PROJECT}:",
                        key_node,
                    )
                elif name == "aws:region" and isinstance(value_node, yaml.ScalarNode):
                    regions["aws:region"] = value_node.value
                continue
            if short in raw:
                reader.problem(
                    f"{PROJECT}:{short}", "is set twice (with and without eksgitops:)", "each key once"
                )
                continue
            if isinstance(value_node, yaml.ScalarNode):
                tag = explicit_tag(value_node)
                if tag is not None:
                    reader.problem(
                        f"{PROJECT}:{short}",
                        f"has the YAML tag {short_tag(tag)}, which a stack file cannot use",
                        "a plain value",
                        value_node,
                    )
                    continue
                raw[short] = value_node.value  # Pulumi passes top-level scalars as their text
                if short == "region":
                    regions["region"] = value_node.value
            else:
                raw[short] = _build(reader, value_node, f"{PROJECT}:{short}")
    elif config_node is not None and not (
        isinstance(config_node, yaml.ScalarNode) and core_tag(config_node) == NULL
    ):
        reader.problem("config", "is not a mapping", "a mapping of <namespace>:<key>: value")
    if len(regions) == 2 and regions["aws:region"] != regions["region"]:
        reader.problem(
            f"{PROJECT}:region",
            f'is "{regions["region"]}" but aws:region is "{regions["aws:region"]}"',
            "the same region in both (the AWS provider works in aws:region)",
        )
    if reader.lines:
        raise SpecError(reader.lines)
    return show(raw)


def project_config_defaults(path: Path) -> dict[str, Any]:
    """The defaults Pulumi.yaml declares for the project's keys (prefix removed).

    Pulumi merges them into every stack's config before the program runs, so an offline
    reader overlays the stack file's values on these.
    """
    root = compose(path, "project file")
    reader = _Reader(str(path))
    data = _build(reader, root, "") if root is not None else {}
    if reader.lines:
        raise SpecError(reader.lines)
    if not isinstance(data, dict) or not isinstance(data.get("config") or {}, dict):
        raise SpecError([f"{path}: config: is not a mapping; a mapping of <namespace>:<key> declarations"])
    name = data.get("name", PROJECT)
    defaults: dict[str, Any] = {}
    for key, decl in (data.get("config") or {}).items():
        if ":" in key and not key.startswith(f"{name}:"):
            continue
        short = key.split(":", 1)[1] if ":" in key else key
        if isinstance(decl, dict):
            if "default" in decl:
                defaults[short] = decl["default"]
        else:
            defaults[short] = decl  # shorthand `key: value` is a default for project keys
    return show(defaults)


def stack_config(stack_file: Path, project_file: Path) -> dict[str, Any]:
    """The config a stack's program sees: the stack file laid over Pulumi.yaml's defaults.

    Pulumi merges the defaults Pulumi.yaml declares into every stack's config before the
    program runs; a missing Pulumi.yaml declares none. Raises SpecError for either file.
    """
    defaults = project_config_defaults(project_file) if project_file.is_file() else {}
    return {**defaults, **raw_config_from_stack_file(stack_file)}
