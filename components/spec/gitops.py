"""The `gitops` section of the environment spec: which agent pulls the fleet, from where, how.

Its checks are pydantic validators that raise `SpecValueError`, so a mistake ends in the
same one-line form as every other key of the spec. Credentials (SSH key, HTTPS token,
GitHub App key, notification address) are `SecretValue`s: they arrive only as Pulumi
secrets (`{secure: …}`), and the components turn them into `pulumi.Output.secret`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from components.spec.base import SecretValue, SpecModel
from components.spec.errors import SpecValueError
from components.spec.syntax import check

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

Agent = Literal["flux", "argocd", "eks-argocd", "none"]


def _matches(pattern: str | re.Pattern[str], what: str, allowed: str) -> AfterValidator:
    """An `Annotated` check that a string (or None) fully matches: `the string "…" is not <what>`."""
    return check(
        lambda v: v is None or bool(re.fullmatch(pattern, v)),
        lambda v: f'the string "{v}" is not {what}',
        allowed,
    )


ExactVersion = Annotated[
    str,
    _matches(
        EXACT_VERSION,
        "an exact version",
        "an exact version such as 2.9.4 (a rebuild must install what was tested)",
    ),
]


def valid_ref_name(name: str) -> bool:
    """Git's check-ref-format rules for a branch name."""
    if not name or name == "@" or name.startswith(("/", "-")) or name.endswith(("/", ".", ".lock")):
        return False
    if ".." in name or "//" in name or "@{" in name:
        return False
    if any(ord(c) < 0x20 or c in " ~^:?*[\\\x7f" for c in name):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


def url_scheme(url: str) -> Literal["https", "ssh", "oci", "other"]:
    """How the agent reaches a repository URL."""
    if url.startswith("https://"):
        return "https"
    if url.startswith("ssh://") or SSH_SCP.fullmatch(url):
        return "ssh"
    if url.startswith("oci://"):
        return "oci"
    return "other"


def flux_git_url(url: str) -> str:
    """The fleet URL as Flux's GitRepository takes it: an scp-style `user@host:path` as
    `ssh://user@host/path`, anything else unchanged.

    The GitRepository schema only accepts http://, https:// and ssh:// URLs, so an scp-style
    address would be refused by the API server and Flux would never sync. The two name the
    same repository on the Git hosts fleets live on (GitHub, GitLab, Bitbucket, Gitea), whose
    scp paths are relative to the host's root.
    """
    if "://" not in url and SSH_SCP.fullmatch(url):
        user_host, path = url.split(":", 1)
        return f"ssh://{user_host}/{path}"
    return url


def url_host(url: str) -> str:
    """The host of an https://, ssh:// or scp-like (git@host:path) URL, lower-cased."""
    if SSH_SCP.fullmatch(url) and "://" not in url:
        return url.split("@", 1)[1].split(":", 1)[0].lower()
    return (urlsplit(url).hostname or "").lower()


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
    app_id: int | None = None
    """github-app: the GitHub App id."""
    installation_id: int | None = None
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
        _matches(
            r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+",
            "a KMS key ARN",
            "arn:aws:kms:<region>:<account>:key/<key id> (an alias ARN does not grant decrypt)",
        ),
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
        _matches(
            r"arn:aws[a-z-]*:sso:::instance/ssoins-[a-f0-9]{16}",
            "an IAM Identity Center instance ARN",
            "arn:aws:sso:::instance/ssoins-<16 hex digits>",
        ),
    ] = None
    """arn:aws:sso:::instance/ssoins-…; required with agent eks-argocd."""
    identity_center_region: str | None = None
    """Region of the Identity Center instance; unset means the cluster's region."""
    admin_group_ids: list[str] = Field(default_factory=list)
    """Identity Center group ids mapped to Argo CD's ADMIN role."""
    viewer_group_ids: list[str] = Field(default_factory=list)
    """Identity Center group ids mapped to Argo CD's VIEWER role."""


