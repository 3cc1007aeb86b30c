"""The GitOps agent rules over the Kubernetes objects and Helm releases a program declares.

The agent is installed by another component; these build the objects in the upstream shapes
(Flux's Git Secret keys, the Flux Operator's FluxInstance, Argo CD's repository Secrets and
argo-cd chart values) and check each rule passes the hardened form and catches the bad one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from eksgitops.policy.evaluate import evaluate
from eksgitops.policy.model import Resource

SECRET = "kubernetes:core/v1:Secret"
INSTANCE = "kubernetes:fluxcd.controlplane.io/v1:FluxInstance"
RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"
INLINE = "aws:iam/rolePolicy:RolePolicy"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
SOPS_KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def res(type_: str, logical: str, **props: Any) -> Resource:
    urn = f"urn:pulumi:dev::eksgitops::{type_}::{logical}"
    return Resource(urn=urn, type=type_, name=logical, props=props)


def flux_secret(**data: Any) -> Resource:
    return res(
        SECRET, "flux-system", metadata={"name": "flux-system", "namespace": "flux-system"}, stringData=data
    )


LOCKED_DOWN = {
    "cluster": {"type": "aws", "multitenant": True, "networkPolicy": True},
    "kustomize": {
        "patches": [
            {
                "target": {"kind": "Deployment", "name": "kustomize-controller"},
                "patch": "- op: add\n  path: /spec/template/spec/containers/0/args/-\n"
                "  value: --no-remote-bases=true",
            }
        ]
    },
}


# The FluxInstance spec the FluxAgent component registers (agent branch, flux_agent.py): the
# lockdown flags as kustomize patches instead of `cluster.multitenant`.
ARG = "- op: add\n  path: /spec/template/spec/containers/0/args/-\n  value: "
AGENT_SHAPE = {
    "cluster": {"multitenant": False, "networkPolicy": True, "type": "aws"},
    "components": ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"],
    "kustomize": {
        "patches": [
            {
                "patch": ARG + "--no-remote-bases=true\n",
                "target": {"kind": "Deployment", "name": "kustomize-controller"},
            },
            {
                "patch": ARG + "--no-cross-namespace-refs=true\n",
                "target": {
                    "kind": "Deployment",
                    "name": "(kustomize-controller|helm-controller|notification-controller|"
                    "image-reflector-controller|image-automation-controller)",
                },
            },
        ]
    },
}


def test_the_lockdown_as_controller_flags_passes_and_without_them_fails() -> None:
    verdict = {r.rule.id: r for r in evaluate([res(INSTANCE, "flux", spec=AGENT_SHAPE)]).results}[
        "FLUX-LOCKDOWN"
    ]
    assert verdict.status == "passed", verdict.violations
    relaxed = json.loads(json.dumps(AGENT_SHAPE))
    relaxed["kustomize"]["patches"].pop()  # the stack relaxed no-cross-namespace-refs
    verdict = {r.rule.id: r for r in evaluate([res(INSTANCE, "flux", spec=relaxed)]).results}["FLUX-LOCKDOWN"]
    assert [f.message for f in verdict.violations] == [
        "cross-namespace references allowed: neither spec.cluster.multitenant nor "
        "--no-cross-namespace-refs=true on the controllers"
    ]


def test_the_lockdown_covers_every_installed_controller_that_follows_references() -> None:
    # source-watcher (ArtifactGenerators) takes --no-cross-namespace-refs like the toolkit's.
    with_watcher = json.loads(json.dumps(AGENT_SHAPE))
    with_watcher["components"].append("source-watcher")
    verdict = {r.rule.id: r for r in evaluate([res(INSTANCE, "flux", spec=with_watcher)]).results}[
        "FLUX-LOCKDOWN"
    ]
    assert [f.message for f in verdict.violations] == [
        "source-watcher runs without --no-cross-namespace-refs=true"
    ]
    with_watcher["kustomize"]["patches"][1]["target"]["name"] = (
        "(kustomize-controller|helm-controller|notification-controller|"
        "image-reflector-controller|image-automation-controller|source-watcher)"
    )
    verdict = {r.rule.id: r for r in evaluate([res(INSTANCE, "flux", spec=with_watcher)]).results}[
        "FLUX-LOCKDOWN"
    ]
    assert verdict.status == "passed", verdict.violations


def sops(actions: list[str], resource: str = SOPS_KEY) -> list[Resource]:
    role = res(
        ROLE,
        "kc",
        name="eksgitops-dev-kustomize-controller",
        assumeRolePolicy=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "pods.eks.amazonaws.com"},
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                    }
                ]
            }
        ),
    )
    association = res(
        ASSOCIATION,
        "kc",
        namespace="flux-system",
        serviceAccount="kustomize-controller",
        roleArn="arn:aws:iam::000000000000:role/eksgitops-dev-kustomize-controller",
    )
    policy = res(
        INLINE,
        "kc-inline",
        role="eksgitops-dev-kustomize-controller",
        policy=json.dumps({"Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}),
    )
    return [role, association, policy, res(INSTANCE, "flux", spec=LOCKED_DOWN)]


def argo(cm: dict[str, Any], rbac: dict[str, Any]) -> list[Resource]:
    return [res(RELEASE, "argocd", chart="argo-cd", values={"configs": {"cm": cm, "rbac": rbac}})]


CASES: dict[str, tuple[str, list[Resource], list[Resource]]] = {
    # rule: (good, bad)
    "GIT-CREDS-SECRET": (
        "GIT-CREDS-SECRET",
        [flux_secret(identity="[secret]", known_hosts="github.com ssh-ed25519 AAAA")],
        [
            flux_secret(
                identity="-----BEGIN OPENSSH PRIVATE KEY-----", known_hosts="github.com ssh-ed25519 AAAA"
            )
        ],
    ),
    "GIT-SSH-KNOWN-HOSTS": (
        "GIT-SSH-KNOWN-HOSTS",
        [flux_secret(identity="[secret]", known_hosts="github.com ssh-ed25519 AAAA")],
        [flux_secret(identity="[secret]")],
    ),
    "GIT-READONLY": (
        "GIT-READONLY",
        [res("github:index/repositoryDeployKey:RepositoryDeployKey", "fleet", readOnly=True)],
        [res("github:index/repositoryDeployKey:RepositoryDeployKey", "fleet", readOnly=False)],
    ),
    "FLUX-LOCKDOWN": (
        "FLUX-LOCKDOWN",
        [res(INSTANCE, "flux", spec=LOCKED_DOWN)],
        [res(INSTANCE, "flux", spec={"cluster": {"type": "aws"}})],
    ),
    "FLUX-SOPS": ("FLUX-SOPS", sops(["kms:Decrypt", "kms:DescribeKey"]), sops(["kms:*"], "*")),
    "ARGO-HARDEN": (
        "ARGO-HARDEN",
        argo({"admin.enabled": "false", "oidc.config": "issuer: x"}, {"policy.default": "role:readonly"}),
        argo({"oidc.config": "issuer: x"}, {"policy.default": "role:admin"}),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_gitops_rule_passes_the_hardened_form_and_catches_the_bad_one(case: str) -> None:
    rule, good, bad = CASES[case]
    verdict = {r.rule.id: r for r in evaluate(good).results}[rule]
    assert verdict.status == "passed", verdict.violations
    verdict = {r.rule.id: r for r in evaluate(bad).results}[rule]
    assert verdict.status == "violated"


def test_without_an_agent_the_gitops_rules_are_not_applicable() -> None:
    statuses = {r.rule.id: r.status for r in evaluate([]).results}
    for rule in CASES:
        assert statuses[rule] == "not-applicable"


def test_image_automation_allows_a_deploy_key_that_pushes() -> None:
    items = [
        res("github:index/repositoryDeployKey:RepositoryDeployKey", "fleet", readOnly=False),
        res(
            INSTANCE,
            "flux",
            spec={**LOCKED_DOWN, "components": ["source-controller", "image-automation-controller"]},
        ),
    ]
    assert {r.rule.id: r.status for r in evaluate(items).results}["GIT-READONLY"] == "passed"
