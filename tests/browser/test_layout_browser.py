"""The panel's and the progress widget's layout and keyboard flow, Lab and Notebook 7 (#17).

One test per front end (one server each, several checks per page): at an 800 px window with
Lab's file browser open (Notebook 7 has no sidebar) and at 1,600 px, the bounding boxes of the
cells and buttons of each row do not intersect, nothing leaves the panel's box, every name has its
full text on hover, and at 1,600 px the long names are whole. Then the keyboard: Tab reaches a
row's Stop, Enter opens the question with Confirm focused, Escape closes it and gives focus back
to Stop (the hidden key widget, keys.EscapeKey), so does Cancel by keyboard, Enter on Confirm
stops the workspace and focus ends on the row's button (Start: Stop is disabled then); Delete's
question focuses Cancel, Escape gives focus back to Delete, and once the row is gone Refresh has
focus; the focus ring is at least 2 px. One screenshot per state is kept in test-artifacts/
(layout-APP-WIDTH.png).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
ARTIFACTS = REPO / "test-artifacts"
SETUP = f"import sys\nsys.path.insert(0, {str(REPO)!r})"
LONG = "bert-finetune-very-long-experiment-name-2026"
STATUSES = ("RUNNING", "PENDING", "STOPPED", "FAILED")
PANEL = """\
from exalsius_jupyter import WorkspacePanel
panel = WorkspacePanel(auto_refresh=False)
panel"""

# Every visible box of each row (a cell of the grid, a button, a progress row's part), and the
# pairs that intersect by more than half a pixel each way; boxes outside the container.
BOXES_JS = """([rowSel, partSel, boxSel]) => {
  const shown = (e) => {
    const s = getComputedStyle(e), r = e.getBoundingClientRect();
    return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0;
  };
  const label = (e) => (e.className || e.tagName).toString().split(' ')
      .filter((c) => c.startsWith('exls-')).join('.') || e.tagName;
  // The widget's box, or the output area it sits in where that is narrower (the visible room).
  const own = document.querySelector(boxSel), area = own.closest('.jp-OutputArea-output');
  const a = own.getBoundingClientRect(), b = area ? area.getBoundingClientRect() : a;
  const container = {left: Math.max(a.left, b.left), right: Math.min(a.right, b.right),
                     width: Math.min(a.right, b.right) - Math.max(a.left, b.left)};
  const overlaps = [], outside = [];
  document.querySelectorAll(rowSel).forEach((row, i) => {
    const parts = [...row.querySelectorAll(partSel)].filter(shown);
    const boxes = parts.map((e) => [label(e), e.getBoundingClientRect()]);
    for (let a = 0; a < boxes.length; a++) {
      const [na, ra] = boxes[a];
      if (ra.left < container.left - 1 || ra.right > container.right + 1)
        outside.push(`row ${i} ${na}: ${Math.round(ra.left)}..${Math.round(ra.right)}`
          + ` outside ${Math.round(container.left)}..${Math.round(container.right)}`);
      for (let b = a + 1; b < boxes.length; b++) {
        const [nb, rb] = boxes[b];
        const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
        const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
        if (w > 0.5 && h > 0.5) overlaps.push(`row ${i}: ${na} x ${nb} (${w.toFixed(0)} px)`);
      }
    }
  });
  const rows = document.querySelectorAll(rowSel).length;
  return {overlaps, outside, width: container.width, rows};
}"""
# The name cells: their title, and whether the text is cut (scrollWidth > clientWidth).
NAMES_JS = """() => [...document.querySelectorAll('.exls-row .exls-cell-name')].map((e) => ({
  title: e.getAttribute('title'), text: e.textContent,
  cut: e.scrollWidth > e.clientWidth + 0.5, width: e.clientWidth}))"""
# Texts that must never be cut (a stage cut to "Failec", a clipped Cancel): scrollWidth > box.
CLIPPED_JS = """() => [...document.querySelectorAll(
    '.exls-progress-stage, .exls-progress button, .exls-panel .exls-row button')]
  .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .filter((e) => e.scrollWidth > e.clientWidth + 1)
  .map((e) => `${e.className}: ${e.textContent.trim()} (${e.scrollWidth} > ${e.clientWidth})`)"""
ACTIVE_JS = """() => { const e = document.activeElement;
  return {cls: e ? e.className.toString() : '', tag: e ? e.tagName : '',
          row: e && e.closest('.exls-row') ? e.closest('.exls-row')
            .querySelector('.exls-cell-name')?.textContent : null,
          outline: e ? getComputedStyle(e).outlineWidth : '',
          outlineStyle: e ? getComputedStyle(e).outlineStyle : '',
          visible: e ? e.matches(':focus-visible') : false}; }"""


@pytest.fixture(params=["lab", "notebook"])
def jupyter_app(request: pytest.FixtureRequest) -> str:
    """Each scenario runs in JupyterLab and in Notebook 7."""
    return str(request.param)


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(pending_seconds=1.0, seed=5) as sandbox:
        yield sandbox


def row(lab: Lab, name: str) -> Locator:
    """The panel row showing the workspace `name` (exact name match)."""
    cell = lab.page.locator(".exls-cell-name", has_text=re.compile(rf"^{re.escape(name)}$"))
    return lab.page.locator(".exls-row", has=cell)


def open_file_browser(lab: Lab, app: str) -> None:
    """In JupyterLab, make sure the left sidebar shows the file browser (Notebook 7 has none)."""
    if app != "lab":
        return
    browser = lab.page.locator("#filebrowser")
    if not browser.is_visible():
        lab.page.locator('.jp-SideBar [data-id="filebrowser"]').first.click()
    expect(browser).to_be_visible()


def layout_report(lab: Lab) -> dict[str, Any]:
    """Overlaps and overflows of the panel's rows (cells, buttons) and the progress rows."""
    panel = lab.page.evaluate(BOXES_JS, [".exls-panel .exls-row",
                                         ".exls-cell, button", ".exls-panel"])
    head = lab.page.evaluate(BOXES_JS, [".exls-panel .exls-head", ".exls-cell", ".exls-panel"])
    controls = lab.page.evaluate(BOXES_JS, [".exls-panel .exls-controls", ":scope > *",
                                            ".exls-panel"])
    progress = lab.page.evaluate(BOXES_JS, [
        ".exls-progress .exls-progress-row",
        ".exls-progress-name, .exls-progress-stage, .exls-progress-bar, .exls-progress-elapsed,"
        " .exls-progress-access, button", ".exls-progress"])
    return {"panel": panel, "head": head, "controls": controls, "progress": progress}


