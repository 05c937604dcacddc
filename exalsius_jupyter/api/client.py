"""ExalsiusClient: a small requests-based client for the exalsius Workspaces API."""

from __future__ import annotations

import contextlib
import functools
import gc
import ipaddress
import json
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from urllib3.exceptions import ReadTimeoutError
from urllib3.util import parse_url
from urllib3.util.retry import Retry

from .._version import __version__
from ..errors import (
    ConnectionFailedError,
    ExalsiusError,
    InsecureTransportError,
    InvalidResponseError,
    NotFoundError,
    NotSupportedError,
    RequestTimeoutError,
    TransportError,
    ValidationError,
)
from ..model.spec import validate_workspace_spec
from ..model.workspace import Workspace, WorkspaceList
from .problems import error_from_response

DEFAULT_API_URL = "https://api.exalsius.ai/v1"
DEFAULT_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 5.0
RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "DELETE"})
_NIL_ID = "00000000-0000-0000-0000-000000000000"


class _CappedRetry(Retry):
    """urllib3's Retry, but a server's Retry-After can never stall a notebook for long."""

    max_retry_after = 10.0

    def parse_retry_after(self, retry_after: str) -> float:
        """Honour Retry-After, capped at ``max_retry_after`` seconds."""
        return min(super().parse_retry_after(retry_after), self.max_retry_after)

    def increment(self, *args: Any, **kwargs: Any) -> Retry:
        """Count a failed attempt, but never retry a read timeout.

        A slow server has the request; resending it multiplies the caller's timeout (and urllib3
        would then report the exhausted retries as a connection error, not a timeout).
        """
        error = kwargs.get("error", args[3] if len(args) > 3 else None)
        if isinstance(error, ReadTimeoutError):
            raise error
        return super().increment(*args, **kwargs)


_P = ParamSpec("_P")
_R = TypeVar("_R")
REDACTED = "[redacted]"


def _redact_text(value: Any, secret: str | None) -> Any:
    return value.replace(secret, REDACTED) if secret and isinstance(value, str) else value


