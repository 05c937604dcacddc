"""Text from servers, providers and commands made safe to show: redacted, printable, short."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
MAX_LINE = 200
# ANSI escape sequences (CSI, OSC ... BEL/ST, two-character escapes), then any other control
# character: C0, DEL, C1, and the bidirectional overrides that reorder what a reader sees.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every non-empty secret replaced by ``[redacted]`` (longest first)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


def redact_jwts(text: str) -> str:
    """``text`` with anything shaped like a JWT (``eyJ….….…``) replaced by ``[redacted]``."""
    return _JWT.sub(REDACTED, text)


def printable(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (tabs, newlines kept)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def clip(text: str, limit: int = MAX_LINE) -> str:
    """``text`` as one trimmed line of at most ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def untrusted(value: Any, secrets: Iterable[str | None] = (), limit: int = MAX_LINE) -> str:
    """A value someone else sent, as one short printable line without any of ``secrets``.

    Redaction comes before clipping, so a cut can never leave part of a secret behind.
    Anything but a string is "" (a provider's ``error`` may be a number, a list, null).
    """
    if not isinstance(value, str):
        return ""
    return clip(printable(redact(value, secrets)), limit)
