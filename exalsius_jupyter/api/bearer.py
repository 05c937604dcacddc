"""The credential a request carries: token values checked, the source protocol, a fixed token.

A token is checked where it enters (the environment, a prompt, the keyring, a command, a
provider) and once more before it becomes a header: a header carries visible ASCII only, so a
line break could smuggle a second header and a non-latin-1 character would raise deep in
``http.client``. The error names the source and shows no part of the token.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import unicodedata
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Protocol, runtime_checkable

import requests
from requests.auth import AuthBase

from ..durations import expiry_text
from ..errors import InvalidTokenError, ValidationError, signed_out


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


def jwt_claims(token: str | None) -> dict[str, Any]:
    """The payload of a JWT-shaped token, FOR DISPLAY ONLY (not verified); {} for anything else."""
    if not token or token.count(".") != 2:
        return {}
    payload = token.split(".")[1]
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def claim_time(claims: Mapping[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None



class StaticToken:
    """A fixed token (``token=``, ``EXALSIUS_TOKEN``, ``%exalsius login --token``); no renewal.

    Args:
        token: the bearer token.
        name: how ``describe()`` names where it came from.
    """

    renewable = False

    def __init__(self, token: str, name: str = "explicit token") -> None:
        if not isinstance(token, str) or not token.strip():
            raise ValidationError("the token is empty")
        self._token = check_token(token, name)
        self.name = name

    def token(self) -> str:
        """The token as given."""
        return self._token

    def refresh(self, stale: str | None = None) -> str:
        """A fixed token cannot be renewed: always the "signed out" error."""
        raise signed_out(f"the {self.name} was refused and cannot be refreshed")

    @property
    def expires_at(self) -> datetime | None:
        """The token's ``exp`` claim, if it is a JWT."""
        return claim_time(jwt_claims(self._token), "exp")

    def describe(self) -> str:
        """E.g. "EXALSIUS_TOKEN (expires ... UTC (in 12 min))"."""
        exp = self.expires_at
        return f"{self.name} ({expiry_text(exp)})" if exp else f"{self.name} (expiry unknown)"

    def __repr__(self) -> str:
        return f"<StaticToken {self.describe()}>"




class BearerAuth(AuthBase):
    """Sets the credential header from a token source and answers a 401 with one renewal.

    As requests' ``HTTPDigestAuth`` does, the 401 is handled in a response hook: the source
    renews exactly the token the server refused, and the request is sent once more on the same
    adapter (POSTs too: the server did not act on it), inside the same call's deadline. It
    remembers the last tokens it sent, so errors can be scrubbed of them.

    Args:
        source: where the token comes from (None: no credential header).
        api_key_header: send ``X-API-Key`` instead of ``Authorization: Bearer``.
    """

    def __init__(self, source: TokenSource | None, *, api_key_header: bool = False) -> None:
        self.source = source
        self.api_key_header = api_key_header
        self.sent: deque[str] = deque(maxlen=4)

    @property
    def token(self) -> str | None:
        """The token most recently sent, if any."""
        return self.sent[-1] if self.sent else None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.source is not None:
            self._set(request, self.source.token())
            if self.source.renewable:
                request.register_hook("response", self._on_401)
        return request

    def _set(self, request: requests.PreparedRequest, token: str) -> None:
        # Checked again here, for sources nobody here wrote: requests has already checked the
        # headers, so a line break would otherwise reach the wire or a traceback.
        assert self.source is not None
        token = check_token(token, self.source.describe())
        if not self.sent or self.sent[-1] != token:
            self.sent.append(token)
        if self.api_key_header:
            request.headers["X-API-Key"] = token
        else:
            request.headers["Authorization"] = f"Bearer {token}"

    def _refused(self, request: requests.PreparedRequest) -> str | None:
        """The token ``request`` carried."""
        value = request.headers.get("X-API-Key" if self.api_key_header else "Authorization")
        if not isinstance(value, str):
            return None
        return (value if self.api_key_header else value.removeprefix("Bearer ")) or None

    def _on_401(self, resp: requests.Response, **kwargs: Any) -> requests.Response:
        """Renew once after a 401 and resend; any other answer passes through."""
        request = resp.request
        if (resp.status_code != 401 or self.source is None
                or getattr(request, "_exalsius_renewed", False)):
            return resp
        resp.close()
        token = self.source.refresh(self._refused(request))
        again = request.copy()
        self._set(again, token)
        again._exalsius_renewed = True  # type: ignore[attr-defined]  # one renewal per request
        retried: requests.Response = resp.connection.send(again, **kwargs)
        retried.history.append(resp)
        retried.request = again
        return retried

    def __repr__(self) -> str:
        return f"<credential {self.source.describe() if self.source else 'not set'}>"
