"""Hostile kustomizations: what the engine would read, fetch or run is refused before it runs.

Each test builds its layout into a bare remote and runs `fleet verify` and `fleet bootstrap`
through the CLI with canary secrets in the environment, a canary file outside and a canary HTTP
server on loopback (harness.py): both commands refuse with a line naming the file and the key,
print no secret, write nothing outside their temporary folder and contact nothing.
"""

from __future__ import annotations

import pytest

from tests.fleet.hostile.harness import Sandbox, evil_kustomization, flux_ks, verify_and_bootstrap

KFILE = "evil/kustomization.yaml"


@pytest.mark.parametrize(
    ("key", "body"),
    [
        # kustomize decodes keys case-insensitively (Go's encoding/json): all of these are read.
        (
            "configmapgenerator",
            "ConfigMapGenerator:\n  - name: env\n    files:\n      - /proc/self/environ\n",
        ),
        ("configmapgenerator", "CONFIGMAPGENERATOR:\n  - name: env\n    envs:\n      - /proc/self/environ\n"),
        (
            "secretgenerator",
            "SecretGenerator:\n  - name: env\n    files:\n      - leaked=/proc/self/environ\n",
        ),
    ],
    ids=["ConfigMapGenerator-files", "CONFIGMAPGENERATOR-envs", "SecretGenerator-key=path"],
)
def test_case_variant_generators_reading_proc_environ(sandbox: Sandbox, hostile_remote, key: str, body: str):
    bare = hostile_remote(evil_kustomization(body))
    verify_and_bootstrap(sandbox, bare, KFILE, key, "/proc/self/environ is outside the repository")


def test_replacements_reading_the_canary_file(sandbox: Sandbox, hostile_remote):
    # kustomize would print the file's contents in its parse error: refused before it reads it.
    bare = hostile_remote(
        evil_kustomization(f"resources:\n  - cm.yaml\nReplacements:\n  - path: {sandbox.canary_file}\n")
    )
    verify_and_bootstrap(sandbox, bare, KFILE, "replacements.path", "is outside the repository")


def test_resources_with_an_absolute_path(sandbox: Sandbox, hostile_remote):
    bare = hostile_remote(evil_kustomization(f"Resources:\n  - {sandbox.canary_file}\n"))
    verify_and_bootstrap(sandbox, bare, KFILE, "resources", "is outside the repository")


def test_resources_climbing_out_with_dotdot(sandbox: Sandbox, hostile_remote):
    bare = hostile_remote(
        evil_kustomization("resources:\n  - ../../../../../../../../../../../../etc/hostname\n")
    )
    verify_and_bootstrap(sandbox, bare, KFILE, "resources", "is outside the repository")


def test_generators_file_with_a_builtin_generator_reading_outside(sandbox: Sandbox, hostile_remote):
    generator = (
        "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: leak\n"
        f"files:\n  - {sandbox.canary_file}\n"
    )
    bare = hostile_remote(evil_kustomization("generators:\n  - gen.yaml\n", **{"gen.yaml": generator}))
    verify_and_bootstrap(sandbox, bare, "evil/gen.yaml", "files", "is outside the repository")


def test_inline_generator_reading_proc_environ(sandbox: Sandbox, hostile_remote):
    body = (
        "Generators:\n  - |\n    apiVersion: builtin\n    kind: SecretGenerator\n    metadata:\n"
        "      name: leak\n    envs:\n      - /proc/self/environ\n"
    )
    bare = hostile_remote(evil_kustomization(body))
    verify_and_bootstrap(sandbox, bare, KFILE, "envs", "/proc/self/environ is outside the repository")


def test_configurations_outside(sandbox: Sandbox, hostile_remote):
    bare = hostile_remote(
        evil_kustomization(f"resources:\n  - cm.yaml\nconfigurations:\n  - {sandbox.canary_file}\n")
    )
    verify_and_bootstrap(sandbox, bare, KFILE, "configurations", "is outside the repository")


def test_remote_http_resource_at_the_canary(sandbox: Sandbox, hostile_remote):
    bare = hostile_remote(evil_kustomization(f"resources:\n  - {sandbox.canary.url}/pwn.yaml\n"))
    verify_and_bootstrap(sandbox, bare, KFILE, "resources: remote base", sandbox.canary.url)


