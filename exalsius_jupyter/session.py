"""The kernel's session: the ONE owner of the client, its settings, the credential and the sandbox.

The magics change it (``%config Exalsius.*``, ``login``, ``sandbox start``); the widgets and the
magics' commands read their client from it. Nothing else keeps a copy of this state.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from .errors import InsecureTransportError

if TYPE_CHECKING:  # the client (requests, urllib3) is imported when one is first built
    from .api.client import ExalsiusClient
    from .sandbox import Sandbox

# The settings a client is built from; the others (poll_interval, wait_timeout) keep it.
_CLIENT_SETTINGS = frozenset({"api_url", "timeout", "api_key_header"})


@dataclass(frozen=True)
class Settings:
    """What ``%config Exalsius.<name>`` sets; an empty ``api_url`` means the environment."""

    api_url: str = ""
    timeout: float = 10.0
    poll_interval: float = 1.0
    wait_timeout: float = 600.0
    api_key_header: bool = False


class Session:
    """The client of this kernel, built from the settings, the credential and the sandbox.

    Args:
        settings: the initial settings (defaults: the environment, 10 s timeouts).
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self._lock = threading.RLock()
        self._settings = settings or Settings()
        self._token: str | None = None
        self._sandbox: Sandbox | None = None
        self._sandbox_options = ""
        self._client: ExalsiusClient | None = None
        self._pinned = False

    # -- state ------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The current settings."""
        return self._settings

    @property
    def token(self) -> str | None:
        """The token from ``%exalsius login`` (kept in memory only), if any."""
        return self._token

    @property
    def sandbox(self) -> Sandbox | None:
        """The in-process sandbox this session points at, if one runs."""
        return self._sandbox

    @property
    def sandbox_options(self) -> str:
        """How the running sandbox was started, for messages."""
        return self._sandbox_options

    def configure(self, **changes: Any) -> None:
        """Change settings; if the endpoint or the timeout changed, the client is rebuilt."""
        unknown = set(changes) - {f.name for f in fields(Settings)}
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        with self._lock:
            before = self._settings
            self._settings = replace(before, **changes)
            if any(getattr(before, k) != getattr(self._settings, k)
                   for k in _CLIENT_SETTINGS & set(changes)):
                self._drop_client()

    def set_token(self, token: str | None) -> None:
        """Use ``token`` (None: forget it) for the configured endpoint."""
        with self._lock:
            self._token = token or None
            self._drop_client()

    def attach_sandbox(self, sandbox: Sandbox, options: str) -> None:
        """Point the session at a started sandbox (no token is sent to it)."""
        with self._lock:
            self._sandbox, self._sandbox_options = sandbox, options
            self._drop_client()

    def detach_sandbox(self) -> Sandbox | None:
        """Forget the sandbox (the caller stops it); the configured endpoint applies again."""
        with self._lock:
            sandbox, self._sandbox, self._sandbox_options = self._sandbox, None, ""
            self._drop_client()
        return sandbox

    def pin_client(self, client: ExalsiusClient | None) -> None:
        """Use ``client`` as is until the settings change (None: build from the settings)."""
        with self._lock:
            self._drop_client()
            self._client, self._pinned = client, client is not None

    # -- the client ---------------------------------------------------------------------

    def client(self) -> ExalsiusClient:
        """The client for the current state, built on first use; raises why it cannot be."""
        with self._lock:
            if self._client is None:
                self._client = self.build_client()
            return self._client

    def build_client(self, api_url: str | None = None) -> ExalsiusClient:
        """A new client from the state (``api_url`` overrides the setting, for validation)."""
        from .api.client import ExalsiusClient

        timeout = self._settings.timeout
        if self._sandbox is not None and api_url is None:
            return ExalsiusClient(self._sandbox.url, "", timeout=timeout)
        url = (api_url if api_url is not None else self._settings.api_url) or None
        try:
            return ExalsiusClient(url, self._token, timeout=timeout,
                                  api_key_header=self._settings.api_key_header)
        except InsecureTransportError as err:
            raise InsecureTransportError(
                f"refusing to send credentials over plain http:// to {err.host}; use an "
                "https:// URL (%config Exalsius.api_url or EXALSIUS_API_URL), or %exalsius "
                "logout / unset EXALSIUS_TOKEN for a server without a token",
                host=err.host) from None

    def endpoint(self) -> str:
        """The endpoint the settings name, whether or not a client can be built for it."""
        from .api.client import DEFAULT_API_URL

        if self._sandbox is not None:
            return self._sandbox.url
        return self._settings.api_url or os.environ.get("EXALSIUS_API_URL") or DEFAULT_API_URL

    def endpoint_source(self) -> str:
        """Where the endpoint comes from, for ``%exalsius config``."""
        if self._sandbox is not None:
            return "the in-process sandbox"
        if self._settings.api_url:
            return "%config Exalsius.api_url"
        if os.environ.get("EXALSIUS_API_URL"):
            return "EXALSIUS_API_URL"
        return "default"

    def close(self) -> None:
        """Stop the sandbox and close the client this session built."""
        sandbox = self.detach_sandbox()
        if sandbox is not None:
            sandbox.stop()
        with self._lock:
            self._drop_client()

    def reset(self) -> None:
        """A fresh session: stop the sandbox, close the client, forget the token and settings."""
        self.close()
        with self._lock:
            self._settings = Settings()
            self._token = None
            self._drop_client()

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None and not self._pinned:
            client.close()
        self._pinned = False


_lock = threading.Lock()
_current: Session | None = None


def current_session() -> Session:
    """The kernel's session, created from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = Session()
        return _current


def get_client() -> ExalsiusClient:
    """The kernel's client: what the magics configure and the widgets use by default."""
    return current_session().client()


def set_client(client: ExalsiusClient | None) -> None:
    """Make ``client`` the default for magics and widgets (None: rebuild from the settings)."""
    current_session().pin_client(client)
