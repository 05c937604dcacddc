"""``%exalsius sandbox start|stop|status``: the embedded sandbox API inside this kernel.

``start``'s flags are made from ``SandboxOptions`` (sandbox/options.py); the magic's own values
are the named ``options.MAGIC`` door: host 127.0.0.1 and no request log (pinned, no flag), sign-in
polls every second (``--device-interval`` defaults to 1). The server is imported on ``start`` only.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ...errors import ValidationError
from ...sandbox.options import MAGIC, SandboxOptions, add_arguments, from_args
from ..parser import CommandParser

if TYPE_CHECKING:
    from ...session import Session
    from ..context import CommandContext

NAME = "sandbox"
HELP = "run the embedded sandbox API in this kernel"


def add_parser(top: CommandParser) -> CommandParser:
    """``sandbox start [options] | stop | status``."""
    p = top.child(NAME, help=HELP,
                  description="Start, stop or inspect an in-process sandbox server; while it "
                              "runs, this kernel's client points at it.")
    p.subcommands("action", "ACTION", required=True)
    s = p.child("start", help="start it and point this kernel's client at it",
                description="Start a sandbox on 127.0.0.1 in this kernel. The options are the "
                            "sandbox's own (python -m exalsius_jupyter.sandbox --help); here "
                            "the port defaults to any free one, sign-in polls every second, "
                            "and requests are not logged.")
    add_arguments(s, MAGIC)
    p.child("stop", help="stop it and restore the previous endpoint")
    p.child("status", help="whether it runs, and where")
    return p


def run(ctx: CommandContext, args: argparse.Namespace) -> None:
    """Start, stop or report on the sandbox."""
    if args.action == "start":
        start_sandbox(ctx.session, args)
    elif args.action == "stop":
        stop_sandbox(ctx.session)
    else:
        sandbox_status(ctx.session)


def start_sandbox(session: Session, args: argparse.Namespace) -> None:
    """Start an in-process sandbox on 127.0.0.1 and point the session's client at it."""
    running = session.sandbox
    if running is not None:
        print(f"The sandbox is already running at {running.url} ({session.sandbox_options}); "
              "%exalsius sandbox stop first to start it with other options.")
        return
    options = from_args(args, MAGIC)
    from ...sandbox import Sandbox

    sandbox = Sandbox(options=options)
    try:
        sandbox.start()
    except OSError as exc:
        raise ValidationError(f"the sandbox could not listen on {options.host}:{options.port} "
                              f"({exc.strerror or exc})") from None
    summary = describe(options)
    session.attach_sandbox(sandbox, summary)
    print(f"Sandbox running at {sandbox.url} ({summary}).")
    print("This kernel's %exalsius magics and widgets now use it; %exalsius sandbox stop "
          "restores the previous endpoint.")
    if options.auth:
        print(f"It plays the identity provider at {sandbox.issuer_url}: %exalsius login signs "
              "in there (its approval page stands in for exalsius' sign-in page).")


# Said in words by describe() (the port by the URL printed beside it); every other option that
# differs from the magic's default is listed as its flag.
_DESCRIBED = frozenset({"api", "workspaces", "seed", "pending_seconds", "auth", "token_ttl",
                        "port"})


def describe(options: SandboxOptions) -> str:
    """How the sandbox was started, for messages: the usual options, then any other changed."""
    seed = "no seed" if options.seed is None else f"seed {options.seed}"
    text = (f"API {options.api}, {options.workspaces} demo workspaces, {seed}, "
            f"pending {options.pending_seconds:g}s")
    if options.auth:
        text += f", sign-in required (tokens live {options.token_ttl:g}s)"
    for name, given in MAGIC.as_flags(options).items():
        if name not in _DESCRIBED:
            text += f", {given}"
    return text


def stop_sandbox(session: Session) -> None:
    """Stop the sandbox; the session's client points at the configured endpoint again."""
    sandbox = session.detach_sandbox()
    if sandbox is None:
        print("The sandbox is not running.")
        return
    sandbox.stop()
    print("Sandbox stopped; %exalsius uses the configured endpoint again "
          "(see %exalsius config).")


def sandbox_status(session: Session) -> None:
    """Say whether the sandbox runs, where, and how many requests it has served."""
    sandbox = session.sandbox
    if sandbox is None:
        print("The sandbox is not running (%exalsius sandbox start starts it).")
        return
    print(f"The sandbox is running at {sandbox.url} ({session.sandbox_options}); "
          f"{sandbox.request_count()} requests served.")
