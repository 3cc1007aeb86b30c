"""The command line's checks of flag values: one place, run by typer before any command starts.

Each factory returns a typer `callback` for one flag. A value that is wrong ends the run at
once, before anything is read, contacted or written, with one line naming the flag, what was
wrong and what is allowed, and exit code 2 (the stack file's rules where the stack has one:
`--region` is checked as the spec checks `region`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import typer

from eksgitops.components.spec.errors import SpecValueError
from eksgitops.components.spec.syntax import DNS_LABEL, DNS_LABEL_ALLOWED, region_name
from eksgitops.terminal_text import shown

T = TypeVar("T")

# Linux's limits (PATH_MAX, NAME_MAX): a longer path only fails later, as an OSError.
MAX_PATH_BYTES = 4095
MAX_NAME_BYTES = 255
# A wait longer than a week is a typo; every wait of the CLI is far shorter by default.
MAX_SECONDS = 7 * 24 * 3600
# git check-ref-format: no control characters, space, ~ ^ : ? * [ \, no "..", "@{", "//",
# no leading "-" or "/" and no trailing "/", ".", ".lock"; 255 bytes keeps it one file name.
_REF_BAD = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|^[-/]|/$|\.$|\.lock$|^@$")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_TEXT = 1024


class FlagError(Exception):
    def __init__(self, what: str, allowed: str):
        super().__init__(what)
        self.what, self.allowed = what, allowed


def _short(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 200 else text[:197] + "...")


def flag(name: str, check: Callable[[Any], None]) -> Callable[[Any], Any]:
    """The typer callback that runs `check` on `name`'s value (each value of a repeated flag)."""

    def callback(value: T) -> T:
        values: Sequence[Any] = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            try:
                check(item)
            except FlagError as exc:
                allowed = f"; {shown(exc.allowed)}" if exc.allowed else ""
                typer.echo(f"error: {name}: {shown(exc.what)}{allowed}", err=True)
                raise typer.Exit(code=2) from None
        return value

    return callback


def text(value: str) -> None:
    """Any text flag: not empty, no control characters, not absurdly long."""
    if not value:
        raise FlagError("is empty", "a value, or leave the flag out")
    if len(value) > MAX_TEXT:
        raise FlagError(f"is {len(value)} characters long", f"at most {MAX_TEXT}")
    if _CONTROL.search(value):
        raise FlagError(f"{_short(value)} holds a control character", "printable text")


def choice(options: Sequence[str]) -> Callable[[str], None]:
    def check(value: str) -> None:
        if value not in options:
            # The CLI's wording for a choice since it had one (tests/test_cli_conventions.py).
            raise FlagError(f"{_short(value)} is not supported (allowed: {', '.join(options)})", "")

    return check


def git_ref(value: str) -> None:
    """A branch, tag or commit as Git names them (git check-ref-format)."""
    text(value)
    if len(value.encode()) > MAX_NAME_BYTES or _REF_BAD.search(value):
        raise FlagError(
            f"{_short(value)} is not a Git branch, tag or commit",
            f"a ref name of at most {MAX_NAME_BYTES} bytes without spaces, ~ ^ : ? * [ \\ or ..",
        )


def dns_label(value: str) -> None:
    if not DNS_LABEL.fullmatch(value):
        raise FlagError(f"{_short(value)} is not a valid name", DNS_LABEL_ALLOWED)


def region(value: str) -> None:
    """An AWS region a stack can use (the spec's `region` rule)."""
    try:
        region_name(value)
    except SpecValueError as exc:
        raise FlagError(exc.what, exc.allowed) from None


def seconds_from(low: float) -> Callable[[float], None]:
    """Seconds, at least `low` (typer's own `min` would print a usage block, not one line)."""

    def check(value: float) -> None:
        seconds(value)
        if value < low:
            raise FlagError(f"{value} is less than {low}", f"{low} to {MAX_SECONDS} seconds")

    return check


def seconds(value: float) -> None:
    if not math.isfinite(value) or value > MAX_SECONDS:
        raise FlagError(
            f"{value} is not a usable number of seconds", f"a number up to {MAX_SECONDS} (a week)"
        )


def path(value: Path | str, *, folder: bool = False) -> None:
    """A path the command can create or read: not too long, not through a file."""
    raw = str(value)
    text(raw)
    if len(os.fsencode(raw)) > MAX_PATH_BYTES:
        raise FlagError(f"is {len(os.fsencode(raw))} bytes long", f"a path of at most {MAX_PATH_BYTES} bytes")
    candidate = Path(raw)
    for part in candidate.parts:
        if len(os.fsencode(part)) > MAX_NAME_BYTES:
            raise FlagError(
                f"has a name {len(os.fsencode(part))} bytes long", f"names of at most {MAX_NAME_BYTES} bytes"
            )
    for parent in reversed(candidate.parents):
        if parent.exists() and not parent.is_dir():
            raise FlagError(f"runs through the file {_short(parent)}", "a path whose folders are folders")
    if folder and candidate.exists() and not candidate.is_dir():
        raise FlagError(f"{_short(raw)} is a file", "a folder (or a path where one can be made)")


def folder(value: Path) -> None:
    path(value, folder=True)


def repo(value: str) -> None:
    """A repository URL, or a local path (then checked as a path)."""
    text(value)
    if "://" not in value and not re.match(r"[^/@]+@[^/:]+:", value):
        path(value)


def repo_path(value: str) -> None:
    """A folder inside the repository: relative, without `..`."""
    text(value)
    parts = Path(value).parts
    if value.startswith("/") or ".." in parts or len(value.encode()) > MAX_PATH_BYTES:
        raise FlagError(
            f"{_short(value)} is not a folder inside the repository", "a relative path without .."
        )


def key_file(value: Path) -> None:
    """A private key or token file: an existing, readable, non-empty file of at most 64 KiB."""
    path(value)
    try:
        size = value.stat().st_size
    except OSError:
        raise FlagError(f"{_short(value)} does not exist", "an existing file") from None
    if not value.is_file():
        raise FlagError(f"{_short(value)} is not a file", "a key file")
    if not 0 < size <= 64 * 1024:
        raise FlagError(f"{_short(value)} is {size} bytes", "a non-empty key file of at most 64 KiB")


def kubernetes_minor(value: str) -> None:
    if not re.fullmatch(r"1\.(0|[1-9][0-9]{0,2})", value):
        raise FlagError(f"{_short(value)} is not a Kubernetes minor version", "1.<minor>, e.g. 1.34")


def checked(name: str, check: Callable[[Any], None], *names: str, **options: Any) -> Any:
    """`typer.Option(name, *names, **options)` whose value `check` checks first."""
    return typer.Option(name, *names, callback=flag(name, check), **options)
