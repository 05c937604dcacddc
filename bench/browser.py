"""What the widgets cost in the browser (#10.2): JupyterLab + headless Chromium, 1,000 workspaces.

Usage: ``.venv/bin/python bench/browser.py [--workspaces 1000] [--creations 50] [--json PATH]``
(needs Debian's /usr/bin/chromium, or $EXALSIUS_CHROMIUM, and the dev extras: jupyterlab,
playwright). A measurement run by hand, not a test: it prints each figure with its goal and
PASS/MISS and exits 0 either way.

It starts a sandbox with ``--workspaces`` workspaces in this process, a private JupyterLab and
Chromium (all on 127.0.0.1, all stopped at the end), then measures

- WorkspacePanel: the time from running its cell to the first page of rows visible (twice: a
  fresh kernel, then the same kernel again), the time of page flips, and the comm messages and
  bytes of each auto-refresh when nothing changed and when one status changed;
- CreationProgress with ``--creations`` creations: the time to its rows visible, and the
  messages of a poll where nothing changed and of one where one status changed.

Messages are counted twice: in the kernel (a first cell wraps ``ipywidgets.Widget._send`` and
``Widget.open``; this script reads the counters through its own client of the same kernel) and
on the wire (the comm_msg/comm_open frames the browser's kernel websocket receives, and their
bytes). Times are taken in the browser's own clock where a click starts them (page flips), else
around Playwright's key press and a requestAnimationFrame-polled wait.

The launcher here is compact on purpose: tests/browser/conftest.py holds the test harness (its
fixtures are pytest-bound), this script needs the same few facts without pytest.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exalsius_jupyter.api.client import ExalsiusClient  # noqa: E402
from exalsius_jupyter.sandbox import DEMO_CLUSTERS, Sandbox  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
JUPYTER_DIRS = ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
                "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR")
NOTIFICATIONS = "@jupyterlab/apputils-extension/notification.jupyterlab-settings"
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
SETTLE = 0.6  # seconds after a refresh's list request by which its redraw has been sent

# The kernel's counters: every update message (Widget._send) and every new model (open).
COUNTER_CELL = """\
import json, os, sys
sys.path.insert(0, {root!r})
os.environ.update({env!r})
import ipywidgets as _w
from exalsius_jupyter import CreationProgress, WorkspacePanel
from exalsius_jupyter.widgets.base import walk as _walk

class _Bench:
    def __init__(self):
        self.run = 0
        self.reset()

    def reset(self):
        self.sent, self.opens, self.open_bytes = [], 0, 0
        return True

    def stats(self, groups=()):
        touched = {{mid for mid, _ in self.sent}}
        models = [{{w.model_id for w in _walk(box)}} for box in groups]
        seen = {{}}
        for m in models:
            for mid in m:
                seen[mid] = seen.get(mid, 0) + 1
        models = [{{mid for mid in m if seen[mid] == 1}} for m in models]  # a row's own models
        return json.dumps({{"updates": len(self.sent), "update_bytes": sum(n for _, n in self.sent),
                           "opens": self.opens, "open_bytes": self.open_bytes,
                           "rows_touched": sum(1 for m in models if m & touched)}})

_bench = _Bench()
_send0, _open0 = _w.Widget._send, _w.Widget.open

def _send(self, msg, buffers=None):
    _bench.sent.append((self.model_id, len(json.dumps(msg, default=str))))
    return _send0(self, msg, buffers)

def _open(self):
    new = self.comm is None
    _open0(self)
    if new and self.comm is not None:
        _bench.opens += 1
        _bench.open_bytes += len(json.dumps(self.get_state(), default=str))

_w.Widget._send, _w.Widget.open = _send, _open
"""
PANEL_CELL = """\
if "panel" in globals():
    panel.close()
