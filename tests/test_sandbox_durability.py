"""`--state FILE`: every acknowledged write survives `kill -9` of the sandbox process (#7.11).

The sandbox runs as `python -m exalsius_jupyter.sandbox` in a subprocess on 127.0.0.1 with a large
pre-populated state; a few threads send creates and deletes and record which were acknowledged
(the HTTP answer arrived); the process is killed with SIGKILL while writes are still in flight,
restarted on the same file, and every acknowledged create must exist and every acknowledged delete
must be DELETED (or gone). Unacknowledged writes may have happened or not: they are not checked.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from exalsius_jupyter.sandbox import Sandbox, store
from exalsius_jupyter.sandbox.persist import journal_path, load_state

REPO = Path(__file__).resolve().parents[1]
A100 = "11111111-1111-4111-8111-111111111111"
RECORDS = 12_000  # above the old "save at most every 5 s" threshold of 10,000
THREADS = 4
WRITES_PER_THREAD = 250  # half creates, half deletes
KILL_AFTER = 800  # acknowledged writes before SIGKILL; the rest are in flight or never sent
TIMEOUT = 30.0
STARTUP_LIMIT = 120.0  # a hang guard only: a server that never prints its URL fails the test


@dataclass
class Acks:
    """What the server acknowledged, shared by the writer threads."""

    created: dict[str, str] = field(default_factory=dict)  # id -> name
    deleted: set[str] = field(default_factory=set)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    enough: threading.Event = field(default_factory=threading.Event)

    def add(self, kind: str, workspace_id: str, name: str = "") -> None:
        """Record one acknowledged write."""
        with self.lock:
            if kind == "create":
                self.created[workspace_id] = name
            else:
                self.deleted.add(workspace_id)
            self.count += 1
            if self.count >= KILL_AFTER:
                self.enough.set()


class Server:
    """The sandbox CLI as a subprocess on 127.0.0.1; always killed by `close`."""

    def __init__(self, state: Path, *extra: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "exalsius_jupyter.sandbox", "--host", "127.0.0.1",
             "--port", "0", "--state", str(state), "--quiet", "--pending-seconds", "600",
             "--deleted-ttl", "3600", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=REPO,
        )  # fmt: skip
        self.url = self._first_line()

    def _first_line(self) -> str:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(STARTUP_LIMIT):
                raise AssertionError("the sandbox did not print its URL")
        url = self.proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        return url

    def kill9(self) -> None:
        """SIGKILL: no signal handler, no atexit, no final save."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=TIMEOUT)

    def close(self) -> None:
        """Kill the process if it still runs and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=TIMEOUT)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def listed(self) -> dict[str, dict[str, Any]]:
        """Every listed workspace by id."""
        r = requests.get(f"{self.url}/workspaces", timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        return {w["id"]: w for w in r.json()["workspaces"]}


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers started by the test; every one is killed at the end."""
    started: list[Server] = []
    yield started
    for server in started:
        server.close()


def create_body(name: str) -> dict[str, Any]:
    """A valid create body."""
    return {
        "name": name,
        "cluster_id": A100,
        "template": {"name": "jupyter-notebook", "variables": {}},
        "resources": {"gpu_count": 1},
    }