def check_width(lab: Lab, app: str, width: int) -> dict[str, Any]:
    """Set the window to `width`, keep a screenshot and check the boxes; return the figures."""
    lab.page.set_viewport_size({"width": width, "height": 1000})
    open_file_browser(lab, app)
    lab.page.wait_for_timeout(500)  # Lab lays its panels out on resize
    lab.page.locator(".exls-panel").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    lab.page.screenshot(path=str(ARTIFACTS / f"layout-{app}-{width}.png"), full_page=True)
    report = layout_report(lab)
    print(f"{app} at {width} px: panel {report['panel']['width']:.0f} px, overlaps",
          {part: len(r["overlaps"]) for part, r in report.items()},
          "outside", {part: len(r["outside"]) for part, r in report.items()})
    for part in report:
        assert report[part]["rows"] > 0, (part, report)
        assert not report[part]["overlaps"], (f"{app} at {width} px: {part} boxes overlap "
                                              f"(panel {report['panel']['width']:.0f} px)",
                                              report[part]["overlaps"])
        assert not report[part]["outside"], (f"{app} at {width} px: {part} leaves its box",
                                             report[part]["outside"])
    clipped = lab.page.evaluate(CLIPPED_JS)
    assert not clipped, (f"{app} at {width} px: texts cut", clipped)
    names = lab.page.evaluate(NAMES_JS)
    assert len(names) == len(STATUSES), names
    for name in names:
        assert name["title"] == name["text"] and name["text"].startswith(LONG), name
        if width >= 1600:
            assert not name["cut"], (f"{app} at {width} px: a name is cut", name)
    return report


