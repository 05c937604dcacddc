"""Signing in (the auth package) over real HTTP against the sandbox: no mocks.

The device flow (approve, deny, expire, slow_down, pending, cancel), refresh across expiry,
rotation, one refresh for many threads, reuse detection, the credential command, the exls
keyring entries (a file-backed backend), the precedence of sources, and no token in any text.
"""

from __future__ import annotations

import json
import logging
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from support import AUTH_POLL, wait_until

from exalsius_jupyter.api.bearer import StaticToken, TokenSource, jwt_claims
from exalsius_jupyter.auth.command import CommandToken
from exalsius_jupyter.auth.device import DeviceLogin
from exalsius_jupyter.auth.keyring_store import KEYRING_SERVICE, KeyringTokens
from exalsius_jupyter.auth.provider import refresh_tokens, revoke
from exalsius_jupyter.auth.renewal import RenewingTokens
from exalsius_jupyter.auth.settings import DEFAULT_CLIENT_ID, AuthSettings
from exalsius_jupyter.auth.sources import resolve_token_source
from exalsius_jupyter.auth.tokens import Tokens
from exalsius_jupyter.errors import (
    SIGNED_OUT,
    AuthenticationError,
    CredentialCommandError,
    KeyringError,
    SignInCancelledError,
    SignInDeniedError,
    SignInError,
    SignInExpiredError,
    TransportError,
    ValidationError,
)
from exalsius_jupyter.sandbox import Sandbox

FAST = AUTH_POLL  # the sandboxes' device_interval: seconds between polls
TIMEOUT = 5.0


# -- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def start(auth_sandbox_factory: Callable[..., Sandbox]) -> Callable[..., Sandbox]:
    """Auth-mode sandboxes polled every FAST seconds (conftest.auth_sandbox_factory)."""
    return auth_sandbox_factory


def settings_for(sb: Sandbox, **kwargs: Any) -> AuthSettings:
    """Sign-in settings pointing at a sandbox's issuer."""
    assert sb.issuer_url is not None
    return AuthSettings(issuer=sb.issuer_url, **{"timeout": TIMEOUT, **kwargs})


def decide(sb: Sandbox, user_code: str, action: str = "approve") -> None:
    """Approve or deny a user code through the sandbox's /activate form."""
    assert sb.issuer_url is not None
    r = requests.post(sb.issuer_url + "activate", data={"user_code": user_code, "action": action},
                      timeout=TIMEOUT)
    assert r.status_code == 200, r.text


def decide_later(sb: Sandbox, user_code: str, action: str = "approve",
                 delay: float = 0.5) -> threading.Thread:
    """Approve or deny from another thread after ``delay`` seconds (as a user in a browser)."""

    def run() -> None:
        time.sleep(delay)
        decide(sb, user_code, action)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def sign_in(sb: Sandbox, **kwargs: Any) -> tuple[Tokens, DeviceLogin]:
    """A full device-flow sign-in, approved through the form."""
    login = DeviceLogin(settings_for(sb, **kwargs))
    code = login.start()
    decide(sb, code.user_code)
    return login.wait(), login


def api_status(sb: Sandbox, token: str) -> int:
    """The status of GET /workspaces with a bearer token."""
    r = requests.get(f"{sb.url}/workspaces", headers={"Authorization": f"Bearer {token}"},
                     timeout=TIMEOUT)
    return r.status_code


def secrets_of(tokens: Tokens) -> list[str]:
    """Every secret string of a sign-in."""
    return [s for s in (tokens.access_token, tokens.refresh_token, tokens.id_token) if s]


def assert_no_secret(texts: list[str], secrets: list[str]) -> None:
    """No secret, nor any 12-character piece of one, appears in any text."""
    for secret in secrets:
        assert len(secret) >= 20
        pieces = {secret[i:i + 12] for i in range(0, len(secret) - 12, 6)}
        for text in texts:
            assert secret not in text
            assert not any(p in text for p in pieces), (text, "holds part of a secret")


