"""Reading the running Pulumi program's config into the spec's raw form, and back.

`raw_config_from_pulumi()` is what `pulumi up` validates (`spec_from_pulumi()`);
`config_for_pulumi(raw)` is the inverse, for `pulumi.runtime.set_all_config` offline.
Pulumi marks a key secret as a whole; `credential_paths` says which leaves of a secret
structured key are the credentials the models expect as `SecretValue`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from components.spec.base import PROJECT, SECRET_PLACEHOLDER, SecretValue
from components.spec.environment import STRUCTURED_KEYS, EnvironmentSpec, load_spec
from components.spec.errors import InvalidJson, KeyPath, SpecError, strip_optional


def credential_paths(model: type[BaseModel] = EnvironmentSpec) -> list[KeyPath]:
    """Key paths (camelCase, "*" for any list index or mapping key) of the fields typed SecretValue."""
    found: list[KeyPath] = []

    def walk(annotation: Any, path: KeyPath) -> None:
        annotation = strip_optional(annotation)
        if annotation is SecretValue:
            found.append(path)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for name, field in annotation.model_fields.items():
                walk(field.annotation, (*path, field.alias or name))
        elif get_origin(annotation) in (list, dict):
            walk(get_args(annotation)[-1], (*path, "*"))

    walk(model, ())
    return found


def _wrap_credentials(value: Any, pattern: KeyPath) -> Any:
    """`value` with the leaves at `pattern` (relative) turned into SecretValue."""
    if not pattern:
        return SecretValue(value) if isinstance(value, str) else value
    head, rest = pattern[0], pattern[1:]
    if isinstance(value, dict):
        return {k: _wrap_credentials(v, rest) if head in ("*", k) else v for k, v in value.items()}
    if isinstance(value, list) and head == "*":
        return [_wrap_credentials(v, rest) for v in value]
    return value


def raw_config_from_pulumi(model: type[BaseModel] = EnvironmentSpec) -> dict[str, Any]:
    """The project's keys (prefix removed) from the running Pulumi program's config.

    A real `pulumi up` passes config in the PULUMI_CONFIG environment variable; mocks and
    the offline plan use `pulumi.runtime.set_all_config`. Both are read, the latter wins.
    Structured keys are JSON-decoded; text that is not JSON is kept as an `InvalidJson`
    marker so that `load_spec` reports it with everything else. Pulumi marks a key secret
    as a whole: a secret scalar becomes a SecretValue, and in a secret structured key the
    leaves at the model's credential paths do (`.value` is the plaintext under `pulumi up`).
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    namespace = pulumi.get_project() or PROJECT
    prefix = f"{namespace}:"
    merged: dict[str, Any] = {}
    env_config = runtime_config.get_config_env() if "PULUMI_CONFIG" in os.environ else {}
    for source_map in (env_config, runtime_config.CONFIG.get()):
        for key, value in source_map.items():
            if key.startswith(prefix):
                merged[key[len(prefix) :]] = value
    secret = set(runtime_config.get_config_secret_keys_env())
    paths = credential_paths(model)
    raw: dict[str, Any] = {}
    for key, value in merged.items():
        is_secret = runtime_config.is_config_secret(prefix + key) or prefix + key in secret
        if key in STRUCTURED_KEYS and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                value = InvalidJson(SECRET_PLACEHOLDER if is_secret else value, exc.msg)
            if is_secret:
                for path in paths:
                    if path[0] == key:
                        value = _wrap_credentials(value, path[1:])
        elif is_secret and isinstance(value, str):
            value = SecretValue(value)
        raw[key] = value
    return raw


def spec_from_pulumi() -> EnvironmentSpec:
    """The validated spec of the running Pulumi program's stack; SpecError if it is wrong."""
    import pulumi

    stack = pulumi.get_stack()
    try:
        return load_spec(raw_config_from_pulumi(), stack=stack, source=f"stacks/Pulumi.{stack}.yaml")
    except SpecError as err:
        # Pulumi marks a structured key secret as a whole and hands over its plaintext JSON,
        # so a value that is not at a credential field may still be a secret: hide them all.
        hidden = sorted(_secret_texts(), key=len, reverse=True)
        lines = err.lines
        for text in hidden:
            lines = [line.replace(text, SECRET_PLACEHOLDER) for line in lines]
        raise SpecError(lines) from None


def _secret_texts() -> set[str]:
    """Every string (4 characters or more) inside the program's secret config keys."""
    from pulumi.runtime import config as runtime_config

    found: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, str) and len(value) >= 4:
            found.add(value)
        for child in value.values() if isinstance(value, dict) else value if isinstance(value, list) else []:
            collect(child)

    keys = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    for key in keys:
        value = runtime_config.get_config(key)
        try:
            collect(json.loads(value) if isinstance(value, str) else value)
        except json.JSONDecodeError:
            collect(value)
    return found


def config_for_pulumi(raw: Mapping[str, Any], project: str = PROJECT) -> tuple[dict[str, str], list[str]]:
    """The inverse of raw_config_from_pulumi: `{"<project>:key": "string or JSON"}` and the secret keys.

    Secret markers become SECRET_PLACEHOLDER and their key is listed as secret (a
    structured value with a secret inside is secret as a whole, as in Pulumi).
    """
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        full = f"{project}:{key}"
        plain = _placeholders(value)
        config[full] = plain if isinstance(plain, str) else json.dumps(plain)
        if plain != value:
            secret_keys.append(full)
    return config, secret_keys


def _placeholders(value: Any) -> Any:
    if isinstance(value, SecretValue):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _placeholders(v) for k, v in value.items()}
    return [_placeholders(v) for v in value] if isinstance(value, list) else value
