"""WorkspacePanel against the sandbox, driven with Button.click(): every button's effect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets
import pytest
from support import A100_CLUSTER, REPO_ROOT, count_sends, wait_until

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.sandbox import Sandbox
from exalsius_jupyter.widgets import WorkspacePanel
from exalsius_jupyter.widgets.base import shutdown_all, walk

EVIL = '<img src=x onerror="document.title=\'pwned\'">'
STOP = "/workspace/{id}/stop"
START = "/workspace/{id}/start"
ONE = "/workspace/{id}"
LIST = "/workspaces"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(pending_seconds=0.3, deleted_ttl=0.5, seed=3) as sandbox:
        yield sandbox


@pytest.fixture
def cl(sb: Sandbox) -> Iterator[ExalsiusClient]:
    with ExalsiusClient(sb.url, timeout=5) as client:
        yield client


@pytest.fixture
def panels() -> Iterator[list[WorkspacePanel]]:
    """Panels a test made; closed afterwards even when the test fails."""
    made: list[WorkspacePanel] = []
    yield made
    for p in made:
        p.close()


def make_panel(panels: list[WorkspacePanel], client: ExalsiusClient, *, wait: bool = True,
               **kw: Any) -> WorkspacePanel:
    """A panel (closed after the test), by default once its first list has been shown."""
    kw.setdefault("auto_refresh", False)
    panel = WorkspacePanel(client, **kw)
    panels.append(panel)
    if wait:
        settled(panel)
    return panel


def settled(panel: WorkspacePanel) -> None:
    """Wait (bounded) until the background work the clicks started has finished."""
    wait_until(lambda: not panel.busy, what="the panel's background work")


def status_at(sb: Sandbox, wid: str) -> str | None:
    found = sb.get(wid)
    return None if found is None else found["workspace_status"]


# -- what it shows ----------------------------------------------------------------------------


def test_panel_lists_the_sandbox_workspaces(sb: Sandbox, cl: ExalsiusClient,
                                            panels: list[WorkspacePanel]) -> None:
    ids = [sb.add({"name": f"ws-{i}", "workspace_status": s})
           for i, s in enumerate(["RUNNING", "PENDING", "STOPPED"])]
    panel = make_panel(panels, cl)
    assert [w.name for w in panel.workspaces] == ["ws-0", "ws-1", "ws-2"]
    assert [w.id for w in panel.workspaces] == ids
    assert panel.total == 3
    assert sb.url in panel.title.value and "sandbox" in panel.title.value
    assert "<b>3</b> workspaces" in panel.summary.value
    assert "refreshed" in panel.summary.value
    row = panel.row("ws-0")
    assert ">RUNNING</span>" in row.cells.value
    assert f'title="{ids[0]}"' in row.cells.value and f">{ids[0][:8]}<" in row.cells.value
    assert 'target="_blank"' in row.cells.value  # RUNNING: its access URL is a link
    assert "ws-0" in repr(panel) and "ws-2" in panel._repr_html_()


def test_stop_is_enabled_only_for_pending_or_running(sb: Sandbox, cl: ExalsiusClient,
                                                      panels: list[WorkspacePanel]) -> None:
    for s in ("PENDING", "RUNNING", "STOPPED", "FAILED", "DELETED", "HIBERNATING"):
        sb.add({"name": s.lower(), "workspace_status": s})
    panel = make_panel(panels, cl)
    enabled = {r.workspace.name: not r.stop_button.disabled for r in panel.rows}
    assert enabled == {"pending": True, "running": True, "stopped": False, "failed": False,
                       "deleted": False, "hibernating": False}
    assert panel.row("deleted").delete_button.disabled
    assert not panel.row("running").delete_button.disabled
    # Delete is quiet until its question (#17.3); each button's title names its workspace (#17.4).
    assert panel.row("running").delete_button.button_style == ""
    assert panel.row("running").stop_button.tooltip == "Stop running"
    assert panel.row("running").delete_button.tooltip == "Delete running (irreversible)"
    assert panel.row("stopped").stop_button.tooltip.startswith("Stop stopped: only PENDING")
    assert ">UNKNOWN</span>" in panel.row("hibernating").cells.value


# -- actions ----------------------------------------------------------------------------------


def test_stop_asks_then_stops_at_the_sandbox(sb: Sandbox, cl: ExalsiusClient,
                                             panels: list[WorkspacePanel]) -> None:
    wid = sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
    panel = make_panel(panels, cl)
    row = panel.row("ws-1")
    row.stop_button.click()
    assert row.question == "Stop ws-1?"
    assert row.asking and row.confirm_line in row.box.children
    assert sb.request_count("POST", STOP) == 0
    row.confirm_button.click()
    settled(panel)
    assert status_at(sb, wid) == "STOPPED"
    assert sb.request_count("POST", STOP) == 1
    assert row.workspace.workspace_status.value == "STOPPED"  # from the server's answer
    assert ">STOPPED</span>" in row.cells.value
    assert row.stop_button.disabled and row.stop_button in row.box.children
    assert row.question == ""


def focused(monkeypatch: pytest.MonkeyPatch) -> list[widgets.Widget]:
    """The widgets told to take keyboard focus from now on (``DOMWidget.focus``), in order."""
    told: list[widgets.Widget] = []
    original = widgets.Widget.send

    def sending(self: widgets.Widget, content: Any, buffers: Any = None) -> None:
        if content == {"do": "focus"}:
            told.append(self)
        original(self, content, buffers)

    monkeypatch.setattr(widgets.Widget, "send", sending)
    return told


def test_focus_goes_to_the_question_and_back_to_the_row(
        sb: Sandbox, cl: ExalsiusClient, panels: list[WorkspacePanel],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """#17.4: Stop's question focuses Confirm, Delete's Cancel; Cancel gives focus back to the
    button that asked; after a confirmed Stop focus stays in the row (Stop is disabled: Start)."""
    sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
    panel = make_panel(panels, cl)
    row = panel.row("ws-1")
    told = focused(monkeypatch)
    row.delete_button.click()
    assert told == [row.cancel_button]
    row.cancel_button.click()
    assert told[-1] is row.delete_button and not row.asking
    row.stop_button.click()
    assert told[-1] is row.confirm_button
    row.cancel_button.click()
    assert told[-1] is row.stop_button
    row.stop_button.click()
    row.confirm_button.click()
    settled(panel)
    assert row.workspace.workspace_status.value == "STOPPED" and row.stop_button.disabled
    expected = row.start_button if row.start_button is not None else row.delete_button
    assert not expected.disabled
    assert told == [row.cancel_button, row.delete_button, row.confirm_button, row.stop_button,
                    row.confirm_button, expected]  # nothing else took focus


def press_escape(panel: WorkspacePanel, index: Any) -> None:
    """The message the front end sends for Escape in the page's ``index``-th row, through the
    comm handler as the kernel gets it."""
    content = {"key": "Escape", "index": index}
    panel.escape_key._handle_msg({"content": {"data": {"method": "custom", "content": content}},
                                  "buffers": []})


def test_escape_closes_the_question_and_focus_returns_to_the_row(
        sb: Sandbox, cl: ExalsiusClient, panels: list[WorkspacePanel],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """#17.4: Escape (the hidden key widget's message) is Cancel: the question goes, nothing is
    sent, focus returns to the button that asked; other rows' questions stay open."""
    sb.add({"name": "ws-0", "workspace_status": "RUNNING"})
    sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
    panel = make_panel(panels, cl)
    keys = panel.escape_key
    assert keys in panel.widget.children and keys.layout.display == "none"
    assert (keys.within, keys.item) == (".exls-panel", ".exls-row")
    other, row = panel.row("ws-0"), panel.row("ws-1")
    assert panel.rows == [other, row]
    told = focused(monkeypatch)
    other.stop_button.click()
    row.delete_button.click()
    assert told == [other.confirm_button, row.cancel_button]
    press_escape(panel, 1)
    assert not row.asking and row.confirm_line not in row.box.children
    assert told[-1] is row.delete_button
    assert other.asking and other.question == "Stop ws-0?"
    press_escape(panel, 1)  # a second Escape (another view, a late key): nothing to close
    assert told[-1] is row.delete_button and len(told) == 3
    row.stop_button.click()
    press_escape(panel, 1)
    assert not row.asking and told[-1] is row.stop_button
    press_escape(panel, 0)
    assert not other.asking and told[-1] is other.stop_button
    settled(panel)
    assert sb.request_count("POST", STOP) == 0 and sb.request_count("DELETE", ONE) == 0
    assert [w.workspace_status.value for w in panel.workspaces] == ["RUNNING", "RUNNING"]


