"""The workspace subcommands of ``%exalsius``: list, describe, create, stop, delete, start, wait."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ._confirm import confirm
from .errors import ExalsiusError, NotSupportedError, ValidationError
from .targets import resolve_targets, select_where

if TYPE_CHECKING:
    import pandas as pd

    from .magics import Exalsius

_SHOW_EACH = 10


def cmd_list(m: Exalsius, args: argparse.Namespace) -> pd.DataFrame:
    """``list``: the workspaces as a DataFrame."""
    frame = m.client().list_workspaces(cluster_id=args.cluster).to_dataframe()
    if args.status:
        total = frame.attrs.get("total")
        frame = frame[frame["workspace_status"].isin(args.status)].reset_index(drop=True)
        frame.attrs["total"] = total
    if args.output:
        m.shell.user_ns[args.output] = frame
    return frame


def cmd_describe(m: Exalsius, args: argparse.Namespace) -> Any:
    """``describe``: one workspace, resolved from a name, id or id prefix."""
    from ._magic_views import WorkspaceDescription
    from .model.workspace import Workspace

    listing = m.client().list_workspaces(cluster_id=args.cluster)
    (index,) = resolve_targets(listing.raw, args.targets)
    frame = listing.to_dataframe().iloc[[index]].reset_index(drop=True)
    if args.output:
        m.shell.user_ns[args.output] = frame
    return WorkspaceDescription(frame, Workspace.from_api(listing.raw[index]))


def create_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The create body from the line's options (validated by the caller)."""
    resources = {
        "gpu_count": args.gpus, "gpu_type": args.gpu_type, "gpu_vendor": args.gpu_vendor,
        "cpu_cores": args.cpus, "memory_gb": args.memory, "storage_gb": args.storage,
    }
    spec: dict[str, Any] = {
        "name": args.name,
        "cluster_id": args.cluster,
        "template": {"name": args.template, "variables": _variables(args.var)},
        "resources": {k: v for k, v in resources.items() if v is not None},
    }
    if args.description is not None:
        spec["description"] = args.description
    return spec


def _variables(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """``--var`` pairs as a mapping; a key given twice is an error, not a silent overwrite."""
    variables: dict[str, str] = {}
    for key, value in pairs:
        if key in variables:
            raise ValidationError(f"--var {key!r} is given twice ({variables[key]!r} and "
                                  f"{value!r}); give each template variable once")
        variables[key] = value
    return variables


def cmd_create(m: Exalsius, args: argparse.Namespace) -> Any:
    """``create``: one workspace from the line's options."""
    from .model.spec import validate_workspace_spec

    body = validate_workspace_spec(create_spec(args), where=f"workspace {args.name!r}")
    if args.dry_run:
        print("Dry run: the request body is valid; nothing was sent.")
        return body
    return create_and_follow(m, [body], args, many=False)


def cmd_create_cell(m: Exalsius, args: argparse.Namespace, cell: str) -> Any:
    """``%%exalsius create``: one or many workspaces from a JSON/YAML body."""
    from ._magic_body import body_specs

    specs, many = body_specs(cell, m.shell.user_ns, cluster_id=args.cluster)
    if args.dry_run:
        noun = "body is" if len(specs) == 1 else f"{len(specs)} bodies are"
        print(f"Dry run: the request {noun} valid; nothing was sent.")
        return specs if many else specs[0]
    return create_and_follow(m, specs, args, many=many)


def create_and_follow(m: Exalsius, specs: list[dict[str, Any]], args: argparse.Namespace,
                      *, many: bool) -> Any:
    """Create every (already validated) spec, then wait or watch as asked."""
    client = m.client()
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
        return m.follow(ids, timeout=args.timeout, block=args.wait)
    if many:
        return ids
    return ids[0]


def _selected(m: Exalsius, args: argparse.Namespace, verb: str) -> pd.DataFrame:
    """The rows of the list frame a stop/delete means: targets or --where."""
    if args.targets and args.where is not None:
        raise ValidationError(f"{verb}: name workspaces or use --where, not both")
    if not args.targets and args.where is None:
        raise ValidationError(
            f"{verb}: name the workspaces (names, ids or id prefixes) or select them with "
            "--where EXPR")
    listing = m.client().list_workspaces(cluster_id=args.cluster)
    frame = listing.to_dataframe()
    if args.where is not None:
        return select_where(frame, args.where, m.shell.user_ns)
    return frame.iloc[resolve_targets(listing.raw, args.targets)]


def cmd_bulk(m: Exalsius, args: argparse.Namespace) -> Any:
    """``stop`` / ``delete``: confirm, then act on every selected workspace."""
    verb = args.command
    past = "stopped" if verb == "stop" else "deleted"
    selected = _selected(m, args, verb)
    n = len(selected)
    noun = "workspace" if n == 1 else "workspaces"
    if not n:
        print(f"No workspace matches; nothing to {verb}.")
        return None
    if args.dry_run:
        print(f"Dry run: would {verb} {n} {noun}; nothing was sent.")
        return selected.reset_index(drop=True)
    if not args.yes:
        names = ", ".join(selected["name"].astype(str).head(3))
        more = ", …" if n > 3 else ""
        question = f"{verb.capitalize()} {n} {noun} ({names}{more})?"
        if not confirm(m.shell, question, fix=f"add --yes to {verb} without asking"):
            print(f"Nothing was {past}.")
            return None
    client = m.client()
    action = client.stop_workspace if verb == "stop" else client.delete_workspace
    failures: list[str] = []
    for wid, name in zip(selected["id"], selected["name"], strict=True):
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


def cmd_start(m: Exalsius, args: argparse.Namespace) -> Any:
    """``start``: where the server offers it."""
    client = m.client()
    if not client.offers("start"):
        raise NotSupportedError(
            f"this server ({client.base_url}) does not offer start (the 1.5.1 API has no "
            "start endpoint); create a new workspace instead")
    listing = client.list_workspaces(cluster_id=args.cluster)
    indices = resolve_targets(listing.raw, args.targets)
    ids = [listing.raw[i]["id"] for i in indices]
    for i, wid in zip(indices, ids, strict=True):
        client.start_workspace(wid)
        if not (args.wait or args.watch):
            print(f"Started {listing.raw[i].get('name')} ({wid})")
    if args.wait or args.watch:
        return m.follow(ids, timeout=args.timeout, block=args.wait)
    return None


def cmd_wait(m: Exalsius, args: argparse.Namespace) -> Any:
    """``wait``: block until RUNNING, FAILED, STOPPED, DELETED or the timeout."""
    listing = m.client().list_workspaces(cluster_id=args.cluster)
    ids = [listing.raw[i]["id"] for i in resolve_targets(listing.raw, args.targets)]
    return m.follow(ids, timeout=args.timeout, block=True)
