"""Guardrail rules over what a program registers: one rule per line of docs/policy.md.

`rules.RULES` lists them; `evaluate.evaluate` runs them over a plan with the stack's
waivers; `crossguard` adapts them to a Pulumi CrossGuard pack (`policies/`). The rule
modules import neither Pulumi nor the components, so the pack stays light.
"""
