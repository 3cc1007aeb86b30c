"""How every eksgitops command hands a repository to git: one URL check, one environment.

`fleet` (through GitPython) and `dr` (plain `git`) both talk to repositories named by a user or
by a stack file. Git interprets more in a URL than a URL: `ext::sh -c …` and `fd::` run
commands, `ssh://-oProxyCommand=…` becomes an ssh option, a URL after no `--` may be an option
(`--upload-pack=…`), and an upper-case scheme (`FILE://`) is looked up as a remote helper
program. Its environment redirects it too (`GIT_DIR`, `GIT_EXEC_PATH`, `GIT_ASKPASS`,
`GIT_TRACE_CURL` writing headers to a file). So:

* `check_remote` refuses every such URL with a message saying why, before git runs;
* `git_environment` is the only environment git is started with: git's own variables are kept
  only where they choose identity, config files or TLS trust, the protocols are limited to the
  ones we allow, and the token is an `http.<url>.extraHeader` for exactly the repository's URL,
  passed through `GIT_CONFIG_*` (not argv, where every user of the machine can read it) with
  redirects off, so a redirect cannot carry it to another host;
* `run_git` runs plain git with it (GitPython callers use `scrubbed_process_environment`, since
  GitPython always starts from `os.environ`).
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

ALLOWED_SCHEMES = ("https", "ssh", "git", "http", "file")
# GIT_ALLOW_PROTOCOL wins over any protocol.*.allow a config file sets: no ext, fd or helpers.
ALLOWED_PROTOCOLS = "https:ssh:git:http:file"

# git's own variables that only choose who commits, which config files are read and which TLS
# roots are trusted. Every other GIT_* variable is dropped: they redirect the repository
# (GIT_DIR, GIT_WORK_TREE, GIT_OBJECT_DIRECTORY…), the programs git runs (GIT_EXEC_PATH,
# GIT_SSH*, GIT_ASKPASS, GIT_PROXY_COMMAND…), what it writes (GIT_TRACE*, GIT_CURL_VERBOSE)
# or what it trusts (GIT_SSL_NO_VERIFY, GIT_ALLOW_PROTOCOL); none of them applies to the
# throw-away clones these commands work in.
KEPT_GIT_VARIABLES = frozenset(
    {
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_SYSTEM",
        "GIT_SSL_CAINFO",
        "GIT_SSL_CAPATH",
        "GIT_HTTP_USER_AGENT",
    }
)
LOW_SPEED_LIMIT = 1000
"""Bytes a second below which an http(s) transfer counts as stalled."""
LOW_SPEED_TIME = 60
"""Seconds a transfer may stay stalled before git gives up on it."""

# Not GIT_*, but git or ssh would run them as programs.
DROPPED_OTHER_VARIABLES = ("SSH_ASKPASS", "GIT_PYTHON_GIT_EXECUTABLE")

_SCHEME_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)", re.DOTALL)
# `<transport>::<address>` makes git run `git-remote-<transport>` (ext:: runs a shell command).
_REMOTE_HELPER = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*::")
_SCP_LIKE = re.compile(r"(?:(?P<user>[^@/:]*)@)?(?P<host>\[[^\]/]*\]|[^:/\[\]]+):(?!//)")
_CONFIG_INDEX = re.compile(r"0|[1-9][0-9]{0,5}")


class TransportError(ValueError):
    """A remote, a ref or a git environment that git must not be given; the message is one line
    naming the flag or variable, what is wrong and what is allowed, and never holds a secret."""


def shown_url(url: str) -> str:
    """The URL as it may appear in a message: any `user:password@` replaced."""
    match = _SCHEME_URL.fullmatch(url)
    if not match:
        return url
    authority, sep, path = _split_authority(match.group("rest"))
    if "@" in authority:
        user = authority.rsplit("@", 1)[0]
        kept = user if user == "git" else "***"
        authority = f"{kept}@{authority.rsplit('@', 1)[1]}"
    return f"{match.group('scheme')}://{authority}{sep}{path}"


def _split_authority(rest: str) -> tuple[str, str, str]:
    """`host:port/path?q` -> (authority, first separator, remainder)."""
    match = re.search(r"[/?#]", rest)
    if not match:
        return rest, "", ""
    return rest[: match.start()], match.group(0), rest[match.end() :]


def _host_and_port(authority: str) -> tuple[str, str | None]:
    hostport = authority.rsplit("@", 1)[-1]
    if hostport.startswith("["):
        host, _, after = hostport[1:].partition("]")
        return host, after[1:] if after.startswith(":") else None
    host, colon, port = hostport.partition(":")
    return host, port if colon else None


def ipv4_number(host: str) -> int | None:
    """The address `host` names as inet_aton (and curl) read it, or None when it is not numeric.

    One to four parts, each decimal, `0x` hex or `0` octal; the last fills the remaining bytes:
    `2130706433`, `0x7f000001`, `017700000001`, `127.1` and `0x7f.0.0.1` all mean 127.0.0.1.
    """
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", part):
            values.append(int(part[2:], 16))
        elif re.fullmatch(r"0[0-7]*", part):
            values.append(int(part, 8))
        elif re.fullmatch(r"[1-9][0-9]*", part):
            values.append(int(part))
        else:
            return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for value in head:
        number = number * 256 + value
    return (number << (8 * (4 - len(head)))) | last


def is_loopback_host(host: str) -> bool:
    """Whether connecting to `host` stays on this machine, reading numbers as git and curl do.

    Only `localhost` among names: any other name goes to a resolver that may say anything.
    """
    if host.lower() == "localhost":
        return True
    number = ipv4_number(host)
    if number is not None:
        return ipaddress.IPv4Address(number).is_loopback
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        return False
    mapped = address.ipv4_mapped
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def is_loopback(url: str) -> bool:
    """Whether a `scheme://` URL points at this machine (credentials then cross no network)."""
    match = _SCHEME_URL.fullmatch(url)
    if not match:
        return False
    authority = _split_authority(match.group("rest"))[0]
    if re.search(r"[\s\\]", authority):
        return False
    return is_loopback_host(_host_and_port(authority)[0])


def url_scheme(url: str) -> str | None:
    """The scheme of a `scheme://` URL as written; None for paths and scp-like `user@host:path`."""
    match = _SCHEME_URL.fullmatch(url)
    return match.group("scheme") if match else None


def _looks_like_option(text: str | None) -> bool:
    return bool(text) and text.startswith("-")  # type: ignore[union-attr]


def check_remote(remote: str, *, flag: str, credentials: bool) -> None:
    """Refuse a repository git must not be handed; TransportError says why, naming `flag`.

    Allowed: `https://`, `ssh://`, `git://`, `file://`, `http://` (without credentials unless to
    a loopback address), scp-like `user@host:path`, and local paths. `credentials` says whether
    a token will be sent (a user name or password in the URL counts too).
    """
    where = f"{flag} {shown_url(remote)!r}"
    if any(ord(c) < 32 or ord(c) == 127 for c in remote):
        raise TransportError(f"{where}: contains control characters; give a repository URL or path")
    if remote.startswith("-"):
        raise TransportError(
            f"{where}: starts with '-', which git would read as an option; give a repository URL or path"
        )
    if _REMOTE_HELPER.match(remote):
        helper = remote.split("::", 1)[0]
        raise TransportError(
            f"{where}: {helper}:: makes git run a remote helper program (ext:: and fd:: run commands); "
            f"allowed: {', '.join(s + '://' for s in ALLOWED_SCHEMES)}, user@host:path or a local path"
        )
    match = _SCHEME_URL.fullmatch(remote)
    if match is None:
        _check_scp_like(remote, where)
        return
    scheme = match.group("scheme")
    allowed = f"allowed: {', '.join(s + '://' for s in ALLOWED_SCHEMES)}, or user@host:path"
    if scheme not in ALLOWED_SCHEMES:
        if scheme.lower() in ALLOWED_SCHEMES:
            raise TransportError(
                f"{where}: scheme {scheme}:// is not lower-case; git would look for a remote helper "
                f"program git-remote-{scheme} ({allowed})"
            )
        raise TransportError(f"{flag} {shown_url(remote)}: unsupported scheme {scheme}:// ({allowed})")
    authority = _split_authority(match.group("rest"))[0]
    userinfo = authority.rsplit("@", 1)[0] if "@" in authority else None
    host, port = _host_and_port(authority)
    if any(_looks_like_option(part) for part in (userinfo, host, port)):
        raise TransportError(
            f"{where}: a user, host or port starting with '-' would reach ssh as an option "
            "(-oProxyCommand runs a command); give a real host name"
        )
    if port is not None and port and not port.isdigit():
        raise TransportError(f"{where}: port {port!r} is not a number")
    if scheme == "http" and (userinfo or credentials) and not is_loopback(remote):
        raise TransportError(
            f"{flag} {shown_url(remote)}: credentials over plain http:// travel in clear text; "
            "use https:// or ssh"
        )


def _check_scp_like(remote: str, where: str) -> None:
    """git reads `host:path` (a colon before any slash) as ssh; its host must not be an option."""
    colon, slash = remote.find(":"), remote.find("/")
    if colon == -1 or (slash != -1 and slash < colon):
        return  # a local path
    match = _SCP_LIKE.match(remote)
    host = match.group("host") if match else remote[:colon]
    user = match.group("user") if match else None
    if _looks_like_option(host.strip("[]")) or _looks_like_option(user):
        raise TransportError(
            f"{where}: a user or host starting with '-' would reach ssh as an option; give a real host name"
        )


def check_ref(ref: str, *, flag: str) -> None:
    """A branch, tag or commit given to git after options: never an option itself."""
    if not ref.strip() or ref.startswith("-") or not ref.isprintable():
        raise TransportError(f"{flag} {ref!r}: not a branch, tag or commit")


def scrubbed_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) without what would redirect git.

    `GIT_CONFIG_COUNT` with its `GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>` is configuration the
    user gave on purpose (as in ~/.gitconfig) and is kept, but only whole: a count git cannot
    read is a TransportError naming it, not a traceback halfway through a clone.
    """
    source = dict(os.environ if base is None else base)
    env = {
        key: value
        for key, value in source.items()
        if (not key.startswith("GIT_") or key in KEPT_GIT_VARIABLES) and key not in DROPPED_OTHER_VARIABLES
    }
    raw = source.get("GIT_CONFIG_COUNT")
    if raw is not None and raw != "":
        if not _CONFIG_INDEX.fullmatch(raw):
            raise TransportError(
                f"environment variable GIT_CONFIG_COUNT={raw!r}: not a count; unset it or give a whole "
                "number n with GIT_CONFIG_KEY_0..n-1 and GIT_CONFIG_VALUE_0..n-1"
            )
        for i in range(int(raw)):
            if not source.get(f"GIT_CONFIG_KEY_{i}") or f"GIT_CONFIG_VALUE_{i}" not in source:
                raise TransportError(
                    f"environment variable GIT_CONFIG_COUNT={raw}: GIT_CONFIG_KEY_{i} or "
                    f"GIT_CONFIG_VALUE_{i} is missing; set both for every index below the count, or unset it"
                )
            env[f"GIT_CONFIG_KEY_{i}"] = source[f"GIT_CONFIG_KEY_{i}"]
            env[f"GIT_CONFIG_VALUE_{i}"] = source[f"GIT_CONFIG_VALUE_{i}"]
        env["GIT_CONFIG_COUNT"] = raw
    return env


