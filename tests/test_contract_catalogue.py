"""Contract: the catalogue calls of the client against Prism on ``catalogue-1.46.0.yaml`` (#15.12).

The same third-party mock as ``test_contract_mock.py`` (Stoplight Prism from npm, run with the
machine's Node.js, its fixture machinery reused): it validates every request the client sends
against the spec (path, the uuid path parameter, the ``cluster_status`` enum), and answers from the
spec's examples, or from its schemas with ``Prefer: dynamic=true``. Each call must succeed and
parse to what the mock sent; the spec's error examples, forced with ``Prefer: code=..., example=``,
must become typed errors (a 404 on a list route: the server has no catalogue).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from test_contract_mock import REPO, Mock, _call, _unavailable, serve_prism

pytestmark = pytest.mark.contract

SPEC = REPO.parent / "shared" / "openapi" / "catalogue-1.46.0.yaml"
CID = "123e4567-e89b-12d3-a456-426614174000"
# The spec asks for OAuth2 on every operation: Prism answers 401 to a request without a bearer.
TOKEN = "contract-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OPERATIONS = {
    "listClusters": ("/clusters", lambda c: c.list_clusters()),
    "describeCluster": (f"/cluster/{CID}", lambda c: c.describe_cluster(CID)),
    "getNodes": (f"/cluster/{CID}/nodes", lambda c: c.list_cluster_nodes(CID)),
    "getClusterResources": (f"/cluster/{CID}/resources", lambda c: c.get_cluster_resources(CID)),
    "listWorkspaceTemplates": ("/management/workspace-templates",
                               lambda c: c.list_workspace_templates()),
}
PREFERS = pytest.mark.parametrize("prefer", [None, "dynamic=true"], ids=["examples", "generated"])


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC.is_file():
        _unavailable(f"contract spec not found: {SPEC}")
    import yaml

    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mock(spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mock]:
    """Prism mocking the catalogue spec on a free loopback port; stopped after the module."""
    with serve_prism(SPEC, "/clusters", tmp_path_factory, AUTH) as server:
        yield server


@pytest.fixture
def client(mock: Mock) -> Iterator[Any]:
    from exalsius_jupyter import ExalsiusClient

    c = ExalsiusClient(base_url=mock.base_url, token=TOKEN, timeout=10.0)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def sent(client: Any) -> list[requests.PreparedRequest]:
    """The requests the client really sent."""
    record: list[requests.PreparedRequest] = []
    client.session.hooks["response"].append(lambda resp, *a, **k: record.append(resp.request))
    return record


def _raw(mock: Mock, path: str, prefer: str | None = None) -> Any:
    """What the mock answers to a plain GET, to compare the client's parse against."""
    headers = {"Accept": "application/json", **AUTH, **({"Prefer": prefer} if prefer else {})}
    resp = requests.get(mock.base_url + path, headers=headers, timeout=10)
    assert resp.ok, f"GET {path} -> {resp.status_code} {resp.text}\n{mock.log_tail()}"
    return resp.json()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _check_cluster(cluster: Any, raw: dict[str, Any]) -> None:
    assert cluster.name == raw["name"] and cluster.id == raw.get("id", "")
    assert cluster.cluster_status.value == raw["cluster_status"]  # the spec's enum: all known
    assert cluster.cluster_type == raw.get("cluster_type")
    assert cluster.costs_per_hour == _number(raw.get("costs_per_hour"))
    assert cluster.current_costs == _number(raw.get("current_costs"))
    assert list(cluster.worker_node_ids) == raw.get("worker_node_ids", [])
    assert cluster.workspace_count == len(raw.get("workspace_deployments", []))
    assert cluster.created_at is not None and cluster.created_at.tzinfo is not None


def _only(sent: list[Any], path: str) -> Any:
    (req,) = sent
    assert (req.method, urlsplit(req.url).path) == ("GET", path)
    assert req.headers["Authorization"] == AUTH["Authorization"]
    return req


@PREFERS
def test_list_clusters(mock: Mock, client: Any, sent: list[Any], prefer: str | None) -> None:
    if prefer:
        client.session.headers["Prefer"] = prefer
    clusters = _call(mock, client.list_clusters)
    raw = _raw(mock, "/clusters", prefer)
    assert len(clusters) == len(raw["clusters"]) >= 1
    for cluster, item in zip(clusters, raw["clusters"], strict=True):
        _check_cluster(cluster, item)
    frame = clusters.to_dataframe()
    assert list(frame["name"]) == [c["name"] for c in raw["clusters"]]
    assert parse_qs(urlsplit(_only(sent, "/clusters").url).query) == {}


def test_list_clusters_by_status(mock: Mock, client: Any, sent: list[Any]) -> None:
    _call(mock, client.list_clusters, cluster_status="ready")
    req = _only(sent, "/clusters")
    assert parse_qs(urlsplit(req.url).query) == {"cluster_status": ["READY"]}


def test_the_mock_rejects_a_status_outside_the_enum(mock: Mock) -> None:
    resp = requests.get(mock.base_url + "/clusters?cluster_status=RUNNING", headers=AUTH,
                        timeout=10)
    assert resp.status_code == 422, resp.text  # what the client refuses before sending


@PREFERS
def test_describe_cluster(mock: Mock, client: Any, sent: list[Any], prefer: str | None) -> None:
    if prefer:
        client.session.headers["Prefer"] = prefer
    cluster = _call(mock, client.describe_cluster, CID)
    _check_cluster(cluster, _raw(mock, f"/cluster/{CID}", prefer)["cluster"])
    _only(sent, f"/cluster/{CID}")


