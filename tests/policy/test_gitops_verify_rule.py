"""GITOPS-VERIFY: a cluster with deletion protection on must verify what its agent applies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eksgitops.components.spec import load_spec
from eksgitops.components.spec.policy import WaiverSpec
from eksgitops.components.spec.read import stack_config
from eksgitops.policy.evaluate import RuleResult, evaluate, from_recorded
from eksgitops.policy.model import Resource
from tests.gitops_support import plan

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "aws:eks/cluster:Cluster"
INSTANCE = "kubernetes:fluxcd.controlplane.io/v1:FluxInstance"
RELEASE = "kubernetes:helm.sh/v3:Release"
PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
CAPABILITY = "aws:eks/capability:Capability"
SYNC = {
    "kind": "GitRepository",
    "url": "https://github.com/example/fleet.git",
    "ref": "refs/heads/main",
    "path": "x",
}
VERIFY_PATCH = {
    "patch": '[{"op": "add", "path": "/spec/verify", "value": {"mode": "HEAD", "secretRef": {"name": "k"}}}]',
    "target": {"kind": "GitRepository", "name": "flux-system"},
}


def res(type_: str, logical: str, **props: Any) -> Resource:
    return Resource(
        urn=f"urn:pulumi:prod::eksgitops::{type_}::{logical}", type=type_, name=logical, props=props
    )


def verdict(items: list[Resource], waivers: list[WaiverSpec] | None = None) -> RuleResult:
    return {r.rule.id: r for r in evaluate(items, waivers or []).results}["GITOPS-VERIFY"]


def cluster(protected: bool) -> Resource:
    return res(CLUSTER, "eks", deletionProtection=protected)


def flux(*patches: dict[str, Any]) -> Resource:
    return res(INSTANCE, "flux", spec={"sync": SYNC, "kustomize": {"patches": list(patches)}})


def test_flux_with_a_verified_sync_passes_and_without_fails_when_protected() -> None:
    assert verdict([cluster(True), flux(VERIFY_PATCH)]).status == "passed"
    bad = verdict([cluster(True), flux()])
    assert bad.status == "violated"
    assert "sync source is not verified" in bad.violations[0].message
    # A patch of a Deployment that mentions verify is not verification of the sync source.
    elsewhere = {**VERIFY_PATCH, "target": {"kind": "Deployment", "name": "source-controller"}}
    assert verdict([cluster(True), flux(elsewhere)]).status == "violated"


def test_a_cluster_without_deletion_protection_is_not_held_to_it() -> None:
    assert verdict([cluster(False), flux()]).status == "passed"


def test_argo_cd_needs_a_project_with_signature_keys() -> None:
    release = res(RELEASE, "argocd", chart="argo-cd", values={"configs": {}})
    assert verdict([cluster(True), release]).status == "violated"
    project = res(PROJECT, "root", spec={"signatureKeys": [{"keyID": "0123456789ABCDEF"}]})
    assert verdict([cluster(True), release, project]).status == "passed"


def test_the_managed_argo_cd_is_a_finding_waivable_with_a_reason() -> None:
    capability = res(CAPABILITY, "argocd", type="ARGOCD")
    bad = verdict([cluster(True), capability])
    assert bad.status == "violated" and "managed Argo CD" in bad.violations[0].message
    waiver = WaiverSpec.model_validate(
        {"rule": "GITOPS-VERIFY", "reason": "signatures are a required CI check (fleet verify)"},
        by_alias=True,
    )
    assert verdict([cluster(True), capability], [waiver]).status == "waived"


@pytest.fixture(scope="module")
def prod_raw() -> dict[str, Any]:
    return stack_config(ROOT / "stacks" / "Pulumi.prod.yaml", ROOT / "Pulumi.yaml")


def test_the_shipped_prod_stack_verifies_and_without_it_is_caught(prod_raw: dict[str, Any]) -> None:
    spec = load_spec(prod_raw, stack="prod", source="stacks/Pulumi.prod.yaml")
    assert spec.gitops.verify is not None
    assert verdict(from_recorded(plan(spec).resources)).status == "passed"
    unverified = {**prod_raw, "gitops": {k: v for k, v in prod_raw["gitops"].items() if k != "verify"}}
    resources = from_recorded(
        plan(load_spec(unverified, stack="prod", source="stacks/Pulumi.prod.yaml")).resources
    )
    assert verdict(resources).status == "violated"
    waiver = WaiverSpec.model_validate(
        {"rule": "GITOPS-VERIFY", "reason": "keys enrolled next sprint"}, by_alias=True
    )
    assert verdict(resources, [waiver]).status == "waived"