def writer(url: str, thread: int, victims: list[str], acks: Acks) -> None:
    """Alternate creates and deletes until done or the server is gone; record acknowledgements."""
    with requests.Session() as http:
        for i in range(WRITES_PER_THREAD):
            try:
                if i % 2 == 0:
                    name = f"durable-{thread}-{i}"
                    r = http.post(f"{url}/workspaces", json=create_body(name), timeout=TIMEOUT)
                    if r.status_code == 201:
                        acks.add("create", r.json()["workspace_id"], name)
                else:
                    victim = victims[i // 2]
                    r = http.delete(f"{url}/workspace/{victim}", timeout=TIMEOUT)
                    if r.status_code == 200:
                        acks.add("delete", victim)
            except requests.RequestException:
                return  # killed: this write and the rest are unacknowledged


def test_acknowledged_writes_survive_kill_9(tmp_path: Path, servers: list[Server]) -> None:
    state = tmp_path / "state.json"
    first = Server(state, "--workspaces", str(RECORDS), "--seed", "7")
    servers.append(first)
    before = first.listed()
    assert len(before) == RECORDS
    alive = sorted(i for i, w in before.items() if w["workspace_status"] != "DELETED")
    per_thread = WRITES_PER_THREAD // 2
    acks = Acks()
    threads = [
        threading.Thread(
            target=writer,
            args=(first.url, t, alive[t * per_thread : (t + 1) * per_thread], acks),
        )
        for t in range(THREADS)
    ]
    for t in threads:
        t.start()
    finished = threading.Thread(target=lambda: [t.join() for t in threads])
    finished.start()
    while not acks.enough.wait(0.05) and finished.is_alive():
        pass
    first.kill9()  # while the writers are still sending, as far as they got
    finished.join()
    assert acks.count >= KILL_AFTER
    stale = tmp_path / f".{state.name}.killed-mid-save.tmp"  # what a kill during a save leaves
    stale.write_text("{")

    again = Server(state, "--workspaces", "5", "--seed", "8")  # the state file wins
    servers.append(again)
    after = again.listed()
    lost_creates = [i for i, name in acks.created.items() if after.get(i, {}).get("name") != name]
    revived = [i for i in acks.deleted if i in after and after[i]["workspace_status"] != "DELETED"]
    figures = (
        f"{RECORDS} records; acknowledged {len(acks.created)} creates and {len(acks.deleted)} "
        f"deletes; after kill -9 lost {len(lost_creates)} creates, revived {len(revived)} deletes"
    )
    print(figures)
    assert not lost_creates and not revived, figures
    assert len(after) >= RECORDS + len(acks.created)  # the state file, not a fresh population
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


# -- the journal in process: compaction, a kill during compaction, a torn last line -----------


@pytest.fixture
def running() -> Iterator[list[Sandbox]]:
    """In-process sandboxes; each is stopped at the end (a sandbox never stopped is 'killed')."""
    started: list[Sandbox] = []
    yield started
    for sb in started:
        sb.stop()


def listing(sb: Sandbox) -> dict[str, Any]:
    """The list response."""
    r = requests.get(f"{sb.url}/workspaces", timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def busy(sb: Sandbox, n: int) -> None:
    """n creates, then a stop, a start and a delete of some of them."""
    with requests.Session() as http:
        ids = []
        for i in range(n):
            r = http.post(f"{sb.url}/workspaces", json=create_body(f"made-{i}"), timeout=TIMEOUT)
            assert r.status_code == 201, r.text
            ids.append(r.json()["workspace_id"])
        for action in ("stop", "start"):
            assert http.post(f"{sb.url}/workspace/{ids[0]}/{action}", timeout=TIMEOUT).ok
        assert http.delete(f"{sb.url}/workspace/{ids[1]}", timeout=TIMEOUT).ok


def test_journal_is_compacted_and_nothing_is_lost(
    tmp_path: Path, running: list[Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "COMPACT_MIN_BYTES", 4000)
    saves: list[int] = []
    real_save = store.save_state
    monkeypatch.setattr(store, "save_state", lambda *a: saves.append(1) or real_save(*a))
    state = tmp_path / "s.json"
    sb = Sandbox(pending_seconds=600, deleted_ttl=600, state=state).start()
    running.append(sb)
    busy(sb, 40)
    assert len(saves) >= 3  # the first snapshot, then compactions as the journal outgrew it
    assert journal_path(state).stat().st_size <= max(4000, state.stat().st_size) + 1000
    again = Sandbox(pending_seconds=600, deleted_ttl=600, state=state).start()  # sb never stops
    running.append(again)
    assert listing(again) == listing(sb)


def test_a_journal_left_by_a_kill_during_compaction_replays_to_the_same_state(
    tmp_path: Path, running: list[Sandbox]
) -> None:
    state = tmp_path / "s.json"
    sb = Sandbox(pending_seconds=0.05, deleted_ttl=600, workspaces=20, seed=3, state=state)
    running.append(sb.start())
    busy(sb, 10)
    for _ in range(1000):  # bounded: until every PENDING one this test made became RUNNING
        made = [w for w in listing(sb)["workspaces"] if w["name"].startswith("made-")]
        if all(w["workspace_status"] != "PENDING" for w in made):
            break
        time.sleep(0.01)
    journal = journal_path(state).read_bytes()
    assert journal.count(b"\n") == 13
    sb.store.flush()  # compaction: the snapshot holds everything, the journal is gone
    assert not journal_path(state).exists()
    journal_path(state).write_bytes(journal)  # as if killed between the rename and the removal
    again = Sandbox(pending_seconds=0.05, deleted_ttl=600, state=state).start()
    running.append(again)
    assert listing(again) == listing(sb) and listing(again)["total"] == 30


def test_a_torn_last_line_is_dropped_and_later_writes_still_count(
    tmp_path: Path, running: list[Sandbox]
) -> None:
    state = tmp_path / "s.json"
    first = Sandbox(pending_seconds=600, state=state).start()
    running.append(first)
    busy(first, 3)
    with journal_path(state).open("ab") as out:
        out.write(b'{"id": "half a line, never acknowledged')
    second = Sandbox(pending_seconds=600, state=state).start()
    running.append(second)
    assert listing(second) == listing(first)
    r = requests.post(f"{second.url}/workspaces", json=create_body("after"), timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    third = Sandbox(pending_seconds=600, state=state).start()
    running.append(third)
    assert listing(third) == listing(second) and listing(third)["total"] == 4


def test_a_corrupt_journal_line_is_an_error_naming_it(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    journal_path(state).write_bytes(b"not json\n{}\n")
    with pytest.raises(ValueError, match=r"s\.json\.journal:1"):
        load_state(state)


def test_clean_stop_leaves_only_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    (tmp_path / ".s.json.abc.tmp").write_text("{")
    with Sandbox(pending_seconds=600, state=state) as sb:
        busy(sb, 3)
        assert not (tmp_path / ".s.json.abc.tmp").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
    assert len(load_state(state) or []) == 3


def test_help_says_what_is_durable() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-m", "exalsius_jupyter.sandbox", "--help"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=TIMEOUT, check=True,
    ).stdout  # fmt: skip
    flat = " ".join(out.split())
    assert "an acknowledged write survives kill -9" in flat
    assert "not fsync'ed per write" in flat and "power loss" in flat
