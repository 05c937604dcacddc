"""``%exalsius config``: the endpoint, the timeouts, where the token comes from (never a token)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ... import settings
from ...errors import ExalsiusError

if TYPE_CHECKING:
    from ...session import Session
    from ..context import CommandContext
    from ..parser import CommandParser

NAME = "config"
HELP = "show the endpoint, timeouts and where the token comes from"


def add_parser(top: CommandParser) -> CommandParser:
    """``config`` (no options)."""
    return top.child(NAME, help=HELP, description=f"Show the settings. {change_line()}")


def change_line() -> str:
    """How to change the settings, naming every one (from the Settings declaration)."""
    first, *others = settings.names()
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
    """Print the endpoint, the timeouts, the sign-in settings and the credential in use."""
    session = ctx.session
    settings = session.settings
    try:
        client = session.client()
    except ExalsiusError as err:  # show the settings anyway, and why they do not work
        endpoint = f"{session.endpoint()} ({session.endpoint_source()}); not usable: {err}"
        token = token_line(session, usable=False)
        timeout = f"{settings.timeout:g}s per request"
    else:
        connect, read = client.timeout
        endpoint = f"{client.base_url} ({session.endpoint_source()})"
        token = token_line(session)
        timeout = f"{read:g}s per request (connect {connect:g}s)"
    command = (f"{settings.token_command!r} (timeout {settings.token_command_timeout:g}s)"
               if settings.token_command else "not set")
    rows = [
        ("endpoint", endpoint),
        ("token", token),
        ("sign-in", sign_in_line(session)),
        ("token_command", command),
        ("keyring", "used when installed and holding an exls sign-in" if settings.use_keyring
         else "not used (Exalsius.use_keyring = False)"),
        ("timeout", timeout),
        ("poll_interval", f"{settings.poll_interval:g}s"),
        ("wait_timeout", f"{settings.wait_timeout:g}s"),
    ]
    for key, value in rows:
        print(f"{key + ':':<15}{value}")
    print(f"{change_line()} Sign in with %exalsius login, or set EXALSIUS_TOKEN.")
