"""Sign-in bounds, measured: how long calls take when the identity provider or a token command
misbehaves, against the call's deadline.

Usage: ``python bench/sign_in.py``. Every line prints the case, the seconds each call took, the
deadline, the error each call ended with, and PASS when every call ended within the deadline
(plus 0.5 s of scheduling slack). A measurement, not a test: the exit code is always 0.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from canned import Quiet  # noqa: E402

from exalsius_jupyter.api.client import ExalsiusClient  # noqa: E402
from exalsius_jupyter.auth.command import CommandToken  # noqa: E402
from exalsius_jupyter.auth.renewal import RenewingTokens  # noqa: E402
from exalsius_jupyter.auth.settings import AuthSettings  # noqa: E402
from exalsius_jupyter.auth.tokens import Tokens  # noqa: E402

TIMEOUT = 1.0  # the API timeout: a 3 s deadline per call
SLACK = 0.5


class Provider:
    """A TCP server on 127.0.0.1 that hangs, or drips one byte every 0.5 s."""

    def __init__(self, how: str) -> None:
        self.how = how
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            if self.how == "hangs":
                self.stop.wait(60)
                return
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n" + b"x" * 99999:
                if self.stop.wait(0.5):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


class Api(Quiet):
    """An API that lists nothing (it is never reached when the credential cannot be had)."""

    def do_GET(self) -> None:
        self.answer(b'{"workspaces": []}')


def concurrent(client: ExalsiusClient, calls: int) -> list[tuple[float, str]]:
    """``calls`` list calls at once, each on its own clone: (seconds, outcome)."""
    out: list[tuple[float, str]] = []
    barrier = threading.Barrier(calls)

    def one() -> None:
        mine = client.clone()
        barrier.wait()
        began = time.monotonic()
        try:
            mine.list_workspaces()
            outcome = "ok"
        except Exception as exc:
            outcome = type(exc).__name__
        out.append((time.monotonic() - began, outcome))

    threads = [threading.Thread(target=one) for _ in range(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def report(case: str, results: list[tuple[float, str]], bound: float) -> None:
    seconds = ", ".join(f"{s:.2f}" for s, _ in sorted(results))
    outcomes = sorted({o for _, o in results})
    verdict = "PASS" if all(s <= bound + SLACK for s, _ in results) else "MISS"
    print(f"{case:<44} {seconds:<18} deadline {bound:.1f} s  {'/'.join(outcomes):<24} {verdict}")


def expired() -> Tokens:
    now = datetime.now(timezone.utc)
    return Tokens("AT-expired", "RT-refresh", None, now - timedelta(minutes=1),
                  now - timedelta(hours=1))


def main() -> None:
    api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{api.server_address[1]}/v1"
    cases: list[tuple[str, Callable[[], ExalsiusClient]]] = []
    providers = []
    for how in ("hangs", "drips"):
        provider = Provider(how)
        providers.append(provider)
        settings = AuthSettings(issuer=f"http://127.0.0.1:{provider.port}/", timeout=10)
        cases.append((f"renewal, provider {how}, 2 calls at once",
                      lambda s=settings: ExalsiusClient(url, token=RenewingTokens(expired(), s),
                                                        timeout=TIMEOUT)))
    with tempfile.TemporaryDirectory() as tmp:
        slow = Path(tmp, "slow.py")
        slow.write_text("import time; time.sleep(6); print('tok')")
        huge = Path(tmp, "huge.py")
        huge.write_text("import sys\nfor _ in range(400): sys.stdout.write('a' * 262144)\n")
        cases.append(("token_command sleeping 6 s (timeout 10 s)",
                      lambda: ExalsiusClient(url, token=CommandToken(
                          [sys.executable, str(slow)], timeout=10), timeout=TIMEOUT)))
        cases.append(("token_command printing 100 MB",
                      lambda: ExalsiusClient(url, token=CommandToken(
                          [sys.executable, str(huge)], timeout=10), timeout=TIMEOUT)))
        for case, make in cases:
            client = make()
            calls = 2 if case.startswith("renewal") else 1
            report(case, concurrent(client, calls), client.deadline)
    for provider in providers:
        provider.close()
    api.shutdown()


if __name__ == "__main__":
    main()
