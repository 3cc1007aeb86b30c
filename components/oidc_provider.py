"""`OidcProvider`: the IAM OIDC provider for a cluster's service-account token issuer (IRSA)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from eksgitops.components.arg_checks import ISSUER, TAGS, check_args
from eksgitops.components.iam_documents import STS_AUDIENCE, issuer_host_of


@dataclass
class OidcProviderArgs:
    """What an `OidcProvider` needs."""

    issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer (`https://oidc.eks.<region>.amazonaws.com/id/<ID>`); a bare host
    is accepted too."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
    """Tags on the provider, beside the provider's default tags; default none."""

    def __post_init__(self) -> None:
        check_args(self, {"issuer_url": ISSUER, "tags": TAGS})


class OidcProvider(pulumi.ComponentResource):
    """An `aws.iam.OpenIdConnectProvider` trusting the issuer for audience `sts.amazonaws.com`.

    No thumbprint: IAM trusts the issuer's CA for EKS issuers, and a pinned thumbprint would
    only break when the certificate rotates.
    """

    arn: pulumi.Output[str]
    """ARN of the provider: the `Federated` principal of IRSA trust policies."""
    issuer_url: pulumi.Output[str]
    """The issuer with its `https://` scheme."""
    issuer_host: pulumi.Output[str]
    """The issuer without a scheme: the prefix of IRSA condition keys (`<host>:sub`, `<host>:aud`)."""

    def __init__(self, name: str, args: OidcProviderArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:identity:OidcProvider", name, None, opts)
        host = pulumi.Output.from_input(args.issuer_url).apply(issuer_host_of)
        url = host.apply(lambda h: f"https://{h}")
        provider = aws.iam.OpenIdConnectProvider(
            name,
            url=url,
            client_id_lists=[STS_AUDIENCE],
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = provider.arn
        self.issuer_url = url
        self.issuer_host = host
        self.register_outputs(
            {"arn": self.arn, "issuer_url": self.issuer_url, "issuer_host": self.issuer_host}
        )
