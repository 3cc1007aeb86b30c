"""Property-based fuzzing of `eksgitops plan` with mutated copies of the shipped stacks.

Each case deletes a key, swaps a value's type, duplicates a key or list item, or puts a
value out of range, anywhere in a shipped stack file, then runs the real CLI. Whatever
the mutation, the plan either succeeds (and writes build/<stack>/resources.json), or
plans and fails a guardrail rule (exit 1, a `RULE-ID <resource>: …` line: posture such as
an endpoint open to 0.0.0.0/0 is the rules' to judge, not the spec's), or exits 2 with one
line per mistake, each naming the file and a key, writing nothing. Never a traceback.
A second generator makes one mistake of a class AWS, EKS, IAM, git or Flux would refuse
minutes into a `pulumi up` (instance types, labels and taints, access policies, IAM grammar,
regions, branches and durations, public CIDRs, bound service accounts, tags by case,
invisible waiver reasons), often next to a valid value of the same class; the text-level
test inserts line separators, explicit tags, deep nesting and look-alike namespaces.
Bounded and derandomized so that it runs in seconds in `make test`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from components.spec import SpecError, load_spec
from components.spec.data import instance_types
from components.spec.policy import RULE_IDS
from components.spec.read import stack_config
from eksgitops.cli import app

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod")
CONFIGS = {s: yaml.safe_load((ROOT / "stacks" / f"Pulumi.{s}.yaml").read_text()) for s in STACKS}
SWAPS: list[Any] = [None, True, 0, 1.5, "x", [], {}, [1], {"a": 1}, "2012-10-17"]
OUT_OF_RANGE_INTS = [-1, 0, 1, 7, 1001, 10**6, 2**64]
ODD_STRINGS = ["", "a" * 300, "ñame", "eu-west-\u0661", "dev\n", "*", "0.0.0.0/0", "https://u:TOKEN@h/x.git"]
# `<file>: <key>: <what>; <allowed>`, or for a YAML syntax error `<file>:<line>: not valid YAML …`.
LINE = re.compile(
    r"stacks/Pulumi\.(dev|staging|prod)\.yaml"
    r"(: [^ ;]+: .+; .+|:[0-9]+: not valid YAML \(.+\); fix the syntax)"
)
RULE_LINE = re.compile(rf"({'|'.join(RULE_IDS)}) \S+: .+")


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path below the root of a config (dict keys and list indexes)."""
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        found.append((*prefix, key))
        found += paths(child, (*prefix, key))
    return found


def mutate(doc: dict[str, Any], path: tuple[Any, ...], kind: str, pick: int) -> str:
    """The stack file text after one mutation at `path`."""
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    current = parent[last]
    if kind == "delete":
        del parent[last]
    elif kind == "swap":
        parent[last] = SWAPS[pick % len(SWAPS)]
    elif kind == "range":
        if isinstance(current, int) and not isinstance(current, bool):
            parent[last] = OUT_OF_RANGE_INTS[pick % len(OUT_OF_RANGE_INTS)]
        else:
            parent[last] = ODD_STRINGS[pick % len(ODD_STRINGS)]
    elif kind == "duplicate" and isinstance(parent, list):
        parent.insert(last, current)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    if kind == "duplicate" and isinstance(parent, dict):
        # A key written twice: YAML itself would silently keep the last one.
        lines = text.splitlines(keepends=True)
        keyed = [i for i, line in enumerate(lines) if re.match(r"\s*[^\s#-][^:]*:( |$)", line)]
        i = keyed[pick % len(keyed)]
        line = lines[i].rstrip("\n")
        lines.insert(i + 1, (line + " {}" if line.endswith(":") else line) + "\n")
        text = "".join(lines)
    return text


TEXTS_OPEN_ENDPOINT = mutate(
    yaml.safe_load(yaml.safe_dump(CONFIGS["dev"])),
    ("config", "eksgitops:endpoint", "publicAccessCidrs", 0),
    "range",
    6,
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str, str]:
    stack = draw(st.sampled_from(STACKS))
    doc = yaml.safe_load(yaml.safe_dump(CONFIGS[stack]))
    path = draw(st.sampled_from(paths(doc)))
    kind = draw(st.sampled_from(["delete", "swap", "range", "duplicate"]))
    return stack, mutate(doc, path, kind, draw(st.integers(0, 50))), f"{kind} {path}"


@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
# A mutation the spec takes and a rule fails: dev's allow-list opened to the whole internet.
@example(("dev", TEXTS_OPEN_ENDPOINT, "range ('config', 'eksgitops:endpoint', 'publicAccessCidrs', 0)"))
def test_mutated_stacks_plan_or_exit_2_naming_file_and_key(case: tuple[str, str, str]) -> None:
    plan_case(case)


