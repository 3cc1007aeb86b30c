"""The GitOps agent and what it needs in the cluster: one component a file.

- `kubernetes_provider.ClusterKubernetesProvider`: the provider every object below goes through.
- `bridge`: the values infrastructure hands to Git (`flux-system/cluster-vars`, Argo CD annotations).
- `flux_agent.FluxAgent`: Flux Operator chart + FluxInstance + sync credentials + bridge.
- `flux_identities.FluxControllerIdentities`: Pod Identity roles of the Flux controllers.
- `sops_key.SopsKey`: the one KMS key SOPS decrypts with (kept on delete).
- `argocd_agent.ArgoCdAgent`: argo-cd chart + repository Secret + root Application.
- `eks_argocd.EksArgoCd`: EKS's managed Argo CD capability + repository + root Application.
"""
