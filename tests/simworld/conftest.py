"""The simulated world's own fixtures, for its own tests."""

from tests.simworld.fixtures import aws_env, kube_server, moto_url, sim_world

__all__ = ["aws_env", "kube_server", "moto_url", "sim_world"]
