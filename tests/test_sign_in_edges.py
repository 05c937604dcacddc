"""Sign-in at its edges (issue #13, findings 5 to 9): one line instead of tracebacks, honest links
and logouts, clean terminal text, and a sandbox provider that resists abuse.

Providers here are the sandbox or a canned server, on 127.0.0.1; a kernel is the real
InteractiveShell.
"""

from __future__ import annotations

import html
import json
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from IPython.core.interactiveshell import InteractiveShell
from support import Canned, CannedServer
from test_auth import file_keyring  # noqa: F401  (a fixture)
from test_magics_shell import close_shell, make_shell, run, usage_error

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.auth.command import CommandToken
from exalsius_jupyter.auth.device import DeviceLogin
from exalsius_jupyter.auth.keyring_store import KEYRING_SERVICE, KeyringTokens
from exalsius_jupyter.auth.settings import DEFAULT_CLIENT_ID, AuthSettings
from exalsius_jupyter.auth.tokens import Tokens
from exalsius_jupyter.errors import CredentialCommandError, ExalsiusError, SignInError
from exalsius_jupyter.sandbox import Sandbox
from exalsius_jupyter.session import Session
from exalsius_jupyter.text import printable

DEVICE = "DC-0123456789abcdef-device"
ESC_TEXT = "oops\x1b[2J\x1b]0;title\x07\x00\x9b31m red\x07"


def issuer(canned: CannedServer) -> AuthSettings:
    return AuthSettings(issuer=f"http://127.0.0.1:{canned._httpd.server_address[1]}/",
                        timeout=5)


