"""YAML as the Kubernetes tooling reads it.

* What the engine produces (`load_engine_output`): YAML 1.2's core schema, as kustomize's own
  reader (go-yaml v3) resolves it: only `true`/`false` are booleans, `0o17` is octal, and `=` is
  the string "=" (PyYAML's YAML 1.1 "value" tag would refuse `matchType: =`). kustomize quotes
  what YAML 1.1 readers would take differently (`"yes"`), so this reads its output as Flux does.
* Files in the repository and substituted objects (`load_all`, `load_all_strict`): YAML 1.1
  scalars as sigs.k8s.io/yaml (go-yaml v2) reads them, but timestamps stay strings (it keeps
  `2012-10-17` a string when decoding into untyped JSON) and `=` stays a string (go-yaml has no
  "value" tag).

Every text is first held to `document_limits` (size, values with aliases expanded, characters
with aliases expanded, aliases, depth): a limit crossed raises `DocumentLimit`, a YAMLError
naming the key, so the callers' one-line handling of unreadable YAML covers it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from eksgitops.components.document_limits import REPOSITORY, DocumentLimit, Limits, check_yaml

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class KubeLoader(_Base):
    """Safe loader without the timestamp resolver."""


_NOT_KUBERNETES = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")
KubeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _NOT_KUBERNETES]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


class CoreLoader(_Base):
    """Safe loader with YAML 1.2's core schema (null, bool, int, float; everything else a string)."""


CoreLoader.yaml_implicit_resolvers = {}
_CORE = (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+.0123456789",
    ),
    ("tag:yaml.org,2002:merge", r"^<<$", "<"),
)
for _tag, _pattern, _first in _CORE:
    CoreLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
CoreLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])


def _core_int(loader: CoreLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0x"):
        return int(text, 16)
    return int(text, 10)


CoreLoader.add_constructor("tag:yaml.org,2002:int", _core_int)
# 0o17 is YAML 1.2's octal; PyYAML's int resolver does not know it, so it is matched separately.
CoreLoader.add_implicit_resolver("tag:yaml.org,2002:int-octal", re.compile(r"^0o[0-7]+$"), ["0"])
CoreLoader.add_constructor(
    "tag:yaml.org,2002:int-octal", lambda loader, node: int(str(loader.construct_scalar(node))[2:], 8)
)


class _StrictLoader(yaml.SafeLoader):
    """Refuses duplicate keys, as kustomize (yaml.v3) does."""


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[arg-type]
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable (complex) key: kustomize refuses those too
            raise yaml.constructor.ConstructorError(
                None, None, "mapping key is not a scalar", key_node.start_mark
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"mapping key {key!r} already defined", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.yaml_implicit_resolvers = KubeLoader.yaml_implicit_resolvers
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


ENGINE_OUTPUT = Limits(chars=64 << 20, values=2_000_000, expanded_chars=64 << 20)
"""What one kustomize build may render (kustomize writes no aliases; its size is the limit)."""


def load_all(text: str, limits: Limits = REPOSITORY) -> list[Any]:
    """Every document of a YAML 1.1 text (a substituted object, a kustomization file)."""
    check_yaml(text, limits)
    return list(yaml.load_all(text, Loader=KubeLoader))


def load_engine_output(text: str) -> list[Any]:
    """Every document kustomize rendered, read with YAML 1.2's core schema as kustomize wrote it."""
    check_yaml(text, ENGINE_OUTPUT)
    return list(yaml.load_all(text, Loader=CoreLoader))


def load_all_strict(text: str, limits: Limits = REPOSITORY) -> list[Any]:
    """Every document of a file in the repository; duplicate keys are an error."""
    check_yaml(text, limits)
    return list(yaml.load_all(text, Loader=_StrictLoader))


_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(obj: Any) -> str:
    return yaml.dump(
        obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1 << 16
    )


__all__ = [
    "REPOSITORY",
    "DocumentLimit",
    "Limits",
    "check_yaml",
    "dump",
    "load_all",
    "load_all_strict",
    "load_engine_output",
]
