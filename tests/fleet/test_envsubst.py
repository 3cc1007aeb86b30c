"""Flux's postBuild grammar (fluxcd/pkg envsubst, from drone/envsubst), held to the cases of
upstream's own test table (eval_test.go, parse_test.go), restated here as data, plus the quirks
a fleet relies on (issue 23.1)."""

from __future__ import annotations

import pytest

from eksgitops.fleet.envsubst import MAX_DEPTH, SubstitutionError, evaluate

# (variables, input, output): upstream's TestExpand table, in its order.
UPSTREAM_EXPAND = [
    ({}, "abcdEFGH28ij", "abcdEFGH28ij"),
    ({"var01": "abcdEFGH28ij"}, "${#var01}", "12"),
    ({"var01": "abcdEFGH28ij"}, "${var01^}", "AbcdEFGH28ij"),
    ({"var01": "abcdEFGH28ij"}, "${var01^^}", "ABCDEFGH28IJ"),
    ({"var01": "ABCDEFGH28IJ"}, "${var01,}", "aBCDEFGH28IJ"),
    ({"var01": "ABCDEFGH28IJ"}, "${var01,,}", "abcdefgh28ij"),
    ({"path_name": "/home/bozo/ideas/thoughts.for.today"}, "${path_name:11}", "ideas/thoughts.for.today"),
    ({"path_name": "/home/bozo/ideas/thoughts.for.today"}, "${path_name:11:5}", "ideas"),
    ({"var": "abc"}, "${var=xyz}", "abc"),
    ({}, "${var=xyz}", "xyz"),
    ({"default_var": "foo"}, "something ${var=${default_var}}", "something foo"),
    ({"default_var": "foo1"}, "foo: ${var=${default_var}-suffix}", "foo: foo1-suffix"),
    ({"default_var": "foo1"}, "foo: ${var=prefix${default_var}-suffix}", "foo: prefixfoo1-suffix"),
    ({}, "${var:=xyz}", "xyz"),
    ({"stringZ": "abcABC123ABCabc"}, "${stringZ/%abc/XYZ}", "abcABC123ABCXYZ"),
    ({"stringZ": "abcABC123ABCabc"}, "${stringZ/#abc/XYZ}", "XYZABC123ABCabc"),
    ({"stringZ": "somevalue"}, "${stringZ/#/prefix-}", "prefix-somevalue"),
    ({"stringZ": "somevalue"}, "${stringZ/%/-suffix}", "somevalue-suffix"),
    ({"stringZ": "abcABC123ABCabc"}, "${stringZ//abc/xyz}", "xyzABC123ABCxyz"),
    ({"stringZ": "abcABC123ABCabc"}, "${stringZ/abc/xyz}", "xyzABC123ABCabc"),
    ({"filename": "bash.string.txt"}, "${filename#*.}", "string.txt"),
    ({"filename": "path/to/file"}, "${filename#*/}", "to/file"),
    ({"filename": "/path/to/file"}, "${filename#*/}", "path/to/file"),
    ({"filename": "bash.string.txt"}, "${filename##*.}", "txt"),
    ({"filename": "path/to/file"}, "${filename##*/}", "file"),
    ({"filename": "/path/to/file"}, "${filename##*/}", "file"),
    ({"filename": "bash.string.txt"}, "${filename%.*}", "bash.string"),
    ({"filename": "bash.string.txt"}, "${filename%%.*}", "bash"),
    ({"var01": "abcdEFGH28ij"}, "${var=${var01^^}}", "ABCDEFGH28IJ"),
    ({"var01": "abcdEFGH28ij"}, "$${var01}", "${var01}"),
    (
        {"var01": "abcdEFGH28ij"},
        "some text ${var01}$${var$${var01}$var01${var01}",
        "some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij",
    ),
    ({"default_var": "foo"}, "something $${var=${default_var}}", "something ${var=foo}"),
    ({"stringZ": "foo/bar"}, r"${stringZ/\//-}", "foo-bar"),
    ({"stringZ": "foo/bar/baz"}, r"${stringZ//\//-}", "foo-bar-baz"),
    ({"default_var": "foo"}, "\\\\something ${var=${default_var}}", "\\\\something foo"),
    ({"stringZ": "foo.bar"}, "${stringZ/./}", "foobar"),
]