_bench.run += 1
panel = WorkspacePanel(interval=1.0)
panel.widget.add_class(f"exls-bench-{_bench.run}")
panel
"""
PROGRESS_CELL = """\
_bench.run += 1
progress = CreationProgress({ids!r}, interval=1.0, max_interval=1.0, timeout=3600)
progress.widget.add_class(f"exls-bench-{{_bench.run}}")
progress
"""
# Resolves once `selector` matches `count` elements that all have a size (rendered, visible).
VISIBLE_JS = """([selector, count]) => {
  const found = document.querySelectorAll(selector);
  if (found.length < count) return false;
  return [...found].every((e) => e.getBoundingClientRect().height > 0);
}"""
# Clicks `button`, then resolves with the ms until the rows show exactly `ids` (rAF-polled).
FLIP_JS = """async ([button, cells, ids]) => {
  const want = JSON.stringify(ids);
  const shown = () => JSON.stringify([...document.querySelectorAll(cells)]
    .map((e) => e.getAttribute('data-workspace-id')));
  const t0 = performance.now();
  document.querySelector(button).click();
  await new Promise((done) => {
    const check = () => (shown() === want ? done() : requestAnimationFrame(check));
    check();
  });
  return performance.now() - t0;
}"""
DONE_JS = f"""() => {{
  const nb = document.querySelector('{NOTEBOOK}');
  const ind = nb && nb.querySelector('.jp-Notebook-ExecutionIndicator');
  if (!ind || ind.getAttribute('data-status') !== 'idle') return false;
  return ![...nb.querySelectorAll('.jp-InputPrompt')].some((p) => p.textContent.includes('*'));
}}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Jupyter:
    """A private JupyterLab on 127.0.0.1 (its config dirs under ``home``)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.dirs = {name: home / name.lower() for name in JUPYTER_DIRS}
        for path in self.dirs.values():
            path.mkdir(parents=True)
        settings = self.dirs["JUPYTERLAB_SETTINGS_DIR"] / NOTIFICATIONS
        settings.parent.mkdir(parents=True)
        settings.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        self.root = home / "root"
        self.root.mkdir()
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.log = home / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}{'&' if '?' in path else '?'}token={self.token}"

    def api(self, method: str, path: str) -> Any:
        with urllib.request.urlopen(urllib.request.Request(self.url(path), method=method),
                                    timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def start(self) -> None:
        env = {**os.environ, **{k: str(v) for k, v in self.dirs.items()}}
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.root}", "--LanguageServerManager.autodetect=False"]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("JupyterLab did not start:\n" + self.log.read_text()[-3000:])
            try:
                self.api("GET", "/api/status")
                return
            except OSError:
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def write_notebook(self, name: str, cells: list[str]) -> None:
        import nbformat

        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(c) for c in cells],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                     "language": "python"}})
        nbformat.write(nb, self.root / f"{name}.ipynb")

    def kernel(self, name: str) -> Any:
        """A client of the kernel behind the notebook NAME.ipynb (started by the page)."""
        from jupyter_client import BlockingKernelClient

        for session in self.api("GET", "/api/sessions") or []:
            if session["path"].endswith(f"{name}.ipynb"):
                kc = BlockingKernelClient()
                runtime = self.dirs["JUPYTER_RUNTIME_DIR"]
                kc.load_connection_file(str(runtime / f"kernel-{session['kernel']['id']}.json"))
                kc.start_channels()
                kc.wait_for_ready(timeout=30)
                return kc
        raise RuntimeError(f"no kernel for {name}.ipynb")


def kernel_eval(kc: Any, expr: str) -> Any:
    """Evaluate ``expr`` in the kernel (silently: no prompt, no output) and return its value."""
    msg_id = kc.execute("", silent=True, user_expressions={"r": expr})
    while True:
        reply = kc.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    result = reply["content"]["user_expressions"]["r"]
    if result.get("status") != "ok":
        raise RuntimeError(f"{expr}: {result.get('ename')}: {result.get('evalue')}")
    value = ast.literal_eval(result["data"]["text/plain"])
    return json.loads(value) if isinstance(value, str) else value


class Wire:
    """The comm messages the browser's kernel websockets receive, and their bytes."""

    TYPES = (b"comm_msg", b"comm_open", b"comm_close")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.messages = self.bytes = self.opens = 0
        self.first = self.last = 0.0  # perf_counter() of the first and last comm frame

    def attach(self, ws: Any) -> None:
        if "/channels" in ws.url:
            ws.on("framereceived", self._received)

    def _received(self, payload: str | bytes) -> None:
        data = payload if isinstance(payload, bytes) else payload.encode()
        found = re.search(rb'"msg_type":\s*"(\w+)"', data)  # the header's comes first
        if found and found.group(1) in self.TYPES:
            self.last = time.perf_counter()
            self.first = self.first or self.last
            self.messages += 1
            self.bytes += len(data)
            self.opens += found.group(1) == b"comm_open"

    def snapshot(self) -> dict[str, int]:
        return {"wire_messages": self.messages, "wire_bytes": self.bytes, "wire_opens": self.opens}


