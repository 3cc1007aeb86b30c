"""`DrReport`: what a dr command did, phase by phase, measured against the plan's model.

Every command writes `build/dr/<stack>-<timestamp>.json` and `.md`, also when it stops
half-way: the report then says in which phase and why. Durations come from the command's
clock (monotonic); timestamps are UTC wall time. Nothing secret is ever put in a report.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eksgitops.dr.aws import error_text
from eksgitops.dr.waits import Clock

# The phases of a recovery, in order, as the runbook and the report's timings name them;
# other commands add their own.
RECOVERY_PHASES = ("preflight", "infrastructure", "nodes ready", "agent ready", "workloads synced")


def utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Phase:
    """One step of a command with its timing and outcome."""

    name: str
    started_at: str
    ended_at: str | None = None
    seconds: float | None = None
    status: str = "running"
    """ok, failed or skipped (running only while it runs)."""
    detail: str = ""


@dataclass
class CheckRow:
    """One line of a preflight or verify table."""

    check: str
    ok: bool
    reason: str
    side: str = ""
    """Where it was checked: spec, git, aws or cluster."""
    skipped: bool = False
    """The check did not run (does not apply, or could not be checked): not a failure, and
    never shown as a pass."""

    @property
    def result(self) -> str:
        return "skipped" if self.skipped else "pass" if self.ok else "FAIL"


def skipped(check: str, reason: str, side: str = "aws") -> CheckRow:
    """A check that did not run, with why."""
    return CheckRow(check, True, reason, side, skipped=True)


@dataclass
class Model:
    """The plan's modeled time (build/STACK/critical-path.json), if there is one."""

    seconds: int | None
    chain: list[dict[str, Any]] = field(default_factory=list)
    limits: str = ""

    @classmethod
    def load(cls, build_dir: Path, stack: str) -> Model:
        """Read `<build>/<stack>/critical-path.json`; a missing or unreadable file means no model."""
        path = build_dir / stack / "critical-path.json"
        try:
            data = json.loads(path.read_text())
            seconds = data["modeled_seconds"]
            if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
                return cls(None, limits=f"{path}: modeled_seconds is not a whole number of seconds")
            chain = data.get("chain")
            limits = data.get("limits")
            return cls(
                seconds,
                chain if isinstance(chain, list) else [],
                limits if isinstance(limits, str) else "",
            )
        except (OSError, ValueError, KeyError, TypeError):
            return cls(None)

    def describe(self) -> str:
        return "no model" if self.seconds is None else f"{self.seconds}s"


