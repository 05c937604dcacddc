"""The ``exls`` sign-in in the system keyring, as a renewing token source."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Any

import requests

from ..api.bearer import check_token, claim_time, jwt_claims
from ..durations import expiry_text, now_utc
from ..errors import KeyringError, signed_out
from .filelock import held, lock_path
from .renewal import RenewingTokens
from .settings import AuthSettings
from .tokens import Tokens

KEYRING_SERVICE = "exalsius_cli"
KEYRING_KEYS = ("access_token", "refresh_token", "id_token", "expiry")


def keyring_module() -> Any:
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
        when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when
        return when.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # e.g. 9999-12-31T23:59:59-01:00 is past year 9999
        return None


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

    renewable = True

    def __init__(self, settings: AuthSettings | None = None, *, service: str = KEYRING_SERVICE,
                 http: requests.Session | None = None) -> None:
        self.settings = settings if settings is not None else AuthSettings.from_env()
        self.service = service
        self._http = http
        self._renewal: RenewingTokens | None = None
        self._lock = threading.Lock()

    def _key(self, name: str) -> str:
        return f"{self.settings.client_id}_{name}"

    def _get(self, name: str) -> str | None:
        try:
            value = keyring_module().get_password(self.service, self._key(name))
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
        expires_at = expiry or claim_time(jwt_claims(access), "exp") or now_utc()
        access = check_token(access, f"the exls keyring entry {self._key('access_token')!r}")
        return Tokens(access, self._get("refresh_token"), self._get("id_token"),
                      expires_at, claim_time(jwt_claims(access), "iat"))

    def available(self) -> bool:
        """Whether an ``exls`` sign-in is stored (False when the keyring is missing or empty)."""
        try:
            return self.load() is not None
        except KeyringError:
            return False

    def save(self, tokens: Tokens) -> None:
        """Store tokens under the ``exls`` key names (``%exalsius login --save``)."""
        kr = keyring_module()
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
        kr = keyring_module()
        for name in KEYRING_KEYS:
            self._delete(kr, name)
        with self._lock:
            self._renewal = None

    def _delete(self, kr: Any, name: str) -> None:
        try:
            kr.delete_password(self.service, self._key(name))
        except Exception as exc:  # PasswordDeleteError when absent
            if type(exc).__name__ != "PasswordDeleteError":
                raise KeyringError(
                    f"the keyring entry cannot be deleted ({type(exc).__name__})") from None

    def renewal(self) -> RenewingTokens:
        """The renewing tokens built from the stored sign-in (loaded once)."""
        with self._lock:
            if self._renewal is None:
                tokens = self.load()
                if tokens is None:
                    raise signed_out("no exls sign-in in the keyring")
                self._renewal = RenewingTokens(
                    tokens, self.settings, on_refresh=self._stored, reload=self.load,
                    exclusive=self.exclusive, http=self._http, name="exls keyring sign-in")
            return self._renewal

    def exclusive(self, timeout: float) -> AbstractContextManager[None]:
        """The lock other kernels honour while they re-read, renew and store this sign-in."""
        return held(lock_path(f"{self.service}-{self.settings.client_id}.lock"), timeout,
                    "the exls keyring sign-in")

    def _stored(self, tokens: Tokens) -> None:
        self.save(tokens)

    def token(self) -> str:
        """A valid access token from the stored sign-in, renewed (and stored) as needed."""
        return self.renewal().token()

    def refresh(self, stale: str | None = None) -> str:
        """Renew now (after a 401), storing the result."""
        return self.renewal().refresh(stale)

    def describe(self) -> str:
        """The stored sign-in's identity and expiry, never a token."""
        with self._lock:
            session = self._renewal
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
