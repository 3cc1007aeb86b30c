"""`eksgitops dr`: disaster recovery — preflight, rebuild, verify, teardown, drill, escrow.

The world is reached only through narrow interfaces, so every orchestration step can be
driven in tests with faults injected:
- `workspace.PulumiWorkspace` (the Pulumi Automation API),
- `cluster_api.ClusterApi` (the Kubernetes API),
- `fleet_check.FleetVerifier` (`eksgitops fleet verify` as a subprocess),
- boto3 clients from `aws.AwsClients` (moto's server in tests, through `AWS_ENDPOINT_URL`),
- `waits.Clock` (every wait is bounded by it).
Every command leaves `build/dr/<stack>-<timestamp>.json` and `.md` (`report.DrReport`).
"""
