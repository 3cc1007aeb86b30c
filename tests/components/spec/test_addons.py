"""The `addons` section: a pin EKS does not offer for the cluster's Kubernetes version is refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eksgitops.components.spec import SpecError, load_spec
from eksgitops.components.spec.data import known_addon_versions
from tests.components.spec.helpers import PREFIX, SRC, minimal, one_error

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
    st.sampled_from(["1.34", "1.35", "1.36", "1.99", ""]),
    st.sampled_from(["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"]),
    st.one_of(st.from_regex(r"v1\.[0-9]{1,2}\.[0-9]-eksbuild\.[0-9]{1,2}", fullmatch=True), _values),
)
def test_any_addon_pin_loads_or_is_reported_in_lines(kubernetes_version, addon, version):
    _loads_or_reports(minimal(kubernetesVersion=kubernetes_version, addons={addon: {"version": version}}))


# --- Auto Mode: no add-ons it already runs --------------------------------------------


def test_auto_mode_alone_installs_none_of_the_addons_it_runs_itself():
    spec = load_spec(minimal(nodeGroups=[], autoMode={"enabled": True}), stack="test", source=SRC)
    assert spec.enabled_addons() == {}
    # One turned on explicitly is still installed.
    raw = minimal(nodeGroups=[], autoMode={"enabled": True}, addons={"coredns": {"enabled": True}})
    assert set(load_spec(raw, stack="test", source=SRC).enabled_addons()) == {"coredns"}


def test_node_groups_beside_auto_mode_keep_every_addon():
    spec = load_spec(minimal(autoMode={"enabled": True}), stack="test", source=SRC)
    assert set(spec.enabled_addons()) == {
        "vpc-cni",
        "coredns",
        "kube-proxy",
        "eks-pod-identity-agent",
        "aws-ebs-csi-driver",
    }
