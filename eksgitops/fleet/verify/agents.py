"""The agents verify knows, as the walk is handed them (walk.py imports none of them)."""

from __future__ import annotations

from eksgitops.fleet.verify import argo, flux
from eksgitops.fleet.verify.agent import AgentRules

AGENTS: tuple[AgentRules, ...] = (flux.RULES, argo.RULES)
"""Every agent's rules: a Flux fleet may apply Argo CD Applications and the reverse."""
