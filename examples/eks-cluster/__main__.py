"""A platform team's own program built from eksgitops components.

Its own VPC (two private subnets behind one NAT gateway), an `EksCluster` with one managed
node group, and Flux (through the Flux Operator) pulling the fleet repository. `pulumi up` in
this folder deploys it; `test_program.py` beside it tests it offline with `eksgitops.testing`.
"""

import pulumi
import pulumi_aws as aws

from eksgitops.components.cluster import EksCluster, EksClusterArgs
from eksgitops.components.gitops.agent import GitOpsAgent, GitOpsAgentArgs
from eksgitops.components.gitops.bridge_values import BridgeValues
from eksgitops.components.spec.access import AccessEntrySpec, AccessSpec
from eksgitops.components.spec.compute import NodeGroupSpec
from eksgitops.components.spec.control_plane import EndpointSpec
from eksgitops.components.spec.gitops import GitOpsSpec

CLUSTER = "acme-dev"
ZONES = ["eu-west-1a", "eu-west-1b"]
config = pulumi.Config()

vpc = aws.ec2.Vpc("vpc", cidr_block="10.20.0.0/16", enable_dns_hostnames=True, enable_dns_support=True)
gateway = aws.ec2.InternetGateway("igw", vpc_id=vpc.id)
public = aws.ec2.Subnet(
    "public-a",
    vpc_id=vpc.id,
    cidr_block="10.20.0.0/24",
    availability_zone=ZONES[0],
    tags={"kubernetes.io/role/elb": "1"},
)
public_routes = aws.ec2.RouteTable(
    "public",
    vpc_id=vpc.id,
    routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
)
aws.ec2.RouteTableAssociation("public-a", subnet_id=public.id, route_table_id=public_routes.id)
nat = aws.ec2.NatGateway("nat", subnet_id=public.id, allocation_id=aws.ec2.Eip("nat", domain="vpc").id)
private_routes = aws.ec2.RouteTable(
    "private",
    vpc_id=vpc.id,
    routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
)
private = []
for index, zone in enumerate(ZONES):
    subnet = aws.ec2.Subnet(
        f"private-{zone[-1]}",
        vpc_id=vpc.id,
        cidr_block=f"10.20.{16 * (index + 1)}.0/20",
        availability_zone=zone,
        tags={"kubernetes.io/role/internal-elb": "1"},
    )
    aws.ec2.RouteTableAssociation(
        f"private-{zone[-1]}", subnet_id=subnet.id, route_table_id=private_routes.id
    )
    private.append(subnet.id)

cluster = EksCluster(
    "cluster",
    EksClusterArgs(
        cluster_name=CLUSTER,
        kubernetes_version="1.36",
        vpc_id=vpc.id,
        private_subnet_ids=private,
        # A public API endpoint only when asked; with no allow-list it would be open to all.
        endpoint=EndpointSpec(public_access=config.get_bool("publicApi") or False),
        access=AccessSpec(entries=[AccessEntrySpec(principal_arn=config.require("adminRole"))]),
        node_groups=[NodeGroupSpec(name="general", instance_types=["m6i.large"])],
        tags={"team": "platform"},
    ),
)

gitops = GitOpsSpec(agent="flux", repo_url=config.require("fleetRepo"), path="clusters/dev")
agent = GitOpsAgent(
    "gitops",
    GitOpsAgentArgs(
        gitops=gitops,
        environment="dev",
        cluster_name=CLUSTER,
        region=aws.config.region or "eu-west-1",
        cluster=cluster,
        bridge=BridgeValues(
            environment="dev",
            cluster_name=cluster.cluster_name,
            region=aws.config.region or "eu-west-1",
            account_id=aws.get_caller_identity_output().account_id,
            vpc_id=vpc.id,
            oidc_issuer_host=cluster.oidc_issuer_host,
            identity_role_arns={},
        ),
        addons=["vpc-cni", "kube-proxy", "coredns"],
    ),
)

pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("kubeconfig", pulumi.Output.secret(cluster.kubeconfig))
pulumi.export("bridge", agent.bridge_variables)
