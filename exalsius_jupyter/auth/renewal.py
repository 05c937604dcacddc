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
    ExalsiusError,
    InvalidResponseError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    signed_out,
)
from ..poller import Backoff, Poller
from .provider import refresh_tokens
from .settings import AuthSettings
from .tokens import Tokens

logger = logging.getLogger(__name__)

REFRESH_LEEWAY = 60.0  # renew this many seconds before expiry (or 10 % of the lifetime)
REFRESH_RETRY_AFTER = 5.0  # after a failed refresh while the token still works
LOCK_WAIT = 30.0  # outside a call: the longest wait for another thread's renewal
AHEAD_RETRY_MAX = 60.0  # the longest pause between background attempts after failures
AHEAD_CHECK = 300.0  # the longest the background renewal sleeps before looking again


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
        self.last_error: ExalsiusError | None = None  # why the last renewal failed (None: ok)
        self._listeners: list[Callable[[RenewingTokens], None]] = []
        self._ahead: Poller | None = None
        self._ahead_lock = threading.Lock()
        self._ahead_retry = Backoff(REFRESH_RETRY_AFTER, AHEAD_RETRY_MAX)

    @property
    def tokens(self) -> Tokens:
        """The current tokens (for ``%exalsius login --save``)."""
        return self._tokens

    @property
    def identity(self) -> str | None:
        """Who is signed in (from the ID token, for display only)."""
        return self._tokens.identity

    @property
    def ended(self) -> str | None:
        """Why this sign-in ended (signed out, refused), or None while it is alive."""
        return self._dead

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
        before = (self._tokens, self.last_error, self._dead)
        try:
            exclusive = self.exclusive
            with (exclusive(max(0.0, deadline.left(LOCK_WAIT))) if exclusive is not None
                  else nullcontext()):
                return self._renew_locked(seen, forced=forced)
        except ExalsiusError as exc:
            self.last_error = exc
            raise
        finally:
            self._lock.release()
            after = (self._tokens, self.last_error, self._dead)
            if any(a is not b for a, b in zip(after, before, strict=True)):
                self._notify()

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
                self.last_error = exc
                logger.warning("could not renew the exalsius session yet: %s", exc)
                return current.access_token
            raise
        except AuthenticationError as exc:
            self._dead = str(exc).removeprefix(SIGNED_OUT).strip(" ()") or "refused"
            raise
        if self._dead is not None:  # signed out while the refresh was on its way: not kept
            raise signed_out(self._dead)
        self._tokens = fresh
        self.refreshes += 1
        self._retry_at = 0.0
        self.last_error = None
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

        Clients and clones still holding it stop using its tokens at once; the renewal ahead
        of expiry stops, and the watchers hear of it.
        """
        self._dead = reason
        with self._ahead_lock:
            ahead = self._ahead
        if ahead is not None:
            ahead.stop(join=None)  # a refresh on its way ends within its own timeout
        self._notify()

    # -- renewing ahead of expiry (#17.5c) --------------------------------------------------

    @property
    def renewing_ahead(self) -> bool:
        """Whether the background renewal runs."""
        return self._ahead is not None and self._ahead.running

    def renew_ahead(self) -> RenewingTokens:
        """Renew shortly before each expiry, on a daemon thread, until ``end()``; returns self.

        The thread sleeps until the token enters its renewal window (``leeway``, or 10 % of a
        short lifetime), renews through the same one-at-a-time path as a call, and sleeps
        again. A failure is kept in ``last_error`` and told to the watchers; a fault on the way
        is tried again (5 s, growing to 60 s), a refusal ends the sign-in. Idempotent; nothing
        to do without a refresh token.
        """
        with self._ahead_lock:
            if self._ahead is not None or self._dead is not None \
                    or not self._tokens.refresh_token:
                return self
            self._ahead = Poller(self._ahead_step, name="exalsius-renewal",
                                 on_crash=self._ahead_crashed)
            self._ahead.start()
        return self

    def _ahead_step(self) -> float | None:
        """One round of the background renewal: the seconds to sleep (None: it ends)."""
        if self._dead is not None:
            return None
        seen = self._tokens
        wait = seen.expires_in() - self._window(seen)
        if wait > 0:
            return min(wait, AHEAD_CHECK)  # looked at again: another thread may have renewed
        try:
            with deadline.deadline(LOCK_WAIT + self.settings.timeout):  # bounded, however
                self._renew(seen, forced=False)
        except AuthenticationError:
            return None  # refused or signed out: the watchers heard it
        except ExalsiusError as exc:  # expired meanwhile, and the issuer still unreachable
            logger.warning("could not renew the exalsius session: %s", exc)
        if self._dead is not None:
            return None
        if self.due():  # it failed (the watchers heard why): try again later
            delay = self._ahead_retry.delay()
            self._ahead_retry.quiet()
            return max(delay, self._retry_at - time.monotonic())
        self._ahead_retry.reset()
        return 0.0

    def _ahead_crashed(self, exc: BaseException) -> None:
        """A bug in the background renewal: said in the log; calls still renew."""
        logger.warning("the exalsius session stopped renewing ahead of expiry (%s)",
                       type(exc).__name__)

    def watch(self, listener: Callable[[RenewingTokens], None]) -> Callable[[], None]:
        """Call ``listener(self)`` after each renewal, failed renewal and ``end()``.

        It runs on the thread that renewed (a call's or the background one); its exceptions
        are logged and dropped. Returns the function that stops it.
        """
        self._listeners.append(listener)

        def unwatch() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unwatch

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception as exc:
                logger.warning("a watcher of the exalsius session failed (%s)",
                               type(exc).__name__)

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
