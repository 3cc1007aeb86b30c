"""Decide, file by file, what a bootstrap run writes, keeps or leaves alone.

The tool remembers what it wrote in a state file per environment, `.eksgitops/<env>.yaml`
(outside every synced path, so no agent ever applies it), with the sha256 of each file. For
each file of the layout:

* absent                                  -> written
* identical to what this version renders  -> nothing to do
* equal to the hash recorded last time    -> ours and untouched: updated
* anything else (edited, or never ours)   -> protected: listed, rewritten only with --force

A shared layer (`infrastructure/controllers`, ...) that exists but holds no file recorded by
any environment belongs to the repository's own layout and is left entirely alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from eksgitops.fleet import yamlio
from eksgitops.fleet.budget import REPOSITORY_AT_FAULT, LimitReached
from eksgitops.fleet.layout import SCAFFOLD_IDENTITIES, LayoutFile, Options

STATE_DIR = ".eksgitops"
STATE_HEADER = (
    "# Written by `eksgitops fleet bootstrap`: the files it wrote and their sha256, so a later run\n"
    "# updates only files nobody edited. Commit it; editing it by hand defeats that protection.\n"
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def state_path(env: str) -> str:
    return f"{STATE_DIR}/{env}.yaml"


@dataclass
class Plan:
    """The outcome of comparing the rendered layout with a checkout."""

    writes: dict[str, str] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)
    foreign_layers: list[str] = field(default_factory=list)
    first_time: bool = True
    """No state recorded for this environment yet: a new scaffold rather than an update."""

    @property
    def changed_files(self) -> list[str]:
        """Layout files this run writes (the state file excluded)."""
        return sorted(p for p in self.writes if not p.startswith(STATE_DIR + "/"))


def symlinked(root: Path, rel: str) -> str | None:
    """The first part of `rel` (itself included) that is a symlink in the checkout, else None.

    Bootstrap never reads or writes through a symlink the repository holds: one would point it
    at a file outside the clone (`clusters/dev -> /home/you`, `apps.yaml -> ~/.bashrc`).
    """
    parts = [p for p in rel.split("/") if p]
    for i in range(1, len(parts) + 1):
        if root.joinpath(*parts[:i]).is_symlink():
            return "/".join(parts[:i])
    return None


STATE_LIMITS = yamlio.Limits(chars=1 << 20, values=100_000, expanded_chars=1 << 20)
"""A state file lists the files bootstrap wrote and their digests: a few KiB."""


def load_states(root: Path) -> dict[str, dict]:
    """Every environment's state file, keyed by environment name; unreadable ones are skipped, one
    over `STATE_LIMITS` is refused (LimitReached).

    A symlinked state directory or file is never followed (bootstrap refuses such a repository).
    """
    states: dict[str, dict] = {}
    directory = root / STATE_DIR
    if directory.is_symlink() or not directory.is_dir():
        return states
    for path in sorted(directory.glob("*.yaml")):
        if path.is_symlink():
            continue
        try:
            docs = yamlio.load_all(path.read_text(encoding="utf-8", errors="replace"), STATE_LIMITS)
        except yamlio.DocumentLimit as exc:
            # Not "unreadable": a file built to exhaust memory is refused in one line.
            raise LimitReached(f"{STATE_DIR}/{path.name}: {exc}", REPOSITORY_AT_FAULT) from None
        except (yaml.YAMLError, OSError):
            continue
        data = docs[0] if len(docs) == 1 else None
        if isinstance(data, dict) and isinstance(data.get("files"), dict):
            states[path.stem] = data
    return states


AGENT_MARKS = {"flux": "kustomize.toolkit.fluxcd.io/", "argocd": "argoproj.io/"}
"""apiVersion prefixes of each agent's wiring, to tell a layout written by hand."""