class GitOpsSpec(SpecModel):
    """Which GitOps agent the cluster runs and where it pulls the fleet from."""

    agent: Agent = "flux"
    """flux (Flux Operator, default), argocd (argo-helm chart), eks-argocd (EKS managed
    Argo CD capability) or none (a cluster with no agent)."""
    repo_url: str | None = None
    """The fleet: https://… or SSH (git@host:path, ssh://…); with source oci an ECR address
    oci://<account>.dkr.ecr.<region>.amazonaws.com/<repo>. No credentials in the URL.
    Required unless agent is none."""
    branch: Annotated[
        str,
        check(
            valid_ref_name,
            lambda v: f'the string "{v}" is not a valid Git branch name',
            "a name git check-ref-format accepts, e.g. main or release/1.2",
        ),
    ] = "main"
    """Branch the agent follows (a valid Git ref name)."""
    path: str | None = None
    """Relative path in the fleet repo; load_spec fills in clusters/<stack> when unset."""
    source: Literal["git", "oci"] = "git"
    """git (default) or oci: an OCI artifact in ECR pulled with the cluster's IAM identity
    (Flux only), so no Git credentials live in the cluster."""
    oci_tag: Annotated[str, _matches(OCI_TAG, "an OCI tag", "e.g. latest, main or v1.2.3")] = "latest"
    """source oci: the artifact tag the agent follows."""
    credentials: GitCredentialsSpec | None = None
    """How to authenticate to a private repository; unset for a public one."""
    interval: Annotated[
        str, _matches(GO_DURATION, "a duration", "a Go duration such as 30s, 1m or 1h30m")
    ] = "1m"
    """How often the agent checks the source (Go duration: 30s, 1m, 1h30m)."""
    webhook_receiver: bool = False
    """Flux: a Receiver so a push reconciles in seconds rather than at the next interval."""
    webhook_token: SecretValue | None = None
    """The Receiver's shared secret (the Git host signs its webhook with it); a Pulumi secret,
    required with webhookReceiver."""
    image_automation: bool = False
    """Flux: image-reflector and image-automation controllers (writes tags back to Git)."""
    artifact_generators: bool = False
    """Flux: install source-watcher, for fleets that use ArtifactGenerators."""
    sops: SopsSpec = Field(default_factory=SopsSpec)
    """Flux: SOPS decryption with one KMS key."""
    notifications: NotificationsSpec | None = None
    """Flux: the webhook the fleet's alert Provider posts to (Secret flux-system/alerts-webhook)."""
    cross_namespace_refs: bool = False
    """Flux: relax FLUX-LOCKDOWN and let objects refer to sources in other namespaces. Off by
    default (the controllers run with --no-cross-namespace-refs); the plan shows it when on."""
    wait_for_sync: bool = False
    """Flux: `pulumi up` waits for the FluxInstance to be Ready (the controllers up, the fleet
    fetched and its cluster path applied) and fails when it is not within the timeout."""
    versions: VersionsSpec = Field(default_factory=VersionsSpec)
    """Pinned versions of the Flux Operator chart, Flux and the argo-cd chart."""
    argocd_sso: ArgoCdSsoSpec | None = None
    """agent argocd: OIDC sign-in; with it the admin user is disabled."""
    eks_argocd: EksArgoCdSpec = Field(default_factory=EksArgoCdSpec)
    """agent eks-argocd: Identity Center settings of the managed capability."""

    @field_validator("repo_url")
    @classmethod
    def _repo_url(cls, url: str | None) -> str | None:
        if url is None:
            return url
        https = HTTPS_URL.fullmatch(url)
        if (https and https["userinfo"]) or re.match(r"(ssh|oci)://[^/@\s]*:[^/@\s]*@", url):
            raise SpecValueError(
                "carries credentials in the URL",
                "a URL without user:password@; credentials go in a Pulumi secret",
            )
        if not (https or SSH_SCP.fullmatch(url) or SSH_URL.fullmatch(url) or url.startswith("oci://")):
            raise SpecValueError(
                f'the string "{url}" is neither an https:// nor an SSH Git URL',
                "https://host/org/repo.git, git@host:org/repo.git, ssh://git@host/org/repo.git "
                "or, with source oci, oci://<account>.dkr.ecr.<region>.amazonaws.com/<repo>",
            )
        return url

    @field_validator("path")
    @classmethod
    def _path(cls, path: str | None) -> str | None:
        if path is None:
            return path
        parts = path.replace("\\", "/").split("/")
        if not path or path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path):
            raise SpecValueError(f'the string "{path}" is not a relative path', "a path like clusters/dev")
        if ".." in parts:
            raise SpecValueError(f'the string "{path}" climbs out with ..', "a path inside the repo")
        return path

    @model_validator(mode="after")
    def _consistent(self) -> GitOpsSpec:
        # One mistake at a time, in the order a reader fixes them: agent, source, URL, credentials.
        flux_only = "a Flux feature; with agent argocd or eks-argocd leave it unset"
        if self.agent == "none":
            for key, on in (
                ("repoUrl", self.repo_url is not None),
                ("credentials", self.credentials is not None),
                ("webhookReceiver", self.webhook_receiver),
                ("imageAutomation", self.image_automation),
                ("sops", self.sops.enabled),
                ("notifications", self.notifications is not None),
                ("waitForSync", self.wait_for_sync),
            ):
                if on:
                    raise SpecValueError(
                        "is set, but agent none installs no agent", "remove it, or choose an agent", at=(key,)
                    )
            return self
        if self.repo_url is None:
            raise SpecValueError(
                f"is required with agent {self.agent}",
                "the fleet repository's URL, or agent none",
                at=("repoUrl",),
            )
        argo = self.agent in ("argocd", "eks-argocd")
        if argo:
            if self.source == "oci":
                raise SpecValueError(
                    f"oci is Flux only (agent is {self.agent})", "source git, or agent flux", at=("source",)
                )
            for key, on in (
                ("webhookReceiver", self.webhook_receiver),
                ("imageAutomation", self.image_automation),
                ("artifactGenerators", self.artifact_generators),
                ("crossNamespaceRefs", self.cross_namespace_refs),
                ("sops", self.sops.enabled),
                ("notifications", self.notifications is not None),
                ("waitForSync", self.wait_for_sync),
            ):
                if on:
                    raise SpecValueError(f"is on with agent {self.agent}", flux_only, at=(key,))
        if "eks_argocd" in self.model_fields_set and self.agent != "eks-argocd":
            raise SpecValueError(
                f"is set with agent {self.agent}", "only agent eks-argocd uses it", at=("eksArgocd",)
            )
        if "oci_tag" in self.model_fields_set and self.source != "oci":
            raise SpecValueError(
                "is set but source is git", "source oci, or remove it (git follows branch)", at=("ociTag",)
            )
        if "branch" in self.model_fields_set and self.source == "oci":
            raise SpecValueError(
                "is set but source is oci", "ociTag (an OCI artifact has tags, not branches)", at=("branch",)
            )
        if self.argocd_sso is not None and self.agent != "argocd":
            raise SpecValueError(
                f"is set with agent {self.agent}", "only agent argocd uses it", at=("argocdSso",)
            )
        if self.agent == "eks-argocd" and self.eks_argocd.identity_center_instance_arn is None:
            raise SpecValueError(
                "is required with agent eks-argocd (the managed Argo CD signs users in through it)",
                "arn:aws:sso:::instance/ssoins-<16 hex digits>",
                at=("eksArgocd", "identityCenterInstanceArn"),
            )
        if self.webhook_receiver and self.webhook_token is None:
            raise SpecValueError(
                "is required with webhookReceiver (the Git host signs its calls with it)",
                "a random string set with pulumi config set --secret --path 'eksgitops:gitops.webhookToken'",
                at=("webhookToken",),
            )
        if self.webhook_token is not None and not self.webhook_receiver:
            raise SpecValueError(
                "is set but webhookReceiver is off",
                "webhookReceiver: true, or remove it",
                at=("webhookToken",),
            )
        scheme = url_scheme(self.repo_url)
        if self.source == "oci":
            if not ECR_OCI_URL.fullmatch(self.repo_url):
                raise SpecValueError(
                    f'the string "{self.repo_url}" is not an ECR OCI address (source is oci)',
                    "oci://<account>.dkr.ecr.<region>.amazonaws.com/<repo>",
                    at=("repoUrl",),
                )
            if self.credentials is not None:
                raise SpecValueError(
                    "are set with source oci",
                    "none: the OCI artifact is pulled with the cluster's own IAM identity",
                    at=("credentials",),
                )
            if self.image_automation:
                raise SpecValueError(
                    "is on with source oci",
                    "source git: image automation commits to Git",
                    at=("imageAutomation",),
                )
            return self
        if scheme == "oci":
            raise SpecValueError(
                "is an oci:// address but source is git", "source oci, or a Git URL", at=("repoUrl",)
            )
        creds = self.credentials
        if creds is not None:
            if creds.type == "ssh" and scheme != "ssh":
                raise SpecValueError(
                    f"ssh credentials with the {scheme} URL {self.repo_url}",
                    "an SSH URL (git@host:org/repo.git or ssh://…), or https credentials",
                    at=("credentials", "type"),
                )
            if creds.type in ("https", "github-app") and scheme != "https":
                raise SpecValueError(
                    f"{creds.type} credentials with the SSH URL {self.repo_url}",
                    "an https:// URL, or ssh credentials",
                    at=("credentials", "type"),
                )
            if creds.type == "github-app" and url_host(self.repo_url) != "github.com":
                raise SpecValueError(
                    f"github-app credentials with a repository on {url_host(self.repo_url)}",
                    "a https://github.com/… URL, or ssh/https credentials",
                    at=("credentials", "type"),
                )
        if creds is None and scheme == "ssh":
            raise SpecValueError(
                f"is the SSH URL {self.repo_url}, but there are no credentials",
                "ssh credentials (privateKey and knownHosts), or an https:// URL for a public repository",
                at=("repoUrl",),
            )
        if creds is not None and not creds.read_only and not self.image_automation:
            raise SpecValueError(
                "is false, but image automation is off: nothing in the cluster writes to Git",
                "readOnly: true with a read-only deploy key or token (GIT-READONLY)",
                at=("credentials", "readOnly"),
            )
        if self.image_automation and (creds is None or creds.read_only):
            raise SpecValueError(
                "is on, but the credentials are read-only"
                if creds
                else "is on, but there are no credentials",
                "credentials with readOnly: false (image automation pushes commits)",
                at=("imageAutomation",),
            )
        return self
