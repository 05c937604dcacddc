"""What a workspaces frame's cells hold for the server's values, a chunk of a column at a time.

Both list paths hand each chunk of rows to ``PREPARE`` while its values are still in the cache
(#16: at 100k, checking the types of a cold column of timestamps took 14 ms, half of what
pandas took to parse it); ``frames`` then makes each column's array in one call. No pandas
here: the list paths run these before anybody asks for a frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any

from .fields import STATUS_VALUES, Kind, primary_access_column, template_name

TEXT_TYPES: frozenset[type] = frozenset({str, type(None)})  # a dict takes True, 1, 1.0 as one
STATUS_CODES = {status: code for code, status in enumerate(STATUS_VALUES)}
_KNOWN_STATUS = frozenset(STATUS_VALUES)
_DICT: frozenset[type] = frozenset({dict})

Cells = Callable[[Sequence[Any]], Sequence[Any]]


def status_codes(values: Sequence[Any]) -> list[int]:
    """Each status's code in ``STATUS_VALUES``, as ``WorkspaceStatus.parse`` reads it."""
    try:
        return list(map(STATUS_CODES.__getitem__, values))
    except (KeyError, TypeError):  # another spelling, an unknown or unhashable status
        return [STATUS_CODES[_status(v)] for v in values]


def _status(value: Any) -> str:
    if isinstance(value, str):
        upper = value.upper()
        if upper in _KNOWN_STATUS:
            return upper
    return "UNKNOWN"


def zoned_times(values: Sequence[Any]) -> Sequence[Any]:
    """Timestamps with an explicit zone, or None (the values themselves when all are so)."""
    if TEXT_TYPES.issuperset(map(type, values)) and all(
            map(str.endswith, filter(None, values), repeat("Z"))):
        return values
    return list(map(_zoned, values))


def _zoned(value: Any) -> str | None:
    """A timestamp string with an explicit zone (naive means UTC), as the model reads it.

    pandas 2 gives a naive timestamp the offset of an earlier one in the same column.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1] in "Zz" or "+" in text[10:] or "-" in text[10:]:
        return text
    return text + ("T00:00:00Z" if len(text) == 10 else "Z")


def template_names(values: Sequence[Any]) -> Sequence[Any]:
    """Each template's name as the model reads it: an object's name, a bare name, else None."""
    types = set(map(type, values))
    if types <= TEXT_TYPES:  # bare names (and the fast path's names): the names themselves
        return values
    if types <= _DICT:
        return list(map(dict.get, values, repeat("name")))
    return list(map(template_name, values))


def access_cells(values: Sequence[Any]) -> Sequence[Any]:
    """Each value's ``primary_access``; clean links are taken as they are."""
    if TEXT_TYPES.issuperset(map(type, values)) and "" not in values:
        present = list(filter(None, values))
        if list(map(str.strip, present)) == present:
            return values
    return primary_access_column(values)


def _same(values: Sequence[Any]) -> Sequence[Any]:
    return values


# Per kind, what a chunk of a column becomes before ``frames`` makes the column's array.
PREPARE: dict[Kind, Cells] = {
    Kind.TEXT: _same, Kind.UUID: _same, Kind.INT: _same, Kind.TIME: zoned_times,
    Kind.STATUS: status_codes, Kind.TEMPLATE: template_names, Kind.ACCESS: access_cells,
}