def laid_out_for(root: Path, opts: Options) -> tuple[str, str] | None:
    """(agent, evidence) of what already lays out `opts.env` at its path, or None when nothing
    does: the agent bootstrap recorded for it, else the agent whose objects the files directly
    in the path declare (a layout not written by eksgitops). Symlinks are never read."""
    recorded = load_states(root).get(opts.env, {}).get("agent")
    if isinstance(recorded, str) and recorded in AGENT_MARKS:
        return recorded, f"{state_path(opts.env)} records agent {recorded}"
    folder = root / opts.cluster_path
    if symlinked(root, opts.cluster_path) is not None or not folder.is_dir():
        return None
    for path in sorted(folder.iterdir()):
        if path.is_symlink() or not path.is_file() or path.suffix not in (".yaml", ".yml"):
            continue
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = handle.read(1 << 16)
        for agent, mark in AGENT_MARKS.items():
            if f"apiVersion: {mark}" in head:
                return agent, f"{opts.cluster_path}/{path.name} declares {agent} objects"
    return None


def plan(root: Path, opts: Options, layout: list[LayoutFile], force: bool = False) -> Plan:
    """Compare `layout` with the checkout at `root` and decide what to write."""
    states = load_states(root)
    recorded: dict[str, str] = {}
    for env, data in states.items():
        for path, digest in data["files"].items():
            # Our own environment's record wins over another environment's for shared files.
            if env == opts.env or path not in recorded:
                recorded[str(path)] = str(digest)
    result = Plan(first_time=opts.env not in states)
    record: dict[str, str] = {}
    foreign = {f.layer for f in layout if f.layer and _is_foreign(root, f.layer, recorded)}
    result.foreign_layers = sorted(layer for layer in foreign if layer)
    for item in layout:
        if item.layer in foreign:
            continue
        if item.layer is None and in_helm_chart(root, item.path.rsplit("/", 1)[0]):
            result.protected.append(item.path)
            continue
        target = root / item.path
        current = target.read_text(encoding="utf-8", errors="replace") if target.is_file() else None
        new_digest = sha256(item.content)
        if current is None:
            result.writes[item.path] = item.content
            record[item.path] = new_digest
        elif current == item.content:
            result.unchanged.append(item.path)
            record[item.path] = new_digest
        elif recorded.get(item.path) == sha256(current):
            result.writes[item.path] = item.content
            record[item.path] = new_digest
        elif force:
            result.writes[item.path] = item.content
            result.overwritten.append(item.path)
            record[item.path] = new_digest
        else:
            result.protected.append(item.path)
            if item.path in recorded:
                # Keep the old hash so the file stays "edited by the user" on the next run.
                record[item.path] = recorded[item.path]
    state_text = render_state(opts, record)
    spath = state_path(opts.env)
    existing = root / spath
    if not existing.is_file() or existing.read_text(encoding="utf-8") != state_text:
        result.writes[spath] = state_text
    return result


def _is_foreign(root: Path, layer: str, recorded: dict[str, str]) -> bool:
    directory = root / layer
    if in_helm_chart(root, layer):
        return True
    if not directory.is_dir():
        return False
    return not any(p.startswith(layer + "/") for p in recorded)


def in_helm_chart(root: Path, rel_dir: str) -> bool:
    """Whether `rel_dir` is (inside) an existing Helm chart folder: never written into."""
    parts = [p for p in rel_dir.split("/") if p]
    return any((root.joinpath(*parts[:i]) / "Chart.yaml").is_file() for i in range(1, len(parts) + 1))


def render_state(opts: Options, record: dict[str, str]) -> str:
    """Deterministic state text: the same run twice yields the same bytes (no second commit)."""
    data = {
        "environment": opts.env,
        "agent": opts.agent,
        "path": opts.cluster_path,
        "branch": opts.branch,
        "image_automation": opts.image_automation,
        "identities": list(SCAFFOLD_IDENTITIES),
        "files": dict(sorted(record.items())),
    }
    return STATE_HEADER + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def apply(root: Path, result: Plan) -> None:
    """Write the planned files into the working tree (never through a symlink)."""
    for rel, content in result.writes.items():
        link = symlinked(root, rel)
        if link is not None:  # bootstrap refuses before planning; kept here for any other caller
            raise ValueError(f"{link} is a symlink; refusing to write {rel}")
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
