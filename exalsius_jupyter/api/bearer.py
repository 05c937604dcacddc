"""The credential a request carries: token values checked, the source protocol, a fixed token.

A token is checked where it enters (the environment, a prompt, the keyring, a command, a
provider) and once more before it becomes a header: a header carries visible ASCII only, so a
line break could smuggle a second header and a non-latin-1 character would raise deep in
``http.client``. The error names the source and shows no part of the token.
"""

from __future__ import annotations

import unicodedata
from typing import Protocol, runtime_checkable

from ..errors import InvalidTokenError, ValidationError


def _flaw(token: str) -> str | None:
    """What in ``token`` a header cannot carry, in words, or None."""
    for ch in token:
        if "\x21" <= ch <= "\x7e":
            continue
        if ch in "\r\n":
            return "a line break"
        if ch.isspace():
            return "a space"
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return "a control character"
        name = unicodedata.name(ch, "").lower()
        return f"a non-ASCII character (U+{ord(ch):04X}{', ' + name if name else ''})"
    return None


def check_token(value: str, source: str) -> str:
    """``value`` trimmed, if a header can carry it; else InvalidTokenError naming ``source``."""
    if not isinstance(value, str):
        raise InvalidTokenError(f"the token from {source} is not text")
    token = value.strip()
    if not token:
        raise ValidationError(f"the token from {source} is empty")
    flaw = _flaw(token)
    if flaw is not None:
        raise InvalidTokenError(
            f"the token from {source} holds {flaw}, which an HTTP header cannot carry; "
            "nothing was sent (no part of the token is shown)")
    return token


@runtime_checkable
class TokenSource(Protocol):
    """Where the client's bearer token comes from; asked before each request."""

    #: Whether ``refresh()`` can give a new token (a 401 is then answered by one renewal).
    renewable: bool

    def token(self) -> str:
        """A valid access token, renewed first when it is about to expire."""
        ...

    def refresh(self, stale: str | None = None) -> str:
        """A new access token after a 401 (none is fetched when ``stale`` is already replaced)."""
        ...

    def describe(self) -> str:
        """The source's name and the token's expiry, never the token."""
        ...
