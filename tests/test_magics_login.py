"""%exalsius login / logout / config against the sandbox's identity provider, in a real shell.

Approval goes through the sandbox's /activate form from another thread, as a user in a browser
would. Every request stays on 127.0.0.1: the sign-in settings always point at a sandbox issuer.
No token, refresh token, ID token or device code may appear in any output.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from support import wait_until
from test_auth import file_keyring, sign_in, stored  # noqa: F401  (a fixture, and helpers)

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.auth.settings import DEFAULT_CLIENT_ID
from exalsius_jupyter.auth.tokens import Tokens
from exalsius_jupyter.sandbox import Sandbox
from exalsius_jupyter.session import current_session

FAST = 0.2
A100 = "11111111-1111-4111-8111-111111111111"


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """An auth-mode sandbox started by the test (fast polling)."""
    with Sandbox(auth=True, device_interval=FAST, pending_seconds=0.2, seed=1) as sandbox:
        yield sandbox


def configure(shell: InteractiveShell, sb: Sandbox) -> None:
    """Point the magic at the sandbox as if it were the live service and its tenant."""
    shell.run_line_magic("config", f"Exalsius.api_url = {sb.url!r}")
    shell.run_line_magic("config", f"Exalsius.auth_domain = {sb.issuer_url!r}")
    shell.run_line_magic("config", "Exalsius.use_keyring = False")
    shell.run_line_magic("config", "Exalsius.timeout = 5")


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """The InteractiveShell with the extension loaded and no credential in the environment."""
    for var in ("EXALSIUS_API_URL", "EXALSIUS_TOKEN", "EXALSIUS_AUTH_DOMAIN",
                "EXALSIUS_AUTH_CLIENT_ID", "EXALSIUS_AUTH_AUDIENCE"):
        monkeypatch.delenv(var, raising=False)
    sh = InteractiveShell.instance()
    sh.config.pop("Exalsius", None)
    sh.run_line_magic("load_ext", "exalsius_jupyter")
    current_session().pending_wait = 1.0
    yield sh
    sh.run_line_magic("unload_ext", "exalsius_jupyter")
    sh.config.pop("Exalsius", None)
    current_session().pending_wait = 20.0


def run(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], code: str) -> Any:
    """Run a cell; (result, out + err)."""
    capsys.readouterr()
    result = shell.run_cell(code)
    out, err = capsys.readouterr()
    return result, out + err


def ok(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], code: str) -> str:
    result, text = run(shell, capsys, code)
    assert result.success, text
    return text


def one_line_error(shell: InteractiveShell, capsys: pytest.CaptureFixture[str],
                   code: str) -> str:
    """Run a cell that must fail with a one-line UsageError; the line."""
    result, text = run(shell, capsys, code)
    assert isinstance(result.error_in_exec, UsageError), text
    assert "Traceback" not in text
    line = text.strip().splitlines()[-1]  # a login prints the link and the code first
    assert line.startswith("UsageError: ") and text.count("UsageError") == 1, text
    return line


def approve_when_pending(sb: Sandbox, action: str = "approve") -> threading.Thread:
    """From another thread: wait for the session's pending sign-in, then decide it."""

    def go() -> None:
        pending = wait_until(lambda: current_session().pending, timeout=10, what="pending")
        assert sb.issuer_url is not None
        r = requests.post(sb.issuer_url + "activate",
                          data={"user_code": pending.code.user_code, "action": action},
                          timeout=5)
        assert r.status_code == 200

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


def assert_no_secrets(sb: Sandbox, *texts: str) -> None:
    """No token or device code the sandbox issued appears in any text."""
    assert sb.idp is not None
    issued = sb.idp.issued_secrets()
    assert issued
    for secret in issued:
        for text in texts:
            assert secret not in text


def authorization(sb: Sandbox) -> str | None:
    """The Authorization header of the last API request the sandbox received."""
    return sb.requests[-1].headers.get("Authorization")


def token_from(sb: Sandbox) -> Tokens:
    """A sign-in obtained outside the magic (the test's own DeviceLogin)."""
    tokens, login = sign_in(sb)
    login.close()
    return tokens


# -- device sign-in: the terminal path ----------------------------------------------------------


