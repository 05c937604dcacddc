"""Where and as whom to sign in: the identity provider's issuer, the public client, the audience."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from urllib3.util import parse_url

from ..api.urls import is_loopback
from ..errors import ValidationError

DEFAULT_DOMAIN = "exalsius.eu.auth0.com"
DEFAULT_CLIENT_ID = "kSbRc9MOnuMKMVLzhZYBo3xkTtk2KK7B"  # exls' public client id, not a secret
DEFAULT_AUDIENCE = "https://api.exalsius.ai"
DEFAULT_SCOPE = "openid profile email offline_access"
DEFAULT_AUTH_TIMEOUT = 10.0
ENV_TOKEN = "EXALSIUS_TOKEN"
ENV_DOMAIN = "EXALSIUS_AUTH_DOMAIN"
ENV_CLIENT_ID = "EXALSIUS_AUTH_CLIENT_ID"
ENV_AUDIENCE = "EXALSIUS_AUTH_AUDIENCE"


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
