"""Shared fixtures: a started sandbox, a client on it, ../shared, a canned HTTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from support import AUTH_POLL, CannedServer, DrippingServer, shared_path

if TYPE_CHECKING:
    from exalsius_jupyter.api.client import ExalsiusClient
    from exalsius_jupyter.sandbox import Sandbox


@pytest.fixture
def shared_dir() -> Path:
    """The ../shared directory beside the repo (skip when absent, fail under CI=true)."""
    return shared_path()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A started sandbox with a fast lifecycle, stopped after the test."""
    from exalsius_jupyter.sandbox import Sandbox

    with Sandbox(pending_seconds=0.2, deleted_ttl=0.5, seed=1) as sb:
        yield sb


@pytest.fixture
def live_like() -> Iterator[Sandbox]:
    """A sandbox answering as the live API (1.46), with its catalogue."""
    from exalsius_jupyter.sandbox import Sandbox

    with Sandbox(api="1.46", pending_seconds=0.2, deleted_ttl=0.5, seed=3) as sb:
        yield sb


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with any options (``factory(**kwargs)``); all are stopped after the test."""
    from exalsius_jupyter.sandbox import Sandbox

    started: list[Sandbox] = []

    def factory(**kwargs: Any) -> Sandbox:
        sb = Sandbox(**kwargs).start()
        started.append(sb)
        return sb

    yield factory
    for sb in started:
        sb.stop()


@pytest.fixture
def auth_sandbox_factory(
        sandbox_factory: Callable[..., Sandbox]) -> Callable[..., Sandbox]:
    """Start sandboxes that play the identity provider, polled fast; stopped after the test."""

    def factory(**kwargs: Any) -> Sandbox:
        return sandbox_factory(**{"auth": True, "device_interval": AUTH_POLL, **kwargs})

    return factory


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[ExalsiusClient]:
    """A client pointed at the sandbox."""
    from exalsius_jupyter.api.client import ExalsiusClient

    with ExalsiusClient(sandbox.url, timeout=5) as c:
        yield c


@pytest.fixture
def canned() -> Iterator[CannedServer]:
    """A started canned HTTP server on 127.0.0.1, stopped after the test."""
    server = CannedServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["headers", "body"])
def dripping(request: pytest.FixtureRequest) -> Iterator[DrippingServer]:
    """A server dripping its answer (in the headers or in the body), closed after the test."""
    server = DrippingServer(request.param)
    try:
        yield server
    finally:
        server.close()
