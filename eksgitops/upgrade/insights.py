"""EKS upgrade insights (ListInsights, DescribeInsight) for the cluster, shown beside our findings.

Read only, and only when asked (`upgrade check --insights`): they need credentials and a
running cluster. EKS refreshes them about once a day, so they can lag a change in Git.
"""

from __future__ import annotations

from dataclasses import dataclass

from eksgitops.dr.aws import AwsClients

UPGRADE_READINESS = "UPGRADE_READINESS"


@dataclass(frozen=True)
class EksInsight:
    name: str
    status: str
    """PASSING, WARNING, ERROR or UNKNOWN."""
    reason: str
    recommendation: str
    resources: int
    """How many Kubernetes resources EKS found affected."""

    def line(self) -> str:
        tail = f"; {self.recommendation}" if self.recommendation and self.status != "PASSING" else ""
        count = f" ({self.resources} resources)" if self.resources else ""
        return f"{self.status} {self.name}{count}: {self.reason}{tail}"


def read_insights(aws: AwsClients, cluster: str, target: str) -> list[EksInsight]:
    """Every upgrade-readiness insight EKS has for `target`, worst first."""
    eks = aws.client("eks")
    ids: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, object] = {
            "clusterName": cluster,
            "filter": {"categories": [UPGRADE_READINESS], "kubernetesVersions": [target]},
        }
        if token:
            kwargs["nextToken"] = token
        page = eks.list_insights(**kwargs)
        ids += [i["id"] for i in page.get("insights", [])]
        token = page.get("nextToken")
        if not token:
            break
    found = []
    for insight_id in ids:
        item = eks.describe_insight(clusterName=cluster, id=insight_id)["insight"]
        status = item.get("insightStatus") or {}
        found.append(
            EksInsight(
                name=str(item.get("name", insight_id)),
                status=str(status.get("status", "UNKNOWN")),
                reason=" ".join(str(status.get("reason", "")).split()),
                recommendation=" ".join(str(item.get("recommendation", "")).split()),
                resources=len(item.get("resources") or []),
            )
        )
    order = {"ERROR": 0, "WARNING": 1, "UNKNOWN": 2, "PASSING": 3}
    return sorted(found, key=lambda i: (order.get(i.status, 2), i.name))