def test_escape_ignores_other_messages_rows_and_a_running_action(
        sb: Sandbox, cl: ExalsiusClient, panels: list[WorkspacePanel]) -> None:
    """Another key, a bad or missing index, a row past the page: nothing happens; once
    confirmed, the question is disarmed and Escape neither cancels nor drops the line."""
    wid = sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
    panel = make_panel(panels, cl)
    row = panel.row("ws-1")
    row.stop_button.click()
    for index in (1, -1, "0", None, True, 0.0):
        press_escape(panel, index)
    panel.escape_key._handle_msg({"content": {"data": {"method": "custom",
                                                       "content": {"key": "Enter", "index": 0}}},
                                  "buffers": []})
    assert row.asking and row.question == "Stop ws-1?" and panel.errors.message == ""
    row.confirm_button.click()
    press_escape(panel, 0)
    settled(panel)
    assert status_at(sb, wid) == "STOPPED" and row.confirm_line in row.box.children
    assert "Stopped ws-1" in row.confirm_line.children[0].value


def test_after_a_confirmed_delete_focus_goes_to_refresh(
        sb: Sandbox, cl: ExalsiusClient, panels: list[WorkspacePanel],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """#17.4: a deleted workspace's row has no button left to focus: Refresh takes it."""
    sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
    panel = make_panel(panels, cl)
    row = panel.row("ws-1")
    told = focused(monkeypatch)
    row.delete_button.click()
    row.confirm_button.click()
    settled(panel)
    assert told == [row.cancel_button, panel.refresh_button]


def test_delete_asks_then_deletes_and_the_row_goes(
        sb: Sandbox, cl: ExalsiusClient, panels: list[WorkspacePanel]) -> None:
    wid = sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
    sb.add({"name": "ws-2", "workspace_status": "RUNNING"})
    panel = make_panel(panels, cl)
    row = panel.row("ws-1")
    row.delete_button.click()
    assert row.question == "Delete ws-1?"
    assert row.confirm_button.button_style == "danger"
    assert sb.request_count("DELETE", ONE) == 0
    row.confirm_button.click()
    settled(panel)
    assert sb.request_count("DELETE", ONE) == 1
    assert status_at(sb, wid) in ("DELETED", None)
    assert [w.name for w in panel.workspaces] == ["ws-2"]
    wait_until(lambda: sb.get(wid) is None, what="the sandbox to forget the workspace")
    panel.refresh()
    assert [w.name for w in panel.workspaces] == ["ws-2"]


def test_delete_cancel_sends_nothing(sb: Sandbox, cl: ExalsiusClient,
                                     panels: list[WorkspacePanel]) -> None:
    wid = sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
    panel = make_panel(panels, cl)
    row = panel.row("ws-1")
    sb.reset_counts()
    row.delete_button.click()
    row.cancel_button.click()
    assert row.question == ""
    assert not row.asking and row.confirm_line not in row.box.children
    row.confirm_button.click()  # a stale click on the hidden Confirm does nothing either
    assert sb.request_count() == 0
    assert status_at(sb, wid) == "RUNNING"


def test_start_is_offered_when_the_server_has_it(sb: Sandbox, cl: ExalsiusClient,
                                                 panels: list[WorkspacePanel]) -> None:
    wid = sb.add({"name": "ws-1", "workspace_status": "STOPPED"})
    panel = make_panel(panels, cl)
    row = panel.row("ws-1")
    assert row.start_button is not None and not row.start_button.disabled
    probes = sb.request_count("POST", START)  # (an older client probed with a POST)
    row.start_button.click()
    settled(panel)
    assert sb.request_count("POST", START) == probes + 1
    assert status_at(sb, wid) in ("PENDING", "RUNNING")
    assert row.workspace.workspace_status.value in ("PENDING", "RUNNING")
    assert row.start_button.disabled and not row.stop_button.disabled


def test_no_start_button_without_the_endpoint(panels: list[WorkspacePanel]) -> None:
    with Sandbox(extras=False) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        sb.add({"name": "ws-1", "workspace_status": "STOPPED"})
        panel = make_panel(panels, cl)
        panel.refresh()
        assert panel.row("ws-1").start_button is None
        probes = sb.request_count(path=START)  # whatever the method of the probe
        assert probes == 1  # probed once, cached


def test_refresh_button_lists_again(sb: Sandbox, cl: ExalsiusClient,
                                    panels: list[WorkspacePanel]) -> None:
    panel = make_panel(panels, cl)
    assert panel.workspaces == [] and "No workspaces" in panel.empty.value
    assert panel.rows_box.children == (panel.empty,)
    sb.add({"name": "late", "workspace_status": "PENDING"})
    before = sb.request_count("GET", LIST)
    panel.refresh_button.click()
    settled(panel)
    assert sb.request_count("GET", LIST) == before + 1
    assert [w.name for w in panel.workspaces] == ["late"]


def test_an_action_error_shows_title_and_detail_in_the_panel(
        sb: Sandbox, cl: ExalsiusClient, panels: list[WorkspacePanel]) -> None:
    wid = sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
    panel = make_panel(panels, cl)
    row = panel.row("ws-1")
    row.stop_button.click()
    sb.fail_next(1, status=409)
    row.confirm_button.click()
    settled(panel)
    message = panel.errors.message
    assert "Could not stop ws-1: HTTP 409 Conflict: The sandbox injected a 409 answer." in message
    assert status_at(sb, wid) == "RUNNING"
    assert not row.busy and not row.stop_button.disabled  # usable again
    row.stop_button.click()  # the next user action clears the line
    assert panel.errors.message == ""


def test_an_action_on_a_workspace_the_server_no_longer_has_drops_its_row(
        sb: Sandbox, cl: ExalsiusClient, panels: list[WorkspacePanel]) -> None:
    gone = sb.add({"name": "gone-soon", "workspace_status": "RUNNING"})
    sb.add({"name": "other", "workspace_status": "RUNNING"})
    panel = make_panel(panels, cl)
    cl.delete_workspace(gone)
    wait_until(lambda: sb.get(gone) is None, what="the sandbox forgets the workspace")
    row = panel.row("gone-soon")
    row.stop_button.click()
    row.confirm_button.click()
    settled(panel)
    assert "Could not stop gone-soon: HTTP 404" in panel.errors.message
    assert [ws.name for ws in panel.workspaces] == ["other"]  # the server's answer, no guess


def test_an_unexpected_exception_in_a_callback_is_shown_not_lost(
        sb: Sandbox, panels: list[WorkspacePanel]) -> None:
    class BuggyClient(ExalsiusClient):
        """A real client whose describe has a bug."""

        def describe_workspace(self, workspace_id: str) -> Any:
            raise RuntimeError("bug in describe")

        def clone(self) -> BuggyClient:
            return BuggyClient(self.base_url, timeout=5)

    sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
    with BuggyClient(sb.url, timeout=5) as cl:
        panel = make_panel(panels, cl)
        row = panel.row("ws-1")
        row.stop_button.click()
        row.confirm_button.click()  # stop is sent; describing the answer then fails
        settled(panel)
        assert "RuntimeError: bug in describe" in panel.errors.message
        tracebacks = "".join(o.get("text", "") for o in panel.errors.output.outputs)
        assert "Traceback" in tracebacks and "bug in describe" in tracebacks
        assert not row.busy and panel.errors.output in panel.widget.children


# -- the double-click guard ---------------------------------------------------------------------


def test_two_clicks_while_a_request_is_in_flight_send_one_request(
        panels: list[WorkspacePanel]) -> None:
    with Sandbox(latency=0.4) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        wid = sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
        panel = make_panel(panels, cl)
        row = panel.row("ws-1")
        row.stop_button.click()
        confirm = row.confirm_button
        first = threading.Thread(target=confirm.click)
        first.start()
        wait_until(lambda: sb.request_count("POST", STOP) == 1, what="the first POST")
        assert row.busy and row.stop_button.disabled and row.delete_button.disabled
        assert "working…" in row.cells.value
        confirm.click()  # the same Confirm again, while the first request is in flight
        row.stop_button.click()
        row.run("stop", confirmed=True)  # even a direct second call is refused
        first.join(10)
        settled(panel)
        assert sb.request_count("POST", STOP) == 1
        assert status_at(sb, wid) == "STOPPED"
        assert "working…" not in row.cells.value


def test_a_second_click_queued_behind_the_first_sends_nothing(
        sb: Sandbox, cl: ExalsiusClient, panels: list[WorkspacePanel]) -> None:
    sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
    panel = make_panel(panels, cl)
    row = panel.row("ws-1")
    row.delete_button.click()
    confirm = row.confirm_button
    confirm.click()
    confirm.click()  # as the kernel handles a double-click: one after the other
    row.delete_button.click()
    settled(panel)
    assert sb.request_count("DELETE", ONE) == 1


# -- filters, pages, many workspaces ----------------------------------------------------------


def test_status_filter_shows_only_that_status(sb: Sandbox, cl: ExalsiusClient,
                                              panels: list[WorkspacePanel]) -> None:
    for i, s in enumerate(["RUNNING", "PENDING", "RUNNING", "FAILED"]):
        sb.add({"name": f"ws-{i}", "workspace_status": s})
    panel = make_panel(panels, cl)
    before = sb.request_count()
    panel.status_filter.value = "RUNNING"
    assert [w.name for w in panel.workspaces] == ["ws-0", "ws-2"]
    assert "2 RUNNING" in panel.summary.value and "<b>4</b> workspaces" in panel.summary.value
    panel.status_filter.value = "DELETED"
    assert panel.workspaces == [] and panel.rows_box.children == (panel.empty,)
    panel.status_filter.value = ""
    assert len(panel.workspaces) == 4
    assert sb.request_count() == before  # filtering by status needs no request


def test_cluster_filter_asks_the_server_for_one_cluster(sb: Sandbox, cl: ExalsiusClient,
                                                        panels: list[WorkspacePanel]) -> None:
    other = "22222222-2222-4222-8222-222222222222"
    sb.add({"name": "on-a100", "cluster_id": A100_CLUSTER})
    sb.add({"name": "on-h100", "cluster_id": other})
    panel = make_panel(panels, cl)
    assert {v for _, v in panel.cluster_filter.options} == {"", A100_CLUSTER, other}
    assert set(panel.form.cluster.options) == {A100_CLUSTER, other}
    panel.cluster_filter.value = other
    settled(panel)
    assert [w.name for w in panel.workspaces] == ["on-h100"]
    assert sb.requests[-1].method == "GET"
    assert {v for _, v in panel.cluster_filter.options} == {"", A100_CLUSTER, other}
    panel.cluster_filter.value = ""
    settled(panel)
    assert len(panel.workspaces) == 2


def test_a_panel_made_for_one_cluster_lists_only_it(sb: Sandbox, cl: ExalsiusClient,
                                                    panels: list[WorkspacePanel]) -> None:
    other = "22222222-2222-4222-8222-222222222222"
    sb.add({"name": "on-a100", "cluster_id": A100_CLUSTER})
    sb.add({"name": "on-h100", "cluster_id": other})
    panel = make_panel(panels, cl, cluster_id=other)
    assert panel.cluster_filter.value == other
    assert [w.name for w in panel.workspaces] == ["on-h100"]


def test_more_than_a_page_paginates_and_reuses_rows(panels: list[WorkspacePanel]) -> None:
    with Sandbox(workspaces=120, seed=7) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        names = [w.name for w in cl.list_workspaces()]
        panel = make_panel(panels, cl)
        assert panel.pages == 3 and panel.page_label.value == "page 1 of 3"
        assert len(panel.rows) == 50 and panel.prev_button.disabled
        first_rows = panel.rows
        assert [w.name for w in panel.workspaces] == names[:50]
        panel.next_button.click()
        assert panel.page_label.value == "page 2 of 3"
        assert [w.name for w in panel.workspaces] == names[50:100]
        assert panel.rows == first_rows  # the same row widgets, showing other workspaces
        panel.next_button.click()
        assert [w.name for w in panel.workspaces] == names[100:]
        assert panel.next_button.disabled and len(panel.rows) == 20
        panel.next_button.click()
        assert panel.page_label.value == "page 3 of 3"
        panel.prev_button.click()
        assert panel.page_label.value == "page 2 of 3"
        widget_count = len(list(walk(panel.widget)))
        panel.refresh()
        panel.go_to_page(0)
        assert len(list(walk(panel.widget))) == widget_count  # nothing rebuilt


def test_a_question_does_not_follow_its_row_to_another_workspace(
        panels: list[WorkspacePanel]) -> None:
    with Sandbox(workspaces=4, seed=2) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        panel = make_panel(panels, cl, page_size=2)
        row = panel.rows[0]
        first = row.workspace
        row.delete_button.click()
        panel.next_button.click()
        assert row.workspace.id != first.id and row.question == ""
        row.confirm_button.click()
        assert sb.request_count("DELETE", ONE) == 0


# -- escaping ---------------------------------------------------------------------------------


def test_server_strings_are_escaped_everywhere(sb: Sandbox, cl: ExalsiusClient,
                                               panels: list[WorkspacePanel]) -> None:
    sb.add({"name": EVIL, "description": EVIL, "workspace_status": "RUNNING",
            "template": {"name": EVIL, "variables": {EVIL: EVIL}},
            "resources": {"gpu_count": 1, "gpu_type": EVIL}})
    panel = make_panel(panels, cl)
    row = panel.rows[0]
    html_values = [w.value for w in walk(panel.widget)
                   if isinstance(w, widgets.HTML)] + [panel._repr_html_()]
    for value in html_values:
        assert "<img" not in value
    assert "&lt;img src=x onerror=" in row.cells.value
    row.delete_button.click()
    assert row.question == f"Delete {EVIL}?"  # a Label: shown as text
    assert isinstance(row.confirm_line.children[0], widgets.Label)
    assert EVIL in repr(panel)


# -- creation form ----------------------------------------------------------------------------


def fill_form(panel: WorkspacePanel, **values: Any) -> None:
    form = panel.form
    form.name.value = values.get("name", "nb-1")
    form.cluster.value = values.get("cluster", A100_CLUSTER)
    form.template.value = values.get("template", "jupyter-notebook")
    form.variables.value = values.get("variables", "notebook_port=8888\n# a comment\n")
    form.inputs["gpu_count"].value = values.get("gpus", 1)
    form.inputs["gpu_type"].value = values.get("gpu_type", "A100")


def test_form_creates_and_tracks_the_new_workspace(sb: Sandbox, cl: ExalsiusClient,
                                                   panels: list[WorkspacePanel]) -> None:
    panel = make_panel(panels, cl)
    fill_form(panel)
    panel.form.create_button.click()
    wait_until(lambda: any(w.name == "nb-1" for w in panel.workspaces), what="the new row")
    assert sb.request_count("POST", LIST) == 1
    [wid] = [w.id for w in panel.workspaces if w.name == "nb-1"]
    created = sb.get(wid)
    assert created is not None
    assert created["template"]["variables"] == {"notebook_port": "8888"}
    assert created["resources"]["gpu_count"] == 1 and created["resources"]["cpu_cores"] == 4
    assert "Created <b>nb-1</b>" in panel.form.message.value
    [progress] = panel.progress
    assert progress.widget in panel.progress_box.children
    tracked = progress.wait(10)
    assert tracked[wid].stage == "Running"
    assert "Running" in repr(progress)


def test_the_form_is_built_when_first_opened(sb: Sandbox, cl: ExalsiusClient,
                                             panels: list[WorkspacePanel]) -> None:
    sb.add({"name": "on-a100", "cluster_id": A100_CLUSTER})
    panel = make_panel(panels, cl)
    assert panel._form is None  # not built with the panel: it costs widgets nobody may need
    panel.accordion.selected_index = 0
    assert panel._form is not None
    assert panel.accordion.children == (panel.form.widget,)
    assert panel.form.cluster.value == A100_CLUSTER  # pre-filled from the clusters seen


@pytest.mark.parametrize(("values", "message"), [
    ({"cluster": "not-a-uuid"}, "cluster_id must be a UUID"),
    ({"name": "  "}, "name must be a non-empty string"),
    ({"variables": "just-a-key"}, "template variables, line 1: expected KEY=VALUE"),
    ({"variables": "a=1\na=2"}, "template variables &#x27;a&#x27; is given twice"),
    ({"template": ""}, "template.name must be a non-empty string"),
])
def test_form_validates_before_sending(sb: Sandbox, cl: ExalsiusClient,
                                       panels: list[WorkspacePanel], values: dict[str, Any],
                                       message: str) -> None:
    panel = make_panel(panels, cl)
    fill_form(panel, **values)
    panel.form.create_button.click()
    assert message in panel.form.message.value
    assert sb.request_count("POST", LIST) == 0
    assert panel.progress == []


def test_form_shows_the_server_s_refusal(sb: Sandbox, cl: ExalsiusClient,
                                         panels: list[WorkspacePanel]) -> None:
    sb.add({"name": "nb-1", "cluster_id": A100_CLUSTER})
    panel = make_panel(panels, cl)
    fill_form(panel, name="nb-1")
    panel.form.create_button.click()
    wait_until(lambda: not panel.form.busy, what="the create's answer")
    assert "Could not create nb-1: HTTP 409" in panel.form.message.value
    assert panel.progress == [] and not panel.form.create_button.disabled


# -- auto-refresh, closing, shutdown ----------------------------------------------------------


def refresh_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "exalsius-panel-refresh"]


