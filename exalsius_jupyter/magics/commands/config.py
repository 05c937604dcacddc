"""``%exalsius config``: the endpoint, the timeouts and whether a token is set (masked)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from ...errors import ExalsiusError

if TYPE_CHECKING:
    from ...session import Session
    from ..context import CommandContext
    from ..parser import CommandParser

NAME = "config"
HELP = "show the endpoint, timeouts and whether a token is set"


def add_parser(top: CommandParser) -> CommandParser:
    """``config`` (no options)."""
    return top.child(NAME, help=HELP,
                     description="Show the settings. Change them with %config Exalsius.api_url "
                                 "= '...' (also timeout, poll_interval, wait_timeout).")


def token_line(session: Session, *, usable: bool = True) -> str:
    """Where the token comes from, masked; or "not set"."""
    from ...api.client import mask_secret

    if session.token:
        configured = f"{mask_secret(session.token)} from %exalsius login"
    elif os.environ.get("EXALSIUS_TOKEN"):
        configured = f"{mask_secret(os.environ['EXALSIUS_TOKEN'])} from EXALSIUS_TOKEN"
    else:
        return "not set"
    if session.sandbox is not None:
        return f"not sent to the sandbox; {configured} is used after %exalsius sandbox stop"
    return configured if not usable or session.client().has_token else "not set"


def run(ctx: CommandContext, args: argparse.Namespace) -> None:
    """Print the endpoint, the timeouts and whether a token is set (masked)."""
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
    rows = [
        ("endpoint", endpoint),
        ("token", token),
        ("timeout", timeout),
        ("poll_interval", f"{settings.poll_interval:g}s"),
        ("wait_timeout", f"{settings.wait_timeout:g}s"),
    ]
    for key, value in rows:
        print(f"{key + ':':<15}{value}")
    print("Change with %config Exalsius.api_url = '...' (also timeout, poll_interval, "
          "wait_timeout); set the token with EXALSIUS_TOKEN or %exalsius login.")
