"""``%exalsius sandbox start|stop|status``: the embedded sandbox API inside this kernel."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ...errors import ValidationError
from ..parser import CommandParser, non_negative_int, positive_float

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
    s = p.child("start", help="start it and point this kernel's client at it")
    s.add_argument("--workspaces", type=non_negative_int, default=0, metavar="N",
                   help="demo workspaces to generate (default 0)")
    s.add_argument("--pending-seconds", type=float, default=3.0, metavar="S",
                   help="seconds a new workspace stays PENDING (default 3)")
    s.add_argument("--seed", type=int, metavar="N", help="seed for reproducible demo data")
    s.add_argument("--port", type=non_negative_int, default=0, metavar="P",
                   help="port on 127.0.0.1 (default: any free port)")
    s.add_argument("--api", choices=("1.5.1", "1.46"), default="1.5.1",
                   help="which API shape to serve (default 1.5.1)")
    s.add_argument("--no-extras", action="store_true",
                   help="serve only the 1.5.1 endpoints (no start, no logs)")
    s.add_argument("--auth", action="store_true",
                   help="require sign-in: the sandbox also plays the identity provider, and "
                        "%%exalsius login signs in at it")
    s.add_argument("--token-ttl", type=positive_float, default=3600.0, metavar="S",
                   help="with --auth: access token lifetime in seconds (default 3600)")
    s.add_argument("--device-interval", type=positive_float, default=1.0, metavar="S",
                   help="with --auth: seconds between sign-in polls (default 1)")
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
    if args.pending_seconds < 0:
        raise ValidationError("--pending-seconds must be >= 0")
    from ...sandbox import Sandbox

    auth = ({"auth": True, "token_ttl": args.token_ttl, "device_interval": args.device_interval}
            if args.auth else {})

    sandbox = Sandbox(
        "127.0.0.1", args.port, pending_seconds=args.pending_seconds, workspaces=args.workspaces,
        seed=args.seed, api=args.api, extras=not args.no_extras, quiet=True,
        **auth)
    try:
        sandbox.start()
    except OSError as exc:
        raise ValidationError(f"the sandbox could not listen on 127.0.0.1:{args.port} "
                              f"({exc.strerror or exc})") from None
    seed = "no seed" if args.seed is None else f"seed {args.seed}"
    options = (f"API {args.api}, {args.workspaces} demo workspaces, {seed}, "
               f"pending {args.pending_seconds:g}s")
    if args.auth:
        options += f", sign-in required (tokens live {args.token_ttl:g}s)"
    session.attach_sandbox(sandbox, options)
    print(f"Sandbox running at {sandbox.url} ({options}).")
    print("This kernel's %exalsius magics and widgets now use it; %exalsius sandbox stop "
          "restores the previous endpoint.")
    if args.auth:
        print(f"It plays the identity provider at {sandbox.issuer_url}: %exalsius login signs "
              "in there (its approval page stands in for exalsius' sign-in page).")


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
