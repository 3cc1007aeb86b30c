"""The environment spec: the one place where a stack's configuration is read and checked.

Components trust a validated `EnvironmentSpec`; they never read Pulumi config themselves.
Keys in the stack file are camelCase under the `eksgitops:` namespace; attributes here
are snake_case.

How it is used:
- `load_spec(raw, stack=..., source=...)` -> a validated `EnvironmentSpec`, or raises
  `SpecError` whose `.lines` hold EVERY problem found (types, values and cross-field
  rules alike), sorted by key path, each exactly
  `"<source>: eksgitops:<key path>: <what is wrong>; <what is allowed>"`, e.g.
  `stacks/Pulumi.dev.yaml: eksgitops:nodeGroups[0].minSize: 3 is greater than desiredSize 2; ...`.
  Nothing is registered with Pulumi before this returns; callers print the lines and
  exit 2 (no traceback).
- `raw` is the project's config with the `eksgitops:` prefix removed: top-level scalars
  (`SCALAR_KEYS`) are strings, as Pulumi hands them over; the keys in `STRUCTURED_KEYS`
  are parsed dicts/lists (Pulumi hands those over as JSON).
- `raw_config_from_stack_file(path)` reads a stack file the way the Pulumi CLI does;
  `raw_config_from_pulumi()` reads the running program's config; `config_for_pulumi(raw)`
  is the inverse, for `pulumi.runtime.set_all_config` in the offline plan;
  `project_config_defaults(path)` reads the defaults Pulumi.yaml declares (Pulumi merges
  them into every stack, so the offline plan must too).
- Defaults pass every rule of the security checklist: private endpoint only, all five
  control-plane log types, a new KMS key with rotation for secrets, API authentication
  mode, IMDSv2 with hop limit 1, one NAT gateway per AZ.
- The value checks live in `components.spec_checks` (pure functions over the raw dict,
  so they still run when pydantic rejects some other field).
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, Field, ValidationError

from components import spec_checks
from components.gitops_spec import GitOpsSpec
from components.policy_spec import PolicySpec
from components.spec_checks import DNS_LABEL_ALLOWED, Problem
from components.spec_errors import SpecValueError
from components.spec_model import SpecModel

_Model = SpecModel


AddonName = Literal["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"]
LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]


class NetworkSpec(_Model):
    """Either a new VPC (vpc_cidr set) or an existing one (vpc_id set)."""

    vpc_cidr: str | None = "10.0.0.0/16"
    """CIDR of a new VPC (/16 to /28)."""
    availability_zones: list[str] | None = None
    """Explicit AZ names; when unset, the first `az_count` AZs of the region."""
    az_count: int = 3
    """How many AZs a new VPC spans (2-6)."""
    nat_gateways: Literal["one-per-az", "single"] = "one-per-az"
    """One NAT gateway per AZ (survives an AZ outage) or a single one (cheaper)."""
    private_subnet_prefix: int = 19
    """Prefix length of each private (node) subnet."""
    public_subnet_prefix: int = 24
    """Prefix length of each public (load balancer) subnet."""
    service_cidr: str | None = None
    """Kubernetes service CIDR; must not overlap the VPC. Unset lets EKS choose."""
    vpc_id: str | None = None
    """An existing VPC (vpc-...); with it, private_subnet_ids and public_subnet_ids."""
    private_subnet_ids: list[str] = Field(default_factory=list)
    """Existing private subnets (subnet-...) for nodes."""
    public_subnet_ids: list[str] = Field(default_factory=list)
    """Existing public subnets (subnet-...) for internet-facing load balancers."""

    @property
    def existing(self) -> bool:
        """True when the cluster goes into an existing VPC (vpc_id set; vpc_cidr is then None)."""
        return self.vpc_id is not None

    @property
    def zone_count(self) -> int:
        """How many AZs a new VPC spans: the explicit list's length, else az_count."""
        return len(self.availability_zones) if self.availability_zones else self.az_count

    def private_subnet_cidrs(self) -> list[str]:
        """CIDRs of the private subnets of a new VPC, one per AZ, carved from the start."""
        return self._carve()[0]

    def public_subnet_cidrs(self) -> list[str]:
        """CIDRs of the public subnets of a new VPC, one per AZ, after the private ones."""
        return self._carve()[1]

    def _carve(self) -> tuple[list[str], list[str]]:
        # Private (node) subnets first and large, since pods take VPC addresses with the
        # VPC CNI; public subnets only hold load balancers and NAT gateways. Validation
        # has already checked that both fit in the VPC (spec_checks.subnets_fit).
        assert self.vpc_cidr is not None
        vpc = ipaddress.IPv4Network(self.vpc_cidr)  # validation allows IPv4 only
        private = list(vpc.subnets(new_prefix=self.private_subnet_prefix))[: self.zone_count]
        end = private[-1].broadcast_address + 1 if private else vpc.network_address
        public: list[ipaddress.IPv4Network] = []
        for candidate in vpc.subnets(new_prefix=self.public_subnet_prefix):
            if len(public) == self.zone_count:
                break
            if candidate.network_address >= end:
                public.append(candidate)
        return [str(n) for n in private], [str(n) for n in public]


