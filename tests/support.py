"""Test helpers shared by the core tests: ../shared specs, a canned HTTP server, a valid spec."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
IN_CI = os.environ.get("CI", "").strip().lower() == "true"
# Where Jupyter and IPython keep config, data and state: tests point each at a temporary folder.
JUPYTER_DIRS = (
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_DATA_DIR",
    "JUPYTER_RUNTIME_DIR",
    "IPYTHONDIR",
    "JUPYTERLAB_SETTINGS_DIR",
    "JUPYTERLAB_WORKSPACES_DIR",
)
A100_CLUSTER = "11111111-1111-4111-8111-111111111111"
# The browser tests' cell that shows a CreationProgress of two creations ({ok}, {bad}: bodies).
PROGRESS_CELL = """\
from exalsius_jupyter import CreationProgress
from exalsius_jupyter.session import get_client
client = get_client()
ok = client.create_workspace({ok})
bad = client.create_workspace({bad})
progress = CreationProgress([ok, bad], interval=0.25)
progress"""


def create_source(name: str, gpus: int = 1) -> str:
    """Python source of a create body for the demo A100 cluster (the browser tests' cells)."""
    return repr({"name": name, "cluster_id": A100_CLUSTER,
                 "template": {"name": "jupyter-notebook", "variables": {}},
                 "resources": {"gpu_count": gpus, "gpu_type": "A100", "cpu_cores": 4,
                               "memory_gb": 16, "storage_gb": 50}})


AUTH_POLL = 0.2  # seconds: the device-flow polling interval of the auth sandboxes in tests


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skips (or, with CI=true, fails) when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"{path} is absent (the specs live beside the repo, in ../shared)"
        if IN_CI:
            pytest.fail(reason + "; CI=true requires it")
        pytest.skip(reason)
    return path


def load_spec(version: str) -> dict[str, Any]:
    """The parsed ../shared/openapi/workspaces-<version>.yaml (PyYAML)."""
    import yaml

    with shared_path("openapi", f"workspaces-{version}.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


SLACK = 2.0  # scheduling slack on a busy two-core machine, on top of a documented bound


# -- a canned HTTP server: real HTTP on 127.0.0.1 answering scripted bodies --------------


@dataclass
class Canned:
    """One scripted answer; ``truncate`` sends that many bytes fewer than Content-Length.

    ``stall`` waits that many seconds after the (partial) body before closing the connection.
    """

    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    truncate: int = 0
    stall: float = 0.0


@dataclass
class Seen:
    """One request the canned server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class CannedServer:
    """Answers queued ``Canned`` replies in order, repeating the last; records every request."""

    def __init__(self) -> None:
        self.replies: list[Canned] = []
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        """Base URL with the API's version path."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def reply(self, *replies: Canned) -> CannedServer:
        """Queue replies (the last one repeats)."""
        with self._lock:
            self.replies.extend(replies)
        return self

    def json(self, body: Any, status: int = 200, **headers: str) -> CannedServer:
        """Queue one JSON reply."""
        hdrs = {"Content-Type": "application/json", **headers}
        return self.reply(Canned(status, json.dumps(body).encode(), hdrs))

    def count(self, method: str | None = None) -> int:
        """Requests received (of one method)."""
        return sum(1 for r in self.requests if method is None or r.method == method)

    def _next(self) -> Canned:
        with self._lock:
            if not self.replies:
                return Canned(500, b"no canned reply queued")
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    Seen(self.command, self.path, dict(self.headers.items()), body))
                canned = server._next()
                raw = canned.body
                if isinstance(raw, str):
                    raw = raw.encode("utf-8")
                elif not isinstance(raw, bytes):
                    raw = json.dumps(raw).encode("utf-8")
                self.send_response(canned.status)
                for key, value in canned.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(raw)))
                if canned.truncate:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(raw[: len(raw) - canned.truncate] if canned.truncate else raw)
                self.wfile.flush()
                time.sleep(canned.stall)

            do_GET = do_POST = do_DELETE = do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> CannedServer:
        """Serve in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut down and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class SocketServer:
    """A raw TCP server on ``host`` that hands each connection to ``handle`` in a thread.

    For servers that misbehave below HTTP (drip, stall, drop); ``close()`` stops it.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}/v1"
        self.stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.handle(conn)
            except OSError:
                return

    def handle(self, conn: socket.socket) -> None:
        """Serve one connection (subclasses)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop accepting and close the listening socket."""
        self.stopped.set()
        self._thread.join(2)
        self.sock.close()


class DrippingServer(SocketServer):
    """Answers every request 200 with one byte every ``every`` seconds (never slow enough for a
    read timeout), in the headers or in the body (``phase``)."""

    def __init__(self, phase: str, every: float = 0.2) -> None:
        self.phase, self.every = phase, every
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        conn.recv(65536)
        self.drip(conn)

    def drip(self, conn: socket.socket) -> None:
        """Send the dripping answer on ``conn`` until it is done or the server stops."""
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9999\r\n\r\n"
        payload = head + b"[" * 9999 if self.phase == "headers" else b"[" * 9999
        if self.phase == "body":
            conn.sendall(head)
        for byte in payload:
            if self.stopped.wait(self.every):
                return
            conn.sendall(bytes([byte]))


def load_contract(spec: Path, mode: str, max_examples: int) -> Any:
    """A schemathesis schema of ``spec`` for one generation ``mode``: seeded, bounded, no DB."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    config = SchemathesisConfig.from_dict(
        {
            "seed": 20250101,
            "generation": {"mode": mode, "max-examples": max_examples, "database": "none"},
        }
    )
    return schemathesis.openapi.from_path(spec, config=config)


def free_port() -> int:
    """A free 127.0.0.1 port: bound, then released, so nothing listens on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_spec(**overrides: Any) -> dict[str, Any]:
    """A valid create body for the sandbox's demo A100 cluster."""
    spec: dict[str, Any] = {
        "name": "nb-1",
        "cluster_id": A100_CLUSTER,
        "template": {"name": "jupyter-notebook", "variables": {"notebook_port": "8888"}},
        "resources": {"gpu_count": 1, "gpu_type": "A100", "cpu_cores": 4, "memory_gb": 16,
                      "storage_gb": 50},
    }
    spec.update(overrides)
    return spec


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Poll ``predicate`` until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


def count_sends(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The widget of every update message sent from now on (one entry per comm message)."""
    import ipywidgets as widgets

    sent: list[Any] = []
    original = widgets.Widget._send

    def counting(self: Any, msg: dict[str, Any], buffers: Any = None) -> None:
        sent.append(self)
        original(self, msg, buffers)

    monkeypatch.setattr(widgets.Widget, "_send", counting)
    return sent
