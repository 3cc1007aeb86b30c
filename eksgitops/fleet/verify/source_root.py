"""The source's root: a layout synced from an OCI artifact, or from a GitRepository of a
subfolder, names its paths from that root, not from the repository's. When a path is not found,
`hint` says where it is (so `--root` can verify the layout as the agent sees it)."""

from __future__ import annotations

import os
from pathlib import Path

MAX_DEPTH = 3
MAX_FOLDERS = 5000
"""How far and how many folders are looked through for the path (bounded: a repository is input)."""


def hint(repo_root: Path, joined: str) -> str:
    """` (found under x/: ...)` when `joined` (a path relative to the source's root) exists below
    a subfolder of `repo_root`, else ""."""
    if joined in (".", ""):
        return ""
    found: list[str] = []
    seen = 0
    queue: list[tuple[Path, int]] = [(repo_root, 0)]
    while queue and seen < MAX_FOLDERS and len(found) < 3:
        folder, depth = queue.pop(0)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            seen += 1
            child = Path(entry.path)
            if (child / joined).is_dir() and not (child / joined).is_symlink():
                found.append(child.relative_to(repo_root).as_posix())
            if depth + 1 < MAX_DEPTH:
                queue.append((child, depth + 1))
    if not found:
        return ""
    where = ", ".join(f"{f}/" for f in found)
    return (
        f" (found under {where}: if the source the agent syncs has its root there, an OCI artifact or "
        f"a GitRepository of a subfolder, verify with --root {found[0]})"
    )
