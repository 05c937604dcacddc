"""Token values are checked where they enter: a line break or a character a header cannot carry
is one line naming the source, with no part of the token (issue #13, findings 1 and 5).

Every entry is tried: ``ExalsiusClient(token=...)`` (both headers), ``EXALSIUS_TOKEN``,
``%exalsius login --token``-style static tokens, a credential command's stdout, the exls keyring
entry, a provider's ``access_token`` and a token source nobody here wrote.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import CannedServer
from test_auth import file_keyring  # noqa: F401  (a fixture)
from test_magics_shell import close_shell, make_shell, run

from exalsius_jupyter.api.bearer import StaticToken
from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.auth.command import CommandToken
from exalsius_jupyter.auth.keyring_store import KEYRING_SERVICE, KeyringTokens
from exalsius_jupyter.auth.settings import DEFAULT_CLIENT_ID
from exalsius_jupyter.auth.tokens import Tokens
from exalsius_jupyter.errors import ExalsiusError, InvalidTokenError

SECRET = "tok-abc-0123456789-secret"
BAD_VALUES = {
    "crlf": f"{SECRET}\r\nX-Evil: 1",
    "lf": f"{SECRET}\nX-Evil: 1",
    "nul": f"{SECRET}\x00more",
    "zero-width space": f"{SECRET}\u200b",
    "emoji": f"{SECRET}\U0001f600",
    "inner space": f"{SECRET} more",
}


def assert_clean(message: str, *fragments: str) -> None:
    """One line, no piece of the token, and each fragment named."""
    assert "\n" not in message and "\r" not in message, message
    assert "tok-abc" not in message and "X-Evil" not in message and "secret" not in message
    assert "0123456789" not in message, message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("value", BAD_VALUES.values(), ids=BAD_VALUES.keys())
@pytest.mark.parametrize("api_key_header", [False, True], ids=["bearer", "x-api-key"])
def test_an_explicit_token_that_a_header_cannot_carry_is_refused_at_once(
        value: str, api_key_header: bool, canned: CannedServer) -> None:
    with pytest.raises(InvalidTokenError) as info:
        ExalsiusClient(canned.url, token=value, api_key_header=api_key_header)
    assert_clean(str(info.value), "explicit token")
    assert canned.count() == 0


ENV_VALUES = {k: v for k, v in BAD_VALUES.items() if k != "nul"}  # no NUL in an environment


@pytest.mark.parametrize("value", ENV_VALUES.values(), ids=ENV_VALUES.keys())
def test_exalsius_token_from_the_environment_is_checked(
        value: str, canned: CannedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXALSIUS_TOKEN", value)
    with pytest.raises(InvalidTokenError) as info:
        ExalsiusClient(canned.url)
    assert_clean(str(info.value), "EXALSIUS_TOKEN")


def test_a_token_with_surrounding_whitespace_is_trimmed_not_refused(
        canned: CannedServer) -> None:
    canned.json({"workspaces": []})
    client = ExalsiusClient(canned.url, token=f"  {SECRET}\r\n")
    client.list_workspaces()
    assert canned.requests[-1].headers["Authorization"] == f"Bearer {SECRET}"


def test_a_token_source_nobody_here_wrote_is_checked_before_the_header_is_set(
        canned: CannedServer) -> None:
    class Odd:
        renewable = False

        def token(self) -> str:
            return BAD_VALUES["crlf"]

        def refresh(self, stale: str | None = None) -> str:
            return self.token()

        def describe(self) -> str:
            return "odd source"

    canned.json({"workspaces": []})
    client = ExalsiusClient(canned.url, token=Odd())
    with pytest.raises(InvalidTokenError) as info:
        client.list_workspaces()
    assert_clean(str(info.value), "odd source")
    assert canned.count() == 0


def test_static_tokens_name_their_source() -> None:
    with pytest.raises(InvalidTokenError) as info:
        StaticToken(BAD_VALUES["emoji"], "%exalsius login --token")
    assert_clean(str(info.value), "%exalsius login --token", "U+1F600")


def write_script(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "token.py"
    script.write_text(body, encoding="utf-8")
    return [sys.executable, str(script)]


@pytest.mark.parametrize("key", ["emoji", "zero-width space"])
def test_a_credential_commands_token_is_checked(tmp_path: Path, key: str) -> None:
    value = BAD_VALUES[key]
    argv = write_script(
        tmp_path, f"import sys; sys.stdout.buffer.write({value.encode('utf-8')!r})")
    with pytest.raises(InvalidTokenError) as info:
        CommandToken(argv, timeout=10).token()
    assert_clean(str(info.value), "token command")


@pytest.mark.parametrize("key", ["crlf", "emoji"])
def test_a_keyring_entry_is_checked(file_keyring: Path, key: str) -> None:  # noqa: F811
    import keyring

    keyring.set_password(KEYRING_SERVICE, f"{DEFAULT_CLIENT_ID}_access_token", BAD_VALUES[key])
    with pytest.raises(InvalidTokenError) as info:
        KeyringTokens().token()
    assert_clean(str(info.value), "keyring")


@pytest.mark.parametrize("value", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_a_providers_access_token_is_checked(value: str) -> None:
    with pytest.raises(InvalidTokenError) as info:
        Tokens.from_response({"access_token": value, "expires_in": 60})
    assert_clean(str(info.value), "sign-in server")


@pytest.mark.parametrize("payload", [[], "text", 3, None, {"access_token": ["x"]}])
def test_a_token_answer_that_is_not_an_object_is_a_value_error(payload: Any) -> None:
    with pytest.raises(ValueError):
        Tokens.from_response(payload)


@pytest.mark.parametrize("expires_in", [3e11, 1e300, "1e400", -5, float("nan")])
def test_expires_in_out_of_range_is_clamped(expires_in: Any) -> None:
    tokens = Tokens.from_response({"access_token": SECRET, "expires_in": expires_in})
    assert 0 <= tokens.expires_in() <= 31 * 86400
    assert "expires" in repr(tokens) or "expired" in repr(tokens)


# -- in a shell and in the panel: the saved outputs hold no token ----------------------------


@pytest.fixture
def bad_env_shell(canned: CannedServer,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    shell = make_shell(canned.url, monkeypatch)
    shell.run_line_magic("config", "Exalsius.use_keyring = False")
    monkeypatch.setenv("EXALSIUS_TOKEN", BAD_VALUES["crlf"])
    try:
        yield shell
    finally:
        close_shell(shell)


def test_list_with_a_crlf_token_is_one_line_without_the_token(
        bad_env_shell: Any, capsys: pytest.CaptureFixture[str], canned: CannedServer) -> None:
    from IPython.core.error import UsageError

    ran = run(bad_env_shell, capsys, "%exalsius list")
    assert isinstance(ran.result.error_in_exec, UsageError), (ran.out, ran.err)
    assert "Traceback" not in ran.out + ran.err
    assert_clean(ran.err.strip(), "EXALSIUS_TOKEN")
    assert canned.count() == 0


def test_the_panel_with_a_crlf_token_is_one_line_without_the_token(
        bad_env_shell: Any, canned: CannedServer) -> None:
    from exalsius_jupyter.widgets import WorkspacePanel

    with pytest.raises(InvalidTokenError) as info:  # from Python: the typed error, nothing sent
        WorkspacePanel()
    assert_clean(str(info.value), "EXALSIUS_TOKEN")
    assert isinstance(info.value, ExalsiusError) and canned.count() == 0
