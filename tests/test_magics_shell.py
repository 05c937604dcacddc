"""%exalsius in a real InteractiveShell: loading, configuration, help, errors, token handling.

Also holds the fixtures and helpers the other test_magics_* modules import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from support import REPO_ROOT

if TYPE_CHECKING:
    from exalsius_jupyter.sandbox import Sandbox

A100 = "11111111-1111-4111-8111-111111111111"
H100 = "22222222-2222-4222-8222-222222222222"
SECRET = "exls-test-secret-token-0123456789"


@dataclass
class Ran:
    """What one cell did: its ExecutionResult and captured stdout/stderr."""

    result: Any
    out: str
    err: str

    @property
    def value(self) -> Any:
        """The cell's result (what Out[] would show)."""
        return self.result.result


def make_shell(url: str, monkeypatch: pytest.MonkeyPatch) -> InteractiveShell:
    """The InteractiveShell singleton with the extension loaded and pointed at ``url``."""
    for var in ("EXALSIUS_API_URL", "EXALSIUS_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    shell = InteractiveShell.instance()
    shell.config.pop("Exalsius", None)
    shell.run_line_magic("load_ext", "exalsius_jupyter")
    shell.run_line_magic("config", f"Exalsius.api_url = {url!r}")
    shell.run_line_magic("config", "Exalsius.poll_interval = 0.05")
    shell.run_line_magic("config", "Exalsius.timeout = 5")
    return shell


def close_shell(shell: InteractiveShell) -> None:
    """Unload the extension and forget its configuration."""
    from exalsius_jupyter.session import set_client

    shell.run_line_magic("unload_ext", "exalsius_jupyter")
    shell.config.pop("Exalsius", None)
    set_client(None)


@pytest.fixture
def shell(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """An InteractiveShell with %load_ext exalsius_jupyter, on the (empty) test sandbox."""
    sh = make_shell(sandbox.url, monkeypatch)
    yield sh
    close_shell(sh)


def run(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], code: str) -> Ran:
    """Run one cell and capture what it printed."""
    capsys.readouterr()
    result = shell.run_cell(code)
    out, err = capsys.readouterr()
    return Ran(result, out, err)


def ok(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], code: str) -> Ran:
    """Run a cell that must succeed."""
    ran = run(shell, capsys, code)
    assert ran.result.success, (ran.out, ran.err)
    return ran


def usage_error(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], code: str,
                *fragments: str) -> str:
    """Run a cell that must fail with a one-line UsageError (no traceback); return the line."""
    ran = run(shell, capsys, code)
    assert isinstance(ran.result.error_in_exec, UsageError), (ran.out, ran.err)
    assert "Traceback" not in ran.out + ran.err
    message = ran.err.strip()
    assert message.startswith("UsageError: ") and "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


# -- loading ------------------------------------------------------------------------------


def test_load_registers_the_line_and_cell_magic_and_the_configurable(
        shell: InteractiveShell) -> None:
    from exalsius_jupyter.magics import Exalsius, ExalsiusMagics

    assert ExalsiusMagics is Exalsius
    manager = shell.magics_manager
    assert "exalsius" in manager.magics["line"]
    assert "exalsius" in manager.magics["cell"]
    mine = [c for c in shell.configurables if isinstance(c, Exalsius)]
    assert len(mine) == 1


def test_loading_is_cheap_no_pandas_requests_or_ipywidgets() -> None:
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_line_magic('load_ext', 'exalsius_jupyter')\n"
        "assert 'exalsius' in shell.magics_manager.magics['line']\n"
        "heavy = ['pandas', 'requests', 'ipywidgets', 'yaml', 'exalsius_jupyter.api.client']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-c", "import json\n" + code], env=env, timeout=120,
                          capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_register_twice_keeps_one_instance(shell: InteractiveShell) -> None:
    from exalsius_jupyter.magics import Exalsius, register

    first = shell.magics_manager.registry["Exalsius"]
    assert register(shell) is first
    assert sum(isinstance(c, Exalsius) for c in shell.configurables) == 1


