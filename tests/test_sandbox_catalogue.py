"""The sandbox's 1.46 catalogue: clusters, nodes, free resources, templates, and the 1.5.1 404s."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from exalsius_jupyter.sandbox import DEMO_CLUSTERS, Sandbox
from exalsius_jupyter.sandbox.api import route_name
from exalsius_jupyter.sandbox.catalogue import ROUTES, TEMPLATES
from exalsius_jupyter.sandbox.clusters import DEMO_NODES, DEPLOYING_CLUSTERS
from tests.support import wait_until

A100 = "11111111-1111-4111-8111-111111111111"
H100 = "22222222-2222-4222-8222-222222222222"
CPU = "33333333-3333-4333-8333-333333333333"
STAGING = next(iter(DEPLOYING_CLUSTERS))
H100_A, H100_B = (node.id for node in DEMO_NODES[H100])
TIMEOUT = 5.0
CATALOGUE_URLS = [
    "/clusters",
    "/clusters?cluster_status=READY",
    f"/cluster/{H100}",
    f"/cluster/{H100}/nodes",
    f"/cluster/{H100}/resources",
    "/nodes",
    f"/node/{H100_A}",
    "/management/workspace-templates",
    "/management/ssh-keys",
]


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A keep-alive HTTP session."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def live(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A 1.46 sandbox (the catalogue served) whose workspaces are RUNNING at once."""
    return sandbox_factory(api="1.46", pending_seconds=0, deleted_ttl=0.3)


def get(http: requests.Session, sb: Sandbox, url: str) -> Any:
    """GET a catalogue URL that must answer 200; its JSON body."""
    resp = http.get(sb.url + url, timeout=TIMEOUT)
    assert resp.status_code == 200, (url, resp.status_code, resp.text)
    return resp.json()


def create(http: requests.Session, sb: Sandbox, name: str, cluster_id: str = H100,
           template: str = "jupyter-notebook-template", variables: Any = None,
           **resources: Any) -> str:
    """POST a create that must be accepted; the new workspace's id."""
    body = {
        "name": name,
        "cluster_id": cluster_id,
        "template": {"name": template, "variables": {} if variables is None else variables},
        "resources": {"cpu_cores": 4, "memory_gb": 16, "storage_gb": 50, **resources},
    }
    resp = http.post(f"{sb.url}/workspaces", json=body, timeout=TIMEOUT)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["workspace_id"])


def status_of(http: requests.Session, sb: Sandbox, wid: str) -> dict[str, Any]:
    """The 1.46 describe body's workspace."""
    return dict(get(http, sb, f"/workspace/{wid}")["workspace"])


def wait_status(http: requests.Session, sb: Sandbox, wid: str, status: str) -> dict[str, Any]:
    """Wait until the workspace shows `status`; its view."""
    return wait_until(
        lambda: (w := status_of(http, sb, wid))["workspace_status"] == status and w,
        what=f"{wid} {status}",
    )


def free(http: requests.Session, sb: Sandbox, cluster_id: str = H100) -> dict[str, dict[str, int]]:
    """Per node name: its available sizes."""
    items = get(http, sb, f"/cluster/{cluster_id}/resources")["resources"]
    return {item["node_name"]: item["available"] for item in items}


# -- 1.5.1: no catalogue ---------------------------------------------------------------------


@pytest.mark.parametrize("url", CATALOGUE_URLS)
def test_strict_mode_answers_every_catalogue_route_like_an_unknown_route(
    sandbox_factory: Callable[..., Sandbox], http: requests.Session, url: str
) -> None:
    """In 1.5.1 mode a catalogue route is a 404 identical to any unknown route's."""
    sb = sandbox_factory()
    unknown = http.get(f"{sb.url}/no-such-route", timeout=TIMEOUT)
    resp = http.get(sb.url + url, timeout=TIMEOUT)
    assert resp.status_code == unknown.status_code == 404
    assert resp.headers["Content-Type"] == unknown.headers["Content-Type"]
    assert resp.content == unknown.content


def test_catalogue_routes_only_take_get(live: Sandbox, http: requests.Session) -> None:
    """A method the catalogue does not serve is a 405 naming GET."""
    resp = http.post(f"{live.url}/clusters", json={}, timeout=TIMEOUT)
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "GET"


def test_requests_are_counted_per_catalogue_route() -> None:
    """Request accounting names a catalogue request by its route template."""
    assert route_name(f"/v1/cluster/{H100}/resources") == "/cluster/{id}/resources"
    assert route_name(f"/v1/node/{H100_A}") == "/node/{id}"
    assert route_name("/v1/management/ssh-keys") == "/management/ssh-keys"
    assert set(ROUTES) >= {"/clusters", "/nodes", "/management/workspace-templates"}


