"""The spec's rules for what AWS would refuse: add-on pins per Kubernetes version, a public-only
endpoint in an existing VPC, and the controlPlane key (issue 6, §3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.addon_versions import known_addon_versions
from components.spec import SpecError, load_spec, project_config_defaults, raw_config_from_stack_file

ROOT = Path(__file__).resolve().parents[2]
SRC = "stacks/Pulumi.test.yaml"
PREFIX = f"{SRC}: eksgitops:"
ADMIN_ENTRY = {"principalArn": "arn:aws:iam::111122223333:role/platform-admin"}
EXISTING_VPC = {
    "vpcId": "vpc-0123456789abcdef0",
    "privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    "publicSubnetIds": ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"],
}


def minimal(**extra: Any) -> dict[str, Any]:
    return {
        "region": "eu-west-1",
        "nodeGroups": [{"name": "general"}],
        "access": {"entries": [ADMIN_ENTRY]},
        "gitops": {"repoUrl": "https://github.com/example/fleet.git"},
        **extra,
    }


def one_error(raw: dict[str, Any], path: str) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(raw, stack="test", source=SRC)
    lines = info.value.lines
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{PREFIX}{path}: "), lines
    return lines[0]


# --- add-on pins -----------------------------------------------------------------------


def test_the_stale_prod_pin_is_refused_for_its_kubernetes_version():
    # vpc-cni v1.19.2-eksbuild.1 dates from Kubernetes 1.31/1.32.
    raw = minimal(kubernetesVersion="1.35", addons={"vpc-cni": {"version": "v1.19.2-eksbuild.1"}})
    line = one_error(raw, "addons.vpc-cni.version")
    assert line == (
        f"{PREFIX}addons.vpc-cni.version: v1.19.2-eksbuild.1 is not a vpc-cni version known to be offered "
        "for Kubernetes 1.35; one of v1.21.1-eksbuild.3 (components/data/addon_versions.json; "
        "or remove the pin to follow the Kubernetes version)"
    )


def test_a_kube_proxy_pin_of_another_minor_is_refused():
    raw = minimal(kubernetesVersion="1.36", addons={"kube-proxy": {"version": "v1.35.0-eksbuild.2"}})
    assert "for Kubernetes 1.36" in one_error(raw, "addons.kube-proxy.version")


@pytest.mark.parametrize("kubernetes_version", ["1.34", "1.35", "1.36"])
@pytest.mark.parametrize(
    "addon", ["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"]
)
def test_every_known_pin_is_accepted(kubernetes_version, addon):
    known = known_addon_versions(addon, kubernetes_version)
    assert known
    for version in known:
        raw = minimal(kubernetesVersion=kubernetes_version, addons={addon: {"version": version}})
        spec = load_spec(raw, stack="test", source=SRC)
        assert spec.addons[addon].version == version  # type: ignore[index]


def test_a_pin_of_a_turned_off_addon_is_still_checked():
    # (coredns, vpc-cni and kube-proxy may not be off without Auto Mode; the EBS CSI driver may.)
    raw = minimal(addons={"aws-ebs-csi-driver": {"enabled": False, "version": "v1.0.0-eksbuild.1"}})
    one_error(raw, "addons.aws-ebs-csi-driver.version")


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
    raw = {
        **project_config_defaults(ROOT / "Pulumi.yaml"),
        **raw_config_from_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml"),
    }
    control = load_spec(raw, stack="prod", source="stacks/Pulumi.prod.yaml").control_plane
    assert control.deletion_protection is True
    assert control.upgrade_policy == "STANDARD"
    assert control.log_retention_days == 365


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_ebs_backup_identity_has_a_narrow_policy(stack):
    raw = {
        **project_config_defaults(ROOT / "Pulumi.yaml"),
        **raw_config_from_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml"),
    }
    spec = load_spec(raw, stack=stack, source=f"stacks/Pulumi.{stack}.yaml")
    (backup,) = [i for i in spec.identities if i.name == "ebs-backup"]
    assert backup.managed_policy_arns == []
    assert backup.policy is not None
    actions = {
        a
        for s in backup.policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "ec2:DescribeVolumes",
        "ec2:DescribeSnapshots",
        "ec2:CreateSnapshot",
        "ec2:CreateTags",
        "ec2:DeleteSnapshot",
    }
    # Writes are never on every resource.
    for statement in backup.policy["Statement"]:
        if statement["Action"] not in (["ec2:DescribeVolumes", "ec2:DescribeSnapshots"],):
            assert statement["Resource"] != "*", statement


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


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["1.34", "1.35", "1.36", "1.99", ""]),
    st.sampled_from(["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"]),
    st.one_of(st.from_regex(r"v1\.[0-9]{1,2}\.[0-9]-eksbuild\.[0-9]{1,2}", fullmatch=True), _values),
)
def test_any_addon_pin_loads_or_is_reported_in_lines(kubernetes_version, addon, version):
    _loads_or_reports(minimal(kubernetesVersion=kubernetes_version, addons={addon: {"version": version}}))
