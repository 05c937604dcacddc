"""%exalsius logs: NDJSON records as a DataFrame (text in a terminal), --tail, -o, --follow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from test_magics_shell import close_shell, make_shell, ok, run, shell, usage_error
from test_magics_workspaces import add

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from exalsius_jupyter.sandbox import Sandbox

__all__ = ["shell"]  # the fixture, imported for pytest


class FakeKernel:
    """Enough of ipykernel for the magics to think they run in Jupyter."""

    _allow_stdin = False


@pytest.fixture
def in_kernel(shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> InteractiveShell:
    """The shell, looking like a Jupyter kernel (so logs return a DataFrame)."""
    monkeypatch.setattr(shell, "kernel", FakeKernel(), raising=False)
    return shell


def test_logs_is_a_frame_with_utc_timestamps_and_o_stores_it(
        in_kernel: InteractiveShell, sandbox: Sandbox,
        capsys: pytest.CaptureFixture[str]) -> None:
    wid = add(sandbox, "alpha")
    sandbox.reset_counts()
    frame = ok(in_kernel, capsys, "%exalsius logs alpha -o lines").value
    assert list(frame.columns[:4]) == ["timestamp", "pod_name", "pod_namespace", "log_message"]
    dtype = frame["timestamp"].dtype
    assert str(dtype).startswith("datetime64[") and str(getattr(dtype, "tz", None)) == "UTC"
    assert frame["timestamp"].notna().all()
    assert len(frame) >= 2 and "alpha" in frame["log_message"].iloc[0]
    assert in_kernel.user_ns["lines"] is frame
    assert sandbox.request_count("GET", "/workspace/{id}/logs") == 1
    assert set(frame["pod_name"]) == {f"ws-{wid[:8]}-0"}  # this workspace's records


def test_logs_resolves_an_id_prefix_and_tail_keeps_the_last_records(
        in_kernel: InteractiveShell, sandbox: Sandbox,
        capsys: pytest.CaptureFixture[str]) -> None:
    wid = add(sandbox, "alpha")
    everything = ok(in_kernel, capsys, f"%exalsius logs {wid[:8]}").value
    last = ok(in_kernel, capsys, f"%exalsius logs {wid[:8]} --tail 1").value
    assert len(last) == 1
    assert last["log_message"].iloc[0] == everything["log_message"].iloc[-1]
    usage_error(in_kernel, capsys, "%exalsius logs alpha --tail 0", "expected a number >= 1")


def test_logs_in_a_terminal_prints_text_lines(shell: InteractiveShell, sandbox: Sandbox,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    add(sandbox, "alpha")
    ran = ok(shell, capsys, "%exalsius logs alpha -o lines")
    assert ran.value is None
    lines = ran.out.strip().splitlines()
    assert len(lines) == len(shell.user_ns["lines"])
    assert "Workspace alpha created" in lines[0] and "ws-" in lines[0]


def test_logs_of_an_unknown_workspace_is_one_line(shell: InteractiveShell, sandbox: Sandbox,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, "%exalsius logs nosuch", "no workspace", "'nosuch'")
    assert sandbox.request_count("GET", "/workspace/{id}/logs") == 0


def test_logs_where_the_server_lacks_them_is_one_clear_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from exalsius_jupyter.sandbox import Sandbox

    with Sandbox(extras=False) as bare:
        sh = make_shell(bare.url, monkeypatch)
        try:
            add(bare, "alpha")
            usage_error(sh, capsys, "%exalsius logs alpha", "this server does not offer logs",
                        bare.url)
        finally:
            close_shell(sh)


def test_follow_in_a_terminal_prints_new_lines_once_and_ends_at_the_bound(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from exalsius_jupyter.magics.commands import logs

    wid = add(sandbox, "alpha")
    ok(shell, capsys, "%config Exalsius.wait_timeout = 0.6")
    polls: list[float] = []
    real_fetch = logs.fetch

    def fetch(client: Any, workspace_id: str) -> list[dict[str, Any]]:
        polls.append(0)
        if len(polls) == 2:  # something happens while following
            _stop(sandbox, wid)
        return real_fetch(client, workspace_id)

    monkeypatch.setattr(logs, "fetch", fetch)
    ran = ok(shell, capsys, "%exalsius logs alpha --follow -o seen")
    assert ran.value is None and len(polls) >= 3
    assert ran.out.count("Workspace alpha created") == 1  # nothing printed twice
    assert ran.out.count("Workspace stopped") == 1  # the new line, once
    assert "alpha: stopped following after 0.6s" in ran.out
    seen = shell.user_ns["seen"]
    assert list(seen["log_message"]).count("Workspace stopped; pods removed, volume kept") == 1


def _stop(sandbox: Sandbox, wid: str) -> None:
    from exalsius_jupyter.api.client import ExalsiusClient

    with ExalsiusClient(sandbox.url, timeout=5) as client:
        client.stop_workspace(wid)


def test_follow_with_tail_shows_only_the_tail_and_an_interrupt_is_one_clean_line(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from exalsius_jupyter.magics.commands import logs

    add(sandbox, "alpha")
    real_fetch = logs.fetch
    calls: list[int] = []

    def fetch(client: Any, workspace_id: str) -> list[dict[str, Any]]:
        calls.append(1)
        if len(calls) > 1:  # Ctrl-C / the kernel's interrupt while following
            raise KeyboardInterrupt
        return real_fetch(client, workspace_id)

    monkeypatch.setattr(logs, "fetch", fetch)
    ran = run(shell, capsys, "%exalsius logs alpha --follow --tail 1")
    assert ran.result.success and "Traceback" not in ran.out + ran.err
    lines = ran.out.strip().splitlines()
    assert len(lines) == 2 and "created" not in lines[0]
    assert lines[-1] == "alpha: interrupted; stopped following (1 records)."


def test_follow_in_jupyter_updates_one_display_area(
        in_kernel: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    from exalsius_jupyter.magics.commands import logs

    wid = add(sandbox, "alpha")
    shown: list[tuple[str, Any]] = []

    class Handle:
        def update(self, obj: Any) -> None:
            shown.append(("update", obj))

    def display(obj: Any, display_id: bool = False) -> Handle:
        assert display_id is True
        shown.append(("display", obj))
        return Handle()

    monkeypatch.setattr(IPython.display, "display", display)
    ok(in_kernel, capsys, "%config Exalsius.wait_timeout = 0.5")
    polls: list[int] = []
    real_fetch = logs.fetch

    def fetch(client: Any, workspace_id: str) -> list[dict[str, Any]]:
        polls.append(1)
        if len(polls) == 2:
            _stop(sandbox, wid)
        return real_fetch(client, workspace_id)

    monkeypatch.setattr(logs, "fetch", fetch)
    ran = ok(in_kernel, capsys, "%exalsius logs alpha --follow")
    assert shown[0][0] == "display"
    assert sum(kind == "display" for kind, _ in shown) == 1  # one area, updated in place
    final = shown[-1][1]
    assert isinstance(final, logs.LogLines) and final.title == "Logs of alpha"
    assert sum("Workspace stopped" in line for line in final.lines) == 1
    assert "<pre" in final._repr_html_() and "alpha" in repr(final)
    assert "stopped following" in ran.out


def test_new_records_counts_repeated_lines_and_survives_a_rewritten_history() -> None:
    from collections import Counter

    from exalsius_jupyter.magics.commands.logs import new_records

    a, b, c = ({"log_message": m, "timestamp": t} for m, t in (("a", 1), ("b", 2), ("c", 3)))
    seen: Counter[str] = Counter()
    assert new_records([a, b], seen) == [a, b]
    assert new_records([a, b], seen) == []
    assert new_records([a, b, b], seen) == [b]  # the same line again is a new line
    assert new_records([a, c], seen) == [c]  # a server that drops a line: only c is new