class Bench:
    """One JupyterLab page, the sandbox, the counters; the measurements as methods."""

    def __init__(self, page: Any, lab: Jupyter, sb: Sandbox, wire: Wire) -> None:
        self.page, self.lab, self.sb, self.wire = page, lab, sb, wire
        self.kc: Any = None
        self.results: dict[str, Any] = {}

    def open(self, name: str, cells: list[str]) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        for session in self.lab.api("GET", "/api/sessions") or []:  # one kernel at a time
            self.lab.api("DELETE", f"/api/sessions/{session['id']}")
        self.lab.write_notebook(name, cells)
        self.page.goto(self.lab.url(f"/lab/tree/{name}.ipynb?reset"))
        self.page.wait_for_function(f"""() => {{
          const k = document.querySelector('{NOTEBOOK} .jp-Toolbar-kernelName');
          return k && !/^\\s*(No Kernel)?\\s*$/.test(k.textContent);
        }}""", timeout=90_000)
        self.page.wait_for_function(DONE_JS, timeout=90_000)
        self.run_cell(0)
        self.kc = self.lab.kernel(name)

    def run_cell(self, index: int, wait: bool = True) -> float:
        """Run code cell ``index``; the perf_counter() at the key press."""
        self.page.locator(f"{NOTEBOOK} .jp-CodeCell").nth(index).locator(".cm-content").click()
        t0 = time.perf_counter()
        self.page.keyboard.press("Control+Enter")
        if wait:
            self.page.wait_for_timeout(100)
            self.page.wait_for_function(DONE_JS, timeout=120_000)
        return t0

    def time_to_visible(self, cell: int, selector: str, count: int) -> float:
        """Seconds from running ``cell`` until ``count`` elements match ``selector``, visible."""
        t0 = self.run_cell(cell, wait=False)
        self.page.wait_for_function(VISIBLE_JS, arg=[selector, count], polling="raf",
                                    timeout=120_000)
        return time.perf_counter() - t0

    def counted(self, action: Callable[[], None], groups: str = "()") -> dict[str, Any]:
        """Kernel and wire counts of what ``action`` makes the kernel send."""
        kernel_eval(self.kc, "_bench.reset()")
        self.wire.reset()
        action()
        return {**kernel_eval(self.kc, f"_bench.stats({groups})"), **self.wire.snapshot()}

    def next_list(self, timeout: float = 90) -> None:
        """Wait for the next list request the sandbox receives, then for its redraw."""
        before = self.sb.request_count("GET", "/workspaces")
        deadline = time.monotonic() + timeout
        while self.sb.request_count("GET", "/workspaces") == before:
            if time.monotonic() > deadline:
                raise RuntimeError("no list request came")
            self.page.wait_for_timeout(20)  # lets Playwright deliver websocket frames
        self.page.wait_for_timeout(SETTLE * 1000)


def row_ids(client: ExalsiusClient) -> list[str]:
    return [w.id for w in client.list_workspaces()]


