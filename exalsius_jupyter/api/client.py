"""ExalsiusClient: a small requests-based client for the exalsius Workspaces API."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ParamSpec, TypeVar

import requests

from ..errors import (
    ApiError,
    ExalsiusError,
    InsecureTransportError,
    InvalidResponseError,
    NotFoundError,
    NotSupportedError,
    TransportError,
    UnknownOutcomeError,
    ValidationError,
)
from ..model import msgspec_path
from ..model.gcpause import gc_paused
from ..model.jsondepth import TooDeep
from ..model.spec import validate_workspace_spec
from ..model.workspace import Workspace, WorkspaceList, WorkspaceStatus
from ..text import REDACTED
from . import decode, transport
from .bearer import BearerAuth, StaticToken, TokenSource
from .catalogue import CatalogueMixin
from .deadline import deadline as call_deadline
from .error_bodies import error_from_response
from .operation import operation, redact_error, redact_text
from .urls import api_target, is_loopback, path_id

DEFAULT_API_URL = "https://api.exalsius.ai/v1"
DEFAULT_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 5.0
DEADLINE_FACTOR = 3.0
SANDBOX_HEADER = "X-Exalsius-Sandbox"
JSON_ACCEPT = "application/json, application/problem+json"
NDJSON_ACCEPT = "application/x-ndjson, application/problem+json"
_NIL_ID = "00000000-0000-0000-0000-000000000000"
_TOTAL = re.compile(r"[0-9]{1,18}")
# How a create whose answer was lost is settled: list calls by name, a pause between them.
RECOVERY_LOOKUPS = 3
RECOVERY_PAUSE = 0.5
# A workspace found by name counts as this create's if it is not older than the call by more.
RECOVERY_CLOCK_SKEW = timedelta(minutes=5)

log = logging.getLogger("exalsius_jupyter")

_P = ParamSpec("_P")
_R = TypeVar("_R")
def _token_source(token: str | TokenSource | None) -> TokenSource | None:
    """The source behind ``token=``: a string is fixed; None means ``$EXALSIUS_TOKEN``."""
    if token is None:
        token = os.environ.get("EXALSIUS_TOKEN") or None
        name = "EXALSIUS_TOKEN"
    else:
        name = "explicit token"
    if isinstance(token, str):
        return StaticToken(token, name) if token.strip() else None
    return token


def mask_secret(secret: str | None) -> str:
    """A token as it may be shown: never more than its last four characters."""
    if not secret:
        return "not set"
    return "set (…" + secret[-4:] + ")" if len(secret) >= 16 else "set (****)"


class ExalsiusClient(CatalogueMixin):
    """Client for the exalsius Workspaces API: one Session, timeouts, safe retries, typed errors.

    Every operation ends within ``deadline`` seconds, whatever the server does (a server that
    drips its answer, Retry-After waits, retries); a create whose answer was lost may take up to
    twice that, because it then looks the workspace up by name.

    Args:
        base_url: the API root with its version path; default ``$EXALSIUS_API_URL``, else
            ``https://api.exalsius.ai/v1``.
        token: the bearer token (or API key), or a ``TokenSource`` that renews it (a sign-in,
            a credential command); default ``$EXALSIUS_TOKEN``. Never shown.
        timeout: seconds per connect and per read, or a ``(connect, read)`` pair; a number
            caps the connect timeout at 5 s.
        deadline: seconds one operation may take in all; default 3 × the read timeout.
        api_key_header: send the token as ``X-API-Key`` instead of ``Authorization: Bearer``.
        allow_insecure: allow a token over plain ``http://`` to a host that is not loopback.
        retries: retries of GET and DELETE on connection errors, 429, 502, 503 and 504
            (a POST is never resent).
        backoff_factor: urllib3's exponential backoff factor between retries.
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | TokenSource | None = None,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        api_key_header: bool = False,
        allow_insecure: bool = False,
        retries: int = 3,
        backoff_factor: float = 0.5,
    ) -> None:
        url = (base_url or os.environ.get("EXALSIUS_API_URL") or DEFAULT_API_URL).strip()
        # The credential lives only in the auth hook (masked repr), never in session.headers.
        self._auth = BearerAuth(_token_source(token), api_key_header=api_key_header)
        try:
            scheme, host = api_target(url)
        except ValidationError as exc:
            shown = redact_text(url, token if isinstance(token, str) else None)
            raise ValidationError(f"{exc}, got {shown!r}") from None
        self._base_url = url.rstrip("/")
        self._host = host
        if self.has_token and scheme == "http" and not is_loopback(host) and not allow_insecure:
            raise InsecureTransportError(
                f"refusing to send credentials over plain http:// to {host}; "
                "use https:// or pass allow_insecure=True", host=host)
        self.timeout = _timeouts(timeout)
        self.deadline = _deadline(deadline, self.timeout)
        self._api_key_header, self._allow_insecure = api_key_header, allow_insecure
        self._retries, self._backoff_factor = retries, backoff_factor
        self.http = transport.new_http(retries, backoff_factor)
        self.http.headers.update({
            "Accept": JSON_ACCEPT,
            "User-Agent": transport.USER_AGENT,
        })
        self.http.auth = self._auth  # also keeps requests from using ~/.netrc instead
        self._offers: dict[str, bool] = {}
        self._sandbox_seen = False
        self.recovered_creates = 0

    @property
    def base_url(self) -> str:
        """The API root including its version path, without a trailing slash."""
        return self._base_url

    @property
    def _token(self) -> str | None:
        return self._auth.token

    @property
    def token_source(self) -> TokenSource | None:
        """Where the credential comes from (its ``describe()`` never shows the token)."""
        return self._auth.source

    @property
    def has_token(self) -> bool:
        """Whether a credential is configured (its value is never shown)."""
        return self._auth.source is not None

    @property
    def is_sandbox(self) -> bool:
        """Whether the server answered as the embedded sandbox (its header, on loopback)."""
        return self._sandbox_seen and is_loopback(self._host)

    def clone(self) -> ExalsiusClient:
        """A new client with the same endpoint, credential source and settings, on its own Session.

        requests does not promise that a Session is thread-safe: give each thread its own.
        """
        return type(self)(
            self._base_url, self._auth.source or "", timeout=self.timeout, deadline=self.deadline,
            api_key_header=self._api_key_header, allow_insecure=self._allow_insecure,
            retries=self._retries, backoff_factor=self._backoff_factor)

    def __repr__(self) -> str:
        source = self._auth.source
        shown = source.describe() if source is not None else "not set"
        return f"ExalsiusClient(base_url={self._base_url!r}, token={shown!r})"

    @property
    def session(self) -> requests.Session:
        """The ``requests.Session`` the client sends with (``http``; the older name)."""
        return self.http

    def close(self) -> None:
        """Close the underlying HTTP session."""
        self.http.close()

    def __enter__(self) -> ExalsiusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- API operations ------------------------------------------------------------------

    @operation
    def list_workspaces(self, cluster_id: str | None = None) -> WorkspaceList:
        """List workspaces, optionally of one cluster; ``.total`` comes from X-Total-Count."""
        params = {"cluster_id": cluster_id} if cluster_id else None
        resp = self._request("GET", "/workspaces", params=params)
        data = self._read(resp)
        # With msgspec (the fast extra), a well-formed body becomes columns directly (no dicts).
        listed = msgspec_path.decode_list(data) if msgspec_path.enabled() else None
        if listed is not None:
            count = len(listed)
            return WorkspaceList.from_fast(
                listed, total=_total(resp, {"total": listed.total}, count))
        body = self._json(resp, data)
        items = body.get("workspaces") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise InvalidResponseError(
                "list response has no 'workspaces' array" + transport.where(resp))
        return WorkspaceList(items, total=_total(resp, body, len(items)))

    @operation
    def describe_workspace(self, workspace_id: str) -> Workspace:
        """Fetch one workspace (bare or wrapped as the live API sends it)."""
        resp = self._request("GET", f"/workspace/{_workspace(workspace_id)}")
        return Workspace.from_api(self._json(resp))

    def create_workspace(self, spec: Mapping[str, Any]) -> str:
        """Validate ``spec`` locally, create the workspace and return its id (never resent).

        When the answer is lost after the request went out (a timeout, a dropped connection),
        the workspace is looked up by name on its cluster: exactly one match is the result
        (counted in ``recovered_creates``), otherwise ``UnknownOutcomeError``.
        """
        body = validate_workspace_spec(spec)
        started = datetime.now(timezone.utc)
        try:
            return self._post_create(body)
        except (TransportError, InvalidResponseError) as exc:
            if not getattr(exc, "request_sent", False):
                raise
            lost = exc
        return self._settle_create(body, lost, started)

    @operation
    def stop_workspace(self, workspace_id: str) -> str:
        """Stop a workspace (its volume is kept); returns its id."""
        resp = self._request("POST", f"/workspace/{_workspace(workspace_id)}/stop")
        return self._workspace_id(resp)

    @operation
    def delete_workspace(self, workspace_id: str) -> str:
        """Delete a workspace, irreversibly; returns its id."""
        resp = self._request("DELETE", f"/workspace/{_workspace(workspace_id)}")
        return self._workspace_id(resp)

    @operation
    def start_workspace(self, workspace_id: str) -> str:
        """Start a stopped workspace where the server offers it (live API); returns its id."""
        resp = self._request("POST", f"/workspace/{_workspace(workspace_id)}/start",
                             feature="start")
        return self._workspace_id(resp)

    @operation
    def workspace_logs(self, workspace_id: str, limit: int = 1000) -> LogRecords:
        """The last ``limit`` log records (NDJSON) where the server offers logs.

        The answer is read in linear time whatever its lines' lengths, keeping at most
        ``limit`` records; ``.seen`` says how many there were (``.truncated`` if more).
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError(f"limit must be a positive whole number, got {limit!r}")
        resp = self._request("GET", f"/workspace/{_workspace(workspace_id)}/logs", feature="logs",
                             accept=NDJSON_ACCEPT)
        kept: deque[dict[str, Any]] = deque(maxlen=limit)
        seen = 0
        try:
            for line in _ndjson_lines(resp.iter_content(1 << 20)):
                if line.strip():
                    kept.append(_log_record(line, resp))
                    seen += 1
            transport.check_deadline(resp)
        except requests.RequestException as exc:
            raise transport.transport_error(exc, self.timeout) from None
        finally:
            resp.close()
        return LogRecords(kept, seen)

    @operation
    def offers(self, feature: str) -> bool:
        """Whether the server has an endpoint beyond 1.5.1 (``start`` or ``logs``); cached.

        It asks with a GET only: the start route answers 405 to a GET where it exists.
        """
        if feature not in ("start", "logs"):
            raise ValidationError(f"unknown feature {feature!r} (start or logs)")
        if feature not in self._offers:
            try:
                self._request("GET", f"/workspace/{_NIL_ID}/{feature}", feature=feature,
                              accept=NDJSON_ACCEPT if feature == "logs" else JSON_ACCEPT).close()
                self._offers[feature] = True
            except NotSupportedError:
                self._offers[feature] = False
            except NotFoundError:
                self._offers[feature] = True
            except ApiError as exc:
                if exc.status != 405:
                    raise
                self._offers[feature] = True
        return self._offers[feature]

    # -- creates whose answer was lost ---------------------------------------------------------

    @operation
    def _post_create(self, body: dict[str, Any]) -> str:
        resp = self._request("POST", "/workspaces", json_body=body)
        return self._workspace_id(resp)

    def _settle_create(self, body: dict[str, Any], lost: ExalsiusError, started: datetime) -> str:
        """Find the workspace a lost create may have made, within one more deadline."""
        name, cluster_id = body["name"], body["cluster_id"]
        stop_at = time.monotonic() + self.deadline
        reason = str(lost)
        for attempt in range(RECOVERY_LOOKUPS):
            if attempt:
                time.sleep(min(RECOVERY_PAUSE, max(0.0, stop_at - time.monotonic())))
            remaining = stop_at - time.monotonic()
            if remaining <= 0:
                break
            try:
                with call_deadline(remaining):
                    listing = self._list_raw(cluster_id)
            except ExalsiusError as exc:
                redact_error(exc, *self._auth.sent)
                reason = f"{lost}; looking it up failed: {exc}"
                continue
            found = [ws for ws in listing if ws.name == name and ws.cluster_id == cluster_id
                     and ws.workspace_status is not WorkspaceStatus.DELETED
                     and (ws.created_at is None or ws.created_at >= started - RECOVERY_CLOCK_SKEW)]
            if len(found) == 1:
                self.recovered_creates += 1
                log.info("the answer to creating %r was lost (%s); found it by name: %s",
                         name, lost, found[0].id)
                return found[0].id
            if len(found) > 1:
                reason = f"{lost}; {len(found)} workspaces named {name!r} exist"
                break
        raise UnknownOutcomeError(
            f"the create of {name!r} may or may not have happened ({reason}); check with "
            f"%exalsius list or list_workspaces(cluster_id={cluster_id!r}) before creating it "
            "again", name=name, cluster_id=cluster_id)

    def _list_raw(self, cluster_id: str) -> WorkspaceList:
        resp = self._request("GET", "/workspaces", params={"cluster_id": cluster_id})
        body = self._json(resp)
        items = body.get("workspaces") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise InvalidResponseError("list response has no 'workspaces' array")
        return WorkspaceList([w for w in items if isinstance(w, dict)])

    # -- plumbing --------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        feature: str | None = None,
        accept: str = JSON_ACCEPT,
    ) -> requests.Response:
        """Send one request; the body of a 2xx answer is left unread for ``_json``.

        A 401 from a source that can renew its token (a sign-in, a credential command) is
        answered by the auth object (``BearerAuth``): one renewal, the request sent once more.
        """
        data = None
        headers = {"Accept": accept}
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        resp = self._send(method, path, params, data, headers)  # a 401 renews in the auth hook
        if resp.status_code >= 400:
            body = transport.read_body(resp, self.timeout)
            for token in self._auth.sent:  # an excerpt could otherwise carry an echoed token
                body = body.replace(token.encode("utf-8"), REDACTED.encode())
            resp.close()
            if feature and resp.status_code in (404, 501) and _route_missing(body):
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

    def _send(self, method: str, path: str, params: Mapping[str, str] | None,
              data: bytes | None, headers: dict[str, str]) -> requests.Response:
        """One HTTP exchange (with urllib3's safe retries); transport failures become typed."""
        try:
            resp = self.http.request(method, self._base_url + path, params=params, data=data,
                                        headers=headers, timeout=self.timeout, stream=True,
                                        allow_redirects=False)
        except requests.RequestException as exc:
            error = transport.transport_error(exc, self.timeout)
            error.request_sent = transport.request_was_sent(exc)
            raise error from None
        try:
            transport.check_deadline(resp)
        except ExalsiusError as exc:
            exc.request_sent = True
            raise
        if resp.headers.get(SANDBOX_HEADER) == "1":
            self._sandbox_seen = True
        return resp

    def _read(self, resp: requests.Response) -> bytes:
        """The whole body of an answer (bounded by the call's deadline)."""
        try:
            return transport.read_body(resp, self.timeout)
        except ExalsiusError as exc:
            exc.request_sent = True  # the server answered; only the body is missing
            raise

    def _json(self, resp: requests.Response, data: bytes | None = None) -> Any:
        """Decode a JSON body (read unless given); anything else is an InvalidResponseError."""
        if data is None:
            data = self._read(resp)
        try:
            with gc_paused():
                return decode.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            # Redacted before the excerpt is cut, which could otherwise keep part of a token.
            text = decode.clean_text(
                redact_text(data.decode("utf-8", "replace"), *self._auth.sent))
            excerpt = text[:80].replace("\n", " ")
            if isinstance(exc, TooDeep):
                why = str(exc).removeprefix("the JSON is ")
            else:
                why = "nested too deeply" if "nested" in str(exc) else "not JSON"
            raise InvalidResponseError(
                f"the server's answer is {why}{transport.where(resp)}: {excerpt!r}",
                status=resp.status_code) from None

    def _workspace_id(self, resp: requests.Response) -> str:
        """The ``workspace_id`` of a create/stop/delete/start answer."""
        body = self._json(resp)
        wid = body.get("workspace_id") if isinstance(body, dict) else None
        if not isinstance(wid, str) or not wid:
            raise InvalidResponseError("response has no 'workspace_id'" + transport.where(resp))
        return wid


def _timeouts(timeout: float | tuple[float, float]) -> tuple[float, float]:
    if isinstance(timeout, tuple):
        connect, read = timeout
    else:
        connect, read = min(float(timeout), DEFAULT_CONNECT_TIMEOUT), float(timeout)
    if not (connect > 0 and read > 0):
        raise ValidationError("timeouts must be positive numbers of seconds")
    return float(connect), float(read)


def _deadline(value: float | None, timeout: tuple[float, float]) -> float:
    if value is None:
        return DEADLINE_FACTOR * timeout[1]
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValidationError(f"deadline must be a positive number of seconds, got {value!r}")
    return float(value)


def _workspace(workspace_id: str) -> str:
    return path_id(workspace_id, "workspace")


def _route_missing(body: bytes) -> bool:
    """True for a framework's bare 'Not Found' (no problem object): the route doesn't exist."""
    try:
        parsed = decode.loads(body) if body.strip() else None
    except ValueError:
        return True
    return not (isinstance(parsed, dict) and isinstance(parsed.get("detail"), dict))


class LogRecords(list[dict[str, Any]]):
    """Log records: the last ones kept, and ``seen``, how many there were in all.

    Args:
        records: the records kept, oldest first.
        seen: how many records the answer held.
    """

    def __init__(self, records: Iterable[dict[str, Any]], seen: int) -> None:
        super().__init__(records)
        self.seen = seen

    @property
    def truncated(self) -> bool:
        """Whether there were more records than were kept."""
        return self.seen > len(self)


def _ndjson_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The lines of a streamed body, in linear time (requests' iter_lines re-joins every chunk
    of a long line, which is quadratic); a last line without a newline counts too."""
    buf = bytearray()
    for chunk in chunks:
        scan = len(buf)
        buf += chunk
        start = 0
        while (end := buf.find(b"\n", scan)) >= 0:
            yield bytes(buf[start:end]).rstrip(b"\r")
            start = scan = end + 1
        if start:
            del buf[:start]
    if buf:
        yield bytes(buf).rstrip(b"\r")


def _log_record(line: bytes, resp: requests.Response) -> dict[str, Any]:
    """One NDJSON log line, which must be a JSON object."""
    try:
        record = decode.loads(line)
    except ValueError:
        raise InvalidResponseError("a log line is not JSON" + transport.where(resp)) from None
    if not isinstance(record, dict):
        raise InvalidResponseError(
            f"a log line is JSON but not an object ({type(record).__name__})"
            + transport.where(resp))
    return record


def _total(resp: requests.Response, body: dict[str, Any], count: int) -> int:
    header = resp.headers.get("X-Total-Count")
    if header is not None and _TOTAL.fullmatch(header.strip()):
        return int(header)
    total = body.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        return total
    return count