def no_controls(text: str) -> bool:
    return not any((ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F for ch in text)


# -- 5: one line, not a traceback ------------------------------------------------------------


@pytest.fixture
def shell(canned: CannedServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    sh = make_shell(canned.url, monkeypatch)
    sh.run_line_magic("config", "Exalsius.use_keyring = False")
    yield sh
    close_shell(sh)


@pytest.mark.parametrize("typed", ["tok-0123456789abcdef\u200b", "tok-0123456789\U0001f600"])
def test_login_token_with_a_pasted_odd_character_is_one_line(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, typed: str, canned: CannedServer) -> None:
    import getpass

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": typed)
    line = usage_error(shell, capsys, "%exalsius login --token", "login --token")
    assert "0123456789" not in line and "U+" in line
    from exalsius_jupyter.session import current_session

    assert current_session().token is None  # the bad token is not kept
    assert canned.count() == 0


def test_a_keyring_expiry_past_year_9999_breaks_nothing(file_keyring: Path) -> None:  # noqa: F811
    import keyring

    keyring.set_password(KEYRING_SERVICE, f"{DEFAULT_CLIENT_ID}_access_token", "tok-abc")
    keyring.set_password(KEYRING_SERVICE, f"{DEFAULT_CLIENT_ID}_expiry",
                         "9999-12-31T23:59:59-01:00")
    source = KeyringTokens()
    assert "exls keyring sign-in" in source.describe()
    tokens = source.load()
    assert tokens is not None and tokens.access_token == "tok-abc"


def device_answer(canned: CannedServer, **overrides: Any) -> None:
    port = canned._httpd.server_address[1]
    canned.json({"device_code": DEVICE, "user_code": "BCDF-GHJK",
                 "verification_uri": f"http://127.0.0.1:{port}/activate",
                 "expires_in": 60, "interval": 0.05, **overrides})


def test_a_failed_terminal_sign_in_leaves_nothing_pending(canned: CannedServer) -> None:
    device_answer(canned)
    canned.json([])  # a token answer that is no object
    session = Session(auth_settings=issuer(canned), pending_wait=20)
    with pytest.raises(SignInError):
        session.login(on_code=lambda code: None)
    assert session.pending is None and session.sign_in is None
    assert "pending" not in session.describe_credential()


def test_a_huge_expires_in_in_a_sign_in_is_clamped(canned: CannedServer) -> None:
    device_answer(canned)
    canned.json({"access_token": "tok-abc", "expires_in": 3e11, "refresh_token": "RT-x"})
    session = Session(auth_settings=issuer(canned))
    signed = session.login(on_code=lambda code: None)
    assert signed.expires_at - datetime.now(timezone.utc) <= timedelta(days=31)
    assert "expires" in session.describe_credential()


# -- 6: links and codes ------------------------------------------------------------------------


def test_an_approval_page_off_loopback_over_http_is_text_with_a_warning(
        canned: CannedServer) -> None:
    from exalsius_jupyter.widgets.sign_in import SignInWidget

    device_answer(canned, verification_uri="http://evil.example/activate",
                  verification_uri_complete="http://evil.example/activate?user_code=BCDF-GHJK")
    widget = SignInWidget(issuer(canned))
    try:
        code = widget.prepare()
        assert code is not None and code.link_is_safe is False
        shown = widget.link.value + widget._repr_html_()
        assert "href" not in shown and "evil.example" in html.unescape(shown)
        assert "not https" in shown
        assert "not https" in repr(widget)
    finally:
        widget.close()


@pytest.mark.parametrize("where", ["page", "complete, %-encoded", "user code"])
def test_a_device_code_never_reaches_a_link(canned: CannedServer, where: str) -> None:
    port = canned._httpd.server_address[1]
    base = f"http://127.0.0.1:{port}/activate"
    if where == "page":
        device_answer(canned, verification_uri=f"{base}?d={DEVICE}",
                      verification_uri_complete=None)
    elif where == "complete, %-encoded":
        encoded = "".join(f"%{ord(c):02X}" for c in DEVICE)
        device_answer(canned, verification_uri_complete=f"{base}?user_code=X&d={encoded}")
    else:
        device_answer(canned, user_code=DEVICE)
    login = DeviceLogin(issuer(canned))
    try:
        code = login.start()
    except SignInError as exc:
        assert DEVICE not in str(exc)
        return
    from urllib.parse import unquote

    shown = f"{code.verification_uri} {code.verification_uri_complete} {code.user_code} {code!r}"
    assert DEVICE.lower() not in unquote(shown).lower()


# -- 7: logout says what it did ---------------------------------------------------------------


def test_logout_everywhere_without_a_refresh_token_says_so(canned: CannedServer) -> None:
    session = Session(auth_settings=issuer(canned))
    session.adopt(Tokens("tok-abc", None, None, datetime.now(timezone.utc) + timedelta(hours=1)))
    report = session.logout(everywhere=True)
    summary = report.summary()
    assert "no refresh token to revoke" in summary and "was revoked" not in summary
    assert "works until" in summary  # the access token lives on: say until when
    assert canned.count() == 0  # nothing to revoke: nothing sent


# -- 8: control characters and secrets in command and server text ----------------------------


def script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "cmd.py"
    path.write_text(body, encoding="utf-8")
    return [sys.executable, str(path)]


def test_a_failing_token_commands_stderr_is_clean_and_holds_no_jwt(tmp_path: Path) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlLXNlY3JldA"
    command = CommandToken(script(
        tmp_path, f"import sys; sys.stderr.write({ESC_TEXT!r} + ' token={jwt}'); sys.exit(2)"),
        timeout=10)
    with pytest.raises(CredentialCommandError) as info:
        command.token()
    message = str(info.value)
    assert no_controls(message) and "oops" in message and "red" in message
    assert jwt not in message and "c2lnbmF0dXJl" not in message


def test_server_text_in_errors_has_no_control_characters(canned: CannedServer) -> None:
    canned.json({"detail": {"type": "about:blank", "title": "Bad\x1b[31m", "status": 400,
                            "detail": ESC_TEXT, "instance": "/workspaces"}}, status=400)
    client = ExalsiusClient(canned.url, timeout=5)
    with pytest.raises(ExalsiusError) as info:
        client.list_workspaces()
    assert no_controls(str(info.value)) and "oops" in str(info.value)


def test_printable_keeps_text_and_drops_escapes() -> None:
    assert printable("a\x1b[1mb\x1b[0m\tc\n") == "ab\tc\n"
    assert printable("x\x1b]8;;http://evil\x07link\x1b]8;;\x07") == "xlink"
    assert printable("\u202eevil") == "evil"


def test_logs_lines_are_printed_without_control_characters(
        canned: CannedServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    wid = "3f2a1b4c-0000-4000-8000-000000000001"
    listing = {"workspaces": [{"id": wid, "name": "nb", "cluster_id": "c",
                               "workspace_status": "RUNNING"}]}
    record = {"timestamp": "2026-01-01T00:00:00Z", "log_message": ESC_TEXT}
    canned.json(listing)
    canned.reply(Canned(200, (json.dumps(record) + "\n").encode(),
                        {"Content-Type": "application/x-ndjson"}))
    shell = make_shell(canned.url, monkeypatch)
    try:
        ran = run(shell, capsys, f"%exalsius logs {wid}")
    finally:
        close_shell(shell)
    assert "oops" in ran.out, (ran.out, ran.err)
    assert no_controls(ran.out + ran.err), repr(ran.out)


# -- 9: the sandbox's provider -----------------------------------------------------------------


@pytest.fixture
def idp() -> Iterator[Sandbox]:
    with Sandbox(auth=True, device_interval=0.05, seed=1) as sb:
        yield sb


def start_code(sb: Sandbox) -> str:
    assert sb.issuer_url is not None and sb.idp is not None
    r = requests.post(sb.issuer_url + "oauth/device/code", timeout=5,
                      data={"client_id": sb.idp.client_id, "scope": "openid"})
    assert r.status_code == 200, r.text
    return str(r.json()["user_code"])


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
def test_a_cross_site_approval_is_refused(idp: Sandbox, origin: str) -> None:
    user_code = start_code(idp)
    assert idp.issuer_url is not None
    r = requests.post(idp.issuer_url + "activate", timeout=5, headers={"Origin": origin},
                      data={"user_code": user_code, "action": "approve"})
    assert r.status_code == 403
    assert idp.auth_counts()["approvals"] == 0
    same = idp.issuer_url.rstrip("/")
    r = requests.post(idp.issuer_url + "activate", timeout=5, headers={"Origin": same},
                      data={"user_code": user_code, "action": "approve"})
    assert r.status_code == 200 and idp.auth_counts()["approvals"] == 1


def test_wrong_user_codes_are_limited(idp: Sandbox) -> None:
    user_code = start_code(idp)
    assert idp.issuer_url is not None
    statuses = [requests.post(idp.issuer_url + "activate", timeout=5,
                              data={"user_code": f"BBBB-BB{i:02d}", "action": "approve"}
                              ).status_code for i in range(20)]
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}
    r = requests.post(idp.issuer_url + "activate", timeout=5,
                      data={"user_code": user_code, "action": "approve"})
    assert r.status_code == 429  # this client is limited: even a right code waits
    assert idp.auth_counts()["approvals"] == 0


def test_pending_grants_are_capped(idp: Sandbox) -> None:
    assert idp.issuer_url is not None and idp.idp is not None
    cap = idp.idp.max_pending
    statuses: list[int] = []
    lock = threading.Lock()

    def ask(n: int) -> None:
        with requests.Session() as http:
            for _ in range(n):
                r = http.post(idp.issuer_url + "oauth/device/code", timeout=10,
                              data={"client_id": idp.idp.client_id, "scope": "openid"})
                with lock:
                    statuses.append(r.status_code)

    workers = [threading.Thread(target=ask, args=((cap + 100) // 4,)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert statuses.count(200) == cap
    assert set(statuses) == {200, 429}
