"""Readers of a stack's config: stack files and Pulumi.yaml (strictly), and the running program's config.

They turn files and Pulumi's config into the raw form `components.spec.load_spec` checks.
The readers import the models, never the reverse.
"""

from components.spec.read.pulumi_config import (
    config_for_pulumi,
    credential_paths,
    raw_config_from_pulumi,
    spec_from_pulumi,
)
from components.spec.read.stack_file import project_config_defaults, raw_config_from_stack_file, stack_config

__all__ = [
    "config_for_pulumi",
    "credential_paths",
    "project_config_defaults",
    "raw_config_from_pulumi",
    "raw_config_from_stack_file",
    "spec_from_pulumi",
    "stack_config",
]