class DrReport:
    """Timestamps and outcome of every phase of one dr command, written as JSON and Markdown."""

    def __init__(self, command: str, stack: str, clock: Clock, model: Model | None = None):
        self.command = command
        self.stack = stack
        self.clock = clock
        self.model = model or Model(None)
        self.started = utc_now()
        self._start_tick = clock.monotonic()
        self.phases: list[Phase] = []
        self.checks: list[CheckRow] = []
        self.facts: dict[str, Any] = {}
        self.outcome = "running"
        self.stopped_at: str | None = None
        self.reason = ""
        self.total_seconds: float | None = None

    @contextmanager
    def phase(self, name: str) -> Iterator[Phase]:
        """Time a phase; an exception marks it failed and is re-raised."""
        phase = Phase(name=name, started_at=_iso(utc_now()))
        self.phases.append(phase)
        tick = self.clock.monotonic()
        try:
            yield phase
        except BaseException as exc:
            phase.status = "failed"
            phase.detail = phase.detail or str(exc) or type(exc).__name__
            self.stopped_at = name
            raise
        else:
            if phase.status == "running":
                phase.status = "ok"
        finally:
            phase.ended_at = _iso(utc_now())
            phase.seconds = round(self.clock.monotonic() - tick, 1)

    def skip(self, name: str, why: str) -> None:
        """Record a phase that does not apply (e.g. nodes ready under Auto Mode)."""
        now = _iso(utc_now())
        self.phases.append(Phase(name, now, now, 0.0, "skipped", why))

    def finish(self, ok: bool, reason: str = "") -> None:
        self.outcome = "ok" if ok else "failed"
        self.reason = reason
        if not ok and self.stopped_at is None and self.phases:
            self.stopped_at = self.phases[-1].name
        self.total_seconds = round(self.clock.monotonic() - self._start_tick, 1)

    def seconds_of(self, name: str) -> float | None:
        return next((p.seconds for p in self.phases if p.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        infra = self.seconds_of("infrastructure")
        return {
            "command": self.command,
            "stack": self.stack,
            "startedAt": _iso(self.started),
            "outcome": self.outcome,
            "stoppedAt": self.stopped_at,
            "reason": self.reason,
            "phases": [_camel(asdict(p)) for p in self.phases],
            "totalSeconds": self.total_seconds,
            "measuredRecoverySeconds": self.total_seconds,
            "infrastructureSeconds": infra,
            "modeledSeconds": self.model.seconds,
            "model": "no model" if self.model.seconds is None else "build/<stack>/critical-path.json",
            "modelLimits": self.model.limits,
            "checks": [_camel(asdict(c)) for c in self.checks],
            "facts": self.facts,
        }

    def to_markdown(self) -> str:
        data = self.to_dict()
        lines = [
            f"# eksgitops dr {self.command} {self.stack}",
            "",
            f"- started: {data['startedAt']}",
            f"- outcome: **{self.outcome}**"
            + (f", stopped at phase `{self.stopped_at}`" if self.outcome != "ok" and self.stopped_at else ""),
        ]
        if self.reason:
            lines.append(f"- reason: {self.reason}")
        lines.append(f"- total (measured): {_secs(self.total_seconds)}")
        infra = data["infrastructureSeconds"]
        lines.append(
            f"- infrastructure: measured {_secs(infra)}, modeled {self.model.describe()}"
            if infra is not None
            else f"- modeled infrastructure time: {self.model.describe()}"
        )
        lines += ["", "| phase | started | ended | seconds | status | detail |", "|---|---|---|---|---|---|"]
        for p in self.phases:
            lines.append(
                f"| {p.name} | {p.started_at} | {p.ended_at or ''} | {_secs(p.seconds)} | {p.status} "
                f"| {_cell(p.detail)} |"
            )
        if self.checks:
            lines += ["", "| check | side | result | reason |", "|---|---|---|---|"]
            for c in self.checks:
                lines.append(f"| {c.check} | {c.side} | {c.result} | {_cell(c.reason)} |")
        if self.facts:
            lines += ["", "## Facts", ""]
            lines += [f"- {k}: {_cell(str(v))}" for k, v in self.facts.items()]
        return "\n".join(lines) + "\n"

    def write(self, out_dir: Path, folder: str = "dr") -> tuple[Path, Path]:
        """Write `<out_dir>/<folder>/<stack>-<timestamp>.json` and `.md`; never overwrite an earlier run."""
        target = out_dir / folder
        target.mkdir(parents=True, exist_ok=True)
        stem = f"{self.stack}-{self.started.strftime('%Y%m%dT%H%M%SZ')}"
        n = 1
        while (target / f"{stem}.json").exists():
            n += 1
            stem = f"{self.stack}-{self.started.strftime('%Y%m%dT%H%M%SZ')}-{n}"
        json_path, md_path = target / f"{stem}.json", target / f"{stem}.md"
        json_path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        md_path.write_text(self.to_markdown())
        return json_path, md_path


def _camel(data: dict[str, Any]) -> dict[str, Any]:
    """JSON keys in camelCase, like the rest of the project's JSON (started_at -> startedAt)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        head, *rest = key.split("_")
        out[head + "".join(part.title() for part in rest)] = value
    return out


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def guarded(check: str, side: str, body: Callable[[], CheckRow]) -> CheckRow:
    """A check that raised is a failed check with the error as its reason, never a traceback."""
    try:
        return body()
    except Exception as exc:
        return CheckRow(check, False, error_text(exc), side)
