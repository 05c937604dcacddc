"""Columns read a chunk of rows at a time (both list paths), repeated values kept once.

``CHUNK`` rows are read together, every key in one pass (``transposed``), and made what their
cells hold (``cells.PREPARE``) while they are in the cache: a chunk's records fit in a core's
L2 cache (#16: the fast path's decode at 100k took 0.36 s in chunks of 512, 0.39 s of 1,024,
0.52 s of 2,048). ``Columns`` decides on a column's first chunk whether its values repeat
enough to be worth sharing, then maps each value to the first equal one seen: a 100k-row
column of a few owners holds a few strings, not 100k. Less memory, and pandas builds a string
array faster from fewer distinct objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .cells import PREPARE, TEXT_TYPES
from .fields import COLUMN_FIELDS, FIELDS_BY_NAME, Kind

CHUNK = 512  # rows read together (and, on the fast path, records alive at once: #16)
REPEATING = 0.5  # a column is shared when at most this share of its first chunk is distinct
_SHARED_KINDS = frozenset(Kind) - {Kind.INT, Kind.STATUS}  # ints and codes: numpy's


class Columns:
    """A frame's columns by field name, filled a chunk of rows at a time."""

    def __init__(self) -> None:
        self.values: dict[str, list[Any]] = {f.name: [] for f in COLUMN_FIELDS}
        self._seen: dict[str, dict[Any, Any] | None] = {}

    def add(self, name: str, chunk: Sequence[Any]) -> None:
        """Append a chunk of a column's values, as its cells hold them, repeated text once."""
        kind = FIELDS_BY_NAME[name].kind
        cells = PREPARE[kind](chunk)
        if name not in self._seen:
            self._seen[name] = _worth_it(cells) if kind in _SHARED_KINDS else None
        seen = self._seen[name]
        if seen is None or not TEXT_TYPES.issuperset(map(type, cells)):
            self.values[name].extend(cells)  # not shared, or other types (True == 1 == 1.0)
        else:
            self.values[name].extend(map(seen.setdefault, cells, cells))


def _worth_it(first: Sequence[Any]) -> dict[Any, Any] | None:
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
