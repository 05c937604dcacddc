"""List answers with hostile shapes reach the magics and the widgets (issue #7, items 3, 5, 6).

Items that are not objects, ids and cluster ids that are lists or objects, and bodies nested too
deeply: each front door shows a one-line error or skips what it cannot use, and never raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from support import Canned, CannedServer, wait_until
from test_magics_shell import close_shell, make_shell, run, usage_error

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.widgets import CreationProgress, WorkspacePanel

GOOD = {"id": "3f2a1b4c-0000-4000-8000-000000000001", "name": "good",
        "cluster_id": "11111111-1111-4111-8111-111111111111", "workspace_status": "RUNNING"}
NOT_OBJECTS: list[Any] = [None, 5, "text", [1, 2], True]
ODD_IDS: list[Any] = [
    {**GOOD, "id": ["a", "b"], "name": "listed-id"},
    {**GOOD, "id": {"x": 1}, "name": "object-id"},
    {**GOOD, "id": "c0ffee00-0000-4000-8000-000000000002", "name": "odd-cluster",
     "cluster_id": ["c"]},
    {**GOOD, "id": "c0ffee00-0000-4000-8000-000000000003", "name": "object-cluster",
     "cluster_id": {"c": 1}},
]
DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture
def shell(canned: CannedServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """The extension loaded and pointed at the canned server."""
    sh = make_shell(canned.url, monkeypatch)
    yield sh
    close_shell(sh)


@pytest.mark.parametrize("command", ["describe good", "delete good --dry-run",
                                     "stop good --dry-run", "describe nothing-like-it"])
def test_items_that_are_not_objects_do_not_break_targets(
        shell: InteractiveShell, canned: CannedServer, capsys: pytest.CaptureFixture[str],
        command: str) -> None:
    canned.json({"workspaces": [*NOT_OBJECTS, GOOD]})
    ran = run(shell, capsys, f"%exalsius {command}")
    assert "Traceback" not in ran.out + ran.err
    if "nothing" in command:
        usage_error(shell, capsys, f"%exalsius {command}", "no workspace")
    else:
        assert ran.result.success, (ran.out, ran.err)
        assert "good" in ran.out + str(ran.value)


@pytest.fixture
def panels() -> Iterator[list[WorkspacePanel]]:
    """Panels a test made, closed after it."""
    made: list[WorkspacePanel] = []
    yield made
    for panel in made:
        panel.close()


def test_the_panel_copes_with_odd_ids_and_cluster_ids(
        canned: CannedServer, panels: list[WorkspacePanel]) -> None:
    canned.json({"workspaces": [*ODD_IDS, *NOT_OBJECTS, GOOD]})
    panel = WorkspacePanel(ExalsiusClient(canned.url, timeout=5), auto_refresh=False)
    panels.append(panel)
    wait_until(lambda: not panel.busy and panel.workspaces, what="the first list")
    names = [ws.name for ws in panel.workspaces]
    assert "good" in names and "object-cluster" in names


def test_the_panel_shows_a_too_deep_body_as_an_error(
        canned: CannedServer, panels: list[WorkspacePanel]) -> None:
    canned.reply(Canned(200, DEEP, {"Content-Type": "application/json"}))
    panel = WorkspacePanel(ExalsiusClient(canned.url, timeout=5), auto_refresh=False)
    panels.append(panel)
    wait_until(lambda: not panel.busy, what="the first list")
    assert "nested too deeply" in panel.errors.message


def test_progress_keeps_polling_through_a_too_deep_body(canned: CannedServer) -> None:
    canned.reply(Canned(200, '{"workspace": ' + DEEP + "}", {"Content-Type": "application/json"}),
                 Canned(200, '{"workspace": ' + DEEP + "}", {"Content-Type": "application/json"}),
                 Canned(200, GOOD, {"Content-Type": "application/json"}))
    progress = CreationProgress([GOOD["id"]], client=ExalsiusClient(canned.url, timeout=5),
                                timeout=20, interval=0.05)
    try:
        progress.start()
        tracked = progress.wait()
    finally:
        progress.close()
    assert tracked[GOOD["id"]].succeeded  # the bad answers were errors, then it went on
