"""``%exalsius describe``: one workspace, resolved from a name, an id or an id prefix."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..parser import CommandParser, add_cluster, add_output
from ..targets import resolve_targets

if TYPE_CHECKING:
    from ..context import CommandContext
    from ..results import WorkspaceDescription

NAME = "describe"
HELP = "one workspace: its fields and access link"


def add_parser(top: CommandParser) -> CommandParser:
    """``describe NAME_OR_ID [--cluster ID] [-o VAR]``."""
    p = top.child(NAME, help=HELP,
                  description="Show one workspace: a one-row frame plus its access link.")
    p.add_argument("targets", nargs=1, metavar="NAME_OR_ID")
    add_cluster(p, "only consider workspaces")
    add_output(p, "the one-row DataFrame")
    return p


def run(ctx: CommandContext, args: argparse.Namespace) -> WorkspaceDescription:
    """The workspace as a one-row frame with its access link."""
    from ...model.workspace import Workspace
    from ..results import WorkspaceDescription

    listing = ctx.client().list_workspaces(cluster_id=ctx.cluster_id(args.cluster))
    (index,) = resolve_targets(listing.raw, args.targets)
    frame = listing.to_dataframe().iloc[[index]].reset_index(drop=True)
    if args.output:
        ctx.user_ns[args.output] = frame
    return WorkspaceDescription(frame, Workspace.from_api(listing.raw[index]))
