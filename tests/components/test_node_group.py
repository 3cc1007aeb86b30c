"""NodeGroup: the hardened launch template and the managed node group it launches, planned offline."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pytest

from eksgitops.components.node_group import NodeGroup, NodeGroupArgs
from eksgitops.components.spec.compute import NodeGroupSpec, TaintSpec
from eksgitops.plan.offline_engine import PlanResult, run_program

PRIVATE = ["subnet-1000000a", "subnet-1000000b"]
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
MNG = "eks:index:ManagedNodeGroup"


def plan(**spec: Any) -> PlanResult:
    node_spec = NodeGroupSpec(name="general", **spec)

    def program():
        cluster = eks.Cluster("dev", name="dev", skip_default_node_group=True)
        role = aws.iam.Role("node", name="dev-node", assume_role_policy="{}")
        marker = aws.iam.Role("must-exist-first", assume_role_policy="{}")
        group = NodeGroup(
            "general",
            NodeGroupArgs(
                cluster=cluster,
                cluster_name="dev",
                spec=node_spec,
                node_role=role,
                subnet_ids=PRIVATE,
                kubernetes_version="1.33",
                depends_on=[marker],
                tags={"team": "x"},
            ),
        )
        pulumi.export("launch_template_id", group.launch_template_id)

    return run_program(program)


def test_launch_template_requires_imdsv2_with_hop_limit_1_by_default():
    template = plan().one(LAUNCH_TEMPLATE, "general")
    assert template.inputs["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
    }


def test_hop_limit_2_only_when_the_spec_says_so():
    template = plan(imds_hop_limit=2).one(LAUNCH_TEMPLATE, "general")
    assert template.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 2
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"


def test_root_volume_is_encrypted_gp3_of_the_spec_size_and_there_is_no_key_pair():
    template = plan(disk_size=80).one(LAUNCH_TEMPLATE, "general")
    (device,) = template.inputs["blockDeviceMappings"]
    assert device["deviceName"] == "/dev/xvda"
    assert device["ebs"] == {
        "volumeSize": 80,
        "volumeType": "gp3",
        "encrypted": "true",
        "deleteOnTermination": "true",
    }
    assert "keyName" not in template.inputs
    assert template.inputs["name"] == "dev-general"


def test_bottlerocket_encrypts_its_os_volume_and_sizes_its_data_volume():
    # A launch template only changes the volumes it names: naming only xvdb would leave
    # Bottlerocket's OS volume (xvda) unencrypted.
    template = plan(ami_type="BOTTLEROCKET_x86_64", disk_size=60).one(LAUNCH_TEMPLATE, "general")
    devices = {d["deviceName"]: d["ebs"] for d in template.inputs["blockDeviceMappings"]}
    assert devices == {
        "/dev/xvda": {"volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"},
        "/dev/xvdb": {
            "volumeSize": 60,
            "volumeType": "gp3",
            "encrypted": "true",
            "deleteOnTermination": "true",
        },
    }


@pytest.mark.parametrize(
    "ami_type", ["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_ARM_64"]
)
def test_every_volume_of_every_image_is_encrypted(ami_type):
    # The spec refuses x86 instance types with an arm64 image: give each image its own kind.
    instance_types = ["m7g.large"] if "ARM" in ami_type else ["m6i.large"]
    template = plan(ami_type=ami_type, instance_types=instance_types).one(LAUNCH_TEMPLATE, "general")
    assert template.inputs["blockDeviceMappings"]
    assert all(d["ebs"]["encrypted"] == "true" for d in template.inputs["blockDeviceMappings"])


def test_launched_instances_volumes_and_enis_are_tagged():
    template = plan().one(LAUNCH_TEMPLATE, "general")
    specs = {s["resourceType"]: s["tags"] for s in template.inputs["tagSpecifications"]}
    assert set(specs) == {"instance", "volume", "network-interface"}
    assert all(tags == {"Name": "dev-general", "team": "x"} for tags in specs.values())


def test_node_group_private_subnets_no_ssh_and_launch_template_by_id_and_latest_version():
    result = plan()
    group = result.one(MNG, "general").plain_inputs()
    assert group["subnetIds"] == PRIVATE
    assert "remoteAccess" not in group
    # With a launch template the disk size lives there; EKS refuses it on the group.
    assert "diskSize" not in group
    assert group["launchTemplate"] == {"id": "(known after apply: general.id)", "version": "1"}
    assert group["nodeRole"].endswith("aws:iam/role:Role::node")
    assert group["nodeGroupNamePrefix"] == "general-"
    assert group["version"] == "1.33"
    assert result.outputs["launch_template_id"] == "(known after apply: general.id)"


def test_node_group_sizes_types_labels_taints_and_ami():
    group = plan(
        instance_types=["m7g.large", "m6g.large"],
        capacity_type="SPOT",
        min_size=2,
        desired_size=3,
        max_size=5,
        labels={"role": "general"},
        taints=[TaintSpec(key="dedicated", value="gitops", effect="NO_EXECUTE")],
        ami_type="AL2023_ARM_64_STANDARD",
    ).one(MNG, "general")
    inputs = group.inputs
    assert inputs["scalingConfig"] == {"minSize": 2, "desiredSize": 3, "maxSize": 5}
    assert inputs["instanceTypes"] == ["m7g.large", "m6g.large"]
    assert inputs["capacityType"] == "SPOT"
    assert inputs["labels"] == {"role": "general"}
    assert inputs["taints"] == [{"key": "dedicated", "value": "gitops", "effect": "NO_EXECUTE"}]
    assert inputs["amiType"] == "AL2023_ARM_64_STANDARD"


def test_node_group_waits_for_what_it_is_told_to():
    result = plan()
    marker = result.one("aws:iam/role:Role", "must-exist-first")
    assert marker.urn in result.one(MNG, "general").dependencies


@pytest.mark.parametrize("type_", [LAUNCH_TEMPLATE, MNG])
def test_children_are_parented_to_the_component(type_):
    result = plan()
    component = result.one("eksgitops:cluster:NodeGroup", "general")
    assert result.one(type_, "general").parent == component.urn


def test_desired_size_is_left_to_the_autoscaler_after_creation():
    # Without it, every `up` after an autoscaler moved the group resets desiredSize.
    result = plan(min_size=1, desired_size=2, max_size=5)
    assert result.one(MNG, "general").inputs["ignoreScalingChanges"] is True
    node_group = result.one("aws:eks/nodeGroup:NodeGroup", "general")
    assert node_group.synthesized
    assert node_group.ignore_changes == ["scalingConfig.desiredSize"]


def test_the_node_group_pulumi_eks_creates_is_in_the_plan():
    result = plan(instance_types=["m6i.large"], labels={"role": "general"})
    node_group = result.one("aws:eks/nodeGroup:NodeGroup", "general")
    inputs = node_group.plain_inputs()
    assert node_group.parent == result.one(MNG, "general").urn
    assert inputs["clusterName"] == "dev"
    assert inputs["nodeRoleArn"] == "arn:aws:iam::000000000000:role/dev-node"
    assert inputs["subnetIds"] == PRIVATE
    assert inputs["scalingConfig"] == {"minSize": 1, "desiredSize": 2, "maxSize": 3}
    assert inputs["instanceTypes"] == ["m6i.large"]
    assert inputs["labels"] == {"role": "general"}
    assert inputs["nodeGroupNamePrefix"] == "general-"
    assert inputs["launchTemplate"] == {"id": "(known after apply: general.id)", "version": "1"}
    assert "nodeRole" not in inputs and "cluster" not in inputs
