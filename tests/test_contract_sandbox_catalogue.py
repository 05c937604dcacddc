"""Contract: the sandbox's 1.46 catalogue against ``../shared/openapi/catalogue-1.46.0.yaml``.

Two layers, as for the workspace routes in test_contract_sandbox.py:
- every route's 200 and 404 (unknown cluster or node id) answers are validated, status, media type,
  documented headers and body, against the contract's own schemas (JSON Schema 2020-12 with
  format checks: uuid, date-time), after workspaces were created so the nodes hold something;
- schemathesis drives every operation with generated positive and negative requests, all its
  built-in checks on: bad ``cluster_status``/``node_type``/... values must be rejected with a
  documented status (404 for /clusters, which documents no 400; 422 for /nodes), valid ones must
  not be, and the methods the contract does not list get 405 with an Allow header.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support import load_contract, shared_path

SPEC = shared_path("openapi", "catalogue-1.46.0.yaml")

import jsonschema  # noqa: E402
import requests  # noqa: E402
import yaml  # noqa: E402

from exalsius_jupyter.sandbox import DEMO_CLUSTERS, Sandbox  # noqa: E402
from exalsius_jupyter.sandbox.clusters import DEMO_NODES, NODES  # noqa: E402

pytestmark = pytest.mark.contract

H100 = "22222222-2222-4222-8222-222222222222"
CPU = "33333333-3333-4333-8333-333333333333"
UNKNOWN = "99999999-9999-4999-8999-999999999999"
H100_NODE = DEMO_NODES[H100][0].id
DOC = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
MAX_EXAMPLES = 30


def operation(path: str) -> dict[str, Any]:
    """The contract's GET operation of a path template."""
    return DOC["paths"][path]["get"]


def check(resp: requests.Response, path: str) -> Any:
    """Validate status, media type, documented headers and body against the operation; the body."""
    documented = operation(path)["responses"]
    assert str(resp.status_code) in documented, (path, resp.status_code, resp.text)
    answer = documented[str(resp.status_code)]
    media_type = resp.headers["Content-Type"].split(";")[0]
    assert media_type in answer["content"], (path, media_type)
    for header, spec in answer.get("headers", {}).items():
        assert header in resp.headers, (path, header)
        jsonschema.validate(int(resp.headers[header]), spec["schema"])
    body = resp.json()
    schema = answer["content"][media_type]["schema"]
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(body)
    return body


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A 1.46 sandbox with demo workspaces and two new ones holding resources."""
    with Sandbox(api="1.46", pending_seconds=0.05, deleted_ttl=600.0, workspaces=20, seed=3) as sb:
        for name, cluster, gpus in (("held-h100", H100, 1), ("held-cpu", CPU, 0)):
            resp = requests.post(
                f"{sb.url}/workspaces",
                json={
                    "name": name,
                    "cluster_id": cluster,
                    "template": {"name": "jupyter-notebook-template", "variables": {}},
                    "resources": {"gpu_count": gpus, "cpu_cores": 2, "memory_gb": 8},
                },
                timeout=10,
            )
            assert resp.status_code == 201, resp.text
        yield sb


OK_CASES = [
    ("/clusters", "/clusters"),
    ("/clusters", "/clusters?cluster_status=READY"),
    ("/clusters", "/clusters?cluster_status=DEPLOYING"),
    ("/clusters", "/clusters?cluster_status=FAILED"),
    ("/cluster/{cluster_id}", f"/cluster/{H100}"),
    ("/cluster/{cluster_id}", f"/cluster/{CPU.upper()}"),
    ("/cluster/{cluster_id}/nodes", f"/cluster/{H100}/nodes"),
    ("/cluster/{cluster_id}/resources", f"/cluster/{H100}/resources"),
    ("/cluster/{cluster_id}/resources", f"/cluster/{CPU}/resources"),
    ("/nodes", "/nodes"),
    ("/nodes", "/nodes?node_type=SELF_MANAGED&sort_field=HOSTNAME&order_by=DESC"),
    ("/nodes", "/nodes?node_type=CLOUD"),
    ("/node/{node_id}", f"/node/{H100_NODE}"),
    ("/management/workspace-templates", "/management/workspace-templates"),
    ("/management/ssh-keys", "/management/ssh-keys"),
]


@pytest.mark.parametrize(("path", "url"), OK_CASES, ids=[url for _, url in OK_CASES])
def test_200_answers_conform(sandbox: Sandbox, path: str, url: str) -> None:
    """Every catalogue route answers 200 with a body, media type and headers of the contract."""
    resp = requests.get(sandbox.url + url, timeout=10)
    assert resp.status_code == 200, resp.text
    body = check(resp, path)
    assert body  # a non-empty object


NOT_FOUND = [
    ("/cluster/{cluster_id}", f"/cluster/{UNKNOWN}", "Cluster Not Found"),
    ("/cluster/{cluster_id}", "/cluster/not-a-uuid", "Cluster Not Found"),
    ("/cluster/{cluster_id}/nodes", f"/cluster/{UNKNOWN}/nodes", "Cluster Not Found"),
    ("/cluster/{cluster_id}/resources", f"/cluster/{UNKNOWN}/resources", "Cluster Not Found"),
    ("/node/{node_id}", f"/node/{UNKNOWN}", "Not Found"),
    ("/node/{node_id}", f"/node/{H100}", "Not Found"),  # a cluster's id is no node's
    ("/clusters", "/clusters?cluster_status=ready", "Not Found"),
]


@pytest.mark.parametrize(("path", "url", "title"), NOT_FOUND, ids=[u for _, u, _ in NOT_FOUND])
def test_404_answers_conform(sandbox: Sandbox, path: str, url: str, title: str) -> None:
    """Unknown ids (and an unknown status filter) are 404 problem+json in the contract's shape."""
    resp = requests.get(sandbox.url + url, timeout=10)
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    detail = check(resp, path)["detail"]
    assert detail["title"] == title
    assert detail["type"] == "https://api.exalsius.ai/errors/not-found"
    assert detail["instance"] == url.split("?")[0]


