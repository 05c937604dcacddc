"""``%exalsius create`` from options, and ``%%exalsius create`` from a JSON/YAML cell body."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ...errors import ExalsiusError, ValidationError
from ...model.fields import ASKED_FIELDS, Ask
from ..parser import CommandParser, RawHelpFormatter, add_progress

if TYPE_CHECKING:
    from ...creation import CreatePlan
    from ..context import CommandContext

NAME = "create"
HELP = "create a workspace (validated before sending)"
CELL_USAGE = ("%%exalsius create [--cluster ID] [--wait|--watch] [--dry-run], with a JSON or "
              "YAML body")
SUBSTITUTION_HELP = """\
The cell body is JSON or YAML (YAML needs PyYAML: pip install 'exalsius-jupyter[yaml]'): one
mapping shaped like the API's Workspace body, or a list of them. Before parsing, variables from
the notebook are substituted into the text (string.Template):
  $name     the value of `name` (a Python identifier) as text (${name} where letters follow);
            an unknown $name is an error; $$ is a literal $.
  {name}    no longer substituted: where `name` is a notebook variable it is an error (write
            $name); any other brace (JSON or YAML flow mappings such as {"a": 1}) is left alone.
Values are inserted as text (str(value)), so quote strings in JSON: "name": "$ws_name".
(IPython's own $var/{expr} expansion is not used for the body: it evaluates any {...} and gives
up on the whole text at the first brace it cannot evaluate, which breaks JSON.)
Items are validated one by one (numbered from 1) before any is sent: one bad item and nothing is
created. --cluster ID on the line fills in cluster_id for items that lack it."""


def key_value(text: str) -> tuple[str, str]:
    """Parse ``KEY=VALUE`` for --var (the rule of ``model.spec.parse_variable``)."""
    from ...model.spec import parse_variable

    try:
        return parse_variable(text)
    except ValidationError:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}") from None


def option_type(ask: Ask) -> Callable[[str], Any]:
    """The parser of one asked field's option: its row's ``Ask.parse``, failing as argparse does."""

    def parse(text: str) -> Any:
        try:
            return ask.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def add_parser(top: CommandParser) -> CommandParser:
    """``create --name N --template T [--cluster C] [--var PATH=VALUE ...] [resources] ...``."""
    p = top.child(NAME, help=HELP,
                  description="Create a workspace; returns its id, or with --wait the final "
                              "state. Where the server has the catalogue (API 1.46), it starts "
                              "from the template's own variables, picks the cheapest READY "
                              "cluster and node where the request fits (or the one named), fits "
                              "CPU, memory and storage to the node's free capacity, asks for "
                              "secrets hidden, and shows a summary before sending. The cell "
                              "magic %%exalsius create takes a JSON/YAML body instead.")
    p.add_argument("--name", required=True)
    p.add_argument("--cluster", metavar="C",
                   help="a cluster name, id or unique id prefix (with the catalogue: default "
                        "the cheapest READY cluster where it fits; without: its UUID, needed)")
    p.add_argument("--template", required=True, metavar="T",
                   help="the template's name (see %%exalsius templates)")
    p.add_argument("--var", action="append", type=key_value, default=[], metavar="PATH=VALUE",
                   help="a template variable by dotted path, typed as the template's value "
                        "(repeatable); a secret from a Python variable: --var "
                        "notebookPassword=$pw")
    for f in ASKED_FIELDS:  # one option per asked field, all of it declared in its row
        assert f.ask is not None
        p.add_argument(f.ask.flag, dest=f.name, metavar=f.ask.metavar, help=f.ask.option_help,
                       type=option_type(f.ask))
    deletion = p.add_mutually_exclusive_group()
    deletion.add_argument("--delete-after", type=duration_arg, metavar="D",
                          help="have the service delete it after D (8h, 30m, 2d)")
    deletion.add_argument("--delete-at", type=instant_arg, metavar="ISO",
                          help="have the service delete it at this time (ISO 8601)")
    p.add_argument("--dry-run", action="store_true",
                   help="validate and return the request body; send nothing")
    add_progress(p, "it is")
    return p


def duration_arg(text: str) -> float:
    """``--delete-after``: seconds from 8h, 30m, 2d."""
    from ...durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def instant_arg(text: str) -> datetime:
    """``--delete-at``: an ISO 8601 time (UTC when it names no zone)."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-12-24T18:00:00Z)") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def delete_time(args: argparse.Namespace) -> datetime | None:
    """When the create asks the service to delete the workspace, if it does."""
    if args.delete_at is not None:
        return args.delete_at
    if args.delete_after is not None:
        return datetime.now(timezone.utc) + timedelta(seconds=args.delete_after)
    return None


