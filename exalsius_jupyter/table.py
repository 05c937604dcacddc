"""WorkspaceTable: what a workspaces table shows, without any widget.

The last list, the answers of actions newer than it, the rows held or gone, the filters and the
page. The panel draws it; a test or a script can drive it bare. Thread-safe: every method takes
``lock``, which a view may also hold while it draws a consistent picture.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .errors import ExalsiusError
from .model.workspace import Workspace, WorkspaceList, WorkspaceStatus


@dataclass(frozen=True)
class Ticket:
    """What a list was asked for: the table's generation and cluster filter at that moment."""

    generation: int
    cluster_id: str | None


@dataclass(frozen=True)
class Applied:
    """What a list changed: whether the workspaces differ, and the clusters seen first now."""

    changed: bool
    new_clusters: frozenset[str]


class WorkspaceTable:
    """The workspaces of one endpoint as rows, filtered by status and cut into pages.

    Args:
        page_size: rows per page (at least 1).
        cluster_id: the cluster filter's first value (None: every cluster).
    """

    def __init__(self, page_size: int = 50, cluster_id: str | None = None) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.lock = threading.RLock()
        self.page_size = int(page_size)
        self.cluster_id = cluster_id
        self.status = ""  # the status filter: "" for every status
        self.clusters: set[str] = {cluster_id} if cluster_id else set()
        self.refreshed_at: datetime | None = None
        self.listing: WorkspaceList | None = None
        self._page = 0
        self._generation = 0
        self._in_flight = 0
        self._overrides: dict[str, Workspace | None] = {}  # action answers newer than the list
        self._held: set[str] = set()  # rows an action just answered: kept until the next list
        self._deleted: set[str] = set()  # deletes the server confirmed: never shown again

    # -- what is shown ---------------------------------------------------------------------

    @property
    def total(self) -> int | None:
        """The server's total (X-Total-Count) of the last list; None before one succeeded."""
        return self.listing.total if self.listing is not None else None

    @property
    def page(self) -> int:
        """The current page, counted from 0."""
        return self._page

    @property
    def pages(self) -> int:
        """How many pages the filtered workspaces fill (at least 1)."""
        with self.lock:
            return max(1, math.ceil(len(self._visible()) / self.page_size))

    @property
    def matching(self) -> int:
        """How many workspaces pass the filters."""
        with self.lock:
            return len(self._visible())

    def go_to(self, page: int) -> int:
        """Turn to ``page`` (clamped to the pages there are) and return it."""
        with self.lock:
            self._page = max(0, min(int(page), self.pages - 1))
            return self._page

    def filter_status(self, status: str) -> None:
        """Show only workspaces in ``status`` ("" for all), from the first page."""
        with self.lock:
            self.status, self._page = status, 0

    def filter_cluster(self, cluster_id: str | None) -> None:
        """List only ``cluster_id``'s workspaces from the next list on, from the first page."""
        with self.lock:
            self.cluster_id, self._page = cluster_id or None, 0

    def page_workspaces(self) -> list[Workspace]:
        """The workspaces of the current page, in the server's order, each once."""
        with self.lock:
            indices = self._visible()
            self._page = min(self._page, max(1, math.ceil(len(indices) / self.page_size)) - 1)
            start = self._page * self.page_size
            shown: dict[str, Workspace] = {}
            for i in indices[start:start + self.page_size]:
                ws = self._workspace_at(i)
                if ws is not None:
                    shown.setdefault(ws.id, ws)
            return list(shown.values())

    def _visible(self) -> list[int]:
        listing = self.listing
        if listing is None:
            return []
        out = []
        for i, raw in enumerate(listing.raw):
            wid = text_of(raw, "id")
            if wid is not None and (wid in self._deleted or (
                    wid in self._overrides and self._overrides[wid] is None)):
                continue  # gone, by the server's own answer
            if not self.status or (wid is not None and wid in self._held):
                out.append(i)
                continue
            ws = self._overrides.get(wid) if wid is not None else None
            status = ws.workspace_status if ws is not None else WorkspaceStatus.parse(
                raw.get("workspace_status") if isinstance(raw, dict) else None)
            if status.value == self.status:
                out.append(i)
        return out

    def _workspace_at(self, index: int) -> Workspace | None:
        assert self.listing is not None
        wid = text_of(self.listing.raw[index], "id")
        if wid is not None and wid in self._overrides:
            return self._overrides[wid]
        try:
            return self.listing[index]
        except ExalsiusError:
            return None  # an item the models cannot read is left out

    # -- what changes it -------------------------------------------------------------------

    def ticket(self) -> Ticket:
        """Take before a list call: ``apply`` refuses a list that an action or filter outdated."""
        with self.lock:
            return Ticket(self._generation, self.cluster_id)

    def apply(self, listing: WorkspaceList, ticket: Ticket) -> Applied | None:
        """Show ``listing``; None (and nothing changes) when it may be stale."""
        with self.lock:
            if (ticket.generation != self._generation or self._in_flight
                    or ticket.cluster_id != self.cluster_id):
                return None  # an action or a filter change came meanwhile
            changed = self.listing is None or listing.raw != self.listing.raw
            self.listing = listing
            self._overrides.clear()
            self._held.clear()
            self._deleted &= {wid for raw in listing.raw if (wid := text_of(raw, "id"))}
            self.refreshed_at = datetime.now(timezone.utc)
            seen = {c for raw in listing.raw if (c := text_of(raw, "cluster_id"))}
            new = frozenset(seen - self.clusters)
            self.clusters |= new
            return Applied(changed, new)

    def begin_action(self) -> None:
        """An action is under way: lists asked for before it ends are not applied."""
        with self.lock:
            self._in_flight += 1
            self._generation += 1

    def end_action(self, workspace_id: str, workspace: Workspace | None, *,
                   deleted: bool = False) -> None:
        """The action's answer: show ``workspace`` (None: gone) until the next list."""
        with self.lock:
            self._in_flight -= 1
            self._generation += 1
            self._overrides[workspace_id] = workspace
            self._held.add(workspace_id)
            if deleted:
                self._deleted.add(workspace_id)


def text_of(raw: Any, key: str) -> str | None:
    """A workspace object's non-empty string field (a broken answer may hold anything)."""
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, str) and value else None


__all__ = ["Applied", "Ticket", "WorkspaceTable", "text_of"]
