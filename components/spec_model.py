"""The base of every spec model: camelCase keys, unknown keys refused, no silent coercion."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class SpecModel(BaseModel):
    # strict: a YAML `3` stays an int and `"3"` stays a string — no silent coercion of
    # an unquoted `yes`, `1.30` or `0755` into something the user did not mean.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=True
    )
