"""The kernel's settings are declared once (settings.Settings); the traits, the session's
client rule and ``%exalsius config`` are made from that declaration."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from IPython.core.interactiveshell import InteractiveShell
from test_magics_shell import ok, shell  # noqa: F401 (fixture)

from exalsius_jupyter import settings
from exalsius_jupyter.magics.commands.config import change_line
from exalsius_jupyter.magics.magic import SETTINGS, Exalsius, setting_traits
from exalsius_jupyter.session import Session
from exalsius_jupyter.settings import SECONDS, Settings, setting


@dataclass(frozen=True)
class WithRetries(Settings):
    """Settings plus one setting, declared as a new one would be."""

    retry_seconds: float = setting(2.5, "Seconds between two retries of a refused call.",
                                   client=True, kind=SECONDS)


def test_the_traits_are_the_settings_fields() -> None:
    traits = Exalsius.class_traits(config=True)
    assert set(traits) == set(SETTINGS) == {f.name for f in settings.fields()}
    for f in settings.fields():
        assert traits[f.name].default_value == f.default, f.name
        assert traits[f.name].help == f.metadata["help"], f.name
    assert settings.client_settings() == set(SETTINGS) - {"poll_interval", "wait_timeout"}


def test_a_new_setting_is_one_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "Settings", WithRetries)
    trait = setting_traits()["retry_seconds"]
    assert trait.default_value == 2.5 and trait.metadata["config"] is True
    assert trait.help == "Seconds between two retries of a refused call."
    assert "retry_seconds" in settings.names() and "retry_seconds" in settings.of_kind(SECONDS)
    assert "retry_seconds" in settings.client_settings()
    assert "retry_seconds" in change_line()
    session = Session(WithRetries(api_url="http://127.0.0.1:9/v1"))
    first = session.client()
    session.configure(retry_seconds=4.0)
    assert session.settings.retry_seconds == 4.0  # type: ignore[attr-defined]
    assert session.client() is not first  # declared client=True: the client is rebuilt
    session.reset()
    assert session.settings == WithRetries()  # reset keeps the declaration, with its defaults
    with pytest.raises(TypeError, match="unknown settings: nope"):
        session.configure(nope=1)


def test_only_the_client_settings_rebuild_the_client() -> None:
    session = Session(Settings(api_url="http://127.0.0.1:9/v1"))
    client = session.client()
    session.configure(poll_interval=0.5, wait_timeout=30.0)
    assert session.client() is client
    session.configure(timeout=3.0)
    rebuilt = session.client()
    assert rebuilt is not client and rebuilt.timeout[1] == 3.0
    session.reset()


def test_config_checks_and_lists_every_setting(shell: InteractiveShell,  # noqa: F811
                                               capsys: pytest.CaptureFixture[str],
                                               caplog: pytest.LogCaptureFixture) -> None:
    from exalsius_jupyter.session import current_session

    ok(shell, capsys, "%config Exalsius.timeout = -1")  # %config logs a refused value
    assert [r.getMessage() for r in caplog.records] == [
        "Exalsius.timeout must be a positive number of seconds, not -1.0"]
    assert current_session().settings.timeout == 5.0  # what the fixture set, kept
    out = ok(shell, capsys, "%exalsius config").out
    for name in SETTINGS:
        assert name in out, name
    ok(shell, capsys, "%config Exalsius.wait_timeout = 12")
    assert current_session().settings.wait_timeout == 12.0


def test_config_exalsius_keeps_its_header_and_lists_each_setting_with_its_help() -> None:
    """``%config Exalsius`` reads as before: its heading, and one line per setting."""
    from IPython.core.magic import Magics

    text = Exalsius.class_get_help()
    assert text.splitlines()[0] == "Exalsius(Magics) options"
    assert Exalsius.__bases__ == (Magics,)
    for f in settings.fields():
        assert f"Exalsius.{f.name}=<" in text, f.name


def test_the_rows_list_every_setting_with_its_environment_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from exalsius_jupyter.auth.settings import ENV_AUDIENCE, ENV_CLIENT_ID, ENV_DOMAIN

    rows = {row.name: row for row in settings.rows()}
    assert tuple(rows) == SETTINGS
    assert {name: row.env for name, row in rows.items() if row.env} == {
        "api_url": "EXALSIUS_API_URL", "auth_domain": ENV_DOMAIN,
        "auth_client_id": ENV_CLIENT_ID, "auth_audience": ENV_AUDIENCE}
    assert rows["timeout"].type is float and rows["use_keyring"].type is bool
    monkeypatch.setenv(rows["api_url"].env or "", "https://example.com/v1")
    assert Session().endpoint_source() == rows["api_url"].env


def test_config_shows_every_setting_its_own_line_or_a_named_one() -> None:
    from exalsius_jupyter.magics.commands import config

    named = {name for names in config.SHOWN_BY.values() for name in names}
    assert named <= set(SETTINGS)
    out = config_output(Session(Settings(api_url="http://127.0.0.1:9/v1")))
    labels = [line.split(":", 1)[0] for line in out.splitlines()[:-1]]
    assert set(config.SHOWN_BY) <= set(labels)
    assert set(SETTINGS) - named <= set(labels)
    assert "api_key_header: False" in out


def config_output(session: Session) -> str:
    """What ``%exalsius config`` prints for ``session``."""
    import argparse
    import contextlib
    import io

    from exalsius_jupyter.magics.commands import config
    from exalsius_jupyter.magics.context import CommandContext

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        config.run(CommandContext(session=session, shell=None), argparse.Namespace())
    session.close()
    return buffer.getvalue()


def test_a_new_setting_shows_in_the_magics_and_in_exalsius_config() -> None:
    from exalsius_jupyter.magics.commands import config

    class ExtendedMagics(Exalsius):
        locals().update(setting_traits(WithRetries))

    text = ExtendedMagics.class_get_help()
    assert "ExtendedMagics.retry_seconds=<Float>" in text
    assert "Seconds between two retries of a refused call." in text
    assert "Default: 2.5" in text
    out = config_output(Session(WithRetries(api_url="http://127.0.0.1:9/v1", retry_seconds=4)))
    assert "retry_seconds: 4s" in out.splitlines()
    assert "retry_seconds" in out.splitlines()[-1]  # the line that says how to change them
    described = config.description(WithRetries)
    assert "retry_seconds (default 2.5): Seconds between two retries of a refused call." in \
        described


def test_every_setting_is_forwarded_and_each_kind_checked() -> None:
    assert set(Exalsius._settings_changed.trait_names) == set(SETTINGS)
    checks = {settings.SECONDS: Exalsius._positive, settings.URL: Exalsius._check_url,
              settings.AUTH: Exalsius._check_auth, settings.COMMAND: Exalsius._check_command}
    for kind, check in checks.items():
        assert set(check.trait_names) == set(settings.of_kind(kind)) != set(), kind
    kinds = {str(f.metadata["kind"]) for f in settings.fields()}
    assert kinds <= {*checks, ""}  # a kind without a check would pass unchecked
