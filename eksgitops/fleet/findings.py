"""What verify reports: findings with a severity, and what it could and could not check."""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR = "error"
"""Will not reconcile: Flux or Argo CD would fail (or apply nothing) on this."""
POLICY = "policy"
"""Will reconcile, but risky: unpinned charts, plaintext Secrets, variables that become ''."""


@dataclass(frozen=True, order=True)
class Finding:
    """One problem, printed as `severity: path: message`."""

    path: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message}"


@dataclass
class Report:
    """Findings plus an honest account of what was built and what was not checked."""

    findings: list[Finding] = field(default_factory=list)
    builds: int = 0
    """Kustomizations (Flux) and Application sources (Argo CD) built with the real engine."""
    objects: int = 0
    seconds: float = 0.0
    not_checked: list[str] = field(default_factory=list)
    """Paths, sources or targets verify did not build or cannot judge, one line each."""
    unvalidated_kinds: list[str] = field(default_factory=list)
    """`apiVersion kind` of objects for which no schema is shipped (built, not schema-checked)."""
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def policy(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == POLICY]

    def add(self, path: str, message: str, severity: str = ERROR) -> None:
        self.findings.append(Finding(path, message, severity))

    def finish(self) -> None:
        """Deduplicate and sort: errors first, then by path."""
        unique = sorted(set(self.findings), key=lambda f: (f.severity != ERROR, f.path, f.message))
        self.findings = unique
        self.not_checked = sorted(set(self.not_checked))
        self.unvalidated_kinds = sorted(set(self.unvalidated_kinds))
