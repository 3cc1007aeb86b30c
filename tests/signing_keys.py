"""Real signing keys made by the tests: OpenPGP with gpg in batch mode, SSH with ssh-keygen.

Each key lives in its own folder (a GNUPGHOME of its own for OpenPGP), so a test's keyring
never trusts a key the test did not give it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C"}


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed (apt-get install gnupg openssh-client)")


@dataclass(frozen=True)
class Key:
    """A key pair: `public` is what a stack file or a trusted-keys file holds."""

    kind: str
    """openpgp or ssh"""
    public: str
    home: Path
    """OpenPGP: the GNUPGHOME holding the secret key; SSH: the folder of the key files."""
    key_id: str
    """OpenPGP: the long key id; SSH: the private key file."""
    name: str
    email: str

    def git_config(self) -> list[str]:
        """`git -c …` arguments that sign with this key, as `gpg.format` chooses."""
        if self.kind == "ssh":
            return ["-c", "gpg.format=ssh", "-c", f"user.signingkey={self.key_id}"]
        return ["-c", "gpg.format=openpgp", "-c", f"user.signingkey={self.key_id}"]

    def env(self) -> dict[str, str]:
        return {**BASE_ENV, "GNUPGHOME": str(self.home), "HOME": str(self.home)}


def openpgp_key(folder: Path, name: str = "Alice Admin", email: str = "alice@example.com") -> Key:
    need("gpg")
    home = folder / f"gnupg-{email}"
    home.mkdir(mode=0o700, parents=True)
    env = {**BASE_ENV, "GNUPGHOME": str(home)}
    # The gpg-agent this key's signing starts is stopped when the tests end.
    atexit.register(
        subprocess.run, ["gpgconf", "--kill", "gpg-agent"], env=env, check=False, capture_output=True
    )
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            f"{name} <{email}>",
            "ed25519",
            "sign",
            "never",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    listing = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--list-keys", email],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    key_id = next(line.split(":")[4] for line in listing.splitlines() if line.startswith("pub:"))
    public = subprocess.run(
        ["gpg", "--batch", "--armor", "--export", key_id], env=env, check=True, capture_output=True, text=True
    ).stdout
    return Key("openpgp", public, home, key_id, name, email)


def openpgp_secret(key: Key) -> str:
    """The armored private key (to prove the stack file refuses it)."""
    return subprocess.run(
        [
            "gpg",
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--armor",
            "--export-secret-keys",
        ],
        env=key.env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def ssh_key(folder: Path, name: str = "Bob Builder", email: str = "bob@example.com") -> Key:
    need("ssh-keygen")
    home = folder / f"ssh-{email}"
    home.mkdir(mode=0o700, parents=True)
    path = home / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", email, "-f", str(path)],
        env=BASE_ENV,
        check=True,
        capture_output=True,
    )
    return Key("ssh", path.with_suffix(".pub").read_text(), home, str(path), name, email)


def git(repo: Path, *args: str, key: Key | None = None, who: tuple[str, str] | None = None) -> str:
    """Run git in `repo` with an environment of our own (no user config), signing with `key`."""
    name, email = who or ((key.name, key.email) if key else ("Mallory Unsigned", "mallory@example.com"))
    home = key.home if key is not None else repo.parent
    env = {
        **BASE_ENV,
        "HOME": str(home),
        "GNUPGHOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    config = key.git_config() if key is not None else []
    return subprocess.run(
        ["git", *config, *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
