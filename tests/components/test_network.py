"""Network: a new VPC's subnets, NAT and routes, or an existing VPC passed through, planned offline."""

from __future__ import annotations

from typing import Any, cast

import pulumi
import pytest
from pulumi.runtime.settings import SETTINGS

from components.network import Network, NetworkArgs
from components.spec.network import NetworkSpec
from eksgitops.plan.engine import PlanResult, run_program, unknown

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"


def plan(spec: NetworkSpec, cluster: str = "dev") -> PlanResult:
    def program():
        network = Network("net", NetworkArgs(spec=spec, cluster_name=cluster))
        pulumi.export("vpc_id", network.vpc_id)
        pulumi.export("private_subnet_ids", network.private_subnet_ids)
        pulumi.export("public_subnet_ids", network.public_subnet_ids)
        pulumi.export("availability_zones", network.availability_zones)

    return run_program(program)


def test_two_azs_single_nat():
    result = plan(NetworkSpec(az_count=2, nat_gateways="single"))
    (nat,) = result.by_type(NAT)
    assert nat.inputs["subnetId"] == unknown("net-public-0", "id")
    assert nat.inputs["allocationId"] == unknown("net-nat-eip-0", "id")
    assert len(result.by_type("aws:ec2/eip:Eip")) == 1
    private_routes = [r for r in result.by_type(ROUTE) if r.name.startswith("net-private-default-")]
    assert len(private_routes) == 2
    assert {r.inputs["natGatewayId"] for r in private_routes} == {unknown("net-nat-0", "id")}


def test_three_azs_one_nat_per_az():
    result = plan(NetworkSpec(az_count=3, nat_gateways="one-per-az"))
    nats = {r.name: r.inputs for r in result.by_type(NAT)}
    assert {name: inputs["subnetId"] for name, inputs in nats.items()} == {
        f"net-nat-{i}": unknown(f"net-public-{i}", "id") for i in range(3)
    }
    assert len({inputs["allocationId"] for inputs in nats.values()}) == 3
    subnets = {r.name: r.inputs for r in result.by_type(SUBNET)}
    for i in range(3):
        # Each private subnet's table sends egress through the NAT in the same AZ.
        route = result.one(ROUTE, f"net-private-default-{i}")
        assert route.inputs == {
            "routeTableId": unknown(f"net-private-rt-{i}", "id"),
            "destinationCidrBlock": "0.0.0.0/0",
            "natGatewayId": unknown(f"net-nat-{i}", "id"),
        }
        assert (
            subnets[f"net-private-{i}"]["availabilityZone"] == subnets[f"net-public-{i}"]["availabilityZone"]
        )
        association = result.one(RTA, f"net-private-rta-{i}")
        assert association.inputs["subnetId"] == unknown(f"net-private-{i}", "id")
        assert association.inputs["routeTableId"] == unknown(f"net-private-rt-{i}", "id")


def test_public_routing_through_the_internet_gateway():
    result = plan(NetworkSpec(az_count=2))
    igw = result.one("aws:ec2/internetGateway:InternetGateway")
    assert igw.inputs["vpcId"] == unknown("net", "id")
    assert result.one(ROUTE, "net-public-default").inputs == {
        "routeTableId": unknown("net-public-rt", "id"),
        "destinationCidrBlock": "0.0.0.0/0",
        "gatewayId": unknown("net-igw", "id"),
    }
    associations = [r.inputs for r in result.by_type(RTA) if r.name.startswith("net-public-rta-")]
    assert sorted(a["subnetId"] for a in associations) == [unknown(f"net-public-{i}", "id") for i in range(2)]
    assert {a["routeTableId"] for a in associations} == {unknown("net-public-rt", "id")}
    # NAT gateways wait for the IGW: without it they come up with no way out.
    assert all(igw.urn in nat.dependencies for nat in result.by_type(NAT))


def test_vpc_has_dns_on():
    vpc = plan(NetworkSpec(az_count=2)).one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.inputs["enableDnsHostnames"] is True
    assert vpc.inputs["enableDnsSupport"] is True


