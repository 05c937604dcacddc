"""The OAuth 2.0 Device Authorization Grant (RFC 8628): a link, a code, polling until approved."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests

from ..api import transport
from ..api.urls import is_loopback
from ..durations import duration, now_utc
from ..errors import (
    InvalidTokenError,
    SignInCancelledError,
    SignInDeniedError,
    SignInError,
    SignInExpiredError,
    TransportError,
)
from ..poller import Poller
from ..text import untrusted
from .provider import post_form
from .settings import AuthSettings
from .tokens import PROVIDER, Tokens, number

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5.0  # RFC 8628 §3.5: seconds added to the interval on each slow_down
DEFAULT_INTERVAL = 5.0  # RFC 8628 §3.2: when the server names none
MIN_INTERVAL = 0.1  # never busy-poll, whatever a server says
MAX_INTERVAL = 60.0  # the longest polling interval believed
TRANSIENT_POLL_FAILURES = 3  # consecutive transport failures a device-flow wait rides out


class _Transient(SignInError):
    """A transport failure while polling: worth another poll."""


class DeviceCode:
    """What the user needs to approve a device sign-in; the device code itself stays private.

    Args:
        user_code: the code the user confirms on the approval page.
        verification_uri: the approval page.
        verification_uri_complete: the approval page with the user code filled in.
        expires_in: seconds until the codes expire.
        interval: the polling interval in seconds.
        device_code: the secret the client polls with (never shown).

    ``link_is_safe`` says whether the pages may be shown as links: https, or http on loopback.
    Otherwise they are shown as text with a warning (``LINK_WARNING``).
    """

    __slots__ = ("_deadline", "_device_code", "expires_at", "interval", "link_is_safe",
                 "user_code", "verification_uri", "verification_uri_complete")

    def __init__(self, user_code: str, verification_uri: str,
                 verification_uri_complete: str | None, expires_in: float, interval: float,
                 device_code: str) -> None:
        self.user_code = user_code
        self.verification_uri = verification_uri
        self.verification_uri_complete = (
            verification_uri_complete
            or f"{verification_uri}?user_code={quote(user_code, safe='')}")
        self.interval = interval
        self.expires_at = now_utc() + timedelta(seconds=expires_in)
        self._deadline = time.monotonic() + expires_in
        self._device_code = device_code
        self.link_is_safe = _safe_link(self.verification_uri) and _safe_link(
            self.verification_uri_complete)

    def expires_in(self) -> float:
        """Seconds until the codes expire (0 once expired)."""
        return max(0.0, self._deadline - time.monotonic())

    def __repr__(self) -> str:
        return (f"<DeviceCode user_code={self.user_code!r} "
                f"verification_uri={self.verification_uri!r}, "
                f"expires in {duration(self.expires_in(), parts=2)}>")

    __str__ = __repr__


LINK_WARNING = "not https: check the address before you open it"


def _safe_link(url: str) -> bool:
    """Whether ``url`` may be a clickable link: https, or plain http on loopback."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http"
                                       and is_loopback((parts.hostname or "").lower()))


def _carries(url: str, secret: str) -> bool:
    """Whether ``url`` holds ``secret``, as it is or %-encoded (twice too), in any case."""
    text, needle = url, secret.lower()
    for _ in range(3):
        if needle in text.lower():
            return True
        text = unquote(text)
    return False


def _web_url(value: Any) -> str | None:
    """``value`` when it is a printable http(s) URL without spaces, else None."""
    if not isinstance(value, str) or not value:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme in ("http", "https") and parts.netloc else None