def header_url(url: str) -> str:
    """The URL an `http.<url>.extraHeader` is scoped to: the repository's, without userinfo.

    git matches it against each request's URL (scheme, host and port exactly, the path as a
    prefix), so the header goes to this repository's `info/refs` and `git-upload-pack` only.
    """
    match = _SCHEME_URL.fullmatch(url)
    if not match:
        return url
    authority, sep, path = _split_authority(match.group("rest"))
    hostport = authority.rsplit("@", 1)[-1]
    path = (sep + path).split("?", 1)[0].split("#", 1)[0]
    return f"{match.group('scheme').lower()}://{hostport}{path}"


def git_environment(
    *,
    ssh_command: str,
    url: str | None = None,
    header: str | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The whole environment of a git subprocess that talks to `url`.

    `header` (an `Authorization: …` line) is sent only to `url` when it is an http(s) URL, and
    only through `GIT_CONFIG_*` entries appended after the user's own.
    """
    env = scrubbed_environment(base)
    env.update(
        {
            # Fail fast with a message instead of hanging on a password prompt.
            "GIT_TERMINAL_PROMPT": "0",
            "GCM_INTERACTIVE": "never",
            "GIT_SSH_COMMAND": ssh_command,
            "GIT_ALLOW_PROTOCOL": ALLOWED_PROTOCOLS,
            "GIT_PROTOCOL_FROM_USER": "0",
        }
    )
    # A server that accepts and then stalls ends the transfer after LOW_SPEED_TIME seconds below
    # LOW_SPEED_LIMIT bytes a second (curl's own check; ssh and git:// rely on the callers' timeout).
    entries = [
        ("http.followRedirects", "false"),
        ("http.lowSpeedLimit", str(LOW_SPEED_LIMIT)),
        ("http.lowSpeedTime", str(LOW_SPEED_TIME)),
    ]
    scheme = (url_scheme(url) or "").lower() if url else ""
    if header and scheme in ("http", "https") and url:
        entries.append((f"http.{header_url(url)}.extraHeader", header))
    count = int(env.get("GIT_CONFIG_COUNT") or 0)
    for key, value in entries:
        env[f"GIT_CONFIG_KEY_{count}"] = key
        env[f"GIT_CONFIG_VALUE_{count}"] = value
        count += 1
    env["GIT_CONFIG_COUNT"] = str(count)
    return env


@contextmanager
def scrubbed_process_environment() -> Iterator[None]:
    """Drop what `scrubbed_environment` drops from `os.environ` for the block, then restore it.

    GitPython starts every git from a copy of `os.environ` and can only add to it, so the
    variables that must not reach git are taken out of the process while it runs.
    """
    keep = scrubbed_environment()
    saved = dict(os.environ)
    try:
        for key in [k for k in os.environ if k not in keep]:
            del os.environ[key]
        os.environ.update(keep)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_git(
    args: Sequence[str], *, env: Mapping[str, str], timeout: float, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`git ARGS` with exactly `env`, no stdin, output captured; callers put `--` before URLs.

    git runs in a process group of its own: at `timeout` the whole group is killed (git leaves
    the network to children such as git-remote-https, which killing git alone would orphan) and
    TimeoutExpired is raised.
    """
    with subprocess.Popen(
        ["git", *args],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=os.name == "posix",
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - no process groups
            proc.kill()
    except OSError:
        pass  # already gone
    proc.communicate()
