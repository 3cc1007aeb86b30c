"""A harness for hostile fleet repositories: what the attacker controls is the repository only.

Each test builds its layout into a bare remote (`hostile_remote`), runs the real commands against
it and then asks the `Sandbox` whether anything escaped:

* canary environment variables (a Git token, a GitHub token, AWS secret and session keys) that
  must never appear in any output;
* a canary file outside every tree the command works in, whose contents must never appear;
* a loopback HTTP server that records every connection made to it (it must stay untouched);
* a snapshot of the places an attacker would write to (HOME, everything under the test's tmp
  folder, the top level of site-packages and the venv's bin/ where a `.pth` or a script runs at
  the next start) taken before the command and compared after it. The command's own temporary
  folder (TMPDIR, and `tempfile.tempdir`) is the one place it may write, and it must be empty
  again when the command returns.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import re
import shutil
import socketserver
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fleet.conftest import git

CANARY_ENV = {
    "EKSGITOPS_GIT_TOKEN": "canary-eksgitops-token-5c1f0a9e",
    "GITHUB_TOKEN": "canary-github-token-b83d27f4",
    "AWS_ACCESS_KEY_ID": "AKIACANARY0ACCESS7Q2",
    "AWS_SECRET_ACCESS_KEY": "canary-aws-secret-9e4b6d1c",
    "AWS_SESSION_TOKEN": "canary-aws-session-2a7f5e3b",
}
CANARY_FILE_TEXT = "canary-file-contents-d04c8e71\n"


@dataclass(frozen=True)
class Link:
    """A symlink in the hostile repository, pointing at `target` (absolute or relative)."""

    target: str


Files = dict[str, "str | Link"]


class _Recorder(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.hits: list[str] = []
        super().__init__(("127.0.0.1", 0), _CanaryHandler)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        # Every accepted connection counts, even one that never sends an HTTP request line.
        self.hits.append(f"connection from {client_address[0]}")
        return True


class _CanaryHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server: _Recorder = self.server  # type: ignore[assignment]
        server.hits.append(f"{self.command} {self.path}")
        body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fetched-from-canary\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/yaml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET
    do_HEAD = do_GET
    do_CONNECT = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class CanaryServer:
    """A loopback HTTP server nobody may contact; `url` is its base, `hits` what reached it."""

    url: str
    host_port: str
    _server: _Recorder

    @property
    def hits(self) -> list[str]:
        return list(self._server.hits)


Entry = tuple[str, int, int, str]  # (type, size, mtime_ns, link target)


def _entries(root: Path, recursive: bool, skip: Iterable[Path] = ()) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    skipped = {str(p) for p in skip}
    if not root.exists():
        return found

    def record(path: Path) -> None:
        st = path.lstat()
        if path.is_symlink():
            found[str(path)] = ("link", 0, 0, os.readlink(path))
        elif path.is_dir():
            found[str(path)] = ("dir", 0, 0, "")
        else:
            found[str(path)] = ("file", st.st_size, st.st_mtime_ns, "")

    if not recursive:
        for child in root.iterdir():
            record(child)
        return found
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in list(dirnames):
            full = os.path.join(dirpath, name)
            if full in skipped:
                dirnames.remove(name)
                continue
            record(Path(full))
            if os.path.islink(full):
                dirnames.remove(name)
        for name in filenames:
            record(Path(dirpath) / name)
    return found


@dataclass
class Sandbox:
    """What one hostile test watches: canaries planted, places snapshotted, the command's temp dir."""

    tmp: Path
    cmd_tmp: Path
    canary_file: Path
    canary: CanaryServer
    watched: list[tuple[Path, bool]] = field(default_factory=list)
    _before: dict[str, Entry] = field(default_factory=dict)

    def snapshot(self) -> None:
        """Take the snapshot the next `assert_untouched` compares with (the fixture takes one)."""
        self._before = self._take()

    def _take(self) -> dict[str, Entry]:
        out: dict[str, Entry] = {}
        for root, recursive in self.watched:
            out.update(_entries(root, recursive, skip=[self.cmd_tmp]))
        return out

    def secrets(self) -> list[str]:
        """Every value that must never be printed, with the encodings a leak might use."""
        values = [*CANARY_ENV.values(), CANARY_FILE_TEXT.strip()]
        out: list[str] = []
        for value in values:
            out.append(value)
            out.append(base64.b64encode(value.encode()).decode())
        return out

    def assert_no_leak(self, *texts: str) -> None:
        joined = "\n".join(texts)
        for value in self.secrets():
            assert value not in joined, f"canary value {value!r} leaked into the output:\n{joined}"

    def assert_untouched(self, allowed: Iterable[Path] = ()) -> None:
        """Nothing changed in the watched places (except below `allowed`: a command's own reports)."""
        after = self._take()
        cache = self.build_cache()
        ok = [str(p) + os.sep for p in (*allowed, cache)]
        changed = sorted(
            path
            for path in set(self._before) | set(after)
            if self._before.get(path) != after.get(path)
            and not any((path + os.sep).startswith(prefix) for prefix in ok)
            and not (str(cache).startswith(path + os.sep) and Path(path).is_dir())  # its parents
        )
        assert not changed, "written outside the command's temporary folder:\n" + "\n".join(changed)
        self.assert_cache_is_only_builds(cache)
        leftovers = sorted(p.name for p in self.cmd_tmp.iterdir())
        assert not leftovers, f"the command left temporary folders behind: {leftovers}"
        assert not self.canary.hits, f"the canary server was contacted: {self.canary.hits}"

    @staticmethod
    def build_cache() -> Path:
        """The one place verify writes outside its temporary folders: the build cache."""
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "eksgitops" / "builds"

    def assert_cache_is_only_builds(self, cache: Path) -> None:
        """What the build cache holds: `<sha256>.json` files of the cache's own shape, no secret."""
        if not cache.exists():
            return
        assert not cache.is_symlink() and (cache.stat().st_mode & 0o077) == 0, (
            "the cache folder is not private"
        )
        for entry in cache.iterdir():
            assert entry.is_file() and not entry.is_symlink(), f"not a cache entry: {entry}"
            text = entry.read_text(encoding="utf-8")
            data = json.loads(text)
            if re.fullmatch(r"crds-[0-9a-f]{64}\.json", entry.name):
                assert isinstance(data, list), entry  # the shipped CRDs, parsed
                continue
            assert re.fullmatch(r"[0-9a-f]{64}\.json", entry.name), f"not a cache entry: {entry}"
            assert set(data) == {"format", "key", "objects", "error", "error_path"}, entry
            assert data["key"] == entry.stem
            self.assert_no_leak(text)

    def assert_clean(self, *texts: str) -> None:
        """No leak in `texts`, nothing written outside, no leftovers, no contact."""
        self.assert_no_leak(*texts)
        self.assert_untouched()


