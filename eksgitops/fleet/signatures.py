"""`fleet verify` checks a revision's signatures as source-controller would (docs/signing.md).

The mode is GitRepository `spec.verify.mode`: HEAD verifies the commit, Tag the annotated tag
object, TagAndHEAD both. A signature counts when it is good and made by one of the trusted
keys (OpenPGP or SSH), as in source-controller, where every key of the Secret is trusted and
no other is.

git checks the signatures itself (`git verify-commit`, `git verify-tag`), run with an
environment of our own: only PATH (to find gpg and ssh-keygen) and a scratch HOME and
GNUPGHOME holding nothing but the trusted keys, so neither the user's keyring, agent, nor git
configuration takes part. The trusted keys are imported with ultimate owner trust there (the
keyring is the trust decision, as in source-controller); SSH keys go into an allowed-signers
file matching any principal.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from eksgitops.components.spec.gitops_verify import KeyProblem, PublicKey, VerifyMode, VerifySpec, parse_key
from eksgitops.fleet.findings import ERROR, Report
from eksgitops.fleet.repo import FleetError

MODES: tuple[VerifyMode, ...] = ("HEAD", "Tag", "TagAndHEAD")
MAX_TRUSTED_FILE = 1024 * 1024
GIT_TIMEOUT = 60
_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.DOTALL)


class TrustedKeysError(ValueError):
    """--trusted-keys names no readable file of keys: a usage problem (exit 2)."""


@dataclass(frozen=True)
class Signature:
    """The verdict on one signed object (a commit or an annotated tag)."""

    object: str
    """`commit <sha>` or `tag <name>`."""
    trusted: bool
    author: str
    """The commit's author, or the tag's tagger."""
    committer: str
    signer: str
    """Who signed it as git reports it (key id or fingerprint and user id), "" when unsigned."""
    problem: str
    """Why it does not count, "" when it does."""

    def document(self) -> dict[str, object]:
        return asdict(self)


def read_trusted_keys(path: Path) -> list[PublicKey]:
    """The OpenPGP and SSH public keys of a file: armored blocks and key lines, `#` comments."""
    try:
        if path.stat().st_size > MAX_TRUSTED_FILE:
            raise TrustedKeysError(f"--trusted-keys {path}: larger than {MAX_TRUSTED_FILE // 1024} KiB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrustedKeysError(f"--trusted-keys {path}: cannot be read ({exc.__class__.__name__})") from None
    keys: list[PublicKey] = []
    pieces = [m[0] for m in _BLOCK.finditer(text)]
    rest = _BLOCK.sub("", text)
    pieces += [line for line in rest.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for number, piece in enumerate(pieces, 1):
        try:
            key = parse_key(piece)
        except KeyProblem as exc:
            raise TrustedKeysError(f"--trusted-keys {path}: key {number} {exc}") from None
        if key.kind not in ("openpgp", "ssh"):
            raise TrustedKeysError(
                f"--trusted-keys {path}: key {number} is a PEM key; Git commits are signed with OpenPGP "
                "or SSH keys"
            )
        keys.append(key)
    if not keys:
        raise TrustedKeysError(f"--trusted-keys {path}: no OpenPGP or SSH public key in it")
    return keys


def _environment(scratch: Path) -> dict[str, str]:
    gnupg = scratch / "gnupg"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(scratch),
        "GNUPGHOME": str(gnupg),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
    }


def _run(
    args: Sequence[str], env: dict[str, str], cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        cwd=cwd,
        env=env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT,
        check=False,
    )


@contextmanager
def keyring(keys: Sequence[PublicKey]) -> Iterator[tuple[dict[str, str], list[str]]]:
    """A scratch HOME/GNUPGHOME trusting exactly `keys`: the environment and git's `-c` options."""
    scratch = Path(tempfile.mkdtemp(prefix="eksgitops-keys-"))
    try:
        env = _environment(scratch)
        gnupg = Path(env["GNUPGHOME"])
        gnupg.mkdir(mode=0o700)
        config = ["-c", "gpg.program=gpg", "-c", "gpg.ssh.program=ssh-keygen"]
        pgp = [k for k in keys if k.kind == "openpgp"]
        if pgp and shutil.which("gpg", path=env["PATH"]) is None:
            raise TrustedKeysError(
                "gpg is not installed: OpenPGP signatures cannot be checked (apt-get install gnupg)"
            )
        for key in pgp:
            _run(["gpg", "--batch", "--quiet", "--import"], env, stdin=key.text)
        listing = _run(["gpg", "--batch", "--with-colons", "--list-keys"], env).stdout if pgp else ""
        fingerprints = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
        if fingerprints:
            trust = "".join(f"{fpr}:6:\n" for fpr in fingerprints)
            _run(["gpg", "--batch", "--import-ownertrust"], env, stdin=trust)
        ssh = [k for k in keys if k.kind == "ssh"]
        allowed = scratch / "allowed_signers"
        # `*` matches any principal: the key alone is trusted, as in source-controller.
        allowed.write_text("".join(f"* {k.text}" for k in ssh))
        config += ["-c", f"gpg.ssh.allowedSignersFile={allowed}"]
        yield env, config
    finally:
        if any(k.kind == "openpgp" for k in keys):
            # gpg may have started an agent for the scratch keyring: it goes with the keyring.
            with suppress(OSError, subprocess.TimeoutExpired):
                _run(["gpgconf", "--kill", "all"], _environment(scratch))
        shutil.rmtree(scratch, ignore_errors=True)