def test_auto_refresh_follows_the_server_and_close_stops_it(
        sb: Sandbox, cl: ExalsiusClient, panels: list[WorkspacePanel]) -> None:
    wid = sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
    panel = make_panel(panels, cl, auto_refresh=True, interval=0.05, max_interval=0.2)
    assert not panel.auto_refreshing  # not before it is shown
    panel.start()
    assert panel.auto_refreshing
    sb.set_status(wid, "STOPPED")
    wait_until(lambda: ">STOPPED</span>" in panel.row("ws-1").cells.value, what="auto-refresh")
    wait_until(lambda: panel.refresh_delay > panel.interval, what="backing off")
    panel.close()
    assert refresh_threads() == []
    after_close = sb.request_count()
    time.sleep(0.5)  # a few intervals
    assert sb.request_count() == after_close


def test_toggle_turns_auto_refresh_off_and_on(sb: Sandbox, cl: ExalsiusClient,
                                              panels: list[WorkspacePanel]) -> None:
    panel = make_panel(panels, cl, auto_refresh=True, interval=0.05)
    panel.start()
    panel.auto_toggle.value = False
    assert not panel.auto_refreshing and refresh_threads() == []
    count = sb.request_count()
    time.sleep(0.3)
    assert sb.request_count() == count
    panel.auto_toggle.value = True
    wait_until(lambda: sb.request_count() > count, what="refreshing again")
    assert panel.auto_refreshing


