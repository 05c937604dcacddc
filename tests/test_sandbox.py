"""The embedded sandbox over real HTTP on 127.0.0.1: endpoints, errors, lifecycle, faults, CLI."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest
import requests

from exalsius_jupyter.sandbox import DEMO_CLUSTERS, Sandbox
from exalsius_jupyter.sandbox.accounting import MAX_RECORDS, RequestLog, RequestRecord
from exalsius_jupyter.sandbox.api import MAX_BODY, route_name
from exalsius_jupyter.sandbox.persist import load_state
from exalsius_jupyter.sandbox.validation import InvalidBody, is_date_time, parse_json

REPO = Path(__file__).resolve().parents[1]
A100 = "11111111-1111-4111-8111-111111111111"
H100 = "22222222-2222-4222-8222-222222222222"
CPU = "33333333-3333-4333-8333-333333333333"
UNKNOWN_CLUSTER = "99999999-9999-4999-8999-999999999999"
ERRORS = "https://api.exalsius.ai/errors/"
TIMEOUT = 5.0
WORKSPACE_KEYS_151 = {
    "id", "name", "cluster_id", "workspace_status", "template", "owner", "description",
    "resources", "created_at", "to_be_deleted_at",
}  # fmt: skip
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


# -- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def start(sandbox_factory: Callable[..., Sandbox]) -> Callable[..., Sandbox]:
    """A factory of started sandboxes; every one is stopped after the test."""
    return sandbox_factory


@pytest.fixture
def sb(start: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox whose workspaces are RUNNING at once and DELETED ones vanish after 0.3 s."""
    return start(pending_seconds=0, deleted_ttl=0.3)


@pytest.fixture
def slow(start: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox whose workspaces stay PENDING for the whole test."""
    return start(pending_seconds=600)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A keep-alive HTTP session."""
    with requests.Session() as session:
        yield session


def body(name: str = "nb", cluster_id: str = A100, template: str = "jupyter-notebook", **res: Any):
    """A valid create body."""
    resources = {"gpu_count": 1, "cpu_cores": 4, "memory_gb": 16, "storage_gb": 50, **res}
    return {
        "name": name,
        "cluster_id": cluster_id,
        "template": {"name": template, "variables": {"notebook_port": "8888"}},
        "resources": resources,
    }


def create(http: requests.Session, sb: Sandbox, **kwargs: Any) -> str:
    """Create a workspace and return its id."""
    r = http.post(f"{sb.url}/workspaces", json=body(**kwargs), timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    return r.json()["workspace_id"]


def describe(http: requests.Session, sb: Sandbox, wid: str) -> dict[str, Any]:
    """Describe a workspace that must exist."""
    r = http.get(f"{sb.url}/workspace/{wid}", timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def wait_for(probe: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll until probe() is truthy; fail after the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def wait_status(http: requests.Session, sb: Sandbox, wid: str, status: str) -> dict[str, Any]:
    """Poll describe until the workspace has `status`."""
    return wait_for(
        lambda: (w := describe(http, sb, wid))["workspace_status"] == status and w,
        f"{wid} to become {status}",
    )


def assert_problem(r: requests.Response, status: int, kind: str, title: str | None = None) -> str:
    """The response is the API's problem+json; returns its detail text."""
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    problem = r.json()
    assert set(problem) == {"detail"}
    inner = problem["detail"]
    assert set(inner) == {"type", "title", "status", "detail", "instance"}
    assert inner["type"] == ERRORS + kind
    assert inner["status"] == status
    if title is not None:
        assert inner["title"] == title
    assert isinstance(inner["detail"], str) and inner["detail"]
    return inner["detail"]


# -- endpoints ------------------------------------------------------------------------------


def test_empty_list(sb: Sandbox, http: requests.Session) -> None:
    r = http.get(f"{sb.url}/workspaces", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["X-Total-Count"] == "0"
    assert r.json() == {"workspaces": [], "total": 0}
    assert sb.url.startswith("http://127.0.0.1:") and sb.url.endswith("/v1")


def test_create_then_describe_and_list(slow: Sandbox, http: requests.Session) -> None:
    r = http.post(f"{slow.url}/workspaces", json={**body(), "description": "mine"}, timeout=TIMEOUT)
    assert r.status_code == 201
    assert r.headers["Content-Type"] == "application/json"
    assert set(r.json()) == {"workspace_id"}
    wid = r.json()["workspace_id"]
    assert uuid.UUID(wid).version == 4 and str(uuid.UUID(wid)) == wid

    w = describe(http, slow, wid)
    assert set(w) == WORKSPACE_KEYS_151  # no access_information while PENDING
    assert w["id"] == wid and w["name"] == "nb" and w["cluster_id"] == A100
    assert w["workspace_status"] == "PENDING"
    assert w["description"] == "mine"
    assert w["template"] == {"name": "jupyter-notebook", "variables": {"notebook_port": "8888"}}
    assert w["resources"] == {
        "gpu_count": 1, "cpu_cores": 4, "memory_gb": 16, "storage_gb": 50,
        "gpu_vendor": "NVIDIA", "gpu_type": "A100",
    }  # fmt: skip
    assert ISO_Z.fullmatch(w["created_at"]) and ISO_Z.fullmatch(w["to_be_deleted_at"])
    created = datetime.fromisoformat(w["created_at"].replace("Z", "+00:00"))
    deleted = datetime.fromisoformat(w["to_be_deleted_at"].replace("Z", "+00:00"))
    assert deleted - created == timedelta(days=7)
    assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=5)

    listed = http.get(f"{slow.url}/workspaces", timeout=TIMEOUT)
    assert listed.json() == {"workspaces": [w], "total": 1}
    assert listed.headers["X-Total-Count"] == "1"


def test_list_filters_by_cluster(slow: Sandbox, http: requests.Session) -> None:
    a = create(http, slow, name="a", cluster_id=A100)
    h = create(http, slow, name="h", cluster_id=H100)
    for cluster_id, expected in ((A100, [a]), (H100.upper(), [h]), (CPU, [])):
        r = http.get(f"{slow.url}/workspaces", params={"cluster_id": cluster_id}, timeout=TIMEOUT)
        assert [w["id"] for w in r.json()["workspaces"]] == expected
        assert r.json()["total"] == len(expected) == int(r.headers["X-Total-Count"])
    unknown = http.get(f"{slow.url}/workspaces", params={"cluster_id": str(uuid.uuid4())})
    assert unknown.status_code == 200 and unknown.json()["total"] == 0
    assert http.get(f"{slow.url}/workspaces", timeout=TIMEOUT).json()["total"] == 2


@pytest.mark.parametrize("value", ["abc", "", "11111111111141118111111111111111"])
def test_list_with_malformed_cluster_id_is_404(sb: Sandbox, http: requests.Session, value: str):
    r = http.get(f"{sb.url}/workspaces", params={"cluster_id": value}, timeout=TIMEOUT)
    assert_problem(r, 404, "not-found", "Cluster Not Found")


def test_not_found_problem_exact_shape(sb: Sandbox, http: requests.Session) -> None:
    wid = str(uuid.uuid4())
    r = http.get(f"{sb.url}/workspace/{wid}", timeout=TIMEOUT)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json() == {
        "detail": {
            "type": "https://api.exalsius.ai/errors/not-found",
            "title": "Workspace Not Found",
            "status": 404,
            "detail": f"The workspace with ID {wid} was not found.",
            "instance": f"/workspace/{wid}",
        }
    }


@pytest.mark.parametrize("wid", [str(uuid.uuid4()), "not-a-uuid", "1234"])
@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("DELETE", ""), ("POST", "/stop"), ("POST", "/start"), ("GET", "/logs")],
)
def test_unknown_or_malformed_id_is_404(
    sb: Sandbox, http: requests.Session, method: str, suffix: str, wid: str
) -> None:
    r = http.request(method, f"{sb.url}/workspace/{wid}{suffix}", timeout=TIMEOUT)
    detail = assert_problem(r, 404, "not-found", "Workspace Not Found")
    assert wid in detail
    assert r.json()["detail"]["instance"] == f"/workspace/{wid}{suffix}"


@pytest.mark.parametrize("path", ["/v1/nope", "/v2/workspaces", "/v1/workspaces/", "/", "/v1"])
def test_unknown_route_is_plain_404(sb: Sandbox, http: requests.Session, path: str) -> None:
    base = sb.url.removesuffix("/v1")
    r = http.get(base + path, timeout=TIMEOUT)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"detail": "Not Found"}


def test_extras_off_hides_start_and_logs(start: Callable[..., Sandbox]) -> None:
    sb = start(pending_seconds=0, extras=False)
    with requests.Session() as http:
        wid = create(http, sb)
        for method, suffix in (("POST", "start"), ("GET", "logs")):
            r = http.request(method, f"{sb.url}/workspace/{wid}/{suffix}", timeout=TIMEOUT)
            assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
        assert http.post(f"{sb.url}/workspace/{wid}/stop", timeout=TIMEOUT).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/workspaces", "GET, POST"),
        ("DELETE", "/workspaces", "GET, POST"),
        ("POST", "/workspace/{id}", "GET, DELETE"),
        ("GET", "/workspace/{id}/stop", "POST"),
        ("GET", "/workspace/{id}/start", "POST"),
        ("POST", "/workspace/{id}/logs", "GET"),
        ("OPTIONS", "/workspaces", "GET, POST"),
    ],
)
def test_wrong_method_is_405_with_allow(
    sb: Sandbox, http: requests.Session, method: str, path: str, allow: str
) -> None:
    url = sb.url + path.replace("{id}", str(uuid.uuid4()))
    r = http.request(method, url, timeout=TIMEOUT)
    assert r.status_code == 405
    assert r.headers["Allow"] == allow
    assert r.json() == {"detail": "Method Not Allowed"}


