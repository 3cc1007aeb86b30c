"""The one way a spec model reports a mistake that is not a plain type error.

Field and model validators in the spec models raise `SpecValueError(what, allowed, at=...)`.
pydantic keeps the exception in the error's context, and `components.spec` turns it into
the usual line `<file>: eksgitops:<path>: <what>; <allowed>`, where `<path>` is the
location pydantic reports for the validator plus `at` (a sub-path relative to it, so a
model validator can point at the exact key that is wrong, e.g. `at=("minSize",)`).
"""

from __future__ import annotations

PathPart = str | int


class SpecValueError(ValueError):
    """A value that is well typed but not allowed: what is wrong, and what is allowed."""

    def __init__(self, what: str, allowed: str, at: tuple[PathPart, ...] = ()):
        super().__init__(f"{what}; {allowed}")
        self.what = what
        self.allowed = allowed
        self.at = at
