"""The world the dr commands reach, and its real defaults.

Every command gets its clients from one `World`; tests replace `default_world` with fakes
(moto for AWS, the fake workspace for Pulumi, an in-memory cluster for Kubernetes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eksgitops.dr.aws import AwsClients
from eksgitops.dr.cluster_api import ClusterApi, KubernetesClusterApi
from eksgitops.dr.context import DrFailure
from eksgitops.dr.fleet_check import FleetVerifier, SubprocessFleetVerifier
from eksgitops.dr.preflight import PlanRunner, SubprocessPlanRunner
from eksgitops.dr.pulumi_workspace import AutomationWorkspace, PulumiWorkspace
from eksgitops.dr.tools import Which, ask_path
from eksgitops.dr.waits import Clock, SystemClock
from eksgitops.fleet.credentials import Credentials


@dataclass
class World:
    """Everything outside the process; tests replace it with fakes (`default_world`)."""

    clock: Clock
    aws: Callable[[str], AwsClients]
    """Clients of one region."""
    workspace: Callable[[Path, dict[str, str]], PulumiWorkspace]
    """The Automation API workspace of the project, with extra environment variables."""
    cluster_api: Callable[[dict[str, Any]], ClusterApi]
    """The Kubernetes API of a stack, from its outputs (the kubeconfig)."""
    plan: Callable[[Path, Path, Path], PlanRunner]
    """`eksgitops plan` for (project, stacks folder, build folder)."""
    fleet: Callable[[Path], FleetVerifier]
    """`eksgitops fleet verify` run in the project."""
    creds: Callable[[], Credentials]
    """The Git credentials from the environment."""
    which: Which = ask_path
    """Finds a CLI on PATH and asks its version (`pulumi version`, `aws --version`)."""


def kubernetes_api(outputs: dict[str, Any]) -> ClusterApi:
    kubeconfig = outputs.get("kubeconfig")
    if not kubeconfig:
        raise DrFailure("the stack has no kubeconfig output; was `up` completed?")
    return KubernetesClusterApi(kubeconfig)


def default_world() -> World:
    return World(
        clock=SystemClock(),
        aws=lambda region: AwsClients(region),
        workspace=lambda project, env: AutomationWorkspace(project, extra_env=env),
        cluster_api=kubernetes_api,
        plan=lambda project, stacks, out: SubprocessPlanRunner(project, stacks, out),
        fleet=lambda project: SubprocessFleetVerifier(cwd=project),
        creds=Credentials.load,
    )
