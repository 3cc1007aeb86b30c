"""`SimWorld`: the dr `World` wired to the simulated pieces (moto, SimBackend, FakeKubeServer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eksgitops.components.spec import EnvironmentSpec
from eksgitops.dr import world as dr_world
from eksgitops.dr.pulumi_workspace import PulumiWorkspace
from eksgitops.fleet.credentials import Credentials
from tests.simworld.aws_up import AwsSide, SimAwsClients
from tests.simworld.kube_server import FakeKubeServer
from tests.simworld.pulumi_fake import SimBackend, SimWorkspace


class SimClock:
    """Time that moves only when something sleeps (or the fake workspace creates a resource)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingPlan:
    """`eksgitops plan` as preflight runs it: records the stacks, answers `code`."""

    def __init__(self, code: int = 0, output: str = "Wrote build/resources.json") -> None:
        self.code, self.output, self.stacks = code, output, []

    def run(self, stack: str) -> tuple[int, str]:
        self.stacks.append(stack)
        return self.code, self.output


class RecordingFleet:
    """`eksgitops fleet verify` as preflight runs it: records the calls, answers `ok`."""

    def __init__(self, ok: bool = True, said: str = "verify: the fleet will reconcile") -> None:
        self.ok, self.said, self.calls = ok, said, []

    def verify(self, repo: str, env: str, revision: str, stack: str) -> tuple[bool, str]:
        self.calls.append((repo, env, revision, stack))
        return self.ok, self.said


DEFAULT_PROGRAM = [
    ("aws:ec2/vpc:Vpc", "vpc"),
    ("eks:index:Cluster", "cluster"),
    ("aws:iam/role:Role", "app-role"),
    ("kubernetes:core/v1:ConfigMap", "cluster-vars"),
    ("aws:s3/bucket:Bucket", "escrow"),
]


@dataclass
class SimWorld:
    """Build with a started FakeKubeServer; `install()` makes it the CLI's world."""

    kube: FakeKubeServer
    clock: SimClock = field(default_factory=SimClock)
    backend: SimBackend = field(default_factory=SimBackend)
    plan: RecordingPlan = field(default_factory=RecordingPlan)
    fleet: RecordingFleet = field(default_factory=RecordingFleet)
    bridge: Callable[[str], dict[str, str]] = lambda stack: {}
    workspaces: list[SimWorkspace] = field(default_factory=list)
    aws_side: AwsSide = field(default_factory=AwsSide)
    spec_of: Callable[[str], EnvironmentSpec] | None = None
    """The spec of a stack by name: with it, `up`/`destroy` make/remove its AWS side in moto."""

    def __post_init__(self) -> None:
        if not self.backend.program:
            self.backend.program = list(DEFAULT_PROGRAM)
            self.backend.protected = {"escrow"}
        self.backend.outputs = self.outputs
        self.backend.on_up = self._up
        self.backend.on_destroy = self._destroy

    def _up(self, stack: str) -> None:
        if self.spec_of is not None:
            self.aws_side.up(self.spec_of(stack))

    def _destroy(self, stack: str) -> None:
        if self.spec_of is not None:
            self.aws_side.destroy(self.spec_of(stack))

    tools: dict[str, str] = field(
        default_factory=lambda: {
            "pulumi": "v3.200.0",
            "aws": "aws-cli/2.27.0 Python/3.13.4 Linux/6.8 exe/x86_64",
        }
    )
    """What `pulumi version` and `aws --version` print; a missing key is a CLI not on PATH."""

    def which(self, program: str, args: list[str]) -> str | None:
        return self.tools.get(program)

    def outputs(self, stack: str) -> dict[str, Any]:
        """What a completed `up` leaves: a kubeconfig pointing at the fake API server, the bridge."""
        return {"kubeconfig": self.kube.kubeconfig(), "bridge": self.bridge(stack), "vpcId": None}

    def workspace(self, project: Path, env: dict[str, str]) -> PulumiWorkspace:
        ws = SimWorkspace(self.backend, self.clock, env)
        self.workspaces.append(ws)
        return ws

    def build(self) -> dr_world.World:
        return dr_world.World(
            clock=self.clock,
            aws=lambda region: SimAwsClients(region, self.aws_side),
            workspace=self.workspace,
            # The real client, from the outputs' kubeconfig, over HTTP to the fake server.
            cluster_api=dr_world.kubernetes_api,
            plan=lambda project, stacks, out: self.plan,
            fleet=lambda project: self.fleet,
            creds=Credentials.load,
            which=self.which,
        )

    def install(self, monkeypatch: Any) -> SimWorld:
        monkeypatch.setattr(dr_world, "default_world", self.build)
        return self
