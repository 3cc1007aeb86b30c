"""The settings inside the `gitops` section: credentials, versions, SOPS, notifications, sign-in.

`components.spec.gitops` puts them together in `GitOpsSpec`; the patterns and pinned
versions they share live here, so both modules read them from one place.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from components.spec.base import SecretValue, SpecModel
from components.spec.data import region_partition
from components.spec.errors import SpecValueError
from components.spec.syntax import check, context_value, region_name, same_partition

SSH_SCP = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!/)[^\s]+")
SSH_URL = re.compile(r"ssh://([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:\d+)?/[^\s]+")
HTTPS_URL = re.compile(r"https://(?P<userinfo>[^@/\s]+@)?[A-Za-z0-9.-]+(:\d+)?/[^\s]+")
# An ECR repository as an OCI address: the only OCI registry the cluster's own IAM identity
# can read without a pull secret.
ECR_OCI_URL = re.compile(
    r"oci://(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
    r"[a-z0-9]+(?:[._/-][a-z0-9]+)*"
)
# Flux's duration fields (FluxInstance spec.sync.interval and friends).
GO_DURATION = re.compile(r"([0-9]+(\.[0-9]+)?(ms|s|m|h))+")
EXACT_VERSION = re.compile(r"v?[0-9]+\.[0-9]+\.[0-9]+")
OCI_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")

# Pinned upstream versions (the CRDs in the shared crds/ folder come from these releases).
FLUX_OPERATOR_CHART_VERSION = "0.58.1"
"""oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator; chart version = operator version."""
FLUX_VERSION = "2.9.4"
"""The Flux distribution the FluxInstance installs (flux2 release)."""
ARGOCD_CHART_VERSION = "10.1.1"
"""The argo-helm `argo-cd` chart."""


def matches(pattern: str | re.Pattern[str], what: str, allowed: str) -> AfterValidator:
    """An `Annotated` check that a string (or None) fully matches: `the string "…" is not <what>`."""
    return check(
        lambda v: v is None or bool(re.fullmatch(pattern, v)),
        lambda v: f'the string "{v}" is not {what}',
        allowed,
    )


ExactVersion = Annotated[
    str,
    matches(
        EXACT_VERSION,
        "an exact version",
        "an exact version such as 2.9.4 (a rebuild must install what was tested)",
    ),
]


# GitHub's ids are positive 64-bit integers, and Flux keeps them in a Secret as their text.
GitHubId = Annotated[
    int,
    check(
        lambda v: 1 <= v <= 2**63 - 1,
        lambda v: f"the number {v} is not a GitHub id",
        "a positive whole number below 2^63, as GitHub shows it",
    ),
]


def _region_of_partition(value: str | None, info: ValidationInfo) -> str | None:
    if value is not None:
        region_name(value)
        region = context_value(info, "region")
        if region and region_partition(value) != region_partition(region):
            raise SpecValueError(
                f'"{value}" is in partition {region_partition(value)}, the cluster\'s region {region} '
                f"in {region_partition(region)}",
                f"a region of partition {region_partition(region)}",
            )
    return value


def _key_in_partition(value: str | None, info: ValidationInfo) -> str | None:
    if value is not None:
        region = value.split(":")[3]
        try:
            _region_of_partition(region, info)
        except SpecValueError as err:
            raise SpecValueError(f"the key's region {err.what}", err.allowed) from None
        same_partition(value.split(":")[1], info)
    return value


class GitCredentialsSpec(SpecModel):
    """How the agent authenticates to a private Git repository (GIT-CREDS-SECRET)."""

    type: Literal["ssh", "https", "github-app"]
    """ssh (deploy key + known hosts), https (username + token) or github-app (GitHub App)."""
    private_key: SecretValue | None = None
    """ssh: the PEM/OpenSSH private key; github-app: the App's PEM private key. A Pulumi secret."""
    known_hosts: str | None = None
    """ssh: the server's host keys in known_hosts format (pinned, GIT-SSH-KNOWN-HOSTS)."""
    username: str = "git"
    """https: the user name sent with the token (GitHub ignores it; GitLab wants e.g. oauth2)."""
    token: SecretValue | None = None
    """https: a personal/project access token or password. A Pulumi secret."""
    app_id: GitHubId | None = None
    """github-app: the GitHub App id."""
    installation_id: GitHubId | None = None
    """github-app: the installation id of the App on the fleet repository's organisation."""
    read_only: bool = True
    """The key/token can only read (GIT-READONLY); set false only for image automation."""

    @model_validator(mode="after")
    def _fields_of_the_type(self) -> GitCredentialsSpec:
        need: dict[str, tuple[str, ...]] = {
            "ssh": ("privateKey", "knownHosts"),
            "https": ("token",),
            "github-app": ("appId", "installationId", "privateKey"),
        }
        values = {
            "privateKey": self.private_key,
            "knownHosts": self.known_hosts,
            "token": self.token,
            "appId": self.app_id,
            "installationId": self.installation_id,
        }
        for key in need[self.type]:
            if values[key] is None or values[key] == "":
                what = f"is required with type {self.type}"
                if key == "knownHosts":
                    what += " (SSH without pinned host keys trusts any server)"
                allowed = "set it" + (" as a Pulumi secret" if key in ("privateKey", "token") else "")
                raise SpecValueError(what, allowed, at=(key,))
        for key, value in values.items():
            if value is not None and key not in need[self.type]:
                raise SpecValueError(
                    f"does not belong to type {self.type}",
                    f"with type {self.type}: {', '.join(need[self.type])}",
                    at=(key,),
                )
        return self