# Text-only and argument cases of upstream's parse table, as what they evaluate to.
UPSTREAM_PARSE = [
    ({}, "}text", "}text"),
    ({}, "http://github.com", "http://github.com"),
    ({}, "$$string", "$string"),
    ({}, r"\\.\pipe\pipename", r"\\.\pipe\pipename"),
    ({"string": "/position/x"}, r"${string/\/position/length}", "length/x"),
    ({"string": "a/position\\b"}, r"${string/\/position\\/length}", "alengthb"),
    ({"string": "position"}, r"${string/position/\/length}", "/length"),
    ({"string": "position"}, r"${string/position/\/leng\\th}", "/leng\\th"),
    ({"string": "$%:*{rest"}, "${string#$%:*{}", "rest"),
    ({"string": "hello", "position": "1", "stringz": "X"}, "${string:${position}}", "ello"),
    ({"string": "abc", "stringz": "a"}, "${string#${stringz}}", "bc"),
    ({"var": "v"}, "${string=prefix-${var}-suffix}", "prefix-v-suffix"),
    ({"var": "v"}, "${string=prefix${var} suffix}", "prefixv suffix"),
    ({"string": "a.b.c", "stringy": ".", "stringz": "-"}, "${string//${stringy}/${stringz}}", "a-b-c"),
    ({"string": "12345"}, "hello ${#string} world", "hello 5 world"),
]

# What real fleets write, and the rules that are Flux's own rather than a shell's.
FLEET = [
    ({"D": "example.com"}, "${D/./-}", "example-com"),
    ({"NAME": "podinfo"}, "${APP:=${NAME}}", "podinfo"),
    ({"NAME": "podinfo", "APP": "web"}, "${APP:=${NAME}}", "web"),
    ({"v": ""}, "${v:=d}", "d"),
    ({"v": ""}, "${v:-d}", "d"),
    ({"v": ""}, "${v=d}", "d"),  # Flux treats `=` like `:=`
    ({"v": "x"}, "${v:+alt}", "x"),  # `+` is a default too, not bash's alternative
    ({"v": ""}, "${v:?message}", "message"),  # `?` never fails
    ({}, "${unset}", ""),
    ({}, "${#unset}", "0"),
    ({"v": "héllo"}, "${#v}", "6"),  # bytes, as Go counts them
    ({"v": "abcdef"}, "${v:1:-1}", "bcde"),
    ({"v": "abcdef"}, "${v:-2}", "abcdef"),  # `:-` is a default, not a negative offset
    ({"v": "abcdef"}, "${v:x}", "abcdef"),
    ({"v": "a.b"}, "${v/#a/}", "a.b"),  # prefix replace needs two arguments
    ({"v": "a.b"}, "${v/./}", "ab"),
    ({"v": "abc"}, "${v:1x2}", "abc"),
    ({"1x": "digit first"}, "${1x}", "digit first"),
    ({"v": "ab"}, "${v^,}", "ab"),
    ({"v": "a"}, "$5 and $v and $", "$5 and $v and $"),
    ({"v": "a/b"}, "${v##*[/]}", "b"),
    ({"v": "a[b"}, "${v#*[}", "a[b"),  # a bad pattern removes nothing
]


@pytest.mark.parametrize(("values", "text", "expected"), UPSTREAM_EXPAND + UPSTREAM_PARSE + FLEET)
def test_evaluates_as_flux(values: dict[str, str], text: str, expected: str) -> None:
    assert evaluate(text, values).text == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${v-d}", "missing closing brace"),
        ("${v+d}", "missing closing brace"),
        ("${a.b}", "missing closing brace"),
        ("${v", "missing closing brace"),
        ("${}", "unable to parse variable name"),
        ("${-x}", "unable to parse variable name"),
        ("${v:=x", "unable to parse substitution within function"),
        ("${#}", "bad substitution"),
        ("${#v:1}", "bad substitution"),
        ("${v^^^}", "bad substitution"),
        ("${v/x}", "bad substitution"),
        ("${v:1${x}}", "bad substitution"),
        ("${v/.}", "bad substitution"),
        ("${v/#a}", "bad substitution"),
        ("${v#}", "unable to parse substitution within function"),
        ("${v:}", "unable to parse substitution within function"),
        ("${v/a/b${x}}", "bad substitution"),
    ],
)
def test_refuses_what_flux_refuses(text: str, message: str) -> None:
    with pytest.raises(SubstitutionError, match=f"^{message}$"):
        evaluate(text, {"v": "value", "x": "y"})


def test_strict_mode_names_only_references_without_a_default() -> None:
    result = evaluate("${a} ${#b} ${c^^} ${d:=x} ${e=y} ${f:-z} ${g:+w} ${h/x/y}", {})
    assert result.missing == {"a", "b", "c", "h"}
    assert result.used == {"a", "b", "c", "d", "e", "f", "g", "h"}


def test_nesting_and_growth_are_bounded() -> None:
    deep = "${a:=" * (MAX_DEPTH + 1) + "x" + "}" * (MAX_DEPTH + 1)
    with pytest.raises(SubstitutionError, match="nested deeper"):
        evaluate(deep, {})
    assert evaluate("${a:=" * 10 + "x" + "}" * 10, {}).text == "x"
    with pytest.raises(SubstitutionError, match="exceed"):
        evaluate("${v///" + "y" * 4096 + "}", {"v": "x" * 8192})


def test_star_patterns_stay_linear() -> None:
    value = "a" * 20000
    assert evaluate("${v##*a*a*a*a*a*b}", {"v": value}).text == value