def _redacting(
    method: Callable[Concatenate[ExalsiusClient, _P], _R],
) -> Callable[Concatenate[ExalsiusClient, _P], _R]:
    """Strip the client's token from any error an operation raises (servers may echo it)."""

    @functools.wraps(method)
    def wrapper(self: ExalsiusClient, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except ExalsiusError as exc:
            _redact_error(exc, self._token)
            raise

    return wrapper


def _redact_error(exc: ExalsiusError, secret: str | None) -> None:
    if not secret:
        return
    exc.args = tuple(_redact_text(a, secret) for a in exc.args)
    for name in ("title", "detail", "instance", "type"):
        setattr(exc, name, _redact_text(getattr(exc, name), secret))


def _is_loopback(host: str | None) -> bool:
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


def _api_target(url: str) -> tuple[str, str]:
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


class _TokenAuth(AuthBase):
    """Sets the credential header on each request; its repr never shows the credential."""

    def __init__(self, token: str | None, *, api_key_header: bool) -> None:
        self.token = token
        self.api_key_header = api_key_header

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.token:
            if self.api_key_header:
                request.headers["X-API-Key"] = self.token
            else:
                request.headers["Authorization"] = f"Bearer {self.token}"
        return request

    def __repr__(self) -> str:
        return f"<credential {mask_secret(self.token)}>"


def mask_secret(secret: str | None) -> str:
    """A token as it may be shown: never more than its last four characters."""
    if not secret:
        return "not set"
    return "set (…" + secret[-4:] + ")" if len(secret) >= 16 else "set (****)"


class ExalsiusClient:
    """Client for the exalsius Workspaces API: one Session, timeouts, safe retries, typed errors."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        api_key_header: bool = False,
        allow_insecure: bool = False,
        retries: int = 3,
        backoff_factor: float = 0.5,
    ) -> None:
        url = (base_url or os.environ.get("EXALSIUS_API_URL") or DEFAULT_API_URL).strip()
        secret = token if token is not None else (os.environ.get("EXALSIUS_TOKEN") or None)
        # The credential lives only in the auth hook (masked repr), never in session.headers.
        self._auth = _TokenAuth(secret or None, api_key_header=api_key_header)
        try:
            scheme, host = _api_target(url)
        except ValidationError as exc:
            shown = _redact_text(url, self._token)
            raise ValidationError(f"{exc}, got {shown!r}") from None
        self._base_url = url.rstrip("/")
        self._host = host
        if self._token and scheme == "http" and not _is_loopback(host) and not allow_insecure:
            raise InsecureTransportError(
                f"refusing to send credentials over plain http:// to {host}; "
                "use https:// or pass allow_insecure=True", host=host)
        self.timeout = _timeouts(timeout)
        self._api_key_header = api_key_header
        self.session = requests.Session()
        self.session.headers.update({
            "Accept": "application/json, application/problem+json",
            "User-Agent": f"exalsius-jupyter/{__version__} python-requests/{requests.__version__}",
        })
        self.session.auth = self._auth  # also keeps requests from using ~/.netrc instead
        retry = _CappedRetry(
            total=retries, connect=retries, read=retries, status=retries, other=0,
            allowed_methods=IDEMPOTENT_METHODS, status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor, backoff_max=8.0,
            respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._offers: dict[str, bool] = {}

    @property
    def base_url(self) -> str:
        """The API root including its version path, without a trailing slash."""
        return self._base_url

    @property
    def _token(self) -> str | None:
        return self._auth.token

    @property
    def has_token(self) -> bool:
        """Whether a credential is configured (its value is never shown)."""
        return bool(self._token)

    @property
    def is_sandbox(self) -> bool:
        """Whether this client points at a server on this machine (such as the sandbox)."""
        return _is_loopback(self._host)

    def __repr__(self) -> str:
        return f"ExalsiusClient(base_url={self._base_url!r}, token={mask_secret(self._token)!r})"

    def close(self) -> None:
        """Close the underlying HTTP session."""
        self.session.close()

    def __enter__(self) -> ExalsiusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- API operations ------------------------------------------------------------------

    @_redacting
    def list_workspaces(self, cluster_id: str | None = None) -> WorkspaceList:
        """List workspaces, optionally of one cluster; ``.total`` comes from X-Total-Count."""
        params = {"cluster_id": cluster_id} if cluster_id else None
        resp = self._request("GET", "/workspaces", params=params)
        body = self._json(resp)
        items = body.get("workspaces") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise InvalidResponseError(
                "list response has no 'workspaces' array" + _where(resp))
        return WorkspaceList(items, total=_total(resp, body, len(items)))

    @_redacting
    def describe_workspace(self, workspace_id: str) -> Workspace:
        """Fetch one workspace (bare or wrapped as the live API sends it)."""
        resp = self._request("GET", f"/workspace/{_path_id(workspace_id)}")
        return Workspace.from_api(self._json(resp))

    @_redacting
    def create_workspace(self, spec: Mapping[str, Any]) -> str:
        """Validate ``spec`` locally, create the workspace and return its id (never resent)."""
        body = validate_workspace_spec(spec)
        resp = self._request("POST", "/workspaces", json_body=body)
        return self._workspace_id(resp)

    @_redacting
    def stop_workspace(self, workspace_id: str) -> str:
        """Stop a workspace (its volume is kept); returns its id."""
        resp = self._request("POST", f"/workspace/{_path_id(workspace_id)}/stop")
        return self._workspace_id(resp)

    @_redacting
    def delete_workspace(self, workspace_id: str) -> str:
        """Delete a workspace, irreversibly; returns its id."""
        resp = self._request("DELETE", f"/workspace/{_path_id(workspace_id)}")
        return self._workspace_id(resp)

    @_redacting
    def start_workspace(self, workspace_id: str) -> str:
        """Start a stopped workspace where the server offers it (live API); returns its id."""
        resp = self._request("POST", f"/workspace/{_path_id(workspace_id)}/start",
                             feature="start")
        return self._workspace_id(resp)

    @_redacting
    def workspace_logs(self, workspace_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        """Up to ``limit`` log records (NDJSON) where the server offers logs."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError(f"limit must be a positive whole number, got {limit!r}")
        resp = self._request("GET", f"/workspace/{_path_id(workspace_id)}/logs", feature="logs")
        records: list[dict[str, Any]] = []
        try:
            for line in resp.iter_lines():
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except ValueError:
                        raise InvalidResponseError(
                            "a log line is not JSON" + _where(resp)) from None
                if len(records) >= limit:
                    break
        except requests.RequestException as exc:
            raise _transport_error(exc, self.timeout) from None
        finally:
            resp.close()
        return records

    @_redacting
    def offers(self, feature: str) -> bool:
        """Whether the server has an endpoint beyond 1.5.1 (``start`` or ``logs``); cached."""
        if feature not in self._offers:
            try:
                if feature == "start":
                    self.start_workspace(_NIL_ID)
                else:
                    self.workspace_logs(_NIL_ID, limit=1)
                self._offers[feature] = True
            except NotSupportedError:
                self._offers[feature] = False
            except NotFoundError:
                self._offers[feature] = True
        return self._offers[feature]

    # -- plumbing --------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        feature: str | None = None,
    ) -> requests.Response:
        """Send one request; the body of a 2xx answer is left unread for ``_json``."""
        data = None
        headers = None
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            headers = {"Content-Type": "application/json"}
        try:
            resp = self.session.request(method, self._base_url + path, params=params, data=data,
                                        headers=headers, timeout=self.timeout, stream=True,
                                        allow_redirects=False)
        except requests.RequestException as exc:
            raise _transport_error(exc, self.timeout) from None
        if resp.status_code >= 400:
            body = _read_body(resp, self.timeout)
            if self._token:  # an excerpt could otherwise carry part of an echoed token
                body = body.replace(self._token.encode("utf-8"), REDACTED.encode())
            resp.close()
            if feature and resp.status_code in (404, 405, 501) and _route_missing(body):
                self._offers[feature] = False
                raise NotSupportedError(
                    f"this server ({self._base_url}) does not offer '{feature}'",
                    status=resp.status_code)
            raise error_from_response(resp.status_code, body, resp.reason or "")
        if resp.status_code >= 300:
            resp.close()
            raise InvalidResponseError(
                f"unexpected redirect (HTTP {resp.status_code}) from {method} {path}",
                status=resp.status_code)
        return resp

    def _json(self, resp: requests.Response) -> Any:
        """Read and decode a JSON body; anything else is an InvalidResponseError."""
        data = _read_body(resp, self.timeout)
        try:
            with _gc_paused():
                return json.loads(data)
        except (ValueError, UnicodeDecodeError):
            # Redacted before the excerpt is cut, which could otherwise keep part of a token.
            text = _redact_text(data.decode("utf-8", "replace"), self._token)
            excerpt = text[:80].replace("\n", " ")
            raise InvalidResponseError(
                f"the server did not answer with JSON{_where(resp)}: {excerpt!r}",
                status=resp.status_code) from None

    def _workspace_id(self, resp: requests.Response) -> str:
        """The ``workspace_id`` of a create/stop/delete/start answer."""
        body = self._json(resp)
        wid = body.get("workspace_id") if isinstance(body, dict) else None
        if not isinstance(wid, str) or not wid:
            raise InvalidResponseError("response has no 'workspace_id'" + _where(resp))
        return wid


