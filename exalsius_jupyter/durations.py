"""The one way a duration is written for people: "8 s", "3 min", "2 days", "2 min 05 s".

Ages and expiries in the tables, elapsed times in the progress widget, token expiries and the
sign-in countdown all use it. A leaf module: every layer may import it.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

_UNITS = ((86400, "day"), (3600, "h"), (60, "min"), (1, "s"))


def duration(seconds: float, parts: int = 1) -> str:
    """A duration in its largest units: "8 s", "3 min", "2 days"; ``parts=2``: "2 min 05 s".

    The one format for every age, expiry and elapsed time shown.
    """
    left = max(0, int(seconds))
    if left < 60:
        return f"{left} s"
    out: list[str] = []
    for size, unit in _UNITS:
        if len(out) == parts:
            break
        amount, left = divmod(left, size)
        if not out and amount == 0:
            continue
        if unit == "day":
            text = f"{amount} day" if amount == 1 else f"{amount} days"
        else:
            text = f"{amount:02d} {unit}" if out else f"{amount} {unit}"
        out.append(text)
    return " ".join(out)


_SECONDS_PER = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds from ``8h``, ``30m``, ``2d``, ``1h30m`` or plain seconds; ValueError if not."""
    compact = text.strip().lower().replace(" ", "")
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhdw]?)", compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"not a duration: {text!r} (e.g. 8h, 30m, 2d, 1h30m)")
    seconds = sum(float(n) * _SECONDS_PER[u or "s"] for n, u in parts)
    if not seconds > 0:
        raise ValueError(f"a duration must be longer than 0, not {text!r}")
    return seconds


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(when: datetime) -> str:
    """An aware time as the API writes it: ``2026-12-24T18:00:00Z``."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_text(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def expiry_text(expires_at: datetime | None, now: datetime | None = None) -> str:
    """When a token expires, e.g. "expires 2026-01-01 12:00:00 UTC (in 59 min)"."""
    if expires_at is None:
        return "expiry unknown"
    left = (expires_at - (now or now_utc())).total_seconds()
    if left <= 0:
        return f"expired {utc_text(expires_at)}"
    return f"expires {utc_text(expires_at)} (in {duration(left, parts=2)})"