# -- lifecycle ------------------------------------------------------------------------------


def test_pending_becomes_running_with_access(start: Callable[..., Sandbox]) -> None:
    sb = start(pending_seconds=0.2)
    with requests.Session() as http:
        nb = create(http, sb, name="nb")
        ssh = create(http, sb, name="ssh", template="ssh-pod")
        first = describe(http, sb, nb)
        if first["workspace_status"] == "PENDING":
            assert "access_information" not in first
        w = wait_status(http, sb, nb, "RUNNING")
        assert re.fullmatch(r"http://127\.0\.0\.1:3\d{4}/lab", w["access_information"])
        assert describe(http, sb, nb)["access_information"] == w["access_information"]
        s = wait_status(http, sb, ssh, "RUNNING")
        assert re.fullmatch(r"ssh -p 3\d{4} dev@127\.0\.0\.1", s["access_information"])


def test_list_reflects_time_based_transitions_without_mutations(
    start: Callable[..., Sandbox],
) -> None:
    sb = start(pending_seconds=0.3, deleted_ttl=0.3)
    with requests.Session() as http:
        wid = create(http, sb)

        def listed_status() -> str | None:
            items = http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).json()["workspaces"]
            return items[0]["workspace_status"] if items else None

        assert listed_status() in ("PENDING", "RUNNING")  # the list body is cached now
        wait_for(lambda: listed_status() == "RUNNING", "the cached list to show RUNNING")
        assert http.delete(f"{sb.url}/workspace/{wid}", timeout=TIMEOUT).status_code == 200
        assert listed_status() == "DELETED"
        wait_for(lambda: listed_status() is None, "the DELETED workspace to leave the list")


@pytest.mark.parametrize(
    ("cluster_id", "resources"),
    [
        (A100, {"gpu_count": 9}),
        (H100, {"gpu_count": 5}),
        (A100, {"gpu_count": 1, "gpu_type": "H100"}),
        (CPU, {"gpu_count": 1}),
        (CPU, {"gpu_count": 0, "gpu_type": "A100"}),
    ],
)
def test_request_the_cluster_cannot_satisfy_fails(
    sb: Sandbox, http: requests.Session, cluster_id: str, resources: dict[str, Any]
) -> None:
    wid = create(http, sb, cluster_id=cluster_id, **resources)
    w = wait_status(http, sb, wid, "FAILED")
    assert "access_information" not in w


@pytest.mark.parametrize(
    ("cluster_id", "resources"),
    [
        (A100, {"gpu_count": 8, "gpu_type": "a100"}),
        (H100, {"gpu_count": 4, "gpu_type": ""}),
        (CPU, {"gpu_count": 0}),
    ],
)
def test_request_within_capacity_runs(
    sb: Sandbox, http: requests.Session, cluster_id: str, resources: dict[str, Any]
) -> None:
    wid = create(http, sb, cluster_id=cluster_id, **resources)
    wait_status(http, sb, wid, "RUNNING")


def test_demo_clusters() -> None:
    names = {c.name: (cid, c.gpu_type, c.max_gpus) for cid, c in DEMO_CLUSTERS.items()}
    assert names["demo-a100"] == (A100, "A100", 8)
    assert names["demo-h100"] == (H100, "H100", 4)
    assert names["demo-cpu"] == (CPU, None, 0)
    assert all(uuid.UUID(cid).version == 4 for cid in DEMO_CLUSTERS)


