"""Fixtures for dr: a real moto server, real Git repositories, and fakes of the narrow interfaces.

The fakes stand in only for what cannot run here (the Pulumi engine, a Kubernetes API
server); AWS is moto's HTTP server reached through AWS_ENDPOINT_URL, Git is real git.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from eksgitops.dr.cluster_api import FLUX_INSTANCE, KUSTOMIZATION, NODE, Kind, KindNotServed
from eksgitops.dr.pulumi_workspace import ResourceEvent, WorkspaceError
from tests.simworld.aws import REGION, free_port
from tests.simworld.fixtures import aws_env, kube_server, moto_url, sim_world

__all__ = ["REGION", "aws_env", "free_port", "kube_server", "moto_url", "sim_world"]
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
}


def client(service: str, region: str = REGION) -> Any:
    return boto3.client(service, region_name=region)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for name in list(os.environ):
        if name.startswith(("EKSGITOPS_", "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_")):
            monkeypatch.delenv(name, raising=False)
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)


def git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


@dataclass
class FleetRepo:
    bare: Path
    sha: str


@pytest.fixture
def fleet_repo(tmp_path: Path) -> FleetRepo:
    """A bare fleet repository whose main holds clusters/dev and clusters/staging."""
    work = tmp_path / "fleet-work"
    git("init", "-q", "--initial-branch=main", str(work))
    for env in ("dev", "staging"):
        target = work / "clusters" / env / "kustomization.yaml"
        target.parent.mkdir(parents=True)
        target.write_text("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "fleet", cwd=work)
    git("tag", "v1", cwd=work)
    bare = tmp_path / "fleet.git"
    git("clone", "-q", "--bare", str(work), str(bare))
    return FleetRepo(bare, git("rev-parse", "HEAD", cwd=work))


STACK_FILE = """\
config:
  aws:region: eu-west-1
  eksgitops:region: eu-west-1
  eksgitops:clusterName: eksgitops-dev
  eksgitops:kubernetesVersion: "1.35"
  eksgitops:network:
    vpcCidr: 10.10.0.0/16
    azCount: 2
    natGateways: single
  eksgitops:access:
    entries:
      - principalArn: arn:aws:iam::111122223333:role/platform-admin
  eksgitops:nodeGroups:
    - name: general
      desiredSize: 2
  eksgitops:identities:
    - name: external-dns
      namespace: external-dns
      serviceAccount: external-dns
      managedPolicyArns: [arn:aws:iam::aws:policy/AmazonRoute53ReadOnlyAccess]
    - name: app-s3-reader
      namespace: apps
      serviceAccount: s3-reader
      mode: irsa
      managedPolicyArns: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]
  eksgitops:gitops:
    agent: flux
    repoUrl: https://git.example.com/platform/fleet.git
    branch: main
    credentials:
      type: https
      username: fleet-bot
      token:
        secure: v1:offline-placeholder-ciphertext
    sops:
      enabled: true
  eksgitops:escrow:
    enabled: true
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with Pulumi.yaml and stacks/Pulumi.dev.yaml; the test runs in it."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    repo_root = Path(__file__).resolve().parents[2]
    (root / "Pulumi.yaml").write_text((repo_root / "Pulumi.yaml").read_text())
    (root / "stacks" / "Pulumi.dev.yaml").write_text(STACK_FILE)
    monkeypatch.chdir(root)
    return root


def write_stack(project: Path, text: str, stack: str = "dev") -> None:
    (project / "stacks" / f"Pulumi.{stack}.yaml").write_text(textwrap.dedent(text))


# --- fakes of the narrow interfaces ----------------------------------------------------


