"""CreationProgress against the sandbox: stages, failures, timeout, outages, Cancel, stopping."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets
import pytest
from support import A100_CLUSTER, count_sends, make_spec, wait_until

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.sandbox import Sandbox
from exalsius_jupyter.widgets import CreationProgress
from exalsius_jupyter.widgets.base import shutdown_all, walk

EVIL = '<img src=x onerror="document.title=\'pwned\'">'
ONE = "/workspace/{id}"
LIST = "/workspaces"


@pytest.fixture
def made() -> Iterator[list[CreationProgress]]:
    """Progress widgets a test made; closed afterwards even when the test fails."""
    out: list[CreationProgress] = []
    yield out
    for p in out:
        p.close()


def progress_of(made: list[CreationProgress], ids: list[str], client: ExalsiusClient,
                **kw: Any) -> CreationProgress:
    kw.setdefault("interval", 0.05)
    p = CreationProgress(ids, client, **kw)
    made.append(p)
    return p


def progress_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "exalsius-progress"]


def record(widget: widgets.Widget, trait: str) -> list[Any]:
    """Every value a trait takes from now on (as the front end would receive them)."""
    seen = [getattr(widget, trait)]
    widget.observe(lambda change: seen.append(change["new"]), trait)
    return seen


def test_stages_go_submitted_pending_running(made: list[CreationProgress]) -> None:
    with Sandbox(pending_seconds=0.6) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        wid = cl.create_workspace(make_spec())
        p = progress_of(made, [wid], cl)
        row = p.rows[wid]
        assert row.stage.value == "Submitted" and row.bar.value == 10
        stages, bars = record(row.stage, "value"), record(row.bar, "value")
        styles = record(row.bar, "bar_style")
        p.start()
        assert p.running  # start() returned at once: the thread polls
        tracked = p.wait(10)
        assert tracked[wid].stage == "Running" and p.done and not p.running
        assert stages == ["Submitted", "Pending", "Running"]
        assert bars == [10, 50, 100]
        assert styles[-1] == "success"
        assert 'href="http://127.0.0.1:' in row.access.value
        assert row.cancel_button.disabled
        assert "RUNNING" in p.status.value
        assert "nb-1  Running" in repr(p)
        assert sb.request_count("GET", LIST) == 0  # one id: describe per tick, never list


def test_many_workspaces_one_list_request_per_tick(made: list[CreationProgress]) -> None:
    with Sandbox(pending_seconds=0.5) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        ids = [cl.create_workspace(make_spec(name=f"nb-{i}")) for i in range(3)]
        sb.reset_counts()
        p = progress_of(made, ids, cl)
        p.wait(10)
        assert all(t.stage == "Running" for t in p.tracked.values())
        assert sb.request_count("GET", ONE) == 0
        assert sb.request_count("GET", LIST) == p.watcher.requests


def test_failed_creation_turns_red_and_says_why(made: list[CreationProgress]) -> None:
    with Sandbox(pending_seconds=0.2) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        spec = make_spec(resources={"gpu_count": 12, "gpu_type": "A100"})  # the cluster has 8
        wid = cl.create_workspace(spec)
        p = progress_of(made, [wid], cl)
        p.wait(10)
        row = p.rows[wid]
        assert row.stage.value == "Failed"
        assert row.bar.bar_style == "danger"
        assert "FAILED: asked for 12 × A100 GPUs" in row.detail.value
        assert "offers at most 8 GPUs" in row.detail.value  # from the server's logs
        assert "exls-stage-failed" in row.detail.value  # red, by the one stylesheet
        assert "Finished: 1 failed" in p.status.value
        assert row.cancel_button not in row.line.children  # #17.5a: the panel's Delete removes it


def test_timeout_is_shown_as_a_timeout_not_success(made: list[CreationProgress]) -> None:
    with Sandbox(pending_seconds=60) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        wid = cl.create_workspace(make_spec())
        p = progress_of(made, [wid], cl, timeout=0.4)
        tracked = p.wait(10)
        row = p.rows[wid]
        assert tracked[wid].stage == "Timed out" and not tracked[wid].succeeded
        assert row.stage.value == "Timed out"
        assert row.bar.bar_style == "warning"
        assert "not a success" in row.detail.value and "still PENDING" in row.detail.value
        assert "RUNNING" not in p.status.value and "timed out" in p.status.value
        assert not p.running


@pytest.mark.parametrize("status", [429, 503])
def test_an_error_that_lasts_until_the_timeout_stays_shown(made: list[CreationProgress],
                                                           status: int) -> None:
    with Sandbox(pending_seconds=60) as sb, ExalsiusClient(sb.url, timeout=5, retries=0) as cl:
        wid = cl.create_workspace(make_spec())
        sb.fail_next(10_000, status=status)
        p = progress_of(made, [wid], cl, timeout=0.5)
        p.wait(10)
        assert p.tracked[wid].stage == "Timed out"
        assert "timed out" in p.status.value
        assert f"HTTP {status}" in p.status.value  # why it never saw the workspace


def test_an_outage_shows_retrying_and_polling_recovers(made: list[CreationProgress]) -> None:
    with Sandbox(pending_seconds=0.3) as sb, ExalsiusClient(sb.url, timeout=5, retries=0) as cl:
        wid = cl.create_workspace(make_spec())
        sb.outage(True)
        p = progress_of(made, [wid], cl, max_interval=0.2)
        p.start()
        wait_until(lambda: "retrying…" in p.status.value, what="retrying…")
        assert "HTTP 503" in p.status.value
        assert p.running and p.rows[wid].stage.value == "Submitted"
        sb.outage(False)
        p.wait(10)
        assert p.tracked[wid].stage == "Running"
        assert "retrying" not in p.status.value


def test_cancel_asks_then_deletes_once(made: list[CreationProgress]) -> None:
    with Sandbox(pending_seconds=60, latency=0.2) as sb, \
            ExalsiusClient(sb.url, timeout=5) as cl:
        wid = cl.create_workspace(make_spec())
        p = progress_of(made, [wid], cl)
        p.start()
        row = p.rows[wid]
        wait_until(lambda: row.stage.value == "Pending", what="Pending")
        row.cancel_button.click()
        assert row.question == "Delete nb-1?" and row.confirm_button in row.line.children
        row.keep_button.click()
        assert row.question == "" and sb.request_count("DELETE", ONE) == 0
        row.cancel_button.click()
        first = threading.Thread(target=row.confirm_button.click)
        first.start()
        wait_until(lambda: sb.request_count("DELETE", ONE) == 1, what="the DELETE")
        row.confirm_button.click()  # a second click while the first is in flight
        row.cancel_button.click()
        first.join(10)
        p.wait(10)
        assert sb.request_count("DELETE", ONE) == 1
        assert (sb.get(wid) or {}).get("workspace_status", "DELETED") == "DELETED"
        assert row.stage.value == "Cancelled" and row.cancel_button.disabled
        assert "Cancelled" in row.detail.value


def test_close_stops_polling_for_good(made: list[CreationProgress]) -> None:
    with Sandbox(pending_seconds=60) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        wid = cl.create_workspace(make_spec())
        p = progress_of(made, [wid], cl, max_interval=0.05)
        p.start()
        wait_until(lambda: p.watcher.requests >= 3, what="a few polls")
        p.close()
        assert not p.running and p._poller._thread not in progress_threads(), \
            [t.name for t in progress_threads()]
        after_close = sb.request_count()
        time.sleep(0.4)  # several intervals
        assert sb.request_count() == after_close
        before = progress_threads()
        p.start()  # a closed widget never starts again
        assert progress_threads() == before and not p.running


def test_kernel_shutdown_stops_polling(made: list[CreationProgress]) -> None:
    with Sandbox(pending_seconds=60) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        p = progress_of(made, [cl.create_workspace(make_spec())], cl)
        p.start()
        thread = p._poller._thread
        shutdown_all()
        assert thread is not None
        thread.join(5)
        assert not thread.is_alive()


def test_names_from_the_server_are_escaped(made: list[CreationProgress]) -> None:
    with Sandbox() as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        wid = sb.add({"name": EVIL, "workspace_status": "RUNNING", "cluster_id": A100_CLUSTER})
        p = progress_of(made, [wid], cl)
        p.wait(10)
        values = [w.value for w in walk(p.widget) if isinstance(w, widgets.HTML)]
        values.append(p._repr_html_())
        assert all("<img" not in v for v in values)
        assert "&lt;img" in p.rows[wid].name.value
        assert EVIL in repr(p)


def test_display_bundle_starts_polling(made: list[CreationProgress]) -> None:
    with Sandbox(pending_seconds=0.2) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        wid = cl.create_workspace(make_spec())
        p = progress_of(made, [wid], cl)
        assert not p.running
        bundle = p._repr_mimebundle_()
        assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == \
            p.widget.model_id
        assert bundle["text/plain"].startswith("CreationProgress:\n  ")  # a snapshot
        assert "nb-1" in bundle["text/plain"] or wid in bundle["text/plain"]
        assert '<table class="exls-progress-table">' in bundle["text/html"]
        p.start()  # idempotent
        p.wait(10)
        assert p.tracked[wid].stage == "Running"


def test_progress_needs_an_id() -> None:
    with pytest.raises(ValueError, match="at least one workspace id"):
        CreationProgress([], ExalsiusClient("http://127.0.0.1:9/v1"))


def test_the_token_never_reaches_progress_state(made: list[CreationProgress]) -> None:
    token = "tok-SECRET-0123456789abcdef"
    with Sandbox(pending_seconds=0.2) as sb, \
            ExalsiusClient(sb.url, token=token, timeout=5) as cl:
        p = progress_of(made, [cl.create_workspace(make_spec())], cl)
        p.wait(10)
        states = [json.dumps(w.get_state(), default=str) for w in walk(p.widget)]
        assert all(token not in s for s in states)
        assert token not in repr(p) and token not in p._repr_html_()


# -- #7.13: Cancel's DELETE runs off the kernel thread ------------------------------------------


def test_cancel_confirm_returns_before_the_delete_answers(made: list[CreationProgress]) -> None:
    with Sandbox(pending_seconds=60, latency=0.5) as sb, \
            ExalsiusClient(sb.url, timeout=5) as cl:
        wid = cl.create_workspace(make_spec())
        p = progress_of(made, [wid], cl)
        p.start()
        row = p.rows[wid]
        wait_until(lambda: row.stage.value == "Pending", what="Pending")
        row.cancel_button.click()
        started = time.monotonic()
        row.confirm_button.click()
        assert time.monotonic() - started < 0.35, "the DELETE ran on the kernel thread"
        assert row.stage.value == "cancelling…" and row.cancel_button.disabled
        p.wait(10)
        assert sb.request_count("DELETE", ONE) == 1 and row.stage.value == "Cancelled"


# -- #7.20: a long name cannot overlap the Stage column ---------------------------------------


def css_rules(html: str, selector: str) -> str:
    """The declarations of every rule in ``html``'s <style> blocks whose selector names it."""
    import re

    styles = "".join(re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.S))
    found = [body for sel, body in re.findall(r"([^{}]+)\{([^}]*)\}", styles)
             if selector in sel.replace(" ", "").split(",") or
             any(s.strip().startswith(selector) for s in sel.split(","))]
    return ";".join(found).replace(" ", "")