class EndpointSpec(_Model):
    """Who can reach the Kubernetes API server (checklist EKS-ENDPOINT)."""

    private_access: bool = True
    """Reach the API server from inside the VPC."""
    public_access: bool = False
    """Reach the API server from the internet (only from public_access_cidrs)."""
    public_access_cidrs: list[str] = Field(default_factory=list)
    """Allow-list for the public endpoint; required (non-empty, no 0.0.0.0/0) when it is on."""


class AccessEntrySpec(_Model):
    """One principal granted cluster access through an EKS access entry."""

    principal_arn: str
    """IAM role or user ARN granted access."""
    policy: str = "AmazonEKSClusterAdminPolicy"
    """EKS access policy: a short name (AmazonEKSClusterAdminPolicy, AmazonEKSAdminPolicy,
    AmazonEKSEditPolicy, AmazonEKSViewPolicy) or its full arn:aws:eks::aws:cluster-access-policy/ ARN."""
    namespaces: list[str] = Field(default_factory=list)
    """Scope: empty means the whole cluster, otherwise these namespaces."""

    @property
    def policy_arn(self) -> str:
        """The access policy as a full ARN."""
        if self.policy.startswith("arn:"):
            return self.policy
        return f"arn:aws:eks::aws:cluster-access-policy/{self.policy}"


class AccessSpec(_Model):
    """How people authenticate to the cluster (checklist EKS-ACCESS)."""

    authentication_mode: Literal["API", "API_AND_CONFIG_MAP"] = "API"
    """API (access entries only) or API_AND_CONFIG_MAP while migrating from aws-auth."""
    entries: list[AccessEntrySpec] = Field(default_factory=list)
    """Admins and other principals, each through an explicit access entry."""


class TaintSpec(_Model):
    """A Kubernetes taint put on every node of a group."""

    key: str
    """Taint key (Kubernetes label-key syntax)."""
    value: str | None = None
    """Taint value (label-value syntax), optional."""
    effect: Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"] = "NO_SCHEDULE"
    """EKS spelling of NoSchedule / NoExecute / PreferNoSchedule."""


class NodeGroupSpec(_Model):
    """An EKS managed node group in the private subnets (no SSH; SSM instead)."""

    name: str
    """DNS-1123 label; unique in the stack."""
    instance_types: list[str] = Field(default_factory=lambda: ["m6i.large"])
    """EC2 instance types (family.size), all of the AMI's architecture; several help spot."""
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    """On-demand or spot capacity."""
    min_size: int = 1
    """Fewest nodes (>= 0)."""
    desired_size: int = 2
    """Nodes at creation (min_size <= desired_size <= max_size)."""
    max_size: int = 3
    """Most nodes (>= 1)."""
    disk_size: int = 50
    """Root volume size in GiB (gp3, encrypted), 20-16384."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Kubernetes labels on every node."""
    taints: list[TaintSpec] = Field(default_factory=list)
    """Kubernetes taints on every node."""
    ami_type: str = "AL2023_x86_64_STANDARD"
    """EKS AMI type (spec_checks.AMI_TYPES): AL2023_* or BOTTLEROCKET_*."""
    imds_hop_limit: Literal[1, 2] = 1
    """IMDSv2 hop limit: 1 keeps pods off the node's credentials; 2 only if pods need IMDS."""


