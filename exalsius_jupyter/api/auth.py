"""Signing in to exalsius: settings, the RFC 8628 device flow, and the token sources.

Nothing here imports IPython or ipywidgets. No token, refresh token, ID token or device code is
ever part of a repr, a str, an error message or a log record.

Precedence of credentials (``resolve_token_source``): an explicit token > ``EXALSIUS_TOKEN`` >
the notebook's sign-in > a credential command (``token_command``) > the ``exls`` keyring entries.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import math
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote, urlsplit

import requests
from urllib3.util import parse_url

from .._version import __version__
from ..errors import AuthenticationError, ValidationError
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
_MAX_MESSAGE = 200


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


def _clip(text: str, limit: int = _MAX_MESSAGE) -> str:
    """Text as one trimmed line of at most ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _redact(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret replaced by ``[redacted]``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


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


def _span(seconds: float) -> str:
    seconds = int(max(0, seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def expiry_text(expires_at: datetime | None, now: datetime | None = None) -> str:
    """When a token expires, e.g. "expires 2026-01-01 12:00:00 UTC (in 59 min)"."""
    if expires_at is None:
        return "expiry unknown"
    left = (expires_at - (now or _now())).total_seconds()
    if left <= 0:
        return f"expired {_utc_text(expires_at)}"
    return f"expires {_utc_text(expires_at)} (in {_span(left)})"


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
    def from_response(cls, payload: Mapping[str, Any], now: datetime | None = None) -> Tokens:
        """Tokens from a token endpoint's JSON answer (ValueError when it has no access token)."""
        access = payload.get("access_token")
        if not isinstance(access, str) or not access.strip():
            raise ValueError("the answer has no access_token")
        issued = now or _now()
        expires_in = payload.get("expires_in")
        try:
            lifetime = float(expires_in) if expires_in is not None else math.nan
        except (TypeError, ValueError):
            lifetime = math.nan
        if math.isfinite(lifetime) and lifetime >= 0:
            expires_at = issued + timedelta(seconds=lifetime)
        else:
            expires_at = _claim_time(jwt_claims(access), "exp") or issued + timedelta(hours=1)
        refresh = payload.get("refresh_token")
        id_token = payload.get("id_token")
        scope = payload.get("scope")
        return cls(
            access_token=access.strip(),
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            id_token=id_token if isinstance(id_token, str) and id_token else None,
            expires_at=expires_at,
            issued_at=issued,
            scope=scope if isinstance(scope, str) else None,
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


def _post_form(settings: AuthSettings, path: str, form: Mapping[str, str],
               http: requests.Session | None) -> requests.Response:
    """POST a form to the issuer (no redirects followed: a form may carry a secret)."""
    url = settings.endpoint(path)
    sender = http or requests
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    connect = min(settings.timeout, 5.0)
    return sender.post(url, data=dict(form), headers=headers, allow_redirects=False,
                       timeout=(connect, settings.timeout))


def _oauth_error(resp: requests.Response) -> tuple[str, str]:
    """The ``error`` code and ``error_description`` of an answer ("" when it has none)."""
    try:
        body = resp.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    code, text = body.get("error"), body.get("error_description")
    return (code if isinstance(code, str) else "", text if isinstance(text, str) else "")


def _transport_reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "the sign-in server did not answer in time"
    if isinstance(exc, requests.ConnectionError):
        return "could not reach the sign-in server"
    return f"the request to the sign-in server failed ({type(exc).__name__})"


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
                f"expires in {_span(self.expires_in())}>")

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
        self._http = http if http is not None else requests.Session()
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
        try:
            resp = _post_form(self.settings, "oauth/device/code", form, self._http)
        except requests.RequestException as exc:
            raise SignInError(f"sign-in could not start: {_transport_reason(exc)}") from None
        code, text = _oauth_error(resp)
        if resp.status_code != 200:
            what = (f"{code} ({_clip(text)})" if code and text
                    else code or f"HTTP {resp.status_code}")
            raise SignInError(f"sign-in could not start: {what}", status=resp.status_code)
        try:
            body = resp.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SignInError("sign-in could not start: the answer is not a JSON object")
        device_code, user_code = body.get("device_code"), body.get("user_code")
        uri = _web_url(body.get("verification_uri") or body.get("verification_url"))
        if not isinstance(device_code, str) or not device_code:
            raise SignInError("sign-in could not start: the answer has no device code")
        if not isinstance(user_code, str) or not user_code.strip() or uri is None:
            raise SignInError("sign-in could not start: the answer has no user code or page")
        complete = _web_url(body.get("verification_uri_complete"))
        if complete is not None and device_code in complete:
            complete = None  # the link must carry the user code only
        expires_in = _number(body.get("expires_in"), 600.0)
        interval = max(MIN_INTERVAL, _number(body.get("interval"), DEFAULT_INTERVAL))
        self.code = DeviceCode(_clip(user_code, 40), uri, complete, expires_in, interval,
                               device_code)
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
            resp = _post_form(self.settings, "oauth/token", form, self._http)
        except requests.RequestException as exc:
            raise _Transient(f"sign-in failed: {_transport_reason(exc)}") from None
        finally:  # spaced from the answer, so the server never sees two polls too close
            self._next_poll = time.monotonic() + self.interval
        if resp.status_code == 200:
            try:
                return Tokens.from_response(resp.json())
            except ValueError:
                raise SignInError("sign-in failed: the token answer has no access token") from None
        error, text = _oauth_error(resp)
        if error == "authorization_pending":
            return None
        if error == "slow_down":
            self.interval += SLOW_DOWN_STEP
            self._next_poll = time.monotonic() + self.interval
            return None
        if error == "expired_token":
            raise SignInExpiredError("sign-in expired: the code was not approved in time; "
                                     "run %exalsius login again", status=resp.status_code)
        if error == "access_denied":
            raise SignInDeniedError("sign-in denied on the approval page",
                                    status=resp.status_code)
        if not error:
            if resp.status_code >= 500 or resp.status_code == 429:
                raise _Transient(f"sign-in failed: the sign-in server answered HTTP "
                                 f"{resp.status_code}", status=resp.status_code)
            raise SignInError(f"sign-in failed: HTTP {resp.status_code} without an OAuth error",
                              status=resp.status_code)
        detail = _clip(_redact(text, code._device_code))
        raise SignInError(f"sign-in failed: {error}" + (f" ({detail})" if detail else ""),
                          status=resp.status_code)

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
                   http: requests.Session | None = None) -> Tokens:
    """One refresh-token grant: new Tokens (keeping the old refresh token if none is rotated in).

    Raises the "signed out" AuthenticationError when the grant is refused, and SignInError (a
    transport failure, the session may still be alive) when the server cannot be reached.
    """
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": settings.client_id}
    try:
        resp = _post_form(settings, "oauth/token", form, http)
    except requests.RequestException as exc:
        raise SignInError(f"could not renew the session: {_transport_reason(exc)}") from None
    if resp.status_code == 200:
        try:
            tokens = Tokens.from_response(resp.json())
        except ValueError:
            raise SignInError("could not renew the session: the answer has no token") from None
        if tokens.refresh_token is None:
            tokens = Tokens(tokens.access_token, refresh_token, tokens.id_token,
                            tokens.expires_at, tokens.issued_at, tokens.scope)
        return tokens
    error, _ = _oauth_error(resp)
    if resp.status_code >= 500 or resp.status_code == 429:
        raise SignInError(f"could not renew the session: the sign-in server answered HTTP "
                          f"{resp.status_code}", status=resp.status_code)
    raise signed_out(f"the refresh was refused: {error or f'HTTP {resp.status_code}'}")


def revoke(settings: AuthSettings, refresh_token: str,
           http: requests.Session | None = None) -> None:
    """Revoke a refresh token at the issuer (RFC 7009), ending that session everywhere."""
    form = {"token": refresh_token, "token_type_hint": "refresh_token",
            "client_id": settings.client_id}
    try:
        resp = _post_form(settings, "oauth/revoke", form, http)
    except requests.RequestException as exc:
        raise SignInError(f"could not revoke the session: {_transport_reason(exc)}") from None
    if resp.status_code != 200:
        error, _ = _oauth_error(resp)
        raise SignInError(f"could not revoke the session: {error or f'HTTP {resp.status_code}'}",
                          status=resp.status_code)


# -- token sources ----------------------------------------------------------------------------


@runtime_checkable
class TokenSource(Protocol):
    """Where the client's bearer token comes from; asked before each request."""

    def token(self) -> str:
        """A valid access token, renewed first when it is about to expire."""
        ...

    def refresh(self, stale: str | None = None) -> str:
        """A new access token after a 401 (none is fetched when ``stale`` is already replaced)."""
        ...

    def describe(self) -> str:
        """The source's name and the token's expiry, never the token."""
        ...


class StaticToken:
    """A fixed token (``token=``, ``EXALSIUS_TOKEN``, ``%exalsius login --token``); no renewal.

    Args:
        token: the bearer token.
        name: how ``describe()`` names where it came from.
    """

    def __init__(self, token: str, name: str = "explicit token") -> None:
        token = token.strip()
        if not token:
            raise ValidationError("the token is empty")
        self._token = token
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
        return _claim_time(jwt_claims(self._token), "exp")

    def describe(self) -> str:
        """E.g. "EXALSIUS_TOKEN (expires ... UTC (in 12 min))"."""
        exp = self.expires_at
        return f"{self.name} ({expiry_text(exp)})" if exp else f"{self.name} (expiry unknown)"

    def __repr__(self) -> str:
        return f"<StaticToken {self.describe()}>"


class OAuthSession:
    """A signed-in session: renews its access token shortly before expiry; thread-safe.

    Only one refresh runs at a time; threads that waited for it use its result. A rotated
    refresh token replaces the old one. When renewal fails for good, every call raises
    "signed out: run %exalsius login".

    Args:
        tokens: the tokens of the sign-in.
        settings: the issuer and client the tokens came from.
        on_refresh: called with the new Tokens after each refresh (e.g. to store them).
        reload: called before a refresh; may return newer Tokens stored by someone else (the
            ``exls`` CLI), which are then used instead of refreshing.
        http: a requests session for the refresh requests.
        name: how ``describe()`` names this session.
        leeway: renew at most this many seconds before expiry (or 10 % of the lifetime).
    """

    def __init__(self, tokens: Tokens, settings: AuthSettings | None = None, *,
                 on_refresh: Callable[[Tokens], None] | None = None,
                 reload: Callable[[], Tokens | None] | None = None,
                 http: requests.Session | None = None, name: str = "notebook sign-in",
                 leeway: float = REFRESH_LEEWAY) -> None:
        self.settings = settings if settings is not None else AuthSettings.from_env()
        self.on_refresh = on_refresh
        self.reload = reload
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
        with self._lock:
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
                fresh = refresh_tokens(self.settings, current.refresh_token, self._http)
            except SignInError as exc:  # transport: the session itself may be fine
                if still_valid:
                    self._retry_at = time.monotonic() + REFRESH_RETRY_AFTER
                    logger.warning("could not renew the exalsius session yet: %s", exc)
                    return current.access_token
                raise signed_out(str(exc)) from None
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

    def describe(self) -> str:
        """E.g. "notebook sign-in as Ada (access token expires ... UTC (in 59 min), renews ...)"."""
        tokens = self._tokens
        who = f" as {tokens.identity}" if tokens.identity else ""
        if self._dead is not None:
            return f"{self.name}{who} (signed out: {self._dead})"
        renews = ", renews automatically" if tokens.refresh_token else ", no refresh token"
        return f"{self.name}{who} (access token {expiry_text(tokens.expires_at)}{renews})"

    def __repr__(self) -> str:
        return f"<OAuthSession {self.describe()}>"


class CommandToken:
    """A credential command such as ``exls get-token``: its stdout is the token.

    It runs with a timeout and without a shell, again once a JWT's ``exp`` is near, and again
    after a 401 (``refresh``). Its stderr is shown, in one line, when it fails.

    Args:
        command: the command line (split with shlex) or its argument list.
        timeout: seconds the command may run.
        env: the environment for the command (default: this process's).
        leeway: re-run this many seconds before a JWT token's ``exp``.
    """

    def __init__(self, command: str | Sequence[str], timeout: float = 10.0, *,
                 env: Mapping[str, str] | None = None, leeway: float = REFRESH_LEEWAY) -> None:
        try:
            argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
        except ValueError as exc:
            raise ValidationError(f"the token command cannot be parsed: {exc}") from None
        if not argv:
            raise ValidationError("the token command is empty")
        self.argv = argv
        self.timeout = timeout
        self.env = dict(env) if env is not None else None
        self.leeway = leeway
        self._token: str | None = None
        self._lock = threading.Lock()
        self.runs = 0

    @property
    def command(self) -> str:
        """The command line as shown in messages."""
        return shlex.join(self.argv)

    @property
    def expires_at(self) -> datetime | None:
        """The cached token's ``exp`` claim, if it is a JWT."""
        return _claim_time(jwt_claims(self._token), "exp")

    def _fresh(self, token: str | None) -> bool:
        if not token:
            return False
        exp = _claim_time(jwt_claims(token), "exp")
        if exp is None:
            return True  # opaque: used until a 401
        claims_iat = _claim_time(jwt_claims(token), "iat")
        window = self.leeway
        if claims_iat is not None:
            window = min(window, 0.1 * max(0.0, (exp - claims_iat).total_seconds()))
        return (exp - _now()).total_seconds() > window

    def token(self) -> str:
        """The cached token while fresh, else the command's new output."""
        seen = self._token
        if seen is not None and self._fresh(seen):
            return seen
        return self._run_if(seen)

    def refresh(self, stale: str | None = None) -> str:
        """Run the command again (after a 401), unless ``stale`` was already replaced."""
        seen = self._token
        if stale is not None and seen is not None and stale != seen:
            return seen
        return self._run_if(seen)

    def _run_if(self, seen: str | None) -> str:
        with self._lock:
            if self._token is not seen and self._token is not None:
                return self._token
            self._token = self._run()
            return self._token

    def _run(self) -> str:
        self.runs += 1
        shown = _clip(self.command, 80)
        try:
            proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=self.env, start_new_session=os.name == "posix")
        except OSError as exc:
            reason = "not found" if isinstance(exc, FileNotFoundError) else type(exc).__name__
            raise CredentialCommandError(f"token command {shown!r} could not run: {reason}") \
                from None
        try:
            out, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise CredentialCommandError(
                f"token command {shown!r} timed out after {self.timeout:g} s") from None
        stdout = out.decode("utf-8", "replace").strip()
        stderr = _clip(_redact(err.decode("utf-8", "replace"), stdout))
        if proc.returncode != 0:
            said = f": {stderr}" if stderr else ""
            raise CredentialCommandError(
                f"token command {shown!r} failed (exit {proc.returncode}){said}")
        if not stdout:
            said = f": {stderr}" if stderr else ""
            raise CredentialCommandError(f"token command {shown!r} printed no token{said}")
        if any(ch.isspace() or not ch.isprintable() for ch in stdout):
            raise CredentialCommandError(
                f"token command {shown!r} printed more than a token (spaces or several lines)")
        return stdout

    def describe(self) -> str:
        """E.g. "token command 'exls get-token' (expires ... UTC (in 58 min))"."""
        exp = self.expires_at
        state = expiry_text(exp) if exp else ("not run yet" if self._token is None
                                              else "expiry unknown")
        return f"token command {_clip(self.command, 80)!r} ({state})"

    def __repr__(self) -> str:
        return f"<CommandToken {self.describe()}>"


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End a command and its children, then reap it (bounded)."""
    with contextlib.suppress(OSError):
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        proc.communicate(timeout=2.0)


# -- the exls keyring entries -----------------------------------------------------------------


def _keyring_module() -> Any:
    try:
        import keyring
    except ImportError:
        raise KeyringError("keyring support is not installed: "
                           "pip install 'exalsius-jupyter[keyring]'") from None
    return keyring


def _parse_expiry(text: str | None) -> datetime | None:
    if not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


class KeyringTokens:
    """The ``exls`` sign-in in the system keyring, as a renewing token source.

    Reads service ``exalsius_cli``, usernames ``{client_id}_access_token``, ``_refresh_token``,
    ``_id_token`` and ``_expiry`` (ISO 8601, UTC), and writes renewed tokens back so that a
    rotation does not sign ``exls`` out. Needs the optional ``keyring`` package.

    Args:
        settings: the issuer and client id (the key names use the client id).
        service: the keyring service name.
        http: a requests session for the refresh requests.
    """

    def __init__(self, settings: AuthSettings | None = None, *, service: str = KEYRING_SERVICE,
                 http: requests.Session | None = None) -> None:
        self.settings = settings if settings is not None else AuthSettings.from_env()
        self.service = service
        self._http = http
        self._session: OAuthSession | None = None
        self._lock = threading.Lock()

    def _key(self, name: str) -> str:
        return f"{self.settings.client_id}_{name}"

    def _get(self, name: str) -> str | None:
        try:
            value = _keyring_module().get_password(self.service, self._key(name))
        except KeyringError:
            raise
        except Exception as exc:
            raise KeyringError(f"the keyring cannot be read ({type(exc).__name__})") from None
        return value if isinstance(value, str) and value.strip() else None

    def load(self) -> Tokens | None:
        """The stored tokens, or None when ``exls`` is not signed in."""
        access = self._get("access_token")
        if access is None:
            return None
        expiry = _parse_expiry(self._get("expiry"))
        expires_at = expiry or _claim_time(jwt_claims(access), "exp") or _now()
        return Tokens(access.strip(), self._get("refresh_token"), self._get("id_token"),
                      expires_at, _claim_time(jwt_claims(access), "iat"))

    def available(self) -> bool:
        """Whether an ``exls`` sign-in is stored (False when the keyring is missing or empty)."""
        try:
            return self.load() is not None
        except KeyringError:
            return False

    def save(self, tokens: Tokens) -> None:
        """Store tokens under the ``exls`` key names (``%exalsius login --save``)."""
        kr = _keyring_module()
        values = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "id_token": tokens.id_token,
            "expiry": tokens.expires_at.astimezone(timezone.utc).isoformat(),
        }
        try:
            for name, value in values.items():
                if value:
                    kr.set_password(self.service, self._key(name), value)
                else:
                    self._delete(kr, name)
        except Exception as exc:
            raise KeyringError(f"the keyring cannot be written ({type(exc).__name__})") from None

    def clear(self) -> None:
        """Delete the stored entries (``%exalsius logout --everywhere``)."""
        kr = _keyring_module()
        for name in KEYRING_KEYS:
            self._delete(kr, name)
        with self._lock:
            self._session = None

    def _delete(self, kr: Any, name: str) -> None:
        try:
            kr.delete_password(self.service, self._key(name))
        except Exception as exc:  # PasswordDeleteError when absent
            if type(exc).__name__ != "PasswordDeleteError":
                raise KeyringError(
                    f"the keyring entry cannot be deleted ({type(exc).__name__})") from None

    def session(self) -> OAuthSession:
        """The renewing session built from the stored tokens (loaded once)."""
        with self._lock:
            if self._session is None:
                tokens = self.load()
                if tokens is None:
                    raise signed_out("no exls sign-in in the keyring")
                self._session = OAuthSession(
                    tokens, self.settings, on_refresh=self._stored, reload=self.load,
                    http=self._http, name="exls keyring sign-in")
            return self._session

    def _stored(self, tokens: Tokens) -> None:
        self.save(tokens)

    def token(self) -> str:
        """A valid access token from the stored sign-in, renewed (and stored) as needed."""
        return self.session().token()

    def refresh(self, stale: str | None = None) -> str:
        """Renew now (after a 401), storing the result."""
        return self.session().refresh(stale)

    def describe(self) -> str:
        """The stored sign-in's identity and expiry, never a token."""
        with self._lock:
            session = self._session
        if session is not None:
            return session.describe()
        try:
            tokens = self.load()
        except KeyringError as exc:
            return f"exls keyring sign-in (unavailable: {exc})"
        if tokens is None:
            return "exls keyring sign-in (none stored)"
        who = f" as {tokens.identity}" if tokens.identity else ""
        return f"exls keyring sign-in{who} (access token {expiry_text(tokens.expires_at)})"

    def __repr__(self) -> str:
        return f"<KeyringTokens service={self.service!r} client_id={self.settings.client_id!r}>"


# -- precedence -------------------------------------------------------------------------------


def resolve_token_source(
    explicit: str | TokenSource | None = None,
    env: Mapping[str, str] | None = None,
    signed_in: TokenSource | None = None,
    token_command: str | Sequence[str] | None = None,
    use_keyring: bool | None = False,
    settings: AuthSettings | None = None,
    command_timeout: float = 10.0,
) -> TokenSource | None:
    """The credential to use: explicit > EXALSIUS_TOKEN > sign-in > token_command > keyring.

    ``use_keyring``: False skips the keyring, None uses it when installed and holding an
    ``exls`` sign-in, True also raises KeyringError when the package is missing. Returns None
    when nothing applies.
    """
    env = os.environ if env is None else env
    if isinstance(explicit, str):
        if explicit.strip():
            return StaticToken(explicit, "explicit token")
    elif explicit is not None:
        return explicit
    from_env = (env.get(ENV_TOKEN) or "").strip()
    if from_env:
        return StaticToken(from_env, ENV_TOKEN)
    if signed_in is not None:
        return signed_in
    if token_command and (not isinstance(token_command, str) or token_command.strip()):
        return CommandToken(token_command, command_timeout)
    if use_keyring is False:
        return None
    if use_keyring:
        _keyring_module()
    source = KeyringTokens(settings if settings is not None else AuthSettings.from_env(env))
    return source if source.available() else None


__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_DOMAIN",
    "DEFAULT_SCOPE",
    "KEYRING_SERVICE",
    "SIGNED_OUT",
    "AuthSettings",
    "CommandToken",
    "CredentialCommandError",
    "DeviceCode",
    "DeviceLogin",
    "KeyringError",
    "KeyringTokens",
    "OAuthSession",
    "SignInCancelledError",
    "SignInDeniedError",
    "SignInError",
    "SignInExpiredError",
    "StaticToken",
    "TokenSource",
    "Tokens",
    "expiry_text",
    "jwt_claims",
    "refresh_tokens",
    "resolve_token_source",
    "revoke",
    "signed_out",
]
