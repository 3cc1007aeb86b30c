"""The `gitops` section of the environment spec: which agent pulls the fleet, from where, how.

Its checks are pydantic validators that raise `SpecValueError`, so a mistake ends in the
same one-line form as every other key of the spec. Credentials (SSH key, HTTPS token,
GitHub App key, notification address) are `SecretValue`s: they arrive only as Pulumi
secrets (`{secure: …}`), and the components turn them into `pulumi.Output.secret`.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from eksgitops.components.spec.base import SecretValue, SpecModel
from eksgitops.components.spec.errors import SpecValueError
from eksgitops.components.spec.gitops_settings import (
    ARGOCD_CHART_VERSION,
    ECR_OCI_URL,
    FLUX_OPERATOR_CHART_VERSION,
    FLUX_VERSION,
    GO_DURATION,
    HTTPS_URL,
    OCI_TAG,
    SSH_SCP,
    SSH_URL,
    ArgoCdSsoSpec,
    EksArgoCdSpec,
    GitCredentialsSpec,
    NotificationsSpec,
    SopsSpec,
    VersionsSpec,
    matches,
)
from eksgitops.components.spec.gitops_verify import VerifySpec, check_verify
from eksgitops.components.spec.syntax import check

__all__ = [
    "ARGOCD_CHART_VERSION",
    "ECR_OCI_URL",
    "FLUX_OPERATOR_CHART_VERSION",
    "FLUX_VERSION",
    "GitCredentialsSpec",
    "GitOpsSpec",
    "url_host",
    "url_scheme",
    "valid_ref_name",
]

Agent = Literal["flux", "argocd", "eks-argocd", "none"]


def valid_ref_name(name: str) -> bool:
    """Git's check-ref-format rules for a branch name."""
    # `git check-ref-format --branch` also refuses HEAD, which would name the checkout itself.
    if not name or name in ("@", "HEAD") or name.startswith(("/", "-")) or name.endswith(("/", ".", ".lock")):
        return False
    if ".." in name or "//" in name or "@{" in name:
        return False
    if any(ord(c) < 0x20 or c in " ~^:?*[\\\x7f" for c in name):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


# Go's time.Duration is int64 nanoseconds: 2562047h47m16.854775807s is the longest.
MAX_GO_DURATION = 2**63 - 1
_UNIT_NANOSECONDS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def duration_nanoseconds(text: str) -> int:
    """A Go duration (as GO_DURATION matches it) in nanoseconds, exact for the decimal parts."""
    total = Fraction(0)
    for number, unit in re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)", text):
        total += Fraction(number) * _UNIT_NANOSECONDS[unit]
    return int(total)


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
    oci_tag: Annotated[str, matches(OCI_TAG, "an OCI tag", "e.g. latest, main or v1.2.3")] = "latest"
    """source oci: the artifact tag the agent follows."""
    credentials: GitCredentialsSpec | None = None
    """How to authenticate to a private repository; unset for a public one."""
    interval: Annotated[
        str,
        matches(GO_DURATION, "a duration", "a Go duration such as 30s, 1m or 1h30m"),
        check(
            lambda v: duration_nanoseconds(v) <= MAX_GO_DURATION,
            lambda v: f'the string "{v}" is longer than a Go duration can be',
            "at most 2562047h47m16s (Flux reads the interval as a Go time.Duration, int64 nanoseconds)",
        ),
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
    verify: VerifySpec | None = None
    """Signatures the agent requires before it applies a revision (docs/signing.md)."""

    @field_validator("repo_url")
    @classmethod
    def _repo_url(cls, url: str | None) -> str | None:
        if url is None:
            return url
        user_or_host = re.sub(r"^[a-z]+://", "", url)
        if url.startswith("-") or user_or_host.startswith("-") or "@-" in url:
            # git and ssh read an argument that starts with '-' as an option (--upload-pack=…,
            # -oProxyCommand=…), so such a URL runs a command rather than naming a repository.
            raise SpecValueError(
                f'the string "{url}" starts like a command-line option',
                "a URL whose scheme, user and host start with a letter or digit, "
                "e.g. https://github.com/org/fleet.git",
            )
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
    def _verify_fits(self) -> GitOpsSpec:
        if self.verify is not None:
            try:
                check_verify(self.verify, self.agent, self.source)
            except SpecValueError as err:
                raise SpecValueError(err.what, err.allowed, at=("verify", *err.at)) from None
        return self

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
