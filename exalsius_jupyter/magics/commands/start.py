"""``%exalsius start``: start stopped workspaces, where the server offers it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ...errors import NotSupportedError
from ..parser import CommandParser, add_progress, add_targets
from ..targets import resolve_targets

if TYPE_CHECKING:
    from ..context import CommandContext

NAME = "start"
HELP = "start stopped workspaces (where the server offers it)"


def add_parser(top: CommandParser) -> CommandParser:
    """``start TARGET ... [--cluster ID] [--wait|--watch] [--timeout S]``."""
    p = top.child(NAME, help=HELP,
                  description="Start stopped workspaces. Only servers with the start endpoint "
                              "(the live API, the sandbox) offer it.")
    add_targets(p)
    add_progress(p, "they are")
    return p


def run(ctx: CommandContext, args: argparse.Namespace) -> Any:
    """Start each target; with --wait/--watch follow them until they run."""
    from ..follow import follow

    client = ctx.client()
    if not client.offers("start"):
        raise NotSupportedError(
            f"this server ({client.base_url}) does not offer start (the 1.5.1 API has no "
            "start endpoint); create a new workspace instead")
    listing = client.list_workspaces(cluster_id=ctx.cluster_id(args.cluster))
    indices = resolve_targets(listing.raw, args.targets)
    ids = [listing.raw[i]["id"] for i in indices]
    for i, wid in zip(indices, ids, strict=True):
        client.start_workspace(wid)
        if not (args.wait or args.watch):
            print(f"Started {listing.raw[i].get('name')} ({wid})")
    if args.wait or args.watch:
        return follow(ctx, ids, timeout=args.timeout, block=args.wait)
    return None
