"""`eksgitops.testing`: a program of one's own, tested offline in a few lines."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from eksgitops.components.secrets_key import SecretsKey, SecretsKeyArgs
from eksgitops.testing import run, run_program_file


def _program() -> None:
    config = pulumi.Config()
    key = SecretsKey("key", SecretsKeyArgs(cluster_name=config.require("cluster")))
    aws.s3.Bucket("logs", bucket=f"{config.require('cluster')}-logs")
    pulumi.export("keyArn", key.key_arn)
    pulumi.export("token", pulumi.Output.secret(config.require("token")))


def test_a_function_runs_with_short_config_keys_and_structured_values() -> None:
    result = run(_program, project="mine", config={"cluster": "c1", "token": "t0p"}, secret_keys=["token"])
    assert result.one("aws:s3/bucket:Bucket").plain_inputs()["bucket"] == "c1-logs"
    assert result.one("aws:kms/key:Key").plain_inputs()["enableKeyRotation"] is True
    assert result.outputs["keyArn"] == "(known after apply: key.arn)"
    assert result.secret_outputs == {"token"}
    # Every guardrail was judged over what it registered (none applies to a key and a bucket).
    assert not result.policy.failed, result.violations
    assert {r.status for r in result.policy.results} == {"not-applicable"}
    assert "EKS-SECRETS-KMS" in {r.rule.id for r in result.policy.results}


def test_a_program_file_reads_its_project_and_stack_files(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: mine\nruntime: python\nconfig:\n  cluster:\n    type: string\n    default: from-default\n"
    )
    (tmp_path / "Pulumi.qa.yaml").write_text("config:\n  aws:region: eu-central-1\n  mine:token: abc\n")
    (tmp_path / "helpers.py").write_text("BUCKET_SUFFIX = '-logs'\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi, pulumi_aws as aws\nfrom helpers import BUCKET_SUFFIX\n"
        "c = pulumi.Config()\naws.s3.Bucket('b', bucket=c.require('cluster') + BUCKET_SUFFIX)\n"
        "pulumi.export('token', c.require('token'))\n"
    )
    result = run_program_file(tmp_path, stack="qa")
    assert result.one("aws:s3/bucket:Bucket").plain_inputs()["bucket"] == "from-default-logs"
    assert result.outputs == {"token": "abc"}
    overridden = run_program_file(tmp_path / "__main__.py", stack="qa", config={"cluster": "given"})
    assert overridden.one("aws:s3/bucket:Bucket").plain_inputs()["bucket"] == "given-logs"


def test_mistakes_name_what_was_wrong(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="program: str is not callable"):
        run("main.py", project="mine")  # pyright: ignore[reportArgumentType]
    with pytest.raises(FileNotFoundError, match="no program here"):
        run_program_file(tmp_path)
    (tmp_path / "__main__.py").write_text("")
    with pytest.raises(ValueError, match="no project `name`"):
        run_program_file(tmp_path)
    (tmp_path / "Pulumi.yaml").write_text("name: mine\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  mine:token:\n    secure: AAABAJx\n")
    with pytest.raises(ValueError, match="mine:token is a `secure:` value"):
        run_program_file(tmp_path)


def test_the_readme_shows_the_example_and_its_test() -> None:
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    assert "from eksgitops.testing import run_program_file" in readme
    assert "examples/eks-cluster" in readme
