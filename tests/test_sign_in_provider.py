"""A broken or hostile identity provider (issue #13, findings 2 and 3): what it says is untrusted
text, and renewing a sign-in counts against the call's deadline.

Every provider here is real HTTP on 127.0.0.1: canned answers, one that never answers, and one
that drips a byte at a time.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from support import SLACK, CannedServer, SocketServer

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.auth.command import CommandToken
from exalsius_jupyter.auth.device import DeviceLogin
from exalsius_jupyter.auth.provider import refresh_tokens, revoke
from exalsius_jupyter.auth.renewal import RenewingTokens
from exalsius_jupyter.auth.settings import AuthSettings
from exalsius_jupyter.auth.tokens import Tokens
from exalsius_jupyter.errors import (
    AuthenticationError,
    CredentialCommandError,
    ExalsiusError,
    RequestTimeoutError,
    SignInError,
    TransportError,
)
from exalsius_jupyter.session import Session

REFRESH = "RT-0123456789abcdef-refresh"
ACCESS = "AT-0123456789abcdef-access"
DEVICE = "DC-0123456789abcdef-device"


def issuer(server: CannedServer | SocketServer) -> AuthSettings:
    """Sign-in settings whose issuer is ``server``."""
    port = server._httpd.server_address[1] if isinstance(server, CannedServer) else server.port
    return AuthSettings(issuer=f"http://127.0.0.1:{port}/", timeout=5)


def expired_tokens() -> Tokens:
    """Tokens whose access token expired a minute ago, with a refresh token."""
    now = datetime.now(timezone.utc)
    return Tokens(ACCESS, REFRESH, None, now - timedelta(minutes=1), now - timedelta(hours=1))


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (REFRESH, ACCESS, DEVICE):
            assert secret not in text, text
            assert secret[:12] not in text, text


# -- finding 2: the error field is untrusted text ----------------------------------------------


ECHOES = {
    "refresh token in error": {"error": f"invalid_grant: refresh token {REFRESH} is revoked"},
    "refresh token in both": {"error": f"invalid_grant {REFRESH}",
                              "error_description": f"token {REFRESH}"},
    "access token in error": {"error": f"invalid_grant ({ACCESS})"},
    "control characters": {"error": "invalid_grant\x1b[31m\x07\x00 bad"},
}


@pytest.mark.parametrize("body", ECHOES.values(), ids=ECHOES.keys())
def test_a_refused_refresh_shows_no_secret(canned: CannedServer, body: dict[str, str]) -> None:
    canned.json(body, status=403)
    with pytest.raises(AuthenticationError) as info:
        refresh_tokens(issuer(canned), REFRESH, secrets=(ACCESS,))
    message = str(info.value)
    assert message.startswith("signed out: run %exalsius login"), message
    assert "invalid_grant" in message
    assert_no_secret(message)
    assert not any(ord(ch) < 32 or ch == "\x7f" for ch in message), repr(message)


def test_a_huge_error_becomes_a_short_line(canned: CannedServer) -> None:
    canned.json({"error": "x" * 100_000, "error_description": "y" * 100_000}, status=403)
    with pytest.raises(AuthenticationError) as info:
        refresh_tokens(issuer(canned), REFRESH)
    assert len(str(info.value)) < 400


def test_the_signed_out_line_and_describe_show_no_secret(canned: CannedServer) -> None:
    canned.json(ECHOES["refresh token in error"], status=403)
    session = RenewingTokens(expired_tokens(), issuer(canned))
    with pytest.raises(AuthenticationError) as info:
        session.token()
    with pytest.raises(AuthenticationError) as again:
        session.token()  # the stored reason
    assert_no_secret(str(info.value), str(again.value), session.describe(), repr(session))


def test_a_refused_revoke_shows_no_secret(canned: CannedServer) -> None:
    canned.json({"error": f"invalid_request: {REFRESH} unknown"}, status=400)
    with pytest.raises(SignInError) as info:
        revoke(issuer(canned), REFRESH)
    assert "invalid_request" in str(info.value)
    assert_no_secret(str(info.value))


def test_logout_everywhere_notes_show_no_secret(canned: CannedServer) -> None:
    canned.json({"error": f"invalid_request: {REFRESH} unknown"}, status=400)
    session = Session(auth_settings=issuer(canned))
    session.adopt(Tokens(ACCESS, REFRESH, None, datetime.now(timezone.utc) + timedelta(hours=1)))
    report = session.logout(everywhere=True)
    assert report.notes and canned.count("POST") == 1
    assert "could not be revoked" in report.summary()
    assert_no_secret(*report.notes, report.summary())


def device_start(canned: CannedServer, **overrides: Any) -> None:
    canned.json({"device_code": DEVICE, "user_code": "BCDF-GHJK",
                 "verification_uri": f"http://127.0.0.1:{canned._httpd.server_address[1]}/a",
                 "expires_in": 60, "interval": 0.1, **overrides})


def test_a_device_poll_error_shows_no_device_code(canned: CannedServer) -> None:
    device_start(canned)
    canned.json({"error": f"invalid_grant {DEVICE}", "error_description": DEVICE}, status=400)
    login = DeviceLogin(issuer(canned))
    login.start()
    with pytest.raises(SignInError) as info:
        login.poll_once()
    assert "invalid_grant" in str(info.value)
    assert_no_secret(str(info.value), repr(login), repr(login.code))


def test_a_start_error_is_clipped_and_cleaned(canned: CannedServer) -> None:
    canned.json({"error": "bad\x1b]8;;http://evil\x07" + "z" * 50_000}, status=400)
    with pytest.raises(SignInError) as info:
        DeviceLogin(issuer(canned)).start()
    message = str(info.value)
    assert len(message) < 400 and "\x1b" not in message and "\x07" not in message


# -- finding 3: renewal within the call's deadline ---------------------------------------------


class Hanging(SocketServer):
    """Reads the request and never answers."""

    def handle(self, conn: socket.socket) -> None:
        conn.recv(65536)
        self.stopped.wait(60)


class Dripping(SocketServer):
    """Answers one byte every 0.3 s, in the headers or in the body."""

    def __init__(self, phase: str) -> None:
        self.phase = phase
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        body = b'{"access_token": "' + b"a" * 5000 + b'"}'
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        conn.recv(65536)
        payload = head + body
        if self.phase == "body":
            conn.sendall(head)
            payload = body
        for byte in payload:
            if self.stopped.wait(0.3):
                return
            conn.sendall(bytes([byte]))


@pytest.fixture(params=["hangs", "drips headers", "drips body"])
def slow_provider(request: pytest.FixtureRequest) -> Iterator[SocketServer]:
    server: SocketServer = (Hanging() if request.param == "hangs"
                            else Dripping(request.param.split()[1]))
    try:
        yield server
    finally:
        server.close()


def timed_calls(client: ExalsiusClient, threads: int) -> list[tuple[float, BaseException | None]]:
    """``threads`` concurrent list calls, each on its own clone: (seconds, error) for each."""
    results: list[tuple[float, BaseException | None]] = []
    barrier = threading.Barrier(threads)

    def call() -> None:
        mine = client.clone()
        barrier.wait()
        began = time.monotonic()
        try:
            mine.list_workspaces()
            results.append((time.monotonic() - began, None))
        except BaseException as exc:
            results.append((time.monotonic() - began, exc))

    workers = [threading.Thread(target=call) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    return results


def test_a_slow_provider_cannot_hold_calls_past_their_deadline(
        slow_provider: SocketServer, canned: CannedServer) -> None:
    canned.json({"workspaces": []})
    settings = AuthSettings(issuer=f"http://127.0.0.1:{slow_provider.port}/", timeout=10)
    session = RenewingTokens(expired_tokens(), settings)
    client = ExalsiusClient(canned.url, token=session, timeout=1.0)  # deadline 3 s
    results = timed_calls(client, 2)
    assert len(results) == 2
    for seconds, error in results:
        assert seconds < client.deadline + SLACK, results
        assert isinstance(error, TransportError), results  # not "signed out"
        assert "signed out" not in str(error)
        assert_no_secret(str(error))
    assert canned.count() == 0
    assert "signed out" not in session.describe()  # a transport fault does not end it


def test_a_provider_that_cannot_be_reached_is_a_transport_error(canned: CannedServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    session = RenewingTokens(expired_tokens(), AuthSettings(issuer=f"http://127.0.0.1:{port}/"))
    with pytest.raises(TransportError) as info:
        session.token()
    assert "could not reach the sign-in server" in str(info.value)
    assert "signed out" not in session.describe()


def script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "cmd.py"
    path.write_text(body, encoding="utf-8")
    return [sys.executable, str(path)]


def test_a_slow_token_command_is_bounded_by_the_call_deadline(
        tmp_path: Path, canned: CannedServer) -> None:
    canned.json({"workspaces": []})
    command = CommandToken(script(tmp_path, "import time; time.sleep(6); print('tok')"),
                           timeout=10)
    client = ExalsiusClient(canned.url, token=command, timeout=1.0)
    began = time.monotonic()
    with pytest.raises(ExalsiusError) as info:
        client.list_workspaces()
    assert time.monotonic() - began < client.deadline + SLACK
    assert isinstance(info.value, CredentialCommandError | RequestTimeoutError), info.value
    assert "timed out" in str(info.value)
    assert canned.count() == 0


def test_a_token_command_that_prints_too_much_is_cut_off(tmp_path: Path) -> None:
    command = CommandToken(script(
        tmp_path, "import sys\nfor _ in range(400): sys.stdout.write('a' * 262144)\n"),
        timeout=30)
    with pytest.raises(CredentialCommandError) as info:
        command.token()
    assert "more than" in str(info.value) and len(str(info.value)) < 400


def test_a_token_command_whose_stderr_is_huge_still_ends(tmp_path: Path) -> None:
    command = CommandToken(script(
        tmp_path, "import sys\nfor _ in range(100): sys.stderr.write('e' * 262144)\n"
                  "sys.exit(3)\n"), timeout=30)
    with pytest.raises(CredentialCommandError) as info:
        command.token()
    assert "exit 3" in str(info.value) and len(str(info.value)) < 400


# -- the 401 renewal is the auth object's (one renewal, one resend) ---------------------------


def counting_command(tmp_path: Path) -> CommandToken:
    """A token command printing a new token on every run (tok-1, tok-2, ...)."""
    counter = tmp_path / "runs"
    return CommandToken(script(tmp_path, (
        "from pathlib import Path\n"
        f"p = Path({str(counter)!r})\n"
        "n = int(p.read_text()) + 1 if p.exists() else 1\n"
        "p.write_text(str(n))\n"
        "print(f'tok-{n}')\n")), timeout=10)


def test_a_401_renews_the_refused_token_once_and_resends_once(
        tmp_path: Path, canned: CannedServer) -> None:
    problem = {"detail": {"type": "about:blank", "title": "Unauthorized", "status": 401,
                          "detail": "token expired", "instance": "/workspaces"}}
    canned.json(problem, status=401).json({"workspaces": []})
    command = counting_command(tmp_path)
    client = ExalsiusClient(canned.url, token=command, timeout=5)
    assert list(client.list_workspaces()) == []
    sent = [r.headers.get("Authorization") for r in canned.requests]
    assert sent == ["Bearer tok-1", "Bearer tok-2"] and command.runs == 2


def test_a_second_401_is_the_users_answer(tmp_path: Path, canned: CannedServer) -> None:
    problem = {"detail": {"type": "about:blank", "title": "Unauthorized", "status": 401,
                          "detail": "no", "instance": "/workspaces"}}
    canned.json(problem, status=401)
    client = ExalsiusClient(canned.url, token=counting_command(tmp_path), timeout=5)
    with pytest.raises(AuthenticationError):
        client.list_workspaces()
    assert canned.count() == 2  # one resend, never a loop
