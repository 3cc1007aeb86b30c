"""`Network`: the VPC an EKS cluster runs in, or a pass-through of an existing one.

A new VPC has one public and one private subnet per AZ. Nodes live in the private
subnets and reach the internet through NAT; the public subnets only hold NAT gateways
and internet-facing load balancers. The subnets carry the tags the AWS Load Balancer
Controller and the in-tree service controller use to find them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from eksgitops.components.arg_checks import CLUSTER_NAME, check_args, instance
from eksgitops.components.spec.network import NetworkSpec

ELB_ROLE_TAG = "kubernetes.io/role/elb"
INTERNAL_ELB_ROLE_TAG = "kubernetes.io/role/internal-elb"


@dataclass
class NetworkArgs:
    """What a `Network` needs."""

    spec: NetworkSpec
    """A validated network spec: a new VPC (vpc_cidr) or an existing one (vpc_id and subnet ids)."""
    cluster_name: str
    """The EKS cluster using the network: names resources and tags subnets `kubernetes.io/cluster/<name>`."""

    def __post_init__(self) -> None:
        check_args(self, {"spec": instance(NetworkSpec, "a NetworkSpec"), "cluster_name": CLUSTER_NAME})


class Network(pulumi.ComponentResource):
    """A VPC with public and private subnets across AZs, IGW, NAT and routes; or an existing VPC's ids."""

    vpc_id: pulumi.Output[str]
    """The VPC's id."""
    private_subnet_ids: pulumi.Output[list[str]]
    """Private subnets, one per AZ in AZ order: where nodes and internal load balancers go."""
    public_subnet_ids: pulumi.Output[list[str]]
    """Public subnets, one per AZ in AZ order: NAT gateways and internet-facing load balancers."""
    availability_zones: pulumi.Output[list[str]]
    """AZ names of a new VPC; for an existing VPC the spec's list (empty when unset)."""
    nat_public_ips: pulumi.Output[list[str]]
    """Public addresses of a new VPC's NAT gateways (what nodes' traffic to the internet comes
    from, e.g. for a public-only API endpoint's allow-list); empty for an existing VPC."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:network:Network", name, None, opts)
        spec = args.spec
        if spec.existing:
            # An existing VPC belongs to someone else: reference it, never manage it.
            self.vpc_id = pulumi.Output.from_input(spec.vpc_id or "")
            self.private_subnet_ids = pulumi.Output.from_input(list(spec.private_subnet_ids))
            self.public_subnet_ids = pulumi.Output.from_input(list(spec.public_subnet_ids))
            self.availability_zones = pulumi.Output.from_input(list(spec.availability_zones or []))
            self.nat_public_ips = pulumi.Output.from_input([])
        else:
            self._create_vpc(name, spec, args.cluster_name)
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
                "availability_zones": self.availability_zones,
                "nat_public_ips": self.nat_public_ips,
            }
        )

    def _create_vpc(self, name: str, spec: NetworkSpec, cluster: str) -> None:
        child = pulumi.ResourceOptions(parent=self)
        count = spec.zone_count
        zones = self._zones(spec, count)
        cluster_tag = {f"kubernetes.io/cluster/{cluster}": "shared"}

        vpc = aws.ec2.Vpc(
            name,
            cidr_block=spec.vpc_cidr,
            # EKS private endpoint resolution and node registration both need VPC DNS.
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": cluster, **cluster_tag},
            opts=child,
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{cluster}-igw"}, opts=child
        )

        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for i, (public_cidr, private_cidr) in enumerate(
            zip(spec.public_subnet_cidrs(), spec.private_subnet_cidrs(), strict=True)
        ):
            public_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-public-{i}",
                    vpc_id=vpc.id,
                    cidr_block=public_cidr,
                    availability_zone=zones[i],
                    # Only NAT gateways and load balancers live here, with their own addresses.
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{cluster}-public-{i}", ELB_ROLE_TAG: "1", **cluster_tag},
                    opts=child,
                )
            )
            private_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-private-{i}",
                    vpc_id=vpc.id,
                    cidr_block=private_cidr,
                    availability_zone=zones[i],
                    tags={"Name": f"{cluster}-private-{i}", INTERNAL_ELB_ROLE_TAG: "1", **cluster_tag},
                    opts=child,
                )
            )

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags={"Name": f"{cluster}-public"}, opts=child
        )
        # Routes as their own resources, not inline: inline routes would remove any route
        # another tool adds to the table (VPC endpoints, peering).
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        for i, subnet in enumerate(public_subnets):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{i}", route_table_id=public_rt.id, subnet_id=subnet.id, opts=child
            )

        # One NAT per AZ keeps an AZ outage from cutting the other AZs' egress; "single" trades
        # that for cost, and every private subnet then routes through the first AZ.
        nat_count = count if spec.nat_gateways == "one-per-az" else 1
        nats: list[aws.ec2.NatGateway] = []
        eips: list[aws.ec2.Eip] = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(
                f"{name}-nat-eip-{i}", domain="vpc", tags={"Name": f"{cluster}-nat-{i}"}, opts=child
            )
            eips.append(eip)
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    # An EIP's id is its allocation id (the same value as `allocation_id`); the
                    # id is what the offline plan can show, so the plan links each NAT to its EIP.
                    allocation_id=eip.id,
                    subnet_id=public_subnets[i].id,
                    tags={"Name": f"{cluster}-nat-{i}"},
                    # A NAT gateway needs the IGW attached before it can pass traffic.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )

        for i, subnet in enumerate(private_subnets):
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{i}", vpc_id=vpc.id, tags={"Name": f"{cluster}-private-{i}"}, opts=child
            )
            aws.ec2.Route(
                f"{name}-private-default-{i}",
                route_table_id=rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nats[i if len(nats) > 1 else 0].id,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{i}", route_table_id=rt.id, subnet_id=subnet.id, opts=child
            )

        self.vpc_id = vpc.id
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public_subnets])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private_subnets])
        self.availability_zones = pulumi.Output.all(*zones)
        self.nat_public_ips = pulumi.Output.all(*[eip.public_ip for eip in eips])

    def _zones(self, spec: NetworkSpec, count: int) -> list[pulumi.Input[str]]:
        """One AZ name per subnet pair; the count comes from the spec, so it is known now
        even when the names come from the region (an Output)."""
        if spec.availability_zones:
            return list(spec.availability_zones)
        # The invoke goes through this component's provider, so it asks the caller's region.
        # Only the region's own AZs: an opted-in Local or Wavelength Zone (`eu-west-1-…`) sorts
        # before `a` and would become zone 0, with fewer instance types and no NAT gateways.
        available = aws.get_availability_zones_output(
            state="available",
            filters=[
                aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])
            ],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )

        def pick(names: list[str], i: int) -> str:
            if len(names) < count:
                raise ValueError(f"network needs {count} AZs but the region has only {len(names)} available")
            return names[i]

        return [available.names.apply(lambda names, i=i: pick(names, i)) for i in range(count)]
