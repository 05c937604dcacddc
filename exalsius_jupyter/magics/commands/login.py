"""``%exalsius login``: type the API token into a hidden prompt (kept in memory only)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from ...errors import ExalsiusError
from ..confirm import read_secret

if TYPE_CHECKING:
    from ..context import CommandContext
    from ..parser import CommandParser

NAME = "login"
HELP = "type the API token into a hidden prompt"


def add_parser(top: CommandParser) -> CommandParser:
    """``login`` (no options: the token never comes from the line)."""
    return top.child(NAME, help=HELP,
                     description="Prompt for the API token (never echoed, never stored in the "
                                 "notebook). Without interactive input, set EXALSIUS_TOKEN.")


def run(ctx: CommandContext, args: argparse.Namespace) -> None:
    """Read the token from a hidden prompt; the session's client uses it from now on."""
    from ...api.client import mask_secret

    session = ctx.session
    token = read_secret(ctx.shell, "exalsius API token: ",
                        fix="set EXALSIUS_TOKEN in the environment instead").strip()
    if not token:
        raise UsageError("no token entered; nothing changed")
    previous = session.token
    session.set_token(token)
    try:
        client = session.client()
    except ExalsiusError:
        session.set_token(previous)
        raise
    where = ("after %exalsius sandbox stop" if session.sandbox is not None
             else f"for {client.base_url}")
    print(f"Token {mask_secret(token)} will be used {where}; it is kept in this kernel's "
          "memory only.")
