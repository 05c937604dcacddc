"""``%exalsius logout [--everywhere]``: forget the kernel's sign-in (and, everywhere, end it)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..context import CommandContext
    from ..parser import CommandParser

NAME = "logout"
HELP = "forget this kernel's sign-in (--everywhere: end it everywhere)"


def add_parser(top: CommandParser) -> CommandParser:
    """``logout [--everywhere]``."""
    p = top.child(NAME, help=HELP,
                  description="Forget this kernel's sign-in or typed token and cancel a pending "
                              "sign-in. --everywhere also revokes the session at the sign-in "
                              "server and deletes the exls entries from the system keyring "
                              "(the exls CLI is then signed out too).")
    p.add_argument("--everywhere", action="store_true",
                   help="also revoke the refresh token and clear the exls keyring entries")
    return p


def run(ctx: CommandContext, args: argparse.Namespace) -> None:
    """Sign out here (and everywhere); says what it did, one line per problem, no traceback."""
    report = ctx.session.logout(everywhere=args.everywhere)
    print(report.summary())
    for note in report.notes:
        print(note)
    if os.environ.get("EXALSIUS_TOKEN"):
        print("EXALSIUS_TOKEN is still set and is used.")
