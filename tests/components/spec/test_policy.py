"""The `policy` section: a waiver's reason must be something a reader of the plan can read."""

from __future__ import annotations

import pytest

from components.spec import load_spec
from tests.components.spec.helpers import SRC, minimal, one_error


def waiver(reason: str) -> dict[str, object]:
    return minimal(policy={"waivers": [{"rule": "EKS-ENDPOINT", "reason": reason}]})


@pytest.mark.parametrize(
    "reason",
    [
        "\u200b\u200b",  # zero-width spaces
        "\ufeff",  # byte order mark
        "\u202e",  # right-to-left override
        "\u2800\u2800",  # braille blank
        "\u0301",  # a lone combining mark
        "\u2060 \u00ad",  # word joiner, soft hyphen
    ],
)
def test_a_reason_of_invisible_characters_is_refused(reason: str) -> None:
    one_error(waiver(reason), "policy.waivers[0].reason", "has no letter or digit")


@pytest.mark.parametrize(
    "reason", ["Office range only", "\u00e9quipe r\u00e9seau", "1", "\u53ea\u9650\u529e\u516c\u5ba4"]
)
def test_a_reason_anyone_can_read_loads(reason: str) -> None:
    spec = load_spec(waiver(reason), stack="test", source=SRC)
    assert spec.policy.waivers[0].reason == reason
