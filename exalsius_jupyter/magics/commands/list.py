"""``%exalsius list``: the workspaces as a pandas DataFrame."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ...model.fields import WorkspaceStatus
from ..parser import CommandParser, add_cluster, add_output, one_of

if TYPE_CHECKING:
    import pandas as pd

    from ...api.client import ExalsiusClient
    from ..context import CommandContext

NAME = "list"
HELP = "list workspaces as a pandas DataFrame"
STATUSES = tuple(status.value for status in WorkspaceStatus)


def add_parser(top: CommandParser) -> CommandParser:
    """``list [--cluster ID] [--status S ...] [-o VAR]``."""
    p = top.child(NAME, help=HELP, description="List workspaces; shows and returns a DataFrame.")
    add_cluster(p, "only workspaces")
    p.add_argument("--status", nargs="+", type=one_of(STATUSES, "status"), metavar="S",
                   help=f"only these statuses ({', '.join(STATUSES)})")
    add_output(p, "the DataFrame")
    return p


def run(ctx: CommandContext, args: argparse.Namespace) -> pd.DataFrame:
    """The workspaces as a DataFrame, filtered by status if asked; cluster names where known."""
    client = ctx.client()
    frame = client.list_workspaces(cluster_id=ctx.cluster_id(args.cluster)).to_dataframe()
    frame = _named(client, frame)
    if args.status:
        total = frame.attrs.get("total")
        frame = frame[frame["workspace_status"].isin(args.status)].reset_index(drop=True)
        frame.attrs["total"] = total
    if args.output:
        ctx.user_ns[args.output] = frame
    return frame


def _named(client: ExalsiusClient, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the clusters' names where the server has the catalogue (one GET).

    The names are a convenience: a catalogue that fails leaves the frame as listed.
    """
    from ...errors import ExalsiusError
    from ...model.frames import with_cluster_names

    try:
        if not client.offers_catalogue():  # asked once per client
            return frame
        names = {c.id: c.name for c in client.list_clusters()}
    except ExalsiusError:
        return frame
    return with_cluster_names(frame, names)