def measure_panel(b: Bench, ids: list[str], page_size: int = 50) -> dict[str, Any]:
    out: dict[str, Any] = {}
    b.open("panel", [COUNTER_CELL.format(root=str(ROOT), env={"EXALSIUS_API_URL": b.sb.url}),
                     PANEL_CELL])
    first: list[float] = []
    opens: list[dict[str, Any]] = []
    for run in (1, 2):  # a fresh kernel's first panel, then a second one in the same kernel
        tag = f".exls-bench-{run}"
        kernel_eval(b.kc, "_bench.reset()")
        b.wire.reset()
        t0 = time.perf_counter()
        seconds = b.time_to_visible(1, f"{tag} .exls-row .exls-cells", page_size)
        t1 = time.perf_counter()
        first.append(seconds)
        frames = (b.wire.first - t0, b.wire.last - t0)
        b.page.wait_for_function(DONE_JS, timeout=60_000)
        opens.append({**kernel_eval(b.kc, "_bench.stats()"), **b.wire.snapshot(),
                      "first_frame_s": frames[0], "last_frame_s": frames[1], "visible_s": t1 - t0})
    out["first_rows_s"] = first
    out["first_rows_counts"] = opens
    tag = f".exls-bench-{run}"
    flips = []
    pages = [1, 2, 3, 2, 1, 0]
    current = 0
    for target in pages:
        button = f"{tag} button.exls-{'next' if target > current else 'prev'}"
        want = ids[target * page_size:(target + 1) * page_size]

        def flip(button: str = button, want: list[str] = want) -> None:
            flips.append(b.page.evaluate(FLIP_JS, [button, f"{tag} .exls-cells", want]))
            b.page.wait_for_timeout(300)

        counts = b.counted(flip)
        flips[-1] = {"ms": flips[-1], **counts}
        current = target
    out["flips"] = flips
    # Auto-refresh: interval 1 s, growing by 1.5x while nothing changes (as in use, faster).
    b.next_list()
    quiet = []
    for _ in range(3):
        quiet.append(b.counted(b.next_list, "[r.box for r in panel.rows]"))
    out["refresh_no_change"] = quiet
    changed = []
    for i in (3, 17):
        wid = ids[i]
        status = (b.sb.get(wid) or {})["workspace_status"]
        new = "STOPPED" if status != "STOPPED" else "RUNNING"

        def change(wid: str = wid, new: str = new) -> None:
            b.sb.set_status(wid, new)
            b.next_list()

        counts = b.counted(change, "[r.box for r in panel.rows]")
        badge = b.page.locator(f'{tag} .exls-cells[data-workspace-id="{wid}"] '
                               f".exls-badge-{new.lower()}")
        counts["badge_shown"] = badge.count() == 1
        changed.append(counts)
    out["refresh_one_change"] = changed
    kernel_eval(b.kc, "panel.close() or True")
    return out


def measure_progress(b: Bench, creations: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cluster = next(iter(DEMO_CLUSTERS))
    with ExalsiusClient(b.sb.url) as client:
        ids = [client.create_workspace({
            "name": f"bench-new-{i}", "cluster_id": cluster,
            "template": {"name": "jupyter-notebook", "variables": {}},
            "resources": {"gpu_count": 1}}) for i in range(creations)]
    b.open("progress", [COUNTER_CELL.format(root=str(ROOT), env={"EXALSIUS_API_URL": b.sb.url}),
                        PROGRESS_CELL.format(ids=ids)])
    kernel_eval(b.kc, "_bench.reset()")
    b.wire.reset()
    t0 = time.perf_counter()
    seconds = b.time_to_visible(1, ".exls-bench-1 .exls-progress-row .exls-progress-bar",
                                creations)
    t1 = time.perf_counter()
    frames = (b.wire.first - t0, b.wire.last - t0)
    b.page.wait_for_function(DONE_JS, timeout=60_000)
    out["first_rows_s"] = [seconds]
    out["first_rows_counts"] = [{**kernel_eval(b.kc, "_bench.stats()"), **b.wire.snapshot(),
                                 "first_frame_s": frames[0], "last_frame_s": frames[1],
                                 "visible_s": t1 - t0}]
    rows = "[r.box for r in progress.rows.values()]"
    b.next_list()  # the first poll: Submitted → Pending everywhere
    b.next_list()
    out["poll_no_change"] = [b.counted(b.next_list, rows) for _ in range(3)]
    changed = []
    for wid in ids[3:5]:
        def change(wid: str = wid) -> None:
            b.sb.set_status(wid, "RUNNING")
            b.next_list()

        changed.append(b.counted(change, rows))
    out["poll_one_change"] = changed
    kernel_eval(b.kc, "progress.close() or True")
    return out


@contextmanager
def environment(workspaces: int) -> Iterator[tuple[Bench, Sandbox]]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("EXALSIUS_CHROMIUM") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory(prefix="exls-bench-") as tmp, \
            Sandbox(workspaces=workspaces, seed=11, pending_seconds=3600) as sb:
        home = Path(tmp)
        lab = Jupyter(home / "jupyter")
        lab.start()
        try:
            env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
                   "XDG_CACHE_HOME": str(home / "cache")}
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                             args=CHROMIUM_FLAGS, env=env)
                try:
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    wire = Wire()
                    page.on("websocket", wire.attach)
                    bench = Bench(page, lab, sb, wire)
                    try:
                        yield bench, sb
                    finally:
                        if bench.kc is not None:
                            bench.kc.stop_channels()
                        for session in lab.api("GET", "/api/sessions") or []:
                            lab.api("DELETE", f"/api/sessions/{session['id']}")
                finally:
                    browser.close()
        finally:
            lab.stop()