def _timeouts(timeout: float | tuple[float, float]) -> tuple[float, float]:
    if isinstance(timeout, tuple):
        connect, read = timeout
    else:
        connect, read = min(float(timeout), DEFAULT_CONNECT_TIMEOUT), float(timeout)
    if connect <= 0 or read <= 0:
        raise ValidationError("timeouts must be positive numbers of seconds")
    return float(connect), float(read)


def _path_id(workspace_id: str) -> str:
    if not isinstance(workspace_id, str) or not workspace_id.strip():
        raise ValidationError("a workspace id must be a non-empty string")
    if workspace_id.strip() in (".", ".."):
        # URL layers resolve dot segments (/workspace/../stop -> /stop), even percent-encoded.
        raise ValidationError(f"{workspace_id.strip()!r} is not a workspace id")
    return quote(workspace_id.strip(), safe="")


def _route_missing(body: bytes) -> bool:
    """True for a framework's bare 'Not Found' (no problem object): the route doesn't exist."""
    try:
        parsed = json.loads(body) if body.strip() else None
    except ValueError:
        return True
    return not (isinstance(parsed, dict) and isinstance(parsed.get("detail"), dict))


def _where(resp: requests.Response) -> str:
    req = resp.request
    return f" ({req.method} {urlsplit(req.url or '').path})" if req is not None else ""


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a large body is decoded into many new containers.

    A 100k-workspace list is ~1M new dicts; CPython's GC would traverse them over and over
    during the decode (about a third of its time). Nothing in a decode creates cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_body(resp: requests.Response, timeout: Any = None) -> bytes:
    """The whole body, read in 1 MiB chunks (``.content`` reads 10 KiB at a time: slow at 50 MB)."""
    try:
        return b"".join(resp.iter_content(1 << 20))
    except requests.RequestException as exc:
        resp.close()
        if isinstance(exc, requests.ConnectionError) and exc.args and isinstance(
                exc.args[0], ReadTimeoutError):
            raise RequestTimeoutError(
                f"timed out reading the response{_after(timeout)}{_where(resp)}") from None
        raise InvalidResponseError(
            f"the response was cut off or garbled{_where(resp)}", status=resp.status_code) from None