def _commit(repo: Path, sha: str, env: dict[str, str], config: list[str]) -> Signature:
    fmt = "%G?%x00%GS%x00%GK%x00%an <%ae>%x00%cn <%ce>"
    out = _run(["git", *config, "log", "-1", f"--format={fmt}", sha, "--"], env, cwd=repo)
    status, signer, key, author, committer = (out.stdout.rstrip("\n").split("\x00") + [""] * 5)[:5]
    who = " ".join(p for p in (key, signer) if p and p != "*")  # SSH: `*` is our allowed-signers principal
    if status == "G":
        return Signature(f"commit {sha}", True, author, committer, who, "")
    problem = {
        "N": "is not signed",
        "B": "has a bad signature",
        "E": "is signed by a key that is not trusted",
        "U": "is signed by a key that is not trusted",
        "X": "has an expired signature",
        "Y": "is signed by an expired key",
        "R": "is signed by a revoked key",
    }.get(
        status, f"cannot be checked ({out.stderr.strip().splitlines()[-1] if out.stderr.strip() else status})"
    )
    return Signature(f"commit {sha}", False, author, committer, who, problem)


def _tag(repo: Path, tag: str, env: dict[str, str], config: list[str]) -> Signature:
    ref = f"refs/tags/{tag}"
    kind = _run(["git", "cat-file", "-t", ref], env, cwd=repo).stdout.strip()
    meta = _run(
        ["git", "for-each-ref", "--format=%(taggername) %(taggeremail)", ref], env, cwd=repo
    ).stdout.strip()
    if kind != "tag":
        problem = (
            "is not an annotated tag (a lightweight tag carries no signature)" if kind else "does not exist"
        )
        return Signature(f"tag {tag}", False, meta, meta, "", problem)
    out = _run(["git", *config, "verify-tag", "--raw", ref], env, cwd=repo)
    text = out.stderr
    signer = ""
    if m := re.search(r"\[GNUPG:\] GOODSIG ([0-9A-F]+) (.*)", text):
        signer = f"{m[1]} {m[2]}"
    elif m := re.search(r'Good "git" signature for (\S+) with (\S+) key (\S+)', text):
        signer = f"{m[3]} ({m[2]})"
    if out.returncode == 0:
        return Signature(f"tag {tag}", True, meta, meta, signer, "")
    body = _run(["git", "cat-file", "tag", ref], env, cwd=repo).stdout
    signed = "-----BEGIN PGP SIGNATURE-----" in body or "-----BEGIN SSH SIGNATURE-----" in body
    problem = "is signed by a key that is not trusted" if signed else "is not signed"
    return Signature(f"tag {tag}", False, meta, meta, signer, problem)