def one_line(exc: BaseException) -> str:
    """An error's message, checked to be one line."""
    text = str(exc)
    assert "\n" not in text and text.strip() == text and text
    return text


# -- settings -------------------------------------------------------------------------------


def test_settings_defaults_match_exls() -> None:
    s = AuthSettings()
    assert s.domain == "exalsius.eu.auth0.com" and s.client_id == DEFAULT_CLIENT_ID
    assert s.audience == "https://api.exalsius.ai"
    assert s.scope == "openid profile email offline_access"
    assert s.issuer_url == "https://exalsius.eu.auth0.com/"
    assert s.endpoint("oauth/device/code") == "https://exalsius.eu.auth0.com/oauth/device/code"


def test_settings_from_env_and_issuer_urls() -> None:
    env = {"EXALSIUS_AUTH_DOMAIN": "tenant.example.com", "EXALSIUS_AUTH_CLIENT_ID": "abc",
           "EXALSIUS_AUTH_AUDIENCE": "https://api.example.com"}
    s = AuthSettings.from_env(env)
    assert (s.issuer_url, s.client_id, s.audience) == (
        "https://tenant.example.com/", "abc", "https://api.example.com")
    assert AuthSettings.from_env({}) == AuthSettings()
    assert AuthSettings.from_env(env, client_id="xyz").client_id == "xyz"
    url = AuthSettings.from_env({"EXALSIUS_AUTH_DOMAIN": "http://127.0.0.1:8765"})
    assert url.issuer_url == "http://127.0.0.1:8765/"
    assert AuthSettings(issuer="http://localhost:9/").issuer_url == "http://localhost:9/"
    assert AuthSettings(issuer="http://[::1]:9").issuer_url == "http://[::1]:9/"


@pytest.mark.parametrize("issuer", [
    "http://example.com/", "http://127.0.0.1.nip.io/", "ftp://127.0.0.1/",
    "https://user@example.com/", "https://a\\@127.0.0.1/", "https://example.com/?x=1", "https://",
])
def test_settings_refuse_unsafe_issuers(issuer: str) -> None:
    with pytest.raises(ValidationError):
        AuthSettings(issuer=issuer)
    with pytest.raises(ValidationError):
        AuthSettings(domain=issuer)


# -- the device flow ------------------------------------------------------------------------