def _after(timeout: Any) -> str:
    """`` after Ns`` for a (connect, read) timeout, for one-line timeout messages."""
    return f" after {timeout[1]:g}s" if isinstance(timeout, tuple) else ""


def _total(resp: requests.Response, body: dict[str, Any], count: int) -> int:
    header = resp.headers.get("X-Total-Count")
    if header is not None and header.strip().isdigit():
        return int(header)
    total = body.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        return total
    return count


def _transport_error(exc: requests.RequestException, timeout: Any) -> ExalsiusError:
    """A one-line typed error for a request that did not complete (no headers, no token)."""
    req = getattr(exc, "request", None)
    target = ""
    if req is not None and getattr(req, "url", None):
        parts = urlsplit(req.url)
        target = f" {req.method} {parts.scheme}://{parts.netloc}{parts.path}"
    if isinstance(exc, requests.Timeout):
        return RequestTimeoutError(f"timed out{_after(timeout)}:{target}")
    if isinstance(exc, requests.ConnectionError):
        reason = _root_reason(exc)
        return ConnectionFailedError(f"could not reach the server:{target} ({reason})")
    if isinstance(exc, (requests.exceptions.ContentDecodingError,
                        requests.exceptions.ChunkedEncodingError)):
        return InvalidResponseError(f"the response was cut off or garbled:{target}")
    return TransportError(f"request failed:{target} ({type(exc).__name__})")


def _root_reason(exc: BaseException) -> str:
    """The innermost cause's class and message, trimmed to something readable."""
    seen = exc
    while True:
        nxt = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
        if nxt is None or nxt is seen or not isinstance(nxt, BaseException):
            break
        seen = nxt
    text = str(seen)
    if "Connection refused" in text or isinstance(seen, ConnectionRefusedError):
        return "connection refused"
    if "RemoteDisconnected" in type(seen).__name__ or "closed connection" in text:
        return "the server closed the connection"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    return type(seen).__name__
