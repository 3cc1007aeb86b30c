"""`eksgitops init ENV`: write a first stack file that plans cleanly.

The file is the smallest complete environment: region (twice, as the AWS provider and the spec
each read theirs), the account pinned for the AWS provider, one cluster-admin access entry, a
private API endpoint (public only for the CIDRs given), one managed node group and the GitOps
agent pointed at the fleet repository. Every value is commented with where to read more, and
the result goes through the same validation as `eksgitops plan` before it is written: a
mistake names the flag, and nothing is written. An existing file is never overwritten.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tempfile
from pathlib import Path
from typing import Annotated, Literal, get_args

import typer

from eksgitops import cli_params as P
from eksgitops.cli_params import checked
from eksgitops.components.spec import SpecError, load_spec
from eksgitops.components.spec.data import offered_kubernetes_versions
from eksgitops.components.spec.read.stack_file import stack_config
from eksgitops.fleet.layout import scaffold_identities_yaml

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
ACCOUNT = re.compile(r"^[0-9]{12}$")
PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>[0-9]{12}):(role|user)/[\w+=,.@/-]+$")
Agent = Literal["flux", "argocd", "eks-argocd"]
AGENTS = get_args(Agent)
# Which flag set which key, so that a spec error names what the user typed.
FLAG_FOR_KEY = {
    "region": "--region",
    "gitops.repoUrl": "--fleet-repo",
    "gitops.agent": "--agent",
    "access.entries[0].principalArn": "--admin-principal",
    "endpoint.publicAccessCidrs": "--public-cidr",
}

TEMPLATE = """\
# {env}: written by `eksgitops init`. Edit it freely: docs/configuration.md describes every key.
# Check it offline with `eksgitops plan {env}`; then `pulumi stack init {env}` and `pulumi up`.
config:
  # The AWS provider's region and the spec's: the same region, both required.
  aws:region: {region}
  eksgitops:region: {region}
  # The AWS provider refuses to act in any other account (a wrong AWS_PROFILE stops here).
  aws:allowedAccountIds: ["{account}"]
  # Quoted: unquoted, YAML reads 1.30-style versions as numbers. Add-ons follow this version.
  eksgitops:kubernetesVersion: "{version}"
  # A new VPC over {az_count} availability zones, a NAT gateway in each.
  eksgitops:network:
    vpcCidr: 10.0.0.0/16
    azCount: {az_count}
  # The API endpoint: {endpoint_comment}
  eksgitops:endpoint:
    privateAccess: true
    publicAccess: {public}
{cidrs}  # Who administers the cluster: the creator gets no implicit admin entry.
  eksgitops:access:
    authenticationMode: API
    entries:
      - principalArn: {principal}
        policy: AmazonEKSClusterAdminPolicy
  # One managed node group; add more, or turn on eksgitops:autoMode instead.
  eksgitops:nodeGroups:
    - name: general
      instanceTypes: [m6i.large, m6a.large]
      minSize: 2
      desiredSize: 2
      maxSize: 4
  # The GitOps agent and the fleet repository it pulls; `eksgitops fleet bootstrap --stack {env}`
  # lays out that repository. Private repositories need credentials (docs/configuration.md#gitops).
  eksgitops:gitops:
    agent: {agent}
    repoUrl: {repo}
    branch: main
    path: clusters/{env}
{identities}"""


def _usage(flag: str, problem: str, allowed: str) -> typer.Exit:
    typer.echo(f"eksgitops init: {flag}: {problem}; {allowed}", err=True)
    return typer.Exit(code=2)


def render(
    env: str,
    *,
    account: str,
    region: str,
    fleet_repo: str,
    admin_principal: str,
    public_cidrs: list[str],
    agent: str,
) -> str:
    """The stack file's text (not yet validated)."""
    public = bool(public_cidrs)
    cidrs = "".join(["    publicAccessCidrs:\n", *(f"      - {c}\n" for c in public_cidrs)]) if public else ""
    return TEMPLATE.format(
        env=env,
        region=region,
        account=account,
        # As eksctl does: the newest version EKS offers (by the bundled data), not the spec's
        # conservative default for stacks that leave kubernetesVersion out.
        version=offered_kubernetes_versions()[-1],
        az_count=3,
        endpoint_comment=(
            "private, and public for the ranges below only"
            if public
            else "private only; reach it from inside the VPC (or add --public-cidr)"
        ),
        public="true" if public else "false",
        cidrs=cidrs,
        principal=admin_principal,
        agent=agent,
        # Quoted by YAML's own rules: a URL with ":" or "#" stays one string.
        repo=json.dumps(fleet_repo),
        identities=_scaffold_identities(agent),
    )


