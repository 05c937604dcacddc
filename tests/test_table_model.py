"""The table model, the actions and the auto-refresh loop, driven bare: no widget, no kernel."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from support import CannedServer

from exalsius_jupyter.actions import perform
from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ServerError,
)
from exalsius_jupyter.model.workspace import Workspace, WorkspaceList
from exalsius_jupyter.refresh import AutoRefresh
from exalsius_jupyter.table import WorkspaceTable


def _ws(i: int, status: str = "RUNNING", cluster: str = "c1") -> dict[str, Any]:
    return {"id": f"id-{i:03d}", "name": f"ws-{i}", "workspace_status": status,
            "cluster_id": cluster, "template": {"name": "jupyter-notebook", "variables": {}},
            "resources": {"gpu_count": 1, "cpu_cores": 2, "memory_gb": 8, "storage_gb": 20}}


def _listing(*items: dict[str, Any]) -> WorkspaceList:
    return WorkspaceList(list(items))


def _names(table: WorkspaceTable) -> list[str]:
    return [ws.name for ws in table.page_workspaces()]


def test_the_model_imports_no_widget_and_no_kernel() -> None:
    code = ("import sys, exalsius_jupyter.table, exalsius_jupyter.actions, "
            "exalsius_jupyter.refresh; bad = {'ipywidgets', 'IPython'} & set(sys.modules); "
            "print(sorted(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip() == "[]"


def test_pages_filters_and_counts() -> None:
    table = WorkspaceTable(page_size=2)
    assert table.total is None and table.pages == 1 and table.page_workspaces() == []
    items = [_ws(i, "RUNNING" if i % 2 else "STOPPED", "c1" if i < 3 else "c2")
             for i in range(5)]
    applied = table.apply(_listing(*items), table.ticket())
    assert applied is not None and applied.changed and applied.new_clusters == {"c1", "c2"}
    assert table.total == 5 and table.pages == 3 and _names(table) == ["ws-0", "ws-1"]
    assert table.go_to(7) == 2 and _names(table) == ["ws-4"]
    table.filter_status("RUNNING")
    assert table.page == 0 and table.matching == 2 and _names(table) == ["ws-1", "ws-3"]
    again = table.apply(_listing(*items), table.ticket())
    assert again is not None and not again.changed and again.new_clusters == frozenset()


def test_a_list_asked_for_before_an_action_or_a_filter_change_is_not_applied() -> None:
    table = WorkspaceTable()
    table.apply(_listing(_ws(1)), table.ticket())
    before = table.ticket()
    table.begin_action()
    assert table.apply(_listing(_ws(1, "STOPPED")), before) is None
    table.end_action("id-001", Workspace.from_api(_ws(1, "STOPPED")))
    assert table.apply(_listing(_ws(1)), before) is None  # still older than the answer
    assert table.page_workspaces()[0].workspace_status.value == "STOPPED"
    ticket = table.ticket()
    table.filter_cluster("c9")
    assert table.apply(_listing(_ws(1)), ticket) is None
    assert table.apply(_listing(_ws(2)), table.ticket()) is not None
    assert _names(table) == ["ws-2"]


def test_a_held_row_stays_under_a_status_filter_and_a_confirmed_delete_never_returns() -> None:
    table = WorkspaceTable()
    table.apply(_listing(_ws(1), _ws(2)), table.ticket())
    table.filter_status("RUNNING")
    table.begin_action()
    table.end_action("id-001", Workspace.from_api(_ws(1, "STOPPED")))
    assert _names(table) == ["ws-1", "ws-2"]  # held until the next list, though STOPPED
    table.begin_action()
    table.end_action("id-002", None, deleted=True)
    assert _names(table) == ["ws-1"]
    # A list that still carries the deleted one (the server is slow to forget) hides it.
    table.apply(_listing(_ws(1, "STOPPED"), _ws(2, "DELETED")), table.ticket())
    table.filter_status("")
    assert _names(table) == ["ws-1"]


def test_an_unreadable_item_is_left_out_not_raised() -> None:
    table = WorkspaceTable()
    table.apply(WorkspaceList([_ws(1), "junk"]), table.ticket())  # type: ignore[list-item]
    assert _names(table) == ["ws-1"]


@pytest.fixture
def canned() -> Any:
    server = CannedServer().start()
    yield server
    server.stop()


def test_perform_tells_the_outcome_of_each_answer(canned: CannedServer) -> None:
    ws = Workspace.from_api(_ws(1))
    with ExalsiusClient(canned.url, timeout=5) as client:
        canned.json({"workspace_id": "id-001"}).json(_ws(1, "STOPPED"))
        done = perform(client, "stop", ws)
        assert done.ok and done.workspace is not None
        assert done.workspace.workspace_status.value == "STOPPED"
        canned.replies.clear()  # the last reply repeats: start afresh
        canned.json({"detail": {"status": 404, "title": "Not Found"}}, status=404)
        gone = perform(client, "stop", ws)
        assert isinstance(gone.error, NotFoundError) and gone.workspace is None
        canned.replies.clear()  # the last reply repeats: start afresh
        canned.json({"detail": {"status": 409, "title": "Conflict"}}, status=409)
        canned.json(_ws(1, "RUNNING"))
        refused = perform(client, "delete", ws)
        assert isinstance(refused.error, ConflictError) and not refused.deleted
        assert refused.workspace is not None and refused.workspace.name == "ws-1"
        canned.replies.clear()  # the last reply repeats: start afresh
        canned.json({"workspace_id": "id-001"})
        deleted = perform(client, "delete", ws)
        assert deleted.deleted and deleted.workspace is None
        # Accepted, but the describe after it fails: still accepted (the next list tells).
        canned.replies.clear()  # the last reply repeats: start afresh
        canned.json({"workspace_id": "id-001"}).json({"detail": {"status": 500}}, status=500)
        accepted = perform(client, "stop", ws)
        assert accepted.ok and accepted.workspace is ws


def test_the_refresh_loop_backs_off_on_a_transient_error_and_pauses_on_a_permanent_one(
        canned: CannedServer) -> None:
    errors: list[BaseException | None] = [ServerError("HTTP 503"), None,
                                          AuthenticationError("HTTP 401")]
    answers: list[bool | None] = [None, False, None]
    seen: list[BaseException | None] = []
    ticks: list[float] = []

    def refresh(_client: ExalsiusClient) -> bool | None:
        seen.append(errors[len(seen)])
        return answers[len(seen) - 1]

    loop = AutoRefresh(refresh, last_error=lambda: seen[-1], on_tick=lambda: ticks.append(1),
                       on_crash=lambda exc: None, interval=1.0, max_interval=4.0)
    with ExalsiusClient(canned.url, timeout=5) as client:
        assert loop.tick(client) == pytest.approx(1.5)  # a 503: back off and go on
        assert loop.tick(client) == pytest.approx(2.25)  # nothing changed: slower
        assert loop.tick(client) is None and loop.paused  # a 401: waiting will not cure it
    assert len(ticks) == 3
    loop.resume()
    assert not loop.paused
