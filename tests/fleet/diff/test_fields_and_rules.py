"""The pieces `fleet diff` is made of, on their own: changed field paths (lists by name, odd keys,
Secret masking, bounds), the chart major version, the Service clusterIP the cluster assigns,
and the terminal lines (names with escapes shown, not obeyed)."""

from __future__ import annotations

from eksgitops.fleet.diff import destructive
from eksgitops.fleet.diff.document import MAX_VALUE_CHARS, value
from eksgitops.fleet.diff.fields import MAX_FIELDS, changed_fields
from eksgitops.fleet.diff.lines import print_result
from eksgitops.fleet.diff.model import SECRET_MASK, Change, DiffResult, FieldChange
from eksgitops.fleet.findings import Report


def _paths(old: dict, new: dict, secret: bool = False) -> list[tuple[str, object, object]]:
    fields, _ = changed_fields(old, new, secret)
    return [(f.path, f.old, f.new) for f in fields]


def test_lists_of_named_items_are_compared_by_name() -> None:
    old = {"spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}}
    new = {
        "spec": {
            "containers": [
                {"name": "z", "image": "z:1"},
                {"name": "a", "image": "a:1"},
                {"name": "b", "image": "b:2"},
            ]
        }
    }
    assert _paths(old, new) == [
        ("spec.containers[name=b].image", "b:1", "b:2"),
        ("spec.containers[name=z]", None, {"name": "z", "image": "z:1"}),
    ]
    # Without names: by position.
    assert _paths({"args": ["--a", "--b"]}, {"args": ["--a"]}) == [("args[1]", "--b", None)]


def test_keys_that_are_not_identifiers_are_quoted() -> None:
    old = {"metadata": {"annotations": {"example.com/x": "1"}}}
    new = {"metadata": {"annotations": {"example.com/x": "2", 'we"ird': "y"}}}
    assert _paths(old, new) == [
        ('metadata.annotations["example.com/x"]', "1", "2"),
        ('metadata.annotations["we\\"ird"]', None, "y"),
    ]


def test_secret_values_are_masked_and_other_fields_are_not() -> None:
    old = {"data": {"password": "c2VjcmV0"}, "metadata": {"labels": {"a": "1"}}}
    new = {
        "data": {"password": "b3RoZXI=", "new": "eA=="},
        "stringData": {"k": "v"},
        "metadata": {"labels": {"a": "2"}},
    }
    assert _paths(old, new, secret=True) == [
        ("data.new", None, SECRET_MASK),
        ("data.password", SECRET_MASK, SECRET_MASK),
        ("metadata.labels.a", "1", "2"),
        ("stringData", None, SECRET_MASK),
    ]
    assert "c2VjcmV0" in str(_paths(old, new, secret=False))  # the mask is what hides it


def test_a_rewritten_object_is_bounded() -> None:
    fields, more = changed_fields({f"k{i}": 1 for i in range(500)}, {f"k{i}": 2 for i in range(500)})
    assert len(fields) == MAX_FIELDS and more == 500 - MAX_FIELDS


def _release(version: object) -> dict:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "spec": {"chart": {"spec": {"version": version}}},
    }


def test_chart_major_versions() -> None:
    def kinds(old: object, new: object) -> list[str]:
        return [d.kind for d in destructive.on_update(_release(old), _release(new), False, "Flux")]

    assert kinds("1.2.3", "2.0.0") == ["chart-major-version"]
    assert kinds("v1.2.3", "v2.0.0-rc.1") == ["chart-major-version"]
    assert kinds("1.2.3", "1.9.0") == []
    assert kinds(">=1.0.0 <2.0.0", "2.0.0") == []  # a range names no single major
    assert kinds("*", "3.0.0") == [] and kinds(None, "3.0.0") == []
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application"}
    old = {**app, "spec": {"source": {"chart": "redis", "targetRevision": "19.6.4"}}}
    new = {**app, "spec": {"source": {"chart": "redis", "targetRevision": "20.0.0"}}}
    assert [d.kind for d in destructive.on_update(old, new, False, "Argo CD")] == ["chart-major-version"]


def test_a_cluster_ip_the_cluster_assigns_is_not_a_change_of_it() -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}}
    pinned = {**svc, "spec": {"clusterIP": "10.0.0.9", "ports": [{"port": 80}]}}
    moved = {**svc, "spec": {"clusterIP": "10.0.0.10", "ports": [{"port": 80}]}}
    assert destructive.on_update(svc, pinned, False, "Flux") == []
    assert [d.kind for d in destructive.on_update(pinned, moved, False, "Flux")] == ["immutable-field"]


def test_terminal_lines_show_escapes_instead_of_obeying_them() -> None:
    name = "evil\x1b[2J\nverify: will reconcile"
    change = Change(
        "update",
        "v1",
        "ConfigMap",
        "web",
        name,
        "Kustomization flux-system/apps",
        fields=[FieldChange("data.a", "\x1b]0;x\x07", "b")],
    )
    result = DiffResult("clusters/dev", "a" * 40, "b" * 40, [change], [], Report(verified=1))
    printed: list[str] = []
    print_result(result, printed.append)
    assert all("\x1b" not in line and "\n" not in line and "\x07" not in line for line in printed)
    assert "  ~ update v1 ConfigMap web/evil\\x1b[2J\\nverify: will reconcile" in printed


def test_a_huge_value_in_the_document_is_replaced_by_its_size() -> None:
    assert value("small") == "small" and value({"a": [1, 2]}) == {"a": [1, 2]}
    huge = value("x" * (MAX_VALUE_CHARS + 10))
    assert huge == f"(a value of {MAX_VALUE_CHARS + 12} characters, not shown)"
    assert value("https://robot:s3cret@git.example.com", lambda t: t.replace("s3cret", "***")) == (
        "https://robot:***@git.example.com"
    )
