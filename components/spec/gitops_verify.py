"""`gitops.verify`: which signatures the agent requires before it applies a revision.

For a Git source (Flux or Argo CD): `mode` (HEAD, Tag, TagAndHEAD, as source-controller's
GitRepository `spec.verify.mode` names them) and `publicKeys`, ASCII-armored OpenPGP public keys
or SSH public key lines (authorized_keys format). For an OCI source (Flux): `provider` cosign
with `matchOIDCIdentity` (keyless: the issuer and subject of the signing certificate, as Go
regular expressions) or with `publicKeys` (PEM public keys), or notation with `publicKeys`
(PEM CA certificates). Keys are public, so plain values; a private key is refused without ever
being shown.

The key parsing here is also what `fleet verify --trusted-keys` and the agent installs use,
so the cluster, the CLI and the stack file agree on what a key is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from eksgitops.components.spec.base import SpecModel
from eksgitops.components.spec.errors import SpecValueError

VerifyMode = Literal["HEAD", "Tag", "TagAndHEAD"]
# A Kubernetes Secret holds at most 1 MiB; a key with many third-party signatures can be large.
MAX_KEYS = 32
MAX_KEY_BYTES = 64 * 1024
MAX_PATTERN = 1024
SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
_SSH_LINE = re.compile(r"(?P<type>[a-z0-9@.-]+) (?P<blob>[A-Za-z0-9+/]+={0,2})(?: [ -~]*)?")
_ARMOR = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----\r?\n(?P<body>.*?)\r?\n-----END (?P=label)-----", re.DOTALL
)
_CRC = re.compile(r"=[A-Za-z0-9+/]{4}")
PRIVATE_KEY_HINT = (
    "only public keys belong here: export the public half (gpg --export --armor KEYID, the .pub file "
    "ssh-keygen wrote, or cosign.pub) and keep the private key out of the stack file"
)


@dataclass(frozen=True)
class PublicKey:
    """One trusted key, parsed: its kind, its id (as the agent and git name it) and its text."""

    kind: Literal["openpgp", "ssh", "pem-public-key", "pem-certificate"]
    key_id: str
    """OpenPGP: the 16-hex-digit long key id (Argo CD's `keyID`); SSH: `SHA256:<base64>` as
    ssh-keygen prints it; PEM: the first 16 hex digits of the SHA-256 of the DER."""
    text: str

    @property
    def file_name(self) -> str:
        """The key's name in the Flux verification Secret (source-controller reads the suffix)."""
        suffix = {"openpgp": "asc", "ssh": "sshpub", "pem-public-key": "pub", "pem-certificate": "crt"}
        stem = self.key_id.lower()
        if self.kind == "ssh":  # SHA256:<base64> is case-sensitive: name it by a hex digest instead
            stem = hashlib.sha256(self.text.encode()).hexdigest()[:16]
        return f"{stem}.{suffix[self.kind]}"


class KeyProblem(ValueError):
    """A key that is not one; the message never quotes the key."""


def _packet(data: bytes) -> tuple[int, bytes]:
    """The first OpenPGP packet of `data`: its tag and its body (RFC 9580 §4.2)."""
    if not data or not data[0] & 0x80:
        raise KeyProblem("does not start with an OpenPGP packet")
    first = data[0]
    if first & 0x40:  # new format
        tag, rest = first & 0x3F, data[1:]
        if not rest:
            raise KeyProblem("is cut short")
        if rest[0] < 192:
            length, rest = rest[0], rest[1:]
        elif rest[0] < 224 and len(rest) >= 2:
            length, rest = ((rest[0] - 192) << 8) + rest[1] + 192, rest[2:]
        elif rest[0] == 255 and len(rest) >= 5:
            length, rest = int.from_bytes(rest[1:5], "big"), rest[5:]
        else:
            raise KeyProblem("has a packet length this parser does not read")
    else:
        tag, size = (first >> 2) & 0x0F, {0: 1, 1: 2, 2: 4}.get(first & 0x03)
        if size is None or len(data) < 1 + size:
            raise KeyProblem("has an indeterminate packet length")
        length, rest = int.from_bytes(data[1 : 1 + size], "big"), data[1 + size :]
    if length > len(rest):
        raise KeyProblem("is cut short")
    return tag, rest[:length]


def openpgp_key_id(body: bytes) -> str:
    """The long key id of a public key packet body (v4: SHA-1 fingerprint; v5/v6: SHA-256)."""
    version = body[0] if body else 0
    if version == 4:
        return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest()[-16:].upper()
    if version in (5, 6):
        prefix = b"\x9a" if version == 5 else b"\x9b"
        return hashlib.sha256(prefix + len(body).to_bytes(4, "big") + body).hexdigest()[:16].upper()
    raise KeyProblem(f"is an OpenPGP key of version {version}; versions 4, 5 and 6 are read")


def _armor_body(body: str) -> bytes:
    lines = body.splitlines()
    if any(": " in line for line in lines):  # armor headers end at the first blank line
        lines = lines[lines.index("") + 1 :] if "" in lines else lines
    # The last line may be the CRC-24 checksum, `=` and four base64 characters.
    data = "".join(line.strip() for line in lines if line.strip() and not _CRC.fullmatch(line.strip()))
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise KeyProblem("has an armored body that is not base64") from None


def _ssh_fields(blob: bytes) -> list[bytes]:
    """The length-prefixed strings of an SSH public key blob; [] when they do not fill it exactly."""
    fields, at = [], 0
    while at < len(blob):
        size = int.from_bytes(blob[at : at + 4], "big")
        if at + 4 + size > len(blob):
            return []
        fields.append(blob[at + 4 : at + 4 + size])
        at += 4 + size
    return fields


def parse_key(text: str) -> PublicKey:
    """`text` as a trusted key, or KeyProblem saying what it is instead (never quoting it)."""
    if len(text.encode()) > MAX_KEY_BYTES:
        raise KeyProblem(f"is longer than {MAX_KEY_BYTES // 1024} KiB")
    stripped = text.strip()
    if "PRIVATE KEY" in stripped:
        raise KeyProblem("is a private key")
    if stripped.count("-----BEGIN ") > 1 or (
        "-----BEGIN " in stripped and _ARMOR.fullmatch(stripped) is None
    ):
        raise KeyProblem("is not one armored block alone (one key block per item, no text around it)")
    armor = _ARMOR.fullmatch(stripped)
    if armor is not None:
        label, data = armor["label"], armor["body"]
        if label == "PGP PUBLIC KEY BLOCK":
            tag, packet = _packet(_armor_body(data))
            if tag in (5, 7):
                raise KeyProblem("is a private key")
            if tag != 6:
                raise KeyProblem(f"holds an OpenPGP packet of type {tag}, not a public key")
            return PublicKey("openpgp", openpgp_key_id(packet), stripped + "\n")
        if label in ("PUBLIC KEY", "CERTIFICATE"):
            der = _armor_body(data)
            kind: Literal["pem-public-key", "pem-certificate"] = (
                "pem-public-key" if label == "PUBLIC KEY" else "pem-certificate"
            )
            return PublicKey(kind, hashlib.sha256(der).hexdigest()[:16], stripped + "\n")
        raise KeyProblem(f"is a PEM block of type {label!r}, not a public key")
    match = _SSH_LINE.fullmatch(stripped)
    if match is None or match["type"] not in SSH_KEY_TYPES:
        raise KeyProblem("is neither an armored OpenPGP public key nor an SSH public key line")
    try:
        blob = base64.b64decode(match["blob"], validate=True)
    except (binascii.Error, ValueError):
        raise KeyProblem("is an SSH key line whose key is not base64") from None
    fields = _ssh_fields(blob)
    if len(fields) < 2 or fields[0] != match["type"].encode():
        raise KeyProblem(f"is an SSH key line whose key is not of type {match['type']}")
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return PublicKey("ssh", f"SHA256:{digest}", f"{match['type']} {match['blob']}\n")


def go_regexp_problem(pattern: str) -> str | None:
    """Why Go's regexp package (RE2 syntax) would refuse `pattern`, or None when it compiles.

    google-re2 implements the syntax Go's regexp/syntax parses; `\\C` (any byte) is the one
    escape RE2 has and Go refuses.
    """
    import re2  # a compiled extension: loaded only where a pattern is checked

    if re.search(r"(?<!\\)(\\\\)*\\C", pattern):
        return "uses \\C, which Go's regexp refuses"
    options = re2.Options()
    options.log_errors = False  # else RE2 writes its own copy of the error to stderr
    try:
        re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return f"is not a Go regular expression ({detail})"
    return None


def _anchored_regexp(pattern: str) -> str:
    if not pattern or len(pattern) > MAX_PATTERN:
        raise SpecValueError(
            f"is {'empty' if not pattern else f'longer than {MAX_PATTERN} characters'}",
            "a Go regular expression such as ^https://token\\.actions\\.githubusercontent\\.com$",
        )
    problem = go_regexp_problem(pattern)
    if problem is not None:
        raise SpecValueError(
            f'the string "{pattern}" {problem}',
            "RE2 syntax, as Flux's source-controller compiles it: no lookarounds or backreferences",
        )
    if not (pattern.startswith("^") and pattern.endswith("$")):
        # Unanchored, `github.com/org/fleet` also matches a workflow of github.com/org/fleet-fork.
        raise SpecValueError(
            f'the string "{pattern}" is not anchored',
            "a pattern from ^ to $, so that no other identity matches a part of it",
        )
    return pattern


GoRegexp = Annotated[str, AfterValidator(_anchored_regexp)]


class OidcIdentitySpec(SpecModel):
    """One accepted signer of a keyless cosign signature (Fulcio certificate)."""

    issuer: GoRegexp
    """The OIDC issuer, e.g. ^https://token\\.actions\\.githubusercontent\\.com$."""
    subject: GoRegexp
    """The workflow identity, e.g. ^https://github\\.com/org/fleet/\\.github/workflows/publish\\.yml@refs/heads/main$."""


class VerifySpec(SpecModel):
    """What the agent requires of a revision before applying it (docs/signing.md)."""

    mode: VerifyMode = "HEAD"
    """Git: HEAD (the commit the branch points at), Tag (the tag object) or TagAndHEAD (both)."""
    tag: str | None = None
    """Git, with mode Tag or TagAndHEAD: the tag the agent follows (refs/tags/<tag>) instead of the branch."""
    public_keys: list[str] = Field(default_factory=list, max_length=MAX_KEYS)
    """Git: armored OpenPGP public keys or SSH public key lines; OCI: PEM public keys (cosign)
    or PEM CA certificates (notation). Public, so plain values."""
    provider: Literal["cosign", "notation"] | None = None
    """OCI: cosign or notation."""
    match_oidc_identity: list[OidcIdentitySpec] = Field(
        default_factory=list, alias="matchOIDCIdentity", max_length=MAX_KEYS
    )
    """OCI with cosign, keyless: the accepted issuer/subject pairs (Go regular expressions)."""

    @field_validator("public_keys", mode="before")
    @classmethod
    def _a_list(cls, keys: object) -> object:
        # A key pasted as `publicKeys: |` is a string: say so without quoting it (it may be private).
        if isinstance(keys, str):
            if "PRIVATE KEY" in keys:
                raise SpecValueError("is a private key", PRIVATE_KEY_HINT)
            raise SpecValueError("is a single string, not a list", "a list: one `- |` item per key")
        return keys

    @field_validator("public_keys")
    @classmethod
    def _keys(cls, keys: list[str]) -> list[str]:
        for i, text in enumerate(keys):
            try:
                parse_key(text)
            except KeyProblem as exc:
                hint = (
                    PRIVATE_KEY_HINT
                    if "private" in str(exc)
                    else (
                        "an armored OpenPGP public key (-----BEGIN PGP PUBLIC KEY BLOCK-----), an SSH public "
                        "key line (ssh-ed25519 AAAA…), or for OCI a PEM public key or certificate"
                    )
                )
                raise SpecValueError(f"the key {exc}", hint, at=(i,)) from None
        return keys

    @model_validator(mode="after")
    def _tag(self) -> VerifySpec:
        if self.tag is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,127}", self.tag):
            raise SpecValueError(
                f'the string "{self.tag}" is not a tag name', "a Git tag such as v1.2.0", at=("tag",)
            )
        if self.mode in ("Tag", "TagAndHEAD") and self.tag is None:
            raise SpecValueError(
                f"is required with mode {self.mode} (the agent verifies the tag it follows)",
                "the tag name, e.g. v1.2.0 (the agent then follows refs/tags/<tag>), or mode HEAD",
                at=("tag",),
            )
        if self.mode == "HEAD" and self.tag is not None:
            raise SpecValueError("is set with mode HEAD", "mode Tag or TagAndHEAD, or remove it", at=("tag",))
        return self

    def parsed_keys(self) -> list[PublicKey]:
        """The parsed public keys, in the order given."""
        return [parse_key(text) for text in self.public_keys]


