"""client.py over real HTTP: the sandbox, plus a canned server for what the sandbox won't say."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import A100_CLUSTER, Canned, CannedServer, free_port, make_spec, wait_until

from exalsius_jupyter._version import __version__
from exalsius_jupyter.api.client import DEFAULT_API_URL, ExalsiusClient, mask_secret
from exalsius_jupyter.api.transport import CappedRetry
from exalsius_jupyter.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectionFailedError,
    ExalsiusError,
    InsecureTransportError,
    InvalidResponseError,
    NotFoundError,
    NotSupportedError,
    RequestTimeoutError,
    ServerError,
    UnknownOutcomeError,
    ValidationError,
)
from exalsius_jupyter.model.workspace import Workspace, WorkspaceList, WorkspaceStatus
from exalsius_jupyter.sandbox import Sandbox

H100_CLUSTER = "22222222-2222-4222-8222-222222222222"
CPU_CLUSTER = "33333333-3333-4333-8333-333333333333"
UNKNOWN_ID = "99999999-9999-4999-8999-999999999999"
TOKEN = "tok_live_5f2b9c1e8d7a4b3c9e0f1a2b"  # a made-up test credential


def _wait_status(client: ExalsiusClient, wid: str, status: WorkspaceStatus,
                 limit: float = 10.0) -> Workspace:
    deadline = time.monotonic() + limit
    while True:
        ws = client.describe_workspace(wid)
        if ws.workspace_status is status or time.monotonic() > deadline:
            return ws
        time.sleep(0.05)


@pytest.fixture
def sandbox_factory(
        sandbox_factory: Callable[..., Sandbox]) -> Callable[..., Sandbox]:
    """Start extra sandboxes with other options (fast lifecycle by default); all are stopped."""

    def make(**kwargs: Any) -> Sandbox:
        return sandbox_factory(**{"pending_seconds": 0.2, "deleted_ttl": 0.5, "seed": 1, **kwargs})

    return make


# -- every operation ----------------------------------------------------------------------


def test_lifecycle_end_to_end(sandbox: Sandbox, client: ExalsiusClient) -> None:
    assert list(client.list_workspaces()) == []
    wid = client.create_workspace(make_spec())
    assert uuid.UUID(wid)
    ws = client.describe_workspace(wid)
    assert ws.id == wid and ws.name == "nb-1" and ws.cluster_id == A100_CLUSTER
    assert ws.workspace_status is WorkspaceStatus.PENDING and ws.access_url is None
    assert ws.template.name == "jupyter-notebook" and ws.resources.gpu_count == 1
    ws = _wait_status(client, wid, WorkspaceStatus.RUNNING)
    assert ws.workspace_status is WorkspaceStatus.RUNNING
    assert ws.access_url is not None and ws.created_at is not None
    assert ws.created_at.tzinfo is not None
    assert client.stop_workspace(wid) == wid
    assert client.describe_workspace(wid).workspace_status is WorkspaceStatus.STOPPED
    assert client.start_workspace(wid) == wid
    assert _wait_status(client, wid, WorkspaceStatus.RUNNING).workspace_status \
        is WorkspaceStatus.RUNNING
    logs = client.workspace_logs(wid)
    assert logs and all(isinstance(rec, dict) for rec in logs)
    assert len(client.workspace_logs(wid, limit=2)) == 2
    assert client.delete_workspace(wid) == wid
    assert client.describe_workspace(wid).workspace_status is WorkspaceStatus.DELETED
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # gone after deleted_ttl (0.5 s)
        try:
            client.describe_workspace(wid)
        except NotFoundError:
            break
        time.sleep(0.05)
    with pytest.raises(NotFoundError):
        client.describe_workspace(wid)
    assert sandbox.request_count("POST", "/workspaces") == 1


def test_list_with_and_without_cluster_id(sandbox: Sandbox, client: ExalsiusClient) -> None:
    a = client.create_workspace(make_spec(name="a"))
    b = client.create_workspace(make_spec(name="b", cluster_id=H100_CLUSTER,
                                          resources={"gpu_count": 1, "gpu_type": "H100"}))
    everything = client.list_workspaces()
    assert isinstance(everything, WorkspaceList)
    assert {w.id for w in everything} == {a, b} and everything.total == 2
    only_h100 = client.list_workspaces(cluster_id=H100_CLUSTER)
    assert [w.id for w in only_h100] == [b] and only_h100.total == 1
    assert client.list_workspaces(cluster_id=CPU_CLUSTER).total == 0
    df = everything.to_dataframe()
    assert sorted(df["id"]) == sorted([a, b]) and df.attrs["total"] == 2


def test_list_parses_prepopulated(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(workspaces=25)
    listing = ExalsiusClient(sb.url, timeout=5).list_workspaces()
    assert len(listing) == 25 and listing.total == 25
    assert all(isinstance(w, Workspace) and w.id for w in listing)


@pytest.mark.parametrize("suffix", ["", "/"])
def test_base_url_with_and_without_trailing_slash(sandbox: Sandbox, suffix: str) -> None:
    client = ExalsiusClient(sandbox.url + suffix, timeout=5)
    assert client.base_url == sandbox.url
    assert client.list_workspaces().total == 0
    assert sandbox.request_count("GET", "/workspaces") == 1


def test_env_url_and_token(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXALSIUS_API_URL", sandbox.url)
    monkeypatch.setenv("EXALSIUS_TOKEN", TOKEN)
    client = ExalsiusClient(timeout=5)
    assert client.base_url == sandbox.url and client.has_token
    client.list_workspaces()
    assert client.is_sandbox  # the sandbox said so in its answer's header
    assert sandbox.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


def test_arguments_beat_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXALSIUS_API_URL", "https://example.invalid/v1")
    monkeypatch.setenv("EXALSIUS_TOKEN", "env-token")
    client = ExalsiusClient(sandbox.url, token="arg-token", timeout=5)
    client.list_workspaces()
    assert sandbox.requests[-1].headers["authorization"] == "Bearer arg-token"


def test_default_url_without_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXALSIUS_API_URL", raising=False)
    monkeypatch.delenv("EXALSIUS_TOKEN", raising=False)

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("constructing a client must not touch the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    client = ExalsiusClient()
    assert client.base_url == DEFAULT_API_URL == "https://api.exalsius.ai/v1"
    assert not client.has_token and not client.is_sandbox
    assert "Authorization" not in client.session.headers


# -- .total ---------------------------------------------------------------------------------


def test_total_from_header(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(workspaces=3)
    assert ExalsiusClient(sb.url, timeout=5).list_workspaces().total == 3


def test_total_from_body_then_length(canned: CannedServer) -> None:
    items = [{"id": "a", "name": "a"}, {"id": "b", "name": "b"}]
    canned.json({"workspaces": items, "total": 40})
    canned.json({"workspaces": items, "total": 40}, **{"X-Total-Count": "77"})
    canned.json({"workspaces": items, "total": 40}, **{"X-Total-Count": "lots"})
    canned.json({"workspaces": items, "total": "many"})
    canned.json({"workspaces": items})
    client = ExalsiusClient(canned.url, timeout=5, retries=0)
    assert [client.list_workspaces().total for _ in range(5)] == [40, 77, 40, 2, 2]


# -- errors from the sandbox ------------------------------------------------------------------


def _one_line_with_detail(err: ExalsiusError) -> None:
    text = str(err)
    assert "\n" not in text and text.strip() == text
    assert err.detail and err.detail in text


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "x", "cluster_id": A100_CLUSTER, "template": {"name": "t", "variables": {}}},
        {**make_spec(), "cluster_id": "not-a-uuid"},
        {**make_spec(), "resources": {"gpu_count": "two"}},
        {**make_spec(), "template": {"name": "t"}},
        {**make_spec(), "name": 5},
        [1, 2],
    ],
)
def test_bad_create_bodies_sent_raw_are_400(sandbox: Sandbox, client: ExalsiusClient,
                                            body: Any) -> None:
    # Bypasses the client's own validation to see the server's 400 come back typed.
    with pytest.raises(BadRequestError) as info:
        client._request("POST", "/workspaces", json_body=body)
    err = info.value
    assert err.status == 400 and err.title == "Bad Request"
    assert err.instance == "/workspaces" and err.type
    _one_line_with_detail(err)
    assert client.list_workspaces().total == 0


def test_create_on_unknown_cluster_is_400(client: ExalsiusClient) -> None:
    with pytest.raises(BadRequestError) as info:
        client.create_workspace(make_spec(cluster_id=UNKNOWN_ID))
    _one_line_with_detail(info.value)


@pytest.mark.parametrize("wid", [UNKNOWN_ID, "not-a-uuid", "a/b", "x y", "a..b", "%2e%2e"])
@pytest.mark.parametrize("operation", ["describe_workspace", "stop_workspace",
                                       "delete_workspace", "start_workspace"])
def test_unknown_or_malformed_id_is_404(client: ExalsiusClient, operation: str,
                                        wid: str) -> None:
    with pytest.raises(NotFoundError) as info:
        getattr(client, operation)(wid)
    assert info.value.status == 404
    assert "\n" not in str(info.value)


def test_unknown_id_problem_fields(client: ExalsiusClient) -> None:
    with pytest.raises(NotFoundError) as info:
        client.describe_workspace(UNKNOWN_ID)
    err = info.value
    assert err.title == "Workspace Not Found"
    assert err.instance == f"/workspace/{UNKNOWN_ID}"
    assert UNKNOWN_ID in str(err)
    _one_line_with_detail(err)


def test_duplicate_name_is_409(sandbox: Sandbox, client: ExalsiusClient) -> None:
    client.create_workspace(make_spec())
    with pytest.raises(ConflictError) as info:
        client.create_workspace(make_spec())
    assert info.value.status == 409
    _one_line_with_detail(info.value)
    assert client.list_workspaces().total == 1


def test_500_is_server_error_not_retried(sandbox: Sandbox, client: ExalsiusClient) -> None:
    sandbox.fail_next(1, status=500)
    with pytest.raises(ServerError) as info:
        client.list_workspaces()
    assert info.value.status == 500
    _one_line_with_detail(info.value)
    assert sandbox.request_count("GET", "/workspaces") == 1


@pytest.mark.parametrize("operation", ["start_workspace", "workspace_logs"])
def test_missing_extras_are_not_supported(sandbox_factory: Callable[..., Sandbox],
                                          operation: str) -> None:
    sb = sandbox_factory(extras=False)
    client = ExalsiusClient(sb.url, timeout=5)
    wid = client.create_workspace(make_spec())
    with pytest.raises(NotSupportedError, match="does not offer"):
        getattr(client, operation)(wid)


def test_offers(sandbox: Sandbox, client: ExalsiusClient,
                sandbox_factory: Callable[..., Sandbox]) -> None:
    assert client.offers("start") is True and client.offers("logs") is True
    before = sandbox.request_count()
    assert client.offers("start") is True  # cached
    assert sandbox.request_count() == before
    old = ExalsiusClient(sandbox_factory(extras=False).url, timeout=5)
    assert old.offers("start") is False and old.offers("logs") is False


# -- errors from a canned server --------------------------------------------------------------


def test_html_502_page(canned: CannedServer) -> None:
    page = ("<html><head><title>502 Bad Gateway</title></head><body>\n<center><h1>502 Bad "
            "Gateway</h1></center>\n<hr><center>nginx</center>\n" + " " * 4000 + "</body></html>")
    canned.reply(Canned(502, page, {"Content-Type": "text/html"}))
    client = ExalsiusClient(canned.url, timeout=5, retries=0)
    with pytest.raises(ServerError) as info:
        client.list_workspaces()
    err = info.value
    assert err.status == 502
    assert str(err).startswith("HTTP 502 Bad Gateway: 502 Bad Gateway")
    assert "<" not in str(err) and "\n" not in str(err) and len(str(err)) < 200


def test_401_is_authentication_error(canned: CannedServer) -> None:
    canned.json({"detail": {"type": "about:blank", "title": "Unauthorized", "status": 401,
                            "detail": "token expired", "instance": "/workspaces"}}, status=401)
    with pytest.raises(AuthenticationError, match="token expired"):
        ExalsiusClient(canned.url, timeout=5).list_workspaces()


@pytest.mark.parametrize(
    "reply",
    [
        Canned(200, "<html>hello</html>", {"Content-Type": "text/html"}),
        Canned(200, "", {"Content-Type": "application/json"}),
        Canned(200, '{"workspaces": [', {"Content-Type": "application/json"}),
        Canned(200, json.dumps({"workspaces": [{"id": "a"}] * 20}),
               {"Content-Type": "application/json"}, truncate=100),
        Canned(200, '{"workspaces": 3}', {"Content-Type": "application/json"}),
        Canned(200, "[]", {"Content-Type": "application/json"}),
        Canned(302, "", {"Location": "https://elsewhere.invalid/"}),
    ],
    ids=["html", "empty", "broken-json", "truncated", "wrong-shape", "array", "redirect"],
)
def test_bad_list_answers_are_invalid_response(canned: CannedServer, reply: Canned) -> None:
    canned.reply(reply)
    with pytest.raises(InvalidResponseError) as info:
        ExalsiusClient(canned.url, timeout=5, retries=0).list_workspaces()
    assert "\n" not in str(info.value)
    assert canned.count() == 1


def test_a_body_that_stalls_mid_way_is_a_timeout(canned: CannedServer) -> None:
    """Headers arrive, then the body stops: the read timeout applies to the body too."""
    body = json.dumps({"workspaces": [{"id": "a", "name": "a"}] * 50})
    canned.reply(Canned(200, body, {"Content-Type": "application/json"}, truncate=10, stall=2.0))
    with pytest.raises(RequestTimeoutError) as info:
        ExalsiusClient(canned.url, timeout=0.3, retries=0).list_workspaces()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("body", [[], "text", {"workspace_id": 5}, {"id": "x"}])
def test_bad_create_answers_are_invalid_response(canned: CannedServer, body: Any) -> None:
    canned.json(body, status=201)
    with pytest.raises(InvalidResponseError):
        ExalsiusClient(canned.url, timeout=5).create_workspace(make_spec())


def test_bad_describe_answer_is_invalid_response(canned: CannedServer) -> None:
    canned.json(["not", "an", "object"])
    with pytest.raises(InvalidResponseError):
        ExalsiusClient(canned.url, timeout=5).describe_workspace(UNKNOWN_ID)


def test_bad_log_line_is_invalid_response(canned: CannedServer) -> None:
    canned.reply(Canned(200, '{"log_message": "ok"}\nnot json\n',
                        {"Content-Type": "application/x-ndjson"}))
    with pytest.raises(InvalidResponseError, match="log line"):
        ExalsiusClient(canned.url, timeout=5).workspace_logs(UNKNOWN_ID)


# -- headers, auth and secrets ----------------------------------------------------------------


def test_headers_on_get_and_post(sandbox: Sandbox) -> None:
    client = ExalsiusClient(sandbox.url, token=TOKEN, timeout=5)
    client.list_workspaces()
    wid = client.create_workspace(make_spec())
    client.stop_workspace(wid)
    get, create, stop = sandbox.requests
    for rec in (get, create, stop):
        assert "application/json" in rec.headers["accept"]
        assert f"exalsius-jupyter/{__version__}" in rec.headers["user-agent"]
        assert rec.headers["authorization"] == f"Bearer {TOKEN}"
        assert "x-api-key" not in rec.headers
    assert create.headers["content-type"] == "application/json"
    assert json.loads(create.body) == make_spec()
    assert "content-type" not in get.headers
    assert stop.body == b""


def test_api_key_header(sandbox: Sandbox) -> None:
    ExalsiusClient(sandbox.url, token=TOKEN, api_key_header=True, timeout=5).list_workspaces()
    headers = sandbox.requests[-1].headers
    assert headers["x-api-key"] == TOKEN and "authorization" not in headers


def test_no_token_no_auth_header(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXALSIUS_TOKEN", raising=False)
    ExalsiusClient(sandbox.url, timeout=5).list_workspaces()
    headers = sandbox.requests[-1].headers
    assert "authorization" not in headers and "x-api-key" not in headers


def test_token_masked_in_repr() -> None:
    client = ExalsiusClient("https://api.exalsius.ai/v1", token=TOKEN)
    assert TOKEN not in repr(client) and "token='explicit token (expiry unknown)'" in repr(client)
    assert mask_secret(TOKEN) == "set (…" + TOKEN[-4:] + ")"
    assert mask_secret("short") == "set (****)" and mask_secret(None) == "not set"


@pytest.mark.parametrize(
    "url",
    ["http://api.exalsius.ai/v1", "http://10.0.0.5:8765/v1", "http://example.com"],
)
def test_plain_http_with_token_is_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("sent"))
    with pytest.raises(InsecureTransportError) as info:
        ExalsiusClient(url, token=TOKEN)
    assert TOKEN not in str(info.value)
    monkeypatch.setenv("EXALSIUS_TOKEN", TOKEN)
    with pytest.raises(InsecureTransportError):
        ExalsiusClient(url)
    assert ExalsiusClient(url, token=TOKEN, allow_insecure=True).has_token
    monkeypatch.delenv("EXALSIUS_TOKEN")
    assert not ExalsiusClient(url).has_token  # no credential, nothing to protect


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.0.0.2"])
def test_loopback_http_is_fine(host: str) -> None:
    client = ExalsiusClient(f"http://{host}:8765/v1", token=TOKEN)
    assert client.has_token and not client.is_sandbox  # not before the sandbox says so


ErrorKinds = Iterator[tuple[str, Callable[[], Any]]]


def _error_kinds(sandbox: Sandbox, canned: CannedServer,
                 sandbox_factory: Callable[..., Sandbox]) -> ErrorKinds:
    client = ExalsiusClient(sandbox.url, token=TOKEN, timeout=5, retries=0)
    yield "404", lambda: client.describe_workspace(UNKNOWN_ID)
    yield "400", lambda: client._request("POST", "/workspaces", json_body={})
    client.create_workspace(make_spec(name="dup"))
    yield "409", lambda: client.create_workspace(make_spec(name="dup"))

    def fail_500() -> Any:
        sandbox.fail_next(1, status=500)
        return client.list_workspaces()

    def drop_post() -> Any:
        sandbox.drop_next(1)
        return client.create_workspace(make_spec(name="dropped"))

    yield "500", fail_500
    yield "drop", drop_post
    yield "validation", lambda: client.create_workspace({"name": TOKEN})
    old = ExalsiusClient(sandbox_factory(extras=False).url, token=TOKEN, timeout=5)
    yield "not-supported", lambda: old.start_workspace(UNKNOWN_ID)
    slow = sandbox_factory(latency=0.5)
    yield "timeout", lambda: ExalsiusClient(slow.url, token=TOKEN, timeout=0.1,
                                            retries=0).list_workspaces()
    refused = f"http://127.0.0.1:{free_port()}/v1"
    yield "refused", lambda: ExalsiusClient(refused, token=TOKEN, retries=0).list_workspaces()
    echo = ExalsiusClient(canned.url, token=TOKEN, timeout=5, retries=0)
    # servers and proxies that echo the request's Authorization header back
    canned.reply(
        Canned(502, f"<html>bad gateway; upstream saw Authorization: Bearer {TOKEN}</html>"),
        Canned(502, "<p>" + "x" * 100 + f" Bearer {TOKEN}</p>"),  # cut mid-token by the excerpt
        Canned(401, json.dumps({"detail": {"type": "x", "title": "Unauthorized", "status": 401,
                                           "detail": f"token {TOKEN} is expired",
                                           "instance": f"/workspaces?token={TOKEN}"}})),
        Canned(200, f"debug: Bearer {TOKEN}", {"Content-Type": "text/plain"}),
        Canned(200, json.dumps({"workspace_id": 1, "echo": TOKEN})),
    )
    yield "echo-502", echo.list_workspaces
    yield "echo-502-cut", echo.list_workspaces
    yield "echo-401", echo.list_workspaces
    yield "echo-200-not-json", echo.list_workspaces
    yield "echo-bad-shape", lambda: echo.stop_workspace(UNKNOWN_ID)
    yield "insecure", lambda: ExalsiusClient("http://example.com/v1", token=TOKEN)
    yield "bad-url", lambda: ExalsiusClient(f"ftp://example.com/{TOKEN}", token=TOKEN)
    yield "bad-id", lambda: client.describe_workspace("")


def test_token_never_in_any_error(sandbox: Sandbox, canned: CannedServer,
                                  sandbox_factory: Callable[..., Sandbox]) -> None:
    seen: dict[str, type[ExalsiusError]] = {}
    for kind, action in _error_kinds(sandbox, canned, sandbox_factory):
        with pytest.raises(ExalsiusError) as info:
            action()
        err = info.value
        seen[kind] = type(err)
        for text in (str(err), repr(err), *(str(a) for a in err.args),
                     str(err.title), str(err.detail), str(err.instance)):
            assert TOKEN not in text, kind
            assert TOKEN[-12:] not in text and TOKEN[:12] not in text, kind
    assert len(set(seen.values())) >= 10, seen


# -- retries --------------------------------------------------------------------------------


def test_get_retried_on_503(sandbox: Sandbox, client: ExalsiusClient) -> None:
    sandbox.fail_next(2, status=503, retry_after=0)
    assert client.list_workspaces().total == 0
    assert sandbox.request_count("GET", "/workspaces") == 3


def test_get_retried_on_429(sandbox: Sandbox, client: ExalsiusClient) -> None:
    sandbox.fail_next(1, status=429, retry_after=0)
    client.list_workspaces()
    assert sandbox.request_count("GET", "/workspaces") == 2


def test_get_retried_on_dropped_connection(sandbox: Sandbox, client: ExalsiusClient) -> None:
    wid = client.create_workspace(make_spec())
    sandbox.reset_counts()
    sandbox.drop_next(1)
    assert client.describe_workspace(wid).id == wid
    assert sandbox.request_count("GET", "/workspace/{id}") == 2


def test_delete_retried(sandbox: Sandbox, client: ExalsiusClient) -> None:
    wid = client.create_workspace(make_spec())
    sandbox.fail_next(1, status=503, retry_after=0)
    assert client.delete_workspace(wid) == wid
    sandbox.drop_next(1)
    assert client.delete_workspace(wid) == wid  # repeating a delete is harmless
    assert sandbox.request_count("DELETE", "/workspace/{id}") == 4


def test_retries_are_bounded(sandbox: Sandbox) -> None:
    client = ExalsiusClient(sandbox.url, timeout=5, retries=2, backoff_factor=0.01)
    sandbox.fail_next(10, status=503, retry_after=0)
    with pytest.raises(ServerError) as info:
        client.list_workspaces()
    assert info.value.status == 503
    assert sandbox.request_count("GET", "/workspaces") == 3


def test_outage_ends_in_server_error(sandbox: Sandbox) -> None:
    sandbox.faults.retry_after = 0
    sandbox.outage(True)
    client = ExalsiusClient(sandbox.url, timeout=5, retries=1)
    with pytest.raises(ServerError):
        client.list_workspaces()
    assert sandbox.request_count("GET") == 2
    sandbox.outage(False)
    assert client.list_workspaces().total == 0


@pytest.mark.parametrize("fault", ["503", "502", "504", "429", "drop"])
def test_create_is_never_resent(sandbox: Sandbox, client: ExalsiusClient, fault: str) -> None:
    if fault == "drop":
        sandbox.drop_next(1)
    else:
        sandbox.fail_next(1, status=int(fault), retry_after=0)
    # A dropped answer may hide a create: it is looked up by name (here: not there).
    expected = UnknownOutcomeError if fault == "drop" else ExalsiusError
    with pytest.raises(expected):
        client.create_workspace(make_spec())
    assert sandbox.request_count("POST", "/workspaces") == 1
    assert client.list_workspaces().total <= 1


@pytest.mark.parametrize("fault", ["503", "drop"])
def test_stop_is_never_resent(sandbox: Sandbox, client: ExalsiusClient, fault: str) -> None:
    wid = client.create_workspace(make_spec())
    if fault == "drop":
        sandbox.drop_next(1)
    else:
        sandbox.fail_next(1, status=503, retry_after=0)
    with pytest.raises((ServerError, ConnectionFailedError)):
        client.stop_workspace(wid)
    assert sandbox.request_count("POST", "/workspace/{id}/stop") == 1


def test_post_read_timeout_is_not_resent(sandbox_factory: Callable[..., Sandbox]) -> None:
    slow = sandbox_factory(latency=1.0)
    client = ExalsiusClient(slow.url, timeout=(2.0, 0.3))
    with pytest.raises(UnknownOutcomeError):  # the lookups by name time out as well
        client.create_workspace(make_spec())
    with pytest.raises(RequestTimeoutError):
        client.stop_workspace(UNKNOWN_ID)
    wait_until(lambda: slow.request_count("POST") == 2, what="both POSTs arrived")
    assert slow.request_count("POST", "/workspaces") == 1
    assert slow.request_count("POST", "/workspace/{id}/stop") == 1


def test_proxy_html_page_on_create_is_not_resent(canned: CannedServer) -> None:
    canned.reply(Canned(502, "<html><body><h1>502 Bad Gateway</h1>\n<hr>nginx</body></html>",
                        {"Content-Type": "text/html", "Retry-After": "0"}))
    client = ExalsiusClient(canned.url, timeout=5)
    with pytest.raises(ServerError) as info:
        client.create_workspace(make_spec())
    assert str(info.value) == "HTTP 502 Bad Gateway: 502 Bad Gateway nginx"
    assert canned.count("POST") == 1


def test_retry_after_is_capped(canned: CannedServer) -> None:
    canned.reply(Canned(503, "busy", {"Retry-After": "3600"}))
    client = ExalsiusClient(canned.url, timeout=5, retries=1)
    started = time.monotonic()
    with pytest.raises(ServerError):
        client.list_workspaces()
    elapsed = time.monotonic() - started
    # A hang guard, not a speed goal: one capped wait, nowhere near the hour asked for.
    assert elapsed < CappedRetry.max_retry_after + 15
    assert canned.count() == 2
    assert CappedRetry().parse_retry_after("3600") == CappedRetry.max_retry_after


# -- timeouts and refused connections ---------------------------------------------------------


def test_read_timeout(sandbox_factory: Callable[..., Sandbox]) -> None:
    slow = sandbox_factory(latency=1.0)
    client = ExalsiusClient(slow.url, timeout=0.3)
    with pytest.raises(RequestTimeoutError) as info:
        client.list_workspaces()
    assert "timed out after 0.3s" in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, TimeoutError)
    # A slow server is not a lost request: one attempt, not retries x timeout.
    assert slow.request_count("GET") == 1


def test_connection_refused() -> None:
    client = ExalsiusClient(f"http://127.0.0.1:{free_port()}/v1", timeout=2, retries=1)
    with pytest.raises(ConnectionFailedError) as info:
        client.list_workspaces()
    text = str(info.value)
    assert "\n" not in text and "connection refused" in text and "127.0.0.1" in text


# -- client-side validation and arguments -----------------------------------------------------


@pytest.mark.parametrize(
    ("field", "spec"),
    [
        ("name", {k: v for k, v in make_spec().items() if k != "name"}),
        ("cluster_id", {k: v for k, v in make_spec().items() if k != "cluster_id"}),
        ("template", {k: v for k, v in make_spec().items() if k != "template"}),
        ("resources", {k: v for k, v in make_spec().items() if k != "resources"}),
        ("template.name", make_spec(template={"variables": {}})),
        ("template.variables", make_spec(template={"name": "jupyter-notebook"})),
        ("name", make_spec(name=3)),
        ("cluster_id", make_spec(cluster_id="cluster-1")),
        ("resources.gpu_count", make_spec(resources={"gpu_count": "1"})),
        ("resources.memory_gb", make_spec(resources={"memory_gb": 1.5})),
        ("template.variables", make_spec(template={"name": "t", "variables": {"p": float("nan")}})),
    ],
)
def test_invalid_spec_sends_nothing(sandbox: Sandbox, client: ExalsiusClient, field: str,
                                    spec: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        client.create_workspace(spec)
    assert field in str(info.value)
    assert sandbox.request_count("POST") == 0


@pytest.mark.parametrize("wid", ["", "   ", None, 5, ".", ".."])
@pytest.mark.parametrize("operation", ["describe_workspace", "stop_workspace",
                                       "delete_workspace", "start_workspace", "workspace_logs"])
def test_bad_id_sends_nothing(sandbox: Sandbox, client: ExalsiusClient, operation: str,
                              wid: Any) -> None:
    # Regression: "." and ".." were sent as path segments, which the URL layer resolves
    # (/workspace/../start -> /start): a request to another route, and for start/logs a
    # cached "server does not offer it".
    with pytest.raises(ValidationError):
        getattr(client, operation)(wid)
    assert sandbox.request_count() == 0
    assert client.offers("start") is True


@pytest.mark.parametrize("url", ["api.exalsius.ai/v1", "ftp://x/v1", "http://", "  "])
def test_bad_base_url(url: str) -> None:
    with pytest.raises(ValidationError):
        ExalsiusClient(url)


@pytest.mark.parametrize("timeout", [0, -1, (0, 5), (5, -1)])
def test_bad_timeout(timeout: Any) -> None:
    with pytest.raises(ValidationError):
        ExalsiusClient("https://api.exalsius.ai/v1", timeout=timeout)


def test_timeouts() -> None:
    assert ExalsiusClient("https://a.example/v1", timeout=30).timeout == (5.0, 30.0)
    assert ExalsiusClient("https://a.example/v1", timeout=2).timeout == (2.0, 2.0)
    assert ExalsiusClient("https://a.example/v1", timeout=(1, 9)).timeout == (1.0, 9.0)


# -- forward compatibility: the live API's shapes -----------------------------------------------


def test_sandbox_1_46_end_to_end(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(api="1.46")
    client = ExalsiusClient(sb.url, timeout=5)
    wid = client.create_workspace(make_spec())
    ws = _wait_status(client, wid, WorkspaceStatus.RUNNING)
    assert ws.workspace_status is WorkspaceStatus.RUNNING
    assert isinstance(ws.access_information, list)
    assert ws.access_url is not None and ws.access_url.startswith("http://")
    assert any(k.startswith("owner_") for k in ws.extra)
    listing = client.list_workspaces()
    assert listing[0].id == wid and listing.to_dataframe().loc[0, "access_information"]


def test_unknown_status_end_to_end(sandbox: Sandbox, client: ExalsiusClient) -> None:
    wid = client.create_workspace(make_spec())
    sandbox.set_status(wid, "HIBERNATING")
    assert client.describe_workspace(wid).workspace_status is WorkspaceStatus.UNKNOWN
    df = client.list_workspaces().to_dataframe()
    assert list(df["workspace_status"]) == ["UNKNOWN"]


def test_token_not_in_session_state(sandbox: Sandbox) -> None:
    # Regression: the token sat in session.headers, so printing client.session.headers (or the
    # client's vars in a debugger/variable inspector) showed it.
    client = ExalsiusClient(sandbox.url, token=TOKEN, timeout=5)
    client.list_workspaces()
    for text in (repr(client.session.headers), repr(vars(client)), repr(vars(client.session))):
        assert TOKEN not in text
    assert sandbox.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("token", [TOKEN, None])
def test_netrc_never_replaces_or_adds_credentials(sandbox: Sandbox, tmp_path: Any,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  token: str | None) -> None:
    # Regression: requests consults ~/.netrc when no auth object is set, so a netrc entry for
    # the API host replaced the Bearer token with Basic auth (and sent the netrc password).
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1\nlogin someone\npassword hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.delenv("EXALSIUS_TOKEN", raising=False)
    ExalsiusClient(sandbox.url, token=token, timeout=5).list_workspaces()
    headers = sandbox.requests[-1].headers
    if token:
        assert headers["authorization"] == f"Bearer {TOKEN}"
    else:
        assert "authorization" not in headers


@pytest.mark.parametrize("limit", [0, -3, True, "5", 2.5])
def test_logs_limit_must_be_positive_int(sandbox: Sandbox, client: ExalsiusClient,
                                         limit: Any) -> None:
    # Regression: limit=0 (or negative) still returned one record.
    wid = client.create_workspace(make_spec())
    sandbox.reset_counts()
    with pytest.raises(ValidationError, match="limit"):
        client.workspace_logs(wid, limit=limit)
    assert sandbox.request_count() == 0


def test_logs_limit_one(client: ExalsiusClient) -> None:
    wid = client.create_workspace(make_spec())
    assert len(client.workspace_logs(wid, limit=1)) == 1