def test_auto_refresh_rides_out_an_outage_and_recovers_by_itself(
        panels: list[WorkspacePanel]) -> None:
    with Sandbox() as sb, ExalsiusClient(sb.url, timeout=5, retries=0) as cl:
        panel = make_panel(panels, cl, auto_refresh=True, interval=0.05, max_interval=0.2)
        panel.start()
        sb.outage(True)  # 503: waiting may cure it, so the panel backs off and goes on
        wait_until(lambda: "HTTP 503" in panel.errors.message, what="the error line")
        assert "Could not list workspaces: HTTP 503" in panel.errors.message
        count = sb.request_count()
        wait_until(lambda: sb.request_count() > count, what="refreshing on")
        assert panel.auto_refreshing and "paused" not in panel.summary.value
        sb.outage(False)
        wait_until(lambda: panel.errors.message == "", what="recovered")
        assert panel.auto_refreshing


def test_auto_refresh_pauses_after_an_error_waiting_will_not_cure(
        panels: list[WorkspacePanel]) -> None:
    with Sandbox() as sb, ExalsiusClient(sb.url, timeout=5, retries=0) as cl:
        panel = make_panel(panels, cl, auto_refresh=True, interval=0.05)
        panel.start()
        sb.fail_next(1, status=401)  # the next auto-refresh's list
        wait_until(lambda: not panel.auto_refreshing, what="the pause")
        assert "Could not list workspaces: HTTP 401" in panel.errors.message
        assert "paused after an error" in panel.summary.value
        count = sb.request_count()
        time.sleep(0.3)
        assert sb.request_count() == count
        panel.refresh_button.click()
        settled(panel)
        assert panel.errors.message == "" and panel.auto_refreshing
        assert "paused" not in panel.summary.value


