"""A quiet handler for the benches' canned servers (127.0.0.1 only): one answer, no logging."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any


class Quiet(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, headers and body sent at once, nothing logged."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms delayed ACK
    wbufsize = 1 << 16

    def answer(self, body: bytes, status: int = 200,
               content_type: str = "application/json") -> None:
        """Send ``body`` whole, with its length."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
