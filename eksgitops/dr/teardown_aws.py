"""The AWS side of a teardown: what the cluster's controllers made outside Pulumi's state.

- load balancers: v2 (ALB/NLB, the AWS Load Balancer Controller tags them
  `elbv2.k8s.aws/cluster=<cluster>`) and Classic (the in-tree cloud provider tags them
  `kubernetes.io/cluster/<cluster>=owned`), and ELB network interfaces left in the VPC;
- security groups either of them made and left behind (same tags): rules of other groups
  that reference them are revoked first, or the deletion fails on the dependency;
- EBS volumes of the cluster's PersistentVolumes (by volume id), optionally snapshotted first;
- EKS deletion protection, lifted so that `pulumi destroy` can delete the cluster.
"""

from __future__ import annotations

from typing import Any

from eksgitops.dr.aws import AwsClients, error_text

LB_CLUSTER_TAG = "elbv2.k8s.aws/cluster"
BATCH = 20  # DescribeTags takes at most 20 load balancers (ELB and ELBv2 alike)


def _owned(tags: dict[str, Any], cluster: str) -> bool:
    return tags.get(LB_CLUSTER_TAG) == cluster or tags.get(f"kubernetes.io/cluster/{cluster}") == "owned"


def aws_load_balancers(aws: AwsClients, cluster_name: str, vpc_id: str | None) -> list[str]:
    """Load balancers (v2 and Classic) the cluster's controllers made, and ELB network interfaces."""
    left: list[str] = []
    elb = aws.client("elbv2")
    arns = [
        lb["LoadBalancerArn"]
        for page in elb.get_paginator("describe_load_balancers").paginate()
        for lb in page["LoadBalancers"]
    ]
    for start in range(0, len(arns), BATCH):
        for desc in elb.describe_tags(ResourceArns=arns[start : start + BATCH])["TagDescriptions"]:
            if _owned({t["Key"]: t.get("Value") for t in desc.get("Tags", [])}, cluster_name):
                # ...:loadbalancer/app/<name>/<id> -> <name>/<id>
                name = desc["ResourceArn"].split(":loadbalancer/", 1)[-1].split("/", 1)[-1]
                left.append(f"load balancer {name}")
    classic = aws.client("elb")
    names = [
        lb["LoadBalancerName"]
        for page in classic.get_paginator("describe_load_balancers").paginate()
        for lb in page["LoadBalancerDescriptions"]
    ]
    for start in range(0, len(names), BATCH):
        for desc in classic.describe_tags(LoadBalancerNames=names[start : start + BATCH])["TagDescriptions"]:
            if _owned({t["Key"]: t.get("Value") for t in desc.get("Tags", [])}, cluster_name):
                left.append(f"classic load balancer {desc['LoadBalancerName']}")
    if vpc_id:
        enis = aws.client("ec2").describe_network_interfaces(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "description", "Values": ["ELB *"]}]
        )["NetworkInterfaces"]
        left += [f"network interface {e['NetworkInterfaceId']} ({e.get('Description', '')})" for e in enis]
    return left


def leftover_security_groups(aws: AwsClients, cluster_name: str) -> list[dict[str, Any]]:
    """Security groups the load balancer controllers tagged for the cluster."""
    ec2 = aws.client("ec2")
    found: dict[str, dict[str, Any]] = {}
    for key, value in ((LB_CLUSTER_TAG, cluster_name), (f"kubernetes.io/cluster/{cluster_name}", "owned")):
        for page in ec2.get_paginator("describe_security_groups").paginate(
            Filters=[{"Name": f"tag:{key}", "Values": [value]}]
        ):
            for group in page["SecurityGroups"]:
                found[group["GroupId"]] = group
    return list(found.values())


def delete_security_groups(aws: AwsClients, groups: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Revoke the rules of other groups that reference them, then delete them: (deleted, failed)."""
    ec2 = aws.client("ec2")
    ids = {g["GroupId"] for g in groups}
    vpcs = sorted({g["VpcId"] for g in groups if g.get("VpcId")})
    if vpcs:
        for page in ec2.get_paginator("describe_security_groups").paginate(
            Filters=[{"Name": "vpc-id", "Values": vpcs}]
        ):
            for other in page["SecurityGroups"]:
                if other["GroupId"] in ids:
                    continue
                for direction, perms in (
                    ("ingress", other.get("IpPermissions", [])),
                    ("egress", other.get("IpPermissionsEgress", [])),
                ):
                    refs = [_only_pairs(p, ids) for p in perms]
                    refs = [p for p in refs if p["UserIdGroupPairs"]]
                    if not refs:
                        continue
                    revoke = (
                        ec2.revoke_security_group_ingress
                        if direction == "ingress"
                        else ec2.revoke_security_group_egress
                    )
                    revoke(GroupId=other["GroupId"], IpPermissions=refs)
    deleted: list[str] = []
    failed: list[str] = []
    for group in groups:
        try:
            ec2.delete_security_group(GroupId=group["GroupId"])
            deleted.append(f"{group['GroupId']} ({group.get('GroupName', '')})")
        except Exception as exc:
            failed.append(f"{group['GroupId']}: {error_text(exc)}")
    return deleted, failed


def _only_pairs(permission: dict[str, Any], ids: set[str]) -> dict[str, Any]:
    """The part of a rule that references one of `ids` (what to revoke, nothing more)."""
    keep = {k: v for k, v in permission.items() if k in ("IpProtocol", "FromPort", "ToPort")}
    keep["UserIdGroupPairs"] = [
        {"GroupId": pair["GroupId"]}
        for pair in permission.get("UserIdGroupPairs", [])
        if pair.get("GroupId") in ids
    ]
    return keep


def volumes_left(aws: AwsClients, volume_ids: list[str]) -> list[str]:
    """Which of these EBS volumes still exist."""
    if not volume_ids:
        return []
    ec2 = aws.client("ec2")
    left: list[str] = []
    for volume_id in volume_ids:  # one at a time: a missing id fails the whole batch
        try:
            answer = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
        except Exception as exc:
            if "NotFound" in error_text(exc):
                continue
            raise
        left += [f"{v['VolumeId']} ({v.get('State')})" for v in answer if v.get("State") != "deleted"]
    return left


def snapshot_volumes(aws: AwsClients, volume_ids: list[str], cluster_name: str) -> list[str]:
    """A snapshot of each volume before its claim is deleted (--snapshot-volumes)."""
    ec2 = aws.client("ec2")
    made: list[str] = []
    for volume_id in volume_ids:
        snap = ec2.create_snapshot(
            VolumeId=volume_id,
            Description=f"eksgitops dr teardown of {cluster_name}",
            TagSpecifications=[
                {
                    "ResourceType": "snapshot",
                    "Tags": [{"Key": "eksgitops:snapshot-of-cluster", "Value": cluster_name}],
                }
            ],
        )
        made.append(f"{volume_id} -> {snap['SnapshotId']}")
    return made


def lift_deletion_protection(aws: AwsClients, cluster_name: str) -> str:
    """EKS refuses DeleteCluster while deletion protection is on: turn it off first."""
    eks = aws.client("eks")
    try:
        cluster = eks.describe_cluster(name=cluster_name)["cluster"]
    except Exception as exc:
        if "ResourceNotFound" in error_text(exc):
            return f"cluster {cluster_name} does not exist"
        raise
    if not cluster.get("deletionProtection"):
        return "deletion protection is off"
    eks.update_cluster_config(name=cluster_name, deletionProtection=False)
    return f"deletion protection of {cluster_name} lifted"
