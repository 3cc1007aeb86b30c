"""The shipped stacks provide every variable the shipped fleet scaffold uses, through the plan's bridge.

Not `fleet verify --stack` (issue 7 item 4, built on bridge.json by the fleet work): this
checks the same agreement with the verifier that exists, fed the plan's bridge variables.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.spec import load_spec, project_config_defaults, raw_config_from_stack_file
from eksgitops.fleet import layout
from eksgitops.fleet.layout import Options
from eksgitops.fleet.verify import verify_tree
from eksgitops.plan.cli import run_plan
from eksgitops.plan.manifests import bridge_document

ROOT = Path(__file__).resolve().parents[2]
REPO_URL = "https://github.com/example/fleet.git"


def scaffold(root: Path, env: str) -> Path:
    for item in layout.render(Options(env=env, agent="flux", repo_url=REPO_URL)):
        target = root / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(item.content)
    return root


def bridge_variables(stacks: Path, stack: str) -> set[str]:
    result = run_plan(stack, stacks_dir=stacks, project_dir=ROOT)
    raw = {
        **project_config_defaults(ROOT / "Pulumi.yaml"),
        **raw_config_from_stack_file(stacks / f"Pulumi.{stack}.yaml"),
    }
    spec = load_spec(raw, stack=stack, source=stack)
    return set(bridge_document(result, spec)["variables"])


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_each_shipped_stack_provides_what_the_scaffold_uses(stack: str, tmp_path: Path) -> None:
    provided = bridge_variables(ROOT / "stacks", stack)
    report = verify_tree(scaffold(tmp_path / "fleet", stack), f"clusters/{stack}", provided, {REPO_URL})
    assert report.findings == []
    assert report.objects > 5


def test_a_stack_without_the_controller_identity_leaves_its_variable_missing(tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    identities = document["config"]["eksgitops:identities"]
    document["config"]["eksgitops:identities"] = [
        i for i in identities if i["name"] != "aws-load-balancer-controller"
    ]
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document))
    provided = bridge_variables(stacks, "dev")
    report = verify_tree(scaffold(tmp_path / "fleet", "dev"), "clusters/dev", provided, {REPO_URL})
    missing = [str(f) for f in report.findings]
    assert missing and all("aws_load_balancer_controller_role_arn" in line for line in missing), missing
