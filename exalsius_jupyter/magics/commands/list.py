"""``%exalsius list``: the workspaces as a pandas DataFrame."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ...model.fields import WorkspaceStatus
from ..parser import CommandParser, add_cluster, add_output

if TYPE_CHECKING:
    import pandas as pd

    from ..context import CommandContext

NAME = "list"
HELP = "list workspaces as a pandas DataFrame"
STATUSES = tuple(status.value for status in WorkspaceStatus)


def status_name(text: str) -> str:
    """A workspace status, case-insensitive."""
    value = text.strip().upper()
    if value not in STATUSES:
        raise argparse.ArgumentTypeError(
            f"unknown status {text!r} (choose from {', '.join(STATUSES)})")
    return value


def add_parser(top: CommandParser) -> CommandParser:
    """``list [--cluster ID] [--status S ...] [-o VAR]``."""
    p = top.child(NAME, help=HELP, description="List workspaces; shows and returns a DataFrame.")
    add_cluster(p, "only workspaces")
    p.add_argument("--status", nargs="+", type=status_name, metavar="S",
                   help=f"only these statuses ({', '.join(STATUSES)})")
    add_output(p, "the DataFrame")
    return p


def run(ctx: CommandContext, args: argparse.Namespace) -> pd.DataFrame:
    """The workspaces as a DataFrame, filtered by status if asked."""
    frame = ctx.client().list_workspaces(cluster_id=ctx.cluster_id(args.cluster)).to_dataframe()
    if args.status:
        total = frame.attrs.get("total")
        frame = frame[frame["workspace_status"].isin(args.status)].reset_index(drop=True)
        frame.attrs["total"] = total
    if args.output:
        ctx.user_ns[args.output] = frame
    return frame
