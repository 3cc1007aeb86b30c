"""How the spec reports mistakes: `SpecValueError` inside models, `SpecError` lines outside.

Field and model validators in the spec models raise `SpecValueError(what, allowed, at=...)`.
pydantic keeps the exception in the error's context, and `validate` here turns it into the
usual line `<file>: eksgitops:<path>: <what>; <allowed>`, where `<path>` is the location
pydantic reports for the validator plus `at` (a sub-path relative to it, so a model
validator can point at the exact key that is wrong, e.g. `at=("minSize",)`). pydantic's own
errors (wrong type, unknown key, missing key…) are translated into the same form.

Every line goes through `redact`, so a credential a user pasted into a URL
(`https://user:TOKEN@host/…`, `ssh://git:TOKEN@…`) never reaches a terminal or a log.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NamedTuple, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails

from components.spec.base import DNS_LABEL_ALLOWED, PROJECT, SecretValue

PathPart = str | int
KeyPath = tuple[PathPart, ...]

# scheme://userinfo@ for every scheme (a user name alone, as in ssh://git@host, is kept
# except over http(s), where it is usually a token), and scp-like user:secret@host:.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s\"']+)@")
_SCP_USERINFO = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z0-9._~%!$&'()*+,;=-]+:[^/@\s\"']+@(?=[A-Za-z0-9.-]+:)")


# Control characters (C0 and C1) and the Unicode line and paragraph separators, which end a
# line on a terminal as surely as a newline does.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class SpecValueError(ValueError):
    """A value that is well typed but not allowed: what is wrong, and what is allowed."""

    def __init__(self, what: str, allowed: str, at: KeyPath = ()):
        super().__init__(f"{what}; {allowed}")
        self.what = what
        self.allowed = allowed
        self.at = at


class SpecError(Exception):
    """Every mistake in a stack's config, one line each, ready to print (credentials redacted)."""

    def __init__(self, lines: list[str]):
        # One line each, whatever a value held: control characters are shown escaped.
        self.lines = [_CONTROL.sub(lambda m: repr(m[0])[1:-1], redact(line)) for line in lines]
        super().__init__("\n".join(self.lines))


def redact(text: str) -> str:
    """`text` with the userinfo of every URL (and of scp-like Git addresses) replaced by ***."""

    def hide(match: re.Match[str]) -> str:
        secret = ":" in match["userinfo"] or match["scheme"].lower() in ("http://", "https://")
        return f"{match['scheme']}***@" if secret else match[0]

    text = _URL_USERINFO.sub(hide, text)
    return _SCP_USERINFO.sub("***@", text)


