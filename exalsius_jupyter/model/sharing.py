"""Repeated values kept once: a 100k-row column of a few statuses holds a few strings, not 100k.

A column is read a chunk at a time (both list paths); ``Sharing`` decides on its first chunk
whether its values repeat enough to be worth it, then maps each value to the first equal one
seen. Less memory, and pandas builds a string array faster from fewer distinct objects.
"""

from __future__ import annotations

from typing import Any

from .fields import COLUMN_FIELDS, Kind

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
        if seen is None:
            out.extend(chunk)
            return
        try:
            values = list(map(seen.setdefault, chunk, chunk))
        except TypeError:  # a list among the values (1.46 access): this chunk as it is
            values = chunk
        out.extend(values)


def _worth_it(first: Any) -> dict[Any, Any] | None:
    try:
        distinct = len(set(first))
    except TypeError:  # unhashable values (1.46 access lists): kept as they are
        return None
    return {} if first and distinct <= len(first) * REPEATING else None
