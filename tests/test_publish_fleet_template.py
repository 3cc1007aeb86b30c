"""The OCI publish template signs what the documented `matchOIDCIdentity` accepts, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import re2
import yaml

from eksgitops.components.spec.gitops import FLUX_VERSION
from tests.gitops_support import FLEET_OCI, spec_for

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "examples" / "ci" / "github-actions-publish-fleet.yml"


def documented_identity() -> dict[str, str]:
    """The `verify:` block of the template's header, with ORG/FLEET filled in."""
    header = "\n".join(
        line.removeprefix("#   ") for line in TEMPLATE.read_text().splitlines() if line.startswith("#   ")
    )
    block = yaml.safe_load(header.replace("ORG", "example").replace("FLEET", "fleet"))
    return block["verify"]["matchOIDCIdentity"][0]


def test_the_documented_identity_is_valid_in_a_stack_file() -> None:
    identity = documented_identity()
    spec = spec_for(
        {
            "repoUrl": FLEET_OCI,
            "source": "oci",
            "verify": {"provider": "cosign", "matchOIDCIdentity": [identity]},
        }
    )
    assert spec.gitops.verify is not None


def test_the_identity_matches_this_workflow_on_main_only() -> None:
    identity = documented_identity()
    issuer, subject = re2.compile(identity["issuer"]), re2.compile(identity["subject"])
    assert issuer.search("https://token.actions.githubusercontent.com")
    assert not issuer.search("https://token.actions.githubusercontent.com.evil.example")
    this = "https://github.com/example/fleet/.github/workflows/publish-fleet.yml@refs/heads/main"
    assert subject.search(this)
    for other in (
        "https://github.com/example/fleet-fork/.github/workflows/publish-fleet.yml@refs/heads/main",
        "https://github.com/example/fleet/.github/workflows/publish-fleet.yml@refs/heads/feature",
        "https://github.com/example/fleet/.github/workflows/other.yml@refs/heads/main",
        "https://github.com/example/fleetXgithub/workflows/publish-fleet.yml@refs/heads/main",
    ):
        assert not subject.search(other), other


def test_the_workflow_pushes_signs_the_digest_then_tags_with_the_pinned_flux() -> None:
    workflow = yaml.safe_load(TEMPLATE.read_text())
    assert workflow[True]["push"]["branches"] == ["main"]  # the identity names main
    assert TEMPLATE.name.replace("github-actions-", "") in documented_identity()["subject"].replace("\\", "")
    steps = workflow["jobs"]["publish"]["steps"]
    flux = next(s for s in steps if s.get("uses", "").startswith("fluxcd/flux2/action@"))
    assert flux["with"]["version"] == FLUX_VERSION
    script = steps[-1]["run"]
    order = [
        script.index(word)
        for word in ("flux push artifact", 'cosign sign --yes "$digest"', "flux tag artifact")
    ]
    assert order == sorted(order)
    assert re.search(r"jq -r '\.repository \+ \"@\" \+ \.digest'", script)  # signs the digest, not a tag