def test_terminal_device_login_then_list_and_config(
        shell: InteractiveShell, sb: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    configure(shell, sb)
    line = one_line_error(shell, capsys, "%exalsius list")  # nothing sent: the 401 line
    assert "401" in line or "signed out" in line
    thread = approve_when_pending(sb)
    out = ok(shell, capsys, "%exalsius login")
    thread.join(5)
    assert f"{sb.issuer_url}activate?user_code=" in out
    assert "Signed in as Ada Lovelace (ada@example.com)" in out and "renews itself" in out
    frame = shell.run_cell("%exalsius list").result
    assert frame is not None and authorization(sb, ).startswith("Bearer ")
    config = ok(shell, capsys, "%exalsius config")
    assert "token:         from notebook sign-in as Ada Lovelace (access token expires" in config
    assert f"issuer {sb.issuer_url}, client id {DEFAULT_CLIENT_ID}" in config
    assert "(%config Exalsius.auth_*)" in config
    assert_no_secrets(sb, out, config)


def test_terminal_login_denied_and_cancelled_in_one_line(
        shell: InteractiveShell, sb: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    configure(shell, sb)
    thread = approve_when_pending(sb, "deny")
    line = one_line_error(shell, capsys, "%exalsius login")
    thread.join(5)
    assert "sign-in denied" in line and current_session().pending is None

    from exalsius_jupyter.auth.device import DeviceLogin

    def interrupted(self: DeviceLogin, *args: Any, **kwargs: Any) -> Tokens:
        raise KeyboardInterrupt  # Ctrl-C while waiting

    monkeypatch.setattr(DeviceLogin, "wait", interrupted)
    line = one_line_error(shell, capsys, "%exalsius login")
    assert line == "UsageError: sign-in cancelled"
    assert current_session().pending is None and current_session().sign_in is None


# -- device sign-in: the Jupyter path (a widget, the cell returns at once) -----------------------


def test_kernel_login_returns_a_widget_and_a_call_waits_for_the_pending_sign_in(
        shell: InteractiveShell, sb: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from exalsius_jupyter.widgets.sign_in import SignInWidget

    configure(shell, sb)
    monkeypatch.setattr(shell, "kernel", SimpleNamespace(_allow_stdin=False), raising=False)
    began = time.monotonic()
    widget = shell.run_cell("%exalsius login").result
    assert isinstance(widget, SignInWidget) and time.monotonic() - began < 3
    try:
        assert widget.state == "waiting"
        pending = current_session().pending
        assert pending is not None and widget.login.code is not None
        user_code = widget.login.code.user_code
        began = time.monotonic()
        line = one_line_error(shell, capsys, "%exalsius list")  # waits 1 s, then says where
        assert 0.9 < time.monotonic() - began < 5
        assert line == (f"UsageError: sign-in pending: open {sb.issuer_url}activate?user_code="
                        f"{user_code} and approve the code {user_code}, then run this again")
        assert_no_secrets(sb, line, repr(widget), json.dumps(widget._repr_mimebundle_()))

        requests.post(f"{sb.issuer_url}activate",
                      data={"user_code": user_code, "action": "approve"}, timeout=5)
        assert widget.wait(10) and widget.state == "signed in", widget.message
        assert "Signed in as Ada Lovelace" in widget.status.value
        assert current_session().pending is None and current_session().sign_in is not None
        assert shell.run_cell("%exalsius list").success
        assert_no_secrets(sb, widget.status.value, repr(widget))

        # a new login while another is pending: logout cancels the pending one
        second = shell.run_cell("%exalsius login").result
        assert second.state == "waiting"
        out = ok(shell, capsys, "%exalsius logout")
        assert "Signed out" in out
        assert second.wait(5) and second.state == "cancelled"
        assert current_session().pending is None and current_session().sign_in is None
        second.close()
    finally:
        widget.close()


# -- --token, --save, logout ------------------------------------------------------------------


def test_login_token_is_a_hidden_prompt(shell: InteractiveShell, sb: Sandbox,
                                        capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    configure(shell, sb)
    tokens = token_from(sb)

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": tokens.access_token)
    out = ok(shell, capsys, "%exalsius login --token")
    assert "kept in this kernel's memory only" in out
    assert shell.run_cell("%exalsius list").success
    assert authorization(sb) == f"Bearer {tokens.access_token}"
    config = ok(shell, capsys, "%exalsius config")
    assert "token:         from %exalsius login --token (expires" in config
    one_line_error(shell, capsys, "%exalsius login --token --save")
    assert "EXALSIUS_TOKEN" in one_line_error(shell, capsys, "%exalsius login --token abcdef")
    assert_no_secrets(sb, out, config)


def test_login_save_round_trip_through_the_keyring(
        shell: InteractiveShell, sb: Sandbox, capsys: pytest.CaptureFixture[str],
        file_keyring: Path) -> None:  # noqa: F811
    configure(shell, sb)
    thread = approve_when_pending(sb)
    out = ok(shell, capsys, "%exalsius login --save")
    thread.join(5)
    assert "Stored in the system keyring (exls entries)." in out
    entries = stored(file_keyring)
    cid = DEFAULT_CLIENT_ID
    assert set(entries) == {f"{cid}_{k}" for k in
                            ("access_token", "refresh_token", "id_token", "expiry")}
    signed = current_session().sign_in
    assert signed is not None and entries[f"{cid}_access_token"] == signed.tokens.access_token

    # a new kernel: nothing signed in here, the keyring (exls' entries) is used
    ok(shell, capsys, "%exalsius logout")
    assert stored(file_keyring) == entries  # a plain logout keeps the keyring
    ok(shell, capsys, "%config Exalsius.use_keyring = True")
    config = ok(shell, capsys, "%exalsius config")
    assert "token:         from exls keyring sign-in as Ada Lovelace" in config
    assert shell.run_cell("%exalsius list").success
    assert authorization(sb) == f"Bearer {entries[f'{cid}_access_token']}"

    before = sb.auth_counts()["revocations"]
    out = ok(shell, capsys, "%exalsius logout --everywhere")
    assert "the session was revoked; the exls keyring entries are cleared" in out
    assert sb.auth_counts()["revocations"] == before + 1
    assert stored(file_keyring) == {}
    line = one_line_error(shell, capsys, "%exalsius list")
    assert "401" in line or "signed out" in line
    assert_no_secrets(sb, out, config, line)


def test_logout_everywhere_clears_locally_when_revoking_fails(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str],
        file_keyring: Path) -> None:  # noqa: F811
    sb = Sandbox(auth=True, device_interval=FAST).start()
    try:
        configure(shell, sb)
        ok(shell, capsys, "%config Exalsius.use_keyring = True")
        thread = approve_when_pending(sb)
        ok(shell, capsys, "%exalsius login --save")
        thread.join(5)
        assert stored(file_keyring)
    finally:
        sb.stop()  # the sign-in server is gone
    out = ok(shell, capsys, "%exalsius logout --everywhere")
    lines = out.strip().splitlines()
    assert lines[0] == ("Signed out everywhere: this kernel forgot its sign-in; the session "
                        "could not be revoked; the exls keyring entries are cleared.")
    assert lines[1] == ("could not revoke the session: could not reach the sign-in server "
                        "(connection refused); signed out locally")
    assert stored(file_keyring) == {} and current_session().sign_in is None
    assert_no_secrets(sb, out)


# -- credentials: precedence, a 401, the credential command --------------------------------


def script(tmp_path: Path, name: str, body: str) -> str:
    """A Python script as a command line (run without a shell)."""
    path = tmp_path / name
    path.write_text(body)
    return f"{sys.executable} {path}"


def test_precedence_end_to_end(shell: InteractiveShell, sb: Sandbox,
                               capsys: pytest.CaptureFixture[str], tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch,
                               file_keyring: Path) -> None:  # noqa: F811
    from exalsius_jupyter.auth.keyring_store import KeyringTokens

    configure(shell, sb)
    ok(shell, capsys, "%config Exalsius.use_keyring = True")
    stored_tokens, env_tokens, command_tokens = token_from(sb), token_from(sb), token_from(sb)
    KeyringTokens(current_session().auth_settings).save(stored_tokens)

    def used() -> str | None:
        assert shell.run_cell("%exalsius list").success
        header = authorization(sb)
        return header.removeprefix("Bearer ") if header else None

    assert used() == stored_tokens.access_token  # keyring
    cmd = script(tmp_path, "cmd.py", f"print({command_tokens.access_token!r})")
    ok(shell, capsys, f"%config Exalsius.token_command = {cmd!r}")
    assert used() == command_tokens.access_token  # token_command > keyring
    thread = approve_when_pending(sb)
    ok(shell, capsys, "%exalsius login")
    thread.join(5)
    signed = current_session().sign_in
    assert signed is not None and used() == signed.tokens.access_token  # sign-in > command
    monkeypatch.setenv("EXALSIUS_TOKEN", env_tokens.access_token)
    ok(shell, capsys, "%config Exalsius.timeout = 6")  # the environment is read on a rebuild
    assert used() == env_tokens.access_token  # EXALSIUS_TOKEN > sign-in
    assert "token:         from EXALSIUS_TOKEN" in ok(shell, capsys, "%exalsius config")
    monkeypatch.delenv("EXALSIUS_TOKEN")
    ok(shell, capsys, "%exalsius logout")
    assert used() == command_tokens.access_token


def test_a_401_renews_once_and_resends_once(shell: InteractiveShell, sb: Sandbox,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    configure(shell, sb)
    thread = approve_when_pending(sb)
    ok(shell, capsys, "%exalsius login")
    thread.join(5)
    signed = current_session().sign_in
    assert signed is not None
    good = signed.tokens
    # the server stops accepting the access token (as after a key rotation); the refresh
    # token still works
    signed._tokens = Tokens("x" + good.access_token[1:], good.refresh_token, good.id_token,
                            good.expires_at, good.issued_at)
    before, lists = sb.auth_counts(), sb.request_count("GET", "/workspaces")
    assert shell.run_cell("%exalsius list").success
    after = sb.auth_counts()
    assert after["unauthorized"] - before["unauthorized"] == 1
    assert after["refreshes"] - before["refreshes"] == 1
    assert sb.request_count("GET", "/workspaces") - lists == 2


def test_token_command_success_failure_and_timeout(
        shell: InteractiveShell, sb: Sandbox, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    configure(shell, sb)
    tokens = token_from(sb)
    good = script(tmp_path, "good.py", f"print({tokens.access_token!r})")
    ok(shell, capsys, f"%config Exalsius.token_command = {good!r}")
    assert shell.run_cell("%exalsius list").success
    assert authorization(sb) == f"Bearer {tokens.access_token}"
    config = ok(shell, capsys, "%exalsius config")
    assert "token:         from token command" in config and "(expires" in config

    bad = script(tmp_path, "bad.py", "import sys\nprint('not signed in:\\n run exls login',"
                                     " file=sys.stderr)\nsys.exit(3)")
    ok(shell, capsys, f"%config Exalsius.token_command = {bad!r}")
    line = one_line_error(shell, capsys, "%exalsius list")
    assert line.endswith("failed (exit 3): not signed in: run exls login"), line

    slow = script(tmp_path, "slow.py", "import time\ntime.sleep(30)")
    ok(shell, capsys, f"%config Exalsius.token_command = {slow!r}")
    ok(shell, capsys, "%config Exalsius.token_command_timeout = 0.5")
    began = time.monotonic()
    line = one_line_error(shell, capsys, "%exalsius list")
    assert line.endswith("timed out after 0.5 s") and time.monotonic() - began < 5
    assert_no_secrets(sb, config, line)


# -- the in-process sandbox in auth mode --------------------------------------------------------


def test_sandbox_start_auth_points_the_sign_in_at_it(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    out = ok(shell, capsys, "%exalsius sandbox start --auth --token-ttl 60 "
                            "--device-interval 0.2 --workspaces 2 --seed 3")
    sandbox = current_session().sandbox
    assert sandbox is not None and sandbox.issuer_url is not None
    assert f"identity provider at {sandbox.issuer_url}" in out
    assert current_session().auth_settings.issuer_url == sandbox.issuer_url
    line = one_line_error(shell, capsys, "%exalsius list")
    assert line == "UsageError: signed out: run %exalsius login"
    assert "never stored" in one_line_error(shell, capsys, "%exalsius login --save")
    thread = approve_when_pending(sandbox)
    ok(shell, capsys, "%exalsius login")
    thread.join(5)
    frame = shell.run_cell("%exalsius list").result
    assert len(frame) == 2
    out = ok(shell, capsys, "%exalsius logout --everywhere")  # the keyring is not touched
    assert "keyring: left alone (a sandbox sign-in is never stored there)" in out
    assert sandbox.auth_counts()["revocations"] == 1
    ok(shell, capsys, "%exalsius sandbox stop")
    assert current_session().sign_in is None


def test_login_refuses_a_sandbox_without_sign_in(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    ok(shell, capsys, "%exalsius sandbox start")
    line = one_line_error(shell, capsys, "%exalsius login")
    assert "without sign-in" in line and "--auth" in line


# -- refresh across expiry: a progress widget polls for 30 s -------------------------------------


def test_progress_polls_30_s_across_token_expiry_without_a_401_reaching_the_user(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    from exalsius_jupyter.model.spec import build_workspace_spec
    from exalsius_jupyter.widgets import CreationProgress

    with Sandbox(auth=True, device_interval=FAST, token_ttl=2, pending_seconds=40) as sb:
        configure(shell, sb)
        thread = approve_when_pending(sb)
        ok(shell, capsys, "%exalsius login")
        thread.join(5)
        client: ExalsiusClient = current_session().client()
        spec = build_workspace_spec(name="long-pending", cluster_id=A100, template="t",
                                    gpu_count=1)
        wid = client.create_workspace(spec)
        progress = CreationProgress([wid], client, interval=0.2, max_interval=0.5)
        errors: list[str] = []
        progress.errors.line.observe(lambda change: errors.append(change["new"]), "value")
        before = sb.auth_counts()
        progress.start()
        try:
            time.sleep(30)
            assert not progress.done
            polls = sb.request_count("GET", "/workspace/{id}")
        finally:
            progress.close()
        after = sb.auth_counts()
        refreshes = after["refreshes"] - before["refreshes"]
        unauthorized = after["unauthorized"] - before["unauthorized"]
        print(f"\n30 s of polling: {polls} polls, {refreshes} refreshes, "
              f"{unauthorized} 401s", file=sys.__stderr__)
        assert errors == [] and progress.errors.message == ""
        assert refreshes >= 10 and unauthorized <= refreshes
        assert polls >= 30


# -- the same without the magic: the Python API ---------------------------------------------------


def test_python_api_signs_in_without_the_magic(sb: Sandbox,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from exalsius_jupyter.auth.device import DeviceCode
    from exalsius_jupyter.session import Session, Settings

    monkeypatch.delenv("EXALSIUS_TOKEN", raising=False)
    session = Session(Settings(api_url=sb.url, auth_domain=sb.issuer_url or "",
                               use_keyring=False))
    shown: list[str] = []

    def approve(code: DeviceCode) -> None:  # the user's click, from the script's own callback
        shown.append(code.verification_uri_complete)
        requests.post(code.verification_uri, timeout=5,
                      data={"user_code": code.user_code, "action": "approve"})

    try:
        signed = session.login(on_code=approve)
        assert signed.identity == "Ada Lovelace" and shown[0].startswith(sb.issuer_url or "-")
        assert session.client().list_workspaces().total == 0  # answered: signed in
        assert (authorization(sb) or "").startswith("Bearer ")
        assert session.describe_credential().startswith("notebook sign-in as Ada Lovelace")
        session.logout()
        assert session.describe_credential() == "not set"
    finally:
        session.close()


def test_a_widget_of_your_own_adopted_by_a_session(sb: Sandbox) -> None:
    from exalsius_jupyter.session import Session, Settings
    from exalsius_jupyter.widgets.sign_in import SignInWidget

    session = Session(Settings(api_url=sb.url, auth_domain=sb.issuer_url or "",
                               use_keyring=False))
    widget = SignInWidget(session.auth_settings, on_success=session.adopt, tick=0.1)
    try:
        code = widget.start().login.code
        assert code is not None
        requests.post(code.verification_uri, timeout=5,
                      data={"user_code": code.user_code, "action": "approve"})
        assert widget.wait(10) and widget.state == "signed in"
        assert widget.message.startswith("Signed in as Ada Lovelace") and "<" not in widget.message
        assert session.sign_in is not None and session.client().list_workspaces().total == 0
    finally:
        widget.close()
        session.close()
