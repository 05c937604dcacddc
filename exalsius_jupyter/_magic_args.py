"""Argument parsing for ``%exalsius``: argparse that raises instead of exiting."""

from __future__ import annotations

import argparse
import re
import shlex
from typing import Any, NoReturn

from IPython.core.error import UsageError

PROG = "%exalsius"
HELP_WIDTH = 88
STATUSES = ("PENDING", "RUNNING", "STOPPED", "DELETED", "FAILED", "UNKNOWN")
TOKEN_HINT = (
    "the token is never taken from the magic line (it would be saved in the notebook and its "
    "history); set the environment variable EXALSIUS_TOKEN before starting Jupyter, or run "
    "%exalsius login to type it into a hidden prompt")
_SECRET_WORD = r"(token|api[-_]?key|bearer)"
_TOKEN_OPTION = re.compile(rf"^-{{1,2}}{_SECRET_WORD}(=.*)?$", re.IGNORECASE | re.DOTALL)
_TOKEN_ASSIGNMENT = re.compile(rf"^{_SECRET_WORD}[=:].*$", re.IGNORECASE | re.DOTALL)
# Options whose value is free text: "token=..." there is a template variable or prose.
_FREE_TEXT_OPTIONS = frozenset({"--var", "--description", "--where"})

SUBSTITUTION_HELP = """\
The cell body is JSON or YAML (YAML needs PyYAML: pip install 'exalsius-jupyter[yaml]'): one
mapping shaped like the API's Workspace body, or a list of them. Before parsing, variables from
the notebook are substituted into the text:
  $name     the value of `name` (a Python identifier) as text; an unknown $name is an error;
            $$ is a literal $.
  {name}    the same, but only where `name` is an existing variable; any other brace (JSON or
            YAML flow mappings such as {"a": 1}) is left alone.
Values are inserted as text (str(value)), so quote strings in JSON: "name": "$ws_name".
(IPython's own $var/{expr} expansion is not used for the body: it evaluates any {...} and gives
up on the whole text at the first brace it cannot evaluate, which breaks JSON.)
Items are validated one by one (numbered from 1) before any is sent: one bad item and nothing is
created. --cluster ID on the line fills in cluster_id for items that lack it."""


class HelpShown(Exception):
    """Raised after ``--help`` has been printed: the magic returns quietly."""


class _Formatter(argparse.HelpFormatter):
    """Help at a fixed width, whatever the terminal (or the kernel's COLUMNS) says."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=HELP_WIDTH)


class _RawFormatter(argparse.RawDescriptionHelpFormatter):
    """Like _Formatter, keeping the description's own line breaks."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=HELP_WIDTH)


class MagicArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become one-line UsageErrors instead of sys.exit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Raise a one-line UsageError naming the subcommand and pointing at its help."""
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """Help was printed (status 0) or argparse gave up: never leave the kernel."""
        if status:
            raise UsageError(f"{self.prog}: {(message or 'invalid arguments').strip()}")
        raise HelpShown


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
    value of ``--var``, ``--description`` or ``--where``.
    """
    for i, arg in enumerate(argv):
        if _TOKEN_OPTION.match(arg):
            raise UsageError(TOKEN_HINT)
        free_text = i > 0 and argv[i - 1] in _FREE_TEXT_OPTIONS
        if not free_text and _TOKEN_ASSIGNMENT.match(arg):
            raise UsageError(TOKEN_HINT)


