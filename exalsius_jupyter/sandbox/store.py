"""The sandbox's workspaces: state, lifecycle, cached list bodies and persistence, behind one lock.

Time-based transitions (PENDING ending, a DELETED workspace vanishing) are kept in a heap of due
times and applied lazily, before any read, so what is served is always current and the cached
list bodies are invalidated (via the version counter) exactly when a transition becomes due.

Each workspace lands on a node of its cluster (``Record.node_id``) when it becomes PENDING: the
first node whose free sizes hold it (free = capacity minus what PENDING and RUNNING workspaces
there hold). Where the catalogue is served (API 1.46), a workspace that fits no node ends FAILED;
in 1.5.1 mode, which shows no capacity, it still runs as before, on no node. Pre-populated and
loaded workspaces are placed the same way, in order; those that fit nowhere hold nothing.

With a state file, every write appends the changed record to the journal (see persist.py) before
it returns, so what was acknowledged survives kill -9; the time-based transitions are not
journaled, as they follow from the due times. The journal is compacted into the snapshot once it
outgrows it (at least COMPACT_MIN_BYTES), and by flush() (at start and on a clean stop).
"""

from __future__ import annotations

import contextlib
import heapq
import json
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .clusters import DEMO_CLUSTERS, HOLDING, SIZES, first_fit, held_by_node, size
from .persist import Journal, journal_path, remove_stale_temporaries, save_state
from .records import Record

WEEK = 7 * 86400.0
COMPACT_MIN_BYTES = 1 << 20  # the journal is compacted once larger than this and the snapshot
MAX_CACHED_LISTS = 64


class Conflict(Exception):
    """A non-DELETED workspace with the same name already exists on the cluster."""


