"""The HTTP layer: a threading HTTP/1.1 server handing each request to a dispatcher."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from .accounting import Headers
from .api import MAX_BODY, PREFIX, Response, problem
from .guard import PEER_HEADER

logger = logging.getLogger("exalsius_jupyter.sandbox")
DRAIN_LIMIT = 4 * 1024 * 1024  # unread bytes of a refused body discarded before closing
DRAIN_TIMEOUT = 1.0
IDENTITY_HEADER = ("X-Exalsius-Sandbox", "1")  # on every answer: clients can tell the sandbox


class Dispatcher(Protocol):
    """Whatever answers a parsed request; None means drop the connection without answering."""

    def dispatch(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes | None
    ) -> Response | None:
        """Answer one request."""


class SandboxServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer (daemon threads) that can close its open connections on stop."""

    daemon_threads = True
    request_queue_size = 128  # many clients connecting at once must not be reset

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher, *, quiet: bool) -> None:
        self.dispatcher = dispatcher
        self.quiet = quiet
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Serve one connection, tracking it so close_connections() can end it."""
        with self._open_lock:
            self._open.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)

    def stop(self) -> None:
        """End serve_forever at once (waking its poll), close open connections and the socket."""
        stopper = threading.Thread(target=self.shutdown)
        stopper.start()
        address = (str(self.server_address[0]), self.server_address[1])
        while stopper.is_alive():
            with contextlib.suppress(OSError):
                socket.create_connection(address, timeout=0.2).close()
            stopper.join(0.01)
        self.close_connections()
        self.server_close()

    def close_connections(self) -> None:
        """Shut down every open keep-alive connection so its thread ends."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a connection's failure (usually the client went away) instead of printing it."""
        logger.debug("connection from %s failed", client_address, exc_info=True)


class Handler(BaseHTTPRequestHandler):
    """Reads a request (bounded body), dispatches it, writes the answer with Content-Length."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server_version = "exalsius-sandbox"
    sys_version = ""
    timeout = 120.0  # seconds an idle keep-alive connection is kept
    server: SandboxServer

    def version_string(self) -> str:
        """The Server header."""
        return self.server_version

    def send_response(self, code: int, message: str | None = None) -> None:
        """Start an answer, http.server's own error pages included, marked as the sandbox's."""
        super().send_response(code, message)
        self.send_header(*IDENTITY_HEADER)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """Send the access log to the sandbox logger (DEBUG when quiet)."""
        level = logging.DEBUG if self.server.quiet else logging.INFO
        logger.log(level, "%s %s", self.address_string(), format % args)

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            n = int(self.rfile.readline(1024).split(b";")[0].strip() or b"x", 16)
            if n == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return b"".join(chunks)
            size += n
            if size > MAX_BODY:
                return None
            chunks.append(self.rfile.read(n))
            self.rfile.readline(1024)

    def _read_body(self) -> tuple[bytes | None, int]:
        """The body (None if over MAX_BODY) and how many bytes were left unread (-1: unknown)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = self._read_chunked()
            return body, 0 if body is not None else -1
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError(length)
        if length > MAX_BODY:
            return None, length
        return self.rfile.read(length), 0

    def _serve(self) -> None:
        split = urlsplit(self.path)
        try:
            body, unread = self._read_body()
        except ValueError:
            detail = "The request's Content-Length or chunked encoding is invalid."
            instance = split.path.removeprefix(PREFIX)
            self._send(problem(400, "Bad Request", detail, instance), close=True)
            return
        try:
            headers = Headers((k, v) for k, v in self.headers.items()
                              if k.lower() != PEER_HEADER.lower())
            headers[PEER_HEADER.lower()] = str(self.client_address[0])
            response = self.server.dispatcher.dispatch(
                self.command, split.path, split.query, headers, body
            )
        except Exception as exc:
            instance = split.path.removeprefix(PREFIX)
            if isinstance(exc, RecursionError) and body:  # a route that decoded JSON by itself
                detail = "The request body is nested too deeply."
                response = problem(400, "Bad Request", detail, instance)
            else:
                logger.exception("sandbox failed on %s %s", self.command, self.path)
                detail = "An internal server error occurred while processing the request."
                response = problem(500, "Internal Server Error", detail, instance)
        if response is None:
            self.close_connection = True
            return
        self._send(response, close=unread != 0)
        if unread > 0:
            self._drain(unread)

    def _send(self, response: Response, *, close: bool = False) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        self.wfile.flush()

    def _drain(self, unread: int) -> None:
        """Discard (never buffer) part of a refused body so the client can read the answer."""
        self.connection.settimeout(DRAIN_TIMEOUT)
        left = min(unread, DRAIN_LIMIT)
        with contextlib.suppress(OSError):
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
