"""The in-place upgrade's edit: the new version written into the stack file, as a reviewable diff.

Only the `eksgitops:kubernetesVersion` line changes, and the `version:` line of each add-on pin the
target does not offer (pins.py: no version is known for both minors, so they move together);
comments and order stay. The edited text
is read back through the real stack-file reader and validated by the spec before it is
written, and every other key must read exactly as before, so the diff shown is all that moves.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from eksgitops.components.spec import SpecError, load_spec
from eksgitops.components.spec.read.stack_file import raw_config_from_stack_file
from eksgitops.upgrade.pins import PinMove, at_target, pin_moves

VERSION_LINE = re.compile(r"^(?P<indent>[ \t]+)eksgitops:kubernetesVersion:[^\n]*$", re.MULTILINE)
CONFIG_LINE = re.compile(r"^config:[ \t]*$", re.MULTILINE)


class StackEditError(Exception):
    """The edit could not be made safely (one line)."""


@dataclass(frozen=True)
class StackEdit:
    path: Path
    before: str
    after: str
    moves: tuple[PinMove, ...] = ()
    """The add-on pins moved with the version."""

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"a/{self.path.as_posix()}",
                tofile=f"b/{self.path.as_posix()}",
            )
        )

    def write(self) -> None:
        """Replace the file atomically (a crash leaves the old or the new text, never half)."""
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        with os.fdopen(fd, "w") as handle:
            handle.write(self.after)
        os.replace(tmp, self.path)


def _read(text: str, like: Path) -> dict:
    fd, tmp = tempfile.mkstemp(dir=like.parent, prefix=f".{like.name}.", suffix=".yaml")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        return raw_config_from_stack_file(Path(tmp))
    finally:
        os.unlink(tmp)


def version_edit(path: Path, target: str, defaults: dict, stack: str) -> StackEdit:
    """The stack file with kubernetesVersion = target, checked by the reader and the spec."""
    before = path.read_text()
    line = f'eksgitops:kubernetesVersion: "{target}"'
    match = VERSION_LINE.search(before)
    if match:
        after = before[: match.start()] + match.group("indent") + line + before[match.end() :]
    else:
        config = CONFIG_LINE.search(before)
        if config is None:
            raise StackEditError(f"{path}: no `config:` section to write kubernetesVersion into")
        after = before[: config.end()] + f"\n  {line}" + before[config.end() :]
    old = _read(before, path)
    moves = pin_moves(old, target)
    for move in moves:
        after = _move_pin(after, path, move)
    new = _read(after, path)
    if new.get("kubernetesVersion") != target:
        raise StackEditError(f"{path}: the edit did not read back as kubernetesVersion {target}")
    expected, _ = at_target(old, target)
    if new.get("addons") != expected.get("addons"):
        raise StackEditError(f"{path}: the add-on pins did not read back as moved; edit them by hand")
    moved = {"kubernetesVersion", "addons"}
    changed = sorted(k for k in {*old, *new} if k not in moved and old.get(k) != new.get(k))
    if changed:
        raise StackEditError(f"{path}: the edit would also change {', '.join(changed)}; edit it by hand")
    try:
        load_spec({**defaults, **new}, stack=stack, source=str(path))
    except SpecError as err:
        raise StackEditError(err.lines[0]) from None
    return StackEdit(path, before, after, tuple(moves))


def _move_pin(text: str, path: Path, move: PinMove) -> str:
    """The one `version: <old>` line of the pin, rewritten; anything less certain is left to the user."""
    line = re.compile(
        r"^(?P<lead>[ \t]+version:[ \t]*)(?P<q>[\"']?)"
        + re.escape(move.old)
        + r"(?P=q)(?P<tail>[ \t]*(#[^\n]*)?)$",
        re.MULTILINE,
    )
    found = list(line.finditer(text))
    if len(found) != 1:
        raise StackEditError(
            f"{path}: add-on {move.addon}: {len(found)} lines read `version: {move.old}`, one expected; "
            f"set it to {move.new} by hand with kubernetesVersion"
        )
    match = found[0]
    return text[: match.start()] + match.group("lead") + move.new + match.group("tail") + text[match.end() :]