class AutoModeSpec(_Model):
    """EKS Auto Mode; may be combined with managed node groups."""

    enabled: bool = False
    """EKS Auto Mode: AWS runs compute, storage and load balancing."""
    node_pools: list[Literal["general-purpose", "system"]] = Field(
        default_factory=lambda: ["general-purpose", "system"]
    )
    """Built-in node pools to turn on; empty leaves node pools to Git."""


class AddonSpec(_Model):
    """One EKS managed add-on."""

    enabled: bool = True
    """Install the add-on (all five are on unless a stack turns one off)."""
    version: str | None = None
    """Pin, e.g. v1.19.2-eksbuild.1; unset takes the default for the cluster version."""


class IdentitySpec(_Model):
    """An IAM role for one Kubernetes service account (Pod Identity or IRSA)."""

    name: str
    """DNS-1123 label; becomes `<name>_role_arn` in the GitOps bridge."""
    namespace: str
    """Namespace of the service account (DNS-1123 label)."""
    service_account: str
    """Service account name (DNS-1123 label); one identity per namespace/service account."""
    managed_policy_arns: list[str] = Field(default_factory=list)
    """Managed policies attached to the role (arn:aws:iam::aws:policy/… or an account's)."""
    policy: dict[str, Any] | None = None
    """Inline IAM policy document (Version/Statement)."""
    mode: Literal["pod-identity", "irsa"] = "pod-identity"
    """Pod Identity (survives a cluster rebuild) or IRSA (trusts the cluster's OIDC issuer)."""


class EnvironmentSpec(_Model):
    """One stack's validated configuration; build it with `load_spec`."""

    environment: str
    """The stack name (dev, staging, prod…)."""
    region: str
    """AWS region, e.g. eu-west-1 (required)."""
    cluster_name: str
    """EKS cluster name (DNS-1123 label); defaults to eksgitops-<stack>."""
    kubernetes_version: str
    """Kubernetes minor version in EKS standard support (components/data/kubernetes_versions.json)."""
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    """New or existing VPC."""
    endpoint: EndpointSpec = Field(default_factory=EndpointSpec)
    """API server endpoint access."""
    logging: list[LogType] = Field(
        default_factory=lambda: ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    )
    """Control-plane log types sent to CloudWatch (all five by default)."""
    secrets_kms_key_arn: str | None = None
    """Existing KMS key for secrets envelope encryption; unset creates one with rotation on."""
    access: AccessSpec = Field(default_factory=AccessSpec)
    """Authentication mode and access entries."""
    node_groups: list[NodeGroupSpec] = Field(default_factory=list)
    """Managed node groups (at least one, unless Auto Mode is on)."""
    auto_mode: AutoModeSpec = Field(default_factory=AutoModeSpec)
    """EKS Auto Mode."""
    addons: dict[AddonName, AddonSpec] = Field(default_factory=dict)
    """Per-add-on overrides (enabled, version pin); see enabled_addons()."""
    identities: list[IdentitySpec] = Field(default_factory=list)
    """Workload identities (IAM roles for service accounts)."""
    gitops: GitOpsSpec = Field(default_factory=GitOpsSpec)
    """The GitOps agent's source."""
    policy: PolicySpec = Field(default_factory=PolicySpec)
    """Waivers of the guardrail rules, each with a reason (components.policy_spec)."""
    tags: dict[str, str] = Field(default_factory=dict)
    """AWS tags on every resource (at most 40; no aws: prefix)."""

    def enabled_addons(self) -> dict[str, AddonSpec]:
        """All five managed add-ons unless a stack turns one off; each with its pin."""
        names: tuple[str, ...] = get_args(AddonName)
        chosen = {name: self.addons.get(name, AddonSpec()) for name in names}  # type: ignore[call-overload]
        return {name: addon for name, addon in chosen.items() if addon.enabled}


