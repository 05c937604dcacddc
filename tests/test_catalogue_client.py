"""The catalogue in the client (issue #15.1): clusters, free resources, templates.

Every server here is real HTTP on 127.0.0.1: canned answers built from the examples of
``../shared/openapi/catalogue-1.46.0.yaml`` or by hand, and a server that drips its answer.
"""

from __future__ import annotations

import copy
import json
import socket
import time
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from support import SLACK, Canned, CannedServer, DrippingServer, SocketServer, shared_path

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.errors import (
    ExalsiusError,
    InvalidResponseError,
    NotFoundError,
    NotSupportedError,
    RequestTimeoutError,
    ServerError,
    ValidationError,
)
from exalsius_jupyter.model.catalogue import ClusterNodes, ClusterStatus, NodeResources
from exalsius_jupyter.model.catalogue_frames import (
    CLUSTER_COLUMNS,
    CLUSTER_DTYPES,
    NODE_COLUMNS,
    NODE_DTYPES,
    TEMPLATE_COLUMNS,
    TEMPLATE_DTYPES,
    clusters_frame,
)
from exalsius_jupyter.model.catalogue_lists import ClusterList, NodeResourcesList, TemplateList

CID = "123e4567-e89b-12d3-a456-426614174000"
PROBLEM = {"Content-Type": "application/problem+json"}
# What a server without the catalogue answers: a framework's bare 404, or a problem of its own.
BARE_404 = {"detail": "Not Found"}
ROUTE_404 = {"detail": {"type": "about:blank", "title": "Not Found", "status": 404,
                        "detail": "No route GET /v1/clusters", "instance": "/v1/clusters"}}
CLUSTER_404 = {"detail": {"type": "https://api.exalsius.ai/errors/not-found",
                          "title": "Cluster Not Found", "status": 404,
                          "detail": f"The cluster with ID {CID} was not found.",
                          "instance": f"/cluster/{CID}"}}
# A live-like template: nested objects and numbers in its variables (issue #15, facts).
JUPYTER_TEMPLATE = {
    "name": "jupyter-notebook-template",
    "description": "Jupyter Notebook",
    "variables": {"notebookPassword": "", "deploymentNumReplicas": 1,
                  "global": {"deploymentName": "", "deploymentNamespace": "default"},
                  "resources": {"gpuCount": 1, "limits": {}}, "extraArgs": ["--debug"]},
}
METHODS: dict[str, Callable[[ExalsiusClient], Any]] = {
    "list_clusters": lambda c: c.list_clusters(),
    "describe_cluster": lambda c: c.describe_cluster(CID),
    "list_cluster_nodes": lambda c: c.list_cluster_nodes(CID),
    "get_cluster_resources": lambda c: c.get_cluster_resources(CID),
    "list_workspace_templates": lambda c: c.list_workspace_templates(),
}
PATHS = {"list_clusters": "/v1/clusters", "describe_cluster": f"/v1/cluster/{CID}",
         "list_cluster_nodes": f"/v1/cluster/{CID}/nodes",
         "get_cluster_resources": f"/v1/cluster/{CID}/resources",
         "list_workspace_templates": "/v1/management/workspace-templates"}
ID_ROUTES = ("describe_cluster", "list_cluster_nodes", "get_cluster_resources")


