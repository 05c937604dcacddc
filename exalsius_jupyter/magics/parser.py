"""Argument parsing for ``%exalsius``: IPython's MagicArgumentParser, with subcommands and help."""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable
from typing import Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

PROG = "%exalsius"
HELP_WIDTH = 88
TOKEN_HINT = (
    "the token is never taken from the magic line (it would be saved in the notebook and its "
    "history); set the environment variable EXALSIUS_TOKEN before starting Jupyter, or run "
    "%exalsius login to sign in (or %exalsius login --token to type it into a hidden prompt)")
_SECRET_WORD = r"(token|api[-_]?key|bearer)"
_TOKEN_OPTION = re.compile(rf"^-{{1,2}}{_SECRET_WORD}(=.*)?$", re.IGNORECASE | re.DOTALL)
_TOKEN_ASSIGNMENT = re.compile(rf"^{_SECRET_WORD}[=:].*$", re.IGNORECASE | re.DOTALL)
# Options whose value is free text: "token=..." there is a template variable or prose.
_FREE_TEXT_OPTIONS = frozenset({"--var", "--description", "--where"})


class HelpShown(Exception):
    """Raised after ``--help`` has been printed: the magic returns quietly."""


class HelpFormatter(argparse.HelpFormatter):
    """Help at a fixed width, whatever the terminal (or the kernel's COLUMNS) says."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=HELP_WIDTH)


class RawHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Like HelpFormatter, keeping the description's own line breaks."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=HELP_WIDTH)


class CommandParser(MagicArgumentParser):
    """IPython's MagicArgumentParser with ``--help``, a fixed help width and known subcommands.

    Errors are one-line UsageErrors naming the (sub)command; ``--help`` prints the help and
    raises :class:`HelpShown`. ``children`` maps each subcommand's name to its parser, so
    nothing reads argparse's private actions.
    """

    def __init__(self, prog: str | None = None, *, description: str | None = None,
                 epilog: str | None = None,
                 formatter_class: type[argparse.HelpFormatter] = HelpFormatter,
                 add_help: bool = True, **kwargs: Any) -> None:
        super().__init__(prog=prog, description=description, epilog=epilog,
                         formatter_class=formatter_class, add_help=add_help, **kwargs)
        self.children: dict[str, CommandParser] = {}
        self._subparsers: Any = None

    def error(self, message: str) -> NoReturn:
        """Raise a one-line UsageError naming the subcommand and pointing at its help."""
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """Help was printed (status 0) or argparse gave up: never leave the kernel."""
        if status:
            raise UsageError(f"{self.prog}: {(message or 'invalid arguments').strip()}")
        raise HelpShown

    def subcommands(self, dest: str, metavar: str, *, required: bool = False) -> None:
        """Make this parser take a subcommand (stored in ``dest``); add them with ``child``."""
        self._subparsers = self.add_subparsers(dest=dest, metavar=metavar,
                                               parser_class=CommandParser)
        self._subparsers.required = required

    def child(self, name: str, *, help: str, description: str | None = None,
              **kwargs: Any) -> CommandParser:
        """Add the subcommand ``name`` (after ``subcommands``) and return its parser."""
        if self._subparsers is None:
            raise TypeError(f"{self.prog} takes no subcommands; call subcommands() first")
        parser: CommandParser = self._subparsers.add_parser(
            name, help=help, description=description, **kwargs)
        self.children[name] = parser
        return parser


def split_line(line: str) -> list[str]:
    """Split the magic line like a shell would, refusing anything that looks like a token."""
    try:
        argv = shlex.split(line, posix=True)
    except ValueError as exc:
        raise UsageError(f"{PROG}: cannot parse the line ({exc})") from None
    check_no_token(argv)
    return argv


def check_no_token(argv: list[str]) -> None:
    """Refuse --token / token=... on the line (never echoing the value).

    A bare word such as a workspace named ``token`` is fine, and so is ``token=...`` as the
    value of ``--var``, ``--description`` or ``--where``. ``login --token`` is the flag that
    asks for the hidden prompt: allowed as long as no value follows it.
    """
    for i, arg in enumerate(argv):
        if (arg == "--token" and argv[0] == "login"
                and (i + 1 == len(argv) or argv[i + 1].startswith("-"))):
            continue
        if _TOKEN_OPTION.match(arg):
            raise UsageError(TOKEN_HINT)
        free_text = i > 0 and argv[i - 1] in _FREE_TEXT_OPTIONS
        if not free_text and _TOKEN_ASSIGNMENT.match(arg):
            raise UsageError(TOKEN_HINT)


# -- argument types ---------------------------------------------------------------------------


def positive_float(text: str) -> float:
    """A number of seconds greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def one_of(values: tuple[str, ...], what: str) -> Callable[[str], str]:
    """An argparse type taking one of ``values``, case-insensitive (``what`` names it in errors)."""

    def parse(text: str) -> str:
        value = text.strip().upper()
        if value not in values:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {text!r} (choose from {', '.join(values)})")
        return value

    return parse


def non_negative_int(text: str) -> int:
    """A whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}")
    return value


def identifier(text: str) -> str:
    """A Python variable name for -o."""
    if not text.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid Python variable name")
    return text


# -- option groups several subcommands share --------------------------------------------------


def add_targets(p: argparse.ArgumentParser, nargs: str = "+") -> None:
    """Positional workspace targets (names, ids, id prefixes) and ``--cluster``."""
    p.add_argument("targets", nargs=nargs, metavar="TARGET",
                   help="a workspace name, id or unique id prefix")
    add_cluster(p, "only consider workspaces")


def add_cluster(p: argparse.ArgumentParser, what: str = "only workspaces") -> None:
    """``--cluster CLUSTER``: a name, id or id prefix where the server has the catalogue."""
    p.add_argument("--cluster", metavar="CLUSTER",
                   help=f"{what} of this cluster (its name, id or unique id prefix; without "
                        "the catalogue, its id)")


def add_output(p: argparse.ArgumentParser, what: str) -> None:
    """``-o VAR``: also store the result in a notebook variable."""
    p.add_argument("-o", "--output", type=identifier, metavar="VAR",
                   help=f"also store {what} in this notebook variable")


def add_progress(p: argparse.ArgumentParser, what: str) -> None:
    """``--wait`` / ``--watch`` and ``--timeout``."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--wait", action="store_true",
                       help=f"block until {what} RUNNING, FAILED, STOPPED, DELETED or the "
                            "timeout, showing progress; returns the final state")
    group.add_argument("--watch", action="store_true",
                       help="show the progress widget and return at once (in a terminal: like "
                            "--wait)")
    p.add_argument("--timeout", type=positive_float, metavar="S",
                   help="seconds to wait (default: %%config Exalsius.wait_timeout)")
