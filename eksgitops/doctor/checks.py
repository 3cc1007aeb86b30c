"""The checks of `eksgitops doctor`: what a real `pulumi up`, `dr` and `upgrade` need.

Each check says pass, fail or skipped, and why. A check that did not run (offline, no stack
given, nothing configured that needs the tool) is *skipped*, never passed. Tools are found on
PATH and asked for their version with a short timeout, in an environment of our own (no
credentials, no pager), so a hung or hostile binary cannot stall or steer the check.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlparse

from eksgitops.terminal_text import shown

Status = Literal["pass", "fail", "skipped"]

# The Pulumi CLI applies `transforms` to children of packaged components (pulumi-eks's) since
# v3.115.0; the program relies on them (no creator admin, delete-first associations).
PULUMI_MIN = (3, 115, 0)
VERSION_TIMEOUT = 15.0
# What a version command may print before we stop reading it.
OUTPUT_CAP = 64 * 1024


@dataclass(frozen=True)
class Check:
    """One line of the doctor's table."""

    name: str
    status: Status
    detail: str
    needed_for: str
    """Which commands need it: `pulumi up`, `dr`, `upgrade`, `fleet`, …"""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


Ask = Callable[[str, list[str]], "str | None"]
"""(program, version arguments) -> the first line it printed, or None when it is not on PATH.
The dr commands hand in their own (their simulated world's) to run the same checks."""


