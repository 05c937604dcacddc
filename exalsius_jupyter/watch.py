"""One watcher for many workspaces: one request per tick, backoff, a hard timeout, one policy.

An error that waiting may cure (``poller.transient``) is kept in ``last_error`` and backed off;
any other ends the wait at once: it is kept in ``error`` and ``raise_for_outcome`` raises it.
The terminal, the progress widget and Python all drive this same watcher.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from .api.client import ExalsiusClient
from .errors import ExalsiusError, NotFoundError, WaitTimeoutError, WorkspaceFailedError
from .model.workspace import Workspace, WorkspaceStatus
from .poller import Backoff, Poller, transient


class Stage(str, Enum):
    """Where a workspace being waited for is: its status as a person reads it, or how it ended."""

    SUBMITTED = "Submitted"
    PENDING = "Pending"
    RUNNING = "Running"
    FAILED = "Failed"
    STOPPED = "Stopped"
    DELETED = "Deleted"
    TIMED_OUT = "Timed out"
    CANCELLED = "Cancelled"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, status: WorkspaceStatus) -> Stage:
        """The stage a workspace status means (an unknown status still counts as pending)."""
        return _STAGES[status]


@dataclass
class Tracked:
    """What is known about one workspace being waited for."""

    workspace_id: str
    started: float
    workspace: Workspace | None = None
    stage: Stage = Stage.SUBMITTED
    finished: float | None = None
    gone: bool = False

    @property
    def status(self) -> WorkspaceStatus | None:
        """The last status the server reported, or None before the first sighting."""
        return self.workspace.workspace_status if self.workspace else None

    @property
    def done(self) -> bool:
        """Whether waiting for this workspace has ended, one way or another."""
        return self.finished is not None

    @property
    def succeeded(self) -> bool:
        """Whether it reached RUNNING."""
        return self.stage is Stage.RUNNING

    @property
    def name(self) -> str:
        """The workspace's name once seen, else its id."""
        return self.workspace.name if self.workspace else self.workspace_id

    def elapsed(self, now: float) -> float:
        """Seconds since tracking started, frozen once done."""
        return (self.finished or now) - self.started


_STAGES = {
    WorkspaceStatus.PENDING: Stage.PENDING,
    WorkspaceStatus.RUNNING: Stage.RUNNING,
    WorkspaceStatus.FAILED: Stage.FAILED,
    WorkspaceStatus.STOPPED: Stage.STOPPED,
    WorkspaceStatus.DELETED: Stage.DELETED,
    WorkspaceStatus.UNKNOWN: Stage.PENDING,
}


