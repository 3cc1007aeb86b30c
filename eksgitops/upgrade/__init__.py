"""`eksgitops upgrade`: move a stack to the next Kubernetes minor, checked before anything changes.

- `check`: offline readiness (version path, add-ons, the fleet's APIs against the target's
  schemas, node groups, the target stack's guardrails), optionally EKS upgrade insights;
- `apply`: in place (the stack file, then `up` in phases) or blue/green (a green stack,
  weighted DNS, the ordered teardown of blue), every cloud step through dr's interfaces.
"""