def test_stop_and_start(sb: Sandbox, http: requests.Session) -> None:
    wid = create(http, sb)
    wait_status(http, sb, wid, "RUNNING")
    r = http.post(f"{sb.url}/workspace/{wid}/stop", timeout=TIMEOUT)
    assert r.status_code == 200 and r.json() == {"workspace_id": wid}
    w = describe(http, sb, wid)
    assert w["workspace_status"] == "STOPPED" and "access_information" not in w
    assert http.post(f"{sb.url}/workspace/{wid}/stop", timeout=TIMEOUT).status_code == 200
    assert describe(http, sb, wid)["workspace_status"] == "STOPPED"

    r = http.post(f"{sb.url}/workspace/{wid}/start", timeout=TIMEOUT)
    assert r.status_code == 200 and r.json() == {"workspace_id": wid}
    w = wait_status(http, sb, wid, "RUNNING")
    assert w["access_information"].startswith("http://127.0.0.1:")
    assert http.post(f"{sb.url}/workspace/{wid}/start", timeout=TIMEOUT).status_code == 200
    assert describe(http, sb, wid)["workspace_status"] == "RUNNING"


def test_start_and_stop_while_pending(slow: Sandbox, http: requests.Session) -> None:
    wid = create(http, slow)
    assert http.post(f"{slow.url}/workspace/{wid}/start", timeout=TIMEOUT).status_code == 200
    assert describe(http, slow, wid)["workspace_status"] == "PENDING"
    assert http.post(f"{slow.url}/workspace/{wid}/stop", timeout=TIMEOUT).status_code == 200
    assert describe(http, slow, wid)["workspace_status"] == "STOPPED"
    assert http.post(f"{slow.url}/workspace/{wid}/start", timeout=TIMEOUT).status_code == 200
    assert describe(http, slow, wid)["workspace_status"] == "PENDING"


def test_failed_restarts_and_fails_again(sb: Sandbox, http: requests.Session) -> None:
    wid = create(http, sb, gpu_count=64)
    wait_status(http, sb, wid, "FAILED")
    assert http.post(f"{sb.url}/workspace/{wid}/stop", timeout=TIMEOUT).status_code == 200
    assert describe(http, sb, wid)["workspace_status"] == "FAILED"
    assert http.post(f"{sb.url}/workspace/{wid}/start", timeout=TIMEOUT).status_code == 200
    wait_status(http, sb, wid, "FAILED")


def test_delete_then_gone_after_ttl(sb: Sandbox, http: requests.Session) -> None:
    wid = create(http, sb)
    wait_status(http, sb, wid, "RUNNING")
    r = http.delete(f"{sb.url}/workspace/{wid}", timeout=TIMEOUT)
    assert r.status_code == 200 and r.json() == {"workspace_id": wid}
    w = describe(http, sb, wid)
    assert w["workspace_status"] == "DELETED" and "access_information" not in w
    listed = http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).json()
    assert [x["workspace_status"] for x in listed["workspaces"]] == ["DELETED"]
    assert http.delete(f"{sb.url}/workspace/{wid}", timeout=TIMEOUT).status_code == 200
    assert http.post(f"{sb.url}/workspace/{wid}/stop", timeout=TIMEOUT).status_code == 200
    r = http.post(f"{sb.url}/workspace/{wid}/start", timeout=TIMEOUT)
    assert "deleted" in assert_problem(r, 404, "not-found")
    assert describe(http, sb, wid)["workspace_status"] == "DELETED"

    wait_for(
        lambda: http.get(f"{sb.url}/workspace/{wid}", timeout=TIMEOUT).status_code == 404,
        "the DELETED workspace to vanish",
    )
    assert http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).json()["total"] == 0
    assert_problem(http.delete(f"{sb.url}/workspace/{wid}", timeout=TIMEOUT), 404, "not-found")


def test_duplicate_name_is_409(slow: Sandbox, http: requests.Session) -> None:
    first = create(http, slow, name="dup")
    r = http.post(f"{slow.url}/workspaces", json=body(name="dup"), timeout=TIMEOUT)
    detail = assert_problem(r, 409, "conflict", "Conflict")
    assert "dup" in detail and first in detail
    assert r.json()["detail"]["instance"] == "/workspaces"
    create(http, slow, name="dup", cluster_id=H100)  # another cluster: fine
    assert http.delete(f"{slow.url}/workspace/{first}", timeout=TIMEOUT).status_code == 200
    create(http, slow, name="dup")  # the DELETED one no longer holds the name


