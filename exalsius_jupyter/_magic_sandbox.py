"""``%exalsius sandbox start|stop|status``: the embedded sandbox API inside this kernel."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .errors import ValidationError

if TYPE_CHECKING:
    from .magics import Exalsius


def sandbox_command(m: Exalsius, args: argparse.Namespace) -> Any:
    """Dispatch ``sandbox ACTION``."""
    if args.action == "start":
        return start_sandbox(m, args)
    if args.action == "stop":
        return stop_sandbox(m)
    return sandbox_status(m)


def start_sandbox(m: Exalsius, args: argparse.Namespace) -> None:
    """Start an in-process sandbox on 127.0.0.1 and point this kernel's client at it."""
    if m._sandbox is not None:
        print(f"The sandbox is already running at {m._sandbox.url} ({m._sandbox_options}); "
              "%exalsius sandbox stop first to start it with other options.")
        return
    if args.pending_seconds < 0:
        raise ValidationError("--pending-seconds must be >= 0")
    from .sandbox import Sandbox

    sandbox = Sandbox(
        "127.0.0.1", args.port, pending_seconds=args.pending_seconds, workspaces=args.workspaces,
        seed=args.seed, api=args.api, extras=not args.no_extras, quiet=True)
    try:
        sandbox.start()
    except OSError as exc:
        raise ValidationError(f"the sandbox could not listen on 127.0.0.1:{args.port} "
                              f"({exc.strerror or exc})") from None
    m._sandbox = sandbox
    seed = "no seed" if args.seed is None else f"seed {args.seed}"
    m._sandbox_options = (f"API {args.api}, {args.workspaces} demo workspaces, {seed}, "
                          f"pending {args.pending_seconds:g}s")
    m.apply_client()
    print(f"Sandbox running at {sandbox.url} ({m._sandbox_options}).")
    print("This kernel's %exalsius magics and widgets now use it; %exalsius sandbox stop "
          "restores the previous endpoint.")


def stop_sandbox(m: Exalsius, *, quiet: bool = False) -> None:
    """Stop the sandbox and point the client back at the configured endpoint."""
    sandbox, m._sandbox = m._sandbox, None
    if sandbox is None:
        if not quiet:
            print("The sandbox is not running.")
        return
    try:
        sandbox.stop()
    finally:
        m.apply_client()
    if not quiet:
        print("Sandbox stopped; %exalsius uses the configured endpoint again "
              "(see %exalsius config).")


def sandbox_status(m: Exalsius) -> None:
    """Say whether the sandbox runs, where, and how many requests it has served."""
    sandbox = m._sandbox
    if sandbox is None:
        print("The sandbox is not running (%exalsius sandbox start starts it).")
        return
    print(f"The sandbox is running at {sandbox.url} ({m._sandbox_options}); "
          f"{sandbox.request_count()} requests served.")
