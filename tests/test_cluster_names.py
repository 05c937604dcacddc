"""Clusters by name where the catalogue is offered, short ids where it is not: the panel's
Cluster column, its cluster filter, its text fallback, and `%exalsius list`'s frame (#15)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from support import A100_CLUSTER
from test_magics_shell import close_shell, make_shell, ok

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.model.frames import COLUMNS
from exalsius_jupyter.sandbox import Sandbox
from exalsius_jupyter.widgets import WorkspacePanel


@pytest.fixture(params=["1.46", "1.5.1"])
def sb(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with Sandbox(api=request.param, pending_seconds=0.2, seed=3, workspaces=0) as sandbox:
        sandbox.add({"name": "on-a100", "workspace_status": "RUNNING", "cluster_id": A100_CLUSTER})
        yield sandbox


def named(sb: Sandbox) -> bool:
    with ExalsiusClient(sb.url, timeout=5) as client:
        return client.offers_catalogue()


def test_the_panel_names_the_cluster_where_it_can(sb: Sandbox) -> None:
    with ExalsiusClient(sb.url, timeout=5) as client:
        panel = WorkspacePanel(client, auto_refresh=False)
        try:
            panel.refresh()
            cells = panel.row("on-a100").cells.value
            labels = [label for label, _ in panel.cluster_filter.options]
            if named(sb):
                assert ">demo-a100</span>" in cells and f'title="{A100_CLUSTER}"' in cells
                assert "demo-a100 (11111111)" in labels and "demo-a100" in repr(panel)
                assert panel.cluster_names[A100_CLUSTER] == "demo-a100"
            else:
                assert ">11111111</span>" in cells and "demo-a100" not in cells
                assert A100_CLUSTER in labels and panel.cluster_names == {}
        finally:
            panel.close()


def test_list_adds_the_cluster_names_where_it_can(sb: Sandbox, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    shell: InteractiveShell = make_shell(sb.url, monkeypatch)
    try:
        frame = ok(shell, capsys, "%exalsius list").result.result
        if named(sb):
            columns = list(frame.columns)
            assert columns[columns.index("workspace_status") + 1] == "cluster_name"  # #17.6
            assert list(frame["cluster_name"]) == ["demo-a100"]
            assert str(frame["cluster_name"].dtype) == "string"
        else:
            assert tuple(frame.columns) == COLUMNS  # the frame as listed, nothing added
    finally:
        close_shell(shell)
