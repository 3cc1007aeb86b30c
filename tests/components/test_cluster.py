"""EksCluster: the pulumi-eks cluster's arguments, the composed children and the outputs, planned offline.

`eks.Cluster` and `eks.ManagedNodeGroup` are remote components: the plan sees their own
registration only, so these tests judge their inputs (camelCase wire names).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pulumi
import pytest

from eksgitops.components.cluster import (
    EksCluster,
    EksClusterArgs,
    access_associations_delete_first,
    no_creator_admin,
)
from eksgitops.components.spec.access import AccessEntrySpec, AccessSpec
from eksgitops.components.spec.addons import AddonSpec
from eksgitops.components.spec.compute import AutoModeSpec, NodeGroupSpec
from eksgitops.components.spec.control_plane import ControlPlaneSpec, EndpointSpec
from eksgitops.plan.offline_engine import PlanResult, RecordedResource, run_program

CLUSTER = "eks:index:Cluster"
MNG = "eks:index:ManagedNodeGroup"
AWS_CLUSTER = "aws:eks/cluster:Cluster"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
ADDON = "aws:eks/addon:Addon"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ALL_ADDONS = ("vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver")
ADMIN = "arn:aws:iam::111122223333:role/platform-admins"
DEV = "arn:aws:iam::111122223333:role/developers"
EXISTING_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OUTPUTS = (
    "cluster_name",
    "endpoint",
    "kubeconfig",
    "oidc_provider_arn",
    "oidc_issuer_url",
    "oidc_issuer_host",
    "node_role_arn",
    "cluster_role_arn",
    "secrets_key_arn",
    "cluster_security_group_id",
)


def cluster_args(**overrides: Any) -> EksClusterArgs:
    values: dict[str, Any] = {
        "cluster_name": "dev",
        "kubernetes_version": "1.33",
        "vpc_id": "vpc-0123abcd",
        "private_subnet_ids": ["subnet-0000000a", "subnet-0000000b"],
        "access": AccessSpec(
            entries=[
                AccessEntrySpec(principal_arn=ADMIN),
                AccessEntrySpec(principal_arn=DEV, policy="AmazonEKSEditPolicy", namespaces=["apps", "jobs"]),
            ]
        ),
        "node_groups": [NodeGroupSpec(name="general"), NodeGroupSpec(name="batch", imds_hop_limit=2)],
        "addons": {name: AddonSpec() for name in ALL_ADDONS},
        "tags": {"team": "platform"},
    }
    values.update(overrides)
    return EksClusterArgs(**values)


def plan(args: EksClusterArgs | None = None) -> PlanResult:
    def program():
        cluster = EksCluster("dev", args or cluster_args())
        for name in OUTPUTS:
            pulumi.export(name, getattr(cluster, name))

    return run_program(program)


@pytest.fixture(scope="module")
def default_plan() -> PlanResult:
    return plan()


def cluster_inputs(result: PlanResult) -> dict[str, Any]:
    return result.one(CLUSTER, "dev").plain_inputs()


def test_control_plane_endpoint_is_private_only_by_default(default_plan):
    inputs = cluster_inputs(default_plan)
    assert inputs["endpointPrivateAccess"] is True
    assert inputs["endpointPublicAccess"] is False
    # pulumi-eks refuses CIDRs on a closed public endpoint.
    assert "publicAccessCidrs" not in inputs


def test_public_endpoint_carries_its_allow_list():
    endpoint = EndpointSpec(public_access=True, public_access_cidrs=["203.0.113.0/24"])
    inputs = cluster_inputs(plan(cluster_args(endpoint=endpoint)))
    assert inputs["endpointPublicAccess"] is True
    assert inputs["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_control_plane_logs_version_network_and_tags(default_plan):
    inputs = cluster_inputs(default_plan)
    assert inputs["enabledClusterLogTypes"] == [
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    ]
    assert inputs["name"] == "dev"
    assert inputs["version"] == "1.33"
    assert inputs["vpcId"] == "vpc-0123abcd"
    assert inputs["privateSubnetIds"] == ["subnet-0000000a", "subnet-0000000b"]
    assert inputs["tags"] == {"team": "platform"}
    assert "kubernetesServiceIpAddressRange" not in inputs


def test_service_cidr_when_set():
    inputs = cluster_inputs(plan(cluster_args(service_cidr="172.20.0.0/16")))
    assert inputs["kubernetesServiceIpAddressRange"] == "172.20.0.0/16"


def test_secrets_are_encrypted_with_the_created_rotating_key(default_plan):
    key = default_plan.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert cluster_inputs(default_plan)["encryptionConfigKeyArn"] == "(known after apply: dev-secrets.arn)"
    assert default_plan.outputs["secrets_key_arn"] == "(known after apply: dev-secrets.arn)"


def test_an_existing_key_is_used_and_none_is_created():
    result = plan(cluster_args(secrets_kms_key_arn=EXISTING_KEY))
    assert not result.by_type("aws:kms/key:Key")
    assert cluster_inputs(result)["encryptionConfigKeyArn"] == EXISTING_KEY


def test_access_is_api_mode_with_explicit_entries_and_scopes(default_plan):
    inputs = cluster_inputs(default_plan)
    assert inputs["authenticationMode"] == "API"
    assert inputs["accessEntries"] == {
        "role-platform-admins": {
            "principalArn": ADMIN,
            "type": "STANDARD",
            "accessPolicies": {
                "AmazonEKSClusterAdminPolicy": {
                    "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                    "accessScope": {"type": "cluster"},
                }
            },
        },
        "role-developers": {
            "principalArn": DEV,
            "type": "STANDARD",
            "accessPolicies": {
                "AmazonEKSEditPolicy": {
                    "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
                    "accessScope": {"type": "namespace", "namespaces": ["apps", "jobs"]},
                }
            },
        },
    }


def test_creator_gets_no_permanent_admin(default_plan):
    # pulumi-eks hard-codes the creator's admin entry on the cluster it creates; our transform,
    # attached to the remote component, turns it off on that child (EKS-ACCESS).
    assert default_plan.one(CLUSTER, "dev").transforms == 2
    child = pulumi.ResourceTransformArgs(
        custom=True,
        type_="aws:eks/cluster:Cluster",
        name="dev-eksCluster",
        props={
            "accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}
        },
        opts=pulumi.ResourceOptions(),
    )
    result = no_creator_admin(child)
    assert result is not None
    assert result.props["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    other = pulumi.ResourceTransformArgs(
        custom=True,
        type_="aws:ec2/securityGroup:SecurityGroup",
        name="sg",
        props={},
        opts=pulumi.ResourceOptions(),
    )
    assert no_creator_admin(other) is None


def test_api_and_config_map_mode_passes_through():
    access = AccessSpec.model_construct(authentication_mode="API_AND_CONFIG_MAP")  # type: ignore[arg-type]
    inputs = cluster_inputs(plan(cluster_args(access=access)))
    assert inputs["authenticationMode"] == "API_AND_CONFIG_MAP"
    assert inputs["accessEntries"] == {}


def test_pulumi_eks_creates_no_node_group_oidc_provider_security_groups_or_addons(default_plan):
    inputs = cluster_inputs(default_plan)
    assert inputs["skipDefaultNodeGroup"] is True
    assert inputs["skipDefaultSecurityGroups"] is True
    assert inputs["createOidcProvider"] is False
    assert inputs["bootstrapSelfManagedAddons"] is False
    assert inputs["useDefaultVpcCni"] is True
    assert inputs["kubeProxyAddonOptions"]["enabled"] is False
    assert inputs["corednsAddonOptions"]["enabled"] is False
    assert "vpcCniOptions" not in inputs
    assert "autoMode" not in inputs


def test_cluster_uses_our_roles_and_waits_for_their_policies(default_plan):
    inputs = cluster_inputs(default_plan)
    cluster_role = default_plan.one("aws:iam/role:Role", "dev-cluster-role")
    node_role = default_plan.one("aws:iam/role:Role", "dev-node-role")
    assert cluster_role.inputs["name"] == "dev-cluster"
    assert node_role.inputs["name"] == "dev-node"
    assert inputs["serviceRole"] == cluster_role.urn
    assert inputs["instanceRoles"] == [node_role.urn]
    policy = default_plan.one(ATTACHMENT, "dev-cluster-role-AmazonEKSClusterPolicy")
    assert policy.urn in default_plan.one(CLUSTER, "dev").dependencies
    assert default_plan.outputs["cluster_role_arn"] == "arn:aws:iam::000000000000:role/dev-cluster"
    assert default_plan.outputs["node_role_arn"] == "arn:aws:iam::000000000000:role/dev-node"


def test_node_role_has_exactly_the_three_node_iam_policies(default_plan):
    node_role_urn = default_plan.one("eksgitops:cluster:NodeRole").urn
    policies = sorted(
        r.inputs["policyArn"].rsplit("/", 1)[-1]
        for r in default_plan.by_type(ATTACHMENT)
        if r.parent == node_role_urn
    )
    assert policies == [
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
    ]


def test_oidc_provider_from_the_cluster_issuer(default_plan):
    # The issuer and the provider's ARN are EKS's and IAM's to choose: the plan says so.
    provider = default_plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    issuer = default_plan.outputs["oidc_issuer_url"]
    assert issuer == "https://(known after apply: dev-eksCluster.identities[0].oidcs[0].issuer)"
    assert provider.inputs["url"] == issuer
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert default_plan.outputs["oidc_issuer_host"] == issuer.removeprefix("https://")
    assert default_plan.outputs["oidc_provider_arn"] == "(known after apply: dev-oidc.arn)"


def test_one_hardened_node_group_per_spec_in_private_subnets(default_plan):
    groups = {g.name: g.plain_inputs() for g in default_plan.by_type(MNG)}
    assert set(groups) == {"dev-general", "dev-batch"}
    for inputs in groups.values():
        assert inputs["subnetIds"] == ["subnet-0000000a", "subnet-0000000b"]
        assert "remoteAccess" not in inputs
        assert inputs["nodeRole"] == default_plan.one("aws:iam/role:Role", "dev-node-role").urn
    hops = {
        t.name: t.inputs["metadataOptions"]["httpPutResponseHopLimit"]
        for t in default_plan.by_type("aws:ec2/launchTemplate:LaunchTemplate")
    }
    assert hops == {"dev-general": 1, "dev-batch": 2}


def test_addons_are_split_around_the_node_groups(default_plan):
    cluster = default_plan.one(CLUSTER, "dev")
    addons = {a.inputs["addonName"]: a for a in default_plan.by_type(ADDON)}
    before = [addons[name] for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")]
    after = [addons[name] for name in ("coredns", "aws-ebs-csi-driver")]
    groups = default_plan.by_type(MNG)
    assert all(cluster.urn in addon.dependencies for addon in before + after)
    for group in groups:
        assert all(addon.urn in group.dependencies for addon in before)
    for addon in after:
        assert all(group.urn in addon.dependencies for group in groups)


def test_auto_mode_sets_compute_config_with_our_node_role_and_widens_the_cluster_role():
    result = plan(cluster_args(auto_mode=AutoModeSpec(enabled=True, node_pools=["system"]), node_groups=[]))
    inputs = cluster_inputs(result)
    auto_role = result.one("aws:iam/role:Role", "dev-auto-node-role")
    assert auto_role.inputs["name"] == "dev-auto-node"
    assert inputs["autoMode"] == {
        "enabled": True,
        "createNodeRole": False,
        "computeConfig": {
            "nodePools": ["system"],
            "nodeRoleArn": "arn:aws:iam::000000000000:role/dev-auto-node",
        },
    }
    # With built-in pools EKS makes the node role's access entry itself.
    assert not [r for r in result.by_type(ACCESS_ENTRY) if not r.synthesized]
    cluster_role_urn = result.one("eksgitops:cluster:ClusterRole").urn
    cluster_policies = sorted(
        r.inputs["policyArn"].rsplit("/", 1)[-1]
        for r in result.by_type(ATTACHMENT)
        if r.parent == cluster_role_urn
    )
    assert cluster_policies == [
        "AmazonEKSBlockStoragePolicy",
        "AmazonEKSClusterPolicy",
        "AmazonEKSComputePolicy",
        "AmazonEKSLoadBalancingPolicy",
        "AmazonEKSNetworkingPolicy",
    ]
    # Auto Mode only: no managed node group role, and the output names the Auto Mode role.
    assert not any(r.name == "dev-node-role" for r in result.resources)
    assert "instanceRoles" not in inputs
    assert not result.by_type(MNG)
    assert result.outputs["node_role_arn"] == "arn:aws:iam::000000000000:role/dev-auto-node"


def test_outputs_and_kubeconfig_is_secret(default_plan):
    assert set(default_plan.outputs) == set(OUTPUTS)
    assert default_plan.secret_outputs == {"kubeconfig"}
    assert '"kind": "Config"' in default_plan.outputs["kubeconfig"]
    assert default_plan.outputs["cluster_name"] == "dev"
    assert (
        default_plan.outputs["cluster_security_group_id"] == "(known after apply: dev.clusterSecurityGroupId)"
    )


def test_every_resource_sits_under_the_cluster_component(default_plan):
    by_urn: dict[str, RecordedResource] = {r.urn: r for r in default_plan.resources}
    top = default_plan.one("eksgitops:cluster:EksCluster", "dev")
    for resource in default_plan.resources:
        if resource is top:
            continue
        parent = by_urn.get(resource.parent)
        while parent is not None and parent is not top:
            assert not parent.custom, f"{resource.name} is parented to a custom resource"
            parent = by_urn.get(parent.parent)
        assert parent is top, f"{resource.type} {resource.name} is not under the EksCluster"


def synthesized_cluster(result: PlanResult) -> dict[str, Any]:
    return result.one(AWS_CLUSTER).plain_inputs()


def test_the_cluster_gets_the_private_subnets_only(default_plan):
    # pulumi-eks would join public subnets into the control plane's subnets; none are passed.
    inputs = cluster_inputs(default_plan)
    assert "publicSubnetIds" not in inputs
    assert synthesized_cluster(default_plan)["vpcConfig"]["subnetIds"] == [
        "subnet-0000000a",
        "subnet-0000000b",
    ]


def test_public_only_endpoint_allows_the_nat_addresses_nodes_come_from():
    endpoint = EndpointSpec(private_access=False, public_access=True, public_access_cidrs=["203.0.113.0/24"])
    result = plan(cluster_args(endpoint=endpoint, node_egress_ips=["198.51.100.7", "198.51.100.8"]))
    assert cluster_inputs(result)["publicAccessCidrs"] == [
        "203.0.113.0/24",
        "198.51.100.7/32",
        "198.51.100.8/32",
    ]
    assert synthesized_cluster(result)["vpcConfig"]["endpointPrivateAccess"] is False


def test_nat_addresses_stay_off_the_allow_list_while_nodes_use_the_private_endpoint():
    endpoint = EndpointSpec(private_access=True, public_access=True, public_access_cidrs=["203.0.113.0/24"])
    result = plan(cluster_args(endpoint=endpoint, node_egress_ips=["198.51.100.7"]))
    assert cluster_inputs(result)["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_an_address_already_listed_is_not_listed_twice():
    endpoint = EndpointSpec(private_access=False, public_access=True, public_access_cidrs=["198.51.100.7/32"])
    result = plan(cluster_args(endpoint=endpoint, node_egress_ips=["198.51.100.7"]))
    assert cluster_inputs(result)["publicAccessCidrs"] == ["198.51.100.7/32"]


def test_auto_mode_without_built_in_pools_passes_no_node_role_and_grants_the_node_access():
    # EKS: "When Compute Config nodeRoleArn is not null or empty, nodePool value(s) must be provided".
    result = plan(cluster_args(auto_mode=AutoModeSpec(enabled=True, node_pools=[]), node_groups=[]))
    compute = cluster_inputs(result)["autoMode"]["computeConfig"]
    assert compute == {"nodePools": []}
    assert synthesized_cluster(result)["computeConfig"] == {"enabled": True, "nodePools": []}
    # Custom NodeClasses launch nodes with our Auto Mode node role: EC2 entry + AutoNodePolicy.
    role_arn = "arn:aws:iam::000000000000:role/dev-auto-node"
    (entry,) = [r for r in result.by_type(ACCESS_ENTRY) if not r.synthesized]
    assert entry.plain_inputs()["type"] == "EC2"
    assert entry.plain_inputs()["principalArn"] == role_arn
    (association,) = [r for r in result.by_type(ASSOCIATION) if not r.synthesized]
    assert association.plain_inputs()["policyArn"] == (
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy"
    )
    assert association.plain_inputs()["accessScope"] == {"type": "cluster"}
    assert entry.urn in association.dependencies
    assert result.one(CLUSTER).urn in entry.dependencies


def test_control_plane_settings_are_explicit(default_plan):
    inputs = cluster_inputs(default_plan)
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert inputs["deletionProtection"] is False
    protected = plan(
        cluster_args(
            control_plane=ControlPlaneSpec(
                deletion_protection=True, upgrade_policy="EXTENDED", log_retention_days=365
            )
        )
    )
    inputs = synthesized_cluster(protected)
    assert inputs["deletionProtection"] is True
    assert inputs["upgradePolicy"] == {"supportType": "EXTENDED"}
    group = protected.one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["retentionInDays"] == 365


def test_the_control_plane_log_group_exists_before_the_cluster_with_bounded_retention(default_plan):
    group = default_plan.one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"] == "/aws/eks/dev/cluster"
    assert group.inputs["retentionInDays"] == 90
    assert group.urn in default_plan.one(CLUSTER, "dev").dependencies


def test_access_entries_are_synthesized_with_who_gets_what(default_plan):
    entries = {r.name: r.plain_inputs() for r in default_plan.by_type(ACCESS_ENTRY)}
    assert entries == {
        "dev-role-platform-admins": {"clusterName": "dev", "principalArn": ADMIN, "type": "STANDARD"},
        "dev-role-developers": {"clusterName": "dev", "principalArn": DEV, "type": "STANDARD"},
    }
    associations = {r.name: r for r in default_plan.by_type(ASSOCIATION)}
    admin = associations["dev-role-platform-admins-AmazonEKSClusterAdminPolicy"]
    assert admin.plain_inputs()["accessScope"] == {"type": "cluster"}
    assert admin.synthesized and admin.parent == default_plan.one(CLUSTER).urn


def test_a_scope_change_deletes_the_old_association_first(default_plan):
    # Created first, the new association would set the scope, then deleting the old one would
    # disassociate the policy: the transform makes pulumi-eks's associations delete first.
    for association in default_plan.by_type(ASSOCIATION):
        assert association.delete_before_replace, association.name
    child = pulumi.ResourceTransformArgs(
        custom=True,
        type_=ASSOCIATION,
        name="dev-role-developers-AmazonEKSEditPolicy",
        props={"accessScope": {"type": "namespace", "namespaces": ["apps"]}},
        opts=pulumi.ResourceOptions(),
    )
    result = access_associations_delete_first(child)
    assert result is not None and result.opts is not None
    assert result.opts.delete_before_replace is True
    assert result.props == child.props
    entry = pulumi.ResourceTransformArgs(
        custom=True, type_=ACCESS_ENTRY, name="e", props={}, opts=pulumi.ResourceOptions()
    )
    assert access_associations_delete_first(entry) is None


def test_the_synthesized_cluster_has_no_creator_admin_and_what_pulumi_eks_sets(default_plan):
    inputs = synthesized_cluster(default_plan)
    assert inputs["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    assert inputs["name"] == "dev"
    assert inputs["version"] == "1.33"
    assert inputs["roleArn"] == "arn:aws:iam::000000000000:role/dev-cluster"
    assert inputs["encryptionConfig"] == {
        "provider": {"keyArn": "(known after apply: dev-secrets.arn)"},
        "resources": ["secrets"],
    }
    assert inputs["bootstrapSelfManagedAddons"] is False
    assert inputs["enabledClusterLogTypes"] == [
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    ]


# -- safe defaults for a cluster made through the library -----------------------------------


def test_without_addons_the_cluster_gets_the_core_ones_and_nodes_come_after_the_cni() -> None:
    args = cluster_args(addons=None)
    assert set(args.addons or {}) == {"vpc-cni", "kube-proxy", "coredns"}
    result = plan(args)
    addons = {r.plain_inputs()["addonName"]: r.plain_inputs() for r in result.by_type(ADDON)}
    assert set(addons) == {"vpc-cni", "kube-proxy", "coredns"}
    assert all(a["addonVersion"].startswith("v") for a in addons.values())  # from the data, never unset
    vpc_cni = next(r.urn for r in result.by_type(ADDON) if r.plain_inputs()["addonName"] == "vpc-cni")
    assert all(vpc_cni in group.dependencies for group in result.by_type(MNG))


def test_auto_mode_alone_installs_no_addon_unless_asked() -> None:
    auto = AutoModeSpec(enabled=True, node_pools=["system", "general-purpose"])
    args = cluster_args(addons=None, node_groups=[], auto_mode=auto)
    assert args.addons == {}
    assert not plan(args).by_type(ADDON)
    # Node groups beside Auto Mode are ordinary EC2 nodes: they get the core add-ons.
    mixed = cluster_args(addons=None, auto_mode=auto)
    assert set(mixed.addons or {}) == {"vpc-cni", "kube-proxy", "coredns"}


def test_node_groups_without_a_cni_are_refused() -> None:
    with pytest.raises(
        ValueError, match=r"^EksClusterArgs.addons: lacks vpc-cni, kube-proxy, without which the node groups"
    ):
        cluster_args(addons={"coredns": AddonSpec()})
    # With Auto Mode EKS brings its own networking: no add-on needed.
    cluster_args(addons={}, node_groups=[], auto_mode=AutoModeSpec(enabled=True))


@pytest.mark.parametrize("version", ["1.99", "1.20", "latest", "1.033"])
def test_an_unknown_kubernetes_version_is_one_value_error(version: str) -> None:
    with pytest.raises(ValueError) as caught:
        cluster_args(kubernetes_version=version)
    message = str(caught.value)
    assert message.startswith(f"EksClusterArgs.kubernetes_version: {version!r} is not a")
    assert '"1.35"' in message and "\n" not in message
    assert type(caught.value) is ValueError  # not a pydantic ValidationError


def test_a_kubernetes_version_just_newer_than_the_data_is_accepted_with_a_warning() -> None:
    from eksgitops.components.kubernetes_version import NewerThanDataWarning, newest_possible

    newest = max(int(v.split(".")[1]) for v in ("1.32", "1.33", "1.34", "1.35", "1.36"))
    assert newest_possible(date(2026, 11, 27)) == newest + 1
    with pytest.warns(NewerThanDataWarning, match="1.37 is newer than the Kubernetes versions bundled"):
        args = cluster_args(kubernetes_version="1.37")
    with pytest.warns(NewerThanDataWarning, match="vpc-cni: no version bundled for Kubernetes 1.37"):
        result = plan(args)
    vpc_cni = next(r for r in result.by_type(ADDON) if r.plain_inputs()["addonName"] == "vpc-cni")
    assert "addonVersion" not in vpc_cni.plain_inputs()  # EKS's default, said in the warning


def test_an_addon_pin_newer_than_the_data_is_used_with_a_warning() -> None:
    from eksgitops.components.kubernetes_version import NewerThanDataWarning

    addons = {name: AddonSpec() for name in ALL_ADDONS} | {"vpc-cni": AddonSpec(version="v9.0.0-eksbuild.1")}
    with pytest.warns(
        NewerThanDataWarning, match="vpc-cni v9.0.0-eksbuild.1 is not among the versions bundled"
    ):
        result = plan(cluster_args(addons=addons))
    vpc_cni = next(r for r in result.by_type(ADDON) if r.plain_inputs()["addonName"] == "vpc-cni")
    assert vpc_cni.plain_inputs()["addonVersion"] == "v9.0.0-eksbuild.1"


def test_most_recent_resolves_the_version_at_deploy_time() -> None:
    result = plan(cluster_args(addons_most_recent=True))
    versions = {
        r.plain_inputs()["addonName"]: r.plain_inputs().get("addonVersion") for r in result.by_type(ADDON)
    }
    # Under the offline engine the invoke answers "known after apply": the plan cannot know it.
    assert versions["coredns"] == "(known after apply: coredns.version)"
    pinned = {name: AddonSpec() for name in ALL_ADDONS} | {"coredns": AddonSpec(version="v1.12.3-eksbuild.1")}
    result = plan(cluster_args(addons=pinned, addons_most_recent=True))
    coredns = next(r for r in result.by_type(ADDON) if r.plain_inputs()["addonName"] == "coredns")
    assert coredns.plain_inputs()["addonVersion"] == "v1.12.3-eksbuild.1"  # a pin still wins
