"""The base of every spec model, the project's config namespace, and the type that marks a credential.

Nothing here imports the rest of the spec, so every other module of it may import this one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError, core_schema

PROJECT = "eksgitops"
"""The project name, which is also the config namespace."""

# Most names of the spec (cluster, node group, namespace, identity…) are DNS-1123 labels;
# the error lines name the rule even where no model is at hand.
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DNS_LABEL_ALLOWED = (
    "a DNS-1123 label: 1-63 lowercase letters, digits and '-', starting and ending alphanumeric"
)

SECRET_PLACEHOLDER = "[secret]"
"""What a secret value shows as wherever its plaintext is not available or not wanted."""


class SpecModel(BaseModel):
    # strict: a YAML `3` stays an int and `"3"` stays a string — no silent coercion of
    # an unquoted `yes`, `1.30` or `0755` into something the user did not mean.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=True
    )


@dataclass(frozen=True)
class SecretValue:
    """A Pulumi secret (`{secure: …}` in a stack file, a secret key under `pulumi up`), never shown.

    A spec field annotated `SecretValue` holds a credential: it accepts only a secret, and
    a plain string there is a mistake (`components.spec.errors` says how to set it). `value` is
    the plaintext under `pulumi up` (wrap it: `pulumi.Output.secret(s.value)`) and a
    placeholder or ciphertext offline.
    """

    value: str

    def __str__(self) -> str:
        return SECRET_PLACEHOLDER

    def __repr__(self) -> str:
        return f"SecretValue({SECRET_PLACEHOLDER})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def check(value: Any) -> SecretValue:
            if isinstance(value, SecretValue):
                return value
            # components.spec.errors turns this error type into the "set it as a secret" line.
            raise PydanticCustomError("plaintext_credential", "is not a Pulumi secret")

        return core_schema.no_info_plain_validator_function(check)
