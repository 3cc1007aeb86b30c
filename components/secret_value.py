"""`SecretValue`: a credential from a stack file's `{secure: …}`, which is never shown.

Its own module so that the spec's section models (`components.gitops_spec`) can type their
credential fields with it without importing `components.spec`, which imports them.
`components.spec` re-exports both names.
"""

from __future__ import annotations

from dataclasses import dataclass

SECRET_PLACEHOLDER = "[secret]"
"""What a secret value shows as wherever its plaintext is not available or not wanted."""


@dataclass(frozen=True)
class SecretValue:
    """A `{secure: <value>}` value from a stack file: a Pulumi secret, never shown."""

    value: str

    def __str__(self) -> str:
        return SECRET_PLACEHOLDER

    def __repr__(self) -> str:
        return f"SecretValue({SECRET_PLACEHOLDER})"
