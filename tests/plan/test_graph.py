"""The plan's resource graph, its Mermaid file, and the modeled rebuild critical path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.plan.cli import run_plan
from eksgitops.plan.critical_path import critical_path, seconds_for
from eksgitops.plan.graph import ResourceGraph, component_edges, mermaid, mermaid_components, owner_of
from eksgitops.plan.offline_engine import PlanResult

ROOT = Path(__file__).resolve().parents[2]
# What must run beside the control plane, never on the rebuild's critical path.
BESIDE = (
    "aws:iam/",
    "aws:kms/",
    "aws:eks/podIdentityAssociation",
    "eksgitops:identity",
)


@pytest.fixture(scope="module")
def dev() -> PlanResult:
    return run_plan("dev", stacks_dir=ROOT / "stacks", project_dir=ROOT)


def _without_agent(plan: PlanResult) -> list:
    """The plan's resources without whatever agent the stack already installs (Kubernetes objects)."""
    return [r for r in plan.resources if not r.type.startswith(("kubernetes:", "eksgitops:gitops:"))]


def _urn(plan: PlanResult, type_: str, name_part: str = "") -> str:
    found = [r.urn for r in plan.resources if r.type == type_ and name_part in r.name]
    assert len(found) == 1, (type_, name_part, found)
    return found[0]


def test_the_graph_has_the_dependency_edges_the_components_declare(dev: PlanResult) -> None:
    graph = ResourceGraph(dev.resources)
    edges = set(graph.edges())
    cluster = _urn(dev, "eks:index:Cluster")
    nodes = _urn(dev, "eks:index:ManagedNodeGroup")
    vpc_cni = _urn(dev, "aws:eks/addon:Addon", "vpc-cni")
    coredns = _urn(dev, "aws:eks/addon:Addon", "coredns")
    cluster_policy = _urn(dev, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "AmazonEKSClusterPolicy")
    kms = _urn(dev, "aws:kms/key:Key")
    assert (cluster_policy, cluster) in edges  # the control plane waits for its role's policy
    assert (kms, cluster) in edges  # and for its secrets key
    assert (vpc_cni, nodes) in edges  # nodes need the CNI to turn Ready
    assert (nodes, coredns) in edges  # coredns needs nodes to run on
    assert (cluster, vpc_cni) in edges  # add-ons go onto the created control plane
    assert (nodes, cluster) not in edges
    # Parents come before children in the order the model walks.
    order = graph.topological_order()
    for node in graph.nodes.values():
        if node.parent in graph.nodes:
            assert order.index(node.parent) < order.index(node.urn)


CONTROL_PLANE = ("eks:index:Cluster", "aws:eks/cluster:Cluster")
NODES = ("eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup")
# What a remote component creates with the control plane: its access entries.
WITH_CONTROL_PLANE = (
    "aws:eks/accessEntry:AccessEntry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
)


def _position(types: list[str], wanted: tuple[str, ...]) -> int:
    found = [i for i, t in enumerate(types) if t in wanted]
    assert len(found) == 1, (wanted, types)
    return found[0]


def test_the_critical_path_of_dev_is_control_plane_then_nodes(dev: PlanResult) -> None:
    """Network it needs → control plane → the CNI add-on nodes need → nodes → (agent)."""
    path = critical_path(ResourceGraph(dev.resources))
    types = [step.type for step in path.chain]
    control_plane, nodes = _position(types, CONTROL_PLANE), _position(types, NODES)
    assert types[:control_plane] and all(t.startswith("aws:ec2/") for t in types[:control_plane]), types
    between = types[control_plane + 1 : nodes]
    assert all(t in WITH_CONTROL_PLANE or t == "aws:eks/addon:Addon" for t in between), between
    assert not [t for t in types if t.startswith(BESIDE)], types
    after_nodes = types[nodes + 1 :]
    assert all(t == "aws:eks/addon:Addon" or t.startswith("kubernetes:") for t in after_nodes), after_nodes
    if any(r.type == "kubernetes:helm.sh/v3:Release" for r in dev.resources):
        assert after_nodes and after_nodes[-1].startswith("kubernetes:")  # the agent ends the chain
    assert path.modeled_seconds == sum(step.seconds for step in path.chain)
    assert path.modeled_seconds >= seconds_for("aws:eks/cluster:Cluster") + seconds_for(
        "aws:eks/nodeGroup:NodeGroup"
    )


