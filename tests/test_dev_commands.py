"""Smoke test of `python3 dev.py lab`: JupyterLab and the sandbox answer, then stop on a signal.

dev.py runs with EXALSIUS_DEV_VENV=sys.prefix, so it uses this test's own environment (under
`dev.py test` that is .venv, whose stamp already covers the lab extra: nothing is installed).
A clean stop is exit code 0 for SIGINT (Ctrl-C) and SIGTERM alike.
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support import JUPYTER_DIRS, free_port

ROOT = Path(__file__).resolve().parents[1]


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_status(url: str) -> int:
    """GET `url` and return the HTTP status (0 if nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _ignore_sigint() -> None:
    """Start the child as a shell starts a background job: with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="needs a virtual environment")
@pytest.mark.parametrize(
    ("signum", "background"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["SIGINT", "SIGTERM", "SIGINT-background-job"],
)
def test_dev_lab_serves_and_stops_cleanly(
    signum: signal.Signals, background: bool, tmp_path: Path
) -> None:
    """`dev.py lab` serves JupyterLab and the sandbox on 127.0.0.1 and stops both on a signal."""
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "EXALSIUS_DEV_VENV": sys.prefix}
    env.update({name: str(tmp_path / name.lower()) for name in JUPYTER_DIRS})
    cmd = [sys.executable, str(ROOT / "dev.py"), "lab", "--no-browser"]
    cmd += ["--port", str(port), "--token", token]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, preexec_fn=_ignore_sigint if background else None,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()

    def wait_line(pattern: str, timeout: float = 120) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                assert proc.poll() is None, f"dev.py exited early:\n{''.join(output)}"
                continue
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no line matching {pattern!r}:\n{''.join(output)}")

    try:
        api_url = wait_line(r"sandbox API: (http://127\.0\.0\.1:\d+/\S*)").group(1)
        api_port = int(re.search(r":(\d+)/", api_url).group(1))  # type: ignore[union-attr]
        wait_line(r"JupyterLab is ready: http://127\.0\.0\.1:")
        assert http_status(f"http://127.0.0.1:{port}/api/status?token={token}") == 200
        assert http_status(f"{api_url.rstrip('/')}/workspaces") == 200
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == 0, "".join(output)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "[dev] stopped" in "".join(output)
    assert not port_open(port), "JupyterLab still listens"
    assert not port_open(api_port), "the sandbox still listens"
