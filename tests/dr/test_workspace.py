"""The real AutomationWorkspace's edges: engine events as the Pulumi SDK parses them, and a missing CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi.automation import EngineEvent

from eksgitops.dr.pulumi_workspace import (
    AutomationWorkspace,
    ResourceEvent,
    WorkspaceError,
    _first_error_line,
    _translate,
)

URN = "urn:pulumi:dev::eksgitops::eksgitops:platform:Platform$aws:ec2/vpc:Vpc::eksgitops-dev-network"


def meta(op: str) -> dict:
    return {"op": op, "urn": URN, "type": "aws:ec2/vpc:Vpc", "provider": ""}


def test_engine_events_become_resource_steps():
    seen: list[ResourceEvent] = []
    handle = _translate(seen.append)
    for data in (
        {"sequence": 1, "timestamp": 1, "preludeEvent": {"config": {}}},
        {"sequence": 2, "timestamp": 2, "resourcePreEvent": {"metadata": meta("create")}},
        {
            "sequence": 3,
            "timestamp": 3,
            "diagnosticEvent": {"message": "x", "color": "never", "severity": "info"},
        },
        {"sequence": 4, "timestamp": 4, "resOutputsEvent": {"metadata": meta("create")}},
        {
            "sequence": 5,
            "timestamp": 5,
            "resOpFailedEvent": {"metadata": meta("update"), "status": 1, "steps": 0},
        },
    ):
        handle(EngineEvent.from_json(data))
    assert [(e.op, e.done, e.name) for e in seen] == [
        ("create", False, "eksgitops-dev-network"),
        ("create", True, "eksgitops-dev-network"),
        ("failed", True, "eksgitops-dev-network"),
    ]


def test_the_engine_error_line_is_kept():
    text = "\n code: 255\n stdout: Updating...\n stderr: error: update failed\n  details\n"
    assert _first_error_line(Exception(text)) == "error: update failed"
    assert (
        _first_error_line(Exception("\n code: 1\n stdout: \n stderr: no stack named 'x'"))
        == "no stack named 'x'"
    )
    assert _first_error_line(Exception("error: exceeded quota\nmore")) == "error: exceeded quota"


def test_no_pulumi_cli_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi anywhere
    with pytest.raises(WorkspaceError, match=r"^the Pulumi CLI is not installed \(no `pulumi` on PATH\)"):
        AutomationWorkspace(tmp_path).select("dev")
