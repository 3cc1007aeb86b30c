"""Numbers in a stack file are read as Pulumi's go-yaml reads them, or refused (issue 24, item 2).

go-yaml's resolver (gopkg.in/yaml.v2 2.4 resolve.go, which Pulumi's sdk/go/common/encoding
uses, and yaml.v3 3.0.1 resolve.go, the same for numbers): drop every `_`, then
`strconv.ParseInt(s, 0, 64)` (sign, 0x/0o/0b prefixes either case, a leading 0 is octal), then
uint64, then the float shape `[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?` unless it
overflows. The first cases below are go-yaml's own (decode_test.go of v2 and v3: `octal: 02472256`,
`hexa: 0x_0A_74_AE`, `bin: 0b1010_0111_0100_1010_1110` and `decimal: +685_230` are all 685230).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eksgitops.components.spec import SpecError
from eksgitops.components.spec.read import raw_config_from_stack_file
from eksgitops.components.spec.read.go_numbers import go_number

HEAD = "config:\n  eksgitops:region: eu-west-1\n  eksgitops:tags:\n    v: "


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("02472256", 685230),
        ("0x_0A_74_AE", 685230),
        ("0b1010_0111_0100_1010_1110", 685230),
        ("+685_230", 685230),
        ("0o2472256", 685230),
        ("-0o2472256", -685230),
        ("-0b101010", -42),
        ("-0b1" + "0" * 63, -(2**63)),
        ("0100", 64),  # octal, as YAML 1.1
        ("1_001", 1001),
        ("0b101", 5),
        ("0x1F", 31),
        ("0X1F", 31),
        ("+0x1F", 31),
        ("0o17", 15),
        ("0O17", 15),
        ("1e3", 1000.0),
        ("08", 8.0),  # not octal, so the float shape
        ("1.", 1.0),
        (".5", 0.5),
        ("-0", 0),
        ("18446744073709551615", 2**64 - 1),  # uint64
        ("99999999999999999999999", 1e23),  # past uint64: a float
        ("1e400", None),  # overflows: text
        ("0x", None),
        ("0b", None),
        ("1_0x", None),
        ("v1.2", None),
        ("2024-01-01", None),
        ("._5", None),
    ],
)
def test_go_number_reads_as_go_yaml_does(text: str, number: int | float | None) -> None:
    got = go_number(text)
    assert got == number and type(got) is type(number)


def read(tmp_path: Path, value: str) -> dict:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(HEAD + value + "\n")
    return raw_config_from_stack_file(path)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("0100", "is 0100, which Pulumi reads as the number 64 (line 4); write 64 (plain digits"),
        ("1_001", "is 1_001, which Pulumi reads as the number 1001"),
        ("0b101", "is 0b101, which Pulumi reads as the number 5"),
        ("0o17", "is 0o17, which Pulumi reads as the number 15"),
        ("0X1F", "is 0X1F, which Pulumi reads as the number 31"),
        ("1e3", "is 1e3, which Pulumi reads as the number 1000.0"),
        ("08", "is 08, which Pulumi reads as the number 8.0"),
        ("99999999999999999999999", "a whole number too large for Pulumi"),
        ("9" * 5000, "is a number 5000 characters long, more than Pulumi can hold"),
    ],
)
def test_a_number_pulumi_reads_otherwise_is_one_line_saying_how_to_write_it(
    tmp_path: Path, value: str, says: str
) -> None:
    with pytest.raises(SpecError) as info:
        read(tmp_path, value)
    (line,) = info.value.lines
    assert "eksgitops:tags.v: " in line and says in line, line
    assert "\n" not in line


@pytest.mark.parametrize(
    ("value", "read_as"),
    [
        ("0x1F", 31),
        ("42", 42),
        ("1.5", 1.5),
        (".5", 0.5),
        ('"0100"', "0100"),
        ("'1_001'", "1_001"),
        ("!!str 0b101", "0b101"),
        ("1e400", "1e400"),
        ("v1.2", "v1.2"),
    ],
)
def test_what_both_readers_agree_on_is_read(tmp_path: Path, value: str, read_as: object) -> None:
    got = read(tmp_path, value)["tags"]["v"]
    assert got == read_as and type(got) is type(read_as)


def test_the_shipped_stacks_have_no_such_numbers() -> None:
    root = Path(__file__).resolve().parents[3]
    for stack in sorted((root / "stacks").glob("Pulumi.*.yaml")):
        raw_config_from_stack_file(stack)