def plan_case(case: tuple[str, str, str]) -> str:
    """Run the real CLI on one mutated stack: "planned", "rule" (exit 1) or "refused" (exit 2)."""
    stack, text, label = case
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "stacks").mkdir()
        shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
        (project / "stacks" / f"Pulumi.{stack}.yaml").write_text(text)
        cwd = os.getcwd()
        os.chdir(project)
        try:
            result = CliRunner().invoke(app, ["plan", stack, "-q"])
        finally:
            os.chdir(cwd)
        output = result.output + (result.stderr or "")
        assert "Traceback" not in output, (label, output)
        assert result.exit_code in (0, 1, 2), (label, result.exception, output)
        if result.exit_code in (0, 1):
            assert (project / "build" / stack / "resources.json").is_file(), label
            if result.exit_code == 1:
                assert any(RULE_LINE.fullmatch(line) for line in result.stdout.splitlines()), (label, output)
        else:
            lines = result.stderr.strip().splitlines()
            assert lines, label
            for line in lines:
                assert LINE.fullmatch(line), (label, line)
            assert "TOKEN" not in output, label
            assert not (project / "build").exists(), label
        return {0: "planned", 1: "rule", 2: "refused"}[result.exit_code]


# --- what AWS, EKS, IAM, git and Flux refuse: one generator per class ---------------------

INSTANCE_TYPES = sorted(instance_types())
_any_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_instance_type = st.one_of(
    st.sampled_from(INSTANCE_TYPES),
    st.builds(
        "{}.{}".format,
        st.sampled_from(["m6i", "m7g", "zz9", "a", "mac2", "c8g"]),
        st.sampled_from(["large", "huge", "larg", "b", "metal"]),
    ),
)
_label_key = st.builds(
    "{}{}".format,
    st.sampled_from(
        ["", "kubernetes.io/", "k8s.io/", "node-role.kubernetes.io/", "example.com/", "x.k8s.io/"]
    ),
    st.text("abcxyz-._0", min_size=1, max_size=70),
)
_taints = st.lists(
    st.fixed_dictionaries(
        {"key": st.sampled_from(["a", "b", "gpu", "example.com/" + "k" * 55])},
        optional={
            "effect": st.sampled_from(["NO_SCHEDULE", "NO_EXECUTE"]),
            "value": st.sampled_from(["", "x"]),
        },
    ),
    max_size=55,
)
_policy_name = st.sampled_from(
    ["AmazonEKSViewPolicy", "AmazonEKSMadeUpPolicy", "AmazonEKSHybridPolicy", "View"]
)
_access_policy = st.one_of(
    _policy_name,
    st.builds(
        "arn:{}:eks::aws:cluster-access-policy/{}".format,
        st.sampled_from(["aws", "aws-cn", "aws-us-gov"]),
        _policy_name,
    ),
)
_operator = st.builds(
    "{}{}{}".format,
    st.sampled_from(["", "ForAllValues:", "ForAnyValue:", "forallvalues:"]),
    st.sampled_from(["StringEquals", "stringEquals", "Null", "ArnLike", "Bool", "StringLikes", "DateEquals"]),
    st.sampled_from(["", "IfExists"]),
)
_statement = st.fixed_dictionaries(
    {"Effect": st.just("Allow"), "Action": st.just("s3:GetObject")},
    optional={
        "Sid": st.sampled_from(["A", "A", "a-b", "Read1", ""]),
        "NotAction": st.just("s3:*"),
        "Resource": st.builds("arn:{}:s3:::b".format, st.sampled_from(["aws", "aws-cn", "aws-us-gov"])),
        "NotResource": st.just("*"),
        "Condition": st.dictionaries(_operator, st.just({"aws:TagKeys": "a"}), max_size=2),
    },
)
_region = st.one_of(
    st.sampled_from(["eu-west-1", "eu-central-1", "eu-west-9", "mars-1", "", "cn-north-1", "us-gov-west-1"]),
    _any_text,
)
_duration = st.builds(
    "{}{}".format,
    st.sampled_from(["1", "2562047", "2562048", "9" * 20, "0.5"]),
    st.sampled_from(["h", "m", "s", "ms", "h47m17s"]),
)
_invisible = st.text(
    st.sampled_from(["\u200b", "\ufeff", "\u202e", "\u2800", "\u0301", " ", "a"]), min_size=1, max_size=4
)

