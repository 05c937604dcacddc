"""``%exalsius login``: sign in with a link and a code (RFC 8628), or type a token (--token).

In Jupyter the sign-in is a widget polled off the kernel (the cell returns at once); in a
terminal the link and the code are printed and the cell waits (Ctrl-C cancels). No token and no
device code is ever printed, shown or stored in the notebook.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ...errors import ExalsiusError
from ..confirm import read_secret

if TYPE_CHECKING:
    from ...auth.tokens import Tokens
    from ...session import Session
    from ..context import CommandContext
    from ..parser import CommandParser

NAME = "login"
HELP = "sign in with a link and a code (--token: type a token)"


def add_parser(top: CommandParser) -> CommandParser:
    """``login [--token] [--save]``."""
    p = top.child(
        NAME, help=HELP,
        description="Sign in to exalsius: open the link shown, check the code, approve. The "
                    "session renews itself while the kernel runs. --token types a token into a "
                    "hidden prompt instead (never echoed, never stored in the notebook).")
    p.add_argument("--token", action="store_true",
                   help="type an API token into a hidden prompt instead of signing in")
    p.add_argument("--save", action="store_true",
                   help="also store the sign-in in the system keyring, where the exls CLI "
                        "keeps it (needs the keyring extra)")
    return p


def run(ctx: CommandContext, args: argparse.Namespace) -> Any:
    """Sign in (widget in Jupyter, printed link in a terminal) or read a typed token."""
    if args.token:
        if args.save:
            raise UsageError("--save stores a sign-in, not a typed token; run %exalsius login "
                             "--save")
        return _typed_token(ctx)
    sandbox = ctx.session.sandbox
    if sandbox is not None and sandbox.idp is None:
        raise UsageError("the sandbox runs without sign-in: nothing to sign in to (%exalsius "
                         "sandbox stop, then start it with --auth)")
    if args.save and sandbox is not None:
        raise UsageError("--save stores a sign-in for the exls CLI; a sign-in at the sandbox is "
                         "never stored")
    if ctx.in_kernel:
        return _widget(ctx.session, save=args.save)
    return _terminal(ctx.session, save=args.save)


def _after(session: Session, tokens: Tokens, save: bool) -> str:
    """Store the sign-in if asked; the notes to add to the success line."""
    notes = []
    if save:
        try:
            session.save_sign_in()
            notes.append("Stored in the system keyring (exls entries).")
        except ExalsiusError as exc:
            notes.append(f"Not stored in the keyring: {exc}")
    if os.environ.get("EXALSIUS_TOKEN") and session.sandbox is None:
        notes.append("EXALSIUS_TOKEN is set and takes precedence; unset it to use this "
                     "sign-in.")
    return " ".join(notes)


def _widget(session: Session, *, save: bool) -> Any:
    from ...widgets.sign_in import SignInWidget

    settings = session.auth_settings
    box: dict[str, Any] = {}

    def success(tokens: Tokens) -> str:
        signed = session.sign_in_state.finish(box["pending"], tokens)
        if signed is None:
            raise ExalsiusError("a newer sign-in or a logout came in between")
        box["signed"] = signed
        return _after(session, tokens, save)

    def done(widget: SignInWidget) -> None:
        pending = box.get("pending")
        if pending is not None and widget.state != "signed in":
            session.sign_in_state.finish(pending, None, widget.message)
        elif box.get("signed") is not None:
            widget.follow(box["signed"])  # the line follows each renewal (#17.5c)

    widget = SignInWidget(settings, on_success=success, on_done=done)
    code = widget.prepare()
    if code is not None:
        box["pending"] = session.sign_in_state.begin(code, settings, widget.cancel)
    widget.start()
    return widget


def _terminal(session: Session, *, save: bool) -> None:
    from ...widgets.sign_in import signed_in_text

    signed = session.login()  # prints the link and the code; Ctrl-C raises SignInCancelled
    note = _after(session, signed.tokens, save)
    print(signed_in_text(signed.tokens) + (f" {note}" if note else ""))


def _typed_token(ctx: CommandContext) -> None:
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
