"""Signing in to exalsius: settings, tokens, the RFC 8628 device flow, refresh and revoke.

Nothing here imports IPython or ipywidgets. No token, refresh token, ID token or device code is
ever part of a repr, a str, an error message or a log record.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from urllib3.util import parse_url

from .._version import __version__
from ..durations import duration
from ..errors import (
    AuthenticationError,
    ConnectionFailedError,
    InvalidResponseError,
    InvalidTokenError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    ValidationError,
)
from ..text import clip, redact, untrusted
from . import deadline, decode, transport
from .bearer import check_token
from .urls import is_loopback

logger = logging.getLogger(__name__)

DEFAULT_DOMAIN = "exalsius.eu.auth0.com"
DEFAULT_CLIENT_ID = "kSbRc9MOnuMKMVLzhZYBo3xkTtk2KK7B"  # exls' public client id, not a secret
DEFAULT_AUDIENCE = "https://api.exalsius.ai"
DEFAULT_SCOPE = "openid profile email offline_access"
DEFAULT_AUTH_TIMEOUT = 10.0
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5.0  # RFC 8628 §3.5: seconds added to the interval on each slow_down
DEFAULT_INTERVAL = 5.0  # RFC 8628 §3.2: when the server names none
MIN_INTERVAL = 0.1  # never busy-poll, whatever a server says
TRANSIENT_POLL_FAILURES = 3  # consecutive transport failures a device-flow wait rides out
REFRESH_LEEWAY = 60.0  # renew this many seconds before expiry (or 10 % of the lifetime)
REFRESH_RETRY_AFTER = 5.0  # after a failed refresh while the token still works
SIGNED_OUT = "signed out: run %exalsius login"
KEYRING_SERVICE = "exalsius_cli"
KEYRING_KEYS = ("access_token", "refresh_token", "id_token", "expiry")
ENV_TOKEN = "EXALSIUS_TOKEN"
ENV_DOMAIN = "EXALSIUS_AUTH_DOMAIN"
ENV_CLIENT_ID = "EXALSIUS_AUTH_CLIENT_ID"
ENV_AUDIENCE = "EXALSIUS_AUTH_AUDIENCE"
USER_AGENT = f"exalsius-jupyter/{__version__} python-requests/{requests.__version__}"
MAX_EXPIRES_IN = 30 * 86400.0  # the longest access-token lifetime believed (Auth0's maximum)
MAX_INTERVAL = 60.0  # the longest device-flow polling interval believed
PROVIDER = "the sign-in server"


# -- errors -----------------------------------------------------------------------------------


class SignInError(AuthenticationError):
    """The device sign-in did not complete (any reason other than the ones below)."""


class SignInExpiredError(SignInError):
    """The device code expired before the user approved it."""


class SignInDeniedError(SignInError):
    """The user denied the sign-in on the approval page."""


class SignInCancelledError(SignInError):
    """The sign-in was cancelled in the notebook (Cancel, Ctrl-C, kernel shutdown)."""


class CredentialCommandError(AuthenticationError):
    """The credential command (``token_command``) failed, timed out or printed no token."""


class KeyringError(AuthenticationError):
    """The keyring is not installed, not usable, or holds no ``exls`` sign-in."""


def signed_out(reason: str = "") -> AuthenticationError:
    """The one-line "signed out: run %exalsius login" error, with a short reason."""
    return AuthenticationError(f"{SIGNED_OUT} ({_clip(reason)})" if reason else SIGNED_OUT,
                               status=401)


def _clip(text: str, limit: int = 200) -> str:
    return clip(text, limit)


def _redact(text: str, *secrets: str | None) -> str:
    return redact(text, secrets)


# -- settings ---------------------------------------------------------------------------------


def _check_issuer(url: str) -> str:
    """An issuer URL, normalized to end in "/"; https, or plain http to loopback only."""
    bad = "the sign-in issuer must be https://host[:port]/[path]"
    parts = urlsplit(url)
    if (any(ch in url for ch in "\\@?#") or "%" in parts.netloc
            or any(ch.isspace() or not ch.isprintable() for ch in url)):
        raise ValidationError(f"{bad}, without userinfo, a query or a fragment, got {url!r}")
    try:
        transport_host = (parse_url(url).host or "").strip("[]").lower()
        _ = parts.port
    except ValueError:
        raise ValidationError(f"{bad}, got {url!r}") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or host != transport_host:
        raise ValidationError(f"{bad}, got {url!r}")
    if parts.scheme == "http" and not is_loopback(host):
        raise ValidationError(f"refusing plain http:// for sign-in to {host}; use https://")
    return url if url.endswith("/") else url + "/"


@dataclass(frozen=True)
class AuthSettings:
    """Where and as whom to sign in: the Auth0 tenant, the public client id, the API audience.

    Args:
        domain: the tenant's host name (``exalsius.eu.auth0.com``), or a full issuer URL such as
            the sandbox's ``http://127.0.0.1:8765/``.
        client_id: the public OAuth client id (the one ``exls`` uses by default).
        audience: the API the access tokens are for.
        scope: the scopes asked for; ``offline_access`` brings a refresh token.
        issuer: an explicit issuer URL; overrides ``domain``. Plain http only for loopback.
        timeout: seconds each request to the identity provider may take.
    """

    domain: str = DEFAULT_DOMAIN
    client_id: str = DEFAULT_CLIENT_ID
    audience: str = DEFAULT_AUDIENCE
    scope: str = DEFAULT_SCOPE
    issuer: str | None = None
    timeout: float = DEFAULT_AUTH_TIMEOUT

    def __post_init__(self) -> None:
        if not self.client_id.strip():
            raise ValidationError("the sign-in client id must not be empty")
        if not self.timeout > 0:
            raise ValidationError("the sign-in timeout must be > 0 seconds")
        _check_issuer(self.issuer_url)

    @property
    def issuer_url(self) -> str:
        """The issuer URL, ending in "/": ``https://{domain}/`` unless one was given."""
        if self.issuer:
            return self.issuer.strip() if self.issuer.strip().endswith("/") else (
                self.issuer.strip() + "/")
        domain = self.domain.strip()
        if "://" in domain:
            return domain if domain.endswith("/") else domain + "/"
        return f"https://{domain.strip('/')}/"

    def endpoint(self, path: str) -> str:
        """The URL of an endpoint of the issuer, e.g. ``endpoint("oauth/token")``."""
        return self.issuer_url + path.lstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> AuthSettings:
        """Settings from ``EXALSIUS_AUTH_DOMAIN``/``_CLIENT_ID``/``_AUDIENCE``, then overrides."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, key in (("domain", ENV_DOMAIN), ("client_id", ENV_CLIENT_ID),
                          ("audience", ENV_AUDIENCE)):
            value = (env.get(key) or "").strip()
            if value:
                values[name] = value
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


# -- tokens -----------------------------------------------------------------------------------


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


def _claim_time(claims: Mapping[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc_text(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def expiry_text(expires_at: datetime | None, now: datetime | None = None) -> str:
    """When a token expires, e.g. "expires 2026-01-01 12:00:00 UTC (in 59 min)"."""
    if expires_at is None:
        return "expiry unknown"
    left = (expires_at - (now or _now())).total_seconds()
    if left <= 0:
        return f"expired {_utc_text(expires_at)}"
    return f"expires {_utc_text(expires_at)} (in {duration(left, parts=2)})"


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
    expires_at: datetime = field(default_factory=_now)
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
        issued = now or _now()
        lifetime = _number(payload.get("expires_in"), math.nan)
        if lifetime > MAX_EXPIRES_IN:
            logger.warning("%s said its token lasts %.3g s; taking %d days", source, lifetime,
                           MAX_EXPIRES_IN // 86400)
            lifetime = MAX_EXPIRES_IN
        if math.isfinite(lifetime):
            expires_at = issued + timedelta(seconds=lifetime)
        else:
            claimed = _claim_time(jwt_claims(access), "exp")
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
                return _clip(value, 80)
        return None

    @property
    def lifetime(self) -> float | None:
        """The access token's lifetime in seconds (issued_at, else its iat claim), if known."""
        issued = self.issued_at or _claim_time(jwt_claims(self.access_token), "iat")
        if issued is None:
            return None
        return max(0.0, (self.expires_at - issued).total_seconds())

    def expires_in(self, now: datetime | None = None) -> float:
        """Seconds until the access token expires (negative once expired)."""
        return (self.expires_at - (now or _now())).total_seconds()

    def __repr__(self) -> str:
        who = self.identity or "unknown user"
        refresh = "with refresh token" if self.refresh_token else "no refresh token"
        return f"<Tokens for {who}, access token {expiry_text(self.expires_at)}, {refresh}>"

    __str__ = __repr__


