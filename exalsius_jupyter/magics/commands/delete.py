"""``%exalsius delete``: delete workspaces named on the line or selected with --where."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from . import _bulk

if TYPE_CHECKING:
    from ..context import CommandContext
    from ..parser import CommandParser

NAME = "delete"
HELP = "delete workspaces (asks first; --yes to skip)"


def add_parser(top: CommandParser) -> CommandParser:
    """``delete [TARGET ...] [--where EXPR] [--dry-run] [--yes]``."""
    return _bulk.add_parser(top, NAME, HELP)


def run(ctx: CommandContext, args: argparse.Namespace) -> Any:
    """Confirm, then delete each selected workspace."""
    return _bulk.run(ctx, args, NAME)