def format_path(path: KeyPath) -> str:
    """`("nodeGroups", 0, "minSize")` -> `nodeGroups[0].minSize`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class Problem(NamedTuple):
    """One mistake: where (key path), what is wrong, and what is allowed."""

    path: KeyPath
    what: str
    allowed: str


@dataclass(frozen=True)
class InvalidJson:
    """A structured key whose Pulumi config text is not JSON; load_spec reports it."""

    text: str
    error: str


def raise_all(errors: list[SpecValueError]) -> None:
    """Report several SpecValueErrors of one validator at once (pydantic merges them)."""
    if errors:
        details = [
            InitErrorDetails(
                type="value_error", loc=e.at, input=None, ctx={"error": SpecValueError(e.what, e.allowed)}
            )
            for e in errors
        ]
        raise ValidationError.from_exception_data("spec", details)


M = TypeVar("M", bound=BaseModel)


def validate(
    model: type[M], data: Mapping[str, Any], context: dict[str, Any] | None = None
) -> tuple[M | None, list[Problem]]:
    """`model` built from camelCase `data`, or None and every problem pydantic found."""
    try:
        return model.model_validate(data, by_alias=True, by_name=False, context=context or {}), []
    except ValidationError as exc:
        return None, pydantic_problems(exc, model)


def format_problems(problems: list[Problem], source: str) -> list[str]:
    """The SpecError lines, sorted by key path, without duplicates."""

    def order(problem: Problem) -> tuple[Any, ...]:
        return (
            tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in problem.path),
            problem.what,
        )

    lines: list[str] = []
    for problem in sorted(problems, key=order):
        line = f"{source}: eksgitops:{format_path(problem.path)}: {problem.what}; {problem.allowed}"
        if line not in lines:
            lines.append(line)
    return lines


def _did_you_mean(word: str, options: list[str]) -> str:
    folded = {o.lower().replace("_", "").replace("-", ""): o for o in options}
    exact = folded.get(word.lower().replace("_", "").replace("-", ""))
    close = [exact] if exact else difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f', did you mean "{close[0]}"?' if close and close[0] != word else ""


# Hints for required keys, by key name.
_REQUIRED_HINTS = {
    "region": "an AWS region such as eu-west-1",
    "name": DNS_LABEL_ALLOWED,
    "namespace": DNS_LABEL_ALLOWED,
    "serviceAccount": DNS_LABEL_ALLOWED,
    "principalArn": "an IAM role ARN such as arn:aws:iam::111122223333:role/platform-admin",
    "key": "a Kubernetes label key",
}

_EXPECTED = {
    "string_type": ("a string", "a string"),
    "int_type": ("a whole number", "a whole number"),
    "bool_type": ("true or false", "true or false"),
    "list_type": ("a list", "a YAML list"),
    "dict_type": ("a mapping", "a mapping of keys to values"),
    "model_type": ("a mapping", "a mapping of keys (see docs/configuration.md)"),
    "model_attributes_type": ("a mapping", "a mapping of keys (see docs/configuration.md)"),
}


def describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f'the string "{value}"'
    if isinstance(value, SecretValue):
        return "a Pulumi secret"
    return {list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def pydantic_problems(exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """pydantic's errors, rewritten as (key path, what is wrong, what is allowed)."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind, value = err["type"], err.get("input")
        path = loc[:-1] if loc and loc[-1] == "[key]" else loc
        annotation = _annotation_at(model, loc[:-2] if path != loc else loc)
        if path != loc:  # a mapping's key: the mapping's key type
            annotation = strip_optional(get_args(annotation)[0]) if get_origin(annotation) is dict else None
        if isinstance(value, SecretValue) and kind != "plaintext_credential":
            what, allowed = "is a Pulumi secret (secure:), but this key holds no credentials", "a plain value"
        elif isinstance(value, InvalidJson):
            what, allowed = (
                f"is not valid JSON ({value.error})",
                "a mapping or list, which Pulumi passes as JSON",
            )
        elif kind == "plaintext_credential":
            what = f"is {'a plain value' if value is not None else 'empty'}, but it holds a credential"
            key = f"'{PROJECT}:{format_path(path)}'"
            allowed = f"set it as a secret: pulumi config set --secret --path {key} <value>"
        elif kind == "extra_forbidden":
            keys = _allowed_keys(model, path[:-1])
            what, allowed = (
                "unknown key" + _did_you_mean(str(path[-1]), keys),
                "allowed keys here: " + ", ".join(keys),
            )
        elif kind == "missing":
            what, allowed = (
                "is required",
                _REQUIRED_HINTS.get(str(path[-1]), "set it (see docs/configuration.md)"),
            )
        elif kind == "literal_error":
            options = get_args(annotation) if annotation is not None else ()
            allowed = "one of " + ", ".join(str(o) for o in options)
            literal_types = {type(o) for o in options}
            if type(value) not in literal_types:
                # The right words in the wrong type: "1" for 1, 2.0 or true for 2.
                kinds = {str: "a string", int: "a whole number"}
                what = f"is {describe(value)}, not " + " or ".join(
                    sorted(kinds.get(t, t.__name__) for t in literal_types)
                )
            else:
                what = f"{describe(value)} is not allowed" + _did_you_mean(
                    str(value), [str(o) for o in options]
                )
        elif kind in _EXPECTED:
            expected, allowed = _EXPECTED[kind]
            if kind == "string_type" and isinstance(value, int | float | bool):
                # YAML turned an unquoted 1.30, 8080 or true into a number or boolean.
                allowed = "a string: quote the value in YAML"
            what = f"is {describe(value)}, not {expected}"
        elif kind == "value_error" and isinstance(
            spec_error := err.get("ctx", {}).get("error"), SpecValueError
        ):
            path, what, allowed = (*path, *spec_error.at), spec_error.what, spec_error.allowed
        else:
            message = str(err["msg"]).replace("Input should be", "should be").replace("Value error, ", "")
            what, allowed = message[:1].lower() + message[1:], "see docs/configuration.md"
        problems.append(Problem(path, what, allowed))
    return problems


def strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is not Literal and type(None) in get_args(annotation) and len(args) == 1:
        annotation = args[0]
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def _annotation_at(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """The declared type at a key path of `model`, or None if it cannot be followed."""
    annotation: Any = model
    for part in loc:
        annotation = strip_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for n, f in annotation.model_fields.items() if part in (n, f.alias)), None)
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) is list and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return None
    return strip_optional(annotation)


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    annotation = _annotation_at(model, loc)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        # A model may keep keys a stack cannot set (the environment comes from the stack name).
        hidden: frozenset[str] = getattr(annotation, "hidden_keys", frozenset())
        return sorted(key for n, f in annotation.model_fields.items() if (key := f.alias or n) not in hidden)
    return []
