"""Contract: every request the client sends, and every answer the sandbox gives, fits the spec.

openapi-core validates the requests the client really sent to the sandbox (captured with a
response hook on the client's Session, then re-addressed to the spec's server URL) and the
sandbox's responses to them, against ``../shared/openapi/workspaces-1.5.1.yaml``; and, for the
live API's shapes, a 1.46 sandbox against ``workspaces-1.46.0.yaml`` (which also has start and
logs). Skipped when ../shared is absent; under CI=true that is a failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from openapi_schema_validator import OAS31Validator
from support import A100_CLUSTER, load_spec, make_spec, shared_path

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.errors import BadRequestError, ConflictError, NotFoundError, ServerError
from exalsius_jupyter.sandbox import Sandbox

pytestmark = pytest.mark.contract

UNKNOWN_ID = "99999999-9999-4999-8999-999999999999"
TOKEN = "contract-test-token-0123456789"


class Recorder:
    """Keeps every (request, response) pair that went through a client's Session."""

    def __init__(self, client: ExalsiusClient) -> None:
        self.base = client.base_url
        self.exchanges: list[tuple[requests.PreparedRequest, requests.Response]] = []
        client.session.hooks["response"].append(self._keep)

    def _keep(self, resp: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        resp.content  # noqa: B018 - read now; the client reads bodies it streams only once
        self.exchanges.append((resp.request, resp))
        return resp


def _openapi(version: str) -> Any:
    """The spec as openapi-core sees it; problem+json is JSON (openapi-core lacks it built in)."""
    from openapi_core import Config, OpenAPI

    config = Config(extra_media_type_deserializers={"application/problem+json": _json})
    path = shared_path("openapi", f"workspaces-{version}.yaml")
    return OpenAPI.from_file_path(str(path), config=config)


def _json(body: bytes | str, **_: Any) -> Any:
    return json.loads(body)


def _server_url(spec: Any) -> str:
    return (spec.spec / "servers" / 0 / "url").read_str()


def _readdressed(prepared: requests.PreparedRequest, base: str, server: str) -> requests.Request:
    """The same request, aimed at the spec's server URL instead of the sandbox."""
    assert prepared.url is not None and prepared.url.startswith(base)
    parts = urlsplit(server + prepared.url[len(base):])
    url = urlunsplit(parts)
    headers = {k: v for k, v in prepared.headers.items() if k.lower() != "host"}
    return requests.Request(prepared.method, url, headers=headers, data=prepared.body or None)


def _validate(spec: Any, recorder: Recorder, *, skip_paths: tuple[str, ...] = ()) -> list[str]:
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    checked = []
    for prepared, resp in recorder.exchanges:
        path = urlsplit(prepared.url or "").path
        if path.endswith(skip_paths):
            continue
        request = RequestsOpenAPIRequest(_readdressed(prepared, recorder.base,
                                                      _server_url(spec)))
        spec.validate_request(request)
        if path.endswith("/logs"):
            # NDJSON was streamed to the client; its lines are checked on what the client parsed.
            assert resp.headers["Content-Type"].startswith("application/x-ndjson")
        else:
            spec.validate_response(request, RequestsOpenAPIResponse(resp))
        checked.append(f"{prepared.method} {path} {resp.status_code}")
    return checked


@pytest.fixture
def spec_151() -> Any:
    return _openapi("1.5.1")


@pytest.fixture
def recorded(sandbox: Sandbox) -> Iterator[tuple[ExalsiusClient, Recorder]]:
    with ExalsiusClient(sandbox.url, token=TOKEN, timeout=5) as client:
        yield client, Recorder(client)


def _exercise(sandbox: Sandbox, client: ExalsiusClient) -> None:
    """Every 1.5.1 operation, with its success and documented error answers."""
    client.list_workspaces()
    wid = client.create_workspace(make_spec(description="contract", owner="tester"))
    client.create_workspace(make_spec(name="minimal", resources={},
                                      template={"name": "ssh-pod", "variables": {}}))
    client.list_workspaces(cluster_id=A100_CLUSTER)
    client.describe_workspace(wid)
    client.stop_workspace(wid)
    client.describe_workspace(wid)
    client.delete_workspace(wid)
    client.describe_workspace(wid)
    with pytest.raises(ConflictError):
        client.create_workspace(make_spec(name="minimal"))
    with pytest.raises(BadRequestError):
        client.create_workspace(make_spec(cluster_id=UNKNOWN_ID))
    for operation in (client.describe_workspace, client.stop_workspace, client.delete_workspace):
        with pytest.raises(NotFoundError):
            operation(UNKNOWN_ID)
    sandbox.fail_next(1, status=500)
    with pytest.raises(ServerError):
        client.list_workspaces()


def test_client_requests_and_sandbox_answers_fit_1_5_1(
        sandbox: Sandbox, spec_151: Any, recorded: tuple[ExalsiusClient, Recorder]) -> None:
    client, recorder = recorded
    _exercise(sandbox, client)
    checked = _validate(spec_151, recorder)
    assert len(checked) == len(recorder.exchanges) == 15
    statuses = {line.rsplit(" ", 1)[1] for line in checked}
    assert statuses == {"200", "201", "400", "404", "409", "500"}


def test_a_bad_request_fails_validation(spec_151: Any,
                                        recorded: tuple[ExalsiusClient, Recorder]) -> None:
    # The validator is live: a body without 'resources' and a non-UUID filter are refused.
    from openapi_core.contrib.requests import RequestsOpenAPIRequest

    server = _server_url(spec_151)
    bad_create = requests.Request("POST", server + "/workspaces",
                                  json={"name": "x", "cluster_id": A100_CLUSTER,
                                        "template": {"name": "t", "variables": {}}})
    bad_filter = requests.Request("GET", server + "/workspaces", params={"cluster_id": "c-1"})
    wrong_route = requests.Request("POST", server + "/workspace/" + UNKNOWN_ID + "/start")
    for bad in (bad_create, bad_filter, wrong_route):
        with pytest.raises(Exception) as info:
            spec_151.validate_request(RequestsOpenAPIRequest(bad))
        assert "openapi_core" in type(info.value).__module__


def test_client_against_1_46(sandbox_146: Sandbox) -> None:
    spec = _openapi("1.46.0")
    with ExalsiusClient(sandbox_146.url, token=TOKEN, timeout=5) as client:
        recorder = Recorder(client)
        _exercise(sandbox_146, client)
        wid = client.create_workspace(make_spec(name="extras"))
        client.stop_workspace(wid)
        client.start_workspace(wid)
        records = client.workspace_logs(wid, limit=5)
        checked = _validate(spec, recorder)
    logs_200 = load_spec("1.46.0")["paths"]["/workspace/{workspace_id}/logs"]["get"]["responses"]
    line_schema = logs_200["200"]["content"]["application/x-ndjson"]["schema"]
    validator = OAS31Validator(line_schema, format_checker=OAS31Validator.FORMAT_CHECKER)
    assert records
    for record in records:
        validator.validate(record)
    assert any("/start 200" in line for line in checked)
    assert any("/logs 200" in line for line in checked)
    assert len(checked) == len(recorder.exchanges)


def test_a_live_api_answer_fails_1_5_1(spec_151: Any, sandbox_146: Sandbox) -> None:
    # The response validator is live too: 1.46's wrapped describe is not a 1.5.1 Workspace.
    with ExalsiusClient(sandbox_146.url, timeout=5) as client:
        recorder = Recorder(client)
        client.describe_workspace(client.create_workspace(make_spec()))
    with pytest.raises(Exception) as info:
        _validate(spec_151, recorder)
    assert "openapi_core" in type(info.value).__module__


@pytest.fixture
def sandbox_146() -> Iterator[Sandbox]:
    with Sandbox(pending_seconds=0.2, deleted_ttl=0.5, seed=1, api="1.46") as sb:
        yield sb