class SpecError(Exception):
    """Every mistake in a stack's config, one line each, ready to print."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


# --- reading config -------------------------------------------------------------------

SCALAR_KEYS = frozenset({"region", "clusterName", "kubernetesVersion", "secretsKmsKeyArn"})
"""Top-level keys whose values are plain strings in Pulumi config."""
STRUCTURED_KEYS = frozenset(
    {
        "network",
        "endpoint",
        "logging",
        "access",
        "nodeGroups",
        "autoMode",
        "addons",
        "identities",
        "gitops",
        "policy",
        "tags",
    }
)
"""Top-level keys whose values are objects/lists: Pulumi hands them to the program as JSON."""
TOP_LEVEL_KEYS = SCALAR_KEYS | STRUCTURED_KEYS
"""Every key a stack may set under eksgitops: (`environment` comes from the stack name)."""
PROJECT = "eksgitops"
"""The project name, which is also the config namespace."""
SECRET_PLACEHOLDER = "[secret]"
"""What a secret value shows as wherever its plaintext is not available or not wanted."""


@dataclass(frozen=True)
class SecretValue:
    """A `{secure: <value>}` value from a stack file: a Pulumi secret, never shown."""

    value: str

    def __str__(self) -> str:
        return SECRET_PLACEHOLDER

    def __repr__(self) -> str:
        return f"SecretValue({SECRET_PLACEHOLDER})"


@dataclass(frozen=True)
class InvalidJson:
    """A structured key whose Pulumi config text is not JSON; load_spec reports it."""

    text: str
    error: str


def raw_config_from_stack_file(path: Path) -> dict[str, Any]:
    """The project's keys (prefix removed) from a stack file, read as the Pulumi CLI reads them.

    Top-level scalars keep their source text (`1.30` stays "1.30"; Pulumi never parses
    them); objects and lists are constructed with YAML's safe constructor; `{secure: …}`
    becomes a `SecretValue`. Keys of other namespaces (`aws:region`) are ignored.
    """
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise SpecError(
            [f"{path}: cannot read the stack file ({exc.strerror}); create it or check the path"]
        ) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise SpecError([_yaml_error_line(path, exc)]) from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise SpecError([f"{path}: the file is not a YAML mapping; a mapping with a config: key"])
    config_node = next((v for k, v in root.value if k.value == "config"), None)
    if config_node is None or (
        isinstance(config_node, yaml.ScalarNode) and config_node.tag.endswith(":null")
    ):
        return {}
    if not isinstance(config_node, yaml.MappingNode):
        raise SpecError([f"{path}: config: is not a mapping; a mapping of <namespace>:<key>: value"])
    constructor = yaml.SafeLoader("")
    raw: dict[str, Any] = {}
    for key_node, value_node in config_node.value:
        key = str(key_node.value)
        if key.startswith(f"{PROJECT}:"):
            key = key[len(PROJECT) + 1 :]
        elif ":" in key:
            continue  # another namespace (aws:region, kubernetes:…)
        if isinstance(value_node, yaml.ScalarNode):
            raw[key] = value_node.value
        else:
            raw[key] = _secrets(constructor.construct_object(value_node, deep=True))
    return raw


def _yaml_error_line(path: Path, exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error, with the line number when YAML knows it."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        return f"{where}: not valid YAML ({exc.problem or exc.context}); fix the syntax"
    return f"{path}: not valid YAML ({' '.join(str(exc).split())}); fix the syntax"


def _secrets(value: Any) -> Any:
    """Turn `{secure: …}` mappings, at any depth, into SecretValue markers."""
    if isinstance(value, dict):
        if set(value) == {"secure"} and isinstance(value["secure"], str):
            return SecretValue(value["secure"])
        return {k: _secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_secrets(v) for v in value]
    return value


def project_config_defaults(path: Path) -> dict[str, Any]:
    """The defaults Pulumi.yaml declares for the project's keys (prefix removed).

    Pulumi merges them into every stack's config before the program runs, so an offline
    reader overlays the stack file's values on these.
    """
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as exc:
        raise SpecError(
            [f"{path}: cannot read the project file ({exc.strerror}); a readable Pulumi.yaml"]
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError([_yaml_error_line(path, exc)]) from None
    if not isinstance(data, dict) or not isinstance(data.get("config") or {}, dict):
        raise SpecError([f"{path}: config: is not a mapping; a mapping of <namespace>:<key> declarations"])
    name = data.get("name", PROJECT)
    defaults: dict[str, Any] = {}
    for key, decl in (data.get("config") or {}).items():
        if ":" in key and not key.startswith(f"{name}:"):
            continue
        short = key.split(":", 1)[1] if ":" in key else key
        if isinstance(decl, dict):
            if "default" in decl:
                defaults[short] = decl["default"]
        else:
            defaults[short] = decl  # shorthand `key: value` is a default for project keys
    return defaults


def raw_config_from_pulumi() -> dict[str, Any]:
    """The project's keys (prefix removed) from the running Pulumi program's config.

    A real `pulumi up` passes config in the PULUMI_CONFIG environment variable; mocks and
    the offline plan use `pulumi.runtime.set_all_config`. Both are read, the latter wins.
    Structured keys are JSON-decoded; text that is not JSON is kept as an `InvalidJson`
    marker so that `load_spec` reports it with everything else.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    namespace = pulumi.get_project() or PROJECT
    prefix = f"{namespace}:"
    merged: dict[str, Any] = {}
    env_config = runtime_config.get_config_env() if "PULUMI_CONFIG" in os.environ else {}
    for source_map in (env_config, runtime_config.CONFIG.get()):
        for key, value in source_map.items():
            if key.startswith(prefix):
                merged[key[len(prefix) :]] = value
    raw: dict[str, Any] = {}
    for key, value in merged.items():
        if key in STRUCTURED_KEYS and isinstance(value, str):
            try:
                raw[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raw[key] = InvalidJson(value, exc.msg)
        else:
            raw[key] = value
    return raw


def spec_from_pulumi() -> EnvironmentSpec:
    """The validated spec of the running Pulumi program's stack; SpecError if it is wrong."""
    import pulumi

    stack = pulumi.get_stack()
    return load_spec(raw_config_from_pulumi(), stack=stack, source=f"stacks/Pulumi.{stack}.yaml")


def config_for_pulumi(raw: Mapping[str, Any], project: str = PROJECT) -> tuple[dict[str, str], list[str]]:
    """The inverse of raw_config_from_pulumi: `{"<project>:key": "string or JSON"}` and the secret keys.

    Secret markers become SECRET_PLACEHOLDER and their key is listed as secret (a
    structured value with a secret inside is secret as a whole, as in Pulumi).
    """
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        full = f"{project}:{key}"
        if isinstance(value, SecretValue):
            config[full] = SECRET_PLACEHOLDER
            secret_keys.append(full)
        elif isinstance(value, str):
            config[full] = value
        else:
            has_secret = [False]
            config[full] = json.dumps(_placeholders(value, has_secret))
            if has_secret[0]:
                secret_keys.append(full)
    return config, secret_keys


def _placeholders(value: Any, found: list[bool]) -> Any:
    if isinstance(value, SecretValue):
        found[0] = True
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _placeholders(v, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v, found) for v in value]
    return value