def test_device_flow_approved(start: Callable[..., Sandbox], caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    sb = start()
    login = DeviceLogin(settings_for(sb))
    code = login.start()
    assert code.verification_uri == f"{sb.issuer_url}activate"
    assert code.verification_uri_complete.endswith("user_code=" + code.user_code)
    assert 0 < code.expires_in() <= 600 and code.interval == FAST
    assert code.expires_at > datetime.now(timezone.utc) + timedelta(seconds=590)
    decide_later(sb, code.user_code)
    ticks: list[float] = []
    began = time.monotonic()
    tokens = login.wait(on_tick=ticks.append)
    assert time.monotonic() - began < 5
    assert ticks and ticks == sorted(ticks, reverse=True)
    assert tokens.identity == "Ada Lovelace"
    assert tokens.claims["email"] == "ada@example.com"
    assert tokens.refresh_token and tokens.id_token
    assert 3500 < tokens.expires_in() <= 3600 and tokens.lifetime == pytest.approx(3600, abs=2)
    assert api_status(sb, tokens.access_token) == 200
    counts = sb.auth_counts()
    assert counts["approvals"] == 1 and counts["tokens_issued"] == 1
    assert counts["device_polls"] == login.polls and login.polls >= 2  # pending, then approved
    texts = [repr(login), repr(code), str(code), repr(tokens), str(tokens), caplog.text]
    assert "Ada Lovelace" in repr(tokens) and code.user_code in repr(code)
    assert_no_secret(texts, [*secrets_of(tokens), code._device_code])
    login.close()


def test_device_flow_denied(start: Callable[..., Sandbox]) -> None:
    sb = start()
    login = DeviceLogin(settings_for(sb))
    code = login.start()
    decide_later(sb, code.user_code, "deny", delay=0.3)
    with pytest.raises(SignInDeniedError) as info:
        login.wait()
    assert one_line(info.value) == "sign-in denied on the approval page"
    assert isinstance(info.value, SignInError) and isinstance(info.value, AuthenticationError)
    assert sb.auth_counts()["denials"] == 1
    assert code._device_code not in repr(info.value)


def test_device_flow_expires_within_the_codes_lifetime(start: Callable[..., Sandbox]) -> None:
    sb = start(device_code_ttl=1.5)
    login = DeviceLogin(settings_for(sb))
    code = login.start()
    assert code.expires_in() <= 2  # the sandbox says expires_in=2
    began = time.monotonic()
    with pytest.raises(SignInExpiredError) as info:
        login.wait()
    elapsed = time.monotonic() - began
    assert 1.0 < elapsed < 2 + TIMEOUT
    assert "expired" in one_line(info.value) and "%exalsius login" in str(info.value)
    with pytest.raises(SignInExpiredError):
        login.poll_once()  # no request once the code is gone
    polls = sb.auth_counts()["device_polls"]
    assert polls == login.polls and polls <= 2 / FAST + 1  # expires_in: ceil(1.5)


def test_server_side_expired_token_error(start: Callable[..., Sandbox]) -> None:
    sb = start(device_code_ttl=0.6)
    login = DeviceLogin(settings_for(sb))
    code = login.start()
    code._deadline += 30  # the client thinks it has time; the server says expired_token
    time.sleep(0.8)
    with pytest.raises(SignInExpiredError) as info:
        login.wait()
    assert info.value.status == 400 and login.polls == 1


def test_slow_down_adds_five_seconds(start: Callable[..., Sandbox]) -> None:
    sb = start()
    assert sb.idp is not None
    login = DeviceLogin(settings_for(sb))
    code = login.start()
    time.sleep(FAST + 0.05)
    assert login.poll_once() is None  # authorization_pending
    assert login.interval == FAST
    assert login.poll_once() is None  # on purpose too soon: slow_down
    assert login.interval == pytest.approx(FAST + 5)
    assert sb.idp.interval(code.user_code) == pytest.approx(FAST + 5)  # the server agrees
    decide(sb, code.user_code)
    began = time.monotonic()
    tokens = login.wait()  # honours the grown interval: no second slow_down
    assert FAST + 4.5 < time.monotonic() - began < FAST + 5 + TIMEOUT
    assert login.interval == pytest.approx(FAST + 5) and login.polls == 3
    assert api_status(sb, tokens.access_token) == 200


def test_auth0_statuses_for_pending_and_slow_down(start: Callable[..., Sandbox]) -> None:
    sb = start(oauth_errors="auth0")
    login = DeviceLogin(settings_for(sb))
    code = login.start()
    time.sleep(FAST + 0.05)
    assert login.poll_once() is None  # 403 authorization_pending
    assert login.poll_once() is None  # 429 slow_down
    assert login.interval == pytest.approx(FAST + 5)
    assert code.user_code
    denied = DeviceLogin(settings_for(sb))
    decide(sb, denied.start().user_code, "deny")
    with pytest.raises(SignInDeniedError) as info:
        denied.wait()  # 403 access_denied
    assert info.value.status == 403


def test_pending_keeps_polling_at_the_interval_and_cancel_ends_it(
    start: Callable[..., Sandbox],
) -> None:
    sb = start()
    login = DeviceLogin(settings_for(sb), tick=0.1)
    login.start()
    cancel = threading.Event()
    threading.Timer(1.2, cancel.set).start()
    began = time.monotonic()
    with pytest.raises(SignInCancelledError) as info:
        login.wait(cancel)
    assert time.monotonic() - began < 1.6
    assert one_line(info.value) == "sign-in cancelled"
    counts = sb.auth_counts()
    assert 3 <= counts["device_polls"] <= 1.2 / FAST + 1  # every poll pending, none too soon
    assert counts["tokens_issued"] == 0


def test_poll_before_start_and_start_failures(start: Callable[..., Sandbox]) -> None:
    sb = start()
    with pytest.raises(SignInError, match="not started"):
        DeviceLogin(settings_for(sb)).poll_once()
    with pytest.raises(SignInError) as info:
        DeviceLogin(settings_for(sb, client_id="someone-else")).start()
    assert one_line(info.value).startswith("sign-in could not start: invalid_client")
    port = urlsplit(sb.url).port
    sb.stop()
    with pytest.raises(SignInError) as down:
        DeviceLogin(AuthSettings(issuer=f"http://127.0.0.1:{port}/", timeout=2)).start()
    assert "could not reach the sign-in server" in one_line(down.value)


def test_transient_poll_failures_are_ridden_out_then_reported(
    start: Callable[..., Sandbox],
) -> None:
    sb = start()
    login = DeviceLogin(settings_for(sb), tick=0.05)
    login.start()
    sb.stop()  # the identity provider goes away mid-flow
    began = time.monotonic()
    with pytest.raises(SignInError) as info:
        login.wait()
    assert "could not reach the sign-in server" in one_line(info.value)
    assert login.polls == 3 and time.monotonic() - began < 3 * FAST + 2


# -- refresh --------------------------------------------------------------------------------


def test_refresh_across_expiry_no_401(start: Callable[..., Sandbox]) -> None:
    sb = start(token_ttl=2)
    tokens, _ = sign_in(sb)
    session = RenewingTokens(tokens, settings_for(sb))
    assert session.due() is False and tokens.lifetime == pytest.approx(2, abs=0.5)
    statuses = []
    deadline = time.monotonic() + 5.5
    while time.monotonic() < deadline:
        statuses.append(api_status(sb, session.token()))
        time.sleep(0.1)
    assert set(statuses) == {200}
    assert sb.auth_counts()["unauthorized"] == 0
    assert session.refreshes >= 2 and sb.auth_counts()["refreshes"] == session.refreshes
    assert session.identity == "Ada Lovelace"


def test_rotation_replaces_the_refresh_token(start: Callable[..., Sandbox]) -> None:
    sb = start()
    tokens, _ = sign_in(sb)
    stored: list[Tokens] = []
    session = RenewingTokens(tokens, settings_for(sb), on_refresh=stored.append)
    first = session.token()
    assert first == tokens.access_token and session.refreshes == 0  # not due: no refresh
    second = session.refresh()
    assert second != first and session.tokens.refresh_token != tokens.refresh_token
    assert stored == [session.tokens]
    assert session.refresh(stale=first) == second  # already replaced: no second refresh
    third = session.refresh(stale=second)
    assert third != second and session.refreshes == 2
    assert sb.auth_counts()["refreshes"] == 2 and sb.auth_counts()["reuse_detected"] == 0
    assert api_status(sb, session.token()) == 200


def test_sixteen_threads_one_refresh(start: Callable[..., Sandbox]) -> None:
    sb = start(token_ttl=2)
    tokens, _ = sign_in(sb)
    session = RenewingTokens(tokens, settings_for(sb))
    wait_until(session.due, timeout=5, what="the token's renewal window")
    before = sb.auth_counts()["refresh_requests"]
    barrier = threading.Barrier(16)
    got: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            got.append(session.token())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(got) == 16 and len(set(got)) == 1
    assert got[0] != tokens.access_token
    assert sb.auth_counts()["refresh_requests"] - before == 1
    assert session.refreshes == 1


def test_sixteen_threads_after_a_401_one_refresh(start: Callable[..., Sandbox]) -> None:
    sb = start()
    tokens, _ = sign_in(sb)
    session = RenewingTokens(tokens, settings_for(sb))
    refused = session.token()
    barrier = threading.Barrier(16)
    got: list[str] = []

    def worker() -> None:
        barrier.wait()
        got.append(session.refresh(stale=refused))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(got) == 16 and len(set(got)) == 1 and got[0] != refused
    assert sb.auth_counts()["refresh_requests"] == 1


def test_reused_refresh_token_signs_out(start: Callable[..., Sandbox], caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    sb = start()
    tokens, _ = sign_in(sb)
    settings = settings_for(sb)
    RenewingTokens(tokens, settings).refresh()  # rotates: the original refresh token is used up
    stale = RenewingTokens(tokens, settings)
    with pytest.raises(AuthenticationError) as info:
        stale.refresh()
    message = one_line(info.value)
    assert message.startswith(SIGNED_OUT) and "invalid_grant" in message
    assert sb.auth_counts()["reuse_detected"] == 1
    requests_before = sb.auth_counts()["refresh_requests"]
    with pytest.raises(AuthenticationError, match=r"^signed out: run %exalsius login"):
        stale.token()  # dead: no further request
    assert sb.auth_counts()["refresh_requests"] == requests_before
    assert "signed out" in stale.describe()
    texts = [message, repr(stale), stale.describe(), caplog.text]
    assert_no_secret(texts, secrets_of(tokens))


def test_expired_session_without_refresh_token(start: Callable[..., Sandbox]) -> None:
    sb = start(token_ttl=1)
    tokens, _ = sign_in(sb, scope="openid profile email")
    assert tokens.refresh_token is None
    session = RenewingTokens(tokens, settings_for(sb))
    wait_until(lambda: tokens.expires_in() <= 0, timeout=5)
    with pytest.raises(AuthenticationError, match=r"^signed out: run %exalsius login"):
        session.token()


def test_refresh_while_the_issuer_is_down(start: Callable[..., Sandbox]) -> None:
    sb = start()
    tokens, _ = sign_in(sb)
    now = datetime.now(timezone.utc)
    # still valid for 30 s, but inside the renewal window (60 s of a long lifetime)
    soon = Tokens(tokens.access_token, tokens.refresh_token, tokens.id_token,
                  now + timedelta(seconds=30), now - timedelta(hours=1))
    session = RenewingTokens(soon, settings_for(sb, timeout=2))
    assert session.due()
    sb.stop()
    assert session.token() == tokens.access_token  # the renewal failed; the token still works
    began = time.monotonic()
    assert session.token() == tokens.access_token  # no retry for a few seconds
    assert time.monotonic() - began < 0.05
    with pytest.raises(TransportError) as info:
        session.refresh()  # after a 401 there is nothing to fall back on
    assert "could not reach the sign-in server" in str(info.value)
    assert "signed out" not in one_line(info.value) + session.describe()  # a fault, not an end


def test_revoke_ends_the_session(start: Callable[..., Sandbox]) -> None:
    sb = start()
    tokens, _ = sign_in(sb)
    assert tokens.refresh_token is not None
    settings = settings_for(sb)
    revoke(settings, tokens.refresh_token)
    assert sb.auth_counts()["revocations"] == 1
    assert api_status(sb, tokens.access_token) == 401
    with pytest.raises(AuthenticationError, match=r"^signed out: run %exalsius login"):
        refresh_tokens(settings, tokens.refresh_token)
    with pytest.raises(AuthenticationError, match=r"^signed out"):
        RenewingTokens(tokens, settings).refresh()


# -- static token and credential command ----------------------------------------------------


def test_static_token_cannot_refresh() -> None:
    jwt_like = "eyJhbGciOiJub25lIn0." + "eyJleHAiOjQxMDI0NDQ4MDB9" + ".c2lnbmF0dXJlc2lnbmF0dXJl"
    source = StaticToken(jwt_like, "EXALSIUS_TOKEN")
    assert source.token() == jwt_like and isinstance(source, TokenSource)
    assert source.describe() == "EXALSIUS_TOKEN (expires 2100-01-01 00:00:00 UTC (in "  \
        + source.describe().split("(in ")[1]
    with pytest.raises(AuthenticationError) as info:
        source.refresh()
    assert one_line(info.value).startswith(SIGNED_OUT) and "cannot be refreshed" in str(info.value)
    assert_no_secret([repr(source), str(info.value)], [jwt_like])
    assert StaticToken("x" * 30).describe() == "explicit token (expiry unknown)"
    with pytest.raises(ValidationError):
        StaticToken("  ")


def script(tmp_path: Path, body: str) -> list[str]:
    """A tiny Python script as a credential command."""
    path = tmp_path / "cred.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return [sys.executable, str(path)]


def test_command_token_success_and_rerun(tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    command = script(tmp_path, f"""
        import pathlib
        p = pathlib.Path({str(counter)!r})
        n = int(p.read_text()) + 1 if p.exists() else 1
        p.write_text(str(n))
        print(f"  opaque-token-number-{{n:04d}}-abcdefgh  ")
    """)
    source = CommandToken(command, timeout=20)
    assert source.describe().endswith("(not run yet)")
    first = source.token()
    assert first == "opaque-token-number-0001-abcdefgh"
    assert source.token() == first and source.runs == 1  # opaque: reused until a 401
    second = source.refresh(stale=first)
    assert second == "opaque-token-number-0002-abcdefgh"
    assert source.refresh(stale=first) == second and source.runs == 2
    assert_no_secret([repr(source), source.describe()], [first, second])
    as_text = CommandToken(f"{sys.executable} {command[1]}")
    assert as_text.argv == command and as_text.token().startswith("opaque-token-number-")


def test_command_token_reruns_on_jwt_expiry(tmp_path: Path) -> None:
    command = script(tmp_path, """
        import base64, json, time
        def b64(d):
            return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
        now = time.time()
        print(b64({"alg": "none"}) + "." + b64({"iat": now, "exp": now + 1.5, "n": now})
              + ".signaturesignature")
    """)
    source = CommandToken(command, timeout=20)
    first = source.token()
    assert source.token() == first and source.expires_at is not None
    time.sleep(1.5)
    second = source.token()
    assert second != first and source.runs == 2
    assert jwt_claims(second)["exp"] > jwt_claims(first)["exp"]
    assert "expires" in source.describe()


def test_command_token_failure_shows_stderr_in_one_line(tmp_path: Path) -> None:
    command = script(tmp_path, """
        import sys
        print("leaked-stdout-token-value-12345")
        sys.stderr.write("Error: not signed in.\\n   Run\\texls login   first.\\n")
        sys.exit(3)
    """)
    with pytest.raises(CredentialCommandError) as info:
        CommandToken(command, timeout=20).token()
    message = one_line(info.value)
    assert "failed (exit 3): Error: not signed in. Run exls login first." in message
    assert isinstance(info.value, AuthenticationError)
    empty = script(tmp_path, "import sys; sys.stderr.write('nothing here')")
    with pytest.raises(CredentialCommandError, match="printed no token: nothing here"):
        CommandToken(empty).token()
    two = script(tmp_path, "print('a-token-value'); print('another-line')")
    with pytest.raises(CredentialCommandError, match="more than a token"):
        CommandToken(two).token()
    with pytest.raises(CredentialCommandError, match="could not run: not found"):
        CommandToken("no-such-credential-helper-xyz get-token").token()
    with pytest.raises(ValidationError):
        CommandToken("'unclosed")


def test_command_token_timeout(tmp_path: Path) -> None:
    command = script(tmp_path, """
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])  # holds stdout
        time.sleep(30)
    """)
    began = time.monotonic()
    with pytest.raises(CredentialCommandError) as info:
        CommandToken(command, timeout=0.5).token()
    assert time.monotonic() - began < 4
    assert one_line(info.value).endswith("timed out after 0.5 s")


# -- the exls keyring entries ---------------------------------------------------------------


@pytest.fixture
def file_keyring(tmp_path: Path) -> Iterator[Path]:
    """A file-backed keyring backend installed as the keyring, restored afterwards."""
    pytest.importorskip("keyring")
    import keyring
    import keyring.backend
    import keyring.core
    import keyring.errors

    path = tmp_path / "keyring.json"

    class FileKeyring(keyring.backend.KeyringBackend):
        """Passwords in one JSON file: {service: {username: password}}."""

        priority = 1

        def _load(self) -> dict[str, dict[str, str]]:
            return json.loads(path.read_text()) if path.exists() else {}

        def get_password(self, service: str, username: str) -> str | None:
            return self._load().get(service, {}).get(username)

        def set_password(self, service: str, username: str, password: str) -> None:
            data = self._load()
            data.setdefault(service, {})[username] = password
            path.write_text(json.dumps(data))

        def delete_password(self, service: str, username: str) -> None:
            data = self._load()
            if username not in data.get(service, {}):
                raise keyring.errors.PasswordDeleteError(username)
            del data[service][username]
            path.write_text(json.dumps(data))

    previous = getattr(keyring.core, "_keyring_backend", None)
    keyring.set_keyring(FileKeyring())
    try:
        yield path
    finally:
        # Never leave it for keyring's own discovery to find later (it picks every subclass of
        # KeyringBackend by priority): that would hand this test's stale entries to later tests.
        FileKeyring.priority = -1  # below keyring's own fallback (0): never chosen again
        keyring.core._keyring_backend = previous


def stored(path: Path) -> dict[str, str]:
    """The exalsius_cli entries of the file keyring."""
    return json.loads(path.read_text()).get(KEYRING_SERVICE, {}) if path.exists() else {}


def test_keyring_round_trip_with_exls_key_names(
    start: Callable[..., Sandbox], file_keyring: Path
) -> None:
    sb = start(token_ttl=2)
    tokens, _ = sign_in(sb)
    settings = settings_for(sb)
    KeyringTokens(settings).save(tokens)  # %exalsius login --save
    entries = stored(file_keyring)
    cid = DEFAULT_CLIENT_ID
    assert set(entries) == {f"{cid}_access_token", f"{cid}_refresh_token", f"{cid}_id_token",
                            f"{cid}_expiry"}
    assert entries[f"{cid}_refresh_token"] == tokens.refresh_token
    expiry = datetime.fromisoformat(entries[f"{cid}_expiry"])
    assert expiry.utcoffset() == timedelta(0) and expiry == tokens.expires_at

    source = KeyringTokens(settings)  # a fresh kernel reading the exls sign-in
    loaded = source.load()
    assert loaded is not None and loaded.identity == "Ada Lovelace"
    assert loaded.access_token == tokens.access_token and loaded.expires_at == tokens.expires_at
    assert api_status(sb, source.token()) == 200
    wait_until(source.renewal().due, timeout=5, what="the renewal window")
    renewed = source.token()  # refresh, written back so exls stays signed in
    assert renewed != tokens.access_token and api_status(sb, renewed) == 200
    entries = stored(file_keyring)
    assert entries[f"{cid}_access_token"] == renewed
    assert entries[f"{cid}_refresh_token"] == source.renewal().tokens.refresh_token
    assert entries[f"{cid}_refresh_token"] != tokens.refresh_token
    assert "exls keyring sign-in as Ada Lovelace" in source.describe()
    assert_no_secret([repr(source), source.describe()], [*secrets_of(tokens), renewed])

    source.clear()  # %exalsius logout --everywhere
    assert stored(file_keyring) == {}
    assert KeyringTokens(settings).load() is None
    with pytest.raises(AuthenticationError, match=r"^signed out: run %exalsius login"):
        KeyringTokens(settings).token()
    assert KeyringTokens(settings).describe() == "exls keyring sign-in (none stored)"


def test_keyring_adopts_a_rotation_by_exls_instead_of_reusing(
    start: Callable[..., Sandbox], file_keyring: Path
) -> None:
    sb = start()
    tokens, _ = sign_in(sb)
    settings = settings_for(sb)
    KeyringTokens(settings).save(tokens)
    notebook = KeyringTokens(settings)
    refused = notebook.token()
    assert tokens.refresh_token is not None
    cli = refresh_tokens(settings, tokens.refresh_token)  # `exls get-token` rotated meanwhile
    KeyringTokens(settings).save(cli)
    assert notebook.refresh(stale=refused) == cli.access_token  # re-read, not a stale reuse
    counts = sb.auth_counts()
    assert counts["reuse_detected"] == 0 and counts["refreshes"] == 1
    assert api_status(sb, notebook.token()) == 200


def test_keyring_expiry_parsing(file_keyring: Path) -> None:
    settings = AuthSettings()
    cid = settings.client_id
    import keyring

    keyring.set_password(KEYRING_SERVICE, f"{cid}_access_token", "opaque-access-token-123456")
    keyring.set_password(KEYRING_SERVICE, f"{cid}_expiry", "2100-01-02T03:04:05Z")
    loaded = KeyringTokens(settings).load()
    assert loaded is not None and loaded.refresh_token is None and loaded.id_token is None
    assert loaded.expires_at == datetime(2100, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    keyring.set_password(KEYRING_SERVICE, f"{cid}_expiry", "2100-01-02T03:04:05")  # naive: UTC
    loaded = KeyringTokens(settings).load()
    assert loaded is not None and loaded.expires_at.tzinfo is not None
    keyring.set_password(KEYRING_SERVICE, f"{cid}_expiry", "garbage")
    loaded = KeyringTokens(settings).load()
    assert loaded is not None and loaded.expires_in() <= 0  # unknown: renew before use


def test_keyring_missing_gives_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring -> ImportError
    source = KeyringTokens(AuthSettings())
    with pytest.raises(KeyringError) as info:
        source.load()
    assert one_line(info.value) == (
        "keyring support is not installed: pip install 'exalsius-jupyter[keyring]'")
    assert source.available() is False
    assert resolve_token_source(env={}, use_keyring=None) is None
    with pytest.raises(KeyringError):
        resolve_token_source(env={}, use_keyring=True)


# -- precedence -----------------------------------------------------------------------------


def test_precedence(file_keyring: Path) -> None:
    signed_in = RenewingTokens(Tokens("signed-in-access-token-123456"), AuthSettings())
    env = {"EXALSIUS_TOKEN": "env-token-abcdefghijklmnop"}
    cmd = "exls get-token"
    explicit = resolve_token_source("explicit-token-abcdefghijklmnop", env, signed_in, cmd, True)
    assert isinstance(explicit, StaticToken) and explicit.name == "explicit token"
    from_env = resolve_token_source(None, env, signed_in, cmd, True)
    assert isinstance(from_env, StaticToken) and from_env.describe().startswith("EXALSIUS_TOKEN")
    assert resolve_token_source(None, {"EXALSIUS_TOKEN": " "}, signed_in, cmd) is signed_in
    command = resolve_token_source(None, {}, None, cmd, True)
    assert isinstance(command, CommandToken) and command.argv == ["exls", "get-token"]
    assert resolve_token_source(None, {}, None, None, True) is None  # nothing stored
    KeyringTokens(AuthSettings()).save(Tokens("stored-access-token-abcdefgh"))
    assert isinstance(resolve_token_source(None, {}, None, "", True), KeyringTokens)
    assert isinstance(resolve_token_source(None, {}, None, None, None), KeyringTokens)
    assert resolve_token_source(None, {}, None, None, False) is None
    source = StaticToken("given-source-token-abcdefghij")
    assert resolve_token_source(source, env) is source