def test_logs_are_ndjson_lifecycle_lines(sb: Sandbox, http: requests.Session) -> None:
    wid = create(http, sb, name="logged")
    wait_status(http, sb, wid, "RUNNING")
    http.post(f"{sb.url}/workspace/{wid}/stop", timeout=TIMEOUT)
    r = http.get(f"{sb.url}/workspace/{wid}/logs", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/x-ndjson"
    assert r.text.endswith("\n")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert len(lines) >= 4
    for line in lines:
        assert set(line) == {"pod_name", "pod_namespace", "timestamp", "log_message"}
        assert line["pod_name"] == f"ws-{wid[:8]}-0"
        assert is_date_time(line["timestamp"]) and line["timestamp"].endswith("Z")
    messages = " | ".join(line["log_message"] for line in lines)
    assert "logged" in messages and "demo-a100" in messages
    assert "RUNNING" in messages and "stopped" in messages
    assert [x["timestamp"] for x in lines] == sorted(x["timestamp"] for x in lines)


# -- create validation ----------------------------------------------------------------------

BAD_BODIES: list[tuple[str, Any, str]] = [
    ("not an object", [1, 2], "object"),
    ("missing name", {k: v for k, v in body().items() if k != "name"}, "name"),
    ("missing cluster", {k: v for k, v in body().items() if k != "cluster_id"}, "cluster_id"),
    ("missing template", {k: v for k, v in body().items() if k != "template"}, "template"),
    ("missing resources", {k: v for k, v in body().items() if k != "resources"}, "resources"),
    ("empty name", {**body(), "name": ""}, "name"),
    ("blank name", {**body(), "name": "   "}, "name"),
    ("name not string", {**body(), "name": 5}, "name"),
    ("cluster not uuid", {**body(), "cluster_id": "demo-a100"}, "cluster_id"),
    ("cluster not string", {**body(), "cluster_id": 7}, "cluster_id"),
    ("unknown cluster", {**body(), "cluster_id": UNKNOWN_CLUSTER}, "not found"),
    ("template string", {**body(), "template": "jupyter-notebook"}, "template"),
    ("template no name", {**body(), "template": {"variables": {}}}, "template.name"),
    ("template no variables", {**body(), "template": {"name": "x"}}, "template.variables"),
    ("variables list", {**body(), "template": {"name": "x", "variables": []}}, "variables"),
    ("variable not string", {**body(), "template": {"name": "x", "variables": {"p": 1}}}, "p"),
    ("description not string", {**body(), "description": 3}, "description"),
    ("status not in enum", {**body(), "workspace_status": "BOOTING"}, "workspace_status"),
    ("id not uuid", {**body(), "id": "x"}, "id"),
    ("created_at not date-time", {**body(), "created_at": "yesterday"}, "created_at"),
    ("resources list", {**body(), "resources": []}, "resources"),
    ("negative gpus", body(gpu_count=-1), "gpu_count"),
    ("bool gpus", body(gpu_count=True), "gpu_count"),
    ("fractional cores", body(cpu_cores=1.5), "cpu_cores"),
    ("string memory", body(memory_gb="16"), "memory_gb"),
    ("storage beyond int32", body(storage_gb=2**31), "storage_gb"),
    ("gpu_type not string", body(gpu_type=100), "gpu_type"),
    ("gpu_vendor not string", body(gpu_vendor=["NVIDIA"]), "gpu_vendor"),
]


@pytest.mark.parametrize(("case", "payload", "field"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_invalid_create_is_400_naming_the_field(
    sb: Sandbox, http: requests.Session, case: str, payload: Any, field: str
) -> None:
    r = http.post(f"{sb.url}/workspaces", json=payload, timeout=TIMEOUT)
    detail = assert_problem(r, 400, "bad-request", "Bad Request")
    assert field in detail
    assert r.json()["detail"]["instance"] == "/workspaces"
    assert http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).json()["total"] == 0


# The create body follows the contract of the sandbox's api mode: fields that mode defines are
# type-checked, fields it does not define accept any value (and are not stored).
TEMPLATE = {"name": "jupyter-notebook", "variables": {"notebook_port": "8888"}}
ACCEPTED_EXTRAS: list[tuple[str, str, Any]] = [
    ("1.5.1", "gpu_memory list (the audit case)", body(gpu_count=1, gpu_memory=[5120])),
    ("1.5.1", "gpu_memory negative", body(gpu_memory=-80)),
    ("1.5.1", "gpu_memory string", body(gpu_memory="80GB")),
    ("1.5.1", "vram object", body(vram={"gb": 80})),
    ("1.46", "vram list", body(vram=[80])),
    ("1.46", "unknown resource null", body(tpu_count=None)),
    ("1.5.1", "namespace number", {**body(), "namespace": 5}),
    ("1.5.1", "unknown top-level list", {**body(), "extra": [1, {"a": None}]}),
    ("1.46", "unknown top-level list", {**body(), "extra": [1, {"a": None}]}),
    ("1.5.1", "unknown template field", {**body(), "template": {**TEMPLATE, "icon": 5}}),
    ("1.46", "id not uuid", {**body(), "id": "x"}),
    ("1.46", "status not in enum", {**body(), "workspace_status": "BOOTING"}),
    ("1.46", "owner number", {**body(), "owner": 5}),
    ("1.46", "access_information string", {**body(), "access_information": "ssh x@y"}),
    ("1.46", "created_at not date-time", {**body(), "created_at": "yesterday"}),
    ("1.46", "variables not strings", {**body(), "template": {**TEMPLATE, "variables": {
        "p": 1, "q": [1, "2"], "r": None, "s": {"t": True}}}}),
]  # fmt: skip
REFUSED_DEFINED: list[tuple[str, str, Any, str]] = [
    ("1.46", "gpu_memory list", body(gpu_count=1, gpu_memory=[5120]), "gpu_memory"),
    ("1.46", "gpu_memory negative", body(gpu_memory=-80), "gpu_memory"),
    ("1.46", "gpu_memory string", body(gpu_memory="80"), "gpu_memory"),
    ("1.46", "gpu_type number", body(gpu_type=100), "gpu_type"),
    ("1.46", "namespace number", {**body(), "namespace": 5}, "namespace"),
    ("1.46", "description number", {**body(), "description": 3}, "description"),
    ("1.46", "to_be_deleted_at not date-time", {**body(), "to_be_deleted_at": "soon"},
     "to_be_deleted_at"),
    ("1.46", "template description number",
     {**body(), "template": {**TEMPLATE, "description": 5}}, "template.description"),
    ("1.46", "variables list", {**body(), "template": {"name": "x", "variables": []}},
     "variables"),
    ("1.5.1", "template description number",
     {**body(), "template": {**TEMPLATE, "description": 5}}, "template.description"),
    ("1.5.1", "access_information list", {**body(), "access_information": []},
     "access_information"),
    ("1.5.1", "to_be_deleted_at not date-time", {**body(), "to_be_deleted_at": "soon"},
     "to_be_deleted_at"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("api", "case", "payload"), ACCEPTED_EXTRAS, ids=[f"{c[0]}-{c[1]}" for c in ACCEPTED_EXTRAS]
)
def test_fields_the_api_mode_does_not_define_accept_any_value(
    start: Callable[..., Sandbox], api: str, case: str, payload: Any
) -> None:
    sb = start(pending_seconds=0, api=api)
    with requests.Session() as http:
        r = http.post(f"{sb.url}/workspaces", json=payload, timeout=TIMEOUT)
        assert r.status_code == 201, r.text
        w = sb.get(r.json()["workspace_id"])
    assert w is not None and w["resources"]["cpu_cores"] == 4
    assert w["template"]["name"] == "jupyter-notebook"
    assert w["template"]["variables"] == payload["template"]["variables"]
    undefined = {"vram", "tpu_count"} | ({"gpu_memory"} if api == "1.5.1" else set())
    assert not undefined & set(w["resources"])  # accepted, not stored
    assert "extra" not in w and "icon" not in w["template"]


@pytest.mark.parametrize(
    ("api", "case", "payload", "field"),
    REFUSED_DEFINED,
    ids=[f"{c[0]}-{c[1]}" for c in REFUSED_DEFINED],
)
def test_fields_the_api_mode_defines_are_type_checked(
    start: Callable[..., Sandbox], api: str, case: str, payload: Any, field: str
) -> None:
    sb = start(pending_seconds=0, api=api)
    r = requests.post(f"{sb.url}/workspaces", json=payload, timeout=TIMEOUT)
    assert field in assert_problem(r, 400, "bad-request", "Bad Request")
    assert len(sb) == 0


def test_api_146_stores_gpu_memory_from_the_body(start: Callable[..., Sandbox]) -> None:
    sb = start(pending_seconds=0, api="1.46")
    wid = create(requests.Session(), sb, gpu_memory=40)
    assert sb.get(wid)["resources"]["gpu_memory"] == 40  # type: ignore[index]


def test_moderately_nested_values_are_stored_and_listed(start: Callable[..., Sandbox]) -> None:
    sb = start(pending_seconds=0, api="1.46")  # 1.46 allows any value in template.variables
    with requests.Session() as http:
        r = http.post(f"{sb.url}/workspaces", json=nested_variable(30), timeout=TIMEOUT)
        assert r.status_code == 201, r.text
        listed = http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).json()
        assert (
            listed["workspaces"][0]["template"]["variables"]
            == nested_variable(30)["template"]["variables"]
        )


@pytest.mark.parametrize(
    ("raw", "content_type", "words"),
    [
        (b'{"name": "x",', "application/json", "JSON"),
        (b"\xff\xfe", "application/json", "JSON"),
        (b'{"name": NaN}', "application/json", "JSON"),
        (b"", "application/json", "JSON"),
        (b"null", "application/json", "object"),
        (json.dumps(body()).encode(), "text/plain", "Content-Type"),
        (json.dumps(body()).encode(), None, "Content-Type"),
    ],
)
def test_unparseable_create_is_400(
    sb: Sandbox, http: requests.Session, raw: bytes, content_type: str | None, words: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = http.post(f"{sb.url}/workspaces", data=raw, headers=headers, timeout=TIMEOUT)
    assert words in assert_problem(r, 400, "bad-request")


def nested_variable(depth: int) -> dict[str, Any]:
    """A valid create body whose one template variable is nested `depth` lists deep."""
    value: Any = "8888"
    for _ in range(depth):
        value = [value]
    return {**body(), "template": {"name": "jupyter-notebook", "variables": {"p": value}}}


DEEP_BODIES: list[tuple[str, bytes]] = [
    ("open arrays", b"[" * 30_000),
    ("open objects", b'{"a":' * 13_000),
    ("balanced arrays", b"[" * 2_000 + b"]" * 2_000),
    ("balanced objects", b'{"a":' * 3_000 + b"1" + b"}" * 3_000),
    ("deep inside a valid body", json.dumps(nested_variable(900)).encode()),
]


@pytest.mark.parametrize("api", ["1.5.1", "1.46"])
@pytest.mark.parametrize(("case", "raw"), DEEP_BODIES, ids=[c[0] for c in DEEP_BODIES])
def test_deeply_nested_create_is_400_and_server_keeps_serving(
    start: Callable[..., Sandbox], api: str, case: str, raw: bytes
) -> None:
    sb = start(pending_seconds=0, api=api)
    headers = {"Content-Type": "application/json"}
    with requests.Session() as http:
        r = http.post(f"{sb.url}/workspaces", data=raw, headers=headers, timeout=TIMEOUT)
        assert "nested" in assert_problem(r, 400, "bad-request", "Bad Request")
        assert r.json()["detail"]["instance"] == "/workspaces"
        assert http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).json()["total"] == 0
        create(http, sb)


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/device/code", "/oauth/revoke"])
def test_deeply_nested_body_on_any_route_is_400_not_500(
    start: Callable[..., Sandbox], path: str
) -> None:
    sb = start(auth=True)  # the identity provider's routes read bodies too
    issuer = sb.url.removesuffix("/v1")
    headers = {"Content-Type": "application/json"}
    for raw in (b"[" * 30_000, b'{"a":' * 13_000):
        r = requests.post(issuer + path, data=raw, headers=headers, timeout=TIMEOUT)
        assert r.status_code == 400, r.text
        if path.startswith("/oauth/token") or path.startswith("/oauth/device"):
            assert r.json()["error"] == "invalid_request"  # the OAuth error shape, not a problem
    assert requests.get(f"{issuer}/oauth/nope", timeout=TIMEOUT).status_code == 404


@pytest.mark.parametrize("raw", [b"[" * 30_000, b'{"a":' * 13_000, b"[" * 5_000 + b"]" * 5_000])
def test_parse_json_refuses_deep_nesting_as_invalid_body(raw: bytes) -> None:
    with pytest.raises(InvalidBody, match="nested"):
        parse_json(raw)


def test_create_accepts_json_with_charset_and_integral_floats(
    sb: Sandbox, http: requests.Session
) -> None:
    raw = json.dumps(body(gpu_count=2.0)).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    r = http.post(f"{sb.url}/workspaces", data=raw, headers=headers, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    assert describe(http, sb, r.json()["workspace_id"])["resources"]["gpu_count"] == 2


def test_oversized_body_is_400_and_server_keeps_serving(
    sb: Sandbox, http: requests.Session
) -> None:
    big = {**body(), "description": "x" * (100 * 1024)}
    r = http.post(f"{sb.url}/workspaces", json=big, timeout=TIMEOUT)
    assert "65536" in assert_problem(r, 400, "bad-request")
    assert r.headers["Connection"] == "close"
    assert http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).json()["total"] == 0
    create(http, sb)


def test_chunked_create_body(sb: Sandbox) -> None:
    conn = HTTPConnection("127.0.0.1", sb.port, timeout=TIMEOUT)
    raw = json.dumps(body()).encode()
    chunks = iter([raw[:10], raw[10:]])
    conn.request(
        "POST", "/v1/workspaces", body=chunks,
        headers={"Content-Type": "application/json"}, encode_chunked=True,
    )  # fmt: skip
    r = conn.getresponse()
    assert r.status == 201, r.read()
    assert "workspace_id" in json.loads(r.read())
    conn.close()


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2025-01-01T00:00:00Z", True),
        ("2025-01-01t00:00:00.5+05:30", True),
        ("2024-02-29T23:59:60Z", True),
        ("2023-02-29T00:00:00Z", False),
        ("2025-01-01 00:00:00Z", False),
        ("2025-01-01T00:00:00", False),
        ("2025-01-01T24:00:00Z", False),
        ("2025-01-01T12:00:60Z", False),
        ("2025-01-01T00:00:00+24:00", False),
        ("٢٠٢٥-01-01T00:00:00Z", False),
    ],
)
def test_date_time_format(value: str, valid: bool) -> None:
    assert is_date_time(value) is valid


