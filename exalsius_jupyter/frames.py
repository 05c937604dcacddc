"""Workspaces as a pandas DataFrame, built column-wise from the parsed JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from .models import STATUS_VALUES, opt_int, primary_access

STRING_COLUMNS = ("id", "name", "cluster_id", "template", "gpu_type", "gpu_vendor",
                  "access_information", "owner", "description")
INT_COLUMNS = ("gpu_count", "cpu_cores", "memory_gb", "storage_gb")
TIME_COLUMNS = ("created_at", "to_be_deleted_at")
COLUMNS: tuple[str, ...] = (
    "id", "name", "cluster_id", "workspace_status", "template",
    "gpu_count", "gpu_type", "gpu_vendor", "cpu_cores", "memory_gb", "storage_gb",
    "created_at", "to_be_deleted_at", "access_information", "owner", "description",
)
STATUS_DTYPE = pd.CategoricalDtype(categories=list(STATUS_VALUES), ordered=False)
_KNOWN_STATUS = frozenset(STATUS_VALUES)
_EMPTY: dict[str, Any] = {}


def dtypes() -> dict[str, Any]:
    """The dtype of every column of a workspaces frame."""
    out: dict[str, Any] = {}
    for col in COLUMNS:
        if col == "workspace_status":
            out[col] = STATUS_DTYPE
        elif col in INT_COLUMNS:
            out[col] = pd.Int64Dtype()
        elif col in TIME_COLUMNS:
            out[col] = pd.DatetimeTZDtype(unit="ns", tz="UTC")
        else:
            out[col] = pd.StringDtype()
    return out


def workspaces_frame(raw: list[dict[str, Any]], total: int | None = None) -> pd.DataFrame:
    """Build the frame from the list response's workspace objects, one pass per column."""
    items = [w if isinstance(w, Mapping) else _EMPTY for w in raw]
    res = [_mapping(w.get("resources")) for w in items]
    tpl = [w.get("template") for w in items]
    data: dict[str, Any] = {
        "id": _strings([w.get("id") for w in items]),
        "name": _strings([w.get("name") for w in items]),
        "cluster_id": _strings([w.get("cluster_id") for w in items]),
        "workspace_status": pd.Categorical(
            [_status(w.get("workspace_status")) for w in items], dtype=STATUS_DTYPE),
        "template": _strings([t.get("name") if isinstance(t, Mapping) else t for t in tpl]),
        "gpu_type": _strings([r.get("gpu_type") for r in res]),
        "gpu_vendor": _strings([r.get("gpu_vendor") for r in res]),
        "access_information": _strings([_access(w.get("access_information")) for w in items]),
        "owner": _strings([w.get("owner") for w in items]),
        "description": _strings([w.get("description") for w in items]),
    }
    for col in INT_COLUMNS:
        data[col] = _ints([r.get(col) for r in res])
    for col in TIME_COLUMNS:
        data[col] = _times([w.get(col) for w in items])
    frame = pd.DataFrame({col: data[col] for col in COLUMNS}, copy=False)
    frame.attrs["total"] = len(raw) if total is None else int(total)
    return frame


def _status(value: Any) -> str:
    """The status as ``WorkspaceStatus.parse`` reads it (any case; anything else UNKNOWN)."""
    if isinstance(value, str):
        upper = value.upper()
        if upper in _KNOWN_STATUS:
            return upper
    return "UNKNOWN"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else _EMPTY


def _access(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    return primary_access(value)


def _strings(values: list[Any]) -> pd.arrays.StringArray:
    clean = [v if v is None or isinstance(v, str) else str(v) for v in values]
    return pd.array(clean, dtype=pd.StringDtype())


def _ints(values: list[Any]) -> pd.arrays.IntegerArray:
    clean = [opt_int(v) for v in values]
    return pd.array(clean, dtype=pd.Int64Dtype())


def _times(values: list[Any]) -> pd.DatetimeIndex:
    # RFC 3339 allows lower-case "t" and "z"; pandas' ISO 8601 parser only takes upper case.
    series = pd.Series([v.upper() if isinstance(v, str) else None for v in values], dtype=object)
    parsed = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
    return pd.DatetimeIndex(parsed).as_unit("ns")
