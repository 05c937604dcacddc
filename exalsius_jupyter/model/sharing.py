"""Columns read a chunk of rows at a time (both list paths), repeated values kept once.

``CHUNK`` rows are read together, every key in one pass (``transposed``), while they are in the
cache. ``Sharing`` decides on a column's first chunk whether its values repeat enough to be
worth it, then maps each value to the first equal one seen: a 100k-row column of a few statuses
holds a few strings, not 100k. Less memory, and pandas builds a string array faster from fewer
distinct objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .fields import COLUMN_FIELDS, Kind

CHUNK = 4096  # rows read together (and, on the fast path, records alive at once: #16)
TEXT_TYPES: frozenset[type] = frozenset({str, type(None)})  # a dict takes True, 1, 1.0 as one
REPEATING = 0.5  # a column is shared when at most this share of its first chunk is distinct
_TEXT = frozenset(f.name for f in COLUMN_FIELDS if f.kind is not Kind.INT)  # ints: numpy's


class Sharing:
    """Per column, the values seen so far (or None: the column is not shared)."""

    def __init__(self) -> None:
        self._seen: dict[str, dict[Any, Any] | None] = {}

    def extend(self, out: list[Any], name: str, chunk: Any) -> None:
        """``out.extend(chunk)``, each value replaced by the first equal one of its column."""
        if name not in self._seen:
            self._seen[name] = _worth_it(chunk) if name in _TEXT else None
        seen = self._seen[name]
        if seen is None or not TEXT_TYPES.issuperset(map(type, chunk)):
            out.extend(chunk)  # not shared, or a chunk with other types (True == 1 == 1.0)
        else:
            out.extend(map(seen.setdefault, chunk, chunk))


def _worth_it(first: Any) -> dict[Any, Any] | None:
    """A dict to share through when ``first`` is text that repeats enough; else None."""
    if not first or not TEXT_TYPES.issuperset(map(type, first)):
        return None
    return {} if len(set(first)) <= len(first) * REPEATING else None



def transposed(rows: Iterable[Any], width: int) -> list[Any]:
    """The columns of a chunk of ``itemgetter``/``attrgetter`` rows (bare values for one key)."""
    if width == 1:
        return [list(rows)]
    columns = list(zip(*rows, strict=True))
    return columns if columns else [()] * width
