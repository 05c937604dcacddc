"""Typed errors: problem+json bodies, transport failures and bad responses become exceptions."""

from __future__ import annotations

import json
import re
from typing import Any

_EXCERPT = 120


class ExalsiusError(Exception):
    """Base of every error this package raises; ``str()`` is one readable line."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str | None = None,
        detail: str | None = None,
        instance: str | None = None,
        type: str | None = None,
    ) -> None:
        super().__init__(_one_line(message))
        self.status = status
        self.title = title
        self.detail = detail
        self.instance = instance
        self.type = type


class ApiError(ExalsiusError):
    """The server answered with an HTTP error status."""


class BadRequestError(ApiError):
    """HTTP 400: the server rejected the request."""


class AuthenticationError(ApiError):
    """HTTP 401/403: the token is missing, wrong or lacks permission."""


class NotFoundError(ApiError):
    """HTTP 404: no such workspace (or route)."""


class ConflictError(ApiError):
    """HTTP 409: e.g. a workspace of that name already exists in the cluster."""


class ServerError(ApiError):
    """HTTP 5xx: the server or a proxy in front of it failed."""


class NotSupportedError(ExalsiusError):
    """The server does not offer this endpoint (an older API version)."""


class TransportError(ExalsiusError):
    """The request did not complete: connection refused, dropped or timed out."""


class ConnectionFailedError(TransportError):
    """The server could not be reached or dropped the connection."""


class RequestTimeoutError(TransportError, TimeoutError):
    """The server did not answer within the client's timeout."""


class InvalidResponseError(ExalsiusError):
    """The server answered, but not with the JSON shape the API promises."""


class ValidationError(ExalsiusError, ValueError):
    """A workspace spec or argument is invalid; nothing was sent."""


class InsecureTransportError(ExalsiusError):
    """Credentials would travel over plain http:// to a non-loopback host."""


class WorkspaceFailedError(ExalsiusError):
    """A workspace ended FAILED, STOPPED or DELETED while waiting for RUNNING."""


class WaitTimeoutError(ExalsiusError, TimeoutError):
    """Waiting for a workspace ran out of time."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
}


def _one_line(text: str) -> str:
    """Collapse whitespace so a message is always a single line."""
    return re.sub(r"\s+", " ", text).strip()


def _excerpt(text: str) -> str:
    """A short single-line excerpt of a non-JSON body (HTML tags stripped)."""
    plain = _one_line(re.sub(r"<[^>]*>", " ", text))
    return plain if len(plain) <= _EXCERPT else plain[: _EXCERPT - 1] + "…"


def _problem_fields(body: Any) -> dict[str, Any] | None:
    """Problem members from this API's wrapped shape or a flat RFC 7807 body."""
    if not isinstance(body, dict):
        return None
    inner = body.get("detail")
    if isinstance(inner, dict):
        return inner
    if any(k in body for k in ("title", "status", "type")) or isinstance(inner, str):
        return body
    return None


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def error_from_response(status: int, body: bytes, reason: str = "") -> ApiError:
    """Build the typed error for an HTTP error status and its raw body."""
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    text = body.decode("utf-8", "replace")
    try:
        problem = _problem_fields(json.loads(text)) if text.strip() else None
    except ValueError:
        problem = None
    if problem is None:
        excerpt = _excerpt(text)
        head = f"HTTP {status}" + (f" {reason}" if reason else "")
        message = f"{head}: {excerpt}" if excerpt else head
        return cls(message, status=status, title=reason or None, detail=excerpt or None)
    title = _str_or_none(problem.get("title"))
    detail = _str_or_none(problem.get("detail"))
    summary = ": ".join(part for part in (title or reason, detail) if part) or "error"
    return cls(
        f"HTTP {status} {summary}",
        status=status,
        title=title,
        detail=detail,
        instance=_str_or_none(problem.get("instance")),
        type=_str_or_none(problem.get("type")),
    )