@pytest.mark.parametrize(
    "key", ["Components", "transformers", "validators", "generators", "configurations", "bases"]
)
def test_remote_in_every_field_kustomize_fetches(sandbox: Sandbox, hostile_remote, key: str):
    url = f"{sandbox.canary.url}/org/repo.git//base?ref=main"
    bare = hostile_remote(evil_kustomization(f"resources:\n  - cm.yaml\n{key}:\n  - {url}\n"))
    verify_and_bootstrap(sandbox, bare, KFILE, f"{key.casefold()}: remote base")


def test_remote_git_scp_like_resource(sandbox: Sandbox, hostile_remote):
    bare = hostile_remote(evil_kustomization("resources:\n  - git@127.0.0.1:org/repo.git\n"))
    verify_and_bootstrap(sandbox, bare, KFILE, "resources: remote base git@127.0.0.1:org/repo.git")


def test_unicode_case_fold_of_resources(sandbox: Sandbox, hostile_remote):
    # Go folds U+017F (long s) to "s": "re\\u017fources" is `resources` to kustomize.
    bare = hostile_remote(evil_kustomization(f"re\u017fources:\n  - {sandbox.canary.url}/pwn.yaml\n"))
    verify_and_bootstrap(sandbox, bare, KFILE, "resources: remote base")


def test_helm_charts_in_any_case(sandbox: Sandbox, hostile_remote):
    body = f"HelmCharts:\n  - name: pwn\n    repo: {sandbox.canary.url}/charts\n    version: 1.0.0\n"
    bare = hostile_remote(evil_kustomization(body))
    verify_and_bootstrap(sandbox, bare, KFILE, "HelmCharts: Flux's kustomize-controller does not inflate")


def test_openapi_path_remote(sandbox: Sandbox, hostile_remote):
    bare = hostile_remote(
        evil_kustomization(f"resources:\n  - cm.yaml\nopenapi:\n  path: {sandbox.canary.url}/s.json\n")
    )
    verify_and_bootstrap(sandbox, bare, KFILE, "openapi.path: remote")


def test_flux_spec_components_remote(sandbox: Sandbox, hostile_remote):
    files = evil_kustomization("resources:\n  - cm.yaml\n")
    files["clusters/dev/evil.yaml"] = flux_ks(
        "evil", "./evil", f"  components:\n    - {sandbox.canary.url}/c\n"
    )
    bare = hostile_remote(files)
    verify_and_bootstrap(sandbox, bare, "clusters/dev/evil.yaml", "spec.components: remote component")


def test_flux_spec_components_outside(sandbox: Sandbox, hostile_remote):
    files = evil_kustomization("resources:\n  - cm.yaml\n")
    outside = sandbox.canary_file.parent
    files["clusters/dev/evil.yaml"] = flux_ks("evil", "./evil", f"  components:\n    - {outside}\n")
    bare = hostile_remote(files)
    verify_and_bootstrap(
        sandbox, bare, "clusters/dev/evil.yaml", "spec.components", "is outside the repository"
    )


def test_unreadable_yaml_is_not_handed_to_the_engine(sandbox: Sandbox, hostile_remote):
    # PyYAML and kustomize's YAML differ at the edges: what cannot be checked is not built.
    bare = hostile_remote(evil_kustomization(f"resources:\n  - {sandbox.canary_file}\n  bad: [\n"))
    verify_and_bootstrap(sandbox, bare, KFILE, "not valid YAML")


def test_duplicate_keys_hide_nothing(sandbox: Sandbox, hostile_remote):
    body = f"resources:\n  - {sandbox.canary.url}/pwn.yaml\nresources:\n  - cm.yaml\n"
    bare = hostile_remote(evil_kustomization(body))
    verify_and_bootstrap(sandbox, bare, KFILE, "resources: remote base")


def test_merge_key_hides_nothing(sandbox: Sandbox, hostile_remote):
    body = f"base: &b\n  resources:\n    - {sandbox.canary.url}/pwn.yaml\n<<: *b\n"
    bare = hostile_remote(evil_kustomization(body))
    verify_and_bootstrap(sandbox, bare, KFILE, "resources: remote base")
