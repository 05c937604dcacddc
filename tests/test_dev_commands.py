"""`python3 dev.py`: the `lab` and `notebook` smoke tests (JupyterLab or Notebook 7 and the sandbox
answer, then stop on a signal) and the install step of `ensure_venv` (extras, dependency groups,
the stamp).

dev.py runs with EXALSIUS_DEV_VENV=sys.prefix, so it uses this test's own environment (under
`dev.py test` that is .venv, whose stamp already covers the lab extra: nothing is installed).
A clean stop is exit code 0 for SIGINT (Ctrl-C) and SIGTERM alike.
"""

from __future__ import annotations

import importlib.util
import json
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
from types import ModuleType
from typing import Any

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


def page_config(url: str) -> dict[str, Any]:
    """The `jupyter-config-data` JSON of the HTML page at `url` (JupyterLab and Notebook 7)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        html = response.read().decode()
    match = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                      html, re.S)  # fmt: skip
    assert match, f"{url} has no jupyter-config-data:\n{html[:2000]}"
    return json.loads(match.group(1))


def _ignore_sigint() -> None:
    """Start the child as a shell starts a background job: with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="needs a virtual environment")
@pytest.mark.parametrize(
    ("command", "signum", "background"),
    [
        ("lab", signal.SIGINT, False),
        ("lab", signal.SIGTERM, False),
        ("lab", signal.SIGINT, True),
        ("notebook", signal.SIGINT, False),
        ("notebook", signal.SIGTERM, False),
    ],
    ids=["lab-SIGINT", "lab-SIGTERM", "lab-SIGINT-background-job", "notebook-SIGINT",
         "notebook-SIGTERM"],
)  # fmt: skip
def test_dev_serves_and_stops_cleanly(
    command: str, signum: signal.Signals, background: bool, tmp_path: Path
) -> None:
    """`dev.py lab` (JupyterLab) and `dev.py notebook` (Notebook 7) serve the front end and the
    sandbox on 127.0.0.1 and stop both on a signal."""
    ready, page, app_name = {
        "lab": ("JupyterLab", "/lab/tree/quickstart.ipynb", "JupyterLab"),
        "notebook": ("Jupyter Notebook", "/notebooks/quickstart.ipynb", "Jupyter Notebook"),
    }[command]
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "EXALSIUS_DEV_VENV": sys.prefix}
    env.update({name: str(tmp_path / name.lower()) for name in JUPYTER_DIRS})
    cmd = [sys.executable, str(ROOT / "dev.py"), command, "--no-browser"]
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
        url = wait_line(rf"{ready} is ready: (http://127\.0\.0\.1:{port}\S*)").group(1)
        assert url == f"http://127.0.0.1:{port}{page}?token={token}"
        assert http_status(f"http://127.0.0.1:{port}/api/status?token={token}") == 200
        assert page_config(url)["appName"] == app_name, f"{url} is not {app_name}'s page"
        assert http_status(f"{api_url.rstrip('/')}/workspaces") == 200
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == 0, "".join(output)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "[dev] stopped" in "".join(output)
    assert not port_open(port), f"{ready} still listens"
    assert not port_open(api_port), "the sandbox still listens"


def load_dev() -> ModuleType:
    """dev.py as a module (it is a script beside the package, not importable by name)."""
    spec = importlib.util.spec_from_file_location("dev_under_test", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, list[list[str]]]:
    """dev.py with a stand-in environment: its python "works", pip is 26.0, and the pip
    commands are recorded instead of run."""
    dev = load_dev()
    calls: list[list[str]] = []

    def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append([str(part) for part in cmd])
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(dev, "_works", lambda python: True)
    monkeypatch.setattr(dev, "_pip_version", lambda python: (26, 0))
    monkeypatch.setattr(dev.subprocess, "run", run)
    (tmp_path / "pyvenv.cfg").write_text("")
    return dev, calls


def test_ensure_venv_installs_the_extras_and_the_dependency_group_once(
    fake_env: tuple[ModuleType, list[list[str]]], tmp_path: Path
) -> None:
    """`dev.py test` installs `.[lab]` plus `--group test`, stamps both, and skips the install
    while pyproject.toml and the stamp still match (also for `dev.py lab`, a subset)."""
    dev, calls = fake_env
    dev.ensure_venv(tmp_path, {"lab"}, {"test"})
    assert len(calls) == 1
    assert calls[0][-4:] == ["-e", ".[lab]", "--group", "test"]
    stamp = json.loads((tmp_path / dev.STAMP).read_text())
    assert stamp["extras"] == ["lab"] and stamp["groups"] == ["test"]
    dev.ensure_venv(tmp_path, {"lab"}, {"test"})
    dev.ensure_venv(tmp_path, {"lab"}, set())
    assert len(calls) == 1, calls

    stamp["pyproject"] = "an older pyproject.toml"
    (tmp_path / dev.STAMP).write_text(json.dumps(stamp))
    dev.ensure_venv(tmp_path, {"lab"}, set())
    assert calls[-1][-2:] == ["-e", ".[lab]"] and len(calls) == 2
    # the `lab` install's stamp has no groups, so `dev.py test` installs again
    dev.ensure_venv(tmp_path, {"lab"}, {"test"})
    assert calls[-1][-2:] == ["--group", "test"] and len(calls) == 3


def test_ensure_venv_upgrades_a_pip_without_dependency_groups(
    fake_env: tuple[ModuleType, list[list[str]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An existing environment (--venv) whose pip predates `--group` (25.1) gets pip upgraded."""
    dev, calls = fake_env
    monkeypatch.setattr(dev, "_pip_version", lambda python: (24, 2))
    dev.ensure_venv(tmp_path, {"lab"}, {"test"})
    assert calls[0][-1] == "pip>=25.1"
    assert calls[1][-2:] == ["--group", "test"]


def test_pip_version_of_this_environment() -> None:
    """`_pip_version` reads `pip --version` of an interpreter."""
    version = load_dev()._pip_version(Path(sys.executable))
    assert len(version) == 2 and version >= (20, 0)