CLASS_MUTATIONS: dict[str, Any] = {
    "instance type": lambda c, d: _node_group(c).update(
        instanceTypes=d(st.lists(_instance_type, min_size=1, max_size=3, unique=True))
    ),
    "label": lambda c, d: _node_group(c).update(labels={d(_label_key): "x"}),
    "taints": lambda c, d: _node_group(c).update(taints=d(_taints)),
    "group name": lambda c, d: _node_group(c).update(name="g" * d(st.integers(30, 45))),
    "access policy": lambda c, d: c["eksgitops:access"]["entries"].append(
        {
            "principalArn": d(
                st.sampled_from([_ADMIN, _ADMIN.upper().replace("ARN:AWS:IAM", "arn:aws:iam"), _ADMIN + "x"])
            ),
            "policy": d(_access_policy),
        }
    ),
    "iam": lambda c, d: _identity(c).update(
        policy={"Version": "2012-10-17", "Statement": d(st.lists(_statement, min_size=1, max_size=3))}
    ),
    "managed policies": lambda c, d: _identity(c).update(
        managedPolicyArns=[f"arn:aws:iam::111122223333:policy/p{i}" for i in range(d(st.integers(1, 25)))]
    ),
    "region": lambda c, d: c.update({"eksgitops:region": (r := d(_region)), "aws:region": r}),
    "escrow region": lambda c, d: c.update(
        {
            "eksgitops:escrow": {
                "enabled": True,
                "region": d(_region),
                "secretReplicaRegions": d(st.lists(_region, max_size=2, unique=True)),
            }
        }
    ),
    "gitops": lambda c, d: c["eksgitops:gitops"].update(
        d(
            st.fixed_dictionaries(
                {},
                optional={
                    "branch": st.sampled_from(
                        ["HEAD", "a..b", "x.lock", "-x", "main", "release/1", "a\u2028b"]
                    ),
                    "interval": _duration,
                    "path": st.sampled_from(["clusters/x\n", "clusters/x", "clusters/\u0085"]),
                    "repoUrl": st.sampled_from(
                        [
                            "-oProxyCommand=x@h:r",
                            "--upload-pack=x",
                            "https://github.com/o/r.git",
                            "ssh://-x/r",
                        ]
                    ),
                },
            )
        )
    ),
    "public cidrs": lambda c, d: c.update(
        {
            "eksgitops:endpoint": {
                "privateAccess": d(st.booleans()),
                "publicAccess": True,
                "publicAccessCidrs": [f"198.51.100.{i}/32" for i in range(d(st.integers(35, 45)))],
            }
        }
    ),
    "bound service account": lambda c, d: _identity(c).update(
        d(
            st.sampled_from(
                [
                    {"namespace": "kube-system", "serviceAccount": "ebs-csi-controller-sa"},
                    {"namespace": "flux-system", "serviceAccount": "kustomize-controller"},
                ]
            )
        )
    ),
    "tag case": lambda c, d: c.setdefault("eksgitops:tags", {}).update(
        {d(st.sampled_from(["Team", "TEAM", "team", "Owner"])): "x"}
    ),
    "waiver reason": lambda c, d: c.update(
        {"eksgitops:policy": {"waivers": [{"rule": "EKS-ENDPOINT", "reason": d(_invisible)}]}}
    ),
}
_ADMIN = "arn:aws:iam::111122223333:role/platform-admin"


def _node_group(config: dict[str, Any]) -> dict[str, Any]:
    groups = config.setdefault("eksgitops:nodeGroups", [])
    if not groups:
        groups.append({"name": "general"})
    return groups[0]


def _identity(config: dict[str, Any]) -> dict[str, Any]:
    identities = config.setdefault("eksgitops:identities", [])
    if not identities:
        identities.append(
            {"name": "app", "namespace": "apps", "serviceAccount": "app", "managedPolicyArns": [_S3]}
        )
    return identities[0]


_S3 = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


@st.composite
def aws_cases(draw: st.DrawFn) -> tuple[str, str, str]:
    stack = draw(st.sampled_from(STACKS))
    doc = yaml.safe_load(yaml.safe_dump(CONFIGS[stack]))
    kind = draw(st.sampled_from(sorted(CLASS_MUTATIONS)))
    CLASS_MUTATIONS[kind](doc["config"], draw)
    return stack, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), kind


@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(aws_cases())
def test_what_aws_refuses_plans_or_exits_2_naming_file_and_key(case: tuple[str, str, str]) -> None:
    plan_case(case)


TEXTS = {s: (ROOT / "stacks" / f"Pulumi.{s}.yaml").read_text() for s in STACKS}
YAML_BITS = [
    "!Ref x",
    "!!binary",
    "&a",
    "*a",
    "? [a]",
    "{1: x}",
    "- ",
    ": ",
    "\t",
    "\n  ",
    "<<: *a",
    "~",
    "'",
    "\u2028",
    "\u0085",
    " !!timestamp 2024-01-01",
    "[" * 40,
    "eksg\u0456tops:",
    "\uff45ksgitops:",
]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.sampled_from(STACKS),
    st.integers(0, 10_000),
    st.one_of(st.sampled_from(YAML_BITS), st.text(max_size=8)),
)
def test_the_reader_and_spec_never_raise_anything_but_spec_error(stack: str, where: int, insert: str) -> None:
    """Text-level mutations of the stack files: the reader and the spec end in SpecError or a spec."""
    text = TEXTS[stack]
    at = where % (len(text) + 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"Pulumi.{stack}.yaml"
        path.write_text(text[:at] + insert + text[at:], encoding="utf-8", errors="surrogatepass")
        try:
            raw = stack_config(path, ROOT / "Pulumi.yaml")
            load_spec(raw, stack=stack, source=f"stacks/Pulumi.{stack}.yaml")
        except SpecError as err:
            assert err.lines and all("\n" not in line and "; " in line for line in err.lines), err.lines
