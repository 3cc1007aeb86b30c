"""The shipped stacks (`stacks/Pulumi.{dev,staging,prod}.yaml`) as test inputs, with any agent.

`shipped_stack(env, agent)` is the shipped file's text with `gitops.agent` set, and only
what that agent requires changed: the Flux-only keys (sops, imageAutomation, …) removed for
an Argo CD agent, an Identity Center instance added for eks-argocd. `agent=None` is the file
exactly as shipped.
"""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ("dev", "staging", "prod")
AGENTS = ("flux", "argocd", "eks-argocd")
FLUX_ONLY = (
    "webhookReceiver",
    "webhookToken",
    "imageAutomation",
    "artifactGenerators",
    "crossNamespaceRefs",
    "sops",
    "notifications",
    "waitForSync",
)
IDENTITY_CENTER = "arn:aws:sso:::instance/ssoins-0123456789abcdef"


def shipped_text(env: str) -> str:
    return (REPO / "stacks" / f"Pulumi.{env}.yaml").read_text()


def for_agent(gitops: dict, agent: str) -> dict:
    """A stack's gitops section with `agent` set and only what that agent requires changed."""
    gitops = {**gitops, "agent": agent}
    if agent != "flux":
        for key in FLUX_ONLY:
            gitops.pop(key, None)
        creds = gitops.get("credentials")
        if isinstance(creds, dict) and creds.get("readOnly") is False:
            gitops["credentials"] = {**creds, "readOnly": True}  # no image automation left
        # Argo CD checks OpenPGP signatures of HEAD only, EKS's managed Argo CD none (docs/signing.md).
        verify = gitops.get("verify")
        if isinstance(verify, dict) and (
            agent == "eks-argocd"
            or verify.get("mode", "HEAD") != "HEAD"
            or not all("BEGIN PGP PUBLIC KEY BLOCK" in str(key) for key in verify.get("publicKeys") or [])
        ):
            gitops.pop("verify")
    if agent == "eks-argocd":
        gitops["eksArgocd"] = {"identityCenterInstanceArn": IDENTITY_CENTER}
    return gitops


VERIFY_WAIVER = {
    "rule": "GITOPS-VERIFY",
    "reason": "test input: the shipped stack's example key is one this agent cannot verify",
}


def with_agent_config(config: dict, agent: str, prefix: str = "") -> dict:
    """A stack's config (keys with `prefix`, e.g. "eksgitops:") with `agent` set, as `for_agent`
    does; where the agent cannot keep the stack's gitops.verify, GITOPS-VERIFY is waived with a
    reason, as a user moving that stack to that agent would have to."""
    gitops = dict(config.get(f"{prefix}gitops") or {})
    changed = for_agent(gitops, agent)
    config = {**config, f"{prefix}gitops": changed}
    if "verify" in gitops and "verify" not in changed:
        policy = dict(config.get(f"{prefix}policy") or {})
        policy["waivers"] = [*(policy.get("waivers") or []), VERIFY_WAIVER]
        config[f"{prefix}policy"] = policy
    return config


def shipped_stack(env: str, agent: str | None = None) -> str:
    text = shipped_text(env)
    if agent is None:
        return text
    doc = yaml.safe_load(text)
    doc["config"] = with_agent_config(doc["config"], agent, "eksgitops:")
    return yaml.safe_dump(doc, sort_keys=False)


def install(project: Path, env: str, agent: str | None = None) -> Path:
    """Write the stack file into `project/stacks/` (and Pulumi.yaml beside it); return its path."""
    (project / "stacks").mkdir(parents=True, exist_ok=True)
    (project / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text())
    path = project / "stacks" / f"Pulumi.{env}.yaml"
    path.write_text(shipped_stack(env, agent))
    return path
