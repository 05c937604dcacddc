"""What ``stop`` and ``delete`` share: select by targets or --where, confirm, act on each."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ...errors import ExalsiusError, ValidationError
from ..confirm import confirm
from ..parser import PROG, CommandParser, add_targets
from ..targets import resolve_targets, select_where

if TYPE_CHECKING:
    import pandas as pd

    from ..context import CommandContext

_SHOW_EACH = 10
_PAST = {"stop": "stopped", "delete": "deleted"}


def add_parser(top: CommandParser, name: str, help: str) -> CommandParser:
    """``stop|delete [TARGET ...] [--where EXPR] [--dry-run] [--yes]``."""
    p = top.child(
        name, help=help,
        description=f"{name.capitalize()} workspaces named on the line or selected with --where. "
                    "Nothing is sent without --yes or an interactive yes; a run without "
                    "interactive input (nbval, papermill, nbconvert) fails and says to add --yes.",
        epilog=f'e.g. {PROG} {name} --where "workspace_status == \'RUNNING\' and '
               f'gpu_count >= 4" --dry-run')
    add_targets(p, nargs="*")
    p.add_argument("--where", metavar="EXPR",
                   help="a pandas query on the %%exalsius list frame selecting the workspaces "
                        "(@var refers to a notebook variable)")
    p.add_argument("--dry-run", action="store_true",
                   help=f"show the frame of workspaces that would be affected; {name} nothing")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    return p


def selected(ctx: CommandContext, args: argparse.Namespace, verb: str) -> pd.DataFrame:
    """The rows of the list frame a stop/delete means: targets or --where."""
    if args.targets and args.where is not None:
        raise ValidationError(f"{verb}: name workspaces or use --where, not both")
    if not args.targets and args.where is None:
        raise ValidationError(
            f"{verb}: name the workspaces (names, ids or id prefixes) or select them with "
            "--where EXPR")
    listing = ctx.client().list_workspaces(cluster_id=ctx.cluster_id(args.cluster))
    frame = listing.to_dataframe()
    if args.where is not None:
        return select_where(frame, args.where, ctx.user_ns)
    return frame.iloc[resolve_targets(listing.raw, args.targets)]


def run(ctx: CommandContext, args: argparse.Namespace, verb: str) -> Any:
    """Confirm, then ``verb`` every selected workspace."""
    past = _PAST[verb]
    chosen = selected(ctx, args, verb)
    n = len(chosen)
    noun = "workspace" if n == 1 else "workspaces"
    if not n:
        print(f"No workspace matches; nothing to {verb}.")
        return None
    if args.dry_run:
        print(f"Dry run: would {verb} {n} {noun}; nothing was sent.")
        return chosen.reset_index(drop=True)
    if not args.yes:
        names = ", ".join(chosen["name"].astype(str).head(3))
        more = ", …" if n > 3 else ""
        question = f"{verb.capitalize()} {n} {noun} ({names}{more})?"
        if not confirm(ctx.shell, question, fix=f"add --yes to {verb} without asking"):
            print(f"Nothing was {past}.")
            return None
    client = ctx.client()
    action = client.stop_workspace if verb == "stop" else client.delete_workspace
    failures: list[str] = []
    for wid, name in zip(chosen["id"], chosen["name"], strict=True):
        try:
            action(str(wid))
        except ExalsiusError as err:
            if n == 1:
                raise
            failures.append(f"{name}: {err}")
            continue
        if n <= _SHOW_EACH:
            print(f"{past.capitalize()} {name} ({wid})")
    ok = n - len(failures)
    if n > _SHOW_EACH:
        print(f"{past.capitalize()} {ok} of {n} {noun}.")
    if failures:
        shown = "; ".join(failures[:3]) + ("; …" if len(failures) > 3 else "")
        raise UsageError(f"{past} {ok} of {n}; {len(failures)} failed: {shown}")
    return None
