"""Is the revision an agent reports the commit a recovery expects, or a later one of the fleet?

While a rebuild waits, someone may push to the fleet branch: the agent then applies a
descendant of the expected commit, which is as good (it contains it). Anything else (an
unrelated or older commit) is not. Finding out needs the fleet's history: the remote is
fetched into a temporary bare copy, at most `max_lookups` times per wait, and each answer
is kept.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from eksgitops.dr.fleet_check import GitCheckError, mirror, run_git
from eksgitops.fleet.credentials import Credentials

SHA = re.compile(r"[0-9a-f]{40}")


class RevisionJudge:
    """`judge(reported)`: True for `sha` itself or a commit of the fleet that descends from it."""

    def __init__(
        self,
        sha: str,
        url: str | None = None,
        *,
        creds: Credentials | None = None,
        max_lookups: int = 20,
        timeout: float = 60.0,
    ):
        self.sha, self.url, self.creds = sha, url, creds or Credentials()
        self.max_lookups, self.timeout = max_lookups, timeout
        self.answers: dict[str, bool] = {}

    def __call__(self, reported: str) -> bool:
        if reported == self.sha:
            return True
        if self.url is None or not SHA.fullmatch(reported):
            return False
        if reported not in self.answers:
            if len(self.answers) >= self.max_lookups:
                return False
            self.answers[reported] = self._descends(reported)
        return self.answers[reported]

    def _descends(self, reported: str) -> bool:
        assert self.url is not None
        with tempfile.TemporaryDirectory(prefix="eksgitops-revision-") as tmp:
            try:
                repo = mirror(self.url, Path(tmp) / "fleet.git", creds=self.creds, timeout=self.timeout)
                # exit 0: sha is an ancestor of reported; 1 (an error here): it is not, or unknown.
                run_git(
                    ["merge-base", "--is-ancestor", self.sha, reported],
                    creds=self.creds,
                    timeout=30,
                    cwd=repo,
                )
            except GitCheckError:
                return False
        return True