def key_value(text: str) -> tuple[str, str]:
    """Parse ``KEY=VALUE`` for --var."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def status_name(text: str) -> str:
    """A workspace status, case-insensitive."""
    value = text.strip().upper()
    if value not in STATUSES:
        raise argparse.ArgumentTypeError(
            f"unknown status {text!r} (choose from {', '.join(STATUSES)})")
    return value


def positive_float(text: str) -> float:
    """A number of seconds greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """A whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def identifier(text: str) -> str:
    """A Python variable name for -o."""
    if not text.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid Python variable name")
    return text


def _targets(p: argparse.ArgumentParser, nargs: str = "+") -> None:
    p.add_argument("targets", nargs=nargs, metavar="TARGET",
                   help="a workspace name, id or unique id prefix")
    p.add_argument("--cluster", metavar="ID", help="only consider workspaces of this cluster")


def _progress(p: argparse.ArgumentParser, what: str) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--wait", action="store_true",
                       help=f"block until {what} RUNNING, FAILED, STOPPED, DELETED or the "
                            "timeout, showing progress; returns the final state")
    group.add_argument("--watch", action="store_true",
                       help="show the progress widget and return at once (in a terminal: like "
                            "--wait)")
    p.add_argument("--timeout", type=positive_float, metavar="S",
                   help="seconds to wait (default: %%config Exalsius.wait_timeout)")


def _bulk(sub: Any, name: str, verb: str) -> None:
    p = sub.add_parser(
        name, help=f"{verb} workspaces (asks first; --yes to skip)",
        description=f"{verb.capitalize()} workspaces named on the line or selected with --where. "
                    "Nothing is sent without --yes or an interactive yes; a run without "
                    "interactive input (nbval, papermill, nbconvert) fails and says to add --yes.",
        epilog=f'e.g. {PROG} {name} --where "workspace_status == \'RUNNING\' and '
               f'gpu_count >= 4" --dry-run')
    _targets(p, nargs="*")
    p.add_argument("--where", metavar="EXPR",
                   help="a pandas query on the %%exalsius list frame selecting the workspaces "
                        "(@var refers to a notebook variable)")
    p.add_argument("--dry-run", action="store_true",
                   help=f"show the frame of workspaces that would be affected; {verb} nothing")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


def build_parser() -> MagicArgumentParser:
    """The ``%exalsius`` parser with one subparser per subcommand."""
    top = MagicArgumentParser(
        prog=PROG, add_help=True,
        description="Manage exalsius GPU workspaces from a notebook. Run "
                    f"`{PROG} SUBCOMMAND --help` for a subcommand's options.")
    sub = top.add_subparsers(dest="command", metavar="SUBCOMMAND", parser_class=MagicArgumentParser)

    p = sub.add_parser("list", help="list workspaces as a pandas DataFrame",
                       description="List workspaces; shows and returns a DataFrame.")
    p.add_argument("--cluster", metavar="ID", help="only workspaces of this cluster")
    p.add_argument("--status", nargs="+", type=status_name, metavar="S",
                   help=f"only these statuses ({', '.join(STATUSES)})")
    p.add_argument("-o", "--output", type=identifier, metavar="VAR",
                   help="also store the DataFrame in this notebook variable")

    p = sub.add_parser("describe", help="one workspace: its fields and access link",
                       description="Show one workspace: a one-row frame plus its access link.")
    p.add_argument("targets", nargs=1, metavar="NAME_OR_ID")
    p.add_argument("--cluster", metavar="ID", help="only consider workspaces of this cluster")
    p.add_argument("-o", "--output", type=identifier, metavar="VAR",
                   help="also store the one-row DataFrame in this notebook variable")

    p = sub.add_parser("create", help="create a workspace (validated before sending)",
                       description="Create a workspace; returns its id, or with --wait the "
                                   "final state. The cell magic %%exalsius create takes a "
                                   "JSON/YAML body instead (see %exalsius?).")
    p.add_argument("--name", required=True)
    p.add_argument("--cluster", required=True, metavar="ID", help="the cluster's UUID")
    p.add_argument("--template", required=True, metavar="T", help="the template's name")
    p.add_argument("--var", action="append", type=key_value, default=[], metavar="KEY=VALUE",
                   help="a template variable (repeatable)")
    p.add_argument("--gpus", type=non_negative_int, metavar="N", help="GPU count")
    p.add_argument("--gpu-type", metavar="T", help="e.g. A100")
    p.add_argument("--gpu-vendor", metavar="V", help="e.g. NVIDIA")
    p.add_argument("--cpus", type=non_negative_int, metavar="N", help="CPU cores")
    p.add_argument("--memory", type=non_negative_int, metavar="GB", help="memory in GB")
    p.add_argument("--storage", type=non_negative_int, metavar="GB", help="storage in GB")
    p.add_argument("--description", metavar="TEXT")
    p.add_argument("--dry-run", action="store_true",
                   help="validate and return the request body; send nothing")
    _progress(p, "it is")

    _bulk(sub, "stop", "stop")
    _bulk(sub, "delete", "delete")

    p = sub.add_parser("start", help="start stopped workspaces (where the server offers it)",
                       description="Start stopped workspaces. Only servers with the start "
                                   "endpoint (the live API, the sandbox) offer it.")
    _targets(p)
    _progress(p, "they are")

    p = sub.add_parser("wait", help="block until workspaces are RUNNING (or fail)",
                       description="Wait until every workspace is RUNNING, or FAILED, STOPPED, "
                                   "DELETED, or the timeout passes; returns the final state.")
    _targets(p)
    p.add_argument("--timeout", type=positive_float, metavar="S",
                   help="seconds to wait (default: %%config Exalsius.wait_timeout)")

    p = sub.add_parser("panel", help="open the workspaces widget panel",
                       description="Open the interactive workspaces panel (needs Jupyter).")
    p.add_argument("--cluster", metavar="ID", help="only workspaces of this cluster")
    p.add_argument("--page-size", type=non_negative_int, default=50, metavar="N")
    p.add_argument("--no-auto-refresh", action="store_true")

    p = sub.add_parser("sandbox", help="run the embedded sandbox API in this kernel",
                       description="Start, stop or inspect an in-process sandbox server; "
                                   "while it runs, this kernel's client points at it.")
    sb = p.add_subparsers(dest="action", metavar="ACTION", parser_class=MagicArgumentParser)
    sb.required = True
    s = sb.add_parser("start", help="start it and point this kernel's client at it")
    s.add_argument("--workspaces", type=non_negative_int, default=0, metavar="N",
                   help="demo workspaces to generate (default 0)")
    s.add_argument("--pending-seconds", type=float, default=3.0, metavar="S",
                   help="seconds a new workspace stays PENDING (default 3)")
    s.add_argument("--seed", type=int, metavar="N", help="seed for reproducible demo data")
    s.add_argument("--port", type=non_negative_int, default=0, metavar="P",
                   help="port on 127.0.0.1 (default: any free port)")
    s.add_argument("--api", choices=("1.5.1", "1.46"), default="1.5.1",
                   help="which API shape to serve (default 1.5.1)")
    s.add_argument("--no-extras", action="store_true",
                   help="serve only the 1.5.1 endpoints (no start, no logs)")
    sb.add_parser("stop", help="stop it and restore the previous endpoint")
    sb.add_parser("status", help="whether it runs, and where")

    sub.add_parser("config", help="show the endpoint, timeouts and whether a token is set",
                   description="Show the settings. Change them with %config Exalsius.api_url "
                               "= '...' (also timeout, poll_interval, wait_timeout).")
    sub.add_parser("login", help="type the API token into a hidden prompt",
                   description="Prompt for the API token (never echoed, never stored in the "
                               "notebook). Without interactive input, set EXALSIUS_TOKEN.")
    sub.add_parser("logout", help="forget the token typed with login")
    p = sub.add_parser("help", help="show help for a subcommand")
    p.add_argument("topic", nargs="?", metavar="SUBCOMMAND")
    return top


def build_cell_parser() -> MagicArgumentParser:
    """The parser for the line of ``%%exalsius create``."""
    p = MagicArgumentParser(prog="%%exalsius create", description=SUBSTITUTION_HELP,
                            formatter_class=_RawFormatter)
    p.add_argument("--cluster", metavar="ID",
                   help="cluster_id for items that do not name one")
    p.add_argument("--dry-run", action="store_true",
                   help="validate and return the request bodies; send nothing")
    _progress(p, "they are")
    return p


def subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser | None:
    """The subparser for ``name``, or None."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(name)
    return None


def full_help() -> str:
    """Every subcommand's help (and ``sandbox start``'s options), for ``%exalsius?``."""
    top = build_parser()
    parts = [top.format_help()]
    for name in ("list", "describe", "create", "stop", "delete", "start", "wait", "panel",
                 "sandbox", "config", "login", "logout"):
        p = subparser(top, name)
        if p is not None:
            parts.append(p.format_help())
            start = subparser(p, "start") if name == "sandbox" else None
            if start is not None:
                parts.append(start.format_help())
    parts.append(build_cell_parser().format_help())
    return "\n".join(parts)