def test_subnet_cidrs_and_tags():
    zones = ["eu-west-1a", "eu-west-1b"]
    spec = NetworkSpec(vpc_cidr="10.20.0.0/16", availability_zones=zones)
    result = plan(spec, cluster="prod")
    subnets = {r.name: r.inputs for r in result.by_type(SUBNET)}
    assert len(subnets) == 4
    for i in range(2):
        public, private = subnets[f"net-public-{i}"], subnets[f"net-private-{i}"]
        assert public["cidrBlock"] == spec.public_subnet_cidrs()[i]
        assert private["cidrBlock"] == spec.private_subnet_cidrs()[i]
        assert public["availabilityZone"] == private["availabilityZone"] == zones[i]
        assert public["mapPublicIpOnLaunch"] is False
        assert public["vpcId"] == private["vpcId"] == unknown("net", "id")
        assert public["tags"] == {
            "Name": f"prod-public-{i}",
            "kubernetes.io/role/elb": "1",
            "kubernetes.io/cluster/prod": "shared",
        }
        assert private["tags"] == {
            "Name": f"prod-private-{i}",
            "kubernetes.io/role/internal-elb": "1",
            "kubernetes.io/cluster/prod": "shared",
        }
    assert result.outputs["availability_zones"] == ["eu-west-1a", "eu-west-1b"]


def test_zones_from_the_region_when_not_given():
    result = plan(NetworkSpec(az_count=3))
    zones = [result.one(SUBNET, f"net-private-{i}").inputs["availabilityZone"] for i in range(3)]
    assert zones == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert result.outputs["availability_zones"] == zones


def test_an_opted_in_local_zone_never_becomes_a_subnet_zone():
    # The offline stand-in answers like a region with an opted-in Local Zone (`us-east-1-lax-1a`
    # sorts before `us-east-1a`) unless the opt-in-not-required filter is asked for.
    result = plan(NetworkSpec(az_count=2))
    zones = [result.one(SUBNET, f"net-public-{i}").inputs["availabilityZone"] for i in range(2)]
    assert zones == ["us-east-1a", "us-east-1b"]


def test_nat_addresses_are_an_output_for_the_endpoint_allow_list():
    def program():
        network = Network("net", NetworkArgs(spec=NetworkSpec(az_count=2), cluster_name="dev"))
        pulumi.export("nat_public_ips", network.nat_public_ips)

    result = run_program(program)
    assert result.outputs["nat_public_ips"] == [unknown(f"net-nat-eip-{i}", "publicIp") for i in range(2)]
    single = NetworkSpec(az_count=3, nat_gateways="single")

    def single_program():
        network = Network("net", NetworkArgs(spec=single, cluster_name="dev"))
        pulumi.export("nat_public_ips", network.nat_public_ips)

    assert run_program(single_program).outputs["nat_public_ips"] == [unknown("net-nat-eip-0", "publicIp")]


def test_more_zones_than_the_region_has_fails():
    try:
        with pytest.raises(Exception, match="needs 7 AZs"):
            plan(NetworkSpec.model_construct(vpc_cidr="10.0.0.0/16", az_count=7, private_subnet_prefix=20))
    finally:
        # A failed run leaves its failed apply tasks in the process-wide SETTINGS.outputs, and the
        # next run_program awaits (and re-raises) them; run_program does not clear them itself.
        cast(Any, SETTINGS).outputs.clear()


def test_outputs_of_a_new_vpc():
    outputs = plan(NetworkSpec(az_count=2)).outputs
    assert outputs["vpc_id"] == unknown("net", "id")
    assert outputs["private_subnet_ids"] == [unknown(f"net-private-{i}", "id") for i in range(2)]
    assert outputs["public_subnet_ids"] == [unknown(f"net-public-{i}", "id") for i in range(2)]


def test_every_child_is_parented_to_the_network():
    result = plan(NetworkSpec(az_count=3))
    component = result.one("eksgitops:network:Network", "net")
    children = [r for r in result.resources if r is not component]
    # VPC, IGW, 6 subnets, 4 route tables, 4 routes, 6 associations, 3 EIPs, 3 NATs.
    assert len(children) == 28
    assert all(r.parent == component.urn for r in children)


def test_existing_vpc_is_passed_through():
    spec = NetworkSpec.model_construct(
        vpc_cidr=None,
        vpc_id="vpc-0123",
        private_subnet_ids=["subnet-a", "subnet-b"],
        public_subnet_ids=["subnet-c", "subnet-d"],
    )
    result = plan(spec)
    assert [r.type for r in result.resources] == ["eksgitops:network:Network"]
    assert result.outputs == {
        "vpc_id": "vpc-0123",
        "private_subnet_ids": ["subnet-a", "subnet-b"],
        "public_subnet_ids": ["subnet-c", "subnet-d"],
        "availability_zones": [],
    }
