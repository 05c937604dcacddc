"""``%exalsius wait``: block until workspaces are RUNNING, FAILED, STOPPED, DELETED or late."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..parser import CommandParser, add_targets, positive_float
from ..targets import resolve_targets

if TYPE_CHECKING:
    from ..context import CommandContext

NAME = "wait"
HELP = "block until workspaces are RUNNING (or fail)"


def add_parser(top: CommandParser) -> CommandParser:
    """``wait TARGET ... [--cluster ID] [--timeout S]``."""
    p = top.child(NAME, help=HELP,
                  description="Wait until every workspace is RUNNING, or FAILED, STOPPED, "
                              "DELETED, or the timeout passes; returns the final state.")
    add_targets(p)
    p.add_argument("--timeout", type=positive_float, metavar="S",
                   help="seconds to wait (default: %%config Exalsius.wait_timeout)")
    return p


def run(ctx: CommandContext, args: argparse.Namespace) -> Any:
    """The final state of the targets once waiting ends."""
    from ..follow import follow

    listing = ctx.client().list_workspaces(cluster_id=ctx.cluster_id(args.cluster))
    ids = [listing.raw[i]["id"] for i in resolve_targets(listing.raw, args.targets)]
    return follow(ctx, ids, timeout=args.timeout, block=True)
