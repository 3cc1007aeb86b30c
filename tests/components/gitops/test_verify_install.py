"""`gitops.verify` in the cluster: the keys Secret, the FluxInstance patch, Argo CD's keyring and project.

The rendered objects are checked against the shipped CRDs: the sync GitRepository or
OCIRepository is built as the Flux Operator generates it and patched with the FluxInstance's
own patch, then validated strictly.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksgitops.components.gitops.verify_objects import ROOT_PROJECT, VERIFY_SECRET
from eksgitops.components.spec import load_spec
from eksgitops.components.spec.read import stack_config
from eksgitops.fleet.schema import validate
from eksgitops.plan.offline_engine import PlanResult
from tests.gitops_support import FLEET_HTTPS, FLEET_OCI, is_secret, k8s, plan, spec_for
from tests.signing_keys import Key, openpgp_key, ssh_key

ROOT = Path(__file__).resolve().parents[3]
ISSUER = r"^https://token\.actions\.githubusercontent\.com$"
SUBJECT = r"^https://github\.com/example/fleet/\.github/workflows/publish-fleet\.yml@refs/heads/main$"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Key]:
    folder = tmp_path_factory.mktemp("keys")
    return {"pgp": openpgp_key(folder), "ssh": ssh_key(folder)}


def instance(result: PlanResult) -> dict[str, Any]:
    return k8s(result, "FluxInstance", "flux").plain_inputs()


def sync_source(result: PlanResult) -> dict[str, Any]:
    """The sync source as the Flux Operator generates it from `spec.sync`, with the patches applied."""
    sync = instance(result)["spec"]["sync"]
    spec: dict[str, Any] = {"interval": sync["interval"], "url": sync["url"]}
    if sync["kind"] == "GitRepository":
        spec["ref"] = {"name": sync["ref"]}
        api = "source.toolkit.fluxcd.io/v1"
    else:
        spec["ref"] = {"tag": sync["ref"]}
        spec["provider"] = sync["provider"]
        api = "source.toolkit.fluxcd.io/v1"
    obj = {
        "apiVersion": api,
        "kind": sync["kind"],
        "metadata": {"name": sync["name"], "namespace": "flux-system"},
    }
    obj["spec"] = spec
    for patch in instance(result)["spec"]["kustomize"]["patches"]:
        target = patch["target"]
        if target["kind"] != sync["kind"]:
            continue
        assert target["name"] == sync["name"]
        for op in yaml.safe_load(patch["patch"]):  # the operator reads the patch as YAML
            assert op["op"] == "add" and op["path"] == "/spec/verify"
            obj["spec"]["verify"] = copy.deepcopy(op["value"])
    return obj


def secret_data(result: PlanResult) -> dict[str, str]:
    data = k8s(result, "Secret", VERIFY_SECRET).inputs["stringData"]
    # pulumi-kubernetes marks every Secret's data secret, public keys included.
    return data["value"] if is_secret(data) else data


def test_flux_git_keys_go_into_the_secret_and_the_gitrepository_is_patched(keys: dict[str, Key]) -> None:
    spec = spec_for(
        {"repoUrl": FLEET_HTTPS, "verify": {"publicKeys": [keys["pgp"].public, keys["ssh"].public]}}
    )
    result = plan(spec)
    data = secret_data(result)
    assert data[f"{keys['pgp'].key_id.lower()}.asc"] == keys["pgp"].public.strip() + "\n"
    (sshpub,) = [name for name in data if name.endswith(".sshpub")]
    assert data[sshpub].split()[:2] == keys["ssh"].public.split()[:2]
    source = sync_source(result)
    assert source["spec"]["verify"] == {"mode": "HEAD", "secretRef": {"name": VERIFY_SECRET}}
    assert source["spec"]["ref"] == {"name": "refs/heads/main"}
    assert validate(source) == []
    assert validate(instance(result)) == []


def test_a_tag_mode_follows_the_tag_it_verifies(keys: dict[str, Key]) -> None:
    verify = {"publicKeys": [keys["pgp"].public], "mode": "TagAndHEAD", "tag": "v1.2.0"}
    source = sync_source(plan(spec_for({"repoUrl": FLEET_HTTPS, "verify": verify})))
    assert source["spec"]["ref"] == {"name": "refs/tags/v1.2.0"}
    assert source["spec"]["verify"]["mode"] == "TagAndHEAD"
    assert validate(source) == []


def test_a_patch_that_the_crd_refuses_is_caught(keys: dict[str, Key]) -> None:
    # The check has teeth: a verify value the shipped CRD does not know fails validation.
    source = sync_source(
        plan(spec_for({"repoUrl": FLEET_HTTPS, "verify": {"publicKeys": [keys["pgp"].public]}}))
    )
    source["spec"]["verify"]["mode"] = "Commit"
    assert validate(source) != []
    source["spec"]["verify"] = {"mode": "HEAD"}  # secretRef is required
    assert validate(source) != []


def test_flux_oci_keyless_needs_no_secret_and_the_patterns_survive_yaml() -> None:
    verify = {"provider": "cosign", "matchOIDCIdentity": [{"issuer": ISSUER, "subject": SUBJECT}]}
    result = plan(spec_for({"repoUrl": FLEET_OCI, "source": "oci", "verify": verify}))
    assert not [r for r in result.resources if r.type == "kubernetes:core/v1:Secret"]
    source = sync_source(result)
    assert source["spec"]["verify"] == {
        "provider": "cosign",
        "matchOIDCIdentity": [{"issuer": ISSUER, "subject": SUBJECT}],
    }
    assert validate(source) == []


def test_flux_oci_notation_gets_certificates_and_a_trust_policy() -> None:
    cert = (
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo=\n"
        "-----END CERTIFICATE-----\n"
    )
    result = plan(
        spec_for(
            {"repoUrl": FLEET_OCI, "source": "oci", "verify": {"provider": "notation", "publicKeys": [cert]}}
        )
    )
    data = secret_data(result)
    assert "trustpolicy.json" in data and [n for n in data if n.endswith(".crt")]
    source = sync_source(result)
    assert source["spec"]["verify"] == {"provider": "notation", "secretRef": {"name": VERIFY_SECRET}}
    assert validate(source) == []


def test_argocd_keys_go_into_the_keyring_and_the_root_project_requires_them(keys: dict[str, Key]) -> None:
    result = plan(
        spec_for({"agent": "argocd", "repoUrl": FLEET_HTTPS, "verify": {"publicKeys": [keys["pgp"].public]}})
    )
    values = result.one("kubernetes:helm.sh/v3:Release").plain_inputs()["values"]
    assert values["configs"]["gpg"]["keys"] == {keys["pgp"].key_id: keys["pgp"].public.strip() + "\n"}
    project = k8s(result, "AppProject", ROOT_PROJECT).plain_inputs()
    assert project["spec"]["signatureKeys"] == [{"keyID": keys["pgp"].key_id}]
    assert validate(project) == []
    root = k8s(result, "Application", "root").plain_inputs()
    assert root["spec"]["project"] == ROOT_PROJECT
    assert validate(root) == []


def test_without_verify_nothing_changes() -> None:
    result = plan(spec_for({"agent": "argocd", "repoUrl": FLEET_HTTPS}))
    assert k8s(result, "Application", "root").plain_inputs()["spec"]["project"] == "default"
    assert "gpg" not in result.one("kubernetes:helm.sh/v3:Release").plain_inputs()["values"]["configs"]
    flux = plan(spec_for({"repoUrl": FLEET_HTTPS}))
    assert "verify" not in sync_source(flux)["spec"]


def test_the_shipped_prod_stack_with_verification_renders_valid_objects(keys: dict[str, Key]) -> None:
    raw = stack_config(ROOT / "stacks" / "Pulumi.prod.yaml", ROOT / "Pulumi.yaml")
    raw["gitops"] = {**raw["gitops"], "verify": {"publicKeys": [keys["pgp"].public]}}
    result = plan(load_spec(raw, stack="prod", source="stacks/Pulumi.prod.yaml"))
    source = sync_source(result)
    assert source["spec"]["verify"]["secretRef"] == {"name": VERIFY_SECRET}
    assert validate(source) == [] and validate(instance(result)) == []
