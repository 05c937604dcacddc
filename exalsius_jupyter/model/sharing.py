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
        if seen is None or not _TEXTS.issuperset(map(type, chunk)):
            out.extend(chunk)  # not shared, or a chunk with other types (True == 1 == 1.0)
        else:
            out.extend(map(seen.setdefault, chunk, chunk))


def _worth_it(first: Any) -> dict[Any, Any] | None:
    """A dict to share through when ``first`` is text that repeats enough; else None."""
    if not first or not _TEXTS.issuperset(map(type, first)):
        return None
    return {} if len(set(first)) <= len(first) * REPEATING else None


_TEXTS = frozenset({str, type(None)})  # only these: a dict takes True, 1 and 1.0 for one key