def _timestamp(value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().upper().replace("Z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # RFC 3339 allows more digits than Python
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:  # valid RFC 3339 that Python cannot read (a leap second): the default
        return default
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


class WorkspaceStore:
    """Thread-safe workspace state with the sandbox's lifecycle rules."""

    def __init__(
        self,
        *,
        pending_seconds: float = 3.0,
        deleted_ttl: float = 30.0,
        api: str = "1.5.1",
        state: Path | None = None,
    ) -> None:
        self.pending_seconds = pending_seconds
        self.deleted_ttl = deleted_ttl
        self.api = api
        self.capacity_enforced = api == "1.46"  # where the catalogue shows free resources
        self.state = state
        self.lock = threading.RLock()
        self.version = 0
        self._records: dict[str, Record] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._heap: list[tuple[float, str]] = []
        self._lists: dict[str | None, tuple[bytes, int]] = {}
        self._lists_version = -1
        self._dirty = False
        self._journal: Journal | None = None
        self._snapshot_bytes = 0
        if state is not None:
            remove_stale_temporaries(state)
            self._journal = Journal(journal_path(state))
            with contextlib.suppress(FileNotFoundError):
                self._snapshot_bytes = state.stat().st_size

    # -- internals (call with the lock held) -------------------------------------------------

    def _touch(self, rec: Record | None = None) -> None:
        self.version += 1
        self._dirty = True
        if rec is not None:
            rec.cached = None

    def _schedule(self, rec: Record, due: float) -> None:
        rec.due = due
        heapq.heappush(self._heap, (due, rec.id))

    def _insert(self, rec: Record) -> None:
        self._records[rec.id] = rec
        if rec.status != "DELETED":
            self._names[(rec.cluster_id, rec.name)] = rec.id
        if rec.due is not None:
            heapq.heappush(self._heap, (rec.due, rec.id))
        self._touch(rec)

    def _forget_name(self, rec: Record) -> None:
        key = (rec.cluster_id, rec.name)
        if self._names.get(key) == rec.id:
            del self._names[key]

    def _advance(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            due, wid = heapq.heappop(self._heap)
            rec = self._records.get(wid)
            if rec is None or rec.due != due:
                continue  # superseded by a later transition
            rec.due = None
            if rec.status == "PENDING":
                rec.status = rec.outcome
                rec.events.append((due, self._ready_message(rec)))
                self._touch(rec)
            elif rec.status == "DELETED":
                del self._records[wid]
                self._touch()

    @staticmethod
    def _refusal(rec: Record) -> str | None:
        """Why the workspace's demo cluster cannot run it; None if it can (or is not a demo one)."""
        cluster = DEMO_CLUSTERS.get(rec.cluster_id)
        if cluster is None:
            return None
        return cluster.refuses(rec.resources.get("gpu_count", 0), rec.resources.get("gpu_type"))

    def _ready_message(self, rec: Record) -> str:
        if rec.status == "RUNNING":
            return f"Workspace is RUNNING; access: {rec.access_line()}"
        reason = self._refusal(rec)
        if reason is None and rec.node_id is None and self.capacity_enforced:
            cluster = DEMO_CLUSTERS.get(rec.cluster_id)
            where = cluster.name if cluster else rec.cluster_id
            reason = f"no node of cluster {where} has enough free resources"
        return f"Workspace FAILED: {reason or 'the cluster cannot run it'}"

    def _held(self, exclude: Record | None = None) -> dict[str, dict[str, int]]:
        return held_by_node(
            (rec.node_id, rec.status, rec.resources)
            for rec in self._records.values()
            if rec is not exclude
        )

    def _place(self, rec: Record, held: dict[str, dict[str, int]] | None = None) -> bool:
        """Put the record on the first node of its cluster where it fits; whether one did."""
        if self._refusal(rec) is not None:
            rec.node_id = None
            return False
        node = first_fit(rec.cluster_id, rec.resources, self._held(rec) if held is None else held)
        rec.node_id = None if node is None else node.id
        return node is not None

    def _transition(self, rec: Record, status: str, now: float, *, follow: bool = True) -> None:
        if status == "DELETED" and rec.status != "DELETED":
            self._forget_name(rec)
        elif rec.status == "DELETED" and status != "DELETED":
            self._names[(rec.cluster_id, rec.name)] = rec.id
        rec.status = status
        rec.due = None
        if status == "PENDING" and follow:
            placed = self._place(rec)
            refused = self._refusal(rec) is not None or (not placed and self.capacity_enforced)
            rec.outcome = "FAILED" if refused else "RUNNING"
            self._schedule(rec, now + self.pending_seconds)
        elif status in HOLDING and rec.node_id is None:
            self._place(rec)  # a forced status: placed where it fits, never refused
        elif status == "DELETED":
            self._schedule(rec, now + self.deleted_ttl)
        self._touch(rec)

    def _find(self, workspace_id: str) -> tuple[Record | None, float]:
        now = time.time()
        self._advance(now)
        return self._records.get(workspace_id.lower()), now

    def _changed(self, rec: Record) -> None:
        """Journal the record's new state before the write returns (and is acknowledged)."""
        if self._journal is None:
            return
        self._journal.append(rec.to_state())
        if self._journal.size > max(COMPACT_MIN_BYTES, self._snapshot_bytes):
            self.flush()

    # -- loading and saving -------------------------------------------------------------------

    def load(self, records: Iterable[Record]) -> None:
        """Add records as they are (pre-population or a state file), keeping their due times."""
        with self.lock:
            unplaced = []
            for rec in records:
                self._insert(rec)
                if rec.node_id is None and rec.status in HOLDING:
                    unplaced.append(rec)
            held = self._held()
            for rec in unplaced:  # in order, each onto what the ones before it left free
                self._place(rec, held)
                if rec.node_id is not None:
                    for key in SIZES:
                        held[rec.node_id][key] += size(rec.resources, key)

    def flush(self) -> None:
        """Compact: write the snapshot and drop the journal, if anything changed since the last."""
        with self.lock:
            if self.state is None or self._journal is None:
                return
            if not self._dirty and not self._journal.path.exists():
                return
            self._snapshot_bytes = save_state(
                self.state, [rec.to_state() for rec in self._records.values()]
            )
            self._journal.remove()  # only now: the snapshot holds every journaled change
            self._dirty = False

    # -- reads --------------------------------------------------------------------------------

    def __len__(self) -> int:
        with self.lock:
            self._advance(time.time())
            return len(self._records)

    def list_body(self, cluster_id: str | None = None) -> tuple[bytes, int]:
        """The serialised list response and its total, cached per filter until anything changes."""
        with self.lock:
            self._advance(time.time())
            if self._lists_version != self.version:
                self._lists.clear()
                self._lists_version = self.version
            hit = self._lists.get(cluster_id)
            if hit is None:
                parts = [
                    rec.json(self.api)
                    for rec in self._records.values()
                    if cluster_id is None or rec.cluster_id == cluster_id
                ]
                total = len(parts)
                body = b'{"workspaces":[' + b",".join(parts) + b'],"total":%d}' % total
                hit = (body, total)
                if len(self._lists) < MAX_CACHED_LISTS:
                    self._lists[cluster_id] = hit
            return hit

    def describe_body(self, workspace_id: str) -> bytes | None:
        """The serialised describe response (wrapped for API 1.46), or None if unknown."""
        with self.lock:
            rec, _ = self._find(workspace_id)
            if rec is None:
                return None
            body = rec.json(self.api)
            return b'{"workspace":' + body + b"}" if self.api == "1.46" else body

    def view(self, workspace_id: str) -> dict[str, Any] | None:
        """The workspace as the API currently shows it, or None if unknown."""
        with self.lock:
            rec, _ = self._find(workspace_id)
            return None if rec is None else json.loads(rec.json(self.api))  # a copy

    def occupancy(self) -> dict[str, dict[str, int]]:
        """Per node id, the sizes its PENDING and RUNNING workspaces hold."""
        with self.lock:
            self._advance(time.time())
            return self._held()

    def placements(self) -> list[Record]:
        """Copies of the current records (node, status, resources, ...), for the catalogue."""
        with self.lock:
            self._advance(time.time())
            return [replace(rec, cached=None, events=[]) for rec in self._records.values()]

    def logs(self, workspace_id: str) -> bytes | None:
        """NDJSON lifecycle log lines for the workspace, or None if unknown."""
        with self.lock:
            rec, _ = self._find(workspace_id)
            return None if rec is None else rec.log_lines()

    # -- writes -------------------------------------------------------------------------------

    def create(self, spec: Mapping[str, Any]) -> str:
        """Create a PENDING workspace from a validated spec; raise Conflict on a duplicate name."""
        with self.lock:
            now = time.time()
            self._advance(now)
            key = (spec["cluster_id"], spec["name"])
            if key in self._names:
                raise Conflict(
                    f"A workspace named {spec['name']!r} already exists on cluster "
                    f"{spec['cluster_id']} (ID {self._names[key]})."
                )
            cluster = DEMO_CLUSTERS[spec["cluster_id"]]
            resources: dict[str, Any] = {
                "gpu_count": 0, "cpu_cores": 2, "memory_gb": 8, "storage_gb": 50,
            }  # fmt: skip
            resources.update(spec["resources"])
            if resources["gpu_count"] and cluster.gpu_type:
                resources.setdefault("gpu_vendor", cluster.gpu_vendor)
                resources.setdefault("gpu_type", cluster.gpu_type)
            rec = Record(
                id=str(uuid.uuid4()),
                name=spec["name"],
                cluster_id=spec["cluster_id"],
                template=spec["template"],
                resources=resources,
                owner="sandbox-user",
                description=spec.get("description") or "",
                created_at=now,
                to_be_deleted_at=_timestamp(spec.get("to_be_deleted_at"), now + WEEK),
                status="PENDING",
                events=[(now, f"Pulling image for template {spec['template']['name']}")],
            )
            self._insert(rec)
            self._transition(rec, "PENDING", now)
            self._changed(rec)
            return rec.id

    def stop(self, workspace_id: str) -> bool:
        """Stop a PENDING or RUNNING workspace (other states: no-op); False if unknown."""
        with self.lock:
            rec, now = self._find(workspace_id)
            if rec is None:
                return False
            if rec.status not in ("STOPPED", "FAILED", "DELETED"):
                rec.events.append((now, "Workspace stopped; pods removed, volume kept"))
                self._transition(rec, "STOPPED", now)
                self._changed(rec)
            return True

    def start(self, workspace_id: str) -> str | None:
        """Start a STOPPED or FAILED workspace; "ok", "deleted", or None if unknown."""
        with self.lock:
            rec, now = self._find(workspace_id)
            if rec is None:
                return None
            if rec.status == "DELETED":
                return "deleted"
            if rec.status in ("STOPPED", "FAILED"):
                rec.events.append((now, "Workspace starting"))
                self._transition(rec, "PENDING", now)
                self._changed(rec)
            return "ok"

    def delete(self, workspace_id: str) -> bool:
        """Mark a workspace DELETED (idempotent); it vanishes after the TTL. False if unknown."""
        with self.lock:
            rec, now = self._find(workspace_id)
            if rec is None:
                return False
            if rec.status != "DELETED":
                rec.events.append((now, "Workspace deleted"))
                self._transition(rec, "DELETED", now)
                self._changed(rec)
            return True

    def set_status(self, workspace_id: str, status: str) -> None:
        """Force a status (any string); PENDING stays put, DELETED still vanishes after the TTL."""
        with self.lock:
            rec, now = self._find(workspace_id)
            if rec is None:
                raise KeyError(workspace_id)
            self._transition(rec, status, now, follow=False)
            self._changed(rec)

    def add(self, workspace: Mapping[str, Any]) -> str:
        """Insert a workspace given in the API's shape, as is (no validation, no lifecycle)."""
        now = time.time()
        template = workspace.get("template", "jupyter-notebook")
        if isinstance(template, str):
            template = {"name": template, "variables": {}}
        created_at = _timestamp(workspace.get("created_at"), now)
        rec = Record(
            id=str(workspace.get("id") or uuid.uuid4()).lower(),
            name=str(workspace["name"]),
            cluster_id=str(workspace.get("cluster_id", next(iter(DEMO_CLUSTERS)))).lower(),
            template=dict(template),
            resources=dict(workspace.get("resources", {})),
            owner=str(workspace.get("owner", "sandbox-user")),
            description=str(workspace.get("description", "")),
            created_at=created_at,
            to_be_deleted_at=_timestamp(workspace.get("to_be_deleted_at"), created_at + WEEK),
            status=str(workspace.get("workspace_status", "RUNNING")),
        )
        with self.lock:
            self._advance(now)
            if rec.status in HOLDING:
                self._place(rec)
            self._insert(rec)
            if rec.status == "DELETED":
                self._schedule(rec, now + self.deleted_ttl)
            self._changed(rec)
        return rec.id
