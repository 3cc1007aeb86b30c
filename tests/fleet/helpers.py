"""Writing layouts to disk and running verify on them, for the verify tests."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent
from typing import Any

from eksgitops.fleet import layout
from eksgitops.fleet.findings import Report
from eksgitops.fleet.layout import Options
from eksgitops.fleet.schema import PLACEHOLDER
from eksgitops.fleet.verify import VerifyRequest, verify

REPO_URL = "https://git.example.com/org/fleet.git"
PROVIDED = set(layout.bridge_vars())


def scaffold_tree(root: Path, env: str = "dev", agent: str = "flux", image_automation: bool = False) -> Path:
    for item in layout.render(
        Options(env=env, agent=agent, repo_url=REPO_URL, image_automation=image_automation)
    ):
        write(root, item.path, item.content)
    return root


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text).lstrip("\n") if text.startswith("\n") else text)
    return path


def write_all(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        write(root, rel, text)
    return root


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1))


def append(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((path.read_text() if path.exists() else "") + text)


def request(
    env_path: str = "clusters/dev",
    agent: str = "flux",
    provided: set[str] | dict[str, str] | None = None,
    urls: set[str] | None = None,
    stack: str | None = None,
    cross_namespace_refs: bool | None = None,
) -> VerifyRequest:
    """A request as the CLI builds it; `provided` names (or names and values) of cluster-vars."""
    names = PROVIDED if provided is None else provided
    return VerifyRequest(
        env_path,
        agent=agent,
        repo_urls=frozenset({REPO_URL} if urls is None else urls),
        variables=names if isinstance(names, dict) else dict.fromkeys(names, PLACEHOLDER),
        stack=stack,
        cross_namespace_refs="unknown"
        if cross_namespace_refs is None
        else "allowed"
        if cross_namespace_refs
        else "refused",
    )


def run(root: Path, env_path: str = "clusters/dev", **kwargs: Any) -> Report:
    return verify(request(env_path, **kwargs), root)


def lines(report: Report) -> list[str]:
    return [str(f) for f in report.findings]
