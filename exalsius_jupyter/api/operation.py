"""``operation``: what every client call is wrapped in (its deadline; no token in its errors)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from ..errors import ExalsiusError
from ..text import redact
from .deadline import deadline as call_deadline


class Operating(Protocol):
    """What ``operation`` needs of a client: its deadline and the credentials it has sent."""

    @property
    def deadline(self) -> float:
        """Seconds one call may take in all."""

    @property
    def _auth(self) -> Any: ...


_P = ParamSpec("_P")
_R = TypeVar("_R")
_C = TypeVar("_C", bound=Operating)


def redact_text(value: Any, *secrets: str | None) -> Any:
    """``value`` redacted of ``secrets`` when it is text (``text.redact``), else as it is."""
    return redact(value, secrets) if isinstance(value, str) else value


def redact_error(exc: ExalsiusError, *secrets: str | None) -> None:
    """Strip ``secrets`` from an error's message and its problem fields, in place."""
    if not any(secrets):
        return
    exc.args = tuple(redact_text(a, *secrets) for a in exc.args)
    for name in ("title", "detail", "instance", "type"):
        setattr(exc, name, redact_text(getattr(exc, name), *secrets))


def operation(method: Callable[Concatenate[_C, _P], _R]) -> Callable[Concatenate[_C, _P], _R]:
    """One API call: bounded by the client's deadline; the credentials stripped from errors."""

    @functools.wraps(method)
    def wrapper(self: _C, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            with call_deadline(self.deadline):
                return method(self, *args, **kwargs)
        except ExalsiusError as exc:
            redact_error(exc, *self._auth.sent)
            raise

    return wrapper


__all__ = ["Operating", "operation", "redact_error", "redact_text"]