def test_depending_on_a_remote_component_waits_for_what_it_creates(dev: PlanResult) -> None:
    """pulumi-eks answers the component's registration once its children exist."""
    import dataclasses

    component = next(r for r in dev.resources if r.type == "eks:index:Cluster")
    shown = any(r.parent == component.urn and r.custom for r in dev.resources)
    child = dataclasses.replace(
        component,
        urn=component.urn + "-child",
        type="aws:eks/cluster:Cluster",
        name="child",
        parent=component.urn,
        custom=True,
        remote=False,
        dependencies=[],
    )
    items = dev.resources if shown else [*dev.resources, child]
    graph = ResourceGraph(items)
    children = graph.remote_children[component.urn]
    assert children
    vpc_cni = _urn(dev, "aws:eks/addon:Addon", "vpc-cni")
    assert set(children) <= set(graph.before(vpc_cni))  # the add-on waits for the control plane itself
    path = critical_path(graph)
    assert [s.type for s in path.chain].count("aws:eks/cluster:Cluster") == 1
    assert "eks:index:Cluster" not in [s.type for s in path.chain]  # it stands for nothing now


def test_an_agent_after_the_nodes_lands_on_the_chain(dev: PlanResult) -> None:
    """The agent is modeled already: a Helm release and a FluxInstance after the nodes end the chain."""
    import dataclasses

    nodes = _urn(dev, "eks:index:ManagedNodeGroup")
    base = dev.resources[0]
    release = dataclasses.replace(
        base,
        urn="urn:pulumi:dev::eksgitops::kubernetes:helm.sh/v3:Release::flux-operator",
        type="kubernetes:helm.sh/v3:Release",
        name="flux-operator",
        parent="",
        custom=True,
        dependencies=[nodes],
    )
    instance = dataclasses.replace(
        release,
        urn="urn:pulumi:dev::eksgitops::kubernetes:fluxcd.controlplane.io/v1:FluxInstance::flux",
        type="kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
        name="flux",
        dependencies=[release.urn],
    )
    assert "registers no GitOps agent" in critical_path(ResourceGraph(_without_agent(dev))).limits
    path = critical_path(ResourceGraph([*_without_agent(dev), release, instance]))
    assert "registers no GitOps agent" not in path.limits
    last = [s.type for s in path.chain][-3:]
    assert last[0] in NODES
    assert last[1:] == ["kubernetes:helm.sh/v3:Release", "kubernetes:fluxcd.controlplane.io/v1:FluxInstance"]