class WorkspaceWatcher:
    """Waits for workspaces to reach RUNNING (or fail) with one API request per tick.

    Args:
        client: the client to poll with (used from one thread at a time).
        workspace_ids: the workspaces to wait for (repeats are ignored).
        timeout: seconds until a workspace that has not ended counts as timed out.
        interval: seconds between polls while something changes.
        max_interval: the longest pause between polls (the backoff's cap).
        cluster_id: list only this cluster's workspaces (one list call answers for all).
        clock: a monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        client: ExalsiusClient,
        workspace_ids: Iterable[str],
        *,
        timeout: float = 600.0,
        interval: float = 1.0,
        max_interval: float = 10.0,
        cluster_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.clock = clock
        now = clock()
        self.tracked: dict[str, Tracked] = {
            wid: Tracked(wid, started=now) for wid in dict.fromkeys(workspace_ids)}
        self.deadline = now + timeout
        self.timeout = timeout
        self.interval = interval
        self.max_interval = max_interval
        self.cluster_id = cluster_id
        self.requests = 0
        self.last_error: ExalsiusError | None = None  # the transient error of the last tick
        self.error: ExalsiusError | None = None  # the error that ended the wait, if one did
        self.backoff = Backoff(interval, max_interval)

    @property
    def done(self) -> bool:
        """Whether waiting has ended: every workspace ended, or an error ended the wait."""
        return self.error is not None or all(t.done for t in self.tracked.values())

    def poll(self) -> bool:
        """One tick: one request, then update every tracked workspace; True if anything changed."""
        pending = [t for t in self.tracked.values() if not t.done]
        if not pending or self.error is not None:
            return False
        now = self.clock()
        if now >= self.deadline:
            for t in pending:
                t.stage, t.finished = Stage.TIMED_OUT, now
            return True
        try:
            seen = self._fetch(pending)
        except ExalsiusError as exc:
            if not transient(exc):  # waiting will not cure it: the wait ends with it, now
                self.error, self.last_error = exc, None
                return True
            self.last_error = exc
            self.backoff.quiet()
            return False
        self.last_error = None
        changed = False
        for t in pending:
            changed |= self._update(t, seen, now)
        if changed:
            self.backoff.reset()
        else:
            self.backoff.quiet()
        return changed

    def next_delay(self) -> float:
        """Seconds to the next tick: backs off while nothing changes or the server fails."""
        return max(0.0, min(self.backoff.delay(), self.deadline - self.clock()))

    def run(
        self,
        stop: threading.Event | None = None,
        on_tick: Callable[[WorkspaceWatcher], None] | None = None,
    ) -> dict[str, Tracked]:
        """Poll until every workspace has ended, the timeout passes, an error ends the wait, or
        ``stop`` is set (on the calling thread; ``Poller`` runs the loop)."""
        Poller(lambda: self.step(on_tick), stop=stop).run()
        return self.tracked

    def step(self, on_tick: Callable[[WorkspaceWatcher], None] | None = None) -> float | None:
        """One round of a wait: poll, report, and the pause before the next (None: done)."""
        self.poll()
        if on_tick is not None:
            on_tick(self)
        return None if self.done else self.next_delay()

    def raise_for_outcome(self) -> None:
        """Raise the error that ended the wait, else WorkspaceFailedError or WaitTimeoutError
        unless every workspace is RUNNING."""
        if self.error is not None:
            raise self.error
        failed = [t for t in self.tracked.values() if t.done and not t.succeeded]
        timed_out = [t for t in failed if t.stage is Stage.TIMED_OUT]
        if timed_out:
            names = ", ".join(t.name for t in timed_out)
            raise WaitTimeoutError(f"not RUNNING after {self.timeout:g}s: {names}")
        if failed:
            parts = ", ".join(f"{t.name} is {t.stage.upper()}" for t in failed)
            raise WorkspaceFailedError(f"workspace did not come up: {parts}")

    def _fetch(self, pending: list[Tracked]) -> dict[str, Workspace | None]:
        self.requests += 1
        if len(self.tracked) == 1:
            wid = pending[0].workspace_id
            try:
                return {wid: self.client.describe_workspace(wid)}
            except NotFoundError:
                return {wid: None}
        listing = self.client.list_workspaces(cluster_id=self._cluster())
        wanted = {t.workspace_id for t in pending}
        seen: dict[str, Workspace | None] = {}
        for index, raw in enumerate(listing.raw):  # parse only the rows being watched
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(raw_id, str) and raw_id in wanted:
                seen[raw_id] = listing[index]
        return seen

    def _cluster(self) -> str | None:
        if self.cluster_id:
            return self.cluster_id
        clusters = {t.workspace.cluster_id for t in self.tracked.values() if t.workspace}
        seen_all = all(t.workspace for t in self.tracked.values())
        return clusters.pop() if seen_all and len(clusters) == 1 else None

    def _update(self, t: Tracked, seen: dict[str, Workspace | None], now: float) -> bool:
        ws = seen.get(t.workspace_id)
        if ws is None:
            if t.workspace is None:
                return False
            t.gone, t.stage, t.finished = True, Stage.DELETED, now
            return True
        before = (t.stage, t.workspace)
        t.workspace = ws
        t.stage = Stage.of(ws.workspace_status)
        if ws.workspace_status.is_final:
            t.finished = now
        return before != (t.stage, t.workspace)


def failure_reason(client: ExalsiusClient, workspace_id: str) -> str:
    """Why a workspace FAILED, from its logs where the server has them ("" when none say)."""
    try:
        if not client.offers("logs"):
            return ""
        records = client.workspace_logs(workspace_id, limit=200)
    except ExalsiusError:
        return ""
    messages = [str(r.get("log_message") or r.get("message") or "") for r in records
                if isinstance(r, dict)]
    messages = [m for m in messages if m]
    failed = [m for m in messages if "FAIL" in m.upper()]
    return (failed or messages or [""])[-1]


def wait_for_workspaces(
    client: ExalsiusClient,
    workspace_ids: Iterable[str],
    *,
    timeout: float = 600.0,
    interval: float = 1.0,
    on_tick: Callable[[WorkspaceWatcher], None] | None = None,
) -> list[Workspace]:
    """Block until every workspace is RUNNING; raise a typed error if any fails or time runs out."""
    watcher = WorkspaceWatcher(client, workspace_ids, timeout=timeout, interval=interval)
    watcher.run(on_tick=on_tick)
    watcher.raise_for_outcome()
    return [t.workspace for t in watcher.tracked.values() if t.workspace is not None]


__all__ = ["Backoff", "Stage", "Tracked", "WorkspaceWatcher", "failure_reason",
           "wait_for_workspaces"]