@PREFERS
def test_list_cluster_nodes(mock: Mock, client: Any, sent: list[Any], prefer: str | None) -> None:
    if prefer:
        client.session.headers["Prefer"] = prefer
    nodes = _call(mock, client.list_cluster_nodes, CID)
    raw = _raw(mock, f"/cluster/{CID}/nodes", prefer)
    assert nodes.cluster_id == raw["cluster_id"]
    assert list(nodes.control_plane_node_ids) == raw["control_plane_node_ids"]
    assert list(nodes.worker_node_ids) == raw["worker_node_ids"]
    if isinstance(raw.get("total_nodes"), int) and raw["total_nodes"] >= 0:
        assert nodes.total_nodes == raw["total_nodes"]
    _only(sent, f"/cluster/{CID}/nodes")


@PREFERS
def test_get_cluster_resources(mock: Mock, client: Any, sent: list[Any],
                               prefer: str | None) -> None:
    if prefer:
        client.session.headers["Prefer"] = prefer
    nodes = _call(mock, client.get_cluster_resources, CID)
    raw = _raw(mock, f"/cluster/{CID}/resources", prefer)["resources"]
    assert len(nodes) == len(raw) >= 1
    for node, item in zip(nodes, raw, strict=True):
        assert node.node_id == item.get("node_id", "")
        assert node.node_name == item.get("node_name", "")
        for side in ("available", "occupied"):
            pool, sent_pool = getattr(node, side), item.get(side, {})
            for key in ("gpu_count", "cpu_cores", "memory_gb", "storage_gb", "gpu_memory"):
                assert getattr(pool, key) == sent_pool.get(key), (side, key)
            assert pool.gpu_type == sent_pool.get("gpu_type")
    frame = nodes.to_dataframe()
    assert list(frame["gpus_free"]) == [n.get("available", {}).get("gpu_count") for n in raw]
    _only(sent, f"/cluster/{CID}/resources")


@PREFERS
def test_list_workspace_templates(mock: Mock, client: Any, sent: list[Any],
                                  prefer: str | None) -> None:
    if prefer:
        client.session.headers["Prefer"] = prefer
    templates = _call(mock, client.list_workspace_templates)
    raw = _raw(mock, "/management/workspace-templates", prefer)["workspace_templates"]
    assert [(t.name, t.description, t.variables) for t in templates] == [
        (r["name"], r.get("description"), r["variables"]) for r in raw]
    assert len(templates.to_dataframe()) == len(raw) >= 1
    _only(sent, "/management/workspace-templates")


def test_a_path_id_that_is_not_a_uuid_is_the_mocks_422(client: Any) -> None:
    from exalsius_jupyter import ApiError, NotSupportedError

    with pytest.raises(ApiError) as info:
        client.describe_cluster("not-a-uuid")
    assert info.value.status == 422 and not isinstance(info.value, NotSupportedError)


# -- the spec's error examples become typed errors --------------------------------------------


def _error_cases(spec: dict[str, Any]) -> list[tuple[str, int, dict[str, Any] | None]]:
    """(operation, status, the example problem it forces, if any) for each declared error."""
    cases = []
    for item in spec["paths"].values():
        op = item["get"]
        if op["operationId"] not in OPERATIONS:
            continue
        for code, response in op["responses"].items():
            if code[0] in "45":
                examples = response["content"]["application/problem+json"].get("examples")
                if not examples:  # getNodes: a schema only; Prism makes up the problem
                    cases.append((op["operationId"], int(code), None))
                    continue
                example = response["useExample"]
                cases.append((op["operationId"], int(code),
                              {"name": example, **examples[example]["value"]["detail"]}))
    return cases


def test_every_operation_of_the_spec_is_called_here(spec: dict[str, Any]) -> None:
    declared = {item["get"]["operationId"] for item in spec["paths"].values()}
    # Nodes and SSH keys are not the client's (exls reads them; the sandbox serves them).
    assert declared - set(OPERATIONS) == {"listNodes", "describeNode", "listSshKeys"}


def test_forced_error_examples_become_typed_errors(mock: Mock, client: Any,
                                                   spec: dict[str, Any]) -> None:
    import exalsius_jupyter as ej

    cases = _error_cases(spec)
    assert {(o, c) for o, c, _ in cases} == {(o, c) for o in OPERATIONS for c in (404, 500)}
    for operation, code, problem in cases:
        path, call = OPERATIONS[operation]
        if problem is None:
            # A made-up problem does not name the cluster: the client would ask the list route,
            # which Prefer would force to 404 too. Let it see the catalogue first.
            client.session.headers.pop("Prefer", None)
            client.list_clusters()
        client.session.headers["Prefer"] = (
            f"code={code}" if problem is None else f"code={code}, example={problem['name']}")
        with pytest.raises(ej.ExalsiusError) as info:
            call(client)
        err = info.value
        if code == 500:
            expected: type[Exception] = ej.ServerError
        elif path.startswith("/cluster/"):
            expected = ej.NotFoundError  # an unknown cluster: its title says so
        else:
            expected = ej.NotSupportedError  # a list route's 404: no catalogue on this server
        assert type(err) is expected, (operation, code, repr(err), mock.log_tail())
        assert err.status == code and "\n" not in str(err)
        if problem is not None:
            assert (err.status, err.title, err.detail) == (problem["status"], problem["title"],
                                                           problem["detail"]), operation
        if expected is ej.NotSupportedError:
            assert str(err).startswith(f"this server has no catalogue (GET {path} answered 404")