def test_the_plan_writes_the_graph_and_the_critical_path_contract(
    dev: PlanResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["plan", "dev", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("Policy summary") < out.index("Modeled rebuild from nothing")
    assert "Limits: Modeled, not measured" in out

    document = json.loads((tmp_path / "dev" / "critical-path.json").read_text())
    assert set(document) == {"modeled_seconds", "chain", "limits"}
    assert isinstance(document["modeled_seconds"], int) and document["limits"]
    assert all(set(step) == {"urn", "type", "name", "seconds"} for step in document["chain"])
    assert document["modeled_seconds"] == sum(step["seconds"] for step in document["chain"])

    text = (tmp_path / "dev" / "graph-resources.mmd").read_text()
    assert text.startswith("flowchart LR\n")
    assert text.count("subgraph ") == text.count("\n  end") + text.count("\n    end") + text.count(
        "\n      end"
    ) + text.count("\n        end") + text.count("\n          end")
    assert "class " in text and " critical" in text and "linkStyle" in text
    chain = [s["urn"] for s in document["chain"]]
    assert text == mermaid(ResourceGraph(dev.resources), chain)
    assert (tmp_path / "dev" / "graph.mmd").read_text() == mermaid_components(
        ResourceGraph(dev.resources), chain
    )


def test_graph_mmd_is_the_components_with_the_critical_path(dev: PlanResult) -> None:
    graph = ResourceGraph(dev.resources)
    path = critical_path(graph)
    text = mermaid_components(graph, [s.urn for s in path.chain])
    nodes = [line for line in text.splitlines() if line.startswith("  c") and '["' in line]
    components = [r for r in dev.resources if not r.custom and r.type != "pulumi:pulumi:Stack"]
    # One node per component, none per resource: readable where the resource graph is not.
    assert len(nodes) == len(components) < len(dev.resources) / 3
    ids = {line.split("[", 1)[0].strip(): line for line in nodes}
    critical = next(line for line in text.splitlines() if line.startswith("  class "))
    on_path = [ids[i] for i in critical.removeprefix("  class ").removesuffix(" critical").split(",")]
    # The chain of components: the network, the control plane, the add-ons nodes need, the
    # node group, the add-ons that run on nodes (coredns: the agent's provider waits for the
    # whole cluster), then the agent.
    assert [line.split('["', 1)[1].split("<br/>", 1)[0] for line in on_path] == [
        "eksgitops:network:Network",
        "eks:index:Cluster",
        "eksgitops:cluster:ClusterAddons",
        "eks:index:ManagedNodeGroup",
        "eksgitops:cluster:ClusterAddons",
        "eksgitops:gitops:FluxAgent",
    ]
    vpc_cni_owner = owner_of(graph, _urn(dev, "aws:eks/addon:Addon", "vpc-cni"))
    node_owner = owner_of(graph, _urn(dev, "eks:index:ManagedNodeGroup"))
    assert (vpc_cni_owner, node_owner) in component_edges(graph)
    assert "linkStyle " in text


def test_creation_times_use_the_longest_matching_entry() -> None:
    assert seconds_for("aws:eks/cluster:Cluster") == 900
    assert seconds_for("kubernetes:helm.sh/v3:Release") == 120
    assert seconds_for("kubernetes:core/v1:ConfigMap") == 2
    assert seconds_for("pulumi:providers:aws") == 0
    assert seconds_for("made:up/type:Type") == 5


MERMAID = ROOT / "tests" / "plan" / "mermaid"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_graph_mmd_is_accepted_by_the_real_mermaid_parser(
    stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    import subprocess

    node = shutil.which("node")
    assert node and (MERMAID / "node_modules" / "mermaid").is_dir(), "make .venv/.dev installs the parser"
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["plan", stack, "--quiet", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    components, resources = tmp_path / stack / "graph.mmd", tmp_path / stack / "graph-resources.mmd"
    broken = tmp_path / "broken.mmd"
    broken.write_text(resources.read_text().replace("subgraph n", "subgraph n[", 1))
    broken_components = tmp_path / "broken-components.mmd"
    broken_components.write_text(components.read_text().replace('["', '[["', 1))
    parsed = subprocess.run(
        [
            node,
            str(MERMAID / "parse.mjs"),
            str(components),
            str(resources),
            str(broken),
            str(broken_components),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = parsed.stdout.splitlines()
    for line in lines[:2]:
        assert line.startswith("ok ") and line.endswith("flowchart-v2"), parsed.stdout + parsed.stderr
    # The parser must reject broken files, or this test checks nothing.
    assert lines[2].startswith("FAIL ") and lines[3].startswith("FAIL "), parsed.stdout


def test_a_helm_release_waits_for_the_nodes_even_when_the_program_does_not_say_so(dev: PlanResult) -> None:
    import dataclasses

    cluster = _urn(dev, "eks:index:Cluster")
    nodes = _urn(dev, "eks:index:ManagedNodeGroup")
    release = dataclasses.replace(
        dev.resources[0],
        urn="urn:pulumi:dev::eksgitops::kubernetes:helm.sh/v3:Release::flux-operator",
        type="kubernetes:helm.sh/v3:Release",
        name="flux-operator",
        parent="",
        custom=True,
        dependencies=[cluster],  # only the cluster: its pods still need nodes to run on
    )
    graph = ResourceGraph([*_without_agent(dev), release])
    assert nodes in graph.implied[release.urn]
    path = critical_path(graph)
    last = [s.type for s in path.chain][-2:]
    assert last[0] in NODES and last[1] == "kubernetes:helm.sh/v3:Release"
    ids = {urn: f"n{i}" for i, urn in enumerate(sorted(graph.nodes))}
    assert f"  {ids[nodes]} -.-> {ids[release.urn]}" in mermaid(graph, [s.urn for s in path.chain])


def _auto_mode_stack(tmp_path: Path) -> Path:
    """The shipped dev stack with Auto Mode instead of its node group."""
    import yaml

    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    document["config"]["eksgitops:nodeGroups"] = []
    document["config"]["eksgitops:autoMode"] = {"enabled": True}
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document))
    return stacks


def test_with_auto_mode_the_agent_waits_for_the_cluster_through_its_provider(tmp_path: Path) -> None:
    plan = run_plan("dev", stacks_dir=_auto_mode_stack(tmp_path), project_dir=ROOT)
    graph = ResourceGraph(plan.resources)
    assert graph.auto_mode
    path = critical_path(graph)
    types = [step.type for step in path.chain]
    control_plane, release = (
        _position(types, CONTROL_PLANE),
        _position(types, ("kubernetes:helm.sh/v3:Release",)),
    )
    # No node group to wait for: the release still comes after the control plane, through the
    # Kubernetes provider, and the agent ends the chain.
    assert control_plane < release
    assert types[-1] == "kubernetes:fluxcd.controlplane.io/v1:FluxInstance"
    assert path.modeled_seconds >= (
        seconds_for("aws:eks/cluster:Cluster")
        + seconds_for("kubernetes:helm.sh/v3:Release")
        + seconds_for("kubernetes:fluxcd.controlplane.io/v1:FluxInstance")
    )
    assert "With Auto Mode" in path.limits
    assert (
        "With Auto Mode"
        not in critical_path(
            ResourceGraph(run_plan("dev", stacks_dir=ROOT / "stacks", project_dir=ROOT).resources)
        ).limits
    )


def test_a_resource_waits_for_its_provider_even_without_a_dependency(dev: PlanResult) -> None:
    graph = ResourceGraph(dev.resources)
    provider = _urn(dev, "pulumi:providers:kubernetes")
    namespace = next(r.urn for r in dev.resources if r.type == "kubernetes:core/v1:Namespace")
    assert provider not in graph.dependencies[namespace]
    assert graph.provider[namespace] == provider
    assert provider in graph.before(namespace)
