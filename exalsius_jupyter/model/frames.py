"""Workspaces as a pandas DataFrame, built column-wise from the parsed JSON."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import compress, repeat
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from .fields import COLUMN_FIELDS, STATUS_VALUES, Field, Kind, opt_int, opt_str
from .sharing import CHUNK, Columns, transposed

# The ONE column order of a workspaces frame (#17.6), for both list paths (``columns_frame``):
# the columns people look at first, then the other fields in table order, the ids last.
FIRST_COLUMNS = ("name", "workspace_status", "cluster_name", "template", "gpu_count",
                 "gpu_type", "access_information", "created_at", "to_be_deleted_at")
LAST_COLUMNS = ("id", "cluster_id", "owner")
_NAMES = tuple(f.name for f in COLUMN_FIELDS)
COLUMNS: tuple[str, ...] = (
    *(c for c in FIRST_COLUMNS if c in _NAMES),
    *(c for c in _NAMES if c not in FIRST_COLUMNS and c not in LAST_COLUMNS),
    *(c for c in LAST_COLUMNS if c in _NAMES))
INT_COLUMNS = tuple(f.name for f in COLUMN_FIELDS if f.kind is Kind.INT)
TIME_COLUMNS = tuple(f.name for f in COLUMN_FIELDS if f.kind is Kind.TIME)
STATUS_DTYPE = pd.CategoricalDtype(categories=list(STATUS_VALUES), ordered=False)
_EMPTY: dict[str, Any] = {}
_NS_MIN = pd.Timestamp.min.tz_localize("UTC")
_NS_MAX = pd.Timestamp.max.tz_localize("UTC")


def dtypes() -> dict[str, Any]:
    """The dtype of every column of a workspaces frame."""
    by_kind = {Kind.STATUS: STATUS_DTYPE, Kind.INT: pd.Int64Dtype(),
               Kind.TIME: pd.DatetimeTZDtype(unit="ns", tz="UTC")}
    return {f.name: by_kind.get(f.kind, pd.StringDtype()) for f in COLUMN_FIELDS}


def workspaces_frame(raw: list[dict[str, Any]], total: int | None = None) -> pd.DataFrame:
    """Build the frame from the list response's workspace objects, a chunk of rows at a time."""
    items = raw if _all_types(raw, _DICT) else [_mapping(w) for w in raw]
    top = [f for f in COLUMN_FIELDS if not f.parent]
    nested: dict[str, list[Field]] = {}
    for f in COLUMN_FIELDS:
        if f.parent:
            nested.setdefault(f.parent, []).append(f)
    top_keys = [f.key for f in top] + list(nested)
    inner_keys = [(fields, [f.key for f in fields]) for fields in nested.values()]
    columns = Columns()
    loose: set[str] = set()  # keys found missing somewhere: read with dict.get from then on
    for start in range(0, len(items), CHUNK):
        read = _columns(items[start:start + CHUNK], top_keys, loose)
        for f, column in zip(top, read, strict=False):
            columns.add(f.name, column)
        for (fields, keys), column in zip(inner_keys, read[len(top):], strict=True):
            inner = column if _all_types(column, _DICT) else [_mapping(r) for r in column]
            for f, got in zip(fields, _columns(inner, keys, loose), strict=True):
                columns.add(f.name, got)
    return columns_frame(columns.values, len(raw) if total is None else total)


def _columns(items: list[Any], keys: list[str], loose: set[str]) -> list[Any]:
    """``[[item.get(key) for item in items] for key in keys]``: the keys every item has in one
    pass, each key some item lacks (``loose``, learnt as it fails) in a pass of its own."""
    while True:
        strict = [k for k in keys if k not in loose]
        try:
            got = dict(zip(strict, transposed(map(itemgetter(*strict), items), len(strict)),
                           strict=True)) if strict else {}
        except KeyError as exc:  # a key missing somewhere: None there, as dict.get
            missing = exc.args[0] if exc.args else None
            loose.update([missing] if missing in strict else strict)
            continue
        got.update((k, _column(items, k)) for k in keys if k in loose)
        return [got[k] for k in keys]