def test_layout_and_keyboard(lab: Lab, sb: Sandbox, jupyter_app: str) -> None:
    """At 800 and 1,600 px nothing overlaps or overflows and names are whole at 1,600 px; the
    keyboard reaches Stop, Confirm is focused on Enter and focus stays in the row after it."""
    for i, status in enumerate(STATUSES):
        sb.add({"name": f"{LONG}{i}", "workspace_status": status,
                "cluster_id": A100, "resources": {"gpu_count": 2, "gpu_type": "A100"}})
    progress = PROGRESS.format(ok=spec(f"{LONG}-new", 1), bad=spec(f"{LONG}-too-big", 64))
    lab.open_notebook([SETUP, PANEL, progress], name=f"layout_{jupyter_app}",
                      env={"EXALSIUS_API_URL": sb.url, "EXALSIUS_SANDBOX": "1"})
    lab.run_all()
    expect(lab.page.locator(".exls-panel .exls-row")).to_have_count(len(STATUSES))
    stages = lab.page.locator(".exls-progress-stage")
    expect(stages.filter(has_text="Failed")).to_have_count(1, timeout=20_000)
    expect(stages.filter(has_text="Running")).to_have_count(1, timeout=20_000)

    widths = {w: check_width(lab, jupyter_app, w)["panel"]["width"] for w in (800, 1600)}
    print(f"{jupyter_app}: panel width at 800 px {widths[800]:.0f}, at 1600 px {widths[1600]:.0f}")

    # Keyboard: Tab from the Refresh button to the RUNNING row's Stop.
    target = f"{LONG}0"  # RUNNING
    stop = row(lab, target).locator("button.exls-stop")
    lab.page.locator(".exls-refresh").focus()
    for _ in range(80):
        lab.page.keyboard.press("Tab")
        if stop.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail(f"Tab never reached the Stop of {target}: {lab.page.evaluate(ACTIVE_JS)}")
    active = lab.page.evaluate(ACTIVE_JS)
    assert active["visible"] and active["outlineStyle"] != "none", active
    assert float(active["outline"].removesuffix("px")) >= 2, active
    assert target in (stop.get_attribute("title") or ""), "the button names its workspace"
    lab.page.keyboard.press("Enter")
    confirm = row(lab, target).locator("button.exls-confirm")
    expect(confirm).to_be_focused()
    # Escape closes the question as Cancel does: focus back on Stop, nothing stopped.
    lab.page.keyboard.press("Escape")
    expect(row(lab, target).locator(".exls-confirm-line")).to_have_count(0)
    expect(stop).to_be_focused()
    expect(row(lab, target).locator(".exls-badge-running")).to_have_text("RUNNING")
    lab.page.keyboard.press("Enter")
    expect(confirm).to_be_focused()
    # Tab to Cancel, Enter: the same.
    lab.page.keyboard.press("Tab")
    expect(row(lab, target).locator("button.exls-cancel")).to_be_focused()
    lab.page.keyboard.press("Enter")
    expect(row(lab, target).locator(".exls-confirm-line")).to_have_count(0)
    expect(stop).to_be_focused()
    lab.page.keyboard.press("Enter")
    expect(confirm).to_be_focused()
    lab.page.keyboard.press("Enter")
    expect(row(lab, target).locator(".exls-badge-stopped")).to_have_text("STOPPED")
    start = row(lab, target).locator("button.exls-start")
    expect(start).to_be_focused()  # Stop is disabled now: the row's next action holds focus
    active = lab.page.evaluate(ACTIVE_JS)
    assert active["row"] == target and active["tag"] == "BUTTON", active

    # Delete's question focuses Cancel (it cannot be undone); Escape gives focus back to Delete;
    # asked again, Shift+Tab, Enter confirms; the row goes and Refresh holds focus.
    gone = f"{LONG}3"  # FAILED
    delete = row(lab, gone).locator("button.exls-delete")
    delete.focus()
    lab.page.keyboard.press("Enter")
    expect(row(lab, gone).locator("button.exls-cancel")).to_be_focused()
    lab.page.keyboard.press("Escape")
    expect(row(lab, gone).locator(".exls-confirm-line")).to_have_count(0)
    expect(delete).to_be_focused()
    lab.page.keyboard.press("Enter")
    expect(row(lab, gone).locator("button.exls-cancel")).to_be_focused()
    lab.page.keyboard.press("Shift+Tab")
    expect(row(lab, gone).locator("button.exls-confirm")).to_be_focused()
    lab.page.keyboard.press("Enter")
    expect(row(lab, gone)).to_have_count(0)
    expect(lab.page.locator("button.exls-refresh")).to_be_focused()
