"""`dr teardown` leaves nothing tagged for the cluster in AWS (moto): v2 and Classic load
balancers, the security group the load balancer controller left behind (with the node group's
rule that references it), the EBS volumes of PersistentVolumeClaims; and Argo CD
ApplicationSets are paused with the Applications."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from eksgitops.dr.aws import AwsClients
from eksgitops.dr.cluster_api import APPLICATION, APPLICATION_SET, PV, PVC, SERVICE
from eksgitops.dr.teardown_aws import lift_deletion_protection
from tests.dr.conftest import REGION, client
from tests.dr.test_shipped_stacks import run, shipped
from tests.simworld.kube_server import FakeKubeServer, Request
from tests.simworld.pulumi_fake import SimWorkspace

__all__ = ["shipped"]
CLUSTER = "eksgitops-dev"


def cluster_tagged_in_aws() -> list[str]:
    """Everything in moto that carries a tag naming the cluster."""
    found: list[str] = []
    ec2 = client("ec2")
    for key, value in (("elbv2.k8s.aws/cluster", CLUSTER), (f"kubernetes.io/cluster/{CLUSTER}", "owned")):
        tags = ec2.describe_tags(
            Filters=[{"Name": "key", "Values": [key]}, {"Name": "value", "Values": [value]}]
        )
        # moto keeps a deleted group's tags in DescribeTags: count the groups that still exist.
        groups = {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
        found += [
            f"{t['ResourceType']} {t['ResourceId']}"
            for t in tags["Tags"]
            if t["ResourceType"] != "security-group" or t["ResourceId"] in groups
        ]
    elb = client("elbv2")
    for lb in elb.describe_load_balancers()["LoadBalancers"]:
        found.append(f"elbv2 {lb['LoadBalancerName']}")
    for lb in client("elb").describe_load_balancers()["LoadBalancerDescriptions"]:
        found.append(f"elb {lb['LoadBalancerName']}")
    found += [f"volume {v['VolumeId']}" for v in ec2.describe_volumes()["Volumes"]]
    found += [f"eks {name}" for name in client("eks").list_clusters()["clusters"]]
    return found


def what_the_controllers_made() -> dict[str, str]:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.10.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"][
            "SubnetId"
        ]
        for i, z in enumerate("ab")
    ]
    nodes = ec2.create_security_group(GroupName="nodes", Description="node group", VpcId=vpc)["GroupId"]
    backend = ec2.create_security_group(
        GroupName=f"k8s-traffic-{CLUSTER}",
        Description="made by the load balancer controller",
        VpcId=vpc,
        TagSpecifications=[
            {"ResourceType": "security-group", "Tags": [{"Key": "elbv2.k8s.aws/cluster", "Value": CLUSTER}]}
        ],
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=nodes,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": backend}]}
        ],
    )
    alb = client("elbv2").create_load_balancer(
        Name="k8s-apps-web", Subnets=subnets, Tags=[{"Key": "elbv2.k8s.aws/cluster", "Value": CLUSTER}]
    )["LoadBalancers"][0]["LoadBalancerArn"]
    client("elb").create_load_balancer(
        LoadBalancerName="a1b2c3legacy",
        Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 80, "InstancePort": 30080}],
        AvailabilityZones=[f"{REGION}a"],
        Tags=[{"Key": f"kubernetes.io/cluster/{CLUSTER}", "Value": "owned"}],
    )
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=10)["VolumeId"]
    return {"alb": alb, "volume": volume, "nodes": nodes, "vpc": vpc}


def controllers(aws: dict[str, str]):
    """The load balancer controller, the in-tree cloud provider and the EBS CSI driver at work."""

    def hook(server: FakeKubeServer, req: Request) -> None:
        for svc in server.items(SERVICE):
            meta = svc["metadata"]
            if meta.get("deletionTimestamp") and meta["name"] == "web":
                client("elbv2").delete_load_balancer(LoadBalancerArn=aws["alb"])
                meta["finalizers"] = []
                del server.objects[("v1", "services", meta["namespace"], meta["name"])]
        names = {s["metadata"]["name"] for s in server.items(SERVICE)}
        if "legacy" not in names and client("elb").describe_load_balancers()["LoadBalancerDescriptions"]:
            client("elb").delete_load_balancer(LoadBalancerName="a1b2c3legacy")
        if not server.items(PVC) and server.get(PV, "pv-data") is not None:
            del server.objects[("v1", "persistentvolumes", None, "pv-data")]
            client("ec2").delete_volume(VolumeId=aws["volume"])

    return hook


@pytest.mark.parametrize("shipped", [("dev", None)], indirect=True)
def test_nothing_tagged_for_the_cluster_is_left_in_aws(shipped):
    world = shipped["world"]
    ws = SimWorkspace(world.backend, world.clock)
    ws.select("dev")
    ws.up(lambda e: None)  # the environment as `up` left it, its cluster in moto
    aws = what_the_controllers_made()
    kube = world.kube
    kube.add(
        SERVICE,
        {
            "metadata": {"name": "web", "namespace": "apps", "finalizers": ["service.k8s.aws/resources"]},
            "spec": {"type": "LoadBalancer"},
        },
    )
    kube.add(SERVICE, {"metadata": {"name": "legacy", "namespace": "apps"}, "spec": {"type": "LoadBalancer"}})
    kube.add(PVC, {"metadata": {"name": "data", "namespace": "apps"}, "spec": {"volumeName": "pv-data"}})
    kube.add(PV, {"metadata": {"name": "pv-data"}, "spec": {"csi": {"volumeHandle": aws["volume"]}}})
    kube.hooks.append(controllers(aws))
    assert len(cluster_tagged_in_aws()) >= 5

    result = run("dr", "teardown", "dev", "--yes", "--poll", "5", "--snapshot-volumes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert cluster_tagged_in_aws() == []
    snapshots = client("ec2").describe_snapshots(
        Filters=[{"Name": "tag:eksgitops:snapshot-of-cluster", "Values": [CLUSTER]}]
    )["Snapshots"]
    assert [s["VolumeId"] for s in snapshots] == [aws["volume"]]  # taken before the claim went
    nodes = client("ec2").describe_security_groups(GroupIds=[aws["nodes"]])["SecurityGroups"][0]
    assert nodes["IpPermissions"] == []  # the rule referencing the controller's group was revoked


@pytest.mark.parametrize("shipped", [("dev", "argocd")], indirect=True)
def test_argo_cd_application_sets_are_paused_before_anything_is_deleted(shipped):
    world = shipped["world"]
    ws = SimWorkspace(world.backend, world.clock)
    ws.select("dev")
    ws.up(lambda e: None)
    world.kube.add(
        APPLICATION_SET,
        {
            "metadata": {"name": "apps", "namespace": "argocd"},
            "spec": {"template": {"spec": {"syncPolicy": {"automated": {"prune": True}}, "project": "x"}}},
        },
    )
    result = run("dr", "teardown", "dev", "--yes", "--poll", "5")
    assert result.exit_code == 0, result.stdout + result.stderr
    appset = world.kube.get(APPLICATION_SET, "apps", "argocd")
    assert appset and appset["spec"]["template"]["spec"] == {"syncPolicy": {}, "project": "x"}
    patches = [r.path for r in world.kube.calls("PATCH")]
    assert "applicationsets/apps" in patches[0]  # before the Applications it rewrites
    assert all(
        app["spec"].get("syncPolicy", {}).get("automated") is None for app in world.kube.items(APPLICATION)
    )


def test_deletion_protection_is_lifted_before_destroy(aws_env):
    # moto keeps no deletionProtection: botocore's Stubber checks the calls against the EKS model.
    clients = AwsClients(REGION)
    eks = clients.client("eks")
    with Stubber(eks) as stub:
        stub.add_response(
            "describe_cluster", {"cluster": {"name": CLUSTER, "deletionProtection": True}}, {"name": CLUSTER}
        )
        stub.add_response("update_cluster_config", {}, {"name": CLUSTER, "deletionProtection": False})
        assert lift_deletion_protection(clients, CLUSTER) == f"deletion protection of {CLUSTER} lifted"
        stub.add_response(
            "describe_cluster", {"cluster": {"name": CLUSTER, "deletionProtection": False}}, {"name": CLUSTER}
        )
        assert lift_deletion_protection(clients, CLUSTER) == "deletion protection is off"