# -- API 1.46 shapes ------------------------------------------------------------------------


def running_146(http: requests.Session, sb: Sandbox, wid: str) -> dict[str, Any] | None:
    """The wrapped 1.46 describe body once the workspace is RUNNING, else None."""
    wrapped = describe(http, sb, wid)
    return wrapped if wrapped["workspace"]["workspace_status"] == "RUNNING" else None


def test_api_146_shapes(start: Callable[..., Sandbox]) -> None:
    sb = start(pending_seconds=0, api="1.46")
    with requests.Session() as http:
        nb = create(http, sb, name="nb", gpu_count=2)
        ssh = create(http, sb, name="ssh", template="ssh-pod", cluster_id=CPU, gpu_count=0)
        wrapped = wait_for(lambda: running_146(http, sb, nb), "RUNNING")
        assert set(wrapped) == {"workspace"}
        w = wrapped["workspace"]
        for key in ("owner_username", "owner_org_id", "owner_org_name"):
            assert isinstance(w[key], str) and w[key]
        assert w["owner_teams"] and all(isinstance(t, str) for t in w["owner_teams"])
        assert w["resources"]["gpu_memory"] == 80
        [access] = w["access_information"]
        assert access["access_type"] == "NODE_PORT"
        assert access["access_protocol"] == "HTTP"
        assert isinstance(access["port_name"], str)
        assert isinstance(access["access_description"], str)
        assert 30000 <= access["port_number"] <= 32767
        assert access["external_ips"] == ["127.0.0.1"]

        s = wait_for(lambda: running_146(http, sb, ssh), "RUNNING")["workspace"]
        assert s["access_information"][0]["access_protocol"] == "SSH"
        assert "gpu_memory" not in s["resources"]
        listed = http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).json()["workspaces"]
        assert {x["id"]: x for x in listed}[nb] == w  # the list is not wrapped


