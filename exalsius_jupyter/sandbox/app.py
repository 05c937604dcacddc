"""The Sandbox: an in-process exalsius Workspaces API server with test hooks."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any

from .accounting import RequestLog, RequestRecord
from .api import PREFIX, Api, Response, problem, route_name
from .auth import IdentityProvider
from .faults import Faults
from .options import SandboxOptions
from .persist import load_state
from .populate import synthetic_records
from .records import Record
from .server import SandboxServer
from .store import WorkspaceStore


class Sandbox:
    """An exalsius-compatible Workspaces API on a local port; use as a context manager.

    Args:
        host: the address to bind (default ``SandboxOptions.host``, loopback).
        port: the port; 0 (the default) picks a free one, ``url`` then tells which.
        options: every option at once (default ``SandboxOptions()``).
        **changes: any :class:`SandboxOptions` field by name, over ``options``, e.g.
            ``Sandbox(port=0, pending_seconds=0.5, auth=True)``; ``help(SandboxOptions)`` gives
            each one's meaning and default. A bad value is a ValueError, an unknown name a
            TypeError.

    ``options`` is the SandboxOptions it was made with (``port`` is the bound one once started,
    ``options.port`` what was asked). In auth mode ``idp`` is the
    IdentityProvider, with test hooks ``counts()``, ``interval(user_code)`` and ``revoke_all()``;
    ``issuer_url`` is its issuer URL. The package docstring describes the lifecycle and the faults.
    """

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        options: SandboxOptions | None = None,
        **changes: Any,
    ) -> None:
        given = {"host": host, "port": port}
        changes.update({name: value for name, value in given.items() if value is not None})
        opts = (options or SandboxOptions()).replace(**changes)
        self.options = opts
        self.host = opts.host
        self.port = opts.port
        self.latency = opts.latency
        self.quiet = opts.quiet
        self.faults = Faults(
            seed=opts.seed,
            error_rate=opts.error_rate,
            drop_rate=opts.drop_rate,
            retry_after=opts.retry_after,
        )
        self.log = RequestLog(route_name)
        state_path = None if opts.state is None else Path(opts.state)
        self.store = WorkspaceStore(
            pending_seconds=opts.pending_seconds,
            deleted_ttl=opts.deleted_ttl,
            api=opts.api,
            state=state_path,
        )
        saved = None if state_path is None else load_state(state_path)
        if saved is None:
            self.store.load(synthetic_records(opts.workspaces, random.Random(opts.seed)))
            self.store.flush()
        else:
            self.store.load(Record.from_state(item) for item in saved)
        self.api = Api(self.store, extras=opts.extras)
        self.idp: IdentityProvider | None = None
        if opts.auth:
            self.idp = IdentityProvider(
                client_id=opts.client_id,
                audience=opts.audience,
                token_ttl=opts.token_ttl,
                device_code_ttl=opts.device_code_ttl,
                device_interval=opts.device_interval,
                slow_down_step=opts.slow_down_step,
                user_name=opts.user_name,
                user_email=opts.user_email,
                error_statuses=opts.oauth_errors,
            )
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:8765/v1 (the bound port once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{PREFIX}"

    @property
    def issuer_url(self) -> str | None:
        """The identity provider's issuer URL, e.g. http://127.0.0.1:8765/ (None without auth)."""
        if self.idp is None:
            return None
        return self.url.removesuffix(PREFIX) + "/"

    def start(self) -> Sandbox:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        self._server = SandboxServer((self.host, self.port), self, quiet=self.quiet)
        self.port = self._server.server_address[1]
        if self.idp is not None and self.issuer_url is not None:
            self.idp.issuer = self.issuer_url
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"exalsius-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end open connections, close the socket and save the state file."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.stop()
        if thread is not None:
            thread.join()
        self.store.flush()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- request handling ---------------------------------------------------------------------

    def dispatch(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes | None
    ) -> Response | None:
        """Count the request, apply latency and faults, then let the API answer it.

        In auth mode the identity provider's routes skip latency and faults (another service),
        and API requests without a valid access token get 401.
        """
        self.log.record(RequestRecord(method, route_name(path), headers, body or b""))
        if self.idp is not None and self.idp.serves(path):
            return self.idp.handle(method, path, query, headers, body)
        if self.latency:
            time.sleep(self.latency)
        fault = self.faults.decide()
        if fault is None:
            denied = self._refuse(path, headers)
            return denied or self.api.handle(method, path, query, headers, body)
        if fault.drop:
            return None
        title = HTTPStatus(fault.status).phrase
        retry_after = fault.retry_after if fault.status in (429, 503) else None
        detail = f"The sandbox injected a {fault.status} answer."
        return problem(fault.status, title, detail, path.removeprefix(PREFIX), retry_after)

    def _refuse(self, path: str, headers: Mapping[str, str]) -> Response | None:
        """The 401 for an API request without a valid access token (auth mode), else None."""
        if self.idp is None or not (path == PREFIX or path.startswith(PREFIX + "/")):
            return None
        return self.idp.refuse(headers, path.removeprefix(PREFIX) or "/")

    # -- test hooks ---------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503, retry_after: int | None = 0) -> None:
        """Answer the next n requests with `status` (problem+json; 503/429 with Retry-After)."""
        self.faults.fail_next(n, status, retry_after)

    def drop_next(self, n: int = 1) -> None:
        """Close the connection without answering on the next n requests."""
        self.faults.drop_next(n)

    def outage(self, on: bool = True) -> None:
        """Answer every request with 503 (Retry-After: retry_after) until outage(False)."""
        self.faults.outage(on)

    def request_count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests received, by method and/or path (route template such as "/workspace/{id}")."""
        return self.log.count(method, path)

    def reset_counts(self) -> None:
        """Forget counted and recorded requests."""
        self.log.reset()

    @property
    def requests(self) -> list[RequestRecord]:
        """The last 10,000 requests as (method, path, headers, body), path as in request_count."""
        return self.log.records()

    def get(self, workspace_id: str) -> dict[str, Any] | None:
        """The workspace as the API currently shows it (never wrapped), or None."""
        return self.store.view(workspace_id)

    def set_status(self, workspace_id: str, status: str) -> None:
        """Force a workspace's status (any string); KeyError if unknown."""
        self.store.set_status(workspace_id, status)

    def add(self, workspace: Mapping[str, Any]) -> str:
        """Insert a workspace given in the API's shape (defaults fill the rest); returns its id."""
        return self.store.add(workspace)

    def auth_counts(self) -> dict[str, int]:
        """Identity provider counters: device_polls, refreshes, revocations, ... (auth mode)."""
        if self.idp is None:
            raise RuntimeError("the sandbox runs without auth")
        return self.idp.counts()

    def __len__(self) -> int:
        return len(self.store)
