"""API base URLs: refuse the ones parsers read differently; decide what is really loopback."""

from __future__ import annotations

import ipaddress
from urllib.parse import quote, urlsplit

from urllib3.util import parse_url

from ..errors import ValidationError


def path_id(value: str, what: str) -> str:
    """An id (of a ``what``: workspace, cluster) as one URL path segment, percent-encoded."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"a {what} id must be a non-empty string")
    if value.strip() in (".", ".."):
        # URL layers resolve dot segments (/workspace/../stop -> /stop), even percent-encoded.
        raise ValidationError(f"{value.strip()!r} is not a {what} id")
    return quote(value.strip(), safe="")


def is_loopback(host: str | None) -> bool:
    """True only for names that are this machine whatever the resolver says.

    ``localhost`` and loopback IP literals; not ``*.localhost``, which goes to the system resolver,
    nor numeric forms such as ``127.1`` or ``2130706433`` that only some resolvers expand.
    """
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def api_target(url: str) -> tuple[str, str]:
    """Check an API base URL; return its scheme and the host the transport will connect to.

    URLs that parsers can read differently are refused outright: backslashes, userinfo, control
    characters and spaces (``http://a\\@127.0.0.1/`` is 127.0.0.1 to urlsplit but ``a`` to
    urllib3), as are a query or fragment, which would swallow the paths appended to a base URL.
    """
    bad = "the API URL must be http(s)://host[:port]/path"
    parts = urlsplit(url)
    if (any(ch in url for ch in "\\@?#") or "%" in parts.netloc
            or any(ch.isspace() or not ch.isprintable() for ch in url)):
        raise ValidationError(
            f"{bad}, without userinfo, backslashes, spaces, control characters, a query or a "
            "fragment")
    try:
        transport_host = (parse_url(url).host or "").strip("[]").lower()
        _ = parts.port  # raises on a port that is not a number
    except ValueError as exc:  # also a malformed IPv6 literal
        raise ValidationError(f"{bad}: {exc}") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or host != transport_host:
        raise ValidationError(bad)
    return parts.scheme, host
