"""`fleet bootstrap --signing-key`: sign the bootstrap commit, or refuse to push one that would never sync.

With `gitops.verify` on, source-controller (or Argo CD) refuses an unsigned commit, so an
unsigned bootstrap commit would stop the environment from syncing at all. The key is given
as git takes it with `gpg.format` (docs/signing.md):

- an OpenPGP key id or fingerprint (8 to 40 hex digits) from the user's GnuPG keyring
  (`gpg.format=openpgp`);
- the path of an SSH private key file, or of its `.pub` with the key in ssh-agent
  (`gpg.format=ssh`).

The key must sign without a prompt (an agent holding it, or a CI key without passphrase):
git runs with no terminal. Before pushing, the signed commit is checked against the stack's
trusted keys exactly as `fleet verify` checks it (fleet/signatures.py): a commit signed by a
key the cluster does not trust is not pushed either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import git

from eksgitops.fleet.repo import Checkout, FleetError, commit_all
from eksgitops.fleet.signatures import SigningPolicy
from eksgitops.fleet.signatures import check as check_signatures

_KEY_ID = re.compile(r"(0x)?([0-9A-Fa-f]{8}|[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})")


class SigningKeyError(ValueError):
    """--signing-key is neither a key id nor a readable SSH key file (exit 2)."""


class SigningRefused(FleetError):
    """The signed commit would not be trusted by the cluster, or could not be signed: nothing pushed."""


@dataclass(frozen=True)
class SigningKey:
    """A key as git's `user.signingKey` takes it, with its `gpg.format`."""

    format: Literal["openpgp", "ssh"]
    key: str

    @classmethod
    def parse(cls, value: str) -> SigningKey:
        if _KEY_ID.fullmatch(value):
            return cls("openpgp", value.removeprefix("0x").upper())
        path = Path(value).expanduser()
        if value.startswith("-") or not path.is_file():
            raise SigningKeyError(
                f"{value!r} is neither an OpenPGP key id or fingerprint (8-40 hex digits) nor an SSH key file"
            )
        head = path.read_text(encoding="utf-8", errors="replace")[:200]
        if "PGP PRIVATE KEY" in head:
            raise SigningKeyError(
                f"{value} is an exported OpenPGP private key; import it (gpg --import) and give its key id"
            )
        if "OPENSSH PRIVATE KEY" not in head and not head.startswith(("ssh-", "sk-", "ecdsa-")):
            raise SigningKeyError(f"{value} is not an SSH private key or public key file")
        return cls("ssh", str(path.resolve()))

    def configure(self, co: Checkout) -> None:
        """Make every commit in the throw-away clone signed with this key."""
        with co.repo.config_writer("repository") as writer:
            writer.set_value("gpg", "format", self.format)
            writer.set_value("user", "signingkey", self.key)
            writer.set_value("commit", "gpgsign", "true")


def check_trusted(co: Checkout, sha: str, policy: SigningPolicy | None) -> str:
    """The signer of `sha`; SigningRefused when the stack's keys would not trust it."""
    if policy is None:
        return "(no keys to check against)"
    (found,) = check_signatures(co.root, sha, "HEAD", None, policy.keys)
    if not found.trusted:
        raise SigningRefused(
            f"refusing to push: the bootstrap commit {found.problem.removeprefix('is ')} "
            f"({found.signer or 'no signature'}), and {policy.origin} trusts only its gitops.verify "
            "keys; sign with one of them (--signing-key). Nothing was pushed"
        )
    return found.signer


def commit_signed(co: Checkout, paths: list[str], message: str, trust: SigningPolicy | None) -> str | None:
    """`commit_all`, signed by the key `configure` set; the signature checked against `trust`."""
    try:
        sha = commit_all(co, paths, message)
    except git.GitCommandError as exc:
        lines = [line.strip() for line in str(exc.stderr or "").splitlines() if line.strip()]
        detail = lines[-1].removeprefix("stderr: ").strip(" '") if lines else "git failed"
        raise SigningRefused(
            f"refusing to push: git could not sign the bootstrap commit ({detail}); the key must sign "
            "without a prompt (gpg-agent or ssh-agent holding it, or a key without passphrase). "
            "Nothing was pushed"
        ) from None
    if sha is not None:
        check_trusted(co, sha, trust)
    return sha


def unsigned_refusal(origin: str) -> str:
    """Why bootstrap will not push an unsigned commit to a verifying environment."""
    return (
        f"is required: {origin} has gitops.verify on, and the agent refuses an unsigned commit, so an "
        "unsigned bootstrap commit would never sync. Give an OpenPGP key id or an SSH key file whose public "
        "key is in gitops.verify.publicKeys; nothing was pushed"
    )