# -- the device authorization grant (RFC 8628) --------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the identity provider answered: the status, and the body if it is JSON."""

    status: int
    body: Any

    def oauth_error(self, secrets: tuple[str | None, ...] = ()) -> tuple[str, str]:
        """The ``error`` and ``error_description``, as untrusted text without ``secrets``."""
        if not isinstance(self.body, dict):
            return "", ""
        code = untrusted(self.body.get("error"), secrets, 80)
        text = untrusted(self.body.get("error_description"), secrets)
        return code, text


def _post_form(settings: AuthSettings, path: str, form: Mapping[str, str],
               http: requests.Session | None, what: str) -> Answer:
    """POST a form to the issuer within the call's deadline; no redirects (a form holds secrets).

    The exchange runs on the watched transport: its sockets end with the call's deadline (or
    ``settings.timeout`` outside a call), so a provider that hangs or drips cannot hold it.
    Transport faults raise TransportError subclasses whose message starts with ``what``.
    """
    seconds = deadline.left(settings.timeout)
    if seconds <= 0:
        raise RequestTimeoutError(f"{what}: no time was left within the call's deadline")
    timeout = (min(seconds, 5.0), seconds)
    sender = http if http is not None else transport.new_session(0, 0.0)
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    try:
        with deadline.deadline(seconds):
            try:
                resp = sender.post(settings.endpoint(path), data=dict(form), headers=headers,
                                   allow_redirects=False, timeout=timeout, stream=True)
                data = transport.read_body(resp, timeout)
            except requests.RequestException as exc:
                raise _transport_failure(exc, what) from None
            except TransportError as exc:
                raise type(exc)(f"{what}: {PROVIDER} gave no complete answer "
                                f"({exc})") from None
            except InvalidResponseError:
                raise ConnectionFailedError(
                    f"{what}: {PROVIDER}'s answer was cut off") from None
    finally:
        if http is None:
            sender.close()
    try:
        body = decode.loads(data) if data.strip() else None
    except (ValueError, UnicodeDecodeError):
        body = None
    return Answer(resp.status_code, body)


