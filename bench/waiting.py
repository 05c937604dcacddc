"""Scale of waiting (#10.3): `%exalsius wait` and CreationProgress following 500 creations.

Usage: ``.venv/bin/python bench/waiting.py [--creations 500] [--ticks 5]``. A measurement run by
hand, not a test: it prints each figure with its goal and PASS/MISS and exits 0 either way.

Against the embedded sandbox with the creations (PENDING for the whole run) among 1,000 other
workspaces, it ticks by hand, a second of fake time per tick, and reports per tick

- the requests the server saw (goal: 1, whatever the number of workspaces);
- the Python time of ``WorkspaceWatcher.poll()`` (what ``%exalsius wait`` does per tick outside
  a kernel, plus printing the changes, ``TextProgress``);
- the Python time of a CreationProgress tick (the poll plus redrawing the widget), and the
  update messages it sends, when nothing changed and when one workspace turned RUNNING: the
  rows that did not change must send nothing (goal: <= 2 messages, and one row touched).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ipywidgets as widgets  # noqa: E402

from exalsius_jupyter.api.client import ExalsiusClient  # noqa: E402
from exalsius_jupyter.magics.textprogress import TextProgress  # noqa: E402
from exalsius_jupyter.sandbox import Sandbox  # noqa: E402
from exalsius_jupyter.watch import WorkspaceWatcher  # noqa: E402
from exalsius_jupyter.widgets import CreationProgress  # noqa: E402
from exalsius_jupyter.widgets.base import walk  # noqa: E402

SENT: list[widgets.Widget] = []
_send = widgets.Widget._send


def _counting_send(self: widgets.Widget, msg: dict[str, Any], buffers: Any = None) -> None:
    SENT.append(self)
    _send(self, msg, buffers)


def line(what: str, value: str, goal: str, ok: bool | None) -> None:
    verdict = "" if ok is None else ("PASS" if ok else "MISS")
    print(f"  {what:<62} {value:<22} {goal:<8} {verdict}")


def ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1e3:.1f} ms (max {max(times) * 1e3:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creations", type=int, default=500)
    parser.add_argument("--others", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=5)
    args = parser.parse_args()
    n = args.creations
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    widgets.Widget._send = _counting_send  # type: ignore[method-assign]
    with Sandbox(workspaces=args.others, seed=11, pending_seconds=3600) as sb, \
            ExalsiusClient(sb.url) as client:
        ids = [sb.add({"name": f"new-{i}", "workspace_status": "PENDING"}) for i in range(n)]

        # %exalsius wait outside a kernel: the watcher, printing each change.
        watcher = WorkspaceWatcher(client, ids)
        text = TextProgress(out=io.StringIO())
        text.start(watcher)
        watcher.poll()
        text(watcher)
        poll_times, requests = [], []
        for _ in range(args.ticks):
            sb.reset_counts()
            t0 = time.perf_counter()
            watcher.poll()
            text(watcher)
            poll_times.append(time.perf_counter() - t0)
            requests.append(sb.request_count())

        # %exalsius wait in a kernel: CreationProgress, ticked by hand.
        t0 = time.perf_counter()
        progress = CreationProgress(ids, client)
        built = time.perf_counter() - t0
        clock = [progress.tracked[ids[0]].started]
        progress.watcher.clock = lambda: clock[0]

        def tick() -> float:
            clock[0] += 1.0
            t0 = time.perf_counter()
            progress.watcher.poll()
            progress._render()
            return time.perf_counter() - t0

        first = tick()  # every row: Submitted → Pending
        quiet_times, quiet_msgs = [], []
        for _ in range(args.ticks):
            SENT.clear()
            quiet_times.append(tick())
            quiet_msgs.append(len(SENT))
        change_times, change_msgs, touched = [], [], []
        for wid in ids[3:3 + args.ticks]:
            sb.set_status(wid, "RUNNING")
            SENT.clear()
            change_times.append(tick())
            change_msgs.append(len(SENT))
            sent = {id(w) for w in SENT}
            rows = [{id(w) for w in walk(r.box)} - {id(progress.clock)}
                    for r in progress.rows.values()]
            touched.append(sum(1 for r in rows if r & sent))
        progress.close()
    widgets.Widget._send = _send  # type: ignore[method-assign]

    print(f"%exalsius wait, {n} creations among {args.others} workspaces:")
    line("requests per tick", " ".join(map(str, requests)), "1", set(requests) == {1})
    line("Python time per tick: WorkspaceWatcher.poll() + TextProgress", ms(poll_times), "",
         None)
    print(f"CreationProgress, {n} creations:")
    line("build the widget (Python)", f"{built * 1e3:.0f} ms", "", None)
    line("first tick (every row Submitted → Pending), Python", f"{first * 1e3:.0f} ms", "",
         None)
    line("tick, nothing changed: Python time", ms(quiet_times), "", None)
    line("tick, nothing changed: update messages", " ".join(map(str, quiet_msgs)), "<= 2",
         max(quiet_msgs) <= 2)
    line("tick, one turned RUNNING: Python time", ms(change_times), "", None)
    line("tick, one turned RUNNING: rows touched", " ".join(map(str, touched)), "1",
         set(touched) == {1})
    line("tick, one turned RUNNING: update messages", " ".join(map(str, change_msgs)), "",
         None)
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
