"""The kernel's current client: what the magics configure and the widgets use by default."""

from __future__ import annotations

import threading

from .api.client import ExalsiusClient

_lock = threading.Lock()
_current: ExalsiusClient | None = None


def get_client() -> ExalsiusClient:
    """The configured client, created from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = ExalsiusClient()
        return _current


def set_client(client: ExalsiusClient | None) -> None:
    """Make ``client`` the default for magics and widgets (None: rebuild from the environment)."""
    global _current
    with _lock:
        old, _current = _current, client
    if old is not None and old is not client:
        old.close()