def _transport_failure(exc: requests.RequestException, what: str) -> TransportError:
    """A one-line transport error for a provider request (the call's deadline first)."""
    if transport.past_deadline() is not None:
        return RequestTimeoutError(
            f"{what}: {PROVIDER} gave no complete answer within the call's deadline")
    if isinstance(exc, requests.Timeout):
        return RequestTimeoutError(f"{what}: {PROVIDER} did not answer in time")
    if isinstance(exc, requests.ConnectionError):
        return ConnectionFailedError(
            f"{what}: could not reach {PROVIDER} ({transport.root_reason(exc)})")
    return TransportError(f"{what}: the request to {PROVIDER} failed ({type(exc).__name__})")


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
    """

    __slots__ = ("_deadline", "_device_code", "expires_at", "interval", "user_code",
                 "verification_uri", "verification_uri_complete")

    def __init__(self, user_code: str, verification_uri: str,
                 verification_uri_complete: str | None, expires_in: float, interval: float,
                 device_code: str) -> None:
        self.user_code = user_code
        self.verification_uri = verification_uri
        self.verification_uri_complete = (
            verification_uri_complete
            or f"{verification_uri}?user_code={quote(user_code, safe='')}")
        self.interval = interval
        self.expires_at = _now() + timedelta(seconds=expires_in)
        self._deadline = time.monotonic() + expires_in
        self._device_code = device_code

    def expires_in(self) -> float:
        """Seconds until the codes expire (0 once expired)."""
        return max(0.0, self._deadline - time.monotonic())

    def __repr__(self) -> str:
        return (f"<DeviceCode user_code={self.user_code!r} "
                f"verification_uri={self.verification_uri!r}, "
                f"expires in {duration(self.expires_in(), parts=2)}>")

    __str__ = __repr__


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
        self._http = http if http is not None else transport.new_session(0, 0.0)
        self.tick = tick
        self.code: DeviceCode | None = None
        self.interval = DEFAULT_INTERVAL
        self.polls = 0
        self._next_poll = 0.0

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
            answer = _post_form(self.settings, "oauth/device/code", form, self._http, what)
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
        complete = _web_url(body.get("verification_uri_complete"))
        if complete is not None and device_code in complete:
            complete = None  # the link must carry the user code only
        expires_in = min(_number(body.get("expires_in"), 600.0), 3600.0)
        interval = min(max(MIN_INTERVAL, _number(body.get("interval"), DEFAULT_INTERVAL)),
                       MAX_INTERVAL)
        self.code = DeviceCode(untrusted(user_code, secrets, 40), uri, complete, expires_in,
                               interval, device_code)
        self.interval = interval
        self.polls = 0
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
            answer = _post_form(self.settings, "oauth/token", form, self._http,
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
        ends the wait with SignInCancelledError within about ``tick`` seconds.
        """
        code = self._started()
        cancel = cancel or threading.Event()
        failures = 0
        while True:
            while True:
                if cancel.is_set():
                    raise SignInCancelledError("sign-in cancelled")
                left = code.expires_in()
                if on_tick is not None:
                    on_tick(left)
                if left <= 0:
                    raise SignInExpiredError("sign-in expired: the code was not approved in "
                                             "time; run %exalsius login again")
                pause = self._next_poll - time.monotonic()
                if pause <= 0:
                    break
                cancel.wait(min(pause, self.tick, left))
            try:
                tokens = self.poll_once()
            except _Transient as exc:
                failures += 1
                if failures >= TRANSIENT_POLL_FAILURES:
                    raise SignInError(str(exc), status=exc.status) from None
                continue
            failures = 0
            if tokens is not None:
                return tokens

    def _started(self) -> DeviceCode:
        if self.code is None:
            raise SignInError("sign-in was not started: call start() first")
        return self.code