def cell_parser() -> CommandParser:
    """The parser for the line of ``%%exalsius create``."""
    p = CommandParser(prog="%%exalsius create", description=SUBSTITUTION_HELP,
                      formatter_class=RawHelpFormatter)
    p.add_argument("--cluster", metavar="ID", help="cluster_id for items that do not name one")
    p.add_argument("--dry-run", action="store_true",
                   help="validate and return the request bodies; send nothing")
    add_progress(p, "they are")
    return p


def asked_values(args: argparse.Namespace) -> dict[str, Any]:
    """The line's value of every asked field of the field table, by field name (None: not given)."""
    return {f.name: getattr(args, f.name) for f in ASKED_FIELDS}


def create_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The validated create body from the line's options, without the catalogue (API 1.5.1)."""
    from ...model.spec import build_workspace_spec

    if args.cluster is None:
        raise ValidationError("--cluster is needed: this server has no catalogue to pick a "
                              "cluster from (give the cluster's UUID)")
    spec = build_workspace_spec(
        name=args.name, cluster_id=args.cluster, template=args.template, variables=args.var,
        where=f"workspace {args.name!r}", **asked_values(args))
    when = delete_time(args)
    if when is not None:
        from ...durations import iso_utc

        spec["to_be_deleted_at"] = iso_utc(when)
    return spec


def run(ctx: CommandContext, args: argparse.Namespace) -> Any:
    """One workspace from the line's options: by names where the server has the catalogue."""
    client = ctx.client()
    if not client.offers_catalogue():
        body = create_spec(args)
        if args.dry_run:
            print("Dry run: the request body is valid; nothing was sent.")
            return body
        return create_and_follow(ctx, [body], args, many=False)
    plan = plan_by_names(ctx, args)
    print(f"Creating {args.name}:")
    for line in plan.summary():
        print(f"  {line}")
    if args.dry_run:
        print("Dry run: the request body is valid (secrets masked); nothing was sent.")
        return plan.shown_spec()
    try:
        return create_and_follow(ctx, [plan.spec], args, many=False)
    except (ExalsiusError, UsageError) as err:  # the server may echo what it was sent
        raise UsageError(plan.mask(str(err))) from None


def plan_by_names(ctx: CommandContext, args: argparse.Namespace) -> CreatePlan:
    """The create plan from the catalogue; a secret left empty is asked for, hidden."""
    from ...creation import plan_create
    from ..confirm import read_secret

    def ask(path: str) -> str:
        return read_secret(ctx.shell, f"{path} (hidden): ", what=path,
                           fix=f"pass it from a Python variable: --var {path}=$pw")

    return plan_create(
        ctx.client(), name=args.name, template=args.template, values=args.var,
        cluster=args.cluster, ask_secret=ask, delete_at=delete_time(args),
        **asked_values(args))


def run_cell(ctx: CommandContext, args: argparse.Namespace, cell: str) -> Any:
    """One or many workspaces from a JSON/YAML body."""
    from ..body import body_specs

    specs, many = body_specs(cell, ctx.user_ns, cluster_id=args.cluster)
    if args.dry_run:
        noun = "body is" if len(specs) == 1 else f"{len(specs)} bodies are"
        print(f"Dry run: the request {noun} valid; nothing was sent.")
        return specs if many else specs[0]
    return create_and_follow(ctx, specs, args, many=many)


def create_and_follow(ctx: CommandContext, specs: list[dict[str, Any]],
                      args: argparse.Namespace, *, many: bool) -> Any:
    """Create every (already validated) spec, then wait or watch as asked."""
    from ..follow import follow

    client = ctx.client()
    ids: list[str] = []
    for spec in specs:
        try:
            ids.append(client.create_workspace(spec))
        except ExalsiusError as err:
            if not ids:
                raise
            done = ", ".join(s["name"] for s in specs[: len(ids)])
            raise UsageError(f"created {len(ids)} of {len(specs)} ({done}); then "
                             f"{spec['name']!r} failed: {err}") from None
    if args.wait or args.watch:
        return follow(ctx, ids, timeout=args.timeout, block=args.wait)
    if many:
        return ids
    return ids[0]
