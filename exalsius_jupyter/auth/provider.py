"""The identity provider over the watched transport: one form POST, refresh and revoke.

Every request runs within the call's deadline (or the sign-in timeout outside a call), on
connections the deadline's watchdog can shut, so a provider that hangs or drips cannot hold a
call. Everything the provider says is untrusted text: redacted of every secret, printable, short.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from ..api import deadline, decode, transport
from ..errors import (
    ConnectionFailedError,
    InvalidResponseError,
    InvalidTokenError,
    RequestTimeoutError,
    ServerError,
    SignInError,
    TransportError,
    signed_out,
)
from ..text import untrusted
from .settings import AuthSettings
from .tokens import PROVIDER, Tokens


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


def post_form(settings: AuthSettings, path: str, form: Mapping[str, str],
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
    sender = http if http is not None else transport.new_http(0, 0.0)
    headers = {"Accept": "application/json", "User-Agent": transport.USER_AGENT}
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
    answer = post_form(settings, "oauth/token", form, http, what)
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
        answer = post_form(settings, "oauth/revoke", form, http, what)
    except TransportError as exc:
        raise SignInError(str(exc)) from None
    if answer.status != 200:
        error, _ = answer.oauth_error((refresh_token,))
        raise SignInError(f"{what}: {error or f'HTTP {answer.status}'}", status=answer.status)