# -- clusters ------------------------------------------------------------------------------


def test_clusters_keep_the_demo_ids_and_filter_by_status(
    live: Sandbox, http: requests.Session
) -> None:
    """The four demo clusters are READY with their ids; a fifth one is DEPLOYING."""
    every = get(http, live, "/clusters")["clusters"]
    assert [c["id"] for c in every] == [*DEMO_CLUSTERS, STAGING]
    ready = get(http, live, "/clusters?cluster_status=READY")
    assert [c["name"] for c in ready["clusters"]] == [c.name for c in DEMO_CLUSTERS.values()]
    assert ready["total"] == 4
    deploying = get(http, live, "/clusters?cluster_status=DEPLOYING")["clusters"]
    assert [(c["id"], c["cluster_status"]) for c in deploying] == [(STAGING, "DEPLOYING")]
    assert get(http, live, "/clusters?cluster_status=FAILED") == {"clusters": [], "total": 0}
    bad = http.get(f"{live.url}/clusters?cluster_status=ready", timeout=TIMEOUT)
    assert bad.status_code == 404


def test_clusters_have_types_distinct_prices_and_their_nodes(
    live: Sandbox, http: requests.Session
) -> None:
    """Each cluster: a type, its own costs_per_hour, worker nodes as /cluster/{id}/nodes has."""
    clusters = get(http, live, "/clusters?cluster_status=READY")["clusters"]
    prices = [c["costs_per_hour"] for c in clusters]
    assert len(set(prices)) == len(prices) and all(p > 0 for p in prices)
    for c in clusters:
        assert c["cluster_type"] in ("REMOTE", "DOCKER", "CLOUD", "ADOPTED")
        nodes = get(http, live, f"/cluster/{c['id']}/nodes")
        assert nodes["worker_node_ids"] == c["worker_node_ids"]
        assert 1 <= nodes["total_nodes"] == len(c["worker_node_ids"]) <= 3
        node_prices = [
            get(http, live, f"/node/{n}")["price_per_hour"] for n in c["worker_node_ids"]
        ]
        assert c["costs_per_hour"] == pytest.approx(sum(node_prices))


def test_describe_cluster_is_wrapped_and_lists_its_workspaces(
    live: Sandbox, http: requests.Session
) -> None:
    """``GET /cluster/{id}`` is ``{"cluster": {...}}`` with the workspaces deployed on it."""
    wid = create(http, live, "nb", gpu_count=1)
    body = get(http, live, f"/cluster/{H100.upper()}")
    assert list(body) == ["cluster"]
    cluster = body["cluster"]
    assert cluster["id"] == H100 and cluster["name"] == "demo-h100"
    assert cluster["workspace_deployments"] == [{
        "workspace_id": wid, "workspace_name": "nb",
        "workspace_template": "jupyter-notebook-template", "owner": "auth0|sandbox-user",
    }]  # fmt: skip


