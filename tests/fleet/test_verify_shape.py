"""The walk and the agents' rules meet through an interface (issue 23.9): walk.py imports neither
flux.py nor argo.py, the agent modules never import walk.py, and `objects_by_owner` gives what
each Kustomization or Application applies (what `fleet diff` compares)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

from eksgitops.fleet.findings import Report
from eksgitops.fleet.kustomize_engine import find_engine
from eksgitops.fleet.scratch_copy import Workspace
from eksgitops.fleet.verify import agent, agents, objects_by_owner
from eksgitops.fleet.verify.model import Applied
from eksgitops.fleet.verify.request import resolve
from eksgitops.fleet.verify.walk import Walk
from tests.fleet.helpers import request, write_all

VERIFY = Path(agent.__file__).parent


def imported(module: Path) -> set[str]:
    """Every module `module` imports, at any level (TYPE_CHECKING blocks included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_walk_imports_no_agent_module_and_agents_never_import_the_walk() -> None:
    walk_imports = imported(VERIFY / "walk.py")
    for name in ("flux", "argo", "agents"):
        assert f"eksgitops.fleet.verify.{name}" not in walk_imports
    for name in ("flux.py", "argo.py", "agent.py", "checks/context.py"):
        assert "eksgitops.fleet.verify.walk" not in imported(VERIFY / name), name


def test_every_shipped_agent_implements_the_rules() -> None:
    names = set()
    for rules in agents.AGENTS:
        assert isinstance(rules.name, str)
        names.add(rules.name)
        root = rules.root("clusters/dev")
        assert rules.handles(root), f"{rules.name}'s root object is not its own wiring"
    assert names == {"flux", "argocd"}


class Listed:
    """An agent of our own: a ConfigMap `wiring` whose data lists further ConfigMaps to apply."""

    name = "listed"

    def handles(self, obj: dict[str, Any]) -> bool:
        return obj.get("kind") == "ConfigMap" and "next" in (obj.get("data") or {})

    def root(self, env_path: str) -> dict[str, Any]:
        return {"kind": "ConfigMap", "metadata": {"name": "root"}, "data": {"next": "a"}}

    def planned(self, walk: agent.WalkState, obj: dict[str, Any]) -> agent.Planned | None:
        return None

    def apply(
        self, walk: agent.WalkState, obj: dict[str, Any], file: str, cluster: str, report: Report
    ) -> list[Applied]:
        out = []
        for name in str(obj["data"]["next"]).split(","):
            if name:
                data = {"next": "b"} if name == "a" else {"leaf": "yes"}
                produced = {"kind": "ConfigMap", "metadata": {"name": name}, "data": data}
                out.append(Applied(produced, file, f"ConfigMap {obj['metadata']['name']}", cluster))
        return out


def test_the_walk_runs_whatever_rules_it_is_handed(tmp_path: Path) -> None:
    write_all(tmp_path, {"clusters/dev/x.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n"})
    req = request(agent="listed")
    resolved = dataclasses.replace(resolve(req, tmp_path, ()), agent="listed")
    ws = Workspace(tmp_path, False)
    try:
        walk = Walk(ws, req, resolved, find_engine(), rules=[Listed()])
        applied, report = walk.run()
    finally:
        ws.close()
    assert [(a.owner, a.obj["metadata"]["name"]) for a in applied] == [
        ("ConfigMap root", "a"),
        ("ConfigMap a", "b"),
    ]
    assert not report.findings


def ks(name: str, path: str) -> str:
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata:\n  name: {name}\n  namespace: flux-system\n"
        f"spec:\n  interval: 10m\n  prune: true\n  path: {path}\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    )


def test_objects_by_owner_groups_what_each_kustomization_applies(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/apps.yaml": ks("apps", "./apps"),
            "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\n",
        },
    )
    by_owner = objects_by_owner(request(), tmp_path)
    assert {owner: [a.obj["metadata"]["name"] for a in items] for owner, items in by_owner.items()} == {
        "Kustomization flux-system/flux-system": ["apps"],
        "Kustomization flux-system/apps": ["a"],
    }
    assert by_owner["Kustomization flux-system/apps"][0].file == "apps/cm.yaml"
