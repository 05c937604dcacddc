"""Request accounting for tests: counts per (method, route) and a bounded log of recent requests."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

MAX_RECORDS = 10_000


class Headers(dict[str, Any]):
    """Request headers keyed by lower-cased name; lookups ignore case."""

    def __init__(self, items: Any = ()) -> None:
        super().__init__((str(k).lower(), v) for k, v in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        """The header's value (any case of `key`), or default."""
        return super().get(key.lower(), default)


class RequestRecord(NamedTuple):
    """One received request: method, route (e.g. "/workspace/{id}/stop"), headers, body."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


class RequestLog:
    """Thread-safe counts of every request and the last MAX_RECORDS of them in full."""

    def __init__(self, normalize: Callable[[str], str]) -> None:
        self._normalize = normalize
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._records: deque[RequestRecord] = deque(maxlen=MAX_RECORDS)

    def record(self, record: RequestRecord) -> None:
        """Count and keep one request."""
        with self._lock:
            self._counts[(record.method, record.path)] += 1
            self._records.append(record)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests received, optionally only one method and/or one route (template or literal)."""
        route = None if path is None else self._normalize(path)
        method = None if method is None else method.upper()
        with self._lock:
            return sum(
                n
                for (m, p), n in self._counts.items()
                if (method is None or m == method) and (route is None or p == route)
            )

    def records(self) -> list[RequestRecord]:
        """A snapshot of the most recent requests, oldest first."""
        with self._lock:
            return list(self._records)

    def reset(self) -> None:
        """Forget all counts and records."""
        with self._lock:
            self._counts.clear()
            self._records.clear()
