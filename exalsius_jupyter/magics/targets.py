"""Which workspaces a magic means: names, ids and id prefixes, or a pandas --where query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ExalsiusError, ValidationError

if TYPE_CHECKING:
    import pandas as pd


class TargetError(ExalsiusError):
    """A target names no workspace, or more than one."""


class UnknownTargetError(TargetError):
    """No workspace has this id, id prefix or name."""


class AmbiguousTargetError(TargetError):
    """More than one workspace matches a target."""


def _describe(raw: Mapping[str, Any]) -> str:
    return f"{raw.get('name')} (id {raw.get('id')}, cluster {raw.get('cluster_id')})"


def resolve_one(raw: Sequence[Mapping[str, Any]], target: str) -> int:
    """The index in ``raw`` of the workspace ``target`` means.

    An exact id wins; then a unique id prefix; then a unique exact name (a DELETED namesake
    still listed does not count). A unique id prefix that is also another workspace's exact
    name is ambiguous rather than a guess.
    """
    target = target.strip()
    if not target:
        raise ValidationError("an empty workspace name or id")
    raw = [ws if isinstance(ws, Mapping) else {} for ws in raw]  # items that are not objects
    for i, ws in enumerate(raw):
        if ws.get("id") == target:
            return i
    prefix = [i for i, ws in enumerate(raw) if str(ws.get("id") or "").startswith(target)]
    named = [i for i, ws in enumerate(raw) if ws.get("name") == target]
    if len(named) > 1:  # a name freed by a delete may be reused while the old one is listed
        alive = [i for i in named if raw[i].get("workspace_status") != "DELETED"]
        named = alive if len(alive) == 1 else named
    if len(prefix) == 1 and set(named) <= set(prefix):
        return prefix[0]
    if len(named) == 1 and len(prefix) != 1:
        return named[0]
    candidates = list(dict.fromkeys(prefix + named))
    if not candidates:
        raise UnknownTargetError(f"no workspace has the name, id or id prefix {target!r}")
    listed = "; ".join(_describe(raw[i]) for i in candidates[:10])
    more = f"; and {len(candidates) - 10} more" if len(candidates) > 10 else ""
    raise AmbiguousTargetError(
        f"{target!r} matches {len(candidates)} workspaces: {listed}{more}; "
        "use the full id, a longer id prefix or --cluster")


def resolve_targets(raw: Sequence[Mapping[str, Any]], targets: Sequence[str]) -> list[int]:
    """Indices in ``raw`` for every target, in order and without duplicates."""
    return list(dict.fromkeys(resolve_one(raw, t) for t in targets))


def select_where(frame: pd.DataFrame, expr: str, namespace: Mapping[str, Any]) -> pd.DataFrame:
    """The rows of a workspaces frame matching a pandas query (``@var``: a notebook variable)."""
    if not expr.strip():
        raise ValidationError("--where needs an expression, e.g. \"workspace_status == 'RUNNING'\"")
    try:
        selected = frame.query(expr, local_dict=dict(namespace), global_dict={})
    except Exception as exc:  # the user's expression: any failure is theirs to fix
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise ValidationError(f"bad --where expression {expr!r}: {detail}") from None
    return selected
