"""``%exalsius panel``: the interactive workspaces panel (Jupyter only)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from ..parser import CommandParser, add_cluster, non_negative_int

if TYPE_CHECKING:
    from ..context import CommandContext

NAME = "panel"
HELP = "open the workspaces widget panel"


def add_parser(top: CommandParser) -> CommandParser:
    """``panel [--cluster ID] [--page-size N] [--no-auto-refresh]``."""
    p = top.child(NAME, help=HELP,
                  description="Open the interactive workspaces panel (needs Jupyter).")
    add_cluster(p, "only workspaces")
    p.add_argument("--page-size", type=non_negative_int, default=50, metavar="N")
    p.add_argument("--no-auto-refresh", action="store_true")
    return p


def run(ctx: CommandContext, args: argparse.Namespace) -> None:
    """Display the panel (it uses the session's client)."""
    if not ctx.in_kernel:
        raise UsageError("the panel needs Jupyter (a kernel with widgets); in a terminal "
                         "use %exalsius list")
    try:
        from ...widgets import WorkspacePanel
    except ImportError:
        raise UsageError("the workspaces panel isn't available in this version yet; "
                         "use %exalsius list") from None
    from IPython.display import display

    display(WorkspacePanel(cluster_id=ctx.cluster_id(args.cluster),
                           auto_refresh=not args.no_auto_refresh, page_size=args.page_size or 50))
