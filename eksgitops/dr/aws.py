"""boto3 clients for one region.

The endpoint is boto3's own business: `AWS_ENDPOINT_URL` (or a profile's `endpoint_url`)
points every client at another endpoint, which is how the tests reach a moto server.
Retries are bounded so an unreachable endpoint fails a check instead of hanging it.
"""

from __future__ import annotations

from typing import Any


class AwsClients:
    """Clients of one region, made on first use and kept."""

    def __init__(self, region: str, *, session: Any = None):
        # Imported here: `eksgitops --help` and the plan should not pay for boto3.
        import boto3
        from botocore.config import Config

        self.region = region
        self._session = session or boto3.Session()
        self._config = Config(
            region_name=region,
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            read_timeout=30,
        )
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service, config=self._config)  # type: ignore[call-overload]
        return self._clients[service]

    def account_id(self) -> str:
        return self.client("sts").get_caller_identity()["Account"]


def error_text(exc: Exception) -> str:
    """A botocore error as `Code: message` on one line."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{err.get('Code', 'Error')}: {' '.join(str(err.get('Message', '')).split())}"
    return " ".join(str(exc).split()) or type(exc).__name__
