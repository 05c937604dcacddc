"""problem+json (wrapped or flat RFC 7807) and other error bodies -> typed ExalsiusErrors."""

from __future__ import annotations

import re
from typing import Any

from ..errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    ServerError,
    _one_line,
)
from . import decode

_EXCERPT = 120

_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
}


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
    text = decode.clean_text(body.decode("utf-8", "replace"))
    try:
        problem = _problem_fields(decode.loads(text)) if text.strip() else None
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