def test_a_long_name_without_break_points_cannot_overlap_the_stage(
        made: list[CreationProgress]) -> None:
    long = "a-very-long-workspace-name_" + "x" * 120
    with Sandbox() as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        wid = sb.add({"name": long, "workspace_status": "RUNNING", "cluster_id": A100_CLUSTER})
        p = progress_of(made, [wid], cl)
        p.wait(10)
        name = p.rows[wid].name
        assert "exls-progress-name" in name._dom_classes and long in name.value
        sheet = "".join(w.value for w in walk(p.widget)
                        if isinstance(w, widgets.HTML) and "<style" in w.value)
        rules = css_rules(sheet, ".exls-progress-name")
        assert "min-width:0" in rules and "overflow:hidden" in rules
        assert "overflow-wrap:anywhere" in rules or "text-overflow:ellipsis" in rules
        assert f'title="{long} ({wid})"' in name.value  # the whole name on hover


# -- #10.3: at 500 creations a tick updates the rows that changed, not every row ---------------


def test_a_tick_where_one_of_500_changed_updates_one_row_only(
        made: list[CreationProgress], monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(pending_seconds=3600) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        ids = [sb.add({"name": f"w{i}", "workspace_status": "PENDING"}) for i in range(500)]
        p = progress_of(made, ids, cl)  # not started: the test ticks by hand
        clock = [p.tracked[ids[0]].started]  # fake time, from when tracking began
        p.watcher.clock = lambda: clock[0]

        def tick() -> None:  # what the polling thread does when a poll is due, a second later
            clock[0] += 1.0
            p.watcher.poll()
            p._render()

        tick()  # every row goes Submitted → Pending
        sent = count_sends(monkeypatch)
        sb.reset_counts()
        tick()  # nothing changed, but a second passed: the elapsed time still shows it
        assert sb.request_count() == 1
        assert len(sent) <= 2, f"{len(sent)} messages for a tick where nothing changed"
        assert {p.rows[wid].elapsed.value for wid in ids} == {"2 s"}

        sent.clear()
        sb.set_status(ids[7], "RUNNING")
        tick()
        assert sb.request_count() == 2
        row = p.rows[ids[7]]
        assert row.stage.value == "Running" and p.rows[ids[8]].stage.value == "Pending"
        mine = {id(w) for w in walk(row.box)} | {id(row.cancel_button)}  # gone from the box
        elsewhere = [w for w in sent if id(w) not in mine]
        assert len(elsewhere) <= 2, f"{len(elsewhere)} messages outside the changed row"
        assert len(sent) - len(elsewhere) <= 8
        tick()  # the finished row's time stays where it ended; the others go on
        assert row.elapsed.value == "3 s" and p.rows[ids[8]].elapsed.value == "4 s"


# -- #17.5a: a Cancel button only where there is something to cancel -------------------------


ENDS = {"RUNNING": "Running", "FAILED": "Failed", "STOPPED": "Stopped", "DELETED": "Deleted",
        "TIMED_OUT": "Timed out", "CANCELLED": "Cancelled"}


def cancel_buttons(row: Any) -> list[widgets.Button]:
    """The Cancel buttons a row shows (none once it ended)."""
    return [w for w in row.line.children
            if isinstance(w, widgets.Button) and w.description == "Cancel"]


@pytest.mark.parametrize("end", list(ENDS))
def test_a_row_that_ended_shows_no_cancel(made: list[CreationProgress], end: str) -> None:
    with Sandbox(pending_seconds=60) as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        wid = cl.create_workspace(make_spec())
        p = progress_of(made, [wid], cl, timeout=0.6 if end == "TIMED_OUT" else 30)
        row = p.rows[wid]
        assert cancel_buttons(row) == [row.cancel_button]  # it waits: Cancel deletes it
        p.start()
        wait_until(lambda: row.stage.value == "Pending", what="Pending")
        assert cancel_buttons(row) == [row.cancel_button] and not row.cancel_button.disabled
        if end == "CANCELLED":
            row.cancel_button.click()
            row.confirm_button.click()
        elif end != "TIMED_OUT":
            sb.set_status(wid, end)
        p.wait(10)
        assert row.stage.value == ENDS[end]
        assert cancel_buttons(row) == [], f"a {ENDS[end]} row still offers Cancel"
        assert row.question == ""
        row.ask()  # nothing to ask about either
        assert row.question == "" and cancel_buttons(row) == []


# -- #17.3: a long name ends in an ellipsis inside its 180 px cell -------------------------------


def test_the_name_cell_s_content_box_may_shrink_and_ends_in_an_ellipsis(
        made: list[CreationProgress]) -> None:
    # ipywidgets puts the HTML inside a flex item (.widget-html-content): without min-width:0
    # that box takes the name's whole width (325 px in a 180 px cell) and nothing ellipsizes.
    long = "bert-finetune-" + "very-long-name-" * 8
    with Sandbox() as sb, ExalsiusClient(sb.url, timeout=5) as cl:
        wid = sb.add({"name": long, "workspace_status": "RUNNING", "cluster_id": A100_CLUSTER})
        p = progress_of(made, [wid], cl)
        p.wait(10)
        sheet = "".join(w.value for w in walk(p.widget)
                        if isinstance(w, widgets.HTML) and "<style" in w.value)
        for content in (".exls-progress-name>.widget-html-content",
                        ".exls-progress-name>.jupyter-widget-html-content"):
            rules = css_rules(sheet.replace(" > ", ">"), content)
            for decl in ("min-width:0", "overflow:hidden", "text-overflow:ellipsis",
                         "white-space:nowrap"):
                assert decl in rules, (content, decl)
        assert f'title="{long} ({wid})"' in p.rows[wid].name.value
