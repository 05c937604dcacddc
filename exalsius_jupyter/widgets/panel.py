"""WorkspacePanel: the workspaces as a table with actions, filters, pages and a creation form."""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle

from ..api.client import ExalsiusClient
from ..errors import ExalsiusError, NotFoundError
from ..model.workspace import Workspace, WorkspaceList, WorkspaceStatus
from ..render import (
    endpoint_label,
    escape,
    header_row_html,
    workspaces_html,
    workspaces_text,
)
from ._base import (
    Displayable,
    ErrorArea,
    classed,
    guarded,
    join_thread,
    set_traits,
    stop_at_exit,
    walk,
)
from .form import CreationForm
from .header import ALL, PanelHeader, summary_html
from .progress import CreationProgress
from .row import BUTTON_PX, DELETE_BUTTON_PX, WorkspaceRow

MAX_PROGRESS_ENTRIES = 5


class WorkspacePanel(Displayable):
    """The workspaces of one endpoint as a live table with Stop/Start/Delete and a creation form."""

    def __init__(
        self,
        client: ExalsiusClient | None = None,
        cluster_id: str | None = None,
        *,
        auto_refresh: bool = True,
        page_size: int = 50,
        interval: float = 5.0,
        max_interval: float = 60.0,
    ) -> None:
        if client is None:
            from ..session import get_client

            client = get_client()
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.client = client
        self.page_size = int(page_size)
        self.interval = float(interval)
        self.max_interval = max(float(max_interval), self.interval)
        self._lock = threading.RLock()
        self._gen = 0
        self._inflight = 0
        self._listing: WorkspaceList | None = None
        self._overrides: dict[str, Workspace | None] = {}
        self._clusters: set[str] = {cluster_id} if cluster_id else set()
        self._offers_start: bool | None = None
        self._refreshed_at: datetime | None = None
        self._page = 0
        self._rows: list[WorkspaceRow] = []
        self._progress: list[CreationProgress] = []
        self._closed = False
        self._quiet = False
        self._started = False
        self._paused = False
        self._delay = self.interval
        self._wake = threading.Event()
        self._auto_stop: threading.Event | None = None
        self._auto_thread: threading.Thread | None = None
        self.errors = ErrorArea()
        self._guard: Callable[[Callable[..., Any]], Callable[..., None]] = guarded(self.errors)
        self._build(cluster_id or ALL, auto_refresh)
        stop_at_exit(self)
        self.refresh()

    # -- construction ----------------------------------------------------------------------

    def _build(self, cluster: str, auto_refresh: bool) -> None:
        self._cells_layout = widgets.Layout(flex="1 1 0%", min_width="0", margin="0 6px 0 0")
        self._html_style = HTMLStyle()
        self._button_layout = widgets.Layout(width=f"{BUTTON_PX}px", margin="0 2px")
        self._delete_layout = widgets.Layout(width=f"{DELETE_BUTTON_PX}px", margin="0 2px")
        self._confirm_layout = widgets.Layout(width="100%", justify_content="flex-end",
                                              align_items="center", padding="0 0 4px 0")
        self._button_style = widgets.ButtonStyle()
        self._row_layout = widgets.Layout(align_items="center", flex_flow="row wrap",
                                          min_height="30px",
                                          border_bottom="1px solid #eee")
        header = PanelHeader(self.client.base_url, self.client.is_sandbox, cluster,
                             self._clusters, auto_refresh)
        self.header = header
        self.title, self.summary = header.title, header.summary
        self.refresh_button, self.auto_toggle = header.refresh_button, header.auto_toggle
        self.cluster_filter, self.status_filter = header.cluster_filter, header.status_filter
        self.head = classed(widgets.HTML(value=header_row_html(), layout=self._cells_layout),
                            "exls-table-head")
        self._head_spacer = widgets.Box(layout=widgets.Layout(width=self._actions_width()))
        head_row = widgets.HBox([self.head, self._head_spacer])
        self.empty = classed(widgets.HTML(value="<i>No workspaces.</i>"), "exls-empty")
        self.rows_box = classed(widgets.VBox([]), "exls-rows")
        self.prev_button = classed(widgets.Button(description="Prev", icon="chevron-left",
                                                  layout=widgets.Layout(width="80px")),
                                   "exls-prev")
        self.next_button = classed(widgets.Button(description="Next", icon="chevron-right",
                                                  layout=widgets.Layout(width="80px")),
                                   "exls-next")
        self.page_label = classed(widgets.Label(value="page 1 of 1"), "exls-page")
        self.pager = classed(widgets.HBox([self.prev_button, self.page_label, self.next_button],
                                          layout=widgets.Layout(align_items="center")),
                             "exls-pager")
        self.progress_box = classed(widgets.VBox([]), "exls-progress-area")
        self._form: CreationForm | None = None
        self.accordion = classed(widgets.Accordion(children=[widgets.VBox()],
                                                   titles=("Create a workspace",),
                                                   selected_index=None), "exls-form")
        self.accordion.observe(self._guard(self._on_accordion), "selected_index")
        self.widget = classed(widgets.VBox(
            [self.title, header.controls, *self.errors.widgets(), head_row, self.rows_box,
             self.pager, self.progress_box, self.accordion]), "exls-panel")
        self.refresh_button.on_click(self._guard(lambda _b: self._on_refresh_click()))
        self.prev_button.on_click(self._guard(lambda _b: self._turn(-1)))
        self.next_button.on_click(self._guard(lambda _b: self._turn(+1)))
        self.auto_toggle.observe(self._guard(self._on_auto_toggle), "value")
        self.cluster_filter.observe(self._guard(self._on_cluster_filter), "value")
        self.status_filter.observe(self._guard(self._on_status_filter), "value")

    def _actions_width(self) -> str:
        buttons = 2 if self._offers_start else 1
        return f"{buttons * (BUTTON_PX + 4) + DELETE_BUTTON_PX + 4}px"

    @property
    def form(self) -> CreationForm:
        """The creation form (built the first time it is opened or asked for)."""
        if self._form is None:
            self._form = CreationForm(self.client, clusters=lambda: sorted(self._clusters),
                                      on_created=self._on_created, guard=self._guard)
            placeholder = self.accordion.children[0]
            self.accordion.children = (self._form.widget,)
            placeholder.close()
        return self._form

    def _on_accordion(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            _ = self.form

    # -- public ----------------------------------------------------------------------------

    @property
    def rows(self) -> list[WorkspaceRow]:
        """The rows shown on the current page, in order."""
        with self._lock:
            return [r for r in self._rows if r.box in self.rows_box.children]

    def row(self, key: str) -> WorkspaceRow:
        """The shown row of a workspace, by name or id (KeyError if not on this page)."""
        for r in self.rows:
            if r.workspace is not None and key in (r.workspace.id, r.workspace.name):
                return r
        raise KeyError(f"no workspace {key!r} on this page")

    @property
    def workspaces(self) -> list[Workspace]:
        """The workspaces shown on the current page."""
        return [r.workspace for r in self.rows if r.workspace is not None]

    @property
    def total(self) -> int | None:
        """The server's total (X-Total-Count) from the last list, None before one succeeded."""
        return self._listing.total if self._listing is not None else None

    @property
    def page(self) -> int:
        """The current page, counted from 0."""
        return self._page

    @property
    def pages(self) -> int:
        """How many pages the filtered workspaces fill (at least 1)."""
        return max(1, math.ceil(len(self._visible_indices()) / self.page_size))

    @property
    def progress(self) -> list[CreationProgress]:
        """The creation progress entries shown in the panel (newest last)."""
        return list(self._progress)

    @property
    def auto_refreshing(self) -> bool:
        """Whether the auto-refresh thread is running."""
        return self._auto_thread is not None and self._auto_thread.is_alive()

    @property
    def refresh_delay(self) -> float:
        """Seconds until the next auto-refresh: grows while nothing changes."""
        return self._delay

    def refresh(self) -> None:
        """List the workspaces once (one request) and redraw; errors show in the panel."""
        if self._refresh("refresh") is not None and self._paused:
            self._paused = False
            if self._started and self.auto_toggle.value:
                self._start_auto()
            with self._lock:
                self._render_summary()

    def go_to_page(self, page: int) -> None:
        """Show page ``page`` (from 0; clamped to the pages there are)."""
        with self._lock:
            self._page = max(0, min(int(page), self.pages - 1))
            self._render_page()

    def start(self) -> None:
        """Start auto-refreshing (when its toggle is on); called when displayed; idempotent."""
        if self._closed:
            return
        self._started = True
        if self.auto_toggle.value and not self._paused:
            self._start_auto()

    def close(self) -> None:
        """Stop auto-refresh and every progress entry, and close all widgets."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop_auto()
        for p in self._progress:
            p.close()
        if self._form is not None:
            self._form.close()
        rows = list(self._rows)
        for w in list(walk(self.widget)):
            w.close()
        for r in rows:
            r.close()
        for w in (self._cells_layout, self._html_style, self._button_layout, self._delete_layout,
                  self._button_style, self._row_layout, self._confirm_layout, self.empty):
            w.close()

    # -- display ---------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        with self._lock:
            shown = self.workspaces
            total = self.total
        return (f"<div><b>exalsius workspaces</b> · "
                f"<code>{escape(endpoint_label(self.client.base_url))}</code></div>"
                + workspaces_html(shown, total=total))

    def __repr__(self) -> str:
        with self._lock:
            shown = self.workspaces
            total = self.total
        sandbox = " (sandbox)" if self.client.is_sandbox else ""
        count = ("not listed yet" if total is None
                 else f"{total} workspace{'s' if total != 1 else ''}")
        head = f"WorkspacePanel {endpoint_label(self.client.base_url)}{sandbox}: {count}"
        return head + ("\n" + workspaces_text(shown, total=total) if shown else "")

    # -- refreshing ------------------------------------------------------------------------

    def _refresh(self, source: str) -> bool | None:
        """Fetch and apply the list; True if it changed, None on error."""
        gen = self._gen
        cluster = self.cluster_filter.value or None
        try:
            listing = self.client.list_workspaces(cluster_id=cluster)
        except ExalsiusError as exc:
            with self._lock:
                if not self._closed:
                    self.errors.show_exception(exc, "Could not list workspaces", source="list")
            return None
        if self._offers_start is None:
            with contextlib.suppress(ExalsiusError):  # else asked again at the next refresh
                self._offers_start = self.client.offers("start")
        with self._lock:
            if self._closed:
                return False
            if gen != self._gen or self._inflight:
                return True  # an action ran meanwhile: this answer may be stale
            changed = self._listing is None or listing.raw != self._listing.raw
            self._listing = listing
            self._overrides.clear()
            self._refreshed_at = datetime.now(timezone.utc)
            self.errors.clear("list")
            self._update_clusters(listing)
            if self._offers_start:
                for r in self._rows:
                    r.add_start()
                self._head_spacer.layout.width = self._actions_width()
            self._render_page()
        return changed

    def _update_clusters(self, listing: WorkspaceList) -> None:
        seen = {raw.get("cluster_id") for raw in listing.raw if isinstance(raw, dict)}
        new = {c for c in seen if isinstance(c, str) and c} - self._clusters
        if not new:
            return
        self._clusters |= new
        if self._form is not None:
            self._form.update_clusters()
        self._quiet = True
        try:
            self.header.set_clusters(self._clusters)
        finally:
            self._quiet = False

    def _visible_indices(self) -> list[int]:
        listing = self._listing
        if listing is None:
            return []
        wanted = self.status_filter.value
        if not wanted:
            return list(range(len(listing)))
        out = []
        for i, raw in enumerate(listing.raw):
            wid = raw.get("id") if isinstance(raw, dict) else None
            if wid in self._overrides:
                ws = self._overrides[wid]
                status = ws.workspace_status.value if ws is not None else None
            else:
                status = WorkspaceStatus.parse(
                    raw.get("workspace_status") if isinstance(raw, dict) else None).value
            if status == wanted:
                out.append(i)
        return out

    def _workspace_at(self, index: int) -> Workspace | None:
        assert self._listing is not None
        raw = self._listing.raw[index]
        wid = raw.get("id") if isinstance(raw, dict) else None
        if wid in self._overrides:
            return self._overrides[wid]
        try:
            return self._listing[index]
        except ExalsiusError:
            return None  # an item the models cannot read is left out

    def _render_page(self) -> None:
        """Redraw the current page from the last list (call with the lock held)."""
        if self._closed:
            return
        now = datetime.now(timezone.utc)
        indices = self._visible_indices()
        pages = max(1, math.ceil(len(indices) / self.page_size))
        self._page = min(self._page, pages - 1)
        start = self._page * self.page_size
        shown = [ws for ws in (self._workspace_at(i) for i in indices[start:start + self.page_size])
                 if ws is not None]
        for row, ws in zip(self._rows, shown, strict=False):
            row.show(ws, now)
        for ws in shown[len(self._rows):]:
            self._rows.append(WorkspaceRow(self, ws, now, with_start=bool(self._offers_start)))
        for row in self._rows[len(shown):]:
            row.leave_question()
        children: tuple[widgets.Widget, ...] = tuple(r.box for r in self._rows[:len(shown)])
        if not children:
            children = (self.empty,)
        if self.rows_box.children != children:
            self.rows_box.children = children
        self.page_label.value = f"page {self._page + 1} of {pages}"
        set_traits(self.prev_button, disabled=self._page == 0)
        set_traits(self.next_button, disabled=self._page >= pages - 1)
        self._render_summary()

    def _render_summary(self) -> None:
        status = self.status_filter.value
        shown = len(self._visible_indices()) if status else 0
        auto = self._delay if self.auto_toggle.value and self._started else None
        self.header.show_summary(summary_html(self.total, status, shown, self._refreshed_at,
                                              self._paused, auto))

    # -- auto-refresh ----------------------------------------------------------------------

    def _start_auto(self) -> None:
        with self._lock:
            if self._closed or self.auto_refreshing:
                return
            stop = threading.Event()
            self._auto_stop = stop
            self._delay = self.interval
            self._wake.clear()
            self._auto_thread = threading.Thread(target=self._auto_loop, args=(stop,),
                                                 name="exalsius-panel-refresh", daemon=True)
            self._auto_thread.start()
            self._render_summary()

    def _stop_auto(self) -> None:
        stop, thread = self._auto_stop, self._auto_thread
        if stop is not None:
            stop.set()
        self._wake.set()
        join_thread(thread)

    def _auto_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._wake.wait(self._delay)
            self._wake.clear()
            if stop.is_set():
                return
            try:
                changed = self._refresh("auto")
            except Exception as exc:  # a bug: show it, stop refreshing
                self.errors.show_exception(exc, "Auto-refresh stopped")
                changed = None
            with self._lock:
                if stop.is_set() or self._closed:
                    return
                if changed is None:
                    self._paused = True
                    self._render_summary()
                    return
                self._delay = (self.interval if changed
                               else min(self._delay * 1.5, self.max_interval))
                self._render_summary()

    def _poke(self) -> None:
        """Refresh soon: reset the backoff and wake the auto-refresh thread."""
        self._delay = self.interval
        self._wake.set()

    def _shutdown(self) -> None:
        """Stop background work without touching widgets (kernel shutdown)."""
        if self._auto_stop is not None:
            self._auto_stop.set()
        self._wake.set()

    # -- callbacks -------------------------------------------------------------------------

    def _on_refresh_click(self) -> None:
        self.errors.clear()
        self.refresh()
        self._delay = self.interval

    def _turn(self, step: int) -> None:
        self.go_to_page(self._page + step)

    def _on_auto_toggle(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._paused = False
            if self._started:
                self._start_auto()
        else:
            self._stop_auto()
        with self._lock:
            self._render_summary()

    def _on_cluster_filter(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self._page = 0
        self.refresh()

    def _on_status_filter(self, change: dict[str, Any]) -> None:
        with self._lock:
            self._page = 0
            self._render_page()

    def _run_action(self, row: WorkspaceRow, action: str, confirmed: bool) -> None:
        """Send one action for a row's workspace and show the server's answer in the row."""
        ws = row.workspace
        if ws is None or row.busy:
            return
        needs_confirm = action in ("stop", "delete")
        button = {"stop": row.stop_button, "delete": row.delete_button,
                  "start": row.start_button}[action]
        if (needs_confirm and not confirmed) or button is None or button.disabled:
            return
        self.errors.clear()
        with self._lock:
            row.busy = True
            row.leave_question()
            self._inflight += 1
            self._gen += 1
            row.render()
        result: Workspace | None = ws
        gone = False
        try:
            result = self._perform(action, ws.id)
            gone = result is None
        except NotFoundError as exc:  # the server no longer has it: that is its answer
            self.errors.show_exception(exc, f"Could not {action} {ws.name}")
            result, gone = None, True
        except ExalsiusError as exc:
            self.errors.show_exception(exc, f"Could not {action} {ws.name}")
            result = self._describe_quietly(ws.id) or ws
        finally:
            with self._lock:
                row.busy = False
                self._inflight -= 1
                self._gen += 1
                if result is not None and row.workspace is not None \
                        and row.workspace.id == ws.id:
                    row.workspace = result
                self._overrides[ws.id] = result
                row.render()
                self._render_page()
        if gone:
            self.refresh()
        self._poke()

    def _perform(self, action: str, workspace_id: str) -> Workspace | None:
        """Call the client (the same calls the magics make), then describe the workspace."""
        if action == "stop":
            self.client.stop_workspace(workspace_id)
        elif action == "delete":
            self.client.delete_workspace(workspace_id)
        elif action == "start":
            self.client.start_workspace(workspace_id)
        else:
            raise ValueError(f"unknown action {action!r}")
        try:
            return self.client.describe_workspace(workspace_id)
        except NotFoundError:
            return None

    def _describe_quietly(self, workspace_id: str) -> Workspace | None:
        try:
            return self.client.describe_workspace(workspace_id)
        except ExalsiusError:
            return None

    def _on_created(self, workspace_id: str) -> None:
        progress = CreationProgress([workspace_id], self.client, on_done=lambda _p: self._poke())
        with self._lock:
            self._progress.append(progress)
            old = self._progress[:-MAX_PROGRESS_ENTRIES]
            self._progress = self._progress[-MAX_PROGRESS_ENTRIES:]
            self.progress_box.children = tuple(p.widget for p in self._progress)
        for p in old:
            p.close()
        progress.start()
        self.refresh()
        self._poke()


__all__ = ["WorkspacePanel", "WorkspaceRow"]
