"""The HTTP transport under ExalsiusClient: safe retries, watched sockets, typed failures."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    DecodeError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
    SSLError,
)
from urllib3.response import HTTPResponse
from urllib3.util.retry import Retry

from .._version import __version__
from ..errors import (
    ConnectionFailedError,
    ExalsiusError,
    InvalidResponseError,
    RequestTimeoutError,
    TransportError,
)
from . import deadline

RETRY_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = f"exalsius-jupyter/{__version__} python-requests/{requests.__version__}"
IDEMPOTENT_METHODS = frozenset({"GET", "DELETE"})


class CappedRetry(Retry):
    """urllib3's Retry, but no wait may outlast the call's deadline, and read timeouts end it.

    A server's Retry-After is honoured up to ``max_retry_after`` seconds, and only while the
    call's deadline leaves room for the wait and another attempt; otherwise the last answer
    (or error) is what the caller gets.
    """

    max_retry_after = 10.0

    def parse_retry_after(self, retry_after: str) -> float:
        """Honour Retry-After, capped at ``max_retry_after`` seconds."""
        return min(super().parse_retry_after(retry_after), self.max_retry_after)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        """Count a failed attempt; never retry a read timeout or past the deadline.

        A slow server has the request; resending it multiplies the caller's timeout (and urllib3
        would then report the exhausted retries as a connection error, not a timeout).
        """
        if isinstance(error, ReadTimeoutError):
            raise error
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        active = deadline.current()
        if active is not None:
            wait = (new.get_retry_after(response) if response is not None
                    and self.respect_retry_after_header else None)
            wait = new.get_backoff_time() if wait is None else wait
            if active.expired or wait >= active.remaining():
                raise MaxRetryError(_pool, url or "", error or ResponseError("deadline"))
        return new


class _Watched:
    """A urllib3 connection whose sockets the current call's deadline can shut down."""

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        deadline.watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        deadline.watch(self.sock)  # a kept-alive connection being reused
        super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """requests' adapter with connections the call's deadline watches (proxied ones too)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Create the pool manager with watched connection pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        """The proxy manager for ``proxy``, with watched connection pools."""
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def new_http(retries: int, backoff_factor: float) -> requests.Session:
    """A Session whose GET/DELETE are retried safely and whose sockets honour deadlines."""
    session = requests.Session()
    retry = CappedRetry(
        total=retries, connect=retries, read=retries, status=retries, other=0,
        allowed_methods=IDEMPOTENT_METHODS, status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor, backoff_max=8.0,
        respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False,
    )
    adapter = WatchedAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def where(resp: requests.Response) -> str:
    """`` (METHOD /path)`` of the request behind ``resp``, for messages."""
    req = resp.request
    return f" ({req.method} {urlsplit(req.url or '').path})" if req is not None else ""


def after(timeout: Any) -> str:
    """`` after Ns`` for a (connect, read) timeout, for one-line timeout messages."""
    return f" after {timeout[1]:g}s" if isinstance(timeout, tuple) else ""


def past_deadline() -> RequestTimeoutError | None:
    """The error for a call whose overall deadline has passed, else None."""
    active = deadline.current()
    if active is None or not (active.expired or active.remaining() <= 0):
        return None
    return RequestTimeoutError(f"no complete answer within the call's {active.seconds:g}s "
                               "deadline")


def read_body(resp: requests.Response, timeout: Any = None) -> bytes:
    """The whole body, in one read where it can be (``.content`` reads 10 KiB at a time)."""
    try:
        body = _whole(resp)
    except requests.RequestException as exc:
        resp.close()
        late = past_deadline()
        if late is not None:
            raise late from None
        if isinstance(exc, requests.ConnectionError) and exc.args and isinstance(
                exc.args[0], ReadTimeoutError):
            raise RequestTimeoutError(
                f"timed out reading the response{after(timeout)}{where(resp)}") from None
        raise InvalidResponseError(
            f"the response was cut off or garbled{where(resp)}", status=resp.status_code) from None
    check_deadline(resp)
    return body


def _whole(resp: requests.Response) -> bytes:
    """The body in one read of urllib3's (one buffer: the peak is the body once, #16), else in
    1 MiB chunks (joined: twice the body at the end); urllib3's errors as requests' own."""
    raw = resp.raw
    if resp._content_consumed or not isinstance(raw, HTTPResponse):
        return b"".join(resp.iter_content(1 << 20))
    try:
        body = raw.read(decode_content=True)
    except ReadTimeoutError as exc:
        raise requests.ConnectionError(exc) from None
    except (ProtocolError, DecodeError, SSLError) as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    finally:
        resp._content_consumed = True
    return body


def check_deadline(resp: requests.Response) -> None:
    """Raise if the call's deadline passed: what was read may have been cut short by it."""
    late = past_deadline()
    if late is not None:
        resp.close()
        raise late


def transport_error(exc: requests.RequestException, timeout: Any) -> ExalsiusError:
    """A one-line typed error for a request that did not complete (no headers, no token)."""
    req = getattr(exc, "request", None)
    target = ""
    if req is not None and getattr(req, "url", None):
        parts = urlsplit(req.url)
        target = f" {req.method} {parts.scheme}://{parts.netloc}{parts.path}"
    late = past_deadline()
    if late is not None:
        return RequestTimeoutError(f"{late}:{target}")
    if isinstance(exc, requests.Timeout):
        return RequestTimeoutError(f"timed out{after(timeout)}:{target}")
    if isinstance(exc, requests.ConnectionError):
        return ConnectionFailedError(f"could not reach the server:{target} ({root_reason(exc)})")
    if isinstance(exc, (requests.exceptions.ContentDecodingError,
                        requests.exceptions.ChunkedEncodingError)):
        return InvalidResponseError(f"the response was cut off or garbled:{target}")
    return TransportError(f"request failed:{target} ({type(exc).__name__})")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what caused it: urllib3's ``reason``, ``__cause__`` and ``__context__``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        nxt = getattr(current, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = current.__cause__ or current.__context__
        if nxt is None and current.args and isinstance(current.args[0], BaseException):
            nxt = current.args[0]
        current = nxt


def root_reason(exc: BaseException) -> str:
    """Why a connection failed, read from the exception types in the cause chain."""
    chain = list(_causes(exc))
    if any(isinstance(e, NameResolutionError | socket.gaierror) for e in chain):
        return "unknown host"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection refused"
    if any(isinstance(e, http.client.RemoteDisconnected | ConnectionResetError
                      | BrokenPipeError) for e in chain):
        return "the server closed the connection"
    if any(isinstance(e, ProtocolError) for e in chain):
        return "the server closed the connection"
    if any(isinstance(e, NewConnectionError) for e in chain):
        return "could not connect"
    return type(chain[-1]).__name__


def request_was_sent(exc: requests.RequestException) -> bool:
    """Whether the server may have received the request (so its outcome is unknown)."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    chain = list(_causes(exc))
    not_sent = (NewConnectionError, NameResolutionError, ConnectionRefusedError, socket.gaierror)
    return not any(isinstance(e, not_sent) for e in chain)
