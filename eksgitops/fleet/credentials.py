"""Git credentials from the environment or files, applied without ever entering a URL or log.

HTTPS tokens travel as an `http.<repository url>.extraHeader` set through `GIT_CONFIG_*`
environment variables (`eksgitops.git_transport`), so they are never written to `.git/config`,
never appear on a command line and never follow a redirect to another host; SSH keys go
through `GIT_SSH_COMMAND` with the path shell-quoted (git runs that variable through a shell, so
a hostile file name must never become a command). Every message that might contain a URL or
git's stderr is passed through `Credentials.scrub` before it is printed.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from eksgitops.git_transport import git_environment

TOKEN_ENV = "EKSGITOPS_GIT_TOKEN"
TOKEN_FILE_ENV = "EKSGITOPS_GIT_TOKEN_FILE"
USERNAME_ENV = "EKSGITOPS_GIT_USERNAME"
SSH_KEY_ENV = "EKSGITOPS_GIT_SSH_KEY"
DEFAULT_USERNAME = "x-access-token"  # what GitHub expects for a token; GitLab accepts any name

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/@\s]+)@")


class CredentialError(Exception):
    """A credential file that cannot be used; the message names the file, never its content."""


@dataclass
class Credentials:
    """What to hand to git: a token for HTTPS and/or a key file for SSH."""

    token: str | None = None
    username: str = DEFAULT_USERNAME
    ssh_key: Path | None = None
    _secrets: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, ssh_key: Path | None = None, token_file: Path | None = None) -> Credentials:
        """Flags win over the environment: `--ssh-key`/`--token-file`, then the EKSGITOPS_* vars."""
        token = None
        tfile = token_file or (Path(os.environ[TOKEN_FILE_ENV]) if os.environ.get(TOKEN_FILE_ENV) else None)
        if tfile is not None:
            try:
                token = tfile.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise CredentialError(f"cannot read token file {tfile}: {exc.strerror}") from None
            if not token:
                raise CredentialError(f"token file {tfile} is empty")
        elif os.environ.get(TOKEN_ENV):
            token = os.environ[TOKEN_ENV].strip()
        key = ssh_key or (Path(os.environ[SSH_KEY_ENV]) if os.environ.get(SSH_KEY_ENV) else None)
        if key is not None and not key.is_file():
            raise CredentialError(f"SSH key {key} not found")
        creds = cls(token=token, username=os.environ.get(USERNAME_ENV) or DEFAULT_USERNAME, ssh_key=key)
        if token:
            creds._secrets = [token, creds._basic(), base64.b64encode(token.encode()).decode()]
        return creds

    def _basic(self) -> str:
        return base64.b64encode(f"{self.username}:{self.token}".encode()).decode()

    def git_env(self, url: str | None = None) -> dict[str, str]:
        """The whole environment of a git subprocess talking to `url`: non-interactive, git's own
        redirecting variables dropped, and the credentials (the token only for `url` itself)."""
        # A server that stops answering is dropped after a minute of silence, not waited on forever.
        opts = "-o BatchMode=yes -o ConnectTimeout=15 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"
        ssh = f"ssh {opts}"
        if self.ssh_key is not None:
            key = shlex.quote(str(self.ssh_key))
            ssh = f"ssh -i {key} -o IdentitiesOnly=yes {opts}"
        header = f"Authorization: Basic {self._basic()}" if self.token else None
        return git_environment(ssh_command=ssh, url=url, header=header)

    def scrub(self, text: str) -> str:
        """Remove tokens, basic-auth headers and `user:password@` from text meant for output."""
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return scrub_url(text)


def scrub_url(text: str) -> str:
    """Drop any userinfo (`https://user:token@host`) from URLs inside text."""
    # `ssh://git@host` carries no secret and users recognise it, so it stays readable.
    return _USERINFO.sub(
        lambda m: m.group(0) if m.group("user") == "git" else m.group("scheme") + "***@", text
    )


_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://(?:(?P<userinfo>[^/@]*)@)?(?P<rest>.*)", re.DOTALL)


def url_scheme(url: str) -> str | None:
    """The scheme of a `scheme://` URL, lower-case; None for paths and scp-like `user@host:path`."""
    match = _URL.fullmatch(url)
    return match.group("scheme").lower() if match else None


def url_userinfo(url: str) -> str | None:
    match = _URL.fullmatch(url)
    return match.group("userinfo") if match else None


def strip_userinfo(url: str) -> str:
    """The URL to write into the fleet repository: no password or token, ever.

    HTTP(S) URLs lose their userinfo entirely (Argo CD takes credentials from its repository
    Secret); SSH URLs keep only the user name, which the SSH server needs (`git@`).
    """
    match = _URL.fullmatch(url)
    if not match or match.group("userinfo") is None:
        return url
    scheme, userinfo, rest = match.group("scheme"), match.group("userinfo"), match.group("rest")
    if scheme.lower() == "ssh":
        user = userinfo.split(":", 1)[0]
        return f"{scheme}://{user}@{rest}" if user else f"{scheme}://{rest}"
    return f"{scheme}://{rest}"
