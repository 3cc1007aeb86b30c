"""Limits on a YAML or JSON document before anything builds it: size, values, depth and aliases.

Every document eksgitops reads from a repository, a stack file, a `.eksgitops/*.yaml` state file
or a `--against` state file is written by someone else. YAML can say a lot in a few bytes: an
alias repeats a whole subtree (nine levels of ten aliases are a billion values, and a 1 MiB
string referenced 3,000 times is 3 GB once anything expands it), and nesting 100,000 lists deep
exhausts Python's stack. So the text is first read as a stream of parser events, which never
expands an alias nor recurses, counting what building it would create:

* `chars`: the length of the text itself;
* `values`: scalars, lists and mappings (mapping keys not counted), aliases expanded;
* `expanded_chars`: the characters of every scalar, aliases expanded;
* `aliases`: alias uses;
* `depth`: lists and mappings open at once.

The first limit crossed raises `DocumentLimit`, a `yaml.YAMLError` (callers that already turn
unreadable YAML into one line do the same with it), naming the key being read. The counting stops
there, so an oversized document is refused after reading only as much of it as the limit allows.
A message speaks of aliases only when the document used one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Limits:
    """What one document (one file, all of its `---` documents together) may hold."""

    # Chosen from benchmarks/verify_limits.py: the largest CRD bundles hold ~25,000 values in
    # 1.4 MB; a manifest at these limits takes verify about a minute on a busy 2-core runner.
    chars: int = 8 << 20
    values: int = 200_000
    expanded_chars: int = 16 << 20
    aliases: int = 10_000
    depth: int = 100


_WRITE_OUT = "write the values out, or use fewer aliases"
_SPLIT = "split it into smaller files"

REPOSITORY = Limits()
"""A file of a repository: a manifest, a kustomization, an Argo CD directory manifest, a state file."""


class DocumentLimit(yaml.YAMLError):
    """A document over one of its limits; `key` is the path of the value being read (a tuple)."""

    def __init__(
        self, key: tuple[str | int, ...], problem: str, allowed: str, line: int | None = None
    ) -> None:
        where = f" (line {line})" if line is not None else ""
        super().__init__(f"{key_text(key)}: {problem}{where}; {allowed}")
        self.key = key
        self.problem = problem
        self.allowed = allowed
        self.line = line


def key_text(key: tuple[str | int, ...]) -> str:
    """`spec.values.list[3]`, or "the file" for the top; a long path keeps its ends."""
    parts: list[str | int] = list(key)
    if len(parts) > 8:
        parts = [*parts[:4], "…", *parts[-3:]]
    text = ""
    for part in (p if isinstance(p, int) else p[:60] for p in parts):
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the file"


class _Frame:
    __slots__ = ("anchor", "index", "key", "mapping", "start_chars", "start_values", "want_key")

    def __init__(self, mapping: bool, anchor: str | None, values: int, chars: int) -> None:
        self.mapping, self.anchor = mapping, anchor
        self.start_values, self.start_chars = values, chars
        self.want_key = True
        self.key: str | int = "?"
        self.index = -1


class _Count:
    """The running totals of one document stream and the checks against `limits`."""

    def __init__(self, limits: Limits, expand: bool, count_keys: bool) -> None:
        self.limits = limits
        self.expand, self.count_keys = expand, count_keys
        self.values = self.chars = self.aliases = 0
        self.anchors: dict[str, tuple[int, int]] = {}
        self.frames: list[_Frame] = []

    def path(self) -> tuple[str | int, ...]:
        return tuple(f.key if f.mapping else f.index for f in self.frames)

    def node(self, event: Any) -> None:
        """A scalar, an alias or the start of a collection: where it sits, then what it adds."""
        parent = self.frames[-1] if self.frames else None
        is_key = parent is not None and parent.mapping and parent.want_key
        if parent is not None:
            if parent.mapping:
                parent.want_key = not parent.want_key
                if is_key:
                    parent.key = event.value if isinstance(event, yaml.ScalarEvent) else "?"
            else:
                parent.index += 1
        if isinstance(event, yaml.AliasEvent):
            values, chars = self.anchors.get(event.anchor or "", (1, 0)) if self.expand else (1, 0)
            self.aliases += 1
            if self.aliases > self.limits.aliases:
                raise DocumentLimit(
                    self.path(),
                    f"uses more than {self.limits.aliases:,} YAML aliases",
                    "write the values out",
                )
            self.add(0 if is_key and not self.count_keys else values, chars)
        elif isinstance(event, yaml.ScalarEvent):
            self.add(0 if is_key and not self.count_keys else 1, len(event.value))
            if event.anchor:
                self.anchors[event.anchor] = (1, len(event.value))
        else:
            self.add(0 if is_key and not self.count_keys else 1, 0)
            frame = _Frame(isinstance(event, yaml.MappingStartEvent), event.anchor, self.values, self.chars)
            self.frames.append(frame)
            if len(self.frames) > self.limits.depth:
                raise DocumentLimit(
                    self.path()[:-1],
                    f"nests more than {self.limits.depth} lists or mappings deep",
                    "a flatter value",
                    event.start_mark.line + 1 if event.start_mark is not None else None,
                )

    def end(self) -> None:
        frame = self.frames.pop()
        if frame.anchor:
            self.anchors[frame.anchor] = (
                self.values - frame.start_values + 1,
                self.chars - frame.start_chars,
            )

    def add(self, values: int, chars: int) -> None:
        self.values += values
        self.chars += chars
        through = " through YAML aliases" if self.aliases else ""
        if self.values > self.limits.values:
            raise DocumentLimit(
                self.path(),
                f"holds more than {self.limits.values:,} values{through}",
                "split it into smaller files"
                if not through
                else "write the values out, or use fewer aliases",
            )
        if self.chars > self.limits.expanded_chars:
            raise DocumentLimit(
                self.path(),
                f"holds more than {self.limits.expanded_chars:,} characters{through}",
                "split it into smaller files"
                if not through
                else "write the values out, or use fewer aliases",
            )


def check_yaml(
    text: str, limits: Limits = REPOSITORY, *, expand_aliases: bool = True, count_keys: bool = False
) -> None:
    """Raise DocumentLimit when building `text` would cross `limits` (YAMLError when it is not YAML).

    A reader that expands aliases itself, and counts as it goes (the stack file reader), passes
    `expand_aliases=False`: an alias then counts as one value. With `count_keys`, mapping keys
    count as values too (a file of 100,000 keys is refused after the first `limits.values`).
    """
    if len(text) > limits.chars:
        raise DocumentLimit((), f"is {len(text):,} characters long", f"at most {limits.chars:,}")
    count = _Count(limits, expand_aliases, count_keys)
    for event in yaml.parse(text, Loader=_Parser):
        if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
            count.node(event)
        elif isinstance(event, yaml.CollectionEndEvent):
            count.end()
        elif isinstance(event, yaml.DocumentEndEvent):
            count.anchors.clear()  # anchors are local to their document


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def load_json(text: str, limits: Limits = REPOSITORY) -> Any:
    """`json.loads(text)` once its size and nesting are known to be within `limits`.

    Raises DocumentLimit, or ValueError (json.JSONDecodeError) when it is not JSON.
    """
    if len(text) > limits.chars:
        raise DocumentLimit((), f"is {len(text):,} characters long", f"at most {limits.chars:,}")
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > limits.depth:
            raise DocumentLimit(
                (), f"nests more than {limits.depth} lists or objects deep", "a flatter document"
            )
    return json.loads(text)