def _run_version(argv: list[str]) -> str:
    """The first line a version command printed (`(exit N) …` when it failed), or why it could not run."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/nonexistent"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "AWS_PAGER": "",
        "LC_ALL": "C",
    }
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            timeout=VERSION_TIMEOUT,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"(`{' '.join(argv)}` did not answer in {VERSION_TIMEOUT:.0f} s)"
    except OSError as err:
        return f"(`{' '.join(argv)}` could not run: {err.strerror or err})"
    text = (done.stdout[:OUTPUT_CAP] + b"\n" + done.stderr[:OUTPUT_CAP]).decode("utf-8", "replace")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")[:200]
    return first if done.returncode == 0 else f"(exit {done.returncode}) {first}".rstrip()


def ask_path(program: str, args: list[str]) -> str | None:
    """The program on PATH, asked for its version."""
    found = shutil.which(program)
    return None if found is None else _run_version([found, *args])


def _at(program: str) -> str:
    found = shutil.which(program)
    return f" at {found}" if found else ""


def _version_tuple(text: str) -> tuple[int, ...] | None:
    if text.startswith("("):  # it failed or could not run: whatever number follows is not a version
        return None
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(part) for part in found.groups()) if found else None


def pulumi_cli(ask: Ask = ask_path) -> Check:
    name, needed = "Pulumi CLI", "pulumi up, dr, upgrade"
    line = ask("pulumi", ["version"])
    if line is None:
        return Check(
            name, "fail", "not found on PATH; install 3.115.0 or later (pulumi.com/docs/install)", needed
        )
    version = _version_tuple(line)
    if version is None:
        return Check(name, "fail", f"`pulumi version` printed no version ({shown(line)!r})", needed)
    number = ".".join(map(str, version))
    if version < PULUMI_MIN:
        return Check(
            name,
            "fail",
            f"{number}{_at('pulumi')}; 3.115.0 or later applies transforms to pulumi-eks's children",
            needed,
        )
    return Check(name, "pass", f"{number}{_at('pulumi')}", needed)


def aws_cli(ask: Ask = ask_path) -> Check:
    name, needed = "AWS CLI v2", "pulumi up (kubeconfig: aws eks get-token), dr, upgrade"
    line = ask("aws", ["--version"])
    if line is None:
        return Check(name, "fail", "not found on PATH; the kubeconfig runs `aws eks get-token`", needed)
    match = re.match(r"aws-cli/(\d+)\.(\d+)\.(\d+)", line)
    if not match:
        return Check(name, "fail", f"`aws --version` printed no aws-cli version ({shown(line)!r})", needed)
    version = ".".join(match.groups())
    if match.group(1) != "2":
        return Check(name, "fail", f"{version}{_at('aws')}; version 2 is needed", needed)
    return Check(name, "pass", f"{version}{_at('aws')}", needed)


def git(ask: Ask = ask_path) -> Check:
    name, needed = "git", "fleet, dr"
    line = ask("git", ["--version"])
    if line is None:
        return Check(name, "fail", "not found on PATH", needed)
    version = _version_tuple(line)
    if version is None:
        return Check(name, "fail", f"`git --version` printed no version ({shown(line)!r})", needed)
    return Check(name, "pass", f"{'.'.join(map(str, version))}{_at('git')}", needed)


def kustomize_engine() -> Check:
    name, needed = "kustomize engine", "fleet verify, fleet diff, dr verify"
    # Imported here: the fleet package is not needed for the other checks.
    from eksgitops.fleet.kustomize_engine import EngineMissing, find_engine

    try:
        engine = find_engine()
    except EngineMissing as err:
        return Check(name, "fail", str(err), needed)
    argv = [engine.binary, "version", "--client"] if engine.kubectl else [engine.binary, "version"]
    line = _run_version(argv)
    if line.startswith("("):
        return Check(name, "fail", f"{engine.binary}: {shown(line)}", needed)
    kind = "kubectl's kustomize" if engine.kubectl else "kustomize"
    return Check(name, "pass", f"{kind}, {line} ({engine.binary})", needed)


def state_backend(project_dir: Path, explicit: str | None, online: bool = False) -> Check:
    """Which backend `pulumi up` would use. A file backend is checked for writing; an s3 one is
    reached only with --online; any other is named, not judged (skipped)."""
    name, needed = "state backend", "pulumi up, dr, upgrade"
    from eksgitops.dr.preflight import backend_url

    url = backend_url(project_dir, explicit)
    if not url:
        return Check(name, "fail", "none configured: set PULUMI_BACKEND_URL or run `pulumi login`", needed)
    parsed = urlparse(url)
    if parsed.scheme == "file":
        path = Path(os.path.expanduser(parsed.netloc + parsed.path))
        if path.is_dir() and os.access(path, os.W_OK):
            return Check(name, "pass", f"{url}: a writable folder", needed)
        return Check(name, "fail", f"{url}: not a writable folder", needed)
    if parsed.scheme == "s3" and online:
        import boto3

        region = parse_qs(parsed.query).get("region", [None])[0]
        try:
            boto3.client("s3", region_name=region).head_bucket(Bucket=parsed.netloc)
        except Exception as err:  # botocore's errors share no base worth importing here
            return Check(name, "fail", f"s3://{parsed.netloc}: {shown(str(err))[:300]}", needed)
        return Check(name, "pass", f"s3://{parsed.netloc} is reachable", needed)
    where = f"{parsed.scheme}://{parsed.netloc}" if parsed.scheme else shown(url)
    why = "reached only with --online" if parsed.scheme == "s3" else "not reached by doctor"
    return Check(name, "skipped", f"{where} configured; {why}", needed)


def signing_tools(
    config: Mapping[str, Any] | None, which: Callable[[str], str | None] = shutil.which
) -> Check:
    """gpg or ssh-keygen, where the stack asks the agent to verify signatures."""
    name, needed = "signing tools", "fleet bootstrap --signing-key, fleet verify (signatures)"
    verify = (config or {}).get("gitops")
    verify = verify.get("verify") if isinstance(verify, dict) else None
    if config is None:
        return Check(name, "skipped", "no stack given (eksgitops doctor STACK)", needed)
    if not isinstance(verify, dict):
        return Check(name, "skipped", "the stack verifies no signatures (gitops.verify)", needed)
    keys = verify.get("publicKeys") or []
    texts = [key for key in keys if isinstance(key, str)] if isinstance(keys, list) else []
    wanted = set()
    for text in texts:
        wanted.add("gpg" if "BEGIN PGP PUBLIC KEY BLOCK" in text else "ssh-keygen")
    if not wanted:
        return Check(name, "skipped", "gitops.verify lists no Git public keys", needed)
    missing = sorted(tool for tool in wanted if not which(tool))
    if missing:
        return Check(name, "fail", f"{', '.join(missing)} not found on PATH", needed)
    return Check(name, "pass", f"{', '.join(sorted(wanted))} found", needed)


def credentials(region: str | None, accounts: set[str], online: bool) -> Check:
    """Credentials for the stack's account and region: only with --online (it calls STS).

    `accounts` is the stack's `aws:allowedAccountIds` (empty: the stack pins none)."""
    name, needed = "AWS credentials", "pulumi up, dr, upgrade"
    if not online:
        return Check(name, "skipped", "offline; --online asks STS who the credentials are", needed)
    if not region:
        return Check(name, "skipped", "no stack given (eksgitops doctor STACK --online)", needed)
    import boto3

    try:
        identity = boto3.client("sts", region_name=region).get_caller_identity()
    except Exception as err:  # botocore's errors share no base worth importing here
        return Check(name, "fail", f"STS in {region}: {shown(str(err))[:300]}", needed)
    account = str(identity.get("Account", ""))
    if accounts and account not in accounts:
        return Check(
            name,
            "fail",
            f"the credentials are of account {account}; the stack allows {', '.join(sorted(accounts))}",
            needed,
        )
    pinned = "" if accounts else "; the stack pins no account (aws:allowedAccountIds)"
    return Check(name, "pass", f"account {account} in {region} ({identity.get('Arn', '')}){pinned}", needed)
