"""exalsius-jupyter: magics, widgets and a client for the exalsius Workspaces API.

Public names are imported lazily, so ``import exalsius_jupyter`` and ``%load_ext`` stay cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

_LAZY = {
    "ExalsiusClient": "api.client",
    "ExalsiusError": "errors",
    "ApiError": "errors",
    "BadRequestError": "errors",
    "AuthenticationError": "errors",
    "NotFoundError": "errors",
    "ConflictError": "errors",
    "ServerError": "errors",
    "NotSupportedError": "errors",
    "TransportError": "errors",
    "ConnectionFailedError": "errors",
    "RequestTimeoutError": "errors",
    "InvalidResponseError": "errors",
    "ValidationError": "errors",
    "InsecureTransportError": "errors",
    "UnknownOutcomeError": "errors",
    "WorkspaceFailedError": "errors",
    "WaitTimeoutError": "errors",
    "Workspace": "model.workspace",
    "WorkspaceList": "model.workspace",
    "WorkspaceStatus": "model.workspace",
    "WorkspaceTemplate": "model.workspace",
    "ResourcePool": "model.workspace",
    "WorkspaceWatcher": "watch",
    "wait_for_workspaces": "watch",
    "WorkspacePanel": "widgets",
    "CreationProgress": "widgets",
    "Sandbox": "sandbox",
}

__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension", *_LAZY]


def __getattr__(name: str) -> Any:
    """Import public names on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the %exalsius magics (``%load_ext exalsius_jupyter``)."""
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """Remove the magics and stop what they started (``%unload_ext exalsius_jupyter``)."""
    from .magics import unregister

    unregister(ipython)
