"""Writing layouts to disk and running verify on them, for the verify tests."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from eksgitops.fleet import layout
from eksgitops.fleet.findings import Report
from eksgitops.fleet.layout import Options
from eksgitops.fleet.verify import verify_tree

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


def run(
    root: Path,
    env_path: str = "clusters/dev",
    agent: str = "flux",
    provided: set[str] | dict[str, str] | None = None,
    urls: set[str] | None = None,
    stack: str | None = None,
    cross_namespace_refs: bool | None = None,
) -> Report:
    return verify_tree(
        root,
        env_path,
        PROVIDED if provided is None else provided,
        {REPO_URL} if urls is None else urls,
        agent=agent,
        stack=stack,
        cross_namespace_refs=cross_namespace_refs,
    )


def lines(report: Report) -> list[str]:
    return [str(f) for f in report.findings]