def test_current_costs_grow_with_the_running_workspaces_age(
    live: Sandbox, http: requests.Session
) -> None:
    """Two hours of half the CPU node (price 1.2/h) cost 1.2; a new workspace adds about nothing."""
    assert get(http, live, f"/cluster/{CPU}")["cluster"]["current_costs"] == 0
    node = DEMO_NODES[CPU][0]
    live.add({
        "name": "old", "cluster_id": CPU, "workspace_status": "RUNNING",
        "created_at": time.time() - 7200,
        "resources": {"gpu_count": 0, "cpu_cores": node.cpu_cores // 2, "memory_gb": 8},
    })  # fmt: skip
    costs = get(http, live, f"/cluster/{CPU}")["cluster"]["current_costs"]
    assert costs == pytest.approx(2 * node.price_per_hour / 2, abs=0.02)
    time.sleep(0.05)
    assert get(http, live, f"/cluster/{CPU}")["cluster"]["current_costs"] >= costs


# -- nodes and free resources ---------------------------------------------------------------


def test_free_resources_drop_on_create_and_come_back_on_stop_and_delete(
    live: Sandbox, http: requests.Session
) -> None:
    """A workspace holds its sizes on the first node where it fits while PENDING or RUNNING."""
    whole = free(http, live)
    assert whole["node-a"]["gpu_count"] == 4 and whole["node-b"]["gpu_count"] == 2
    wid = create(http, live, "nb", gpu_count=3, cpu_cores=8, memory_gb=64, storage_gb=100)
    wait_status(http, live, wid, "RUNNING")
    now = free(http, live)
    assert now["node-a"] == {
        **whole["node-a"],
        "gpu_count": 1,
        "cpu_cores": whole["node-a"]["cpu_cores"] - 8,
        "memory_gb": whole["node-a"]["memory_gb"] - 64,
        "storage_gb": whole["node-a"]["storage_gb"] - 100,
    }
    assert now["node-b"] == whole["node-b"]
    occupied = get(http, live, f"/cluster/{H100}/resources")["resources"][0]["occupied"]
    assert (occupied["gpu_count"], occupied["gpu_type"]) == (3, "H100")

    assert http.post(f"{live.url}/workspace/{wid}/stop", timeout=TIMEOUT).status_code == 200
    assert free(http, live) == whole
    assert http.post(f"{live.url}/workspace/{wid}/start", timeout=TIMEOUT).status_code == 200
    assert free(http, live)["node-a"]["gpu_count"] == 1  # PENDING again: held again
    assert http.delete(f"{live.url}/workspace/{wid}", timeout=TIMEOUT).status_code == 200
    assert free(http, live) == whole


def test_a_create_lands_on_the_next_node_and_fails_when_none_has_room(
    live: Sandbox, http: requests.Session
) -> None:
    """First fit: 4 GPUs fill node-a, 2 go to node-b; a third create fits nowhere and FAILS."""
    first = create(http, live, "big", gpu_count=4)
    second = create(http, live, "small", gpu_count=2)
    for wid in (first, second):
        wait_status(http, live, wid, "RUNNING")
    assert {n: f["gpu_count"] for n, f in free(http, live).items()} == {"node-a": 0, "node-b": 0}
    third = create(http, live, "one-more", gpu_count=1)
    wait_status(http, live, third, "FAILED")
    logs = http.get(f"{live.url}/workspace/{third}/logs", timeout=TIMEOUT).text
    assert "no node of cluster demo-h100 has enough free resources" in logs
    assert {n: f["gpu_count"] for n, f in free(http, live).items()} == {"node-a": 0, "node-b": 0}
    http.post(f"{live.url}/workspace/{second}/stop", timeout=TIMEOUT)
    assert http.post(f"{live.url}/workspace/{third}/start", timeout=TIMEOUT).status_code == 200
    wait_status(http, live, third, "RUNNING")  # room again on node-b
    assert free(http, live)["node-b"]["gpu_count"] == 1


def test_strict_mode_runs_what_fits_no_free_node_as_before(
    sandbox_factory: Callable[..., Sandbox], http: requests.Session
) -> None:
    """1.5.1 shows no capacity, so a full cluster still runs a create that fits the cluster."""
    sb = sandbox_factory(pending_seconds=0)
    ids = [create(http, sb, f"nb-{i}", template="jupyter-notebook",
                  variables={"notebook_port": "8888"}, gpu_count=4) for i in range(3)]  # fmt: skip
    for wid in ids:
        view = wait_until(lambda wid=wid: (sb.get(wid) or {}).get("workspace_status") != "PENDING"
                          and sb.get(wid), what=wid)  # fmt: skip
        assert view["workspace_status"] == "RUNNING"


def test_a_deploying_cluster_refuses_creates(live: Sandbox, http: requests.Session) -> None:
    """The DEPLOYING cluster is listed, its node not yet DEPLOYED; a create on it is a 400."""
    (node_id,) = get(http, live, f"/cluster/{STAGING}")["cluster"]["worker_node_ids"]
    assert get(http, live, f"/node/{node_id}")["node_status"] == "ADDED"
    resp = http.post(f"{live.url}/workspaces", json={
        "name": "nb", "cluster_id": STAGING,
        "template": {"name": "jupyter-notebook-template", "variables": {}},
        "resources": {"gpu_count": 1},
    }, timeout=TIMEOUT)  # fmt: skip
    assert resp.status_code == 400
    assert "is DEPLOYING, not READY" in resp.json()["detail"]["detail"]


def test_nodes_filter_and_sort(live: Sandbox, http: requests.Session) -> None:
    """/nodes: all self-managed; CLOUD or a provider gives none; HOSTNAME DESC sorts."""
    every = get(http, live, "/nodes")
    assert every["total"] == len(every["nodes"]) == sum(map(len, DEMO_NODES.values()))
    assert get(http, live, "/nodes?node_type=CLOUD")["nodes"] == []
    assert get(http, live, "/nodes?provider=aws")["nodes"] == []
    desc = get(http, live, "/nodes?sort_field=HOSTNAME&order_by=DESC")["nodes"]
    names = [n["hostname"] for n in desc]
    assert names == sorted(names, reverse=True)
    h100 = get(http, live, f"/node/{H100_B}")
    assert (h100["hardware"]["gpu_count"], h100["hardware"]["gpu_type"]) == (2, "H100")
    assert http.get(f"{live.url}/node/{H100}", timeout=TIMEOUT).status_code == 404


def test_placements_survive_a_restart(tmp_path: Path, http: requests.Session,
                                      sandbox_factory: Callable[..., Sandbox]) -> None:
    """The node a workspace landed on is in the state file; free resources match after restart."""
    state = tmp_path / "state.json"
    sb = sandbox_factory(api="1.46", pending_seconds=0, state=state)
    wid = create(http, sb, "nb", cluster_id=H100, gpu_count=2)
    wait_status(http, sb, wid, "RUNNING")
    before = free(http, sb)
    sb.stop()
    again = sandbox_factory(api="1.46", pending_seconds=0, state=state)
    assert free(http, again) == before
    assert before["node-a"]["gpu_count"] == 2


# -- templates --------------------------------------------------------------------------------


def test_templates_are_live_like_with_nested_typed_variables(
    live: Sandbox, http: requests.Session
) -> None:
    """The live templates' names, and nested objects and numbers in their variables."""
    resp = http.get(f"{live.url}/management/workspace-templates", timeout=TIMEOUT)
    body = resp.json()
    assert resp.headers["X-Total-Count"] == str(body["total"]) == "4"
    by_name = {t["name"]: t["variables"] for t in body["workspace_templates"]}
    assert list(by_name) == [
        "jupyter-notebook-template", "marimo-workspace-template",
        "vscode-devcontainer-template", "llm-d-model-template-0-1-1",
    ]  # fmt: skip
    jupyter = by_name["jupyter-notebook-template"]
    assert "notebookPassword" in jupyter and jupyter["deploymentNumReplicas"] == 1
    assert set(jupyter["global"]) == {"deploymentName", "deploymentNamespace"}
    assert isinstance(jupyter["resources"], dict)
    assert "tokenPassword" in by_name["marimo-workspace-template"]
    assert {"sshPassword", "sshPublicKey"} <= set(by_name["vscode-devcontainer-template"])
    llm = by_name["llm-d-model-template-0-1-1"]
    assert {"huggingfaceToken", "inferenceApiKey"} <= set(llm)
    assert llm["ms"]["modelArtifacts"]["uri"].startswith("hf://")
    assert llm["ms"]["decode"]["parallelism"]["tensor"] == 1
    assert get(http, live, "/management/ssh-keys")["total"] == 1


ACCESS = {
    "jupyter-notebook-template": ("HTTP", "http://127.0.0.1:", "/lab"),
    "marimo-workspace-template": ("HTTP", "http://127.0.0.1:", "/"),
    "vscode-devcontainer-template": ("SSH", "ssh -p ", " dev@127.0.0.1"),
    "llm-d-model-template-0-1-1": ("HTTP", "http://127.0.0.1:", "/v1/models"),
}


@pytest.mark.parametrize("template", [t["name"] for t in TEMPLATES])
def test_every_listed_template_can_be_created_and_runs(
    sandbox_factory: Callable[..., Sandbox], http: requests.Session, template: str
) -> None:
    """A create with a listed template's own variables (set as a user would) reaches RUNNING."""
    sb = sandbox_factory(api="1.46", pending_seconds=0.05)
    listed = get(http, sb, "/management/workspace-templates")["workspace_templates"]
    variables = next(t["variables"] for t in listed if t["name"] == template)
    variables["global"]["deploymentName"] = "mine"
    for secret in ("notebookPassword", "tokenPassword", "sshPassword", "huggingfaceToken"):
        if secret in variables:
            variables[secret] = "s3cret-value"
    wid = create(http, sb, "mine", cluster_id=A100, template=template, variables=variables,
                 gpu_count=1)  # fmt: skip
    workspace = wait_status(http, sb, wid, "RUNNING")
    assert workspace["template"]["variables"] == variables  # kept as sent: nested, typed
    protocol, start, end = ACCESS[template]
    (access,) = workspace["access_information"]
    assert access["access_protocol"] == protocol
    line = access["access_description"]
    assert start in line and line.endswith(end), line


def test_strict_mode_still_refuses_the_live_templates_typed_variables(
    sandbox_factory: Callable[..., Sandbox], http: requests.Session
) -> None:
    """1.5.1's template.variables are strings: the live Jupyter template's variables are a 400."""
    sb = sandbox_factory()
    variables = next(t["variables"] for t in TEMPLATES if t["name"] == "jupyter-notebook-template")
    resp = http.post(f"{sb.url}/workspaces", json={
        "name": "nb", "cluster_id": A100,
        "template": {"name": "jupyter-notebook-template", "variables": variables},
        "resources": {"gpu_count": 1},
    }, timeout=TIMEOUT)  # fmt: skip
    assert resp.status_code == 400
    assert "must be a string" in resp.json()["detail"]["detail"]
