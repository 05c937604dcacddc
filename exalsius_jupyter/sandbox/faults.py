"""Fault injection: one-shot failures and drops, outages, and seeded random errors and drops."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """What to do instead of handling a request: drop it, or answer `status`."""

    drop: bool = False
    status: int = 0
    retry_after: int | None = None


DROP = Fault(drop=True)


class Faults:
    """Decides, per request and in arrival order, whether to fail it.

    Precedence: drop_next, fail_next, outage, then the seeded random drop_rate and error_rate
    (random errors are 500 or 503 with equal odds). The random draws are made for every request,
    so with a seed the sequence of outcomes depends only on the order of requests.
    """

    def __init__(
        self, *, seed: int | None = None, error_rate: float = 0.0, drop_rate: float = 0.0,
        retry_after: int = 1,
    ) -> None:  # fmt: skip
        for name, rate in (("error_rate", error_rate), ("drop_rate", drop_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {rate}")
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.error_rate = error_rate
        self.drop_rate = drop_rate
        self.retry_after = retry_after
        self._drops = 0
        self._failures: list[Fault] = []
        self._outage = False

    def fail_next(self, n: int = 1, status: int = 503, retry_after: int | None = 0) -> None:
        """Answer the next n requests with `status` (503 and 429 carry Retry-After)."""
        with self._lock:
            self._failures.extend([Fault(status=status, retry_after=retry_after)] * n)

    def drop_next(self, n: int = 1) -> None:
        """Close the connection without answering on the next n requests."""
        with self._lock:
            self._drops += n

    def outage(self, on: bool = True) -> None:
        """Answer every request with 503 until turned off."""
        with self._lock:
            self._outage = on

    def decide(self) -> Fault | None:
        """The fault for the request just received, or None to handle it normally."""
        with self._lock:
            drop_roll, error_roll, status_roll = (self._rng.random() for _ in range(3))
            if self._drops:
                self._drops -= 1
                return DROP
            if self._failures:
                return self._failures.pop(0)
            if self._outage:
                return Fault(status=503, retry_after=self.retry_after)
            if drop_roll < self.drop_rate:
                return DROP
            if error_roll < self.error_rate:
                if status_roll < 0.5:
                    return Fault(status=500)
                return Fault(status=503, retry_after=self.retry_after)
            return None