def check(
    repo: Path, sha: str, mode: VerifyMode, tag: str | None, keys: Sequence[PublicKey]
) -> list[Signature]:
    """The signatures `mode` requires at `sha` (and at `tag` for the Tag modes), checked."""
    try:
        return _check(repo, sha, mode, tag, keys)
    except subprocess.TimeoutExpired:
        raise FleetError(f"checking the signatures of {sha[:12]} took over {GIT_TIMEOUT}s") from None


def _check(
    repo: Path, sha: str, mode: VerifyMode, tag: str | None, keys: Sequence[PublicKey]
) -> list[Signature]:
    with keyring(keys) as (env, config):
        found: list[Signature] = []
        if mode in ("Tag", "TagAndHEAD"):
            if tag is None:
                found.append(
                    Signature(
                        "tag (none)",
                        False,
                        "",
                        "",
                        "",
                        f"mode {mode} verifies a tag: give the tag as --revision",
                    )
                )
            else:
                found.append(_tag(repo, tag, env, config))
        if mode in ("HEAD", "TagAndHEAD"):
            found.append(_commit(repo, sha, env, config))
        return found


@dataclass(frozen=True)
class SigningPolicy:
    """What `fleet verify` checks: the mode, the tag it follows, the trusted keys, and whence they came."""

    mode: VerifyMode
    tag: str | None
    keys: tuple[PublicKey, ...]
    origin: str
    """`stack dev` or `--trusted-keys FILE`, for the lines."""


def record(report: Report, found: Sequence[Signature], policy: SigningPolicy) -> None:
    """Each signature that does not count as an error of `report` (exit 1); all of them in its JSON."""
    report.signatures = [s.document() for s in found]
    for sig in found:
        if sig.trusted:
            report.printed_notes.append(f"{sig.object}: signed by {sig.signer} (trusted by {policy.origin})")
            continue
        who = f"author {sig.author or '?'}, committer {sig.committer or '?'}"
        if sig.object.startswith("tag "):
            who = f"tagger {sig.author or '?'}"
        report.add(
            sig.object,
            f"{sig.problem} ({who}; mode {policy.mode}, keys of {policy.origin}): source-controller would "
            "refuse this revision",
            ERROR,
        )
    report.finish()


def policy_for(
    *,
    trusted_keys: Path | None,
    mode: VerifyMode | None,
    revision: str | None,
    stack: str | None = None,
    stack_verify: VerifySpec | None = None,
) -> SigningPolicy | None:
    """What `fleet verify` checks, from `--trusted-keys`/`--signature-mode` or the stack's gitops.verify.

    None: nothing asked for a signature check. TrustedKeysError: a flag is wrong (exit 2).
    """
    if trusted_keys is not None:
        chosen: VerifyMode = mode or "HEAD"
        if chosen != "HEAD" and revision is None:
            raise TrustedKeysError(f"--signature-mode {chosen}: verifies a tag; give it as --revision")
        tag = revision if chosen != "HEAD" else None
        return SigningPolicy(
            chosen, tag, tuple(read_trusted_keys(trusted_keys)), f"--trusted-keys {trusted_keys}"
        )
    if mode is not None:
        raise TrustedKeysError(
            "--signature-mode: goes with --trusted-keys (with --stack the stack file sets it)"
        )
    if stack_verify is None or not stack_verify.public_keys or stack_verify.provider is not None:
        return None  # no verification, or an OCI source: the cluster checks the artifact, not Git
    keys = tuple(k for k in stack_verify.parsed_keys() if k.kind in ("openpgp", "ssh"))
    return SigningPolicy(stack_verify.mode, stack_verify.tag, keys, f"stack {stack}")