class DeviceLogin:
    """The OAuth 2.0 Device Authorization Grant (RFC 8628) against the issuer of ``settings``.

    Use: ``code = login.start()``, show ``code.verification_uri_complete`` and
    ``code.user_code``, then ``tokens = login.wait(cancel_event)``.

    Args:
        settings: where to sign in (default: ``AuthSettings.from_env()``).
        http: a requests session to use (default: one of its own, closed by ``close()``).
        tick: the longest sleep between ``on_tick`` calls while waiting, in seconds.
    """

    def __init__(self, settings: AuthSettings | None = None, *,
                 http: requests.Session | None = None, tick: float = 1.0) -> None:
        self.settings = settings if settings is not None else AuthSettings.from_env()
        self._own_http = http is None
        self._http = http if http is not None else transport.new_http(0, 0.0)
        self.tick = tick
        self.code: DeviceCode | None = None
        self.tokens: Tokens | None = None  # set once approved
        self.interval = DEFAULT_INTERVAL
        self.polls = 0
        self._next_poll = 0.0
        self._failures = 0  # transport failures in a row while polling

    def __repr__(self) -> str:
        state = "not started" if self.code is None else f"user code {self.code.user_code}"
        return f"<DeviceLogin at {self.settings.issuer_url} ({state})>"

    def close(self) -> None:
        """Close the HTTP session this object made."""
        if self._own_http:
            self._http.close()

    def start(self) -> DeviceCode:
        """Ask the issuer for a device and user code (POST /oauth/device/code)."""
        form = {"client_id": self.settings.client_id, "scope": self.settings.scope,
                "audience": self.settings.audience}
        what = "sign-in could not start"
        try:
            answer = post_form(self.settings, "oauth/device/code", form, self._http, what)
        except TransportError as exc:
            raise SignInError(str(exc)) from None
        body = answer.body
        device_code = body.get("device_code") if isinstance(body, dict) else None
        secrets = (device_code if isinstance(device_code, str) else None,)
        if answer.status != 200:
            code, text = answer.oauth_error(secrets)
            shown = (f"{code} ({text})" if code and text else code or f"HTTP {answer.status}")
            raise SignInError(f"{what}: {shown}", status=answer.status)
        if not isinstance(body, dict):
            raise SignInError(f"{what}: the answer is not a JSON object")
        user_code = body.get("user_code")
        uri = _web_url(body.get("verification_uri") or body.get("verification_url"))
        if not isinstance(device_code, str) or not device_code:
            raise SignInError(f"{what}: the answer has no device code")
        if not isinstance(user_code, str) or not user_code.strip() or uri is None:
            raise SignInError(f"{what}: the answer has no user code or page")
        if device_code.lower() in user_code.lower() or _carries(uri, device_code):
            raise SignInError(f"{what}: {PROVIDER} put its device code (a secret) where it "
                              "would be shown; not showing it")
        complete = _web_url(body.get("verification_uri_complete"))
        if complete is not None and (_carries(complete, device_code)
                                     or _safe_link(complete) != _safe_link(uri)):
            complete = None  # the link must carry the user code only, and be as safe
        expires_in = min(number(body.get("expires_in"), 600.0), 3600.0)
        interval = min(max(MIN_INTERVAL, number(body.get("interval"), DEFAULT_INTERVAL)),
                       MAX_INTERVAL)
        self.code = DeviceCode(untrusted(user_code, secrets, 40), uri, complete, expires_in,
                               interval, device_code)
        self.interval = interval
        self.polls, self._failures, self.tokens = 0, 0, None
        self._next_poll = time.monotonic() + interval
        return self.code

    def poll_once(self) -> Tokens | None:
        """Send one token request now: Tokens on approval, None while pending or on slow_down.

        Raises SignInExpiredError, SignInDeniedError, or SignInError for anything else.
        """
        code = self._started()
        if code.expires_in() <= 0:
            raise SignInExpiredError("sign-in expired: the code was not approved in time; "
                                     "run %exalsius login again")
        form = {"grant_type": DEVICE_GRANT, "device_code": code._device_code,
                "client_id": self.settings.client_id}
        self.polls += 1
        try:
            answer = post_form(self.settings, "oauth/token", form, self._http,
                                "sign-in failed")
        except TransportError as exc:
            raise _Transient(str(exc)) from None
        finally:  # spaced from the answer, so the server never sees two polls too close
            self._next_poll = time.monotonic() + self.interval
        status = answer.status
        if status == 200:
            try:
                return Tokens.from_response(answer.body)
            except InvalidTokenError:
                raise
            except ValueError:
                raise SignInError("sign-in failed: the token answer has no access token") from None
        error, text = answer.oauth_error((code._device_code,))
        if error == "authorization_pending":
            return None
        if error == "slow_down":
            self.interval = min(self.interval + SLOW_DOWN_STEP, MAX_INTERVAL)
            self._next_poll = time.monotonic() + self.interval
            return None
        if error == "expired_token":
            raise SignInExpiredError("sign-in expired: the code was not approved in time; "
                                     "run %exalsius login again", status=status)
        if error == "access_denied":
            raise SignInDeniedError("sign-in denied on the approval page", status=status)
        if not error:
            if status >= 500 or status == 429:
                raise _Transient(f"sign-in failed: {PROVIDER} answered HTTP {status}",
                                 status=status)
            raise SignInError(f"sign-in failed: HTTP {status} without an OAuth error",
                              status=status)
        raise SignInError(f"sign-in failed: {error}" + (f" ({text})" if text else ""),
                          status=status)

    def wait(self, cancel: threading.Event | None = None,
             on_tick: Callable[[float], None] | None = None) -> Tokens:
        """Poll until approved; bounded by the code's expiry (plus one request's timeout).

        ``on_tick(seconds_left)`` is called at least every ``tick`` seconds. Setting ``cancel``
        ends the wait with SignInCancelledError within about ``tick`` seconds. The rounds run
        on ``Poller`` (``step``), as the sign-in widget's do on its thread.
        """
        cancel = cancel or threading.Event()
        Poller(lambda: self.step(on_tick), stop=cancel).run()
        if self.tokens is None:
            raise SignInCancelledError("sign-in cancelled")
        return self.tokens

    def step(self, on_tick: Callable[[float], None] | None = None) -> float | None:
        """One round of waiting: the pause to the next, or None once ``tokens`` is set.

        Raises SignInExpiredError, SignInDeniedError, or SignInError after
        ``TRANSIENT_POLL_FAILURES`` transport failures in a row.
        """
        code = self._started()
        left = code.expires_in()
        if on_tick is not None:
            on_tick(left)
        if left <= 0:
            raise SignInExpiredError("sign-in expired: the code was not approved in time; run "
                                     "%exalsius login again")
        pause = self._next_poll - time.monotonic()
        if pause > 0:
            return min(pause, self.tick, left)
        try:
            tokens = self.poll_once()
        except _Transient as exc:
            self._failures += 1
            if self._failures >= TRANSIENT_POLL_FAILURES:
                raise SignInError(str(exc), status=exc.status) from None
            return 0.0
        self._failures = 0
        if tokens is None:
            return 0.0
        self.tokens = tokens
        return None

    def _started(self) -> DeviceCode:
        if self.code is None:
            raise SignInError("sign-in was not started: call start() first")
        return self.code
