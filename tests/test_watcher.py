"""polling.py: one request per tick, backoff, a hard timeout, transient errors survived."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from support import A100_CLUSTER, Canned, CannedServer, make_spec

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.errors import (
    AuthenticationError,
    ServerError,
    WaitTimeoutError,
    WorkspaceFailedError,
)
from exalsius_jupyter.model.workspace import WorkspaceStatus
from exalsius_jupyter.sandbox import Sandbox
from exalsius_jupyter.watch import WorkspaceWatcher, wait_for_workspaces

H100_CLUSTER = "22222222-2222-4222-8222-222222222222"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _ws(wid: str, status: str, cluster: str = A100_CLUSTER) -> dict[str, Any]:
    return {"id": wid, "name": f"name-{wid}", "cluster_id": cluster, "workspace_status": status,
            "template": {"name": "jupyter-notebook", "variables": {}}, "resources": {}}


def _listing(*items: dict[str, Any]) -> dict[str, Any]:
    return {"workspaces": list(items), "total": len(items)}


@pytest.fixture
def fast_client(canned: CannedServer) -> ExalsiusClient:
    """A client on the canned server that does not retry (so each tick is one request)."""
    return ExalsiusClient(canned.url, timeout=5, retries=0)


# -- with a fake clock against a canned server -------------------------------------------


def test_single_id_uses_describe(canned: CannedServer, fast_client: ExalsiusClient) -> None:
    canned.json(_ws("w1", "PENDING")).json({"workspace": _ws("w1", "RUNNING")})
    clock = FakeClock()
    watcher = WorkspaceWatcher(fast_client, ["w1"], clock=clock)
    assert watcher.tracked["w1"].stage == "Submitted" and watcher.tracked["w1"].status is None
    assert watcher.poll() is True
    assert watcher.tracked["w1"].stage == "Pending" and not watcher.done
    clock.advance(3)
    assert watcher.poll() is True
    t = watcher.tracked["w1"]
    assert t.stage == "Running" and t.succeeded and watcher.done
    assert t.status is WorkspaceStatus.RUNNING and t.name == "name-w1"
    assert t.elapsed(clock.now + 100) == 3  # frozen once done
    watcher.raise_for_outcome()
    assert [r.path for r in canned.requests] == ["/v1/workspace/w1"] * 2
    assert watcher.requests == 2
    assert watcher.poll() is False and canned.count() == 2  # nothing left to ask


def test_many_ids_use_one_list_call(canned: CannedServer, fast_client: ExalsiusClient) -> None:
    canned.json(_listing(_ws("a", "PENDING"), _ws("b", "PENDING"), _ws("other", "RUNNING")))
    canned.json(_listing(_ws("a", "RUNNING"), _ws("b", "FAILED")))
    watcher = WorkspaceWatcher(fast_client, ["a", "b", "a"], clock=FakeClock())
    assert list(watcher.tracked) == ["a", "b"]
    watcher.poll()
    assert canned.requests[0].path == "/v1/workspaces"
    watcher.poll()
    # once every workspace is seen on one cluster, the list is filtered by it
    assert canned.requests[1].path == f"/v1/workspaces?cluster_id={A100_CLUSTER}"
    assert watcher.done and canned.count() == 2
    assert watcher.tracked["b"].stage == "Failed"
    with pytest.raises(WorkspaceFailedError, match="name-b is FAILED"):
        watcher.raise_for_outcome()


def test_timeout_on_the_fake_clock(canned: CannedServer, fast_client: ExalsiusClient) -> None:
    canned.json(_ws("w1", "PENDING"))
    clock = FakeClock()
    watcher = WorkspaceWatcher(fast_client, ["w1"], timeout=30, interval=1, clock=clock)
    watcher.poll()
    clock.advance(29)
    assert watcher.next_delay() <= 1  # never sleeps past the deadline
    clock.advance(1)
    assert watcher.next_delay() == 0
    assert watcher.poll() is True
    assert watcher.tracked["w1"].stage == "Timed out" and watcher.done
    assert canned.count() == 1  # the timed-out tick sends nothing
    with pytest.raises(WaitTimeoutError, match="not RUNNING after 30s: name-w1"):
        watcher.raise_for_outcome()


def test_backoff_while_nothing_changes(canned: CannedServer, fast_client: ExalsiusClient) -> None:
    canned.json(_ws("w1", "PENDING"))
    watcher = WorkspaceWatcher(fast_client, ["w1"], interval=1, max_interval=4,
                               clock=FakeClock())
    delays = []
    for _ in range(6):
        watcher.poll()
        delays.append(watcher.next_delay())
    assert delays[0] == 1  # the first sighting is a change
    assert delays == sorted(delays) and delays[1] > 1
    assert delays[-1] == 4


def test_very_long_wait_does_not_overflow_backoff(
        canned: CannedServer, fast_client: ExalsiusClient) -> None:
    # Regression: the delay was interval * 1.5 ** quiet_ticks, which raises OverflowError
    # after ~1750 quiet ticks (a six-hour wait at the 10 s cap).
    canned.json(_ws("w1", "PENDING"))
    clock = FakeClock()
    watcher = WorkspaceWatcher(fast_client, ["w1"], timeout=86_400, interval=1,
                               max_interval=10, clock=clock)
    for _ in range(1800):
        watcher.poll()
        clock.advance(10)
    assert watcher.next_delay() == 10
    assert not watcher.done


def test_transient_errors_are_kept_not_raised(
        canned: CannedServer, fast_client: ExalsiusClient) -> None:
    canned.reply(Canned(503, b"busy"), Canned(502, b"<html>bad gateway</html>"))
    canned.json(_ws("w1", "RUNNING"))
    watcher = WorkspaceWatcher(fast_client, ["w1"], clock=FakeClock())
    assert watcher.poll() is False
    assert isinstance(watcher.last_error, ServerError) and watcher.last_error.status == 503
    first_delay = watcher.next_delay()
    watcher.poll()
    assert watcher.last_error is not None and watcher.last_error.status == 502
    assert watcher.next_delay() > first_delay
    assert watcher.poll() is True
    assert watcher.last_error is None and watcher.done


def test_authentication_error_ends_the_wait_and_is_raised(
        canned: CannedServer, fast_client: ExalsiusClient) -> None:
    canned.json({"detail": {"type": "about:blank", "title": "Unauthorized", "status": 401,
                            "detail": "bad token", "instance": "/workspace/w1"}}, status=401)
    watcher = WorkspaceWatcher(fast_client, ["w1"], clock=FakeClock())
    assert watcher.poll() is True and watcher.done
    assert isinstance(watcher.error, AuthenticationError) and watcher.last_error is None
    assert watcher.poll() is False and canned.count() == 1  # no request after the end
    with pytest.raises(AuthenticationError):
        watcher.raise_for_outcome()


def test_not_found_before_first_sighting_keeps_waiting(
        canned: CannedServer, fast_client: ExalsiusClient) -> None:
    not_found = {"detail": {"type": "about:blank", "title": "Not Found", "status": 404,
                            "detail": "no such workspace", "instance": "/workspace/w1"}}
    canned.json(not_found, status=404).json(_ws("w1", "RUNNING")).json(not_found, status=404)
    watcher = WorkspaceWatcher(fast_client, ["w1"], clock=FakeClock())
    assert watcher.poll() is False and watcher.tracked["w1"].stage == "Submitted"
    assert watcher.poll() is True and watcher.done


def test_vanishing_after_sighting_is_deleted(canned: CannedServer,
                                             fast_client: ExalsiusClient) -> None:
    canned.json(_listing(_ws("a", "PENDING"), _ws("b", "PENDING")))
    canned.json(_listing(_ws("b", "RUNNING")))
    watcher = WorkspaceWatcher(fast_client, ["a", "b"], clock=FakeClock())
    watcher.poll()
    watcher.poll()
    a = watcher.tracked["a"]
    assert a.gone and a.stage == "Deleted" and a.done
    with pytest.raises(WorkspaceFailedError, match="name-a is DELETED"):
        watcher.raise_for_outcome()


def test_stopped_while_waiting_is_a_failure(canned: CannedServer,
                                            fast_client: ExalsiusClient) -> None:
    canned.json(_ws("w1", "STOPPED"))
    watcher = WorkspaceWatcher(fast_client, ["w1"], clock=FakeClock())
    watcher.poll()
    assert watcher.done and watcher.tracked["w1"].stage == "Stopped"
    with pytest.raises(WorkspaceFailedError, match="STOPPED"):
        watcher.raise_for_outcome()


def test_unknown_status_keeps_waiting(canned: CannedServer, fast_client: ExalsiusClient) -> None:
    canned.json(_ws("w1", "HIBERNATING"))
    watcher = WorkspaceWatcher(fast_client, ["w1"], clock=FakeClock())
    watcher.poll()
    assert watcher.tracked["w1"].status is WorkspaceStatus.UNKNOWN and not watcher.done


def test_junk_in_someone_elses_row_does_not_stop_the_watch(
        canned: CannedServer, fast_client: ExalsiusClient) -> None:
    # Regression: every row of the list was parsed, so one malformed workspace that is not
    # being watched raised InvalidResponseError out of poll().
    canned.json(_listing("junk", {"description": "no id"}, _ws("a", "RUNNING"),
                         _ws("b", "RUNNING")))
    watcher = WorkspaceWatcher(fast_client, ["a", "b"], clock=FakeClock())
    watcher.poll()
    assert watcher.done and all(t.succeeded for t in watcher.tracked.values())


def test_run_stops_on_event(canned: CannedServer, fast_client: ExalsiusClient) -> None:
    canned.json(_ws("w1", "PENDING"))
    stop = threading.Event()
    ticks: list[int] = []

    def on_tick(w: WorkspaceWatcher) -> None:
        ticks.append(w.requests)
        if len(ticks) == 3:
            stop.set()

    watcher = WorkspaceWatcher(fast_client, ["w1"], interval=0.01, max_interval=0.02)
    watcher.run(stop, on_tick)
    assert ticks == [1, 2, 3] and not watcher.done


def test_no_ids_is_done_at_once(canned: CannedServer, fast_client: ExalsiusClient) -> None:
    watcher = WorkspaceWatcher(fast_client, [])
    watcher.run()
    assert watcher.done and canned.count() == 0
    watcher.raise_for_outcome()


# -- against the sandbox ------------------------------------------------------------------------


def test_pending_to_running(sandbox: Sandbox, client: ExalsiusClient) -> None:
    wid = client.create_workspace(make_spec())
    statuses: list[str | None] = []
    done = wait_for_workspaces(client, [wid], timeout=30, interval=0.05,
                               on_tick=lambda w: statuses.append(w.tracked[wid].stage))
    assert [ws.id for ws in done] == [wid]
    assert done[0].workspace_status is WorkspaceStatus.RUNNING and done[0].access_url
    assert statuses[0] == "Pending" and statuses[-1] == "Running"


def test_failed_on_an_over_capacity_cluster(sandbox: Sandbox, client: ExalsiusClient) -> None:
    ok = client.create_workspace(make_spec(name="fits"))
    too_big = client.create_workspace(make_spec(name="too-big", resources={"gpu_count": 99}))
    watcher = WorkspaceWatcher(client, [ok, too_big], timeout=30, interval=0.05)
    watcher.run()
    assert watcher.tracked[ok].succeeded
    assert watcher.tracked[too_big].stage == "Failed"
    assert watcher.tracked[too_big].status is WorkspaceStatus.FAILED
    with pytest.raises(WorkspaceFailedError, match="too-big is FAILED"):
        watcher.raise_for_outcome()
    with pytest.raises(WorkspaceFailedError):
        wait_for_workspaces(client, [too_big], timeout=30, interval=0.05)


def test_wait_times_out(sandbox: Sandbox, client: ExalsiusClient) -> None:
    stuck = sandbox.add({"name": "stuck", "workspace_status": "PENDING"})
    with pytest.raises(WaitTimeoutError, match="stuck"):
        wait_for_workspaces(client, [stuck], timeout=0.5, interval=0.05)


def test_outage_then_recovery(sandbox: Sandbox) -> None:
    client = ExalsiusClient(sandbox.url, timeout=5, retries=0)
    wid = client.create_workspace(make_spec())
    sandbox.outage(True)
    errors: list[str] = []

    def on_tick(w: WorkspaceWatcher) -> None:
        if w.last_error is not None:
            errors.append(type(w.last_error).__name__)
            if len(errors) == 3:
                sandbox.outage(False)

    watcher = WorkspaceWatcher(client, [wid], timeout=30, interval=0.05, max_interval=0.1)
    watcher.run(on_tick=on_tick)
    assert errors == ["ServerError"] * 3
    assert watcher.last_error is None and watcher.tracked[wid].succeeded
    watcher.raise_for_outcome()


def test_one_request_per_tick_for_ten(sandbox: Sandbox, client: ExalsiusClient) -> None:
    ids = [client.create_workspace(make_spec(name=f"ws-{i}")) for i in range(10)]
    sandbox.reset_counts()
    per_tick: list[int] = []
    last = [0]

    def on_tick(w: WorkspaceWatcher) -> None:
        now = sandbox.request_count()
        per_tick.append(now - last[0])
        last[0] = now

    watcher = WorkspaceWatcher(client, ids, timeout=30, interval=0.05, max_interval=0.1)
    watcher.run(on_tick=on_tick)
    watcher.raise_for_outcome()
    assert len(per_tick) >= 2 and set(per_tick) == {1}
    assert sandbox.request_count() == watcher.requests == len(per_tick)
    assert sandbox.request_count("GET", "/workspaces") == watcher.requests
    assert sandbox.request_count("GET", "/workspace/{id}") == 0


def test_describe_for_a_single_id(sandbox: Sandbox, client: ExalsiusClient) -> None:
    wid = client.create_workspace(make_spec())
    sandbox.reset_counts()
    wait_for_workspaces(client, [wid], timeout=30, interval=0.05)
    assert sandbox.request_count("GET", "/workspace/{id}") == sandbox.request_count() >= 1
    assert sandbox.request_count("GET", "/workspaces") == 0


def test_deleted_while_waiting(sandbox: Sandbox, client: ExalsiusClient) -> None:
    a = client.create_workspace(make_spec(name="a"))
    b = client.create_workspace(make_spec(name="b"))
    client.delete_workspace(a)
    watcher = WorkspaceWatcher(client, [a, b], timeout=30, interval=0.05)
    watcher.run()
    assert watcher.tracked[a].stage == "Deleted" and watcher.tracked[b].succeeded
