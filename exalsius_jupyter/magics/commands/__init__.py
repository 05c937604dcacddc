"""The ``%exalsius`` subcommands: one module each, and the registry everything is built from.

A subcommand module has ``NAME``, ``HELP`` (one line), ``add_parser(top)`` and
``run(ctx, args)``; a module that also takes a cell body has ``CELL_USAGE``, ``cell_parser()``
and ``run_cell(ctx, args, cell)``. The parser, ``%exalsius?``, ``%exalsius help`` and the
dispatch all come from ``COMMANDS``: adding a subcommand is one module plus one line here.
"""

from __future__ import annotations

import argparse
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from IPython.core.error import UsageError

from ..parser import PROG, CommandParser
from . import (
    clusters,
    config,
    create,
    delete,
    describe,
    login,
    logout,
    logs,
    panel,
    sandbox,
    start,
    stop,
    templates,
    wait,
)
from . import list as list_

if TYPE_CHECKING:
    from ..context import CommandContext


class Command(Protocol):
    """What a subcommand module provides."""

    NAME: str
    HELP: str

    def add_parser(self, top: CommandParser) -> CommandParser:
        """Add this subcommand's parser to ``top`` (``top.child(NAME, help=HELP, ...)``)."""

    def run(self, ctx: CommandContext, args: argparse.Namespace) -> Any:
        """Do it; the return value is the cell's result."""


@runtime_checkable
class CellCommand(Protocol):
    """What a subcommand that also takes a cell body (``%%exalsius NAME``) provides."""

    NAME: str
    CELL_USAGE: str

    def cell_parser(self) -> CommandParser:
        """The parser for the cell magic's line."""

    def run_cell(self, ctx: CommandContext, args: argparse.Namespace, cell: str) -> Any:
        """Do it with the cell body."""


COMMANDS: tuple[Command, ...] = (
    list_, describe, create, stop, delete, start, wait, logs, clusters, templates, panel,
    sandbox, config, login, logout,
)
REGISTRY: dict[str, Command] = {command.NAME: command for command in COMMANDS}


@lru_cache(maxsize=1)
def build_parser() -> CommandParser:
    """The ``%exalsius`` parser: one subparser per registered subcommand, then ``help``."""
    top = CommandParser(
        prog=PROG,
        description="Manage exalsius GPU workspaces from a notebook. Run "
                    f"`{PROG} SUBCOMMAND --help` for a subcommand's options.")
    top.subcommands("command", "SUBCOMMAND")
    for command in COMMANDS:
        command.add_parser(top)
    p = top.child("help", help="show help for a subcommand")
    p.add_argument("topic", nargs="?", metavar="SUBCOMMAND")
    return top


def cell_commands() -> dict[str, CellCommand]:
    """The subcommands that also take a cell body, by name."""
    return {c.NAME: c for c in COMMANDS if isinstance(c, CellCommand)}


@lru_cache(maxsize=1)
def cell_parsers() -> dict[str, CommandParser]:
    """The line parsers of the subcommands that take a cell body, by name."""
    return {name: command.cell_parser() for name, command in cell_commands().items()}


def cell_usage() -> str:
    """How the cell magic is used, for the error when a cell names another subcommand."""
    return "; or ".join(command.CELL_USAGE for command in cell_commands().values())


def show_help(topic: str | None) -> None:
    """``%exalsius help [SUBCOMMAND]``: the overview, or one subcommand's help."""
    top = build_parser()
    target = top.children.get(topic) if topic else top
    if target is None:
        raise UsageError(f"no subcommand {topic!r}; see %exalsius help")
    target.print_help()


def full_help() -> str:
    """The overview, every subcommand's help (with its own subcommands) and the cell magic's."""
    top = build_parser()
    parts = [top.format_help()]
    for command in COMMANDS:
        parser = top.children[command.NAME]
        parts.append(parser.format_help())
        parts.extend(child.format_help() for child in parser.children.values())
    parts.extend(parser.format_help() for parser in cell_parsers().values())
    return "\n".join(parts)


__all__ = ["COMMANDS", "REGISTRY", "CellCommand", "Command", "build_parser", "cell_commands",
           "cell_parsers", "cell_usage", "full_help", "show_help"]