def _number(value: Any, default: float) -> float:
    if isinstance(value, bool):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) and number >= 0 else default


def refresh_tokens(settings: AuthSettings, refresh_token: str,
                   http: requests.Session | None = None,
                   secrets: tuple[str | None, ...] = ()) -> Tokens:
    """One refresh-token grant: new Tokens (keeping the old refresh token if none is rotated in).

    Raises the "signed out" AuthenticationError when the grant is refused. A fault on the way
    (unreachable, too slow for the call's deadline, a 5xx or 429, a garbled answer) raises a
    TransportError, ServerError or InvalidResponseError: the sign-in itself may be fine.
    Nothing the provider says can show ``refresh_token`` or any of ``secrets``.
    """
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": settings.client_id}
    what = "could not renew the session"
    answer = _post_form(settings, "oauth/token", form, http, what)
    if answer.status == 200:
        try:
            tokens = Tokens.from_response(answer.body)
        except InvalidTokenError:
            raise
        except ValueError:
            raise InvalidResponseError(f"{what}: the answer has no token") from None
        if tokens.refresh_token is None:
            tokens = Tokens(tokens.access_token, refresh_token, tokens.id_token,
                            tokens.expires_at, tokens.issued_at, tokens.scope)
        return tokens
    if answer.status >= 500 or answer.status == 429:
        raise ServerError(f"{what}: {PROVIDER} answered HTTP {answer.status}",
                          status=answer.status)
    error, _ = answer.oauth_error((refresh_token, *secrets))
    raise signed_out(f"the refresh was refused: {error or f'HTTP {answer.status}'}")


def revoke(settings: AuthSettings, refresh_token: str,
           http: requests.Session | None = None) -> None:
    """Revoke a refresh token at the issuer (RFC 7009), ending that session everywhere."""
    form = {"token": refresh_token, "token_type_hint": "refresh_token",
            "client_id": settings.client_id}
    what = "could not revoke the session"
    try:
        answer = _post_form(settings, "oauth/revoke", form, http, what)
    except TransportError as exc:
        raise SignInError(str(exc)) from None
    if answer.status != 200:
        error, _ = answer.oauth_error((refresh_token,))
        raise SignInError(f"{what}: {error or f'HTTP {answer.status}'}", status=answer.status)