# --- validation -----------------------------------------------------------------------


def default_cluster_name(stack: str) -> str:
    """The cluster name a stack gets when it does not set clusterName."""
    return f"{PROJECT}-{stack}"


def load_spec(raw: Mapping[str, Any], *, stack: str, source: str) -> EnvironmentSpec:
    """Validate a stack's raw config; raise SpecError listing every problem at once."""
    problems: list[Problem] = []
    data: dict[str, Any] = {}
    for key, value in raw.items():
        if key in TOP_LEVEL_KEYS:
            data[key] = value
        else:
            problems.append(_unknown_key((key,), sorted(TOP_LEVEL_KEYS)))
    data = _drop_markers(data, (), problems)
    # Pulumi.yaml declares "" as the default of the optional scalars (a declared key
    # without a default is required by Pulumi), so "" means "not set".
    for key in ("clusterName", "kubernetesVersion", "secretsKmsKeyArn"):
        if data.get(key) == "":
            del data[key]

    problems += spec_checks.check_all(data)
    if "clusterName" not in data:
        for problem in spec_checks.dns_label(("clusterName",), default_cluster_name(stack), "cluster name"):
            problems.append(problem._replace(what=problem.what + f" (the default, from stack {stack})"))

    try:
        spec: EnvironmentSpec | None = EnvironmentSpec.model_validate(
            _with_defaults(data, stack), by_alias=True, by_name=False
        )
    except ValidationError as exc:
        spec = None
        # A value check that already explains a path beats pydantic's generic words.
        explained = {p.path for p in problems}
        problems += [p for p in _pydantic_problems(exc) if p.path not in explained]
    if problems or spec is None:
        raise SpecError(format_problems(problems, source))
    return spec