def venv_places() -> list[tuple[Path, bool]]:
    """Top level of site-packages (a `.pth` there runs at every start) and the venv's scripts."""
    places: list[tuple[Path, bool]] = []
    for key in ("purelib", "platlib"):
        path = Path(sysconfig.get_paths()[key])
        if (path, False) not in places:
            places.append((path, False))
    places.append((Path(sys.executable).parent, False))
    return places


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def climb(depth: int = 40) -> str:
    """Enough `../` to reach `/` from any scratch folder (extra ones stay at `/`)."""
    return "../" * depth


def build_tree(root: Path, files: Files) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Link):
            os.symlink(content.target, path)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def make_remote(tmp_path: Path, files: Files, name: str, under: Path | None = None) -> Path:
    """A bare remote at `under/<name>.git` (default tmp_path) whose main holds `files`.

    Symlinks (`Link`) are committed as git stores them (mode 120000), so a clone recreates them.
    """
    work = tmp_path / f"{name}-work"
    git("init", "-q", "--initial-branch=main", str(work))
    build_tree(work, files)
    git("add", "-A", ".", cwd=work)
    git("commit", "-q", "-m", "hostile layout", cwd=work)
    bare = (under or tmp_path) / f"{name}.git"
    git("clone", "-q", "--bare", str(work), str(bare))
    shutil.rmtree(work)
    return bare


def remote_refs(bare: Path) -> str:
    """Every ref of the remote with its sha: equal before and after means nothing was pushed."""
    return git("--git-dir", str(bare), "show-ref")


@dataclass
class Outcome:
    """A command's exit code and everything it printed."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def fleet(*args: str) -> Outcome:
    """`eksgitops fleet ARGS` through the CLI entry, in this process (so the sandbox sees it all)."""
    from typer.testing import CliRunner

    from eksgitops.cli import app

    result = CliRunner().invoke(app, ["fleet", *args], catch_exceptions=False)
    return Outcome(result.exit_code, result.stdout, result.stderr)


def flux_ks(
    name: str, path: str, extra: str = "", kind: str = "GitRepository", source: str = "flux-system"
) -> str:
    """A Flux Kustomization in flux-system building `path` of `kind/source`."""
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata:\n  name: {name}\n  namespace: flux-system\n"
        f"spec:\n  interval: 10m\n  prune: true\n  path: {path}\n"
        f"  sourceRef:\n    kind: {kind}\n    name: {source}\n" + extra
    )


def evil_kustomization(kustomization: str, **files: str | Link) -> Files:
    """`clusters/dev/evil.yaml` syncing `./evil`, whose kustomization is the attack."""
    layout: Files = {
        "clusters/dev/evil.yaml": flux_ks("evil", "./evil"),
        "evil/kustomization.yaml": kustomization,
        "evil/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n  namespace: default\n",
    }
    layout.update({f"evil/{name.replace('__', '/')}": value for name, value in files.items()})
    return layout


def assert_refused(box: Sandbox, outcome: Outcome, *names: str, codes: tuple[int, ...] = (1, 2)) -> None:
    """Exit 1 or 2, one line naming every one of `names` (the file and the key), nothing escaped."""
    assert outcome.exit_code in codes, outcome.output
    lines = outcome.output.splitlines()
    assert any(all(name in line for name in names) for line in lines), (
        f"no line names {names}:\n{outcome.output}"
    )
    assert "Traceback" not in outcome.output
    box.assert_clean(outcome.output)


def verify_and_bootstrap(box: Sandbox, bare: Path, *names: str) -> None:
    """`fleet verify` and `fleet bootstrap` on `bare` both refuse, naming `names`; nothing pushed."""
    refs = remote_refs(bare)
    assert_refused(box, fleet("verify", "--repo", str(bare), "--env", "dev"), *names)
    assert_refused(box, fleet("bootstrap", "--repo", str(bare), "--env", "dev"), *names)
    assert remote_refs(bare) == refs, "bootstrap pushed a hostile layout"
