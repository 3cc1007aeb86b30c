"""The IAM documents and names the identity roles are built from."""

from __future__ import annotations

import pytest

from eksgitops.components.iam_documents import (
    ROLE_NAME_MAX,
    irsa_trust_policy,
    issuer_host_of,
    pod_identity_trust_policy,
    role_name_for,
    validate_namespace,
    validate_policy_document,
    validate_service_account,
)

PROVIDER = "arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
HOST = "oidc.eks.us-east-1.amazonaws.com/id/ABC"


def test_irsa_trust_policy_pins_sub_and_aud_with_string_equals():
    assert irsa_trust_policy(PROVIDER, HOST, "flux-system", "source-controller") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{HOST}:sub": "system:serviceaccount:flux-system:source-controller",
                        f"{HOST}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def test_irsa_trust_policy_strips_the_issuer_scheme():
    with_scheme = irsa_trust_policy(PROVIDER, f"https://{HOST}/", "ns", "sa")
    assert with_scheme == irsa_trust_policy(PROVIDER, HOST, "ns", "sa")
    assert issuer_host_of(f"https://{HOST}") == HOST


@pytest.mark.parametrize(("namespace", "service_account"), [("*", "sa"), ("ns", "*"), ("Ns", "sa")])
def test_irsa_trust_policy_refuses_wildcards_and_bad_names(namespace, service_account):
    with pytest.raises(ValueError):
        irsa_trust_policy(PROVIDER, HOST, namespace, service_account)


def test_pod_identity_trust_policy_is_scoped_to_account_cluster_namespace_and_service_account():
    doc = pod_identity_trust_policy("111122223333", "prod", "backup", "ebs-backup")
    (statement,) = doc["Statement"]
    assert doc["Version"] == "2012-10-17"
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    # The session tags EKS Pod Identity sets (AWS docs, "Create IAM role with trust policy
    # required by EKS Pod Identity"), plus the source account.
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": "111122223333",
            "aws:RequestTag/eks-cluster-name": "prod",
            "aws:RequestTag/kubernetes-namespace": "backup",
            "aws:RequestTag/kubernetes-service-account": "ebs-backup",
        }
    }


@pytest.mark.parametrize(
    ("namespace", "service_account"), [("Backup", "sa"), ("backup", "bad_sa"), ("", "sa")]
)
def test_pod_identity_trust_policy_refuses_names_no_pod_could_have(namespace, service_account):
    with pytest.raises(ValueError):
        pod_identity_trust_policy("111122223333", "prod", namespace, service_account)


def test_role_name_for_short_names_are_joined():
    assert role_name_for("dev", "ebs-csi") == "dev-ebs-csi"


def test_role_name_for_long_names_are_cut_with_a_stable_hash():
    cluster = "a-very-long-cluster-name-for-the-production-environment"
    first = role_name_for(cluster, "external-dns-controller")
    second = role_name_for(cluster, "external-secrets-controller")
    assert len(first) <= ROLE_NAME_MAX and len(second) <= ROLE_NAME_MAX
    assert first != second
    assert first == role_name_for(cluster, "external-dns-controller")
    assert first.startswith("a-very-long-cluster-name")


def test_role_name_for_exactly_64_is_kept():
    name = role_name_for("c" * 31, "i" * 32)
    assert name == f"{'c' * 31}-{'i' * 32}" and len(name) == 64


def test_role_name_for_refuses_characters_iam_does_not_allow():
    with pytest.raises(ValueError, match="IAM allows"):
        role_name_for("dev", "my role")


@pytest.mark.parametrize("namespace", ["", "-ns", "ns-", "Ns", "n_s", "a" * 64, "a.b"])
def test_validate_namespace_refuses(namespace):
    with pytest.raises(ValueError, match="DNS-1123 label"):
        validate_namespace(namespace)


@pytest.mark.parametrize("service_account", ["", "Sa", "sa_", "a" * 254, "a..b"])
def test_validate_service_account_refuses(service_account):
    with pytest.raises(ValueError, match="DNS-1123 subdomain"):
        validate_service_account(service_account)


def test_validate_service_account_accepts_dots():
    validate_service_account("my.controller")
    validate_namespace("kube-system")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{}", "must be a dict"),
        ({"Version": "2012-10-17"}, "Statement"),
        ({"Statement": []}, "Statement"),
        ({"Statement": ["x"]}, r"Statement\[0\] must be a dict"),
    ],
)
def test_validate_policy_document_refuses(document, message):
    with pytest.raises(ValueError, match=message):
        validate_policy_document(document)


def test_validate_policy_document_judges_the_shape_not_the_grant():
    # What a statement grants is IAM-NO-WILDCARD-ADMIN's (tests/policy): one place only.
    validate_policy_document(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
            ],
        }
    )
    validate_policy_document({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}})
