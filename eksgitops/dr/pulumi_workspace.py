"""The Pulumi side of a recovery, behind a narrow interface: select a stack, up, destroy, outputs.

`AutomationWorkspace` is the real one, on the Pulumi Automation API (it needs the Pulumi
CLI on PATH and a logged-in backend). Tests drive the orchestration with a fake that
implements `PulumiWorkspace`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class ResourceEvent:
    """One resource step reported by the engine while `up` or `destroy` runs."""

    op: str
    """create, update, replace, delete, same, … (the engine's OpType), or failed."""
    urn: str
    type: str
    done: bool
    """True once the step finished (outputs known, or failed); False when it starts."""

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


OnEvent = Callable[[ResourceEvent], None]


class WorkspaceError(Exception):
    """`up`/`destroy` failed: the engine's message, one line, without secrets."""


class StackNotFound(WorkspaceError):
    """`select(create=False)` of a stack the backend does not have."""


class ConcurrentUpdate(WorkspaceError):
    """Another update holds the stack (`pulumi.automation.ConcurrentUpdateError`, HTTP 409)."""


class PulumiWorkspace(Protocol):
    """What dr needs from Pulumi."""

    def select(
        self,
        stack: str,
        *,
        create: bool = True,
        copy_config_from: str | None = None,
        config: Mapping[str, str | None] | None = None,
    ) -> None:
        """Create or select `stack`; copy another stack's config (secrets re-encrypted) and set
        `config` keys (path syntax, e.g. `eksgitops:gitops.path`; None removes the key)
        before anything runs.

        `create=False` only selects: StackNotFound when the backend has no such stack."""
        ...

    def pending_operations(self) -> list[str]:
        """`<type> <urn>` of each operation an interrupted update left in the state."""
        ...

    def refresh(self, on_event: OnEvent, *, clear_pending_creates: bool = False) -> None:
        """`pulumi refresh`; `clear_pending_creates` drops pending creates from the state."""
        ...

    def cancel(self) -> None:
        """`pulumi cancel`: end the stack's running update (one that crashed holds the lease)."""
        ...

    def up(self, on_event: OnEvent, *, targets: Sequence[str] | None = None) -> None:
        """Run `pulumi up` on the selected stack; raise WorkspaceError on failure
        (ConcurrentUpdate when another update holds the stack).

        `targets`: only these URNs (`pulumi up --target`), for an upgrade in ordered phases."""
        ...

    def destroy(self, on_event: OnEvent, *, keep_protected: bool = True) -> None:
        """Run `pulumi destroy`; with keep_protected, protected (durable) resources stay."""
        ...

    def outputs(self) -> dict[str, Any]:
        """The selected stack's outputs, secrets in plaintext (never printed or reported)."""
        ...


class AutomationWorkspace:
    """`PulumiWorkspace` on `pulumi.automation` with the project's own program (`work_dir`)."""

    def __init__(self, project_dir: Path, *, extra_env: Mapping[str, str] | None = None):
        self.project_dir = project_dir
        self.extra_env = dict(extra_env or {})
        self._stack: Any = None

    def select(
        self,
        stack: str,
        *,
        create: bool = True,
        copy_config_from: str | None = None,
        config: Mapping[str, str | None] | None = None,
    ) -> None:
        from pulumi import automation as auto

        opts = auto.LocalWorkspaceOptions(env_vars=self.extra_env) if self.extra_env else None
        try:
            if create:
                self._stack = auto.create_or_select_stack(stack, work_dir=str(self.project_dir), opts=opts)
            else:
                self._stack = auto.select_stack(stack, work_dir=str(self.project_dir), opts=opts)
            if copy_config_from:
                # `pulumi config cp` decrypts with the source stack's secrets provider and
                # re-encrypts with the target's: secure: values cannot simply be copied.
                self._copy_config(copy_config_from, stack)
            removed = [key for key, value in (config or {}).items() if value is None]
            if removed:
                self._stack.remove_all_config(removed, path=True)
            values = {key: value for key, value in (config or {}).items() if value is not None}
            if values:
                self._stack.set_all_config(
                    {key: auto.ConfigValue(value=value) for key, value in values.items()}, path=True
                )
        except auto.StackNotFoundError:
            raise StackNotFound(f"stack {stack} does not exist in the state backend") from None
        except auto.CommandError as exc:
            raise WorkspaceError(_first_error_line(exc)) from None
        except FileNotFoundError:
            raise WorkspaceError(
                "the Pulumi CLI is not installed (no `pulumi` on PATH); install it: https://www.pulumi.com/docs/install/"
            ) from None

    def _copy_config(self, source: str, dest: str) -> None:
        import os
        import subprocess

        proc = subprocess.run(
            ["pulumi", "config", "cp", "--stack", source, "--dest", dest, "--non-interactive"],
            cwd=self.project_dir,
            env={**os.environ, **self.extra_env},
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise WorkspaceError(_first_error_line(Exception(proc.stderr)))

    def up(self, on_event: OnEvent, *, targets: Sequence[str] | None = None) -> None:
        from pulumi import automation as auto

        try:
            self._selected().up(
                on_event=_translate(on_event),
                color="never",
                suppress_outputs=True,
                target=list(targets) if targets else None,
            )
        except auto.ConcurrentUpdateError as exc:
            raise ConcurrentUpdate(_first_error_line(exc)) from None
        except auto.CommandError as exc:
            raise WorkspaceError(_first_error_line(exc)) from None

    def pending_operations(self) -> list[str]:
        state = self._selected().export_stack().deployment or {}
        return [
            f"{op.get('type', '?')} {(op.get('resource') or {}).get('urn', '?')}"
            for op in state.get("pending_operations") or []
        ]

    def refresh(self, on_event: OnEvent, *, clear_pending_creates: bool = False) -> None:
        from pulumi import automation as auto

        try:
            self._selected().refresh(
                on_event=_translate(on_event),
                color="never",
                clear_pending_creates=clear_pending_creates or None,
            )
        except auto.ConcurrentUpdateError as exc:
            raise ConcurrentUpdate(_first_error_line(exc)) from None
        except auto.CommandError as exc:
            raise WorkspaceError(_first_error_line(exc)) from None

    def cancel(self) -> None:
        from pulumi import automation as auto

        try:
            self._selected().cancel()
        except auto.CommandError as exc:
            raise WorkspaceError(_first_error_line(exc)) from None

    def destroy(self, on_event: OnEvent, *, keep_protected: bool = True) -> None:
        from pulumi import automation as auto

        try:
            self._selected().destroy(
                on_event=_translate(on_event),
                color="never",
                exclude_protected=keep_protected,
                suppress_outputs=True,
            )
        except auto.ConcurrentUpdateError as exc:
            raise ConcurrentUpdate(_first_error_line(exc)) from None
        except auto.CommandError as exc:
            raise WorkspaceError(_first_error_line(exc)) from None

    def outputs(self) -> dict[str, Any]:
        return {key: out.value for key, out in self._selected().outputs().items()}

    def _selected(self) -> Any:
        if self._stack is None:
            raise WorkspaceError("no stack selected")
        return self._stack


def _translate(on_event: OnEvent) -> Callable[[Any], None]:
    """Engine events -> ResourceEvents: a step starting, finishing or failing."""

    def handle(event: Any) -> None:
        for attr, done, failed in (
            ("resource_pre_event", False, False),
            ("res_outputs_event", True, False),
            ("res_op_failed_event", True, True),
        ):
            wrapped = getattr(event, attr, None)
            if wrapped is None:
                continue
            meta = wrapped.metadata
            op = "failed" if failed else str(getattr(meta.op, "value", meta.op))
            on_event(ResourceEvent(op=op, urn=meta.urn, type=meta.type, done=done))

    return handle


def _first_error_line(exc: Exception) -> str:
    """The engine's `error:` line (Pulumi masks secrets in its own output); else the first line.

    A CommandError reads `code: N / stdout: … / stderr: …`; the cause is in stderr.
    """
    text = str(getattr(exc, "stderr", "") or exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        bare = line.removeprefix("stderr:").strip()
        if bare.lower().startswith("error:"):
            return bare
    stderr = [line.removeprefix("stderr:").strip() for line in lines if line.startswith("stderr:")]
    return next((line for line in stderr if line), lines[0] if lines else type(exc).__name__)
