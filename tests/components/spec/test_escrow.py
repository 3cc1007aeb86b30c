"""The `eksgitops:escrow` key: what a stack may set, and one line for each mistake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from components.platform import escrow_args_from_spec
from components.spec import SpecError, load_spec
from tests.components.spec.helpers import PREFIX, SRC, errors, load_stack, minimal, one_error


def with_escrow(escrow: Any, **extra: Any) -> dict[str, Any]:
    return minimal(escrow=escrow, **extra)


def test_off_by_default_and_in_dev() -> None:
    spec = load_spec(minimal(), stack="test", source=SRC)
    assert not spec.escrow.enabled
    assert escrow_args_from_spec(spec) is None
    assert escrow_args_from_spec(load_stack("dev")) is None


def test_on_with_defaults_lives_in_the_clusters_region() -> None:
    spec = load_spec(with_escrow({"enabled": True}), stack="test", source=SRC)
    args = escrow_args_from_spec(spec)
    assert args is not None
    assert (
        args.environment,
        args.region,
        list(args.secret_replica_regions),
        args.noncurrent_version_days,
    ) == (
        "test",
        "eu-west-1",
        [],
        90,
    )


def test_every_setting_reaches_the_component() -> None:
    escrow = {
        "enabled": True,
        "region": "eu-central-1",
        "secretReplicaRegions": ["eu-west-1", "us-east-1"],
        "bundleRetentionDays": 3650,
    }
    args = escrow_args_from_spec(load_spec(with_escrow(escrow), stack="test", source=SRC))
    assert args is not None
    assert args.region == "eu-central-1"
    assert list(args.secret_replica_regions) == ["eu-west-1", "us-east-1"]
    assert args.noncurrent_version_days == 3650


def test_staging_and_prod_turn_it_on() -> None:
    staging, prod = load_stack("staging"), load_stack("prod")
    assert staging.escrow.enabled and prod.escrow.enabled
    prod_args = escrow_args_from_spec(prod)
    assert prod_args is not None
    # prod keeps its escrow out of the cluster's region, so losing that region loses neither.
    assert prod_args.region != prod.region
    assert prod.region in prod_args.secret_replica_regions


BAD: list[tuple[Any, str, str, str]] = [
    # (escrow value, key path, what is wrong, what is allowed)
    ("yes", "escrow", 'is the string "yes", not a mapping', "a mapping of keys"),
    ({"enabled": "true"}, "escrow.enabled", 'is the string "true", not true or false', "true or false"),
    ({"enabled": 1}, "escrow.enabled", "is the number 1, not true or false", "true or false"),
    (
        {"enabled": True, "region": "europe-1"},
        "escrow.region",
        '"europe-1" is not an AWS region name',
        "a region such as eu-west-1",
    ),
    (
        {"enabled": True, "region": "cn-north-1"},
        "escrow.region",
        '"cn-north-1" is in partition aws-cn, the cluster\'s region eu-west-1 in aws',
        "a region of partition aws",
    ),
    (
        {"enabled": True, "region": 1},
        "escrow.region",
        "is the number 1, not a string",
        "a string: quote the value in YAML",
    ),
    (
        {"enabled": True, "secretReplicaRegions": "eu-central-1"},
        "escrow.secretReplicaRegions",
        'is the string "eu-central-1", not a list',
        "a YAML list",
    ),
    (
        {"enabled": True, "secretReplicaRegions": ["eu-central-1", "eu_west_2"]},
        "escrow.secretReplicaRegions[1]",
        '"eu_west_2" is not an AWS region name',
        "a region such as eu-west-1",
    ),
    (
        {"enabled": True, "secretReplicaRegions": ["us-gov-west-1"]},
        "escrow.secretReplicaRegions[0]",
        "is in partition aws-us-gov",
        "a region of partition aws",
    ),
    (
        {"enabled": True, "secretReplicaRegions": ["eu-central-1", "eu-central-1"]},
        "escrow.secretReplicaRegions",
        "lists eu-central-1 twice",
        "each region once",
    ),
    (
        {"enabled": True, "secretReplicaRegions": ["eu-central-1", "eu-west-1"]},
        "escrow.secretReplicaRegions[1]",
        '"eu-west-1" is the escrow\'s own region',
        "other regions",
    ),
    (
        {"enabled": True, "region": "eu-central-1", "secretReplicaRegions": ["eu-central-1"]},
        "escrow.secretReplicaRegions[0]",
        '"eu-central-1" is the escrow\'s own region',
        "other regions",
    ),
    (
        {"enabled": True, "bundleRetentionDays": 0},
        "escrow.bundleRetentionDays",
        "0 is out of range",
        "1 to 3650 days",
    ),
    (
        {"enabled": True, "bundleRetentionDays": 3651},
        "escrow.bundleRetentionDays",
        "3651 is out of range",
        "1 to 3650 days",
    ),
    (
        {"enabled": True, "bundleRetentionDays": "90"},
        "escrow.bundleRetentionDays",
        'is the string "90", not a whole number',
        "a whole number",
    ),
    (
        {"enabled": True, "bundleRetentionDays": 30.5},
        "escrow.bundleRetentionDays",
        "is the number 30.5, not a whole number",
        "a whole number",
    ),
    (
        {"enabled": True, "replicaRegions": ["eu-central-1"]},
        "escrow.replicaRegions",
        "unknown key",
        "allowed keys here: bundleRetentionDays, enabled, region, secretReplicaRegions",
    ),
    (
        {"region": "eu-central-1"},
        "escrow.region",
        "is set but escrow.enabled is not true, so no escrow is created",
        "enabled: true, or leave it out",
    ),
    (
        {"enabled": False, "secretReplicaRegions": ["eu-central-1"]},
        "escrow.secretReplicaRegions",
        "is set but escrow.enabled is not true",
        "enabled: true, or leave it out",
    ),
]


@pytest.mark.parametrize(("escrow", "path", "what", "allowed"), BAD, ids=[f"{b[1]}:{b[2][:30]}" for b in BAD])
def test_each_bad_value_is_one_line(escrow: Any, path: str, what: str, allowed: str) -> None:
    line = one_error(with_escrow(escrow), path, what)
    what_part, _, allowed_part = line[len(f"{PREFIX}{path}: ") :].partition("; ")
    assert what in what_part
    assert allowed in allowed_part


def test_a_stack_name_too_long_for_the_bucket_is_refused_only_with_escrow_on() -> None:
    stack = "a" * 34  # eksgitops-escrow-<12 digits>-<stack> would be 64 characters
    raw = with_escrow({"enabled": True}, clusterName="long-stack")
    lines = errors(raw, stack=stack)
    assert lines == [
        f'{PREFIX}escrow.enabled: the stack name "{stack}" makes no valid escrow bucket name '
        f"(eksgitops-escrow-<account>-{stack}); a stack name of at most 33 of a-z, 0-9 and '-', "
        "or enabled: false"
    ]
    load_spec(with_escrow({"enabled": True}, clusterName="long-stack"), stack="a" * 33, source=SRC)
    load_spec(with_escrow({"enabled": False}, clusterName="long-stack"), stack=stack, source=SRC)


def test_a_bad_escrow_stops_the_plan_with_exit_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eksgitops.cli import app

    root = Path(__file__).resolve().parents[3]
    stack = yaml.safe_load((root / "stacks" / "Pulumi.staging.yaml").read_text())
    stack["config"]["eksgitops:escrow"] = {"enabled": True, "secretReplicaRegions": ["eu-west-1"]}
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.staging.yaml").write_text(yaml.safe_dump(stack))
    (tmp_path / "Pulumi.yaml").write_text((root / "Pulumi.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["plan", "staging", "--out", str(tmp_path / "build")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        'stacks/Pulumi.staging.yaml: eksgitops:escrow.secretReplicaRegions[0]: "eu-west-1" is the '
        "escrow's own region; other regions (Secrets Manager replicates a secret to regions other "
        "than its own)"
    ]
    assert not (tmp_path / "build").exists()


# Any value at all under escrow: a validated spec or SpecError lines, never a traceback.
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5000)
    | st.text(max_size=12)
    | st.sampled_from(["eu-west-1", "eu-central-1", "us-east-1", "cn-north-1", "eu-west-1a"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_escrows = st.fixed_dictionaries(
    {},
    optional={
        "enabled": _values,
        "region": _values,
        "secretReplicaRegions": _values,
        "bundleRetentionDays": _values,
    },
)


@settings(max_examples=150, deadline=None)
@given(escrow=_escrows | _values)
def test_fuzz_any_escrow_value_is_a_spec_or_lines(escrow: Any) -> None:
    try:
        spec = load_spec(with_escrow(escrow), stack="test", source=SRC)
    except SpecError as err:
        assert err.lines
        for line in err.lines:
            assert line.startswith(f"{PREFIX}escrow"), line
            assert "; " in line and "\n" not in line
        return
    args = escrow_args_from_spec(spec)
    assert (args is not None) == spec.escrow.enabled
    if args is not None:
        assert args.region not in args.secret_replica_regions
        assert 1 <= args.noncurrent_version_days <= 3650
