"""The credential goes only where the transport really connects: parser-differential API URLs.

A URL that two parsers read differently (``http://192.0.2.1\\@127.0.0.1/`` is 127.0.0.1 to
``urlsplit`` but 192.0.2.1 to urllib3) must never make a token look safe to send over http://.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from support import SocketServer
from test_magics_shell import close_shell, make_shell, run

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.errors import InsecureTransportError, ValidationError
from exalsius_jupyter.sandbox import Sandbox

TOKEN = "exls-url-safety-token-0123456789"

# Each of these is refused with a token (as invalid, or as not loopback), whatever the host part
# seems to be: the parsers disagree on it, or it is not really this machine.
DIFFERENTIAL_URLS = [
    "http://192.0.2.1\\@127.0.0.1:9/v1",          # urllib3 connects to 192.0.2.1
    "http://192.0.2.1\\\\@127.0.0.1:9/v1",
    "http://127.0.0.1\\@192.0.2.1/v1",
    "http://user@127.0.0.1/v1",                   # userinfo
    "http://user:pw@127.0.0.1/v1",
    "http://127.0.0.1:80@192.0.2.1/v1",
    "http://127.0.0.1 @192.0.2.1/v1",             # a space
    "http://127.0.0.1\t.example.com/v1",          # control characters
    "http://127.0.0.1\n/v1",
    "http://127.0.0.1\x00.example.com/v1",
    "http://127.0.0.1%00.example.com/v1",         # percent-encoded host
    "http://127.0.0.1?@192.0.2.1/v1",             # query or fragment in a base URL
    "http://127.0.0.1#@192.0.2.1/v1",
    "http://foo.localhost/v1",                    # resolved by the system resolver
    "http://localhost.example.com/v1",
    "http://127.0.0.1.nip.io/v1",
    "http://2130706433/v1",                       # 127.0.0.1 to some resolvers only
    "http://0x7f.0.0.1/v1",
    "http://127.1/v1",
    "http://[::ffff:192.0.2.1]/v1",
    "http://192.0.2.1/v1",
]


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything opens a TCP connection."""
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("connected"))


@pytest.mark.parametrize("url", DIFFERENTIAL_URLS)
def test_a_token_is_never_accepted_for_a_url_parsers_read_differently(
        url: str, no_connections: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises((InsecureTransportError, ValidationError)) as info:
        ExalsiusClient(url, token=TOKEN)
    message = str(info.value)
    assert TOKEN not in message and "\n" not in message
    if "\x00" in url:
        return  # no environment variable can hold a NUL
    monkeypatch.setenv("EXALSIUS_API_URL", url)
    monkeypatch.setenv("EXALSIUS_TOKEN", TOKEN)
    with pytest.raises((InsecureTransportError, ValidationError)):
        ExalsiusClient()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765/v1", "http://127.0.0.2/v1", "http://localhost:1/v1",
            "http://LOCALHOST/v1", "http://[::1]:8765/v1", "https://api.exalsius.ai/v1",
            "https://api.exalsius.ai:8443/v1/"])
def test_ordinary_urls_still_work(url: str) -> None:
    client = ExalsiusClient(url, token=TOKEN)
    assert client.has_token and client.base_url == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://192.0.2.1\\@127.0.0.1:9/v1", "http://a@127.0.0.1/v1"])
def test_ambiguous_urls_are_refused_even_without_a_token(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        ExalsiusClient(url)
    assert "\n" not in str(info.value)


class _Listener(SocketServer):
    """A TCP listener on 127.0.0.2 that records whatever bytes reach it."""

    def __init__(self) -> None:
        self.received = b""
        super().__init__("127.0.0.2")

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(1)
        self.received += conn.recv(65536)


@pytest.fixture
def listener() -> Iterator[_Listener]:
    """A recording listener on 127.0.0.2, closed after the test."""
    server = _Listener()
    try:
        yield server
    finally:
        server.close()


def test_the_audit_case_sends_no_bearer_to_another_host(listener: _Listener) -> None:
    url = f"http://127.0.0.2:{listener.port}\\@127.0.0.1:9/v1"
    with pytest.raises((InsecureTransportError, ValidationError)):
        ExalsiusClient(url, token=TOKEN, timeout=1).list_workspaces()
    assert TOKEN.encode() not in listener.received


def test_config_api_url_refuses_it_too(listener: _Listener, sandbox: Sandbox,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str],
                                       caplog: pytest.LogCaptureFixture) -> None:
    shell: InteractiveShell = make_shell(sandbox.url, monkeypatch)
    try:
        monkeypatch.setenv("EXALSIUS_TOKEN", TOKEN)
        url = f"http://127.0.0.2:{listener.port}\\\\@127.0.0.1:9/v1"
        run(shell, capsys, f"%config Exalsius.api_url = {url!r}")
        assert shell.run_line_magic("config", "Exalsius.api_url") == sandbox.url
        ran = run(shell, capsys, "%exalsius list")
        assert TOKEN not in ran.out + ran.err + caplog.text
        assert "Traceback" not in ran.out + ran.err
    finally:
        close_shell(shell)
    assert TOKEN.encode() not in listener.received