def _with_defaults(data: dict[str, Any], stack: str) -> dict[str, Any]:
    """The model input: the stack's values plus the defaults that depend on the stack."""
    full = dict(data)
    full["environment"] = stack
    full.setdefault("clusterName", default_cluster_name(stack))
    full.setdefault("kubernetesVersion", spec_checks.default_kubernetes_version())
    network = full.get("network")
    if isinstance(network, dict) and network.get("vpcId") is not None and "vpcCidr" not in network:
        # An existing VPC has no CIDR of ours; the model's default is for new VPCs.
        full["network"] = {**network, "vpcCidr": None}
    gitops = full.get("gitops", {})
    if isinstance(gitops, dict) and gitops.get("path") is None:
        full["gitops"] = {**gitops, "path": f"clusters/{stack}"}
    return full


def _drop_markers(value: Any, path: spec_checks.Path, problems: list[Problem]) -> Any:
    """Report (and blank out) secrets and undecodable JSON, which cannot be validated."""
    if isinstance(value, SecretValue):
        problems.append(
            Problem(path, "is a Pulumi secret (secure:), but this key holds no credentials", "a plain value")
        )
        return None
    if isinstance(value, InvalidJson):
        problems.append(
            Problem(
                path, f"is not valid JSON ({value.error})", "a mapping or list, which Pulumi passes as JSON"
            )
        )
        return None
    if isinstance(value, dict):
        return {k: _drop_markers(v, (*path, k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_drop_markers(v, (*path, i), problems) for i, v in enumerate(value)]
    return value


def format_problems(problems: list[Problem], source: str) -> list[str]:
    """The SpecError lines, sorted by key path, without duplicates."""

    def order(problem: Problem) -> tuple[Any, ...]:
        return (tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in problem.path), problem.what)

    lines: list[str] = []
    for problem in sorted(problems, key=order):
        line = f"{source}: eksgitops:{format_path(problem.path)}: {problem.what}; {problem.allowed}"
        if line not in lines:
            lines.append(line)
    return lines


def format_path(path: spec_checks.Path) -> str:
    """`("nodeGroups", 0, "minSize")` -> `nodeGroups[0].minSize`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _unknown_key(path: spec_checks.Path, allowed: list[str]) -> Problem:
    key = str(path[-1])
    return Problem(
        path, "unknown key" + _did_you_mean(key, allowed), "allowed keys here: " + ", ".join(allowed)
    )


def _did_you_mean(word: str, options: list[str]) -> str:
    folded = {o.lower().replace("_", "").replace("-", ""): o for o in options}
    exact = folded.get(word.lower().replace("_", "").replace("-", ""))
    close = [exact] if exact else difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f', did you mean "{close[0]}"?' if close else ""


# Hints for required keys, by key name.
_REQUIRED_HINTS = {
    "region": "an AWS region such as eu-west-1",
    "name": DNS_LABEL_ALLOWED,
    "namespace": DNS_LABEL_ALLOWED,
    "serviceAccount": DNS_LABEL_ALLOWED,
    "principalArn": "an IAM role ARN such as arn:aws:iam::111122223333:role/platform-admin",
    "key": "a Kubernetes label key",
}

_EXPECTED = {
    "string_type": ("a string", "a string"),
    "int_type": ("a whole number", "a whole number"),
    "int_parsing": ("a whole number", "a whole number"),
    "int_from_float": ("a whole number", "a whole number"),
    "bool_type": ("true or false", "true or false"),
    "bool_parsing": ("true or false", "true or false"),
    "list_type": ("a list", "a YAML list"),
    "dict_type": ("a mapping", "a mapping of keys to values"),
    "model_type": ("a mapping", "a mapping of keys (see docs/configuration.md)"),
    "model_attributes_type": ("a mapping", "a mapping of keys (see docs/configuration.md)"),
}


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f'the string "{value}"'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    """pydantic's errors, rewritten as (key path, what is wrong, what is allowed)."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        value = err.get("input")
        if loc and loc[-1] == "[key]":
            path = loc[:-1]
            annotation = _dict_key_type(loc[:-2])
        else:
            path = loc
            annotation = _annotation_at(loc)
        if kind == "extra_forbidden":
            problems.append(_unknown_key(path, _allowed_keys(path[:-1])))
        elif kind == "missing":
            hint = _REQUIRED_HINTS.get(str(path[-1]), "set it (see docs/configuration.md)")
            problems.append(Problem(path, "is required", hint))
        elif kind == "literal_error":
            options = [str(o) for o in get_args(annotation)] if annotation is not None else []
            what = f"{_describe(value)} is not allowed" + _did_you_mean(str(value), options)
            problems.append(Problem(path, what, "one of " + ", ".join(options)))
        elif kind in _EXPECTED:
            expected, allowed = _EXPECTED[kind]
            if kind == "string_type" and isinstance(value, int | float | bool):
                # YAML turned an unquoted 1.30, 8080, yes or on into a number or boolean.
                allowed = "a string: quote the value in YAML"
            problems.append(Problem(path, f"is {_describe(value)}, not {expected}", allowed))
        elif kind == "value_error" and isinstance(
            spec_error := err.get("ctx", {}).get("error"), SpecValueError
        ):
            problems.append(Problem((*path, *spec_error.at), spec_error.what, spec_error.allowed))
        else:
            message = str(err["msg"]).replace("Input should be", "should be").replace("Value error, ", "")
            problems.append(Problem(path, message[:1].lower() + message[1:], "see docs/configuration.md"))
    return problems


def _strip_optional(annotation: Any) -> Any:
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is not Literal and type(None) in get_args(annotation) and len(args) == 1:
        return args[0]
    return annotation


def _annotation_at(loc: tuple[Any, ...]) -> Any:
    """The declared type at a key path of EnvironmentSpec, or None if it cannot be followed."""
    annotation: Any = EnvironmentSpec
    for part in loc:
        annotation = _strip_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next(
                (f for n, f in annotation.model_fields.items() if part in (n, f.alias)),
                None,
            )
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) is list and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return None
    return _strip_optional(annotation)


def _dict_key_type(loc: tuple[Any, ...]) -> Any:
    annotation = _annotation_at(loc)
    return get_args(annotation)[0] if get_origin(annotation) is dict else None


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    annotation = _annotation_at(loc)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation is EnvironmentSpec:
            return sorted(TOP_LEVEL_KEYS)
        return sorted(f.alias or n for n, f in annotation.model_fields.items())
    return []