def test_api_is_checked() -> None:
    with pytest.raises(ValueError, match="api"):
        Sandbox(api="2.0")
    with pytest.raises(ValueError, match="error_rate"):
        Sandbox(error_rate=1.5)


# -- concurrency, scale, persistence --------------------------------------------------------


def test_concurrent_creates_lose_and_duplicate_nothing(slow: Sandbox) -> None:
    ids: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        try:
            with requests.Session() as http:
                mine = [create(http, slow, name=f"t{t}-{i}") for i in range(20)]
                http.post(f"{slow.url}/workspace/{mine[0]}/stop", timeout=TIMEOUT)
                http.delete(f"{slow.url}/workspace/{mine[1]}", timeout=TIMEOUT)
            with lock:
                ids.extend(mine)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(ids) == 400 and len(set(ids)) == 400
    listed = requests.get(f"{slow.url}/workspaces", timeout=TIMEOUT).json()
    assert listed["total"] == 400 and {w["id"] for w in listed["workspaces"]} == set(ids)
    statuses = [w["workspace_status"] for w in listed["workspaces"]]
    assert statuses.count("STOPPED") == 20 and statuses.count("DELETED") == 20
    assert slow.request_count("POST", "/workspaces") == 400


def test_concurrent_duplicate_creates_admit_exactly_one(slow: Sandbox) -> None:
    codes: list[int] = []
    barrier = threading.Barrier(20)

    def worker() -> None:
        barrier.wait()
        r = requests.post(f"{slow.url}/workspaces", json=body(name="same"), timeout=TIMEOUT)
        codes.append(r.status_code)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] + [409] * 19


def test_prepopulated_workspaces(start: Callable[..., Sandbox]) -> None:
    sb = start(workspaces=2000, seed=5)
    listed = requests.get(f"{sb.url}/workspaces", timeout=TIMEOUT).json()
    items = listed["workspaces"]
    assert listed["total"] == len(items) == 2000
    assert len({w["id"] for w in items}) == 2000
    assert len({(w["cluster_id"], w["name"]) for w in items}) == 2000
    statuses = [w["workspace_status"] for w in items]
    assert {"RUNNING", "STOPPED", "PENDING", "FAILED"} <= set(statuses)
    assert statuses.count("RUNNING") > len(statuses) / 2
    assert {w["cluster_id"] for w in items} == set(DEMO_CLUSTERS)
    assert len({w["template"]["name"] for w in items}) >= 3
    now = datetime.now(timezone.utc)
    for w in items:
        cluster = DEMO_CLUSTERS[w["cluster_id"]]
        gpus = w["resources"]["gpu_count"]
        if w["workspace_status"] == "FAILED":
            assert cluster.refuses(gpus, w["resources"].get("gpu_type"))
        else:
            assert cluster.refuses(gpus, w["resources"].get("gpu_type")) is None
        assert ("access_information" in w) == (w["workspace_status"] == "RUNNING")
        created = datetime.fromisoformat(w["created_at"].replace("Z", "+00:00"))
        deleted = datetime.fromisoformat(w["to_be_deleted_at"].replace("Z", "+00:00"))
        assert now - timedelta(days=31) < created <= now < deleted
        uuid.UUID(w["id"])
    created_order = [w["created_at"] for w in items]
    assert created_order == sorted(created_order)


def test_prepopulation_is_deterministic_with_seed() -> None:
    def names(seed: int) -> list[tuple[str, str, str]]:
        with Sandbox(workspaces=50, seed=seed) as sb:
            items = requests.get(f"{sb.url}/workspaces", timeout=TIMEOUT).json()["workspaces"]
        return [(w["id"], w["name"], w["workspace_status"]) for w in items]

    assert names(11) == names(11)
    assert names(11) != names(12)


def test_state_survives_restart(start: Callable[..., Sandbox], tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    sb = start(pending_seconds=0, deleted_ttl=600, workspaces=3, seed=1, state=state)
    with requests.Session() as http:
        running = create(http, sb, name="keep")
        wait_status(http, sb, running, "RUNNING")
        stopped = create(http, sb, name="stopped")
        http.post(f"{sb.url}/workspace/{stopped}/stop", timeout=TIMEOUT)
        deleted = create(http, sb, name="deleted")
        http.delete(f"{sb.url}/workspace/{deleted}", timeout=TIMEOUT)
        before = http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).json()
    assert len(load_state(state) or []) == 6  # saved (snapshot + journal) before stop
    sb.stop()
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp files left

    again = start(pending_seconds=0, deleted_ttl=600, workspaces=50, seed=2, state=state)
    after = requests.get(f"{again.url}/workspaces", timeout=TIMEOUT).json()
    assert after == before and after["total"] == 6
    statuses = {w["id"]: w["workspace_status"] for w in after["workspaces"]}
    assert (statuses[running], statuses[stopped], statuses[deleted]) == (
        "RUNNING", "STOPPED", "DELETED",
    )  # fmt: skip
    dup = requests.post(f"{again.url}/workspaces", json=body(name="keep"), timeout=TIMEOUT)
    assert dup.status_code == 409


