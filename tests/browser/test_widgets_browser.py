"""The panel and the progress widget in a real JupyterLab (Chromium): render, click, update.

Each test starts its own sandbox in this process (127.0.0.1) and hands its URL to the kernel via
EXALSIUS_API_URL; the JupyterLab server and the browser are shared by the session. The kernel
imports the package from this working tree.

``EXALSIUS_UPDATE_DOCS=1`` makes ``test_docs_screenshots`` write docs/panel.png and
docs/progress.png (otherwise it takes them into a temporary folder and checks them).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, expect
from support import A100_CLUSTER as A100
from support import PROGRESS_CELL as PROGRESS
from support import create_source as spec

from exalsius_jupyter.sandbox import Sandbox

if TYPE_CHECKING:
    from tests.browser.conftest import Lab

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
EVIL = "<img src=x onerror=\"document.title='pwned'\">"
SETUP = f"import sys\nsys.path.insert(0, {str(REPO)!r})"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(pending_seconds=3.0, deleted_ttl=2.0, seed=5) as sandbox:
        yield sandbox


def open_with(lab: Lab, sb: Sandbox, cells: list[str], name: str) -> None:
    lab.open_notebook([SETUP, *cells], name=name, env={"EXALSIUS_API_URL": sb.url})


def row(lab: Lab, name: str) -> Locator:
    """The panel row showing the workspace ``name`` (exact name match)."""
    cell = lab.page.locator(".exls-cell-name", has_text=re.compile(rf"^{re.escape(name)}$"))
    return lab.page.locator(".exls-row", has=cell)


PANEL = "from exalsius_jupyter import WorkspacePanel\npanel = WorkspacePanel({args})\npanel"


def test_panel_renders_the_sandbox_workspaces(lab: Lab, sb: Sandbox) -> None:
    for name, status in (("alpha", "RUNNING"), ("beta", "PENDING"), ("gamma", "FAILED")):
        sb.add({"name": name, "workspace_status": status, "cluster_id": A100,
                "resources": {"gpu_count": 2, "gpu_type": "A100"}})
    open_with(lab, sb, [PANEL.format(args="auto_refresh=False")], "panel_render")
    lab.run_all()
    lab.wait_for(".exls-panel")
    expect(lab.page.locator(".exls-row")).to_have_count(3)
    expect(lab.page.locator(".exls-endpoint")).to_contain_text(sb.url)
    expect(lab.page.locator(".exls-endpoint")).to_contain_text("sandbox")
    expect(lab.page.locator(".exls-summary")).to_contain_text("3 workspaces")
    alpha = row(lab, "alpha")
    expect(alpha.locator(".exls-badge-running")).to_have_text("RUNNING")
    expect(alpha.locator(".exls-cell-gpus")).to_have_text("2 × A100")
    expect(alpha.locator("a.exls-access-link")).to_have_attribute("target", "_blank")
    background = "e => getComputedStyle(e).backgroundColor"
    failed = row(lab, "gamma").locator(".exls-badge").evaluate(background)
    assert failed not in ("rgba(0, 0, 0, 0)", alpha.locator(".exls-badge").evaluate(background))
    expect(row(lab, "beta").locator("button.exls-stop")).to_be_enabled()
    expect(row(lab, "gamma").locator("button.exls-stop")).to_be_disabled()


def test_stop_in_the_browser_stops_at_the_sandbox(lab: Lab, sb: Sandbox) -> None:
    wid = sb.add({"name": "to-stop", "workspace_status": "RUNNING"})
    sb.add({"name": "bystander", "workspace_status": "RUNNING"})
    open_with(lab, sb, [PANEL.format(args="auto_refresh=False")], "panel_stop")
    lab.run_all()
    target = row(lab, "to-stop")
    target.locator("button.exls-stop").click()
    expect(target.locator(".exls-confirm-text")).to_have_text("Stop to-stop?")
    assert sb.request_count("POST", "/workspace/{id}/stop") == 0
    target.locator("button.exls-confirm").click()
    expect(target.locator(".exls-badge-stopped")).to_have_text("STOPPED")
    assert (sb.get(wid) or {})["workspace_status"] == "STOPPED"
    assert sb.request_count("POST", "/workspace/{id}/stop") == 1
    expect(target.locator("button.exls-stop")).to_be_disabled()
    expect(row(lab, "bystander").locator(".exls-badge-running")).to_be_visible()
    # #17.5b: the server goes (as at the quickstart's end): the panel says so, greys its actions
    bystander = row(lab, "bystander")
    expect(bystander.locator("button.exls-stop")).to_be_enabled()
    sb.stop()
    lab.page.locator("button.exls-refresh").click()
    lost = lab.page.locator(".exls-summary .exls-lost")
    expect(lost).to_contain_text(f"Lost the server at {sb.url}: connection refused")
    expect(lost).to_contain_text("showing the last list from")
    expect(bystander.locator("button.exls-stop")).to_be_disabled()
    expect(bystander.locator("button.exls-delete")).to_be_disabled()


def test_a_double_click_sends_one_request_and_shows_working(lab: Lab) -> None:
    with Sandbox(latency=0.8) as sb:
        wid = sb.add({"name": "slow-stop", "workspace_status": "RUNNING"})
        open_with(lab, sb, [PANEL.format(args="auto_refresh=False")], "panel_double")
        lab.run_all(timeout=90)
        target = row(lab, "slow-stop")
        target.locator("button.exls-stop").click()
        target.locator("button.exls-confirm").dblclick()
        expect(target.locator(".exls-note")).to_have_text("working…")
        expect(target.locator("button.exls-delete")).to_be_disabled()
        expect(target.locator(".exls-badge-stopped")).to_be_visible(timeout=15_000)
        expect(target.locator(".exls-note")).to_have_count(0)
        lab.page.wait_for_timeout(1000)  # a queued second click would have been handled by now
        assert sb.request_count("POST", "/workspace/{id}/stop") == 1
        assert (sb.get(wid) or {})["workspace_status"] == "STOPPED"


def test_delete_confirm_removes_the_row_and_cancel_keeps_it(lab: Lab, sb: Sandbox) -> None:
    gone = sb.add({"name": "to-delete", "workspace_status": "RUNNING"})
    kept = sb.add({"name": "to-keep", "workspace_status": "RUNNING"})
    open_with(lab, sb, [PANEL.format(args="interval=0.5, max_interval=1.0")], "panel_delete")
    lab.run_all()
    keep = row(lab, "to-keep")
    keep.locator("button.exls-delete").click()
    expect(keep.locator(".exls-confirm-text")).to_have_text("Delete to-keep?")
    keep.locator("button.exls-cancel").click()
    expect(keep.locator("button.exls-delete")).to_be_visible()
    target = row(lab, "to-delete")
    target.locator("button.exls-delete").click()
    target.locator("button.exls-confirm").click()
    # The row goes as soon as the server confirms the delete (#7.16), although the server still
    # lists the workspace as DELETED for a while; auto-refresh does not bring it back.
    expect(target).to_have_count(0, timeout=5_000)
    assert (sb.get(gone) or {}).get("workspace_status", "DELETED") == "DELETED"
    lab.page.wait_for_timeout(1_500)  # a few auto-refreshes
    expect(target).to_have_count(0)
    assert (sb.get(kept) or {})["workspace_status"] == "RUNNING"
    assert sb.request_count("DELETE", "/workspace/{id}") == 1
    expect(lab.page.locator(".exls-row")).to_have_count(1)




LONG_BAD = "nb-too-big-" + "with-a-very-long-name-" * 3


@pytest.fixture
def slow_sb() -> Iterator[Sandbox]:
    """A sandbox whose new workspaces stay PENDING for 5 s: room to see the cell end first."""
    with Sandbox(pending_seconds=5.0, seed=5) as sandbox:
        yield sandbox


def test_progress_reaches_running_after_the_cell_finished(lab: Lab, slow_sb: Sandbox) -> None:
    sb = slow_sb
    source = PROGRESS.format(ok=spec("nb-ok"), bad=spec(LONG_BAD, gpus=12))
    open_with(lab, sb, [source], "progress")
    lab.run_all()
    ended = time.monotonic()
    prompt = lab.cells().nth(2).locator(".jp-InputPrompt")
    expect(prompt).to_have_text(re.compile(r"\[\d+\]"))  # the cell has finished executing
    rows = lab.page.locator(".exls-progress-row")
    expect(rows).to_have_count(2)
    ok_row = rows.filter(has_text="nb-ok")
    stage = ok_row.locator(".exls-progress-stage")
    assert stage.inner_text() in ("Submitted", "Pending")
    expect(stage).to_have_text("Pending", timeout=10_000)
    expect(stage).to_have_text("Running", timeout=15_000)
    print(f"\ncell end -> Running shown: {time.monotonic() - ended:.2f} s "
          "(sandbox pending_seconds=5)")
    expect(ok_row.locator(".progress-bar-success")).to_be_visible()
    expect(ok_row.locator(".exls-progress-access a")).to_have_attribute("target", "_blank")
    bad_row = rows.filter(has_text="nb-too-big")
    expect(bad_row.locator(".exls-progress-stage")).to_have_text("Failed")
    expect(bad_row.locator(".progress-bar-danger")).to_be_visible()
    expect(bad_row.locator(".exls-progress-detail")).to_contain_text("offers at most 8 GPUs")
    colour = "e => getComputedStyle(e).color"
    detail = bad_row.locator(".exls-detail-text").evaluate(colour)
    assert detail != bad_row.locator(".exls-progress-name b").evaluate(colour)  # the error tone
    # #17.3: the long name ends in an ellipsis inside its cell, short of the Stage column
    name = bad_row.locator(".exls-progress-name b")
    fits = name.evaluate("""b => {
        const cell = b.closest('.exls-progress-name').getBoundingClientRect();
        const stage = b.closest('.exls-progress-row').querySelector('.exls-progress-stage')
            .getBoundingClientRect();
        const box = b.getBoundingClientRect();
        return {right: box.right, cell: cell.right, stage: stage.left,
                cut: b.scrollWidth > b.clientWidth,
                ellipsis: getComputedStyle(b).textOverflow};
    }""")
    assert fits["right"] <= fits["cell"] + 0.5 and fits["right"] <= fits["stage"] + 0.5, fits
    assert fits["cut"] and fits["ellipsis"] == "ellipsis", fits
    assert LONG_BAD in (name.get_attribute("title") or "")
    # #17.5a: nothing left to cancel on either row once they ended
    expect(bad_row.locator(".exls-progress-cancel")).to_have_count(0)
    expect(ok_row.locator(".exls-progress-cancel")).to_have_count(0)


def test_another_cell_runs_while_progress_polls(lab: Lab, slow_sb: Sandbox) -> None:
    sb = slow_sb
    source = PROGRESS.format(ok=spec("nb-slow"), bad=spec("nb-slow-bad", gpus=12))
    open_with(lab, sb, [source, "print('other cell', 6 * 7)"], "progress_other")
    for index in range(3):  # env, sys.path, the progress cell; not the last one
        lab.run_cell(index)
    stage = lab.page.locator(".exls-progress-row", has_text="nb-slow-bad").first
    expect(stage.locator(".exls-progress-stage")).to_have_text("Pending")
    started = time.monotonic()
    lab.run_cell(3)
    output = lab.cells().nth(3).locator(".jp-OutputArea-output")
    expect(output).to_have_text("other cell 42")
    latency = time.monotonic() - started
    print(f"\nother cell's output while polling: {latency * 1000:.0f} ms after Ctrl+Enter")
    slow = lab.page.locator(".exls-progress-row").filter(
        has=lab.page.locator(".exls-progress-name", has_text=re.compile(r"^nb-slow$")))
    assert slow.locator(".exls-progress-stage").inner_text() == "Pending"  # still polling
    expect(slow.locator(".exls-progress-stage")).to_have_text("Running", timeout=20_000)


def test_a_hostile_name_renders_as_text(lab: Lab, sb: Sandbox) -> None:
    sb.add({"name": EVIL, "description": EVIL, "workspace_status": "RUNNING",
            "template": {"name": EVIL, "variables": {}}})
    open_with(lab, sb, [PANEL.format(args="auto_refresh=False")], "panel_escape")
    lab.run_all()
    lab.wait_for(".exls-panel")
    title = lab.page.title()
    name = lab.page.locator(".exls-row .exls-cell-name")
    expect(name).to_have_text(EVIL)
    expect(lab.page.locator(".exls-row .exls-cell-template")).to_have_text(EVIL)
    assert lab.page.locator(".exls-panel img").count() == 0
    lab.page.locator(".exls-row button.exls-delete").click()
    expect(lab.page.locator(".exls-confirm-text")).to_have_text(f"Delete {EVIL}?")
    lab.page.wait_for_timeout(500)  # give an injected handler time to fire
    assert lab.page.title() == title and "pwned" not in lab.page.title()


SCREENSHOT_PANEL = """\
from exalsius_jupyter import WorkspacePanel
panel = WorkspacePanel(auto_refresh=False)
panel"""
SCREENSHOT_PROGRESS = """\
from exalsius_jupyter import CreationProgress
from exalsius_jupyter.session import get_client
client = get_client()
ids = [client.create_workspace({a}), client.create_workspace({b}), {pending!r}]
progress = CreationProgress(ids, interval=0.25)
progress"""


def test_docs_screenshots(lab: Lab, tmp_path: Path) -> None:
    """Take docs/panel.png and docs/progress.png (written to docs/ with EXALSIUS_UPDATE_DOCS=1)."""
    out = REPO / "docs" if os.environ.get("EXALSIUS_UPDATE_DOCS") == "1" else tmp_path
    with Sandbox(workspaces=9, seed=11, pending_seconds=1.0) as sb:
        sb.add({"name": "team-notebook", "workspace_status": "RUNNING", "cluster_id": A100,
                "template": {"name": "jupyter-notebook", "variables": {}},
                "resources": {"gpu_count": 2, "gpu_type": "A100", "cpu_cores": 16,
                              "memory_gb": 64}})
        pending = sb.add({"name": "llm-eval", "workspace_status": "PENDING", "cluster_id": A100,
                          "resources": {"gpu_count": 4, "gpu_type": "A100"}})
        lab.page.set_viewport_size({"width": 1640, "height": 1200})
        cells = [SCREENSHOT_PANEL,
                 SCREENSHOT_PROGRESS.format(a=spec("finetune-7b", 4), b=spec("too-big", 16),
                                            pending=pending)]
        open_with(lab, sb, cells, "screenshots")
        lab.run_all()
        panel = lab.wait_for(".exls-panel")
        lab.page.locator(".exls-row").first.wait_for()
        progress = lab.page.locator(".exls-progress")
        expect(progress.locator(".exls-progress-stage", has_text="Running")).to_have_count(1)
        expect(progress.locator(".exls-progress-stage", has_text="Failed")).to_have_count(1)
        lab.page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
        expect(lab.page.locator(".jp-FileBrowser")).to_be_hidden()
        lab.page.evaluate("document.activeElement && document.activeElement.blur()")
        panel.screenshot(path=str(out / "panel.png"))
        progress.screenshot(path=str(out / "progress.png"))
    for name in ("panel.png", "progress.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5000
