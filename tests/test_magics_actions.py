"""%exalsius stop, delete (targets and --where), start, sandbox and panel, on the sandbox."""

from __future__ import annotations

import builtins
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from test_magics_shell import (
    A100,
    FakeTerminal,
    close_shell,
    make_shell,
    ok,
    shell,
    usage_error,
)
from test_magics_workspaces import add

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from exalsius_jupyter.sandbox import Sandbox

__all__ = ["shell"]


@pytest.fixture
def many() -> Iterator[Sandbox]:
    """A sandbox with 40 seeded demo workspaces."""
    from exalsius_jupyter.sandbox import Sandbox

    with Sandbox(pending_seconds=0.2, workspaces=40, seed=11) as sb:
        yield sb


@pytest.fixture
def many_shell(many: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """A shell on the seeded sandbox."""
    sh = make_shell(many.url, monkeypatch)
    yield sh
    close_shell(sh)


def answer(monkeypatch: pytest.MonkeyPatch, reply: str,
           meanwhile: Callable[[], None] | None = None) -> list[str]:
    """Pretend to be a terminal whose user types ``reply``; returns the questions asked."""
    asked: list[str] = []

    def fake_input(prompt: str = "") -> str:
        asked.append(prompt)
        if meanwhile is not None:
            meanwhile()
        return reply

    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    monkeypatch.setattr(builtins, "input", fake_input)
    return asked


# -- stop / delete by target --------------------------------------------------------------


def test_stop_with_yes(shell: InteractiveShell, sandbox: Sandbox,
                       capsys: pytest.CaptureFixture[str]) -> None:
    wid = add(sandbox, "alpha")
    out = ok(shell, capsys, "%exalsius stop alpha --yes").out
    assert f"Stopped alpha ({wid})" in out
    assert sandbox.get(wid)["workspace_status"] == "STOPPED"


def test_delete_several_targets_with_yes(shell: InteractiveShell, sandbox: Sandbox,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    ids = [add(sandbox, n) for n in ("d1", "d2")]
    ok(shell, capsys, f"%exalsius delete d1 {ids[1][:8]} -y")
    assert sandbox.request_count("DELETE", "/workspace/{id}") == 2
    assert all((sandbox.get(i) or {}).get("workspace_status") in ("DELETED", None) for i in ids)


@pytest.mark.parametrize("verb", ["stop", "delete"])
def test_headless_never_waits_for_input_and_says_add_yes(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        verb: str) -> None:
    wid = add(sandbox, "alpha")
    usage_error(shell, capsys, f"%exalsius {verb} alpha", "no interactive input",
                f"add --yes to {verb}")
    assert sandbox.request_count("POST", "/workspace/{id}/stop") == 0
    assert sandbox.request_count("DELETE", "/workspace/{id}") == 0
    assert sandbox.get(wid)["workspace_status"] == "RUNNING"


def test_interactive_yes_and_no(shell: InteractiveShell, sandbox: Sandbox,
                                capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    wid = add(sandbox, "alpha")
    asked = answer(monkeypatch, "n")
    assert "Nothing was stopped." in ok(shell, capsys, "%exalsius stop alpha").out
    assert asked == ["Stop 1 workspace (alpha)? [y/N] "]
    assert sandbox.get(wid)["workspace_status"] == "RUNNING"
    answer(monkeypatch, "yes")
    ok(shell, capsys, "%exalsius stop alpha")
    assert sandbox.get(wid)["workspace_status"] == "STOPPED"


def test_input_that_cannot_be_read_is_the_headless_message(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from IPython.core.error import StdinNotImplementedError

    def no_stdin(prompt: str = "") -> str:
        raise StdinNotImplementedError("raw_input was called, but this frontend does not "
                                       "support input requests.")

    add(sandbox, "alpha")
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    monkeypatch.setattr(builtins, "input", no_stdin)
    usage_error(shell, capsys, "%exalsius delete alpha", "add --yes")


def test_stop_error_for_one_target_is_the_api_error(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    add(sandbox, "alpha")
    # While the user confirms, the workspace vanishes: the stop itself answers 404.
    answer(monkeypatch, "y", lambda: sandbox.fail_next(1, status=404, retry_after=None))
    usage_error(shell, capsys, "%exalsius stop alpha", "HTTP 404")


def test_targets_and_where_are_exclusive(shell: InteractiveShell,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, "%exalsius stop a --where 'gpu_count > 1' --yes", "not both")
    usage_error(shell, capsys, "%exalsius delete --yes", "--where EXPR")


# -- --where ------------------------------------------------------------------------------

WHERE = "--where \"workspace_status == 'RUNNING' and gpu_count >= 4\""


def expected(many: Sandbox) -> set[str]:
    """Ids the WHERE expression selects, computed from the store, not through the magic."""
    from exalsius_jupyter.api.client import ExalsiusClient

    with ExalsiusClient(many.url) as c:
        return {w.id for w in c.list_workspaces()
                if w.workspace_status == "RUNNING" and (w.resources.gpu_count or 0) >= 4}


def test_where_dry_run_shows_the_frame_and_sends_nothing(
        many_shell: InteractiveShell, many: Sandbox,
        capsys: pytest.CaptureFixture[str]) -> None:
    want = expected(many)
    assert want, "the seeded sandbox should have big running workspaces"
    many.reset_counts()
    ran = ok(many_shell, capsys, f"%exalsius stop {WHERE} --dry-run")
    assert set(ran.value["id"]) == want
    assert f"Dry run: would stop {len(want)} workspace" in ran.out
    assert many.request_count("POST") == 0


def test_where_with_yes_stops_exactly_the_selection(
        many_shell: InteractiveShell, many: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    want = expected(many)
    ok(many_shell, capsys, f"%exalsius stop {WHERE} --yes")
    assert many.request_count("POST", "/workspace/{id}/stop") == len(want)
    stopped = {r["id"] for r in (many.get(i) for i in want) if r["workspace_status"] == "STOPPED"}
    assert stopped == want
    after = ok(many_shell, capsys, f"%exalsius stop {WHERE} --dry-run").out
    assert "No workspace matches; nothing to stop." in after


def test_where_headless_without_yes_sends_nothing(
        many_shell: InteractiveShell, many: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(many_shell, capsys, f"%exalsius delete {WHERE}", "add --yes to delete")
    assert many.request_count("DELETE") == 0


def test_where_can_use_notebook_variables(
        many_shell: InteractiveShell, many: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    many_shell.user_ns["min_gpus"] = 8
    frame = ok(many_shell, capsys,
               "%exalsius delete --where 'gpu_count >= @min_gpus' --dry-run").value
    assert len(frame) and (frame["gpu_count"] >= 8).all()


@pytest.mark.parametrize("expr", ["gpu_count >= ", "no_such_column > 1", "gpu_count +"])
def test_bad_where_is_one_line(many_shell: InteractiveShell, many: Sandbox,
                               capsys: pytest.CaptureFixture[str], expr: str) -> None:
    usage_error(many_shell, capsys, f"%exalsius stop --where '{expr}' --yes",
                "bad --where expression")
    assert many.request_count("POST") == 0


def test_bulk_failures_are_summarised_after_doing_the_rest(
        many_shell: InteractiveShell, many: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    want = expected(many)
    assert len(want) >= 2
    # Confirming takes a while; meanwhile the first stop starts to fail with 409.
    answer(monkeypatch, "y", lambda: many.fail_next(1, status=409, retry_after=None))
    message = usage_error(many_shell, capsys, f"%exalsius stop {WHERE}",
                          f"stopped {len(want) - 1} of {len(want)}; 1 failed", "HTTP 409")
    assert "Traceback" not in message
    assert many.request_count("POST", "/workspace/{id}/stop") == len(want)


# -- start --------------------------------------------------------------------------------


def test_start_wait_brings_a_stopped_workspace_back(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    wid = add(sandbox, "alpha", status="STOPPED")
    frame = ok(shell, capsys, "%exalsius start alpha --wait").value
    assert list(frame["workspace_status"]) == ["RUNNING"]
    assert sandbox.get(wid)["workspace_status"] == "RUNNING"


def test_start_without_wait_prints_and_returns(shell: InteractiveShell, sandbox: Sandbox,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    wid = add(sandbox, "alpha", status="STOPPED")
    ran = ok(shell, capsys, "%exalsius start alpha")
    assert ran.value is None and f"Started alpha ({wid})" in ran.out
    assert sandbox.get(wid)["workspace_status"] == "PENDING"


def test_start_where_the_server_lacks_it_is_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from exalsius_jupyter.sandbox import Sandbox

    with Sandbox(extras=False) as bare:
        sh = make_shell(bare.url, monkeypatch)
        try:
            add(bare, "alpha", status="STOPPED")
            usage_error(sh, capsys, "%exalsius start alpha", "does not offer start")
            # The probe is a GET (never a mutating request); nothing was POSTed to start.
            assert bare.request_count("POST", "/workspace/{id}/start") == 0
            assert bare.request_count("GET", "/workspace/{id}/start") == 1
        finally:
            close_shell(sh)


# -- sandbox and panel --------------------------------------------------------------------


def test_sandbox_start_status_stop_restores_the_endpoint(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    from exalsius_jupyter.session import get_client

    assert "not running" in ok(shell, capsys, "%exalsius sandbox status").out
    out = ok(shell, capsys, "%exalsius sandbox start --workspaces 5 --seed 3 "
                            "--pending-seconds 0.1").out
    assert "Sandbox running at http://127.0.0.1:" in out and "5 demo workspaces" in out
    inner = get_client().base_url
    assert inner != sandbox.url and not get_client().has_token
    assert len(ok(shell, capsys, "%exalsius list").value) == 5
    assert "already running" in ok(shell, capsys, "%exalsius sandbox start").out
    assert "requests served" in ok(shell, capsys, "%exalsius sandbox status").out
    ok(shell, capsys, f"{'%exalsius create'} --name s --cluster {A100} --template t --wait")
    ok(shell, capsys, "%exalsius sandbox stop")
    assert get_client().base_url == sandbox.url
    assert "not running" in ok(shell, capsys, "%exalsius sandbox stop").out


def test_sandbox_seed_makes_the_same_workspaces(shell: InteractiveShell,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    frames = []
    for _ in range(2):
        ok(shell, capsys, "%exalsius sandbox start --workspaces 12 --seed 7")
        frames.append(ok(shell, capsys, "%exalsius list").value)
        ok(shell, capsys, "%exalsius sandbox stop")
    cols = ["name", "cluster_id", "workspace_status", "gpu_count"]
    assert frames[0][cols].equals(frames[1][cols])


def test_sandbox_live_api_shape_and_no_extras(shell: InteractiveShell,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    ok(shell, capsys, "%exalsius sandbox start --api 1.46 --workspaces 3 --seed 1")
    name = ok(shell, capsys, "%exalsius list").value["name"][0]
    assert ok(shell, capsys, f"%exalsius describe {name}").value.frame["name"][0] == name
    ok(shell, capsys, "%exalsius sandbox stop")
    ok(shell, capsys, "%exalsius sandbox start --no-extras --workspaces 1 --seed 1")
    name = ok(shell, capsys, "%exalsius list").value["name"][0]
    usage_error(shell, capsys, f"%exalsius start {name}", "does not offer start")
    ok(shell, capsys, "%exalsius sandbox stop")


def test_sandbox_port_in_use_is_one_line(shell: InteractiveShell, sandbox: Sandbox,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, f"%exalsius sandbox start --port {sandbox.port}",
                "could not listen")


def test_panel_outside_jupyter_says_so(shell: InteractiveShell,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, "%exalsius panel", "needs Jupyter", "%exalsius list")


class HeadlessKernel:
    """Stands in for ipykernel's kernel: a front end that cannot answer input requests."""

    _allow_stdin = False


def test_in_a_kernel_without_widgets_wait_prints_text_and_panel_says_unavailable(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shell, "kernel", HeadlessKernel(), raising=False)
    monkeypatch.setitem(sys.modules, "exalsius_jupyter.widgets", None)  # widgets unavailable
    ran = ok(shell, capsys, f"%exalsius create --name k --cluster {A100} --template t --wait")
    assert "k: Running after" in ran.out and list(ran.value["workspace_status"]) == ["RUNNING"]
    usage_error(shell, capsys, "%exalsius panel", "isn't available", "%exalsius list")


def test_a_kernel_that_disallows_stdin_is_headless_even_with_a_terminal(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    asked = answer(monkeypatch, "y")  # a terminal on stdin, but the kernel's front end says no
    monkeypatch.setattr(shell, "kernel", HeadlessKernel(), raising=False)
    wid = add(sandbox, "alpha")
    usage_error(shell, capsys, "%exalsius stop alpha", "add --yes")
    assert asked == [] and sandbox.get(wid)["workspace_status"] == "RUNNING"