def test_unload_removes_magics_and_configurable_and_stops_the_sandbox(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    from exalsius_jupyter.magics import Exalsius
    from exalsius_jupyter.session import current_session, get_client

    ok(shell, capsys, "%exalsius sandbox start --pending-seconds 0")
    sandbox = current_session().sandbox
    assert sandbox is not None and get_client().base_url == sandbox.url

    shell.run_line_magic("unload_ext", "exalsius_jupyter")
    assert "exalsius" not in shell.magics_manager.magics["line"]
    assert "exalsius" not in shell.magics_manager.magics["cell"]
    assert not any(isinstance(c, Exalsius) for c in shell.configurables)
    assert current_session().sandbox is None
    assert sandbox._server is None  # stopped: its port is closed
    assert get_client().base_url != sandbox.url

    shell.run_line_magic("load_ext", "exalsius_jupyter")  # a reload works
    frame = ok(shell, capsys, "%exalsius list").value
    assert list(frame.columns[:2]) == ["name", "workspace_status"]
    assert list(frame.columns[-3:]) == ["id", "cluster_id", "owner"]


def test_reload_ext_keeps_config(shell: InteractiveShell, sandbox: Sandbox,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("reload_ext", "exalsius_jupyter")
    ok(shell, capsys, "%exalsius list")
    assert shell.run_line_magic("config", "Exalsius.api_url") == sandbox.url


# -- configuration ------------------------------------------------------------------------


def test_config_section_is_exalsius_and_rebuilds_the_client(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    from exalsius_jupyter.session import get_client

    ran = ok(shell, capsys, "%config Exalsius")
    for trait in ("api_url", "timeout", "poll_interval", "wait_timeout"):
        assert f"Exalsius.{trait}" in ran.out
    assert get_client().base_url == sandbox.url

    ok(shell, capsys, "%config Exalsius.timeout = 7.5")
    assert get_client().timeout == (5.0, 7.5)
    ok(shell, capsys, "%config Exalsius.wait_timeout = 42")
    ok(shell, capsys, "%config Exalsius.poll_interval = 0.25")
    magics = shell.magics_manager.registry["Exalsius"]
    assert (magics.wait_timeout, magics.poll_interval) == (42.0, 0.25)

    other = sandbox.url.replace("/v1", "/v2")
    ok(shell, capsys, f"%config Exalsius.api_url = {other!r}")
    assert get_client().base_url == other


def test_config_rejects_bad_values_and_keeps_the_old_ones(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    from exalsius_jupyter.session import get_client

    magics = shell.magics_manager.registry["Exalsius"]
    ran = run(shell, capsys, "%config Exalsius.timeout = -1")  # %config logs one line
    assert "Traceback" not in ran.err + ran.out
    assert "Exalsius.timeout must be a positive number of seconds" in caplog.text
    assert magics.timeout == 5.0
    run(shell, capsys, "%config Exalsius.api_url = 'ftp://example.com/v1'")
    assert "http(s)://" in caplog.text
    assert get_client().base_url == sandbox.url


def test_environment_variables_configure_the_client(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    sh = make_shell(sandbox.url, monkeypatch)
    try:
        ok(sh, capsys, "%config Exalsius.api_url = ''")
        monkeypatch.setenv("EXALSIUS_API_URL", sandbox.url)
        monkeypatch.setenv("EXALSIUS_TOKEN", SECRET)
        ok(sh, capsys, "%config Exalsius.timeout = 6")  # rebuilds from the environment
        ran = ok(sh, capsys, "%exalsius config")
        assert f"{sandbox.url} (EXALSIUS_API_URL)" in ran.out
        assert "from EXALSIUS_TOKEN" in ran.out and SECRET not in ran.out
        sandbox.reset_counts()
        ok(sh, capsys, "%exalsius list")
        assert sandbox.requests[-1].headers.get("Authorization") == f"Bearer {SECRET}"
    finally:
        close_shell(sh)


def test_an_unusable_endpoint_is_reported_and_the_previous_one_is_not_used(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXALSIUS_TOKEN", SECRET)
    monkeypatch.setenv("EXALSIUS_API_URL", "http://example.invalid/v1")  # a token over http
    ran = run(shell, capsys, "%config Exalsius.api_url = ''")  # %config logs one line
    assert "Traceback" not in ran.out + ran.err
    sandbox.reset_counts()
    message = usage_error(shell, capsys, "%exalsius list", "example.invalid", "https://")
    assert "allow_insecure" not in message  # a magic user cannot pass it
    assert sandbox.request_count() == 0  # the previous endpoint is not used silently
    out = ok(shell, capsys, "%exalsius config").out
    assert "http://example.invalid/v1 (EXALSIUS_API_URL)" in out and "https://" in out
    assert SECRET not in out + message
    monkeypatch.setenv("EXALSIUS_API_URL", sandbox.url)  # fixing the environment suffices
    ok(shell, capsys, "%exalsius list")
    assert sandbox.requests[-1].headers.get("Authorization") == f"Bearer {SECRET}"


def test_config_subcommand_shows_endpoint_timeouts_and_no_token(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    out = ok(shell, capsys, "%exalsius config").out
    assert f"endpoint:      {sandbox.url} (%config Exalsius.api_url)" in out
    assert "token:         not set" in out
    assert "timeout:       5s per request" in out
    assert "poll_interval: 0.05s" in out and "wait_timeout:  600s" in out


# -- the token ----------------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    f"list token={SECRET}", f"list --token {SECRET}", f"list --token={SECRET}",
    f"login TOKEN={SECRET}", f"create --api-key {SECRET}",
])
def test_a_token_on_the_line_is_refused_without_echoing_it(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str) -> None:
    message = usage_error(shell, capsys, f"%exalsius {line}", "EXALSIUS_TOKEN",
                          "%exalsius login")
    assert SECRET not in message


def test_words_like_token_in_names_and_free_text_are_not_refused(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, "%exalsius describe token", "no workspace has", "'token'")
    wid = ok(shell, capsys, f"%exalsius create --name token --cluster {A100} --template t "
                            '--description "token=rotated weekly"').value
    assert sandbox.get(wid)["description"] == "token=rotated weekly"
    assert "token" in ok(shell, capsys, "%exalsius describe token").out
    usage_error(shell, capsys, f"%exalsius describe token token={SECRET}", "EXALSIUS_TOKEN")


def test_login_without_interactive_input_fails_at_once(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    # pytest's stdin is no terminal: the prompt must not be attempted (it would hang or crash).
    usage_error(shell, capsys, "%exalsius login --token", "no interactive input",
                "EXALSIUS_TOKEN")


class FakeTerminal:
    """A stdin that says it is a terminal (what IPython in a terminal has)."""

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        raise AssertionError("tests answer through input()/getpass, never stdin directly")


def test_login_prompts_with_getpass_and_uses_the_token_without_showing_it(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return SECRET

    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    ran = ok(shell, capsys, "%exalsius login --token")
    assert prompts == ["exalsius API token: "]
    assert SECRET not in ran.out + ran.err and "set (…6789)" in ran.out
    sandbox.reset_counts()
    ok(shell, capsys, "%exalsius list")
    assert sandbox.requests[-1].headers.get("Authorization") == f"Bearer {SECRET}"

    shown = ok(shell, capsys, "%exalsius config").out + ok(shell, capsys, "%config Exalsius").out
    assert SECRET not in shown and "from %exalsius login" in shown
    assert not any("token" in name and not name.startswith("token_command") for name in type(
        shell.magics_manager.registry["Exalsius"]).class_trait_names())

    ok(shell, capsys, "%exalsius sandbox start")
    line = ok(shell, capsys, "%exalsius config").out
    assert "not sent to the sandbox; set (…6789) from %exalsius login" in line
    ok(shell, capsys, "%exalsius sandbox stop")

    ok(shell, capsys, "%exalsius logout")
    sandbox.reset_counts()
    ok(shell, capsys, "%exalsius list")
    assert "Authorization" not in sandbox.requests[-1].headers


# -- help and argument errors -------------------------------------------------------------


def test_question_mark_help_documents_every_subcommand_and_the_cell_body(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    from exalsius_jupyter.magics import Exalsius

    # What %exalsius? prints: IPython's inspector asks the magic's getdoc(), made on demand.
    info = shell.object_inspect("%exalsius")
    doc = info["docstring"] or ""
    assert info["found"] and doc == Exalsius.exalsius.getdoc().strip()  # type: ignore[attr-defined]
    for sub in ("list", "describe", "create", "stop", "delete", "start", "wait", "panel",
                "sandbox", "config", "login", "--where", "--dry-run", "--yes", "--watch",
                "%%exalsius create", "$name", "{name}", "PyYAML", "logout",
                "--pending-seconds", "--no-extras", "--api", "logs", "--tail", "--follow"):
        assert sub in doc, sub


@pytest.mark.parametrize("sub", ["list", "describe", "create", "stop", "delete", "start",
                                 "wait", "logs", "panel", "sandbox", "config", "login"])
def test_every_subcommand_has_help(shell: InteractiveShell, capsys: pytest.CaptureFixture[str],
                                   sub: str) -> None:
    ran = ok(shell, capsys, f"%exalsius {sub} --help")
    assert ran.out.startswith(f"usage: %exalsius {sub}")
    assert ran.value is None


def test_every_registered_subcommand_is_in_the_full_help_and_has_help(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    from exalsius_jupyter.magics.commands import COMMANDS

    doc = shell.object_inspect("%exalsius")["docstring"] or ""
    overview = ok(shell, capsys, "%exalsius").out
    names = [command.NAME for command in COMMANDS]
    assert "logs" in names and len(set(names)) == len(names)
    for command in COMMANDS:
        assert f"usage: %exalsius {command.NAME}" in doc, command.NAME
        assert f"    {command.NAME}" in overview and command.HELP in overview, command.NAME
        assert "\n" not in command.HELP, command.NAME
        ran = ok(shell, capsys, f"%exalsius {command.NAME} --help")
        assert ran.out.startswith(f"usage: %exalsius {command.NAME}") and ran.value is None
        assert ok(shell, capsys, f"%exalsius help {command.NAME}").out == ran.out


def test_bare_magic_and_help_subcommand_print_the_overview(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert "SUBCOMMAND" in ok(shell, capsys, "%exalsius").out
    assert "usage: %exalsius create" in ok(shell, capsys, "%exalsius help create").out
    usage_error(shell, capsys, "%exalsius help nope", "no subcommand 'nope'")


@pytest.mark.parametrize(("line", "fragment"), [
    ("frobnicate", "invalid choice: 'frobnicate'"),
    ("list --bogus", "%exalsius list: unrecognized arguments: --bogus"),
    ("sandbox stop --now", "%exalsius sandbox stop: unrecognized arguments: --now"),
    (f"create --name a --cluster {A100} --template t --gpus many", "--gpus"),
    ("create --name a", "required"),
    ("list --status sleeping", "unknown status 'sleeping'"),
    ("list -o 1x", "not a valid Python variable name"),
    ("wait", "required: TARGET"),
    ("wait x --timeout -3", "positive number of seconds"),
    ("list --cluster 'unbalanced", "cannot parse the line"),
    ("sandbox", "required: ACTION"),
])
def test_argument_errors_are_one_line(shell: InteractiveShell, capsys: pytest.CaptureFixture[str],
                                      line: str, fragment: str) -> None:
    usage_error(shell, capsys, f"%exalsius {line}", fragment)


def test_unreachable_server_is_one_line(shell: InteractiveShell,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ok(shell, capsys, f"%config Exalsius.api_url = 'http://127.0.0.1:{port}/v1'")
    ok(shell, capsys, "%config Exalsius.timeout = 1")
    usage_error(shell, capsys, "%exalsius list", "could not reach the server")


def test_api_problem_detail_is_one_line(shell: InteractiveShell, sandbox: Sandbox,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    sandbox.fail_next(1, status=409, retry_after=None)
    usage_error(shell, capsys, "%exalsius list", "HTTP 409")


def test_unexpected_bugs_still_show_a_traceback(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from exalsius_jupyter.magics.commands import REGISTRY

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(REGISTRY["list"], "run", broken)
    ran = run(shell, capsys, "%exalsius list")
    assert isinstance(ran.result.error_in_exec, RuntimeError)
    assert "Traceback" in ran.out + ran.err and "a bug" in ran.out + ran.err
