"""The client against hostile or broken servers (issue #7, items 2-4, 7-9, 17, 18).

Every server here is real HTTP on 127.0.0.1: a dripping server, canned answers, and a lossy
proxy in front of the sandbox that loses the answers to creates.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support import SLACK, Canned, CannedServer, DrippingServer, SocketServer, make_spec

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.api.error_bodies import error_from_response
from exalsius_jupyter.errors import (
    ExalsiusError,
    InvalidResponseError,
    NotFoundError,
    RequestTimeoutError,
    ServerError,
    UnknownOutcomeError,
)
from exalsius_jupyter.sandbox import Sandbox

WID = "3f2a1b4c-0000-4000-8000-000000000001"


# -- a server that drips its answer, one byte at a time ----------------------------------------


@pytest.mark.parametrize("operation", ["list", "describe", "delete", "create"])
def test_a_dripping_server_cannot_hold_a_call_past_its_deadline(
        dripping: DrippingServer, operation: str) -> None:
    client = ExalsiusClient(dripping.url, timeout=1.0)
    assert client.deadline == 3.0  # documented: 3 x the read timeout
    calls = {"list": client.list_workspaces, "describe": lambda: client.describe_workspace(WID),
             "delete": lambda: client.delete_workspace(WID),
             "create": lambda: client.create_workspace(make_spec())}
    # A create whose answer is lost looks the workspace up by name: one more deadline.
    bound = client.deadline * (2 if operation == "create" else 1)
    started = time.monotonic()
    expected = UnknownOutcomeError if operation == "create" else RequestTimeoutError
    with pytest.raises(expected) as info:
        calls[operation]()
    elapsed = time.monotonic() - started
    assert elapsed <= bound + SLACK, f"{operation} took {elapsed:.1f}s (bound {bound:g}s)"
    assert "\n" not in str(info.value)


def test_retry_after_waits_fold_into_the_deadline(canned: CannedServer) -> None:
    canned.reply(Canned(503, "busy", {"Retry-After": "10"}))
    client = ExalsiusClient(canned.url, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(ServerError):
        client.list_workspaces()
    assert time.monotonic() - started <= client.deadline + SLACK
    assert canned.count() == 1  # a 10 s wait does not fit in a 3 s deadline: no retry


def test_the_deadline_is_a_setting() -> None:
    assert ExalsiusClient("http://127.0.0.1:1/v1", timeout=(2, 4)).deadline == 12.0
    assert ExalsiusClient("http://127.0.0.1:1/v1", deadline=7).deadline == 7.0
    with pytest.raises(ExalsiusError):
        ExalsiusClient("http://127.0.0.1:1/v1", deadline=0)


# -- bodies that crash decoders ------------------------------------------------------------------

DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize("body", [DEEP, '{"workspaces": ' + DEEP + "}",
                                  '{"workspaces": [' + '{"a":' * 3000 + "1" + "}" * 3000 + "]}"])
def test_deeply_nested_2xx_bodies_are_invalid_responses(canned: CannedServer, body: str) -> None:
    canned.reply(Canned(200, body, {"Content-Type": "application/json"}))
    client = ExalsiusClient(canned.url, timeout=5)
    for call in (client.list_workspaces, lambda: client.describe_workspace(WID)):
        with pytest.raises(InvalidResponseError) as info:
            call()
        assert "\n" not in str(info.value)


def test_deeply_nested_error_bodies_are_typed_errors(canned: CannedServer) -> None:
    body = '{"detail": ' + DEEP + "}"
    canned.reply(Canned(404, body, {"Content-Type": "application/problem+json"}))
    with pytest.raises(NotFoundError):
        ExalsiusClient(canned.url, timeout=5).describe_workspace(WID)
    assert isinstance(error_from_response(500, DEEP.encode()), ServerError)


@pytest.mark.parametrize("header", ["²", "¹³", "9" * 5000, "-1", "1e3", " 7 x"])
def test_odd_total_count_headers_fall_back(canned: CannedServer, header: str) -> None:
    canned.json({"workspaces": [{"id": "a", "name": "a"}], "total": 5}, **{"X-Total-Count": header})
    assert ExalsiusClient(canned.url, timeout=5).list_workspaces().total == 5
    canned.replies.clear()
    canned.json({"workspaces": [{"id": "a", "name": "a"}]}, **{"X-Total-Count": header})
    assert ExalsiusClient(canned.url, timeout=5).list_workspaces().total == 1


# -- text that cannot be encoded ---------------------------------------------------------------


def test_lone_surrogates_from_the_server_are_replaced(canned: CannedServer) -> None:
    raw = '{"workspaces": [{"id": "w\\ud800", "name": "n\\udfff", "cluster_id": "c"}]}'
    canned.reply(Canned(200, raw, {"Content-Type": "application/json"}))
    client = ExalsiusClient(canned.url, timeout=5)
    listing = client.list_workspaces()
    assert listing[0].id == "w\ufffd" and listing[0].name == "n\ufffd"
    frame = listing.to_dataframe()
    frame.to_string().encode("utf-8")
    assert frame["name"][0] == "n\ufffd"
    canned.replies.clear()
    canned.reply(Canned(404, '{"detail": {"title": "Not Found", "detail": "no \\ud800 here"}}',
                        {"Content-Type": "application/problem+json"}))
    with pytest.raises(NotFoundError) as info:
        client.describe_workspace(WID)
    message = str(info.value)
    message.encode("utf-8")
    assert "no \ufffd here" in message
    canned.replies.clear()
    canned.reply(Canned(200, '{"workspace_id": "x\\udc00"}', {"Content-Type": "application/json"}))
    assert client.create_workspace(make_spec()).encode("utf-8") == "x\ufffd".encode()


def test_emoji_as_surrogate_pairs_are_kept(canned: CannedServer) -> None:
    canned.reply(Canned(200, '{"workspaces": [{"id": "a", "name": "\\ud83d\\ude80"}]}',
                        {"Content-Type": "application/json"}))
    assert ExalsiusClient(canned.url, timeout=5).list_workspaces()[0].name == "\U0001f680"


# -- the 1.46 logs endpoint ---------------------------------------------------------------------


def test_logs_ask_for_ndjson(canned: CannedServer) -> None:
    canned.reply(Canned(200, '{"message": "a"}\n{"message": "b"}\n',
                        {"Content-Type": "application/x-ndjson"}))
    records = ExalsiusClient(canned.url, timeout=5).workspace_logs(WID)
    assert [r["message"] for r in records] == ["a", "b"]
    accept = canned.requests[-1].headers["Accept"]
    assert accept.split(",")[0].strip() == "application/x-ndjson"
    assert "application/problem+json" in accept


@pytest.mark.parametrize("line", ["5", "[1, 2]", '"text"', "null", "[" * 3000])
def test_a_log_line_that_is_not_an_object_is_invalid(canned: CannedServer, line: str) -> None:
    canned.reply(Canned(200, '{"message": "ok"}\n' + line + "\n",
                        {"Content-Type": "application/x-ndjson"}))
    with pytest.raises(InvalidResponseError) as info:
        ExalsiusClient(canned.url, timeout=5).workspace_logs(WID)
    assert "log line" in str(info.value)


# -- creates whose answer is lost ------------------------------------------------------------


class LossyProxy(SocketServer):
    """Forwards to the sandbox; loses the answer to ``POST /v1/workspaces`` as ``mode`` says.

    ``lost``: forwards, then closes without answering; ``stall``: forwards, then answers only
    after ``stall`` seconds; ``swallow``: closes without forwarding (nothing is created).
    """

    def __init__(self, target: str, mode: str, stall: float = 3.0) -> None:
        self.target = target.split("//", 1)[1].split("/", 1)[0]
        self.mode, self.stall = mode, stall
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int(headers.get("Content-Length", "0"))
        while len(body) < length:
            body += conn.recv(65536)
        lossy = method == "POST" and path.endswith("/workspaces")
        if lossy and self.mode == "swallow":
            return
        upstream = http.client.HTTPConnection(self.target, timeout=5)
        upstream.request(method, path, body=body or None,
                         headers={k: v for k, v in headers.items()
                                  if k.lower() not in ("connection", "host")})
        resp = upstream.getresponse()
        payload = resp.read()
        upstream.close()
        if lossy and self.mode == "lost":
            return
        if lossy and self.mode == "stall" and self.stopped.wait(self.stall):
            return
        out = f"HTTP/1.1 {resp.status} {resp.reason}\r\n"
        out += "".join(f"{k}: {v}\r\n" for k, v in resp.getheaders()
                       if k.lower() not in ("connection", "content-length"))
        out += f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        conn.sendall(out.encode("latin-1") + payload)


@pytest.fixture
def lossy() -> Iterator[Any]:
    """Make lossy proxies in front of a sandbox; all are closed after the test."""
    made: list[Any] = []
    sandbox = Sandbox(pending_seconds=0.2, seed=1).start()

    def make(mode: str) -> tuple[LossyProxy, Sandbox]:
        proxy = LossyProxy(sandbox.url, mode)
        made.append(proxy)
        return proxy, sandbox

    try:
        yield make
    finally:
        for proxy in made:
            proxy.close()
        sandbox.stop()


@pytest.mark.parametrize("mode", ["lost", "stall"])
def test_a_create_whose_answer_is_lost_is_found_by_name(lossy: Any, mode: str) -> None:
    proxy, sandbox = lossy(mode)
    client = ExalsiusClient(proxy.url, timeout=1.0)
    recovered = []
    for index in range(5):
        wid = client.create_workspace(make_spec(name=f"lost-{mode}-{index}"))
        recovered.append(wid)
    assert client.recovered_creates == 5
    assert sandbox.request_count("POST", "/workspaces") == 5  # never resent
    names = {ws.id: ws.name for ws in ExalsiusClient(sandbox.url, timeout=5).list_workspaces()}
    assert [names[wid] for wid in recovered] == [f"lost-{mode}-{i}" for i in range(5)]


def test_a_create_that_cannot_be_settled_is_an_unknown_outcome(lossy: Any) -> None:
    proxy, sandbox = lossy("swallow")
    client = ExalsiusClient(proxy.url, timeout=1.0)
    with pytest.raises(UnknownOutcomeError) as info:
        client.create_workspace(make_spec(name="swallowed"))
    message = str(info.value)
    assert "\n" not in message and "may or may not" in message and "list" in message
    assert info.value.name == "swallowed"
    assert client.recovered_creates == 0
    assert sandbox.request_count("POST", "/workspaces") == 0


def test_a_refused_create_is_not_looked_up(canned: CannedServer) -> None:
    port = canned.url.split(":")[2].split("/")[0]
    canned.stop()
    client = ExalsiusClient(f"http://127.0.0.1:{port}/v1", timeout=1.0)
    with pytest.raises(ExalsiusError) as info:
        client.create_workspace(make_spec())
    assert not isinstance(info.value, UnknownOutcomeError)  # nothing was sent


# -- no mutating probes; the sandbox badge ----------------------------------------------------


@pytest.mark.parametrize("extras", [True, False])
def test_offers_probes_without_a_mutating_request(extras: bool) -> None:
    with Sandbox(extras=extras) as sandbox:
        client = ExalsiusClient(sandbox.url, timeout=5)
        assert client.offers("start") is extras
        assert client.offers("logs") is extras
        methods = {r.method for r in sandbox.requests}
        assert methods == {"GET"}, methods


def test_only_the_embedded_sandbox_is_a_sandbox(canned: CannedServer) -> None:
    canned.json({"workspaces": []})
    client = ExalsiusClient(canned.url, timeout=5)
    client.list_workspaces()
    assert not client.is_sandbox  # a loopback server that does not say it is the sandbox
    with Sandbox() as sandbox:
        client = ExalsiusClient(sandbox.url, timeout=5)
        assert not client.is_sandbox
        client.list_workspaces()
        assert client.is_sandbox


def test_clone_has_its_own_session_and_the_same_settings() -> None:
    client = ExalsiusClient("https://api.exalsius.ai/v1", token="t" * 20, timeout=(2, 4),
                            deadline=9, api_key_header=True)
    twin = client.clone()
    assert twin.session is not client.session
    assert (twin.base_url, twin.timeout, twin.deadline) == (client.base_url, (2.0, 4.0), 9.0)
    assert twin.has_token and json.dumps(repr(twin)).count("t" * 20) == 0