class VersionsSpec(SpecModel):
    """Pinned versions of what the agent installs (exact versions; no ranges, no latest)."""

    flux_operator: ExactVersion = FLUX_OPERATOR_CHART_VERSION
    """Flux Operator Helm chart (oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator)."""
    flux: ExactVersion = FLUX_VERSION
    """Flux distribution the FluxInstance installs."""
    argocd_chart: ExactVersion = ARGOCD_CHART_VERSION
    """argo-helm argo-cd chart."""


class SopsSpec(SpecModel):
    """SOPS decryption of the fleet's encrypted Secrets with one KMS key (FLUX-SOPS)."""

    enabled: bool = False
    """Let kustomize-controller decrypt with the key (through its Pod Identity)."""
    kms_key_arn: Annotated[
        str | None,
        matches(
            r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+",
            "a KMS key ARN",
            "arn:aws:kms:<region>:<account>:key/<key id> (an alias ARN does not grant decrypt)",
        ),
        AfterValidator(_key_in_partition),
    ] = None
    """An existing KMS key ARN; unset creates one with the platform (kept on delete)."""


class NotificationsSpec(SpecModel):
    """Where Flux sends reconciliation alerts (the scaffold's Provider reads the address)."""

    type: Literal["slack", "msteams", "generic"]
    """Slack, Microsoft Teams or a generic webhook."""
    address: SecretValue
    """The webhook URL: it carries a token, so a Pulumi secret."""


class ArgoCdSsoSpec(SpecModel):
    """OIDC single sign-on for Argo CD; with it the local admin user is disabled (ARGO-HARDEN)."""

    issuer: str
    """The OIDC issuer URL (https://…)."""
    client_id: str
    """The OIDC client id."""
    client_secret: SecretValue
    """The OIDC client secret, a Pulumi secret."""

    @field_validator("issuer")
    @classmethod
    def _https(cls, issuer: str) -> str:
        if not HTTPS_URL.fullmatch(issuer + ("" if issuer.count("/") > 2 else "/x")):
            raise SpecValueError(f'the string "{issuer}" is not an https:// URL', "https://idp.example.com")
        return issuer


class EksArgoCdSpec(SpecModel):
    """AWS's managed Argo CD (EKS capability): sign-in through IAM Identity Center."""

    identity_center_instance_arn: Annotated[
        str | None,
        matches(
            r"arn:aws[a-z-]*:sso:::instance/ssoins-[a-f0-9]{16}",
            "an IAM Identity Center instance ARN",
            "arn:aws:sso:::instance/ssoins-<16 hex digits>",
        ),
    ] = None
    """arn:aws:sso:::instance/ssoins-…; required with agent eks-argocd."""
    identity_center_region: Annotated[str | None, AfterValidator(_region_of_partition)] = None
    """Region of the Identity Center instance; unset means the cluster's region."""
    admin_group_ids: list[str] = Field(default_factory=list)
    """Identity Center group ids mapped to Argo CD's ADMIN role."""
    viewer_group_ids: list[str] = Field(default_factory=list)
    """Identity Center group ids mapped to Argo CD's VIEWER role."""
