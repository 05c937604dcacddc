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
    """Sign out here (and everywhere); one line per problem, never a traceback."""
    notes = ctx.session.logout(everywhere=args.everywhere)
    if args.everywhere:
        what = "Signed out everywhere: this kernel forgot its sign-in"
        problems = [n for n in notes if not n.startswith("keyring:")]
        keyring = [n for n in notes if n.startswith("keyring:")]
        what += ("; the session could not be revoked" if problems
                 else "; the session was revoked")
        what += ("; the keyring was not cleared" if keyring
                 else "; the exls keyring entries are cleared")
        print(what + ".")
        for note in notes:
            print(note)
    else:
        print("Signed out: this kernel forgot its sign-in (%exalsius logout --everywhere also "
              "ends the session at the server and in the keyring).")
    if os.environ.get("EXALSIUS_TOKEN"):
        print("EXALSIUS_TOKEN is still set and is used.")
