"""Secrets in Git: plaintext ones (policy), SOPS ones a Kustomization cannot decrypt (error)."""

from __future__ import annotations

from collections.abc import Iterator

from eksgitops.fleet.findings import ERROR, NOT_CHECKED, POLICY, Finding
from eksgitops.fleet.schema import ident
from eksgitops.fleet.verify.checks.context import Applying
from eksgitops.fleet.verify.model import as_dict


def check(ctx: Applying) -> Iterator[Finding]:
    for a in ctx.applied:
        if a.obj.get("kind") != "Secret" or a.obj.get("apiVersion") != "v1":
            continue
        who = ident(a.obj)
        if "sops" not in a.obj:
            yield Finding(a.file, f"{who}: plaintext Secret in Git (encrypt it with SOPS)", POLICY)
            continue
        if a.argo:
            yield Finding(
                a.file, f"{who}: SOPS-encrypted (needs a decryption plugin in Argo CD)", NOT_CHECKED
            )
        elif not a.decrypts:
            yield Finding(
                a.file,
                f"{who}: SOPS-encrypted Secret, but {a.owner} has no spec.decryption: "
                "it would be applied encrypted and refused",
                ERROR,
            )
            continue
        values = {**as_dict(a.obj.get("data")), **as_dict(a.obj.get("stringData"))}
        unencrypted = sorted(k for k, v in values.items() if not str(v).startswith("ENC["))
        if unencrypted:
            yield Finding(
                a.file, f"{who}: Secret values not SOPS-encrypted: {', '.join(unencrypted)}", POLICY
            )
