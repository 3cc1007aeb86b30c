"""The endpoint and `controlPlane`: a public-only endpoint in an existing VPC, deletion protection, logs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eksgitops.components.spec import SpecError, load_spec
from eksgitops.components.spec.read import project_config_defaults, stack_config
from tests.components.spec.helpers import EXISTING_VPC, PREFIX, ROOT, SRC, minimal, one_error

# --- public-only endpoint --------------------------------------------------------------


def test_public_only_endpoint_in_an_existing_vpc_is_refused():
    # The NAT addresses of someone else's VPC are unknown: nodes could not reach the API server.
    endpoint = {"privateAccess": False, "publicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}
    line = one_error(minimal(network=EXISTING_VPC, endpoint=endpoint), "endpoint.privateAccess")
    assert "existing VPC" in line and "privateAccess: true" in line


def test_public_only_endpoint_in_a_new_vpc_is_accepted():
    # The components add the new VPC's NAT addresses to the allow-list.
    endpoint = {"privateAccess": False, "publicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}
    assert not load_spec(minimal(endpoint=endpoint), stack="test", source=SRC).endpoint.private_access


def test_an_existing_vpc_with_the_private_endpoint_is_accepted():
    endpoint = {"privateAccess": True, "publicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}
    assert load_spec(minimal(network=EXISTING_VPC, endpoint=endpoint), stack="test", source=SRC)


# --- controlPlane ----------------------------------------------------------------------


def test_control_plane_defaults_are_explicit_and_cheap_to_undo():
    control = load_spec(minimal(), stack="test", source=SRC).control_plane
    assert (control.deletion_protection, control.upgrade_policy, control.log_retention_days) == (
        False,
        "STANDARD",
        90,
    )


def test_control_plane_values():
    raw = minimal(
        controlPlane={"deletionProtection": True, "upgradePolicy": "EXTENDED", "logRetentionDays": 365}
    )
    control = load_spec(raw, stack="test", source=SRC).control_plane
    assert (control.deletion_protection, control.upgrade_policy, control.log_retention_days) == (
        True,
        "EXTENDED",
        365,
    )


@pytest.mark.parametrize(
    ("control", "path", "phrase"),
    [
        ({"logRetentionDays": 10}, "controlPlane.logRetentionDays", "one of 1, 3, 5, 7, 14, 30"),
        (
            {"logRetentionDays": "90"},
            "controlPlane.logRetentionDays",
            'is the string "90", not a whole number',
        ),
        ({"upgradePolicy": "PAID"}, "controlPlane.upgradePolicy", "one of STANDARD, EXTENDED"),
        ({"deletionProtection": "yes"}, "controlPlane.deletionProtection", "true or false"),
        ({"deletionProtecton": True}, "controlPlane.deletionProtecton", 'did you mean "deletionProtection"'),
    ],
)
def test_control_plane_mistakes_are_one_line_each(control, path, phrase):
    assert phrase in one_error(minimal(controlPlane=control), path)


def test_control_plane_is_declared_in_the_project_with_a_default():
    assert project_config_defaults(ROOT / "Pulumi.yaml")["controlPlane"] == {}


def test_prod_cannot_be_deleted_by_accident_and_keeps_a_year_of_logs():
    raw = stack_config(ROOT / "stacks" / "Pulumi.prod.yaml", ROOT / "Pulumi.yaml")
    control = load_spec(raw, stack="prod", source="stacks/Pulumi.prod.yaml").control_plane
    assert control.deletion_protection is True
    assert control.upgrade_policy == "STANDARD"
    assert control.log_retention_days == 365


# --- fuzzing the new keys --------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _loads_or_reports(raw: dict[str, Any]) -> None:
    try:
        load_spec(raw, stack="test", source=SRC)
    except SpecError as err:
        assert err.lines
        assert all(line.startswith(PREFIX) for line in err.lines), err.lines


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["deletionProtection", "upgradePolicy", "logRetentionDays", "other"]),
        _values,
        max_size=4,
    )
    | _values
)
def test_any_control_plane_value_loads_or_is_reported_in_lines(control):
    _loads_or_reports(minimal(controlPlane=control))


# --- EKS's 40 public access CIDRs, counting the NAT /32s ------------------------------


def _public(count: int, **network: Any) -> dict[str, Any]:
    cidrs = [f"198.51.100.{i}/32" for i in range(count)]
    endpoint = {"privateAccess": False, "publicAccess": True, "publicAccessCidrs": cidrs}
    return minimal(endpoint=endpoint, network={"azCount": 3, **network})


def test_public_cidrs_count_the_nat_addresses_the_components_add() -> None:
    load_spec(_public(37), stack="test", source=SRC)  # and 3 NAT gateways: 40
    line = one_error(_public(38), "endpoint.publicAccessCidrs")
    assert "lists 38 CIDRs and the 3 NAT /32s the components add: 41 in all; at most 40" in line
    load_spec(_public(39, natGateways="single"), stack="test", source=SRC)
    one_error(_public(40, natGateways="single"), "endpoint.publicAccessCidrs")


def test_with_the_private_endpoint_only_the_listed_cidrs_count() -> None:
    raw = _public(40)
    raw["endpoint"]["privateAccess"] = True
    load_spec(raw, stack="test", source=SRC)
    raw["endpoint"]["publicAccessCidrs"].append("198.51.100.200/32")
    assert "41 in all" in one_error(raw, "endpoint.publicAccessCidrs")