def columns_frame(values: Mapping[str, list[Any]], total: int) -> pd.DataFrame:
    """Build the frame from each column's cells (``sharing.Columns``: what ``cells.PREPARE``
    made of the values read from the objects, None where absent).

    Every list path ends here, so this is where the column order is set (``COLUMNS``): first
    what people look at, ``name``, ``workspace_status`` (``cluster_name`` follows it when
    ``with_cluster_names`` adds it), ``template``, ``gpu_count``, ``gpu_type``,
    ``access_information``, ``created_at``, ``to_be_deleted_at``; then the other fields in the
    field table's order (``gpu_vendor``, ``cpu_cores``, ``memory_gb``, ``storage_gb``,
    ``description``, and any new field); the ids last: ``id``, ``cluster_id``, ``owner``. Every
    column is kept and ids are kept whole (a frame is data: select ``df[["name", "id"]]`` or
    use ``df.drop(columns=[...])`` for a narrower view).
    """
    data = {f.name: _COLUMN_BUILDERS[f.kind](values[f.name]) for f in COLUMN_FIELDS}
    frame = pd.DataFrame({col: data[col] for col in COLUMNS}, copy=False)
    frame.attrs["total"] = int(total)
    return frame


def with_cluster_names(frame: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` with a ``cluster_name`` column (string dtype), where ``COLUMNS``' order puts it.

    ``names`` maps a cluster id to its name (``{c.id: c.name for c in client.list_clusters()}``);
    a cluster it does not name is NA. The frame's ``attrs`` are kept.
    """
    out = frame.copy()
    before = FIRST_COLUMNS[:FIRST_COLUMNS.index("cluster_name")]  # after the last of these
    where = max((i + 1 for i, c in enumerate(out.columns) if c in before), default=0)
    ids = out["cluster_id"] if "cluster_id" in out.columns else pd.Series([], dtype="string")
    out.insert(where, "cluster_name", ids.map(dict(names)).astype(pd.StringDtype()))
    out.attrs = dict(frame.attrs)
    return out


# Fast paths: a well-formed response is handled by C-level map/itemgetter/set calls; anything
# unusual (missing keys, odd types) falls back to a tolerant per-value pass.
_DICT: frozenset[type] = frozenset({dict})
_INT: frozenset[type] = frozenset({int})
_INT_OR_NONE: frozenset[type] = frozenset({int, type(None)})


def _all_types(values: list[Any], allowed: frozenset[type]) -> bool:
    return set(map(type, values)) <= allowed


def _column(items: list[Any], key: str) -> list[Any]:
    """``[item.get(key) for item in items]``, at C speed when every item has the key."""
    try:
        return list(map(itemgetter(key), items))
    except KeyError:
        pass
    try:
        getter: Callable[[Any, str], Any] = dict.get
        return list(map(getter, items, repeat(key)))
    except TypeError:  # a Mapping that is not a dict
        return [w.get(key) for w in items]


def _statuses(codes: list[int]) -> pd.Categorical:
    """The status column from its codes (``cells.status_codes``)."""
    return pd.Categorical.from_codes(np.array(codes, dtype=np.int8), dtype=STATUS_DTYPE)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else _EMPTY


def _strings(values: list[Any]) -> ExtensionArray:
    # pandas reads None and NaN as <NA> and other values as str(value), as the model's opt_str.
    try:
        return pd.array(values, dtype=pd.StringDtype())
    except (TypeError, ValueError):  # pandas 2 takes equal-length lists for a 2-D array
        return pd.array(list(map(opt_str, values)), dtype=pd.StringDtype())


def _ints(values: list[Any]) -> pd.arrays.IntegerArray:
    types = set(map(type, values))
    try:
        if types <= _INT:
            data = np.array(values, dtype=np.int64)
            return pd.arrays.IntegerArray(data, np.zeros(len(data), dtype=bool))
        if types <= _INT_OR_NONE:
            return pd.array(values, dtype=pd.Int64Dtype())
    except OverflowError:
        pass
    clean = [opt_int(v) for v in values]
    clean = [v if v is None or -(2**63) <= v < 2**63 else None for v in clean]
    return pd.array(clean, dtype=pd.Int64Dtype())


def _times(values: list[Any]) -> pd.DatetimeIndex:
    """The column of timestamps with explicit zones (``cells.zoned_times``), parsed at once."""
    seconds = _plain_utc_seconds(values)
    if seconds is not None:
        return pd.DatetimeIndex(seconds.astype("datetime64[ns]")).tz_localize("UTC")
    parsed = pd.to_datetime(pd.Series(values, dtype=object), utc=True, errors="coerce",
                            format="ISO8601")
    missing = parsed.isna().to_numpy()
    if missing.any():
        # RFC 3339 allows lower-case "t" and "z"; pandas' ISO 8601 parser takes upper case only.
        retry = [v.upper() if isinstance(v, str) else None for v in values]
        again = pd.to_datetime(pd.Series(retry, dtype=object), utc=True, errors="coerce",
                               format="ISO8601")
        parsed = parsed.where(~missing, again)
    try:
        return pd.DatetimeIndex(parsed).as_unit("ns")
    except pd.errors.OutOfBoundsDatetime:
        # pandas 3 may parse at a coarser unit, holding years datetime64[ns] cannot: NaT.
        parsed = parsed.where((parsed >= _NS_MIN) & (parsed <= _NS_MAX))
        return pd.DatetimeIndex(parsed).as_unit("ns")


# The shape servers send, "2026-11-03T14:49:21Z": where each field's digits and separators are.
_PLAIN = 20
_SEPARATORS = {4: b"-", 7: b"-", 10: b"T", 13: b":", 16: b":", 19: b"Z"}
_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
_YEARS = (1678, 2261)  # whole years datetime64[ns] holds (pandas decides the edges)
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _plain_utc_seconds(values: list[Any]) -> np.ndarray | None:
    """Seconds since the epoch (datetime64[s], NaT for None) when every timestamp is a valid
    "YYYY-MM-DDTHH:MM:SSZ" (the servers' own shape) in years datetime64[ns] holds: read as
    digits by numpy, a column at once. None otherwise: pandas reads the column.
    """
    present, kept = values, None
    try:
        try:
            text = "".join(present).encode("ascii")
        except TypeError:  # None (or not text) somewhere
            kept = [v is not None for v in values]
            present = list(compress(values, kept))
            text = "".join(present).encode("ascii")
    except (TypeError, UnicodeEncodeError):
        return None
    if len(text) != _PLAIN * len(present) or not present:
        return None
    rows = np.frombuffer(text, dtype=np.uint8).reshape(len(present), _PLAIN)
    digits = rows[:, _DIGITS] - np.uint8(ord("0"))  # anything but a digit wraps above 9
    if (digits > 9).any() or not all(
            (rows[:, at] == ord(sep)).all() for at, sep in _SEPARATORS.items()):
        return None
    d = digits.T  # uint8: each field as int32 from its own digits (#16: little memory)
    year = (d[0].astype(np.int32) * 10 + d[1]) * 100 + d[2].astype(np.int32) * 10 + d[3]
    month, day, hour, minute, second = (d[i].astype(np.int32) * 10 + d[i + 1]
                                        for i in range(4, 14, 2))
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if not ((year >= _YEARS[0]).all() and (year <= _YEARS[1]).all()
            and (month >= 1).all() and (month <= 12).all() and (day >= 1).all()
            and (day <= _MONTH_DAYS[np.clip(month, 1, 12) - 1] + (leap & (month == 2))).all()
            and (hour <= 23).all() and (minute <= 59).all() and (second <= 59).all()):
        return None
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    y = year - (month <= 2)
    era, yoe = y // 400, y % 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    stamps = (days.astype(np.int64) * 86400 + (hour * 3600 + minute * 60 + second)).astype(
        "datetime64[s]")
    if kept is None:
        return stamps
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[s]")
    out[np.array(kept, dtype=bool)] = stamps
    return out


_COLUMN_BUILDERS: dict[Kind, Callable[[list[Any]], Any]] = {
    Kind.TEXT: _strings,
    Kind.UUID: _strings,
    Kind.INT: _ints,
    Kind.TIME: _times,
    Kind.STATUS: _statuses,
    Kind.TEMPLATE: _strings,
    Kind.ACCESS: _strings,
}