def test_state_file_resumes_pending_lifecycle(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    with Sandbox(pending_seconds=0.3, state=state) as sb:
        wid = create(requests.Session(), sb)
    with Sandbox(state=state) as again, requests.Session() as http:
        wait_status(http, again, wid, "RUNNING")


# -- faults ---------------------------------------------------------------------------------


def test_error_rate_is_deterministic_with_seed(start: Callable[..., Sandbox]) -> None:
    def run(seed: int) -> list[int]:
        sb = start(error_rate=0.5, seed=seed, retry_after=0)
        codes = []
        with requests.Session() as http:
            for _ in range(30):
                r = http.get(f"{sb.url}/workspaces", timeout=TIMEOUT)
                codes.append(r.status_code)
                if r.status_code == 503:
                    assert r.headers["Retry-After"] == "0"
                    assert_problem(r, 503, "server-error", "Service Unavailable")
                elif r.status_code == 500:
                    assert "Retry-After" not in r.headers
                    assert_problem(r, 500, "server-error", "Internal Server Error")
        return codes

    first = run(42)
    assert set(first) == {200, 500, 503}
    assert run(42) == first
    assert run(43) != first


def test_fail_next(sb: Sandbox, http: requests.Session) -> None:
    sb.fail_next(2, status=503, retry_after=0)
    for _ in range(2):
        r = http.get(f"{sb.url}/workspaces", timeout=TIMEOUT)
        assert_problem(r, 503, "server-error")
        assert r.headers["Retry-After"] == "0"
    assert http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).status_code == 200
    sb.fail_next(1, status=500)
    r = http.post(f"{sb.url}/workspaces", json=body(), timeout=TIMEOUT)
    assert_problem(r, 500, "server-error")
    assert r.json()["detail"]["instance"] == "/workspaces"
    assert http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).json()["total"] == 0
    assert sb.request_count("POST", "/workspaces") == 1


def test_outage(sb: Sandbox, http: requests.Session) -> None:
    sb.outage(True)
    for path in ("/workspaces", f"/workspace/{uuid.uuid4()}", "/nope"):
        r = http.get(sb.url + path, timeout=TIMEOUT)
        assert_problem(r, 503, "server-error")
        assert r.headers["Retry-After"] == "1"
    sb.outage(False)
    assert http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).status_code == 200


def test_drop_next(sb: Sandbox, http: requests.Session) -> None:
    sb.drop_next(1)
    with pytest.raises(requests.ConnectionError):
        http.get(f"{sb.url}/workspaces", timeout=TIMEOUT)
    assert http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).status_code == 200
    assert sb.request_count("GET", "/workspaces") == 2


def test_drop_rate(start: Callable[..., Sandbox]) -> None:
    sb = start(drop_rate=1.0, seed=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sb.url}/workspaces", timeout=TIMEOUT)


# -- accounting and test hooks --------------------------------------------------------------


def test_request_accounting(sb: Sandbox, http: requests.Session) -> None:
    wid = create(http, sb)
    http.get(f"{sb.url}/workspaces", timeout=TIMEOUT)
    http.post(
        f"{sb.url}/workspace/{wid}/stop",
        headers={"Authorization": "Bearer t0ken", "User-Agent": "tests/1"},
        timeout=TIMEOUT,
    )
    http.get(f"{sb.url}/nope", timeout=TIMEOUT)
    assert sb.request_count() == 4
    assert sb.request_count("GET") == 2
    assert sb.request_count("post", "/workspace/{id}/stop") == 1
    assert sb.request_count(path=f"/workspace/{wid}/stop") == 1
    assert sb.request_count(path=f"/v1/workspace/{wid}/stop") == 1
    assert sb.request_count(path="/nope") == 1
    method, path, headers, raw = sb.requests[0]
    assert (method, path) == ("POST", "/workspaces")
    assert headers["content-type"] == "application/json"
    assert json.loads(raw) == body()
    stop = sb.requests[2]
    assert stop.path == "/workspace/{id}/stop"
    assert stop.headers["Authorization"] == "Bearer t0ken"
    assert stop.headers["user-agent"] == "tests/1"
    assert stop.body == b""
    sb.reset_counts()
    assert sb.request_count() == 0 and sb.requests == []


def test_route_names() -> None:
    wid = str(uuid.uuid4())
    assert route_name("/v1/workspaces") == "/workspaces"
    assert route_name(f"/v1/workspace/{wid}") == "/workspace/{id}"
    assert route_name(f"/workspace/{wid}/logs") == "/workspace/{id}/logs"
    assert route_name("/v1/other") == "/other"


def test_request_log_is_bounded() -> None:
    log = RequestLog(route_name)
    for i in range(MAX_RECORDS + 5):
        log.record(RequestRecord("GET", "/workspaces", {}, str(i).encode()))
    records = log.records()
    assert len(records) == MAX_RECORDS and records[0].body == b"5"
    assert log.count("GET", "/workspaces") == MAX_RECORDS + 5


def test_direct_store_hooks(sb: Sandbox, http: requests.Session) -> None:
    wid = create(http, sb)
    assert sb.get(wid) == describe(http, sb, wid)
    assert sb.get(str(uuid.uuid4())) is None
    sb.set_status(wid, "FAILED")
    assert describe(http, sb, wid)["workspace_status"] == "FAILED"
    with pytest.raises(KeyError):
        sb.set_status(str(uuid.uuid4()), "RUNNING")

    added = sb.add(
        {"name": "added", "cluster_id": H100, "template": "ssh-pod", "workspace_status": "STOPPED",
         "resources": {"gpu_count": 1}, "created_at": "2025-01-02T03:04:05Z"}
    )  # fmt: skip
    w = describe(http, sb, added)
    assert w["workspace_status"] == "STOPPED" and w["created_at"] == "2025-01-02T03:04:05Z"
    assert w["template"]["name"] == "ssh-pod"
    assert len(sb) == 2


# -- HTTP details ---------------------------------------------------------------------------


def test_keep_alive_and_content_length(sb: Sandbox) -> None:
    conn = HTTPConnection("127.0.0.1", sb.port, timeout=TIMEOUT)
    for method, path in (("GET", "/v1/workspaces"), ("HEAD", "/v1/workspaces"), ("GET", "/x")):
        conn.request(method, path)
        r = conn.getresponse()
        raw = r.read()
        assert r.version == 11
        assert r.getheader("Connection") != "close"
        if method == "HEAD":
            assert r.status == 405 and raw == b""
        else:
            assert int(r.getheader("Content-Length")) == len(raw) > 0
    sock = conn.sock
    conn.request("GET", "/v1/workspaces")
    assert conn.getresponse().read() and conn.sock is sock  # still the same connection
    conn.close()


def test_stop_closes_everything(start: Callable[..., Sandbox]) -> None:
    sb = start()
    with requests.Session() as http:
        assert http.get(f"{sb.url}/workspaces", timeout=TIMEOUT).status_code == 200
        sb.stop()
        with pytest.raises(requests.ConnectionError):
            http.get(f"{sb.url}/workspaces", timeout=TIMEOUT)
    assert not any(t.name == f"exalsius-sandbox-{sb.port}" for t in threading.enumerate())


# -- CLI ------------------------------------------------------------------------------------


