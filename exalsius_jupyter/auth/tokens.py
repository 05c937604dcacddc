"""The tokens of one sign-in: what a token endpoint answered, checked, clamped and never shown."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..api.bearer import check_token, claim_time, jwt_claims
from ..durations import expiry_text, now_utc
from ..text import clip, untrusted

logger = logging.getLogger(__name__)

MAX_EXPIRES_IN = 30 * 86400.0  # the longest access-token lifetime believed (Auth0's maximum)
PROVIDER = "the sign-in server"


def number(value: Any, default: float) -> float:
    if isinstance(value, bool):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) and number >= 0 else default



@dataclass(frozen=True, repr=False)
class Tokens:
    """The tokens of one sign-in; repr/str show who and until when, never a token.

    Args:
        access_token: the bearer token for the API.
        refresh_token: the refresh token (``offline_access``), or None.
        id_token: the OpenID Connect ID token (``openid``), or None.
        expires_at: when the access token expires (tz-aware UTC).
        issued_at: when it was issued, if known (to size the renewal window).
        scope: the granted scopes, if the server said.
    """

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    expires_at: datetime = field(default_factory=now_utc)
    issued_at: datetime | None = None
    scope: str | None = None

    @classmethod
    def from_response(cls, payload: Any, now: datetime | None = None,
                      source: str = PROVIDER) -> Tokens:
        """Tokens from a token endpoint's JSON answer.

        ValueError when it is not an object or has no access token; InvalidTokenError when the
        access token could not travel in a header. An ``expires_in`` past 30 days is clamped.
        """
        if not isinstance(payload, Mapping):
            raise ValueError("the answer is not a JSON object")
        access = payload.get("access_token")
        if not isinstance(access, str) or not access.strip():
            raise ValueError("the answer has no access_token")
        access = check_token(access, source)
        issued = now or now_utc()
        lifetime = number(payload.get("expires_in"), math.nan)
        if lifetime > MAX_EXPIRES_IN:
            logger.warning("%s said its token lasts %.3g s; taking %d days", source, lifetime,
                           MAX_EXPIRES_IN // 86400)
            lifetime = MAX_EXPIRES_IN
        if math.isfinite(lifetime):
            expires_at = issued + timedelta(seconds=lifetime)
        else:
            claimed = claim_time(jwt_claims(access), "exp")
            expires_at = (claimed if claimed is not None and claimed - issued
                          <= timedelta(seconds=MAX_EXPIRES_IN) else issued + timedelta(hours=1))
        refresh = payload.get("refresh_token")
        id_token = payload.get("id_token")
        scope = payload.get("scope")
        return cls(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            id_token=id_token if isinstance(id_token, str) and id_token else None,
            expires_at=expires_at,
            issued_at=issued,
            scope=untrusted(scope, (), 500) if isinstance(scope, str) else None,
        )

    @property
    def claims(self) -> dict[str, Any]:
        """The ID token's claims, FOR DISPLAY ONLY (never verified; {} when absent or junk)."""
        return jwt_claims(self.id_token)

    @property
    def identity(self) -> str | None:
        """Who signed in, for display: the ID token's name, else its email, else None."""
        claims = self.claims
        for key in ("name", "email", "nickname"):
            value = claims.get(key)
            if isinstance(value, str) and value.strip():
                return clip(value, 80)
        return None

    @property
    def lifetime(self) -> float | None:
        """The access token's lifetime in seconds (issued_at, else its iat claim), if known."""
        issued = self.issued_at or claim_time(jwt_claims(self.access_token), "iat")
        if issued is None:
            return None
        return max(0.0, (self.expires_at - issued).total_seconds())

    def expires_in(self, now: datetime | None = None) -> float:
        """Seconds until the access token expires (negative once expired)."""
        return (self.expires_at - (now or now_utc())).total_seconds()

    def __repr__(self) -> str:
        who = self.identity or "unknown user"
        refresh = "with refresh token" if self.refresh_token else "no refresh token"
        return f"<Tokens for {who}, access token {expiry_text(self.expires_at)}, {refresh}>"

    __str__ = __repr__
