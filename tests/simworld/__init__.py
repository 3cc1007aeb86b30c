"""The simulated world the dr and upgrade tests run in: real protocols, injectable faults.

- AWS: moto's server mode on 127.0.0.1 (`aws.moto_url`, `aws.aws_env`: boto3 in the process
  reaches it through AWS_ENDPOINT_URL, with fake credentials and a fresh state per test).
- Kubernetes: `kube_server.FakeKubeServer`, a threaded HTTP server speaking the REST paths
  `eksgitops.dr.cluster_api.KubernetesClusterApi` uses (get, list, discovery, merge-patch,
  delete with finalizers), behind a bearer token; `kubeconfig()` points the real client at
  it. Faults: `server.fault = lambda req: "throttle" | "drop" | "error" | None`; time and
  controllers: `server.hooks` (see `cluster.after_requests`, `cluster.remove_on_delete`).
  `cluster.healthy(server, agent, sha, bridge)` fills it as a cluster of flux, argocd or
  eks-argocd whose objects are at `sha`.
- Pulumi: `pulumi_fake.SimBackend` (stacks, resources, pending operations, the update
  lease; every call recorded in `backend.calls`) and `SimWorkspace`, one command's
  `PulumiWorkspace` on it. Faults: `fail_up_after`, pending creates, `lease_held_by`.
- `world.SimWorld(kube)`: all of it as the CLI's `eksgitops.dr.world.World`
  (`install(monkeypatch)`), with recording fakes of `eksgitops plan` and `fleet verify`.

Use: in a conftest.py, `from tests.simworld.fixtures import aws_env, kube_server, moto_url,
sim_world  # noqa: F401`; then a test takes `aws_env, sim_world` and drives the CLI.
"""
