"""``%exalsius clusters``: the clusters with their free GPUs and cost, or one cluster's nodes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ...model.fields import ClusterStatus
from ..parser import CommandParser, add_output, one_of

if TYPE_CHECKING:
    import pandas as pd

    from ..context import CommandContext

NAME = "clusters"
HELP = "clusters with free GPUs and cost per hour, or one cluster's nodes"
STATUSES = tuple(s.value for s in ClusterStatus if s is not ClusterStatus.UNKNOWN)


def add_parser(top: CommandParser) -> CommandParser:
    """``clusters [CLUSTER] [--status S] [-o VAR]``."""
    p = top.child(NAME, help=HELP,
                  description="List the clusters you can use: status, GPUs free and in all, "
                              "cost per hour and so far, workspaces. With CLUSTER (a name, id "
                              "or unique id prefix): one row per node of it, free and total.")
    p.add_argument("cluster", nargs="?", metavar="CLUSTER", help="show this cluster's nodes")
    p.add_argument("--status", type=one_of(STATUSES, "cluster status"), metavar="S",
                   help=f"only clusters in this status ({', '.join(STATUSES)})")
    add_output(p, "the DataFrame")
    return p


def run(ctx: CommandContext, args: argparse.Namespace) -> pd.DataFrame:
    """The clusters frame (GPU columns from each READY cluster's resources), or the nodes."""
    from ...model.catalogue_frames import clusters_frame
    from ...model.placement import resolve_cluster

    client = ctx.client()
    clusters = client.list_clusters(cluster_status=args.status)
    if args.cluster is not None:
        chosen = resolve_cluster(clusters, args.cluster)
        frame = client.get_cluster_resources(chosen.id).to_dataframe()
        frame.attrs["cluster"] = chosen.name
    else:
        resources = {c.id: client.get_cluster_resources(c.id) for c in clusters if c.ready}
        frame = clusters_frame(clusters, resources, total=clusters.total)
    if args.output:
        ctx.user_ns[args.output] = frame
    return frame