@cache
def _spec() -> dict[str, Any]:
    import yaml

    with shared_path("openapi", "catalogue-1.46.0.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def example(path: str, name: str = "default") -> Any:
    """The spec's 200 example ``name`` of ``GET path`` (a copy)."""
    content = _spec()["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    return copy.deepcopy(content["examples"][name]["value"])


def _client(server: CannedServer | SocketServer, **kwargs: Any) -> ExalsiusClient:
    return ExalsiusClient(server.url, timeout=kwargs.pop("timeout", 5.0), retries=0, **kwargs)


def _dtypes(frame: pd.DataFrame) -> dict[str, Any]:
    return {column: frame[column].dtype for column in frame.columns}


# -- every method, on the spec's examples -------------------------------------------------------


def test_list_clusters(canned: CannedServer) -> None:
    canned.json(example("/clusters", "success"))
    clusters = _client(canned).list_clusters()
    assert isinstance(clusters, ClusterList) and clusters.total == 2
    assert [c.name for c in clusters] == ["my-cluster", "my-cluster-2"]
    assert [c.cluster_status for c in clusters] == [ClusterStatus.READY, ClusterStatus.PENDING]
    first = clusters[0]
    assert (first.id, first.costs_per_hour, first.current_costs) == (CID, 1.0, 100.0)
    assert len(first.worker_node_ids) == 3 and first.ready
    assert first.created_at is not None and first.created_at.tzinfo is not None
    assert clusters.by_id(CID.upper()) is first
    (seen,) = canned.requests
    assert (seen.method, urlsplit(seen.path).path, urlsplit(seen.path).query) == (
        "GET", "/v1/clusters", "")


@pytest.mark.parametrize("status", ["READY", "ready", ClusterStatus.READY])
def test_list_clusters_by_status(canned: CannedServer, status: Any) -> None:
    canned.json({"clusters": [], "total": 0})
    assert _client(canned).list_clusters(cluster_status=status) == []
    assert parse_qs(urlsplit(canned.requests[0].path).query) == {"cluster_status": ["READY"]}


@pytest.mark.parametrize("status", ["RUNNING", "UNKNOWN", 3, ClusterStatus.UNKNOWN])
def test_an_unknown_status_filter_is_refused_before_sending(canned: CannedServer,
                                                            status: Any) -> None:
    with pytest.raises(ValidationError, match="cluster_status must be one of PENDING, DEPLOYING"):
        _client(canned).list_clusters(cluster_status=status)
    assert canned.count() == 0


def test_describe_cluster(canned: CannedServer) -> None:
    canned.json(example("/cluster/{cluster_id}", "cluster-details"))
    cluster = _client(canned).describe_cluster(CID)
    assert (cluster.id, cluster.name, cluster.cluster_status) == (CID, "my-cluster",
                                                                  ClusterStatus.READY)
    assert cluster.extra["k8s_version"] == "1.30.0"
    assert canned.requests[0].path == f"/v1/cluster/{CID}"


@pytest.mark.parametrize("bad", ["", "  ", ".", "..", None])
def test_a_cluster_id_that_is_no_path_segment_is_refused(canned: CannedServer, bad: Any) -> None:
    client = _client(canned)
    for call in (client.describe_cluster, client.get_cluster_resources, client.list_cluster_nodes):
        with pytest.raises(ValidationError, match="cluster id"):
            call(bad)
    assert canned.count() == 0


def test_a_cluster_id_is_one_percent_encoded_segment(canned: CannedServer) -> None:
    canned.json({"resources": [], "total": 0})
    _client(canned).get_cluster_resources("a/b?c")
    assert canned.requests[0].path == "/v1/cluster/a%2Fb%3Fc/resources"


def test_list_cluster_nodes(canned: CannedServer) -> None:
    canned.json(example("/cluster/{cluster_id}/nodes"))
    nodes = _client(canned).list_cluster_nodes(CID)
    assert isinstance(nodes, ClusterNodes) and nodes.cluster_id == CID
    assert nodes.total_nodes == 4 and len(nodes.node_ids) == 4
    assert nodes.node_ids[:2] == nodes.control_plane_node_ids
    assert canned.requests[0].path == f"/v1/cluster/{CID}/nodes"


def test_get_cluster_resources(canned: CannedServer) -> None:
    canned.json(example("/cluster/{cluster_id}/resources"))
    nodes = _client(canned).get_cluster_resources(CID)
    assert isinstance(nodes, NodeResourcesList) and nodes.total == 2
    node1, node2 = nodes
    assert (node1.node_name, node1.available.gpu_count, node1.total("gpu_count")) == ("node1", 1, 1)
    assert (node2.gpu_type, node2.available.cpu_cores, node2.total("cpu_cores")) == (
        "RTX4090", 16, 20)
    assert canned.requests[0].path == f"/v1/cluster/{CID}/resources"


def test_list_workspace_templates(canned: CannedServer) -> None:
    body = example("/management/workspace-templates")
    body["workspace_templates"].append(JUPYTER_TEMPLATE)
    canned.json(body)
    templates = _client(canned).list_workspace_templates()
    assert isinstance(templates, TemplateList) and templates.total == 2  # the server's total
    assert [t.name for t in templates] == ["jupyter-notebook", "vscode-server",
                                           "jupyter-notebook-template"]
    live = templates.by_name("jupyter-notebook-template")
    assert live is not None and live.variables == JUPYTER_TEMPLATE["variables"]  # kept as sent
    assert live.variable_paths == ("notebookPassword", "deploymentNumReplicas",
                                   "global.deploymentName", "global.deploymentNamespace",
                                   "resources.gpuCount", "resources.limits", "extraArgs")
    assert canned.requests[0].path == "/v1/management/workspace-templates"


# -- a server without the catalogue, and an unknown cluster --------------------------------------


@pytest.mark.parametrize("body", [BARE_404, ROUTE_404], ids=["bare", "problem"])
@pytest.mark.parametrize("method", list(METHODS))
def test_a_server_without_the_catalogue_is_not_supported(canned: CannedServer, method: str,
                                                         body: Any) -> None:
    canned.reply(Canned(404, json.dumps(body), PROBLEM if body is ROUTE_404 else {}))
    client = _client(canned)
    with pytest.raises(NotSupportedError) as info:
        METHODS[method](client)
    message = str(info.value)
    assert message.startswith(f"this server has no catalogue (GET {PATHS[method][3:]} answered "
                              "404)"), message
    assert "API 1.46" in message and client.base_url in message and "\n" not in message
    assert info.value.status == 404
    # A problem on a route with an id is checked against the list route: it 404s too.
    probed = method in ID_ROUTES and body is ROUTE_404
    assert [urlsplit(r.path).path for r in canned.requests] == (
        [PATHS[method], "/v1/clusters"] if probed else [PATHS[method]])
    assert client.offers_catalogue() is False
    assert canned.count() == len(canned.requests)  # cached: no further request


@pytest.mark.parametrize("method", ID_ROUTES)
def test_an_unknown_cluster_is_not_found(canned: CannedServer, method: str) -> None:
    canned.reply(Canned(404, json.dumps(CLUSTER_404), PROBLEM))
    with pytest.raises(NotFoundError) as info:
        METHODS[method](_client(canned))
    assert not isinstance(info.value, NotSupportedError)
    assert info.value.title == "Cluster Not Found" and "\n" not in str(info.value)
    assert canned.count() == 1  # the title names the cluster: no need to ask the list route


@pytest.mark.parametrize("method", ID_ROUTES)
def test_a_404_of_few_words_is_not_found_when_the_list_route_answers(canned: CannedServer,
                                                                     method: str) -> None:
    canned.reply(Canned(404, json.dumps(ROUTE_404), PROBLEM))
    canned.json({"clusters": [], "total": 0})
    client = _client(canned)
    with pytest.raises(NotFoundError) as info:
        METHODS[method](client)
    assert not isinstance(info.value, NotSupportedError)
    assert [urlsplit(r.path).path for r in canned.requests] == [PATHS[method], "/v1/clusters"]
    canned.replies[:] = [Canned(404, json.dumps(ROUTE_404), PROBLEM)]
    with pytest.raises(NotFoundError):  # the catalogue is known now: no second look
        METHODS[method](client)
    assert canned.count() == 3 and client.offers_catalogue() is True


def test_a_failing_look_at_the_list_route_keeps_the_404(canned: CannedServer) -> None:
    canned.reply(Canned(404, json.dumps(ROUTE_404), PROBLEM), Canned(500, "down"))
    with pytest.raises(NotFoundError) as info:
        _client(canned).describe_cluster(CID)
    assert not isinstance(info.value, NotSupportedError)


def test_other_errors_stay_typed(canned: CannedServer) -> None:
    canned.reply(Canned(500, json.dumps({"detail": {"title": "Internal Server Error",
                                                    "status": 500, "detail": "boom"}}), PROBLEM))
    with pytest.raises(ServerError, match="boom"):
        _client(canned).list_workspace_templates()


def test_offers_catalogue_asks_once(canned: CannedServer) -> None:
    canned.json(example("/clusters", "success"))
    client = _client(canned)
    assert client.offers_catalogue() is True and client.offers_catalogue() is True
    assert canned.count() == 1


def test_a_token_echoed_in_a_404_is_not_shown(canned: CannedServer) -> None:
    token = "tok-" + "s3cr3t" * 4
    echoed = {"detail": {"title": "Not Found", "status": 404, "detail": f"bearer {token}"}}
    canned.reply(Canned(404, json.dumps(echoed), PROBLEM))
    with pytest.raises(NotSupportedError) as info:
        _client(canned, token=token).list_clusters()
    shown = [str(info.value), info.value.detail or "", info.value.title or ""]
    assert not any(token in text for text in shown) and "[redacted]" in info.value.detail


# -- tolerant decoding ---------------------------------------------------------------------------


def test_odd_cluster_fields_are_none(canned: CannedServer) -> None:
    canned.json({"clusters": [{"id": CID, "name": 7, "cluster_status": "exploding",
                               "cluster_type": None, "costs_per_hour": "cheap",
                               "current_costs": float("inf"), "workspace_deployments": "x",
                               "created_at": "yesterday", "worker_node_ids": [1, "n"]},
                              {"name": "only-a-name"}],
                 "total": "many"})
    odd, bare = _client(canned).list_clusters()
    assert (odd.name, odd.cluster_status, odd.cluster_type) == ("7", ClusterStatus.UNKNOWN, None)
    assert (odd.costs_per_hour, odd.current_costs, odd.workspace_count) == (None, None, 0)
    assert (odd.created_at, odd.worker_node_ids) == (None, ("n",))
    assert (bare.id, bare.cluster_status) == ("", ClusterStatus.UNKNOWN)


def test_odd_resources_and_templates_are_none(canned: CannedServer) -> None:
    canned.json({"resources": [{"node_id": "n1", "available": "lots", "occupied": None},
                               {"node_name": "n2", "available": {"gpu_count": "2",
                                                                 "cpu_cores": 4.0}}]})
    first, second = _client(canned).get_cluster_resources(CID)
    assert (first.label, first.available.gpu_count, first.total("gpu_count")) == ("n1", None, None)
    assert (second.label, second.available.gpu_count, second.available.cpu_cores) == ("n2", None, 4)
    canned.replies[:] = []
    canned.json({"workspace_templates": [{"name": "t", "variables": ["not", "an", "object"],
                                          "description": 5}]})
    (template,) = _client(canned).list_workspace_templates()
    assert (template.variables, template.description, template.variable_paths) == ({}, "5", ())


@pytest.mark.parametrize(
    ("method", "body", "words"),
    [
        ("list_clusters", {"clusters": [{"name": "a"}, 5]}, "cluster 1 of the answer"),
        ("list_clusters", {"clusters": [{"cluster_status": "READY"}]}, "neither 'id' nor 'name'"),
        ("list_clusters", {"items": []}, "expected a list of cluster under 'clusters'"),
        ("list_clusters", {"clusters": {"a": {}}}, "expected a list of cluster under"),
        ("get_cluster_resources", {"resources": ["node"]}, "node resources 0 of the answer"),
        ("list_workspace_templates", {"workspace_templates": [{"description": "x"}]},
         "has no 'name'"),
        ("describe_cluster", {"cluster": "my-cluster"}, "neither 'id' nor 'name'"),
        ("describe_cluster", ["x"], "expected a cluster object, got list"),
        ("list_cluster_nodes", "nodes", "expected a cluster nodes object, got str"),
    ],
)
def test_a_broken_answer_is_one_invalid_response_line(canned: CannedServer, method: str,
                                                      body: Any, words: str) -> None:
    canned.json(body)
    with pytest.raises(InvalidResponseError) as info:
        METHODS[method](_client(canned))
    message = str(info.value)
    assert words in message and f"(GET {PATHS[method]})" in message and "\n" not in message


def test_an_answer_that_is_not_json_is_invalid(canned: CannedServer) -> None:
    canned.reply(Canned(200, "<html>catalogue</html>", {"Content-Type": "text/html"}))
    with pytest.raises(InvalidResponseError, match="not JSON"):
        _client(canned).list_clusters()


# -- frames ----------------------------------------------------------------------------------------


def test_frames_of_empty_lists_have_the_columns_and_dtypes(canned: CannedServer) -> None:
    canned.json(example("/clusters", "empty"))
    client = _client(canned)
    frames = [(client.list_clusters().to_dataframe(), CLUSTER_DTYPES)]
    canned.replies[:] = []
    canned.json({"resources": [], "total": 0})
    frames.append((client.get_cluster_resources(CID).to_dataframe(), NODE_DTYPES))
    canned.replies[:] = []
    canned.json({"workspace_templates": []})
    frames.append((client.list_workspace_templates().to_dataframe(), TEMPLATE_DTYPES))
    for frame, dtypes in frames:
        assert frame.empty and list(frame.columns) == list(dtypes)
        assert _dtypes(frame) == dtypes and frame.attrs["total"] == 0


def test_the_clusters_frame(canned: CannedServer) -> None:
    body = example("/clusters", "success")
    body["clusters"][1]["cluster_status"] = "MELTING"
    body["clusters"][0]["workspace_deployments"] = [{"workspace_id": "w1"}, {"workspace_id": "w2"}]
    canned.json(body)
    clusters = _client(canned).list_clusters()
    frame = clusters.to_dataframe()
    assert list(frame.columns) == list(CLUSTER_COLUMNS) and _dtypes(frame) == CLUSTER_DTYPES
    assert "UNKNOWN" in frame["cluster_status"].cat.categories
    assert list(frame["cluster_status"]) == ["READY", "UNKNOWN"]
    assert list(frame["name"]) == ["my-cluster", "my-cluster-2"]
    assert list(frame["costs_per_hour"]) == [1.0, 2.0]
    assert list(frame["workspaces"]) == [2, 0]
    assert frame["gpus_free"].isna().all() and frame["gpu_type"].isna().all()  # not known yet
    assert frame.attrs["total"] == 2

    nodes = [NodeResources.from_api(n) for n in example("/cluster/{cluster_id}/resources")
             ["resources"]]
    with_gpus = clusters.to_dataframe({CID: nodes})
    assert _dtypes(with_gpus) == CLUSTER_DTYPES
    assert with_gpus.loc[0, "gpu_type"] == "A100, RTX4090"
    assert (with_gpus.loc[0, "gpus_free"], with_gpus.loc[0, "gpus_total"]) == (3, 4)
    assert with_gpus.loc[1, ["gpus_free", "gpus_total", "gpu_type"]].isna().all()
    helper = clusters_frame(clusters, {CID: []})  # known, but no nodes: no GPUs
    assert pd.isna(helper.loc[0, "gpus_free"]) and pd.isna(helper.loc[0, "gpu_type"])


def test_the_nodes_frame(canned: CannedServer) -> None:
    body = example("/cluster/{cluster_id}/resources")
    body["resources"].append({"node_id": "n3", "available": {"gpu_count": 2**70}})
    canned.json(body)
    frame = _client(canned).get_cluster_resources(CID).to_dataframe()
    assert list(frame.columns) == list(NODE_COLUMNS) and _dtypes(frame) == NODE_DTYPES
    assert list(frame["node_name"].fillna("-")) == ["node1", "node2", "-"]
    node2 = frame.iloc[1]
    assert (node2["gpus_free"], node2["gpus_total"], node2["cpu_free"], node2["cpu_total"]) == (
        2, 3, 16, 20)
    assert (node2["memory_free_gb"], node2["memory_total_gb"]) == (64, 72)
    assert (node2["storage_free_gb"], node2["storage_total_gb"]) == (1000, 1100)
    assert frame.iloc[1]["gpu_type"] == "RTX4090"
    assert frame.iloc[2].drop(["node_id"]).isna().all()  # an int64-overflowing count is <NA>


def test_the_templates_frame(canned: CannedServer) -> None:
    canned.json({"workspace_templates": [JUPYTER_TEMPLATE, {"name": "bare", "variables": {}}],
                 "total": 2})
    frame = _client(canned).list_workspace_templates().to_dataframe()
    assert list(frame.columns) == list(TEMPLATE_COLUMNS) and _dtypes(frame) == TEMPLATE_DTYPES
    assert frame.loc[0, "variables"] == ("notebookPassword, deploymentNumReplicas, "
                                         "global.deploymentName, global.deploymentNamespace, "
                                         "resources.gpuCount, resources.limits, extraArgs")
    assert pd.isna(frame.loc[1, "variables"]) and pd.isna(frame.loc[1, "description"])


# -- every call is bounded by the deadline --------------------------------------------------------


class RefusingDrippingServer(DrippingServer):
    """A ``DrippingServer`` that, with ``refuse_ids``, answers a route with a cluster id at once
    with a 404 problem (on the same connection, which stays open for the next request)."""

    def __init__(self, phase: str, refuse_ids: bool = False) -> None:
        self.refuse_ids = refuse_ids
        super().__init__(phase)

    def handle(self, conn: socket.socket) -> None:
        while not self.stopped.is_set():
            request = conn.recv(65536)
            if not request:
                return
            if self.refuse_ids and b" /v1/cluster/" in request:
                body = json.dumps(ROUTE_404).encode()
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/problem+json"
                             b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                continue
            self.drip(conn)


@pytest.mark.parametrize("method", list(METHODS))
def test_a_dripping_server_cannot_hold_a_call_past_its_deadline(dripping: DrippingServer,
                                                               method: str) -> None:
    client = _client(dripping, timeout=1.0, deadline=1.5)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError) as info:
        METHODS[method](client)
    elapsed = time.monotonic() - started
    assert elapsed <= client.deadline + SLACK, f"{method} took {elapsed:.1f}s"
    assert "\n" not in str(info.value)


def test_the_look_at_the_list_route_shares_the_calls_deadline() -> None:
    server = RefusingDrippingServer("body", refuse_ids=True)
    try:
        client = _client(server, timeout=1.0, deadline=1.5)
        started = time.monotonic()
        with pytest.raises(ExalsiusError):
            client.describe_cluster(CID)
        assert time.monotonic() - started <= client.deadline + SLACK
    finally:
        server.close()