def test_kernel_shutdown_stops_the_refresh_thread(sb: Sandbox, cl: ExalsiusClient,
                                                  panels: list[WorkspacePanel]) -> None:
    panel = make_panel(panels, cl, auto_refresh=True, interval=0.05)
    panel.start()
    thread = panel._auto.thread
    assert thread is not None and thread.is_alive()
    shutdown_all()  # what atexit runs when the kernel's interpreter exits
    thread.join(5)
    assert not thread.is_alive()


# -- display, import cost, secrets ------------------------------------------------------------


def test_display_bundle_has_widget_html_and_text(sb: Sandbox, cl: ExalsiusClient,
                                                 panels: list[WorkspacePanel]) -> None:
    sb.add({"name": "ws-1"})
    panel = make_panel(panels, cl)
    bundle = panel._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == \
        panel.widget.model_id
    assert "ws-1" in bundle["text/html"] and "ws-1" in bundle["text/plain"]
    assert bundle["text/plain"] == repr(panel)


def test_importing_the_widgets_builds_no_widget() -> None:
    code = ("import exalsius_jupyter.widgets, exalsius_jupyter.render\n"
            "from ipywidgets.widgets.widget import _instances\n"
            "print(len(_instances))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.strip() == "0"


def test_anywidget_comes_with_the_first_panel_not_with_the_extension() -> None:
    """`import exalsius_jupyter` and `%load_ext` import no anywidget (P4); a panel does."""
    code = (
        "import json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "import exalsius_jupyter, exalsius_jupyter.widgets\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'exalsius_jupyter')\n"
        "loaded = [m in sys.modules for m in ('anywidget', 'psygnal')]\n"
        "from exalsius_jupyter.api.client import ExalsiusClient\n"
        "from exalsius_jupyter.sandbox import Sandbox\n"
        "with Sandbox(seed=1) as sb:\n"
        "    panel = exalsius_jupyter.WorkspacePanel(ExalsiusClient(sb.url), auto_refresh=False)\n"
        "    loaded.append('anywidget' in sys.modules)\n"
        "    panel.close()\n"
        "print(json.dumps(loaded))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, timeout=120,
                          capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [False, False, True]


def test_the_token_never_reaches_widget_state(sb: Sandbox, panels: list[WorkspacePanel]) -> None:
    token = "tok-SECRET-0123456789abcdef"
    sb.add({"name": "ws-1", "workspace_status": "STOPPED"})
    with ExalsiusClient(sb.url, token=token, timeout=5) as cl:
        panel = make_panel(panels, cl)
        fill_form(panel, name="nb-2")
        panel.form.create_button.click()
        panel.row("ws-1").delete_button.click()
        wait_until(lambda: panel.progress, what="the create")
        panel.progress[0].wait(10)
        from ipywidgets.widgets.widget import _instances

        states = [json.dumps(w.get_state(), default=str) for w in list(_instances.values())]
        assert states and all(token not in s and "SECRET" not in s for s in states)
        assert token not in repr(panel) and token not in panel._repr_html_()
        assert all("Bearer" in r.headers.get("Authorization", "") for r in sb.requests)


# -- #7.13: clicks and the first list run off the kernel thread -------------------------------

SLOW = 0.5  # seconds the sandbox takes per request in these tests
QUICK = 0.35  # a click or a constructor must return faster than one request


def returns_quickly(fn: Any) -> float:
    started = time.monotonic()
    fn()
    took = time.monotonic() - started
    assert took < QUICK, f"took {took:.2f}s: the HTTP call ran on the calling (kernel) thread"
    return took


def test_the_constructor_returns_before_the_first_list_answers(
        panels: list[WorkspacePanel]) -> None:
    with Sandbox(latency=SLOW) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
        made: list[WorkspacePanel] = []
        returns_quickly(lambda: made.append(make_panel(panels, cl, wait=False)))
        panel = made[0]
        assert "loading…" in panel.empty.value and panel.total is None
        wait_until(lambda: panel.workspaces, what="the first list")
        assert [w.name for w in panel.workspaces] == ["ws-1"]


@pytest.mark.parametrize(("status", "action", "path", "method"), [
    ("RUNNING", "stop", STOP, "POST"),
    ("RUNNING", "delete", ONE, "DELETE"),
    ("STOPPED", "start", START, "POST"),
])
def test_action_clicks_return_at_once_and_the_row_shows_working(
        panels: list[WorkspacePanel], status: str, action: str, path: str, method: str) -> None:
    with Sandbox(latency=SLOW) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        wid = sb.add({"name": "ws-1", "workspace_status": status})
        panel = make_panel(panels, cl)
        row = wait_until(lambda: panel.row("ws-1") if panel.workspaces else None,
                         what="the first list")
        wait_until(lambda: action != "start" or row.start_button is not None, what="Start")
        before = sb.request_count(method, path)
        if action == "start":
            returns_quickly(row.start_button.click)
        else:
            getattr(row, f"{action}_button").click()
            returns_quickly(row.confirm_button.click)
        assert row.busy and "working…" in row.cells.value
        assert row.stop_button.disabled and row.delete_button.disabled
        wait_until(lambda: not row.busy, what="the action's answer")
        assert sb.request_count(method, path) == before + 1
        assert status_at(sb, wid) != status
        assert "working…" not in row.cells.value and panel.errors.message == ""


def test_create_click_returns_at_once(panels: list[WorkspacePanel]) -> None:
    with Sandbox(latency=SLOW, pending_seconds=0.2) as sb, \
            ExalsiusClient(sb.url, timeout=5) as cl:
        panel = make_panel(panels, cl)
        wait_until(lambda: panel.total is not None, what="the first list")
        fill_form(panel)
        returns_quickly(panel.form.create_button.click)
        assert "creating…" in panel.form.message.value and panel.form.create_button.disabled
        panel.form.create_button.click()  # a second click while the POST is in flight
        wait_until(lambda: "Created" in panel.form.message.value, what="the create")
        assert sb.request_count("POST", LIST) == 1
        assert not panel.form.create_button.disabled
        panel.close()  # while the sandbox still answers: no poll outlives the test


# -- #7.14: no requests.Session is shared between threads ------------------------------------


def test_no_session_is_used_by_two_threads(monkeypatch: pytest.MonkeyPatch,
                                           panels: list[WorkspacePanel]) -> None:
    import requests

    users: dict[int, set[threading.Thread]] = {}
    sessions: list[requests.Session] = []  # kept alive, so no id is reused
    send = requests.Session.send

    def recording_send(self: requests.Session, request: Any, **kw: Any) -> Any:
        if self not in sessions:
            sessions.append(self)
        users.setdefault(id(self), set()).add(threading.current_thread())
        return send(self, request, **kw)

    monkeypatch.setattr(requests.Session, "send", recording_send)
    with Sandbox(pending_seconds=0.2) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        wid = sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
        panel = make_panel(panels, cl, auto_refresh=True, interval=0.05)
        panel.start()
        wait_until(lambda: panel.workspaces, what="the first list")
        cl.describe_workspace(wid)  # the kernel's own calls, on the kernel's session
        row = panel.row("ws-1")
        row.stop_button.click()
        row.confirm_button.click()
        fill_form(panel, name="nb-2")
        panel.form.create_button.click()
        wait_until(lambda: panel.progress, what="the create")
        panel.progress[0].wait(10)
        wait_until(lambda: panel.refresh_delay > panel.interval, what="a few refreshes")
        panel.close()
    shared = {k: sorted(t.name for t in v) for k, v in users.items() if len(v) > 1}
    assert not shared, f"sessions used by more than one thread: {shared}"
    assert users[id(cl.session)] == {threading.current_thread()}


# -- #7.15: rows keep their place while the user is clicking ----------------------------------


def test_rows_keep_their_place_after_an_action_so_a_fast_second_click_hits_the_same_row(
        sb: Sandbox, cl: ExalsiusClient, panels: list[WorkspacePanel]) -> None:
    ids = [sb.add({"name": name, "workspace_status": "RUNNING"}) for name in "abc"]
    panel = make_panel(panels, cl)
    wait_until(lambda: len(panel.workspaces) == 3, what="the first list")
    panel.status_filter.value = "RUNNING"
    rows = panel.rows
    rows[0].stop_button.click()
    asking = rows[0].box.children
    rows[0].confirm_button.click()
    wait_until(lambda: not rows[0].busy and ">STOPPED<" in rows[0].cells.value, what="the stop")
    # Nothing moved: the same rows show the same workspaces, and the confirm line keeps its room.
    assert panel.rows == rows and [w.name for w in panel.workspaces] == ["a", "b", "c"]
    assert len(rows[0].box.children) == len(asking)
    # The fast second click, where Confirm was, then where Stop is: it reaches row a only.
    panel.rows[0].confirm_button.click()
    panel.rows[0].stop_button.click()
    assert all(r.question == "" for r in panel.rows)
    assert sb.request_count("POST", STOP) == 1
    assert [status_at(sb, i) for i in ids] == ["STOPPED", "RUNNING", "RUNNING"]
    # The next refresh applies the filter; a question always names the row that was clicked.
    panel.refresh()
    assert [w.name for w in panel.workspaces] == ["b", "c"]
    panel.rows[0].stop_button.click()
    assert panel.rows[0].question == "Stop b?"


# -- #7.16: a deleted row goes when the server confirms the delete ---------------------------


def test_a_deleted_row_goes_as_soon_as_the_server_confirms_the_delete(
        panels: list[WorkspacePanel]) -> None:
    with Sandbox(deleted_ttl=60) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        wid = sb.add({"name": "ws-1", "workspace_status": "RUNNING"})
        sb.add({"name": "ws-2", "workspace_status": "RUNNING"})
        panel = make_panel(panels, cl)
        wait_until(lambda: len(panel.workspaces) == 2, what="the first list")
        row = panel.row("ws-1")
        row.delete_button.click()
        row.confirm_button.click()
        wait_until(lambda: [w.name for w in panel.workspaces] == ["ws-2"], timeout=5,
                   what="the deleted row to go")
        assert status_at(sb, wid) == "DELETED"  # the server still lists it for a while
        panel.refresh()
        assert [w.name for w in panel.workspaces] == ["ws-2"]
        assert sb.request_count("DELETE", ONE) == 1


# -- #10.2: what a refresh and a page flip send to the browser, at 1,000 workspaces ----------


@pytest.fixture
def big() -> Iterator[Sandbox]:
    with Sandbox(workspaces=1000, seed=11, pending_seconds=3600) as sandbox:
        yield sandbox


def test_an_auto_refresh_that_changes_nothing_sends_one_message(
        big: Sandbox, panels: list[WorkspacePanel], monkeypatch: pytest.MonkeyPatch) -> None:
    with ExalsiusClient(big.url, timeout=5) as cl:
        panel = make_panel(panels, cl, auto_refresh=True, interval=5.0, max_interval=60.0)
        panel._started = True  # as if displayed (the test ticks; no thread runs)
        sent = count_sends(monkeypatch)
        for _ in range(3):
            sent.clear()
            assert panel._auto.tick(cl) is not None
            # The summary once (its time and the next pace), no row, nothing else.
            assert sent == [panel.summary], [type(w).__name__ for w in sent]
        assert "every 16.875 s" in panel.summary.value


def test_an_auto_refresh_after_one_status_changed_updates_that_row_only(
        big: Sandbox, panels: list[WorkspacePanel], monkeypatch: pytest.MonkeyPatch) -> None:
    with ExalsiusClient(big.url, timeout=5) as cl:
        panel = make_panel(panels, cl)
        assert len(panel.rows) == 50
        row = panel.rows[7]
        new = "STOPPED" if row.workspace.workspace_status.value != "STOPPED" else "RUNNING"
        big.set_status(row.workspace.id, new)
        sent = count_sends(monkeypatch)
        assert panel._auto.tick(cl) is not None
        assert row.workspace.workspace_status.value == new
        mine = {id(w) for w in walk(row.box)}
        elsewhere = [w for w in sent if id(w) not in mine]
        assert elsewhere in ([], [panel.summary]), [type(w).__name__ for w in elsewhere]
        assert 1 <= len(sent) - len(elsewhere) <= 4  # the cells, and the buttons that changed


def test_a_page_flip_sends_each_row_and_each_button_once(
        big: Sandbox, panels: list[WorkspacePanel], monkeypatch: pytest.MonkeyPatch) -> None:
    with ExalsiusClient(big.url, timeout=5) as cl:
        panel = make_panel(panels, cl)
        buttons = [b for r in panel.rows for b in (r.stop_button, r.delete_button, r.start_button)
                   if b is not None]
        before = [b.disabled for b in buttons]
        sent = count_sends(monkeypatch)
        panel.next_button.click()
        assert panel.page == 1
        assert any(b.disabled != d for b, d in zip(buttons, before, strict=True))
        cells = [w for w in sent if isinstance(w, widgets.HTML) and w is not panel.summary
                 and w is not panel.head]
        sent_buttons = [w for w in sent if w in buttons]
        assert len(cells) == 50
        # Each button names the workspace it now acts on (#17.4): one message each, state and
        # title together; nothing twice.
        assert sorted(map(id, sent_buttons)) == sorted(map(id, buttons))
        assert all(r.workspace.name in r.stop_button.tooltip for r in panel.rows)
        # + the heading (the name column's room), the page label, Prev, Next, the summary
        assert len(sent) <= 50 + len(buttons) + 5


# -- #17.5b: a panel whose server is gone says so and greys its actions -----------------------


def action_buttons(panel: WorkspacePanel) -> list[widgets.Button]:
    return [b for r in panel.rows for b in (r.start_button, r.stop_button, r.delete_button)
            if b is not None]


def test_a_panel_that_lost_its_server_says_so_and_greys_its_actions_until_a_refresh(
        panels: list[WorkspacePanel]) -> None:
    from support import free_port

    port = free_port()
    first = Sandbox(port=port, seed=1).start()
    try:
        first.add({"name": "alive", "workspace_status": "RUNNING"})
        with ExalsiusClient(first.url, timeout=2, retries=0) as client:
            panel = make_panel(panels, client)
            row = panel.row("alive")
            assert not row.stop_button.disabled and not row.delete_button.disabled
            listed = panel.table.refreshed_at
            assert listed is not None
            first.stop()  # as the quickstart's last cell does
            panel.refresh()
            line = panel.summary.value
            assert f"Lost the server at {first.url}: connection refused" in line
            assert f"showing the last list from {listed.astimezone():%H:%M:%S}" in line
            assert "exls-lost" in line and line.count("Lost the server") == 1
            assert panel.errors.message == ""  # said once, in the status line
            assert panel.row("alive").workspace.workspace_status == "RUNNING"  # the last list
            assert action_buttons(panel) and all(b.disabled for b in action_buttons(panel))
            row.ask("stop")  # a greyed action asks nothing
            assert row.question == ""
            panel.refresh()  # still gone: still said once
            assert panel.summary.value.count("Lost the server") == 1

            again = Sandbox(port=port, seed=1).start()  # a server on the same port again
            try:
                again.add({"name": "alive", "workspace_status": "RUNNING"})
                panel.refresh()
                assert "Lost the server" not in panel.summary.value
                row = panel.row("alive")
                assert not row.stop_button.disabled and not row.delete_button.disabled
            finally:
                again.stop()
    finally:
        first.stop()


def test_auto_refresh_finds_the_lost_server_and_its_return_by_itself(
        panels: list[WorkspacePanel]) -> None:
    from support import free_port

    port = free_port()
    first = Sandbox(port=port).start()
    try:
        first.add({"name": "alive", "workspace_status": "RUNNING"})
        with ExalsiusClient(first.url, timeout=2, retries=0) as client:
            panel = make_panel(panels, client, auto_refresh=True, interval=0.1,
                               max_interval=0.2)
            panel.start()
            first.stop()
            wait_until(lambda: "Lost the server" in panel.summary.value, what="the lost line")
            assert all(b.disabled for b in action_buttons(panel))
            assert panel.auto_refreshing  # it keeps trying
            again = Sandbox(port=port).start()
            try:
                again.add({"name": "alive", "workspace_status": "RUNNING"})
                wait_until(lambda: "Lost the server" not in panel.summary.value,
                           what="the server back")
                wait_until(lambda: not panel.row("alive").stop_button.disabled,
                           what="Stop enabled again")
            finally:
                again.stop()
    finally:
        first.stop()