def check_verify(verify: VerifySpec, agent: str, source: str) -> None:
    """What `verify` may hold for this agent and source; raises SpecValueError at the key."""
    set_ = verify.model_fields_set
    kinds = {key.kind for key in verify.parsed_keys()}
    if agent == "none":
        raise SpecValueError("is set, but agent none installs no agent", "remove it, or choose an agent")
    if agent == "eks-argocd":
        raise SpecValueError(
            "is not available with agent eks-argocd: eksgitops has no documented way to load keys into the "
            "managed Argo CD's GnuPG keyring",
            "agent argocd or flux, or remove it and check signatures in CI with `eksgitops fleet verify "
            "--trusted-keys` (docs/signing.md)",
        )
    if source == "oci":
        for key in ("mode", "tag"):
            if key in set_:
                raise SpecValueError("is a Git setting (source is oci)", "remove it", at=(key,))
        if verify.provider is None:
            raise SpecValueError(
                "is required with source oci",
                "cosign or notation, as the artifact was signed",
                at=("provider",),
            )
        if verify.provider == "notation":
            if verify.match_oidc_identity:
                raise SpecValueError(
                    "is a cosign keyless setting", "provider cosign, or remove it", at=("matchOIDCIdentity",)
                )
            if not verify.public_keys or kinds != {"pem-certificate"}:
                raise SpecValueError(
                    "must hold the PEM CA certificates notation trusts (-----BEGIN CERTIFICATE-----)",
                    "one or more certificates",
                    at=("publicKeys",),
                )
            return
        if bool(verify.match_oidc_identity) == bool(verify.public_keys):
            raise SpecValueError(
                "needs exactly one of matchOIDCIdentity (keyless) and publicKeys (a cosign key pair)",
                "matchOIDCIdentity with the CI workflow's issuer and subject, or publicKeys with cosign.pub",
                at=("matchOIDCIdentity" if verify.match_oidc_identity else "publicKeys",),
            )
        if verify.public_keys and kinds != {"pem-public-key"}:
            raise SpecValueError(
                "must hold cosign PEM public keys (-----BEGIN PUBLIC KEY-----) with provider cosign",
                "the cosign.pub of the signing key pair",
                at=("publicKeys",),
            )
        return
    for key in ("provider", "matchOIDCIdentity"):
        if (key == "provider" and verify.provider is not None) or (
            key == "matchOIDCIdentity" and verify.match_oidc_identity
        ):
            raise SpecValueError("is an OCI setting (source is git)", "remove it", at=(key,))
    if not verify.public_keys:
        raise SpecValueError(
            "is required with source git: the keys whose signatures the agent accepts",
            "armored OpenPGP public keys or SSH public key lines",
            at=("publicKeys",),
        )
    if not kinds <= {"openpgp", "ssh"}:
        raise SpecValueError(
            "holds a PEM key, which signs OCI artifacts, not Git commits",
            "armored OpenPGP public keys or SSH public key lines",
            at=("publicKeys",),
        )
    if agent == "argocd":
        if "ssh" in kinds:
            raise SpecValueError(
                "holds an SSH key, but Argo CD verifies GnuPG signatures only",
                "armored OpenPGP public keys, or agent flux",
                at=("publicKeys",),
            )
        if verify.mode != "HEAD":
            raise SpecValueError(
                f"is {verify.mode}, but Argo CD verifies the commit it syncs only",
                "HEAD, or agent flux",
                at=("mode",),
            )