def line(what: str, value: str, goal: str, ok: bool | None) -> None:
    verdict = "" if ok is None else ("PASS" if ok else "MISS")
    print(f"  {what:<58} {value:<26} {goal:<10} {verdict}")


def report(panel: dict[str, Any], progress: dict[str, Any]) -> None:
    print("WorkspacePanel, 1 page of 50 rows:")
    for i, s in enumerate(panel["first_rows_s"]):
        c = panel["first_rows_counts"][i]
        line(f"run cell → first page visible ({'fresh' if i == 0 else 'same'} kernel)",
             f"{s * 1e3:.0f} ms", "<= 1500", s <= 1.5)
        line("  models opened (kernel / wire), their bytes on the wire",
             f"{c['opens']} / {c['wire_opens']}, {c['wire_bytes'] / 1e3:.0f} kB", "", None)
        line("  first / last comm frame received after the key press",
             f"{c['first_frame_s'] * 1e3:.0f} / {c['last_frame_s'] * 1e3:.0f} ms", "", None)
    ms = [f["ms"] for f in panel["flips"]]
    line("page flip (each flip)", " ".join(f"{m:.0f}" for m in ms) + " ms", "<= 300",
         max(ms) <= 300)
    f = panel["flips"][0]
    line("  messages of one flip (kernel / wire), bytes on the wire",
         f"{f['updates']} / {f['wire_messages']}, {f['wire_bytes'] / 1e3:.0f} kB", "", None)
    for key, what in (("refresh_no_change", "auto-refresh, nothing changed"),
                      ("refresh_one_change", "auto-refresh, one status changed")):
        runs = panel[key]
        msgs = [r["updates"] for r in runs]
        wire = [r["wire_messages"] for r in runs]
        touched = [r["rows_touched"] for r in runs]
        if key == "refresh_no_change":
            line(f"{what}: messages (kernel)", " ".join(map(str, msgs)), "<= 2", max(msgs) <= 2)
        else:
            shown = all(r["badge_shown"] for r in runs)
            line(f"{what}: rows updated", " ".join(map(str, touched)), "1",
                 max(touched) == 1 and shown)
            line(f"{what}: messages (kernel)", " ".join(map(str, msgs)), "", None)
        line("  on the wire: messages, bytes", " ".join(map(str, wire)) + ", "
             + " ".join(str(r["wire_bytes"]) for r in runs) + " B", "", None)
    print("CreationProgress:")
    s = progress["first_rows_s"][0]
    c = progress["first_rows_counts"][0]
    line("run cell → every row visible", f"{s * 1e3:.0f} ms", "<= 1500", s <= 1.5)
    line("  models opened (kernel / wire), their bytes on the wire",
         f"{c['opens']} / {c['wire_opens']}, {c['wire_bytes'] / 1e3:.0f} kB", "", None)
    line("  first / last comm frame received after the key press",
         f"{c['first_frame_s'] * 1e3:.0f} / {c['last_frame_s'] * 1e3:.0f} ms", "", None)
    for key, what in (("poll_no_change", "poll, nothing changed"),
                      ("poll_one_change", "poll, one status changed")):
        runs = progress[key]
        msgs = [r["updates"] for r in runs]
        touched = [r["rows_touched"] for r in runs]
        if key == "poll_no_change":
            line(f"{what}: messages (kernel)", " ".join(map(str, msgs)), "<= 2", max(msgs) <= 2)
        else:
            line(f"{what}: rows updated", " ".join(map(str, touched)), "1", max(touched) == 1)
            line(f"{what}: messages (kernel)", " ".join(map(str, msgs)), "", None)
        line("  on the wire: messages, bytes",
             " ".join(str(r["wire_messages"]) for r in runs) + ", "
             + " ".join(str(r["wire_bytes"]) for r in runs) + " B", "", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--creations", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"({os.cpu_count()} cores)")
    with environment(args.workspaces) as (bench, sb):
        with ExalsiusClient(sb.url) as client:
            ids = row_ids(client)
        panel = measure_panel(bench, ids)
        progress = measure_progress(bench, args.creations)
    load_end = os.getloadavg()
    report(panel, progress)
    print(f"load average at end: {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"load": [load, load_end], "panel": panel,
                                         "progress": progress}, indent=1))


if __name__ == "__main__":
    main()