def cli(*args: str) -> subprocess.Popen[str]:
    """Start the CLI as a subprocess."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "exalsius_jupyter.sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_and_exits_cleanly(sig: signal.Signals) -> None:
    proc = cli("--port", "0", "--pending-seconds", "0", "--workspaces", "3", "--seed", "1")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", url), url
        assert not url.endswith(":0/v1")
        r = requests.get(f"{url}/workspaces", timeout=TIMEOUT)
        assert r.status_code == 200 and r.json()["total"] == 3
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out == ""  # the URL was the only line
    assert "GET /v1/workspaces" in err  # the request log goes to stderr


def test_cli_help_documents_demo_clusters() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-m", "exalsius_jupyter.sandbox", "--help"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=30, check=True,
    ).stdout  # fmt: skip
    for cluster_id, cluster in DEMO_CLUSTERS.items():
        assert cluster_id in out and cluster.name in out
    for word in ("FAILED", "--pending-seconds", "--error-rate", "--no-extras", "--api"):
        assert word in out


def test_latency_is_added_to_every_request(
    start: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    from exalsius_jupyter.sandbox import app

    slept: list[float] = []
    real_sleep = time.sleep
    monkeypatch.setattr(app.time, "sleep", lambda s: (slept.append(s), real_sleep(s)))
    sb = start(latency=0.01)
    requests.get(f"{sb.url}/workspaces", timeout=TIMEOUT)
    requests.get(f"{sb.url}/nope", timeout=TIMEOUT)
    assert slept.count(0.01) == 2


@pytest.mark.parametrize(("quiet", "level"), [(True, logging.DEBUG), (False, logging.INFO)])
def test_request_log_goes_to_the_logger(
    start: Callable[..., Sandbox], caplog: pytest.LogCaptureFixture, quiet: bool, level: int
) -> None:
    caplog.set_level(logging.DEBUG, logger="exalsius_jupyter.sandbox")
    sb = start(quiet=quiet)
    requests.get(f"{sb.url}/workspaces", timeout=TIMEOUT)
    [record] = [r for r in caplog.records if "GET /v1/workspaces" in r.getMessage()]
    assert record.name == "exalsius_jupyter.sandbox" and record.levelno == level


def test_a_crash_in_the_sandbox_is_a_500_problem(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def crash(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sb.api, "handle", crash)
    r = requests.get(f"{sb.url}/workspaces", timeout=TIMEOUT)
    assert_problem(r, 500, "server-error", "Internal Server Error")
    assert any("boom" in (r.exc_text or "") for r in caplog.records)


def test_invalid_content_length_is_400(sb: Sandbox) -> None:
    conn = HTTPConnection("127.0.0.1", sb.port, timeout=TIMEOUT)
    conn.putrequest("POST", "/v1/workspaces")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", "lots")
    conn.endheaders()
    r = conn.getresponse()
    assert r.status == 400 and r.getheader("Connection") == "close"
    assert json.loads(r.read())["detail"]["type"] == ERRORS + "bad-request"
    conn.close()


# -- identification -------------------------------------------------------------------------

SANDBOX_HEADER = ("X-Exalsius-Sandbox", "1")


def raw_exchange(sb: Sandbox, request: bytes) -> tuple[int, dict[str, str]]:
    """Send raw bytes on a fresh connection; the status code and headers of the answer."""
    with socket.create_connection(("127.0.0.1", sb.port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:])
    return int(head[0].split()[1]), headers


def test_every_response_identifies_the_sandbox(
    sb: Sandbox, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    wid = create(http, sb)
    url = sb.url
    answers = [
        http.get(f"{url}/workspaces", timeout=TIMEOUT),
        http.head(f"{url}/workspaces", timeout=TIMEOUT),
        http.get(f"{url}/workspace/{wid}", timeout=TIMEOUT),
        http.get(f"{url}/workspace/{wid}/logs", timeout=TIMEOUT),
        http.post(f"{url}/workspace/{wid}/stop", timeout=TIMEOUT),
        http.get(f"{url}/workspace/{uuid.uuid4()}", timeout=TIMEOUT),
        http.get(f"{url}/nope", timeout=TIMEOUT),
        http.put(f"{url}/workspaces", timeout=TIMEOUT),
        http.post(f"{url}/workspaces", json=body(name="second"), timeout=TIMEOUT),
        http.post(f"{url}/workspaces", json=body(), timeout=TIMEOUT),
        http.post(f"{url}/workspaces", json={"name": 5}, timeout=TIMEOUT),
        http.post(f"{url}/workspaces", data=b"[" * 30_000, timeout=TIMEOUT),
        http.post(f"{url}/workspaces", json={**body(), "x": "y" * MAX_BODY}, timeout=TIMEOUT),
        http.delete(f"{url}/workspace/{wid}", timeout=TIMEOUT),
    ]
    sb.fail_next(1, status=503)
    answers.append(http.get(f"{url}/workspaces", timeout=TIMEOUT))
    monkeypatch.setattr(sb.api, "handle", lambda *args: 1 / 0)
    answers.append(http.get(f"{url}/workspaces", timeout=TIMEOUT))
    statuses = sorted({r.status_code for r in answers})
    assert statuses == [200, 201, 400, 404, 405, 409, 500, 503]
    for r in answers:
        assert r.headers.get(SANDBOX_HEADER[0]) == SANDBOX_HEADER[1], (r.request.method, r.url)

    for request in (
        b"POST /v1/workspaces HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n",  # ours
        b"GET /v1/workspaces HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",  # http.server
        b"GET /v1/workspaces HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\n",  # http.server
    ):  # (http.server answers a bad request line HTTP/0.9-style: without any headers)
        status, headers = raw_exchange(sb, request)
        assert status in (400, 431)
        assert headers.get(SANDBOX_HEADER[0]) == SANDBOX_HEADER[1], request


@pytest.mark.parametrize("seed", [1, 3, 7])
def test_every_synthetic_workspace_fits_its_cluster(seed: int) -> None:
    """Demo data makes sense: GPU type and vendor are the cluster's (none on demo-cpu); a
    workspace is FAILED exactly when its cluster refuses what it asks for."""
    import random

    from exalsius_jupyter.sandbox.populate import synthetic_records

    records = synthetic_records(2000, random.Random(seed), now=1.8e9)
    for r in records:
        cluster = DEMO_CLUSTERS[r.cluster_id]
        res = r.resources
        assert res.get("gpu_type") == cluster.gpu_type, (r.name, cluster.name, res)
        assert res.get("gpu_vendor") == cluster.gpu_vendor, (r.name, cluster.name, res)
        refused = cluster.refuses(int(res.get("gpu_count") or 0), res.get("gpu_type"))
        assert (refused is not None) == (r.status == "FAILED"), (r.name, r.status, refused)
    assert {r.status for r in records if DEMO_CLUSTERS[r.cluster_id].max_gpus == 0} >= {
        "RUNNING", "FAILED"}
