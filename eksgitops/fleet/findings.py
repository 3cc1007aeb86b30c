"""What verify reports: findings with a severity, what it could not check, and the verdict.

The verdict and the exit code are decided here (`Report.verdict`), so the CLI, bootstrap and
`--json` all say the same thing. Kept at the fleet level rather than inside `verify/`: the
schema validator (`schema.validate`, used by the plan and component tests) returns Findings too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ERROR = "error"
"""Will not reconcile: Flux or Argo CD would fail (or apply nothing) on this."""
POLICY = "policy"
"""Will reconcile, but risky: unpinned charts, plaintext Secrets, variables that become ''."""
NOT_CHECKED = "not checked"
"""Verify could not judge this (a source not built, a chart not rendered); never passed silently."""
Severity = Literal["error", "policy", "not checked"]

WILL_RECONCILE, WILL_NOT_RECONCILE, USAGE, POLICY_ONLY, UNVERIFIED = 0, 1, 2, 3, 4
"""Exit codes of `fleet verify` (docs/fleet.md)."""

VERIFY_SCHEMA = Path(__file__).parent / "verify.schema.json"
"""The JSON Schema of what `fleet verify --json` prints."""


@dataclass(frozen=True, order=True)
class Finding:
    """One problem, printed as `severity: path: message`."""

    path: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message}"

    def line(self) -> str:
        """The text after `severity: ` (a not-checked item may have no path)."""
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True)
class Verdict:
    """What the run concluded, as one summary line and the exit code."""

    code: int
    outcome: str
    """`will reconcile`, `will reconcile as far as built`, `will not reconcile`, `nothing was verified`."""
    summary: str
    to_stderr: bool


@dataclass
class Report:
    """Findings plus an honest account of what was built and what was not checked."""

    findings: list[Finding] = field(default_factory=list)
    builds: int = 0
    """Kustomizations (Flux) and Application sources (Argo CD) built with the real engine."""
    cached: int = 0
    """Of `builds`, how many were taken from the build cache instead of running kustomize."""
    objects: int = 0
    seconds: float = 0.0
    not_checked: list[str] = field(default_factory=list)
    """Paths, sources or targets verify did not build or cannot judge, one line each."""
    unvalidated_kinds: list[str] = field(default_factory=list)
    """`apiVersion kind` of objects for which no schema is shipped (built, not schema-checked)."""
    notes: list[str] = field(default_factory=list)
    printed_notes: list[str] = field(default_factory=list)
    """Notes the command line prints (as `note: …`) before the summary."""
    signatures: list[dict[str, Any]] | None = None
    """The signatures `fleet verify` checked (fleet/signatures.py), None when it checked none."""
    verified: int | None = None
    """Objects built and checked beyond the agent's own wiring (Kustomizations, Applications);
    0 means nothing was verified. None: not counted (a report that is not a verify run)."""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def policy(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == POLICY]

    def add(self, path: str, message: str, severity: Severity) -> None:
        self.record(Finding(path, message, severity))

    def record(self, finding: Finding) -> None:
        if finding.severity == NOT_CHECKED:
            self.not_checked.append(finding.line())
        else:
            self.findings.append(finding)

    def finish(self) -> None:
        """Deduplicate and sort: errors first, then by path."""
        unique = sorted(set(self.findings), key=lambda f: (f.severity != ERROR, f.path, f.message))
        self.findings = unique
        self.not_checked = sorted(set(self.not_checked))
        self.unvalidated_kinds = sorted(set(self.unvalidated_kinds))

    def verdict(self, where: str) -> Verdict:
        """The summary line and exit code for `where` (e.g. `clusters/dev at 1a2b3c4`)."""
        cached = f", {self.cached} from cache" if self.cached else ""
        built = f"{self.builds} builds{cached}, {self.objects} objects, {self.seconds:.1f}s"
        partial = f"; {len(self.not_checked)} item(s) not checked (listed above)" if self.not_checked else ""
        if not self.errors and self.verified == 0:
            return Verdict(
                UNVERIFIED,
                "nothing was verified",
                f"verify: {where}: nothing was verified: nothing built but the agent's own objects "
                f"({built}{partial})",
                True,
            )
        if self.errors:
            return Verdict(
                WILL_NOT_RECONCILE,
                "will not reconcile",
                f"verify: {where} will not reconcile: {len(self.errors)} error(s), "
                f"{len(self.policy)} policy finding(s) ({built}{partial})",
                True,
            )
        outcome = "will reconcile" if not self.not_checked else "will reconcile as far as built"
        if self.policy:
            return Verdict(
                POLICY_ONLY,
                outcome,
                f"verify: {where} {outcome}, with {len(self.policy)} policy finding(s) ({built}{partial})",
                True,
            )
        return Verdict(
            WILL_RECONCILE, outcome, f"verify: {where} {outcome} ({built}, no findings{partial})", False
        )

    def document(self, path: str, sha: str | None, scrub: Callable[[str], str] = str) -> dict[str, Any]:
        """The report as `fleet verify --json` prints it (verify.schema.json); `scrub` removes
        credentials from every text that may quote a URL."""
        verdict = self.verdict(f"{path} at {sha[:7]}" if sha else path)
        return {
            "path": path,
            "revision": sha,
            "outcome": verdict.outcome,
            "exitCode": verdict.code,
            "summary": scrub(verdict.summary),
            "findings": [
                {"severity": f.severity, "path": scrub(f.path), "message": scrub(f.message)}
                for f in self.findings
            ],
            "notChecked": [scrub(line) for line in self.not_checked],
            "unvalidatedKinds": list(self.unvalidated_kinds),
            "notes": [scrub(note) for note in self.printed_notes],
            "builds": self.builds,
            "cached": self.cached,
            "objects": self.objects,
            "seconds": round(self.seconds, 3),
            "error": None,
            **({"signatures": self.signatures} if self.signatures is not None else {}),
        }


def failure_document(path: str, error: str, code: int) -> dict[str, Any]:
    """`fleet verify --json` when the repository could not be read or built at all."""
    return {
        "path": path,
        "revision": None,
        "outcome": "nothing was verified",
        "exitCode": code,
        "summary": f"verify: {path}: nothing was verified: {error}",
        "findings": [],
        "notChecked": [],
        "unvalidatedKinds": [],
        "notes": [],
        "builds": 0,
        "cached": 0,
        "objects": 0,
        "seconds": 0.0,
        "error": error,
    }
