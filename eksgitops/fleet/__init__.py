"""Fleet-repository tooling: scaffold, bootstrap and verify a GitOps repo with GitPython."""
