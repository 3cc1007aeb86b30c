"""The rules as CrossGuard policies, for `pulumi preview --policy-pack policies`.

`policies/__main__.py` builds the `PolicyPack` from `policies()`; this module never does (a
PolicyPack starts a gRPC server and blocks), so tests can call each policy's `validate` with
constructed `ResourceValidationArgs` / `StackValidationArgs`.

Differences from the plan, all because of what CrossGuard offers:
- a rule with scope "resource" runs per resource (before it is created); the others run over
  the whole stack once everything is registered;
- waivers come from the stack's own `eksgitops:policy` config (CrossGuard hands the stack
  config to the pack); a waived finding is not reported, and the plan is where waivers are shown;
- advisory findings (values not known before apply, keys managed elsewhere) are left out:
  CrossGuard has one enforcement level per policy;
- GIT-CREDS-SECRET reports "not applicable": CrossGuard hands secrets to the pack in clear, so it
  cannot tell a Pulumi secret from plaintext. The offline plan judges that rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import _DictProxy, _is_unknown, _ListProxy
from pydantic import ValidationError

from components.spec.policy import PolicySpec, WaiverSpec
from eksgitops.policy.model import UNKNOWN_PREFIX, Finding, Graph, Resource, Rule
from eksgitops.policy.rules import RULES

CONFIG_NAMESPACE = "eksgitops"
UNKNOWN = UNKNOWN_PREFIX + ")"


def plain(value: Any) -> Any:
    """CrossGuard's props (proxies that raise on unknown values) as plain values, with unknowns
    as the plan's "(known after apply)" so the rules read both the same way."""
    if isinstance(value, _DictProxy | _ListProxy):
        value = value["__target"]
    if _is_unknown(value):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def resource_from_args(args: ResourceValidationArgs) -> Resource:
    parent = getattr(args.opts, "parent", None) or ""
    return Resource(
        urn=args.urn, type=args.resource_type, name=args.name, parent=parent, props=plain(args.props)
    )


def resources_from_stack(args: StackValidationArgs) -> list[Resource]:
    return [
        Resource(
            urn=r.urn,
            type=r.resource_type,
            name=r.name,
            parent=r.parent.urn if r.parent is not None else "",
            props=plain(r.props),
            dependencies=tuple(d.urn for d in r.dependencies),
            property_dependencies={k: [d.urn for d in v] for k, v in r.property_dependencies.items()},
        )
        for r in args.resources
    ]


def stack_waivers() -> tuple[list[WaiverSpec], str | None]:
    """The waivers in the stack's `eksgitops:policy` config, or why they cannot be read."""
    text = pulumi.Config(CONFIG_NAMESPACE).get("policy")
    if not text:
        return [], None
    try:
        return list(PolicySpec.model_validate(json.loads(text), by_alias=True).waivers), None
    except (json.JSONDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        return [], f"eksgitops:policy cannot be read ({first}); run `eksgitops plan` for the exact line"


def _report(
    findings: Sequence[Finding], waivers: Sequence[WaiverSpec], report: ReportViolation, with_urn: bool
) -> None:
    for f in findings:
        if f.advisory:
            continue
        if any(w.rule == f.rule and w.resource in (None, f.urn, f.resource) for w in waivers):
            continue
        message = f"{f.rule} {f.resource}: {f.message}"
        if with_urn and f.urn:
            report(message, f.urn)
        else:
            report(message, None)


def _resource_validator(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        waivers, error = stack_waivers()
        if error:
            report_violation(error, None)
            return
        findings = rule.judge(Graph([resource_from_args(args)]))
        _report(findings, waivers, report_violation, with_urn=False)

    return validate


def _stack_validator(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        if not rule.crossguard:
            args.not_applicable("CrossGuard hands secrets over in clear; `eksgitops plan` judges this rule")
        waivers, error = stack_waivers()
        if error:
            report_violation(error, None)
            return
        findings = rule.judge(Graph(resources_from_stack(args)))
        _report(findings, waivers, report_violation, with_urn=True)

    return validate


def policies(rules: Sequence[Rule] = RULES) -> list[Policy]:
    """One mandatory CrossGuard policy per rule, named by its id."""
    made: list[Policy] = []
    for rule in rules:
        description = f"{rule.title} ({rule.source})"
        if rule.scope == "resource" and rule.crossguard:
            made.append(
                ResourceValidationPolicy(
                    name=rule.id,
                    description=description,
                    enforcement_level=EnforcementLevel.MANDATORY,
                    validate=_resource_validator(rule),
                )
            )
        else:
            made.append(
                StackValidationPolicy(
                    name=rule.id,
                    description=description,
                    enforcement_level=EnforcementLevel.MANDATORY,
                    validate=_stack_validator(rule),
                )
            )
    return made
