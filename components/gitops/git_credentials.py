"""The Git credentials Secret data each agent expects, built from Pulumi secrets.

Every value that carries a credential is a `pulumi.Output.secret`, from the stack's
`SecretValue` to the Kubernetes Secret's `stringData` (GIT-CREDS-SECRET).
"""

from __future__ import annotations

import pulumi

from components.spec.base import SecretValue
from components.spec.gitops import GitCredentialsSpec


def secret(value: SecretValue | None) -> pulumi.Output[str]:
    """A stack secret as a Pulumi secret Output (the only way credentials leave the spec)."""
    assert value is not None, "validated by GitCredentialsSpec"
    return pulumi.Output.secret(value.value)


def flux_secret_data(creds: GitCredentialsSpec) -> dict[str, pulumi.Input[str]]:
    """Keys of a Flux GitRepository secretRef (source-controller's documented names)."""
    if creds.type == "ssh":
        assert creds.known_hosts is not None
        return {"identity": secret(creds.private_key), "known_hosts": creds.known_hosts}
    if creds.type == "https":
        return {"username": creds.username, "password": secret(creds.token)}
    # github-app: GitRepository provider github reads these keys.
    return {
        "githubAppID": str(creds.app_id),
        "githubAppInstallationID": str(creds.installation_id),
        "githubAppPrivateKey": secret(creds.private_key),
    }


def argocd_repository_data(url: str, creds: GitCredentialsSpec | None) -> dict[str, pulumi.Input[str]]:
    """Keys of an Argo CD repository Secret (label argocd.argoproj.io/secret-type: repository)."""
    data: dict[str, pulumi.Input[str]] = {"type": "git", "url": url}
    if creds is None:
        return data
    if creds.type == "ssh":
        # Argo CD pins host keys in argocd-ssh-known-hosts-cm (chart value configs.ssh.extraHosts).
        data["sshPrivateKey"] = secret(creds.private_key)
    elif creds.type == "https":
        data["username"] = creds.username
        data["password"] = secret(creds.token)
    else:
        data["githubAppID"] = str(creds.app_id)
        data["githubAppInstallationID"] = str(creds.installation_id)
        data["githubAppPrivateKey"] = secret(creds.private_key)
    return data