def test_nodes_bad_query_is_422(sandbox: Sandbox) -> None:
    """/nodes documents 422 for a value outside its enums."""
    resp = requests.get(f"{sandbox.url}/nodes?sort_field=NAME", timeout=10)
    assert resp.status_code == 422
    assert "sort_field" in check(resp, "/nodes")["detail"]["detail"]


def test_every_node_is_a_deployed_self_managed_node(sandbox: Sandbox) -> None:
    """exls reads self-managed nodes in status DEPLOYED: every node of a READY cluster is one."""
    body = check(requests.get(f"{sandbox.url}/nodes", timeout=10), "/nodes")
    assert {n["id"] for n in body["nodes"]} == set(NODES)
    ready = {n["id"] for n in body["nodes"] if n["node_status"] == "DEPLOYED"}
    of_ready = {node.id for cid in DEMO_CLUSTERS for node in DEMO_NODES[cid]}
    assert ready == of_ready
    assert all(n["node_type"] == "SELF_MANAGED" for n in body["nodes"])
    keys = requests.get(f"{sandbox.url}/management/ssh-keys", timeout=10)
    keys = check(keys, "/management/ssh-keys")
    assert {n["ssh_key_id"] for n in body["nodes"]} <= {k["id"] for k in keys["ssh_keys"]}


# -- generated: schemathesis over every operation -------------------------------------------


def load(mode: str) -> Any:
    """The contract with a bounded, seeded, database-free generation config for one mode."""
    return load_contract(SPEC, mode, MAX_EXAMPLES)


positive = load("positive")
# Two routes take no parameters at all: no request to them can violate the schema, so they
# have no negative cases (schemathesis would skip them); their positive cases run above.
negative = load("negative").exclude(
    path=["/management/workspace-templates", "/management/ssh-keys"])
IDS = {"cluster_id": [H100, CPU], "node_id": [H100_NODE, DEMO_NODES[CPU][0].id]}


def adjust(case: Any) -> None:
    """Point half of the positive id cases at existing clusters and nodes, so 200s are hit too."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    for key, known in IDS.items():
        if case.path_parameters and key in case.path_parameters:
            salt = sum(map(ord, str(case.path_parameters[key])))
            if salt % 2:
                case.path_parameters[key] = known[salt % len(known)]


@positive.parametrize()
def test_positive(case: Any, sandbox: Sandbox) -> None:
    """Schema-valid requests get documented, schema-conforming answers and are not refused."""
    adjust(case)
    case.call_and_validate(base_url=sandbox.url)


@negative.parametrize()
def test_negative(case: Any, sandbox: Sandbox) -> None:
    """Schema-violating requests are rejected with a documented error, in the documented shape."""
    adjust(case)
    case.call_and_validate(base_url=sandbox.url)
