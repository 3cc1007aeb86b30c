"""The dr commands' options, declared once, and `RecoverySource`: where a recovery reads from.

Each alias carries its flag and help; the commands list the aliases they take. Defaults
that several commands share (the waits) are named here so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from eksgitops import cli_params as P
from eksgitops.cli_params import checked
from eksgitops.dr.preflight import PreflightOptions

NODES_SECONDS = 20 * 60
AGENT_SECONDS = 15 * 60
WORKLOADS_SECONDS = 30 * 60
LOAD_BALANCERS_SECONDS = 15 * 60
POLL_SECONDS = 10.0
STACKS_DIR = Path("stacks")
BUILD_DIR = Path("build")

StackArg = Annotated[
    str, typer.Argument(metavar="STACK", help="Stack name: stacks/Pulumi.<STACK>.yaml is read.")
]
StacksDirOpt = Annotated[
    Path, checked("--stacks-dir", P.folder, help="Folder of the Pulumi.<stack>.yaml files.")
]
OutOpt = Annotated[Path, checked("--out", P.folder, help="Build folder: the plan's files and dr/ reports.")]
RegionOpt = Annotated[
    str | None,
    checked("--region", P.region, help="Rebuild in this region instead of the spec's (region lost)."),
]
RevisionOpt = Annotated[
    str | None,
    checked("--revision", P.git_ref, help="Branch, tag or commit expected (default: the spec's branch)."),
]
RepoOpt = Annotated[
    str | None,
    checked("--repo-url", P.repo, help="Read the fleet from this URL or path (a mirror) instead of repoUrl."),
]
EscrowOpt = Annotated[
    bool,
    typer.Option("--from-escrow", help="Read the fleet from the escrowed git bundle in S3 (Git host down)."),
]
EscrowBucketOpt = Annotated[
    str | None,
    checked(
        "--escrow-bucket",
        P.text,
        help="Escrow bucket (default: the stack's escrow, eksgitops-escrow-<account>-<env>).",
    ),
]
SecretOpt = Annotated[
    str | None,
    checked(
        "--credentials-secret",
        P.text,
        help="Git credentials secret, read in the target region (default: the stack's escrow).",
    ),
]
SopsOpt = Annotated[
    str | None,
    checked(
        "--sops-key",
        P.text,
        help="SOPS KMS key ARN or alias (default from the spec, else alias/eksgitops-<env>-sops).",
    ),
]
BackendOpt = Annotated[
    str | None,
    checked("--backend", P.text, help="Pulumi state backend URL (default PULUMI_BACKEND_URL or the login)."),
]
NodesTimeout = Annotated[
    float, checked("--timeout-nodes", P.seconds_from(1), help="Seconds to wait for nodes Ready.")
]
AgentTimeout = Annotated[
    float, checked("--timeout-agent", P.seconds_from(1), help="Seconds to wait for the agent Ready.")
]
WorkloadsTimeout = Annotated[
    float,
    checked(
        "--timeout-workloads", P.seconds_from(1), help="Seconds to wait for every Kustomization/Application."
    ),
]
LbTimeout = Annotated[
    float,
    checked("--timeout-load-balancers", P.seconds_from(1), help="Seconds to wait for load balancers to go."),
]
PollOpt = Annotated[
    float, checked("--poll", P.seconds_from(0.01), help="Seconds between looks while waiting.")
]
ClusterGoneOpt = Annotated[
    bool,
    typer.Option(
        "--cluster-gone",
        help="The cluster is unreachable: skip the in-cluster steps and let Pulumi drop its objects.",
    ),
]
CancelStaleOpt = Annotated[
    bool,
    typer.Option(
        "--cancel-stale-update",
        help="If another update still holds the stack after the wait, `pulumi cancel` it "
        "(only when you know no one else is running one: a killed rebuild).",
    ),
]
SnapshotOpt = Annotated[
    bool,
    typer.Option(
        "--snapshot-volumes",
        help="Snapshot the EBS volume of every PersistentVolumeClaim before the claims are deleted.",
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", help="Do it (teardown destroys the cluster).")]
JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the checks as one JSON document on stdout (schema: eksgitops/dr/schemas/preflight.json).",
    ),
]


@dataclass(frozen=True)
class RecoverySource:
    """Where a command reads the fleet and the durable resources from, as the command line says.

    Every field left None means "what the stack file says".
    """

    revision: str | None = None
    """Branch, tag or commit; default the spec's branch."""
    region: str | None = None
    """Rebuild in this region (region lost)."""
    repo_url: str | None = None
    """A mirror or path instead of the spec's repoUrl."""
    from_escrow: bool = False
    """Read the fleet from the escrow (for `dr escrow`: write it there)."""
    escrow_bucket: str | None = None
    credentials_secret: str | None = None
    sops_key: str | None = None
    backend: str | None = None

    def preflight_options(self) -> PreflightOptions:
        return PreflightOptions(
            self.revision,
            self.repo_url,
            self.from_escrow,
            self.escrow_bucket,
            self.credentials_secret,
            self.sops_key,
            self.backend,
        )
