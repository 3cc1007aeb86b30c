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
import re
from pathlib import Path
from typing import Any

import yaml

from components.spec.base import PROJECT, SecretValue
from components.spec.environment import TOP_LEVEL_KEYS
from components.spec.errors import SpecError

MAX_VALUES = 10_000
"""Values a stack file may hold after alias expansion (the shipped stacks hold ~200)."""
STACK_FILE_KEYS = ("config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider")
"""Top-level keys of a Pulumi stack file (pulumi/pulumi sdk/go/common/workspace/project.go)."""

_STR, _NULL, _BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{t}" for t in ("str", "null", "bool", "int", "float"))
_CORE = (
    (_NULL, re.compile(r"~|null|Null|NULL|")),
    (_BOOL, re.compile(r"true|True|TRUE|false|False|FALSE")),
    (_INT, re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")),
    (_FLOAT, re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")),
)
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


class _TooBig(Exception):
    pass


def _core_tag(node: yaml.ScalarNode) -> str:
    """The tag YAML 1.2's core schema gives a scalar (quoted scalars are strings)."""
    if node.style is None:
        for tag, pattern in _CORE:
            if pattern.fullmatch(node.value):
                return tag
        if _SPECIAL_FLOAT.fullmatch(node.value):
            return _FLOAT
    return _STR


def _explicit_tag(node: yaml.Node) -> str | None:
    """The tag the user wrote, if it differs from what YAML would infer (and is not !!str)."""
    if isinstance(node, yaml.ScalarNode):
        implicit = yaml.SafeLoader.resolve(
            yaml.SafeLoader,  # type: ignore[arg-type]
            yaml.ScalarNode,
            node.value,
            (node.style is None, node.style is not None),
        )
        return None if node.tag in (implicit, _STR) else node.tag
    implicit = "tag:yaml.org,2002:seq" if isinstance(node, yaml.SequenceNode) else "tag:yaml.org,2002:map"
    return None if node.tag == implicit else node.tag


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


class _Reader:
    """Builds plain values from composed YAML nodes, collecting every problem."""

    def __init__(self, source: str):
        self.source = source
        self.lines: list[str] = []
        self.count = 0
        self.open: set[int] = set()  # nodes being built: an alias to one of them is a cycle

    def problem(self, key: str, what: str, allowed: str, node: yaml.Node | None = None) -> None:
        where = f" (line {node.start_mark.line + 1})" if node is not None else ""
        self.lines.append(f"{self.source}: {key}: {what}{where}; {allowed}")

    def value(self, node: yaml.Node, key: str) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooBig(key)
        tag = _explicit_tag(node)
        if tag is not None:
            self.problem(
                key,
                f"has the YAML tag {_short_tag(tag)}, which a stack file cannot use",
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
        if node.tag == _STR:  # quoted, !!str, or plain text no schema reads otherwise
            return node.value
        tag = _core_tag(node)
        text = node.value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return text.lower() == "true"
        if tag == _INT:
            return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
        if tag == _FLOAT:
            if _SPECIAL_FLOAT.fullmatch(text):
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
            tag = _explicit_tag(key_node) or _core_tag(key_node)
            if tag != _STR:
                reads = {_NULL: "null", _BOOL: "a boolean", _INT: "a number", _FLOAT: "a number"}
                what = reads.get(tag, f"the YAML tag {_short_tag(tag)}")
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
            if (
                isinstance(secure, yaml.ScalarNode)
                and _core_tag(secure) == _STR
                and not _explicit_tag(secure)
            ):
                return SecretValue(secure.value)
            self.problem(
                f"{key}.secure", "is not a ciphertext string", "set it with pulumi config set --secret"
            )
            return None
        return {name: self.value(value, f"{key}.{name}") for name, _, value in items}


def _compose(path: Path, what: str) -> yaml.Node | None:
    """The file's YAML node tree (aliases not expanded), or SpecError naming the file."""
    try:
        data = Path(path).read_bytes()
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
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise SpecError([yaml_error_line(path, exc)]) from None
    except RecursionError:
        raise SpecError([f"{path}: nests lists or mappings too deeply; a flat stack file"]) from None


def yaml_error_line(path: Path | str, exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error, with the line number when YAML knows it."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        return f"{where}: not valid YAML ({exc.problem or exc.context}); fix the syntax"
    return f"{path}: not valid YAML ({' '.join(str(exc).split())}); fix the syntax"


def _near(word: str, target: str) -> bool:
    folded = word.lower().replace("_", "").replace("-", "")
    return folded == target or difflib.SequenceMatcher(None, folded, target).ratio() >= 0.8


def _build(reader: _Reader, node: yaml.Node, key: str) -> Any:
    try:
        return reader.value(node, key)
    except _TooBig:
        raise SpecError(
            [
                f"{reader.source}: {key or 'the file'}: expands to more than {MAX_VALUES} values "
                "through YAML aliases; write the values out, or use fewer aliases"
            ]
        ) from None
    except RecursionError:
        raise SpecError([f"{reader.source}: {key}: nests too deeply; a flatter value"]) from None


def raw_config_from_stack_file(path: Path) -> dict[str, Any]:
    """The project's keys (prefix removed) from a stack file, read as the Pulumi CLI reads them.

    Keys of other namespaces (`aws:region`) are left out, except that `aws:region` must
    match `eksgitops:region`. Raises SpecError listing every problem of the file.
    """
    root = _compose(path, "stack file")
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
                tag = _explicit_tag(value_node)
                if tag is not None:
                    reader.problem(
                        f"{PROJECT}:{short}",
                        f"has the YAML tag {_short_tag(tag)}, which a stack file cannot use",
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
        isinstance(config_node, yaml.ScalarNode) and _core_tag(config_node) == _NULL
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
    return raw


def project_config_defaults(path: Path) -> dict[str, Any]:
    """The defaults Pulumi.yaml declares for the project's keys (prefix removed).

    Pulumi merges them into every stack's config before the program runs, so an offline
    reader overlays the stack file's values on these.
    """
    root = _compose(path, "project file")
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
    return defaults


def stack_config(stack_file: Path, project_file: Path) -> dict[str, Any]:
    """The config a stack's program sees: the stack file laid over Pulumi.yaml's defaults.

    Pulumi merges the defaults Pulumi.yaml declares into every stack's config before the
    program runs; a missing Pulumi.yaml declares none. Raises SpecError for either file.
    """
    defaults = project_config_defaults(project_file) if project_file.is_file() else {}
    return {**defaults, **raw_config_from_stack_file(stack_file)}
