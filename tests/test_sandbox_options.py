"""SandboxOptions: one declaration behind ``Sandbox(...)``, its command line and the magic."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from IPython.core.error import UsageError
from support import REPO_ROOT
from test_magics_shell import ok, shell, usage_error

from exalsius_jupyter.sandbox import Sandbox, SandboxOptions
from exalsius_jupyter.sandbox import __main__ as cli_main
from exalsius_jupyter.sandbox import options as opts
from exalsius_jupyter.sandbox.options import CLI, MAGIC, PYTHON, option

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["shell"]

DEFAULTS = SandboxOptions()


def magic_parser() -> argparse.ArgumentParser:
    """A fresh ``%exalsius`` parser holding only the sandbox subcommand."""
    from exalsius_jupyter.magics.commands import sandbox as command
    from exalsius_jupyter.magics.parser import CommandParser

    top = CommandParser(prog="%exalsius")
    top.subcommands("command", "SUBCOMMAND")
    command.add_parser(top)
    return top


def magic_options(*argv: str) -> SandboxOptions:
    """What ``%exalsius sandbox start ARGV`` asks for."""
    return opts.from_args(magic_parser().parse_args(["sandbox", "start", *argv]), MAGIC)


def cli_options(*argv: str) -> SandboxOptions:
    """What ``python -m exalsius_jupyter.sandbox ARGV`` asks for."""
    return opts.from_args(cli_main.parse_args(list(argv)), CLI)


def expected(door: opts.FrontDoor) -> dict[str, Any]:
    """Every option's dataclass default, but for the door's named overrides and pins."""
    base = {f.name: f.default for f in dataclasses.fields(SandboxOptions)}
    return {**base, **door.overrides, **door.pinned}


# -- one set of defaults ---------------------------------------------------------------------


def test_the_overrides_are_named_and_few() -> None:
    assert dict(PYTHON.overrides) == {} and dict(PYTHON.pinned) == {}
    assert dict(CLI.overrides) == {"port": 8765, "quiet": False} and dict(CLI.pinned) == {}
    assert dict(MAGIC.overrides) == {"device_interval": 1.0}
    assert dict(MAGIC.pinned) == {"host": "127.0.0.1", "quiet": True}


def test_python_front_door_uses_the_dataclass_defaults_and_wires_every_option() -> None:
    assert Sandbox().options == DEFAULTS == PYTHON.defaults()
    assert dataclasses.asdict(Sandbox().options) == expected(PYTHON)
    # Every option reaches the part of the server that uses it (no field is declared and lost).
    changed = {"host": "::1", "port": 1234, "pending_seconds": 7.0, "deleted_ttl": 8.0,
               "workspaces": 2, "seed": 5, "api": "1.46", "extras": False, "quiet": False,
               "latency": 0.5, "error_rate": 0.25, "drop_rate": 0.125, "retry_after": 9,
               "auth": True, "token_ttl": 11.0, "device_code_ttl": 12.0, "device_interval": 0.5,
               "slow_down_step": 2.0, "client_id": "cid", "audience": "aud", "user_name": "Bo",
               "user_email": "bo@example.com", "oauth_errors": "auth0", "state": None}
    assert set(changed) == set(opts.names())
    sb = Sandbox(**changed)
    assert sb.idp is not None
    seen = {"host": sb.host, "port": sb.port, "pending_seconds": sb.store.pending_seconds,
            "deleted_ttl": sb.store.deleted_ttl, "workspaces": len(sb), "seed": sb.options.seed,
            "api": sb.store.api, "extras": sb.api.extras, "quiet": sb.quiet,
            "latency": sb.latency, "error_rate": sb.faults.error_rate,
            "drop_rate": sb.faults.drop_rate, "retry_after": sb.faults.retry_after,
            "auth": sb.idp is not None, "token_ttl": sb.idp.token_ttl,
            "device_code_ttl": sb.idp.device_code_ttl, "device_interval": sb.idp.device_interval,
            "slow_down_step": sb.idp.slow_down_step, "client_id": sb.idp.client_id,
            "audience": sb.idp.audience, "user_name": sb.idp.user["name"],
            "user_email": sb.idp.user["email"], "oauth_errors": sb.idp.error_statuses,
            "state": sb.store.state}
    assert seen == changed


def test_the_cli_builds_its_sandbox_with_the_dataclass_defaults_but_its_overrides(
        monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[SandboxOptions] = []

    class Built(Exception):
        pass

    class Recorder:
        def __init__(self, *, options: SandboxOptions) -> None:
            built.append(options)
            raise Built  # recorded; nothing is served

        def __exit__(self, *exc: object) -> None:
            pass

    monkeypatch.setattr(cli_main, "Sandbox", Recorder)
    monkeypatch.setattr(cli_main.signal, "signal", lambda *args: None)
    monkeypatch.setattr(cli_main.logging, "basicConfig", lambda **kwargs: None)
    with pytest.raises(Built):
        cli_main.main([])
    assert [dataclasses.asdict(o) for o in built] == [expected(CLI)]
    assert built == [CLI.defaults()]


def test_the_magic_starts_its_sandbox_with_the_dataclass_defaults_but_its_overrides(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    from exalsius_jupyter.session import current_session

    out = ok(shell, capsys, "%exalsius sandbox start").out
    try:
        running = current_session().sandbox
        assert running is not None
        assert dataclasses.asdict(running.options) == expected(MAGIC)
        assert running.options == MAGIC.defaults() == magic_options()
        assert "(API 1.5.1, 0 demo workspaces, no seed, pending 3s)" in out
    finally:
        ok(shell, capsys, "%exalsius sandbox stop")


def test_help_shows_each_doors_own_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # no wrapping: argparse would break "Retry-After"
    cli_help = " ".join(cli_main.build_parser().format_help().split())
    magic_help = " ".join(magic_parser().children["sandbox"].children["start"]
                          .format_help().split())
    assert "port; 0 picks a free one (default 8765)" in cli_help
    assert "port; 0 picks a free one (default 0)" in magic_help
    assert "(interval; fractions allowed so tests poll fast) (default 5)" in cli_help
    assert "(interval; fractions allowed so tests poll fast) (default 1)" in magic_help
    for f in dataclasses.fields(SandboxOptions):
        text = " ".join(str(f.metadata["help"]).split())
        if f.name in MAGIC.pinned:
            assert opts.flag(f, f.default) not in magic_help, f.name
        else:
            assert opts.flag(f, getattr(MAGIC.defaults(), f.name)) in magic_help, f.name
            assert text in magic_help or f.metadata["off_help"] in magic_help, f.name
        assert opts.flag(f, getattr(CLI.defaults(), f.name)) in cli_help, f.name
        assert text in cli_help or f.metadata["off_help"] in cli_help, f.name


# -- a new option is one field ---------------------------------------------------------------


@dataclass(frozen=True)
class WithBurst(SandboxOptions):
    """SandboxOptions plus one option, as a new field would be declared."""

    burst: int = option(2, "requests answered per burst", metavar="N", low=1)
    burst_log: bool = option(False, "log each burst")


def test_a_field_added_to_the_dataclass_is_a_flag_of_the_cli_and_the_magic(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opts, "SandboxOptions", WithBurst)
    cli_help = cli_main.build_parser().format_help()
    magic_help = magic_parser().children["sandbox"].children["start"].format_help()
    for text in (cli_help, magic_help):
        assert "--burst N" in text and "requests answered per burst (default 2)" in text
        assert "--burst-log" in text and "log each burst" in text
    assert cli_options().burst == 2 and magic_options().burst == 2
    assert cli_options("--burst", "5").burst == 5
    magic = magic_options("--burst", "7", "--burst-log")
    assert isinstance(magic, WithBurst) and magic.burst == 7 and magic.burst_log
    with pytest.raises(UsageError, match=r"argument --burst: must be >= 1, got '0'"):
        magic_options("--burst", "0")
    with pytest.raises(ValueError, match=r"^burst must be >= 1, not 0$"):
        WithBurst(burst=0)
    assert Sandbox(options=WithBurst(burst=3)).options == WithBurst(burst=3)


# -- every old flag still parses -------------------------------------------------------------


def test_every_old_cli_flag_still_parses() -> None:
    got = cli_options(
        "--host", "0.0.0.0", "--port", "9000", "--pending-seconds", "0.5", "--deleted-ttl", "10",
        "--workspaces", "3", "--seed", "1", "--state", "s.json", "--latency", "0.1",
        "--error-rate", "0.2", "--drop-rate", "0.1", "--retry-after", "2", "--api", "1.46",
        "--no-extras", "--quiet", "--auth", "--token-ttl", "60", "--device-code-ttl", "300",
        "--device-interval", "0.5", "--client-id", "abc", "--oauth-errors", "auth0")
    assert got == SandboxOptions(
        host="0.0.0.0", port=9000, pending_seconds=0.5, deleted_ttl=10.0, workspaces=3, seed=1,
        state="s.json", latency=0.1, error_rate=0.2, drop_rate=0.1, retry_after=2, api="1.46",
        extras=False, quiet=True, auth=True, token_ttl=60.0, device_code_ttl=300.0,
        device_interval=0.5, client_id="abc", oauth_errors="auth0")


def test_every_old_magic_flag_still_parses() -> None:
    got = magic_options(
        "--workspaces", "5", "--pending-seconds", "0.1", "--seed", "3", "--port", "0",
        "--api", "1.46", "--no-extras", "--auth", "--token-ttl", "60", "--device-interval", "0.2")
    assert got == SandboxOptions(
        workspaces=5, pending_seconds=0.1, seed=3, port=0, api="1.46", extras=False, auth=True,
        token_ttl=60.0, device_interval=0.2)


def test_the_python_keywords_and_an_options_object_agree() -> None:
    with Sandbox(port=0, pending_seconds=0.5, workspaces=2, seed=4) as sb:
        assert sb.url.startswith("http://127.0.0.1:") and not sb.url.endswith(":0/v1")
        assert len(sb) == 2 and sb.options.port == 0
    both = Sandbox("127.0.0.1", 0, options=SandboxOptions(workspaces=2, seed=4), latency=0.5)
    assert both.options == SandboxOptions(workspaces=2, seed=4, latency=0.5)
    assert Sandbox(state=Path("x.json")).options.state == Path("x.json")
    with pytest.raises(TypeError, match="unknown sandbox option 'pending'"):
        Sandbox(pending=1)


def test_the_oauth_error_choices_are_the_identity_providers() -> None:
    from exalsius_jupyter.sandbox.auth import ERROR_STATUSES

    assert set(opts.OAUTH_ERRORS) == set(ERROR_STATUSES)


# -- bad values: one line --------------------------------------------------------------------

BAD = [
    ("--port", "70000", "port", "must be between 0 and 65535"),
    ("--port", "x", "port", "expected a whole number"),
    ("--pending-seconds", "-1", "pending_seconds", "must be >= 0"),
    ("--pending-seconds", "nan", "pending_seconds", "must be a finite number"),
    ("--error-rate", "1.5", "error_rate", "must be between 0 and 1"),
    ("--token-ttl", "0", "token_ttl", "must be > 0"),
    ("--workspaces", "-2", "workspaces", "must be >= 0"),
    ("--api", "2.0", "api", "invalid choice: '2.0'"),
]


@pytest.mark.parametrize(("flag", "text", "name", "fragment"), BAD)
def test_a_bad_cli_value_is_one_line(capsys: pytest.CaptureFixture[str], flag: str, text: str,
                                     name: str, fragment: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli_options(flag, text)
    assert exit_.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("python -m exalsius_jupyter.sandbox: error: argument ") and \
        f"{flag}: {fragment}" in last, last


@pytest.mark.parametrize(("flag", "text", "name", "fragment"), BAD)
def test_a_bad_magic_value_is_one_line(shell: InteractiveShell,
                                       capsys: pytest.CaptureFixture[str], flag: str, text: str,
                                       name: str, fragment: str) -> None:
    usage_error(shell, capsys, f"%exalsius sandbox start {flag} {text}",
                f"%exalsius sandbox start: argument {flag}: {fragment}")


@pytest.mark.parametrize(("flag", "text", "name", "fragment"), BAD)
def test_a_bad_python_value_is_one_line(flag: str, text: str, name: str, fragment: str) -> None:
    f = next(f for f in dataclasses.fields(SandboxOptions) if f.name == name)
    kind = opts.value_type(f)
    try:
        value: Any = kind(text)
    except ValueError:
        value = text  # the wrong type altogether
    with pytest.raises(ValueError) as raised:
        Sandbox(**{name: value})
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{name} must be "), message


def test_the_magic_offers_no_host_and_no_request_log(shell: InteractiveShell,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, "%exalsius sandbox start --host 0.0.0.0",
                "unrecognized arguments: --host")
    usage_error(shell, capsys, "%exalsius sandbox start --quiet", "unrecognized arguments")


# -- %load_ext stays cheap -------------------------------------------------------------------


def test_the_magic_reads_the_options_without_importing_the_server() -> None:
    code = (
        "import json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_line_magic('load_ext', 'exalsius_jupyter')\n"
        "shell.run_line_magic('exalsius', 'sandbox start --help')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('exalsius_jupyter.sandbox'))))\n"  # noqa: E501
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, timeout=120,
                          capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "exalsius_jupyter.sandbox.options" in loaded
    assert set(loaded) <= {"exalsius_jupyter.sandbox", "exalsius_jupyter.sandbox.options",
                           "exalsius_jupyter.sandbox.clusters"}, loaded
