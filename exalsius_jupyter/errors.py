"""The typed errors every layer raises; ``str()`` of each is one readable line."""

from __future__ import annotations

import re

from .text import clip, printable

SIGNED_OUT = "signed out: run %exalsius login"
_SURROGATES = re.compile("[\ud800-\udfff]")


class ExalsiusError(Exception):
    """Base of every error this package raises; ``str()`` is one readable line."""

    #: Whether the request may have reached the server (its outcome is then not known).
    request_sent: bool = False

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


class InvalidTokenError(ValidationError):
    """A token holds characters an HTTP header cannot carry; nothing was sent, none of it shown."""


class InsecureTransportError(ExalsiusError):
    """Credentials would travel over plain http:// to a non-loopback host."""

    def __init__(self, message: str, *, host: str = "") -> None:
        super().__init__(message)
        self.host = host


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
    return AuthenticationError(f"{SIGNED_OUT} ({clip(reason)})" if reason else SIGNED_OUT,
                               status=401)


class UnknownOutcomeError(TransportError):
    """A create's answer was lost and looking the workspace up by name did not settle it."""

    def __init__(self, message: str, *, name: str = "", cluster_id: str = "") -> None:
        super().__init__(message)
        self.name = name
        self.cluster_id = cluster_id


class WorkspaceFailedError(ExalsiusError):
    """A workspace ended FAILED, STOPPED or DELETED while waiting for RUNNING."""


class WaitTimeoutError(ExalsiusError, TimeoutError):
    """Waiting for a workspace ran out of time."""


def _one_line(text: str) -> str:
    """One printable line: escapes and control characters dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", printable(_SURROGATES.sub("\ufffd", text))).strip()
