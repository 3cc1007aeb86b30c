"""YAML as the Kubernetes tooling reads it: YAML 1.1 scalars, but timestamps stay strings.

sigs.k8s.io/yaml (what kustomize's output, Flux and kubectl go through) keeps `2012-10-17` a
string when decoding into untyped JSON, so PyYAML's timestamp resolver is removed here.
"""

from __future__ import annotations

from typing import Any

import yaml

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class KubeLoader(_Base):
    """Safe loader without the timestamp resolver."""


KubeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


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


def load_all(text: str) -> list[Any]:
    """Every document of kustomize's output (trusted to be well-formed)."""
    return list(yaml.load_all(text, Loader=KubeLoader))


def load_all_strict(text: str) -> list[Any]:
    """Every document of a file in the repository; duplicate keys are an error."""
    return list(yaml.load_all(text, Loader=_StrictLoader))


_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(obj: Any) -> str:
    return yaml.dump(
        obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1 << 16
    )
