#!/usr/bin/env python3
"""Developer commands for exalsius-jupyter; needs only Python 3.10+ and its standard library.

    python3 dev.py lab [--no-browser] [--port N] [--token T]
        JupyterLab on notebooks/quickstart.ipynb, backed by the embedded sandbox API.
    python3 dev.py notebook [--no-browser] [--port N] [--token T]
        The same in Jupyter Notebook 7 instead of JupyterLab.
    python3 dev.py test [pytest args...]
        ruff, mypy, then pytest over tests/ and (with nbval) notebooks/.

Each creates or updates the virtual environment `.venv` first. `--venv PATH` (before the command)
or the environment variable EXALSIUS_DEV_VENV selects another environment, e.g. an existing one.
The editable install (`.[lab]`, plus the dependency group `test` for `dev.py test`) is skipped
while the stamp file in the environment matches pyproject.toml.
`dev.py lab` and `dev.py notebook` exit 0 when stopped with Ctrl-C or SIGTERM after both children
have stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import venv
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent
NOTEBOOKS = ROOT / "notebooks"
QUICKSTART = "quickstart.ipynb"
STAMP = ".exalsius-dev-stamp"
DEFAULT_PORT = 8888
PIP_GROUPS = (25, 1)  # the first pip with `install --group` (PEP 735 dependency groups)


class FrontEnd(NamedTuple):
    """A Jupyter front end that `dev.py` serves: `jupyter APP`, its name and its URLs."""

    app: str
    title: str
    notebook_url: str  # prefix of a notebook's page: notebook_url + "quickstart.ipynb"
    home_url: str


FRONT_ENDS = {
    "lab": FrontEnd("lab", "JupyterLab", "/lab/tree/", "/lab"),
    "notebook": FrontEnd("notebook", "Jupyter Notebook", "/notebooks/", "/tree"),
}


def log(message: str) -> None:
    """Print a dev.py status line."""
    print(f"[dev] {message}", flush=True)


def venv_python(env_dir: Path) -> Path:
    """Return the interpreter of the virtual environment `env_dir`."""
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _works(python: Path) -> bool:
    return python.exists() and subprocess.call([str(python), "-c", ""]) == 0


def _pip_version(python: Path) -> tuple[int, ...]:
    """Return the version of pip in the environment of `python`, e.g. (25, 1)."""
    out = subprocess.run(
        [str(python), "-m", "pip", "--version"], capture_output=True, text=True, check=True
    ).stdout
    return tuple(int(part) for part in out.split()[1].split(".")[:2] if part.isdigit())


def ensure_venv(env_dir: Path, extras: set[str], groups: set[str]) -> Path:
    """Create `env_dir` if needed and pip-install the project with `extras` and the dependency
    `groups` of pyproject.toml (PEP 735); return its python."""
    python = venv_python(env_dir)
    if not _works(python):
        if env_dir.exists() and any(env_dir.iterdir()) and not (env_dir / "pyvenv.cfg").exists():
            raise SystemExit(f"[dev] {env_dir} is not a virtual environment; not touching it")
        log(f"creating virtual environment {env_dir}")
        try:
            venv.EnvBuilder(with_pip=True, clear=True, upgrade_deps=True).create(env_dir)
        except subprocess.CalledProcessError:
            log("creating the venv failed (on Debian/Ubuntu: apt-get install python3-venv)")
            raise
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp_file = env_dir / STAMP
    try:
        stamp = json.loads(stamp_file.read_text())
    except (OSError, ValueError):
        stamp = {}
    if (
        stamp.get("pyproject") == digest
        and extras <= set(stamp.get("extras", []))
        and groups <= set(stamp.get("groups", []))
    ):
        return python
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if groups and _pip_version(python) < PIP_GROUPS:
        # an existing environment (--venv) may have a pip that predates `--group`
        log(f"upgrading pip in {env_dir} (--group needs pip >= 25.1)")
        subprocess.run([*pip, f"pip>={'.'.join(map(str, PIP_GROUPS))}"], cwd=ROOT, check=True)
    spec = f".[{','.join(sorted(extras))}]" if extras else "."
    group_args = [arg for group in sorted(groups) for arg in ("--group", group)]
    shown = " ".join([f"-e '{spec}'", *group_args])
    log(f"pip install {shown} into {env_dir} (the first time takes a minute or two)")
    subprocess.run([*pip, "-e", spec, *group_args], cwd=ROOT, check=True)
    stamp = {"pyproject": digest, "extras": sorted(extras), "groups": sorted(groups)}
    stamp_file.write_text(json.dumps(stamp) + "\n")
    return python


def free_port(preferred: int = 0) -> int:
    """Return `preferred` if it is free on 127.0.0.1, else a random free port."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def start_sandbox(python: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Start the embedded sandbox API on a random port; return the process and its base URL."""
    cmd = [str(python), "-m", "exalsius_jupyter.sandbox", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for index, line in enumerate(proc.stdout):
            if index == 0:
                lines.put(line.strip())
            else:
                print(f"[sandbox] {line}", end="", flush=True)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    try:
        url = lines.get(timeout=60)
    except queue.Empty:
        url = ""
    except BaseException:
        stop(proc, "sandbox")
        raise
    if not url.startswith("http"):
        stop(proc, "sandbox")
        raise RuntimeError(f"the sandbox did not print its URL (first line: {url!r})")
    return proc, url


def wait_http(url: str, proc: subprocess.Popen[str], timeout: float = 120) -> bool:
    """Poll `url` until it answers 200; False if `proc` exits or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def stop(proc: subprocess.Popen[str] | None, name: str, timeout: float = 20) -> None:
    """Terminate `proc` (SIGTERM), then kill its process group if it does not exit in time."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        log(f"{name} did not stop within {timeout:.0f} s; killing it")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(python: Path, argv: list[str], command: str) -> int:
    """Run the sandbox and the front end FRONT_ENDS[`command`] (JupyterLab for "lab", Notebook 7
    for "notebook") on the quickstart notebook until Ctrl-C or SIGTERM."""
    front = FRONT_ENDS[command]
    parser = argparse.ArgumentParser(prog=f"dev.py {command}")
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    parser.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT} if free)")
    parser.add_argument("--token", help="Jupyter token (default: random)")
    args = parser.parse_args(argv)
    port = args.port or free_port(DEFAULT_PORT)
    token = args.token or secrets.token_hex(16)
    bin_dir = str(python.parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    # Also SIGINT: a shell starts background jobs with it ignored, and Python keeps that.
    # SIGHUP: the terminal went away. Each stops Jupyter and the sandbox cleanly.
    for signum in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            signal.signal(signum, _interrupt)
    sandbox = jupyter = None
    code = 0
    try:
        sandbox, api_url = start_sandbox(python, env)
        log(f"sandbox API: {api_url}")
        env.update(EXALSIUS_API_URL=api_url, EXALSIUS_SANDBOX="1")
        target = [QUICKSTART] if (NOTEBOOKS / QUICKSTART).exists() else []
        root_dir = NOTEBOOKS if NOTEBOOKS.is_dir() else ROOT
        cmd = [
            str(python),
            "-m",
            "jupyter",
            front.app,
            *target,
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root_dir}",
            "--LanguageServerManager.autodetect=False",
        ]
        cmd += ["--no-browser"] if args.no_browser else []
        cmd += ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        jupyter = subprocess.Popen(cmd, cwd=root_dir, env=env, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        if wait_http(f"{base}/api/status?token={token}", jupyter):
            page = f"{front.notebook_url}{QUICKSTART}" if target else front.home_url
            log(f"{front.title} is ready: {base}{page}?token={token}")
            log(f"press Ctrl-C to stop {front.title} and the sandbox")
        elif jupyter.poll() is None:
            log(f"{front.title} did not answer on {base} yet; see its log above")
        code = jupyter.wait()
    except KeyboardInterrupt:
        log("stopping")
    except RuntimeError as error:
        log(f"error: {error}")
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop(jupyter, front.title)
        stop(sandbox, "sandbox")
    log("stopped")
    return code


def pytest_targets(args: list[str]) -> list[str]:
    """Return the default test paths unless `args` already names a path or node id."""
    if any(not arg.startswith("-") and Path(arg.split("::")[0]).exists() for arg in args):
        return []
    return [name for name in ("tests", "notebooks") if (ROOT / name).is_dir()]


def test(python: Path, argv: list[str]) -> int:
    """Run ruff and mypy, then pytest over tests/ and notebooks/ (nbval) with extra args `argv`."""
    # mypy: the package, per [tool.mypy] (Python 3.10, the oldest supported), and once more as
    # 3.11: pandas-stubs types pandas for 3.11 and newer only, so there our pandas calls are checked
    checks = (["ruff", "check", "."], ["mypy"], ["mypy", "--python-version", "3.11"])
    for check in checks:
        log(" ".join(check))
        code = subprocess.call([str(python), "-m", *check], cwd=ROOT)
        if code:
            return code
    nbval = ["--nbval", "--nbval-current-env"]
    sanitize = NOTEBOOKS / "sanitize.cfg"
    if sanitize.exists():
        nbval += ["--nbval-sanitize-with", str(sanitize.relative_to(ROOT))]
    cmd = [str(python), "-m", "pytest", *nbval, *pytest_targets(argv), *argv]
    log(" ".join(cmd[1:]))
    return subprocess.call(cmd, cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run a command."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--venv",
        type=Path,
        default=Path(os.environ.get("EXALSIUS_DEV_VENV") or ROOT / ".venv"),
        help="virtual environment to create or use (default: .venv, or $EXALSIUS_DEV_VENV)",
    )
    parser.add_argument("command", choices=[*FRONT_ENDS, "test"])
    parser.add_argument("args", nargs=argparse.REMAINDER, help="options of the command")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    try:
        if args.command in FRONT_ENDS:  # the `lab` extra installs JupyterLab and Notebook 7
            python = ensure_venv(args.venv.absolute(), {"lab"}, set())
            return serve(python, args.args, args.command)
        # the test suite also drives `dev.py lab`/`notebook`: the test install has the lab extra
        return test(ensure_venv(args.venv.absolute(), {"lab"}, {"test"}), args.args)
    except subprocess.CalledProcessError as error:
        log(f"failed: {' '.join(map(str, error.cmd))}")
        return error.returncode or 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
