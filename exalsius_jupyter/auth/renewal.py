"""A signed-in session that renews its access token: one refresh at a time, within the deadline."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime

import requests

from ..api import deadline
from ..durations import expiry_text
from ..errors import (
    SIGNED_OUT,
    AuthenticationError,
    InvalidResponseError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    signed_out,
)
from .provider import refresh_tokens
from .settings import AuthSettings
from .tokens import Tokens

logger = logging.getLogger(__name__)

REFRESH_LEEWAY = 60.0  # renew this many seconds before expiry (or 10 % of the lifetime)
REFRESH_RETRY_AFTER = 5.0  # after a failed refresh while the token still works
LOCK_WAIT = 30.0  # outside a call: the longest wait for another thread's renewal


class RenewingTokens:
    """The tokens of a sign-in, renewed shortly before the access token expires; thread-safe.

    Only one refresh runs at a time; threads that waited for it use its result. A rotated
    refresh token replaces the old one. When renewal fails for good, every call raises
    "signed out: run %exalsius login".

    Args:
        tokens: the tokens of the sign-in.
        settings: the issuer and client the tokens came from.
        on_refresh: called with the new Tokens after each refresh (e.g. to store them).
        reload: called before a refresh; may return newer Tokens stored by someone else (the
            ``exls`` CLI, another kernel), which are then used instead of refreshing.
        exclusive: given the seconds it may wait, a context held around reload, refresh and
            store, that other processes honour too (a lock file beside the stored sign-in).
        http: a requests session for the refresh requests.
        name: how ``describe()`` names this session.
        leeway: renew at most this many seconds before expiry (or 10 % of the lifetime).
    """

    renewable = True

    def __init__(self, tokens: Tokens, settings: AuthSettings | None = None, *,
                 on_refresh: Callable[[Tokens], None] | None = None,
                 reload: Callable[[], Tokens | None] | None = None,
                 exclusive: Callable[[float], AbstractContextManager[None]] | None = None,
                 http: requests.Session | None = None, name: str = "notebook sign-in",
                 leeway: float = REFRESH_LEEWAY) -> None:
        self.settings = settings if settings is not None else AuthSettings.from_env()
        self.on_refresh = on_refresh
        self.reload = reload
        self.exclusive = exclusive
        self.name = name
        self.leeway = leeway
        self._http = http
        self._tokens = tokens
        self._lock = threading.Lock()  # one refresh at a time
        self._dead: str | None = None  # why renewal failed for good
        self._retry_at = 0.0  # no refresh before this (after a transient failure)
        self.refreshes = 0

    @property
    def tokens(self) -> Tokens:
        """The current tokens (for ``%exalsius login --save``)."""
        return self._tokens

    @property
    def identity(self) -> str | None:
        """Who is signed in (from the ID token, for display only)."""
        return self._tokens.identity

    @property
    def expires_at(self) -> datetime:
        """When the current access token expires."""
        return self._tokens.expires_at

    def _window(self, tokens: Tokens) -> float:
        lifetime = tokens.lifetime
        return self.leeway if lifetime is None else min(self.leeway, 0.1 * lifetime)

    def due(self, tokens: Tokens | None = None) -> bool:
        """Whether the access token is within its renewal window (or expired)."""
        tokens = tokens or self._tokens
        return tokens.expires_in() <= self._window(tokens)

    def token(self) -> str:
        """A valid access token, renewed first when it is about to expire."""
        if self._dead is not None:
            raise signed_out(self._dead)
        seen = self._tokens
        if not self.due(seen):
            return seen.access_token
        return self._renew(seen, forced=False)

    def refresh(self, stale: str | None = None) -> str:
        """Renew now (after a 401); when ``stale`` was already replaced, the newer token."""
        if self._dead is not None:
            raise signed_out(self._dead)
        seen = self._tokens
        if stale is not None and stale != seen.access_token:
            return seen.access_token
        return self._renew(seen, forced=True)

    def _renew(self, seen: Tokens, *, forced: bool) -> str:
        # Waiting for another thread's renewal counts against this call's deadline too.
        if not self._lock.acquire(timeout=max(0.0, deadline.left(LOCK_WAIT))):
            raise RequestTimeoutError("could not renew the session: another call was still "
                                      "renewing it when this call's deadline ended")
        try:
            exclusive = self.exclusive
            with (exclusive(max(0.0, deadline.left(LOCK_WAIT))) if exclusive is not None
                  else nullcontext()):
                return self._renew_locked(seen, forced=forced)
        finally:
            self._lock.release()

    def _renew_locked(self, seen: Tokens, *, forced: bool) -> str:
        if self._dead is not None:
            raise signed_out(self._dead)
        if self._tokens is not seen:  # another thread renewed while we waited
            return self._tokens.access_token
        current = self._tokens
        if self.reload is not None:
            newer = self._reloaded(current)
            if newer is not None:
                self._tokens = newer
                if not self.due(newer):
                    return newer.access_token
                current = newer
        still_valid = current.expires_in() > 0 and not forced
        if still_valid and time.monotonic() < self._retry_at:
            return current.access_token
        if not current.refresh_token:
            if still_valid:
                return current.access_token
            self._dead = "the session expired and has no refresh token"
            raise signed_out(self._dead)
        try:
            fresh = refresh_tokens(self.settings, current.refresh_token, self._http,
                                   secrets=(current.access_token, current.id_token))
        except (TransportError, ServerError, InvalidResponseError) as exc:
            # A fault on the way: the sign-in itself may be fine, so it is not ended.
            if still_valid:
                self._retry_at = time.monotonic() + REFRESH_RETRY_AFTER
                logger.warning("could not renew the exalsius session yet: %s", exc)
                return current.access_token
            raise
        except AuthenticationError as exc:
            self._dead = str(exc).removeprefix(SIGNED_OUT).strip(" ()") or "refused"
            raise
        self._tokens = fresh
        self.refreshes += 1
        self._retry_at = 0.0
        if self.on_refresh is not None:
            try:
                self.on_refresh(fresh)
            except Exception as exc:  # storing is best effort; the session goes on
                logger.warning("could not store the renewed exalsius tokens (%s)",
                               type(exc).__name__)
        return fresh.access_token

    def _reloaded(self, current: Tokens) -> Tokens | None:
        """Tokens someone else stored since, if they differ from ours."""
        assert self.reload is not None
        try:
            newer = self.reload()
        except Exception as exc:
            logger.warning("could not re-read the stored exalsius tokens (%s)",
                           type(exc).__name__)
            return None
        if newer is None or newer.access_token == current.access_token:
            return None
        if newer.refresh_token == current.refresh_token and newer.expires_at <= current.expires_at:
            return None
        return newer

    def end(self, reason: str = "signed out") -> None:
        """End this session here (logout): every later call raises "signed out", sends nothing.

        Clients and clones still holding it stop using its tokens at once.
        """
        self._dead = reason

    def describe(self) -> str:
        """E.g. "notebook sign-in as Ada (access token expires ... UTC (in 59 min), renews ...)"."""
        tokens = self._tokens
        who = f" as {tokens.identity}" if tokens.identity else ""
        if self._dead is not None:
            return f"{self.name}{who} (signed out: {self._dead})"
        renews = ", renews automatically" if tokens.refresh_token else ", no refresh token"
        return f"{self.name}{who} (access token {expiry_text(tokens.expires_at)}{renews})"

    def __repr__(self) -> str:
        return f"<RenewingTokens {self.describe()}>"
