"""The approval page's guards: same-origin POSTs only, and a limit on wrong user codes."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from urllib.parse import urlsplit

PEER_HEADER = "X-Sandbox-Peer"  # set by the server from the socket (a client's own is dropped)
MAX_WRONG_PER_CLIENT = 5  # wrong user codes a client may enter per window
MAX_WRONG_TOTAL = 20  # wrong user codes from everyone per window; then every pending code is void
WINDOW = 600.0  # seconds


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_site(headers: Mapping[str, str], issuer: str) -> bool:
    """Whether a form POST came from another site (Origin, or the browser's Sec-Fetch-Site).

    A browser names the page a form was sent from; a script (requests, curl) names none and is
    let through. ``Origin: null`` (a sandboxed frame, a file) is another site.
    """
    origin = headers.get("origin")
    host = str(headers.get("host") or "").lower()
    own = {origin_of(issuer), f"http://{host}", f"https://{host}"}
    if origin is not None and origin.strip().lower() not in own:
        return True
    return (headers.get("sec-fetch-site") or "").lower() == "cross-site"


class WrongCodes:
    """Counts wrong user codes per client and in all, over a sliding window; thread-safe.

    Args:
        per_client: wrong codes a client may enter per window before it is refused.
        total: wrong codes from all clients per window before every pending code is void.
        window: the window in seconds.
    """

    def __init__(self, per_client: int = MAX_WRONG_PER_CLIENT, total: int = MAX_WRONG_TOTAL,
                 window: float = WINDOW) -> None:
        self.per_client, self.total, self.window = per_client, total, window
        self._by_client: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def _trim(self, times: deque[float], now: float) -> deque[float]:
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, client: str, now: float) -> bool:
        """Whether ``client`` entered too many wrong codes lately."""
        with self._lock:
            times = self._by_client.get(client)
            return times is not None and len(self._trim(times, now)) >= self.per_client

    def record(self, client: str, now: float) -> bool:
        """Count a wrong code; True when the total limit is reached (then it starts again)."""
        with self._lock:
            if len(self._by_client) > 10_000:  # never grow without bound
                self._by_client.clear()
            self._trim(self._by_client.setdefault(client, deque()), now).append(now)
            self._trim(self._all, now).append(now)
            if len(self._all) >= self.total:
                self._all.clear()
                return True
            return False
