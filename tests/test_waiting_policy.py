"""One error policy for every wait (issue #14): an error that waiting will not cure ends the wait
at once with that error, in a terminal, in a kernel with widgets and from Python; a transient
one backs off and goes on until the deadline.

The server is a canned one on 127.0.0.1 that lists one PENDING workspace once, then answers 401
to everything (a sign-in that could not be renewed).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from support import SLACK, CannedServer
from test_magics_shell import close_shell, make_shell, usage_error

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.errors import AuthenticationError, NotFoundError
from exalsius_jupyter.magics.context import CommandContext
from exalsius_jupyter.magics.follow import follow
from exalsius_jupyter.session import Session
from exalsius_jupyter.watch import WorkspaceWatcher
from exalsius_jupyter.widgets import CreationProgress

WID = "3f2a1b4c-0000-4000-8000-0000000000aa"
INTERVAL = 0.5
UNAUTHORIZED = {"detail": {"type": "about:blank", "title": "Unauthorized", "status": 401,
                           "detail": "the access token was revoked", "instance": "/x"}}
ROW = {"id": WID, "name": "nb", "cluster_id": "c1", "workspace_status": "PENDING",
       "template": {"name": "jupyter", "variables": {}}}


@pytest.fixture
def revoked(canned: CannedServer) -> CannedServer:
    """Lists the workspace once, then 401 for every request."""
    return canned.json({"workspaces": [ROW]}).json(UNAUTHORIZED, status=401)


def test_the_terminal_wait_ends_at_once_with_the_error(
        revoked: CannedServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    shell = make_shell(revoked.url, monkeypatch)
    shell.run_line_magic("config", f"Exalsius.poll_interval = {INTERVAL}")
    try:
        began = time.monotonic()
        line = usage_error(shell, capsys, "%exalsius wait nb", "Unauthorized")
    finally:
        close_shell(shell)
    assert time.monotonic() - began < INTERVAL + SLACK
    assert "revoked" in line and revoked.count() <= 3


def test_creation_progress_wait_ends_at_once_with_the_error(revoked: CannedServer) -> None:
    client = ExalsiusClient(revoked.url, timeout=5, retries=0)
    client.list_workspaces()  # the one good answer
    progress = CreationProgress([WID], client, interval=INTERVAL, timeout=600)
    try:
        began = time.monotonic()
        with pytest.raises(AuthenticationError, match="revoked"):
            progress.wait(30)
        assert time.monotonic() - began < INTERVAL + SLACK
        assert "retrying" not in progress.status.value
        assert "revoked" in progress.status.value and not progress.running
        assert revoked.count() <= 3
    finally:
        progress.close()


def test_the_kernels_wait_with_widgets_gives_the_same_line(revoked: CannedServer) -> None:
    session = Session()
    client = ExalsiusClient(revoked.url, timeout=5, retries=0)
    client.list_workspaces()  # the one good answer
    session.pin_client(client)
    shown: list[Any] = []
    ctx = CommandContext(session, shell=None, in_kernel=True)
    import IPython.display

    original = IPython.display.display
    IPython.display.display = lambda *a, **k: shown.append(a)  # type: ignore[assignment]
    try:
        began = time.monotonic()
        with pytest.raises(AuthenticationError, match="revoked"):
            follow(ctx, [WID], timeout=600, block=True)
        assert time.monotonic() - began < 1.0 + SLACK  # the session's poll interval: 1 s
    finally:
        IPython.display.display = original  # type: ignore[assignment]
        session.close()
    assert shown, "the progress widget was shown"


def test_the_watcher_ends_on_an_error_waiting_will_not_cure(revoked: CannedServer) -> None:
    client = ExalsiusClient(revoked.url, timeout=5, retries=0)
    client.list_workspaces()  # the one good answer
    watcher = WorkspaceWatcher(client, [WID], interval=INTERVAL)
    watcher.run()
    assert watcher.done and isinstance(watcher.error, AuthenticationError)
    with pytest.raises(AuthenticationError):
        watcher.raise_for_outcome()


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_transient_error_still_backs_off_and_recovers(canned: CannedServer,
                                                        status: int) -> None:
    flaky = {"detail": {"type": "about:blank", "title": "Down", "status": status,
                        "detail": "try later", "instance": "/x"}}
    running = {**ROW, "workspace_status": "RUNNING"}
    canned.json(flaky, status=status).json(flaky, status=status).json({"workspace": running})
    client = ExalsiusClient(canned.url, timeout=5, retries=0)
    watcher = WorkspaceWatcher(client, [WID], interval=0.05)
    watcher.run()
    assert watcher.error is None and watcher.tracked[WID].succeeded
    assert canned.count() == 3


def test_not_found_before_the_first_sighting_is_not_an_end(canned: CannedServer) -> None:
    missing = {"detail": {"type": "about:blank", "title": "Not Found", "status": 404,
                          "detail": "no such workspace", "instance": "/x"}}
    running = {**ROW, "workspace_status": "RUNNING"}
    canned.json(missing, status=404).json({"workspace": running})
    watcher = WorkspaceWatcher(ExalsiusClient(canned.url, timeout=5), [WID], interval=0.05)
    watcher.run()
    assert watcher.tracked[WID].succeeded and not isinstance(watcher.error, NotFoundError)




def test_every_polling_loop_runs_on_the_one_primitive() -> None:
    """Threads are made in poller.py only, but for the few that are no polling loop."""
    from support import REPO_ROOT

    not_loops = {  # what each other thread is
        "poller.py": "the primitive itself",
        "api/deadline.py": "the deadline watchdog (wakes at deadlines, polls nothing)",
        "widgets/base.py": "Jobs: one action per click, off the kernel thread",
        "auth/command.py": "the pipe readers of one token command run",
        "model/jsondepth.py": "one JSON decode on a fresh stack (the same depth from anywhere)",
        "sandbox/app.py": "the sandbox's HTTP server",
        "sandbox/server.py": "stopping the sandbox's server",
    }
    package = REPO_ROOT / "exalsius_jupyter"
    makers = sorted(str(p.relative_to(package)) for p in package.rglob("*.py")
                    if "threading.Thread(" in p.read_text(encoding="utf-8"))
    assert makers == sorted(not_loops), makers
    for loop in ("watch.py", "widgets/progress.py", "refresh.py", "widgets/sign_in.py",
                 "auth/device.py", "magics/commands/logs.py"):
        assert "Poller(" in (package / loop).read_text(encoding="utf-8"), loop
    assert "AutoRefresh(" in (package / "widgets/panel.py").read_text(encoding="utf-8")
