"""``%exalsius config``: the endpoint, the timeouts, where the token comes from (never a token)."""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING, Any

from ... import settings
from ...errors import ExalsiusError
from ..parser import HELP_WIDTH, RawHelpFormatter

if TYPE_CHECKING:
    from ...session import Session
    from ..context import CommandContext
    from ..parser import CommandParser

NAME = "config"
HELP = "show the endpoint, timeouts and where the token comes from"


# The settings a line in words of its own shows; every other setting gets a "name: value" line
# of its own (so a new setting shows without a change here).
SHOWN_BY: dict[str, tuple[str, ...]] = {
    "endpoint": settings.of_kind(settings.URL),
    "sign-in": settings.of_kind(settings.AUTH),
    "token_command": ("token_command", "token_command_timeout"),
    "keyring": ("use_keyring",),
    "timeout": ("timeout",),
}


def add_parser(top: CommandParser) -> CommandParser:
    """``config`` (no options); its help lists every setting with what it does."""
    return top.child(NAME, help=HELP, description=description(),
                     formatter_class=RawHelpFormatter)


def description(cls: type[settings.Settings] | None = None) -> str:
    """``%exalsius config --help``: what it shows, then each setting, its default and its help."""
    wrap = textwrap.TextWrapper(width=HELP_WIDTH, initial_indent="  ",
                                subsequent_indent="      ")
    lines = textwrap.wrap("Show the endpoint, where the token comes from (never a token), the "
                          f"sign-in settings and the other settings. {change_line(cls)}",
                          width=HELP_WIDTH)
    lines.append("")
    lines.append("settings:")
    for row in settings.rows(cls):
        lines.extend(wrap.wrap(f"{row.name} (default {row.default!r}): {row.help}"))
    return "\n".join(lines)


def change_line(cls: type[settings.Settings] | None = None) -> str:
    """How to change the settings, naming every one (from the Settings declaration)."""
    first, *others = settings.names(cls)
    return (f"Change them with %config Exalsius.{first} = '...' (also {', '.join(others)}); "
            "%config Exalsius describes each.")


def token_line(session: Session, *, usable: bool = True) -> str:
    """Where the token comes from and when it expires (never the token); or "not set"."""
    sandbox = session.sandbox
    if sandbox is not None and sandbox.idp is None:
        if session.token:
            from ...api.client import mask_secret

            return (f"not sent to the sandbox; {mask_secret(session.token)} from %exalsius "
                    "login --token is used after %exalsius sandbox stop")
        return "not sent to the sandbox"
    described = session.describe_credential()
    if described == "not set" or described.startswith(("not usable", "not signed in")):
        return described
    return f"from {described}"


def sign_in_line(session: Session) -> str:
    """The issuer, client id and audience of sign-ins (public values)."""
    try:
        auth = session.auth_settings
    except ExalsiusError as err:
        return f"not usable: {err}"
    return (f"issuer {auth.issuer_url}, client id {auth.client_id}, audience {auth.audience} "
            f"({session.auth_settings_source()})")


def run(ctx: CommandContext, args: argparse.Namespace) -> None:
    """Print the endpoint, the credential in use, the sign-in settings and every other setting."""
    session = ctx.session
    values = session.settings
    try:
        client = session.client()
    except ExalsiusError as err:  # show the settings anyway, and why they do not work
        endpoint = f"{session.endpoint()} ({session.endpoint_source()}); not usable: {err}"
        token = token_line(session, usable=False)
        timeout = f"{values.timeout:g}s per request"
    else:
        connect, read = client.timeout
        endpoint = f"{client.base_url} ({session.endpoint_source()})"
        token = token_line(session)
        timeout = f"{read:g}s per request (connect {connect:g}s)"
    command = (f"{values.token_command!r} (timeout {values.token_command_timeout:g}s)"
               if values.token_command else "not set")
    lines = [
        ("endpoint", endpoint),
        ("token", token),
        ("sign-in", sign_in_line(session)),
        ("token_command", command),
        ("keyring", "used when installed and holding an exls sign-in" if values.use_keyring
         else "not used (Exalsius.use_keyring = False)"),
        ("timeout", timeout),
    ]
    shown = {name for names in SHOWN_BY.values() for name in names}
    cls = type(values)
    lines += [(row.name, value_text(row, getattr(values, row.name)))
              for row in settings.rows(cls) if row.name not in shown]
    for key, value in lines:
        print(f"{key + ':':<14} {value}")
    print(f"{change_line(cls)} Sign in with %exalsius login, or set EXALSIUS_TOKEN.")


def value_text(row: settings.Setting, value: Any) -> str:
    """A setting's value as ``%exalsius config`` shows it: 5s, 'text' or not set, True."""
    if row.kind == settings.SECONDS:
        return f"{value:g}s"
    if row.type is str:
        return repr(value) if value else "not set"
    return str(value)
