"""The `access` section: who may use the cluster, through EKS access entries."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo
from pydantic import model_validator as _model_validator

from eksgitops.components.spec import rules
from eksgitops.components.spec.base import (
    SpecModel,
)
from eksgitops.components.spec.data import access_policies, access_policies_for_people
from eksgitops.components.spec.syntax import (
    ACCESS_POLICY_ARN,
    CLUSTER_ADMIN_POLICY,
    Namespace,
    fail,
    fmt,
    no_repeats,
    same_partition,
    unique,
)

after = _model_validator(mode="after")


def _principal_arn(value: str, info: ValidationInfo) -> str:
    match = rules.principal_arn(value)
    same_partition(match["partition"], info)
    return value


def _access_policy(value: str, info: ValidationInfo) -> str:
    # EKS refuses an association with an ARN that is not one of its access policies, and
    # there is no such thing as a policy of one's own (components/data/eks_access_policies.json).
    allowed = (
        "one of "
        + ", ".join(access_policies_for_people())
        + ", or arn:<partition>:eks::aws:cluster-access-policy/<name> of another EKS access policy "
        "(components/data/eks_access_policies.json)"
    )
    match = ACCESS_POLICY_ARN.fullmatch(value)
    name = match["name"] if match else value
    if name not in access_policies():
        raise fail(f"{fmt(value)} is not an EKS access policy", allowed)
    if match:
        same_partition(match["partition"], info)
    return value


class AccessEntrySpec(SpecModel):
    """One principal granted cluster access through an EKS access entry."""

    principal_arn: Annotated[str, AfterValidator(_principal_arn)]
    """IAM role or user ARN granted access."""
    policy: Annotated[str, AfterValidator(_access_policy)] = CLUSTER_ADMIN_POLICY
    """EKS access policy: a short name (AmazonEKSClusterAdminPolicy, AmazonEKSAdminPolicy,
    AmazonEKSEditPolicy, AmazonEKSViewPolicy) or its full arn:aws:eks::aws:cluster-access-policy/ ARN."""
    namespaces: Annotated[list[Namespace], unique("namespace")] = Field(default_factory=list)
    """Scope: empty means the whole cluster, otherwise these namespaces."""

    @property
    def policy_arn(self) -> str:
        """The access policy as a full ARN."""
        if self.policy.startswith("arn:"):
            return self.policy
        # A short name lives in the stack's partition; the principal's ARN is already held to
        # the region's partition, so it says which (aws-cn and aws-us-gov clusters need theirs).
        partition = self.principal_arn.split(":", 2)[1]
        return f"arn:{partition}:eks::aws:cluster-access-policy/{self.policy}"


class AccessSpec(SpecModel):
    """How people authenticate to the cluster (checklist EKS-ACCESS)."""

    authentication_mode: Literal["API"] = "API"
    """API: access entries only. API_AND_CONFIG_MAP is refused: pulumi-eks would write the
    aws-auth ConfigMap with the deployer's credentials (docs/configuration.md)."""
    entries: Annotated[
        list[AccessEntrySpec],
        # IAM names are unique regardless of case (Role and role are one role), so two entries
        # that differ only by case are two access entries for one principal: EKS refuses the second.
        no_repeats(
            lambda e: e.principal_arn.lower(),
            "has two entries for {} (IAM names ignore case)".format,
            "one access entry per principal",
        ),
    ] = Field(default_factory=list)
    """Admins and other principals, each through an explicit access entry."""