class FakeClock:
    """Time that moves only when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeWorkspace:
    """The Pulumi workspace: scripted events, an optional failure half-way, recorded calls."""

    clock: FakeClock
    outputs_value: dict[str, Any] = field(default_factory=dict)
    up_events: list[ResourceEvent] = field(default_factory=list)
    fail_up_after: int | None = None
    seconds_per_event: float = 30.0
    destroy_events: list[ResourceEvent] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    on_calls: Callable[[str], None] | None = None

    def select(
        self, stack: str, *, create: bool = True, copy_config_from: str | None = None, config: Any = None
    ) -> None:
        self._log(
            "select", {"stack": stack, "copy_config_from": copy_config_from, "config": dict(config or {})}
        )

    def pending_operations(self) -> list[str]:
        return []

    def refresh(
        self, on_event: Callable[[ResourceEvent], None], *, clear_pending_creates: bool = False
    ) -> None:
        self._log("refresh", {"clear_pending_creates": clear_pending_creates})

    def cancel(self) -> None:
        self._log("cancel", None)

    def up(self, on_event: Callable[[ResourceEvent], None], *, targets: Any = None) -> None:
        self._log("up", {"targets": list(targets)} if targets else None)
        for i, event in enumerate(self.up_events):
            if self.fail_up_after is not None and i == self.fail_up_after:
                on_event(ResourceEvent("failed", event.urn, event.type, True))
                raise WorkspaceError(
                    f"error: creating {event.name}: operation error EKS: CreateCluster, exceeded quota"
                )
            self.clock.now += self.seconds_per_event
            on_event(ResourceEvent(event.op, event.urn, event.type, False))
            on_event(event)

    def destroy(self, on_event: Callable[[ResourceEvent], None], *, keep_protected: bool = True) -> None:
        self._log("destroy", {"keep_protected": keep_protected})
        for event in self.destroy_events:
            on_event(event)

    def outputs(self) -> dict[str, Any]:
        self._log("outputs", None)
        return dict(self.outputs_value)

    def _log(self, verb: str, detail: Any) -> None:
        self.calls.append((verb, detail))
        if self.on_calls:
            self.on_calls(verb)


def event(type_: str, name: str, op: str = "create") -> ResourceEvent:
    return ResourceEvent(op, f"urn:pulumi:dev::eksgitops::{type_}::{name}", type_, True)


UP_EVENTS = [
    event("aws:ec2/vpc:Vpc", "vpc"),
    event("eks:index:Cluster", "eksgitops-dev"),
    event("aws:iam/role:Role", "app-s3-reader"),
    event("kubernetes:core/v1:ConfigMap", "cluster-vars"),
]


class FakeCluster:
    """An in-memory API server: objects by kind, a call log, and behaviour hooks run on every read.

    Deleting an object with finalizers only marks it (deletionTimestamp), as Kubernetes does;
    it goes once its finalizers are removed (by a hook playing a controller, or a patch).
    """

    def __init__(self, clock: FakeClock, *, served: set[str] | None = None):
        self.clock = clock
        self.objects: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.calls: list[tuple[str, str, str]] = []
        self.hooks: list[Callable[[FakeCluster], None]] = []
        self.served = served

    def add(self, kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj.setdefault("metadata", {})
        self.objects[(kind.plural, meta.get("namespace"), meta["name"])] = obj
        return obj

    def _tick(self, kind: Kind) -> None:
        if self.served is not None and kind.plural not in self.served:
            raise KindNotServed(kind.kind)
        for hook in self.hooks:
            hook(self)

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        self._tick(kind)
        self.calls.append(("get", kind.kind, name))
        obj = self.objects.get((kind.plural, namespace if kind.namespaced else None, name))
        return copy.deepcopy(obj) if obj is not None else None

    def list(self, kind: Kind, namespace: str | None = None) -> list[dict[str, Any]]:
        self._tick(kind)
        self.calls.append(("list", kind.kind, namespace or "*"))
        return [
            copy.deepcopy(o)
            for (plural, ns, _), o in sorted(self.objects.items(), key=lambda kv: str(kv[0]))
            if plural == kind.plural and (namespace is None or ns == namespace)
        ]

    def patch(self, kind: Kind, name: str, namespace: str | None, patch: dict[str, Any]) -> None:
        self.calls.append(("patch", kind.kind, f"{name} {json.dumps(patch, sort_keys=True)}"))
        obj = self.objects[(kind.plural, namespace, name)]
        _merge(obj, patch)
        meta = obj["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            del self.objects[(kind.plural, namespace, name)]

    def delete(self, kind: Kind, name: str, namespace: str | None = None) -> None:
        self.calls.append(("delete", kind.kind, name))
        key = (kind.plural, namespace, name)
        obj = self.objects.get(key)
        if obj is None:
            return
        if obj["metadata"].get("finalizers"):
            obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        else:
            del self.objects[key]


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def ready(
    status: str = "True", reason: str = "ReconciliationSucceeded", message: str = ""
) -> list[dict[str, str]]:
    return [{"type": "Ready", "status": status, "reason": reason, "message": message}]


def healthy_cluster(clock: FakeClock, sha: str, bridge: dict[str, str] | None = None) -> FakeCluster:
    """Two Ready nodes, a Ready FluxInstance, two Kustomizations at `sha`, the bridge ConfigMap."""
    from eksgitops.dr.cluster_api import CONFIG_MAP

    api = FakeCluster(clock)
    for i in range(2):
        api.add(NODE, {"metadata": {"name": f"node-{i}"}, "status": {"conditions": ready()}})
    api.add(
        FLUX_INSTANCE,
        {"metadata": {"name": "flux", "namespace": "flux-system"}, "status": {"conditions": ready()}},
    )
    for name in ("flux-system", "apps"):
        api.add(
            KUSTOMIZATION,
            {
                "metadata": {"name": name, "namespace": "flux-system"},
                "status": {"conditions": ready(), "lastAppliedRevision": f"main@sha1:{sha}"},
            },
        )
    api.add(
        CONFIG_MAP,
        {"metadata": {"name": "cluster-vars", "namespace": "flux-system"}, "data": dict(bridge or {})},
    )
    return api
