"""``%exalsius logout``: forget the token typed with login."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..context import CommandContext
    from ..parser import CommandParser

NAME = "logout"
HELP = "forget the token typed with login"


def add_parser(top: CommandParser) -> CommandParser:
    """``logout`` (no options)."""
    return top.child(NAME, help=HELP)


def run(ctx: CommandContext, args: argparse.Namespace) -> None:
    """Forget the token from login (EXALSIUS_TOKEN, if set, applies again)."""
    ctx.session.set_token(None)
    left = " (EXALSIUS_TOKEN is still set)" if os.environ.get("EXALSIUS_TOKEN") else ""
    print(f"Forgot the token from %exalsius login{left}.")