def _scaffold_identities(agent: str) -> str:
    """The workload identities the fleet scaffold needs (its load balancer controller's role):
    without them the layout `fleet bootstrap --stack` writes would not reconcile."""
    if agent not in AGENTS:
        return ""
    return (
        "  # The identities the fleet scaffold's add-ons use: `fleet bootstrap --stack` checks the\n"
        "  # layout against them. Remove one only with the add-on that uses it.\n"
        "  eksgitops:identities:\n" + scaffold_identities_yaml()
    )


def _check_flags(env: str, account: str, admin_principal: str, public_cidrs: list[str]) -> None:
    if not DNS1123_LABEL.fullmatch(env):
        raise _usage("ENV", f"{env!r} is not a stack name", "a DNS-1123 label such as dev or prod")
    if not ACCOUNT.fullmatch(account):
        raise _usage("--account", f"{account!r} is not an AWS account id", "12 digits")
    match = PRINCIPAL.fullmatch(admin_principal)
    if match is None:
        raise _usage(
            "--admin-principal",
            f"{admin_principal!r} is not an IAM role or user ARN",
            "arn:aws:iam::<account>:role/<name> or :user/<name>",
        )
    for cidr in public_cidrs:
        try:
            ipaddress.ip_network(cidr)
        except ValueError:
            raise _usage("--public-cidr", f"{cidr!r} is not a CIDR", "e.g. 203.0.113.0/24") from None


def init(
    env: Annotated[str, typer.Argument(metavar="ENV", help="Stack name: writes stacks/Pulumi.<ENV>.yaml.")],
    account: Annotated[str, checked("--account", P.text, help="AWS account id (12 digits) of the cluster.")],
    region: Annotated[str, checked("--region", P.region, help="AWS region, e.g. eu-west-1.")],
    fleet_repo: Annotated[str, checked("--fleet-repo", P.repo, help="URL of the fleet Git repository.")],
    admin_principal: Annotated[
        str, checked("--admin-principal", P.text, help="IAM role or user ARN that administers the cluster.")
    ],
    public_cidr: Annotated[
        list[str] | None,
        typer.Option(
            "--public-cidr", help="Open the API endpoint to this range (repeatable; default private)."
        ),
    ] = None,
    agent: Annotated[Agent, typer.Option("--agent", help="GitOps agent.")] = "flux",
    stacks_dir: Annotated[
        Path, checked("--stacks-dir", P.folder, help="Folder of the Pulumi.<stack>.yaml files.")
    ] = Path("stacks"),
) -> None:
    """Write a first stack file for ENV that `eksgitops plan ENV` accepts; never overwrite one."""
    cidrs = list(public_cidr or [])
    _check_flags(env, account, admin_principal, cidrs)
    target = stacks_dir / f"Pulumi.{env}.yaml"
    # A dangling symlink "does not exist", yet writing to it writes wherever it points.
    if target.exists() or target.is_symlink():
        raise _usage(
            "ENV", f"{target} already exists", "edit it, or choose another ENV (init never overwrites)"
        )
    text = render(
        env,
        account=account,
        region=region,
        fleet_repo=fleet_repo,
        admin_principal=admin_principal,
        public_cidrs=cidrs,
        agent=agent,
    )
    # The same checks as `eksgitops plan`, on the text about to be written, read from a draft in
    # a folder of our own (not beside the stacks, where a name could already be a symlink).
    with tempfile.TemporaryDirectory(prefix="eksgitops-init-") as scratch:
        draft = Path(scratch) / target.name
        draft.write_text(text)
        try:
            load_spec(stack_config(draft, Path("Pulumi.yaml")), stack=env, source=str(target))
        except SpecError as err:
            line = err.lines[0]
            flag = next((f for key, f in FLAG_FOR_KEY.items() if f"eksgitops:{key}" in line), "a flag")
            raise _usage(flag, line.split(": ", 1)[-1], "nothing was written") from None
    stacks_dir.mkdir(parents=True, exist_ok=True)
    try:
        # "x": created here or not at all (O_EXCL also refuses a symlink put there meanwhile).
        with target.open("x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        raise _usage("ENV", f"{target} already exists", "init never overwrites") from None
    typer.echo(f"Wrote {target}. Next: eksgitops plan {env}")
    principal_account = PRINCIPAL.fullmatch(admin_principal)
    if principal_account and principal_account["account"] != account:
        # AWS accepts an access entry for a principal of another account (a central admin role
        # is common); said, so that a typo in either number is noticed before the first `up`.
        typer.echo(
            f"Note: --admin-principal is in account {principal_account['account']}, not --account "
            f"{account}; EKS accepts that for an access entry, and that account must let its "
            "administrators assume the role."
        )
