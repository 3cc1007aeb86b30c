"""The report (model or no model, JSON and Markdown) and the stack context (region move, drill
stack), with the parsed inputs fuzzed: a bad value is a DrUsageError line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eksgitops.dr.context import DrUsageError, load_stack
from eksgitops.dr.report import DrReport, Model
from eksgitops.dr.waits import Probe, WaitTimeout, wait_until
from tests.dr.conftest import FakeClock

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=JSON | st.fixed_dictionaries({"modeled_seconds": JSON, "chain": JSON, "limits": JSON}))
def test_any_critical_path_file_gives_a_model_or_no_model(tmp_path, data):
    target = tmp_path / "dev" / "critical-path.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(data))
    model = Model.load(tmp_path, "dev")
    ok = isinstance(data, dict) and type(data.get("modeled_seconds")) is int and data["modeled_seconds"] >= 0
    assert (model.seconds is not None) is ok
    assert model.describe() == (f"{data['modeled_seconds']}s" if ok else "no model")


def test_report_writes_json_and_markdown_and_never_overwrites(tmp_path):
    clock = FakeClock()
    report = DrReport("rebuild", "dev", clock, Model(600, [], "modeled"))
    with report.phase("preflight"):
        clock.now += 12
    with pytest.raises(RuntimeError), report.phase("infrastructure"):
        clock.now += 30
        raise RuntimeError("boom | pipe")
    report.finish(False, "boom")
    first = report.write(tmp_path)
    second = report.write(tmp_path)
    assert first != second and all(p.exists() for p in (*first, *second))
    data = json.loads(first[0].read_text())
    assert data["stoppedAt"] == "infrastructure" and data["totalSeconds"] == 42.0
    assert [(p["name"], p["status"], p["seconds"]) for p in data["phases"]] == [
        ("preflight", "ok", 12.0),
        ("infrastructure", "failed", 30.0),
    ]
    md = first[1].read_text()
    assert "stopped at phase `infrastructure`" in md and "measured 30.0s, modeled 600s" in md
    assert "boom \\| pipe" in md  # a table cell stays one cell


def test_waits_are_bounded_and_name_the_subject():
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as caught:
        wait_until(
            lambda: Probe(False, "Pending", "Pod x/y"),
            subject="pods",
            condition="Running",
            timeout=25,
            clock=clock,
            interval=10,
        )
    assert str(caught.value) == "timed out after 25s waiting for Pod x/y to be Running; last seen: Pending"
    assert clock.sleeps == [10, 10, 5]


def load(project: Path, **kwargs):
    return load_stack(
        "dev",
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command="rebuild",
        **kwargs,
    )


def test_drill_context(project):
    ctx = load(project, drill=True)
    assert ctx.stack == "dev-drill" and ctx.source_stack == "dev" and ctx.environment == "dev"
    assert ctx.spec.cluster_name == "eksgitops-dev-drill"
    assert ctx.spec.gitops.path == "clusters/dev"
    assert ctx.spec.environment == "dev-drill"


def test_region_move_refuses_what_cannot_move(project):
    text = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    (project / "stacks" / "Pulumi.dev.yaml").write_text(
        text
        + "  eksgitops:secretsKmsKeyArn: "
        + "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\n"
    )
    with pytest.raises(
        DrUsageError, match=r"--region eu-central-1: secretsKmsKeyArn .* is a key of another region"
    ):
        load(project, region="eu-central-1")
    assert load(project).spec.region == "eu-west-1"


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stack=st.text(max_size=70), region=st.none() | st.text(max_size=20))
def test_any_stack_or_region_argument_is_usable_or_one_usage_line(project, stack, region):
    try:
        ctx = load_stack(
            stack,
            stacks_dir=project / "stacks",
            project_dir=project,
            build_dir=project / "build",
            command="preflight",
            region=region,
        )
    except DrUsageError as err:
        assert err.lines and all(
            line.startswith(("eksgitops dr preflight: ", str(project))) for line in err.lines
        )
        assert all("\n" not in line for line in err.lines)
    else:
        assert stack == "dev" and ctx.spec.region == (region or "eu-west-1")
