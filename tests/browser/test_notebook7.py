"""Jupyter Notebook 7 in a real browser (Chromium): the quickstart runs, and the panel's Stop works.

The same harness as the JupyterLab scenarios (conftest.py): overriding `jupyter_app` makes `lab` a
`Notebook7` on the session's Notebook 7 server (pages at /notebooks/NAME.ipynb). Each test starts
its own sandbox in this process (127.0.0.1) and hands its URL to the kernel via EXALSIUS_API_URL,
as `python3 dev.py notebook` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest
from playwright.sync_api import Locator, expect

from exalsius_jupyter.sandbox import Sandbox

if TYPE_CHECKING:
    from tests.browser.conftest import Lab

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "notebooks" / "quickstart.ipynb"
SETUP = f"import sys\nsys.path.insert(0, {str(REPO)!r})"
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


@pytest.fixture
def jupyter_app() -> str:
    """Every scenario of this module runs in Notebook 7."""
    return "notebook"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(pending_seconds=1.0, seed=5) as sandbox:
        yield sandbox


def wired(sb: Sandbox) -> dict[str, str]:
    """The kernel's environment for the sandbox `sb`, as `dev.py notebook` sets it."""
    return {"EXALSIUS_API_URL": sb.url, "EXALSIUS_SANDBOX": "1"}


def assert_notebook7(lab: Lab) -> None:
    """The page is Notebook 7's notebook page, not JupyterLab's."""
    assert "/notebooks/" in lab.page.url
    assert lab.page.evaluate("window.jupyterapp.name") == "Jupyter Notebook"


def test_quickstart_run_all_finishes_every_cell_without_error(lab: Lab, sb: Sandbox) -> None:
    """A copy of notebooks/quickstart.ipynb (as it is now), wired to a sandbox: Run All in
    Notebook 7 executes every code cell, and none shows an error or a traceback."""
    notebook = nbformat.read(QUICKSTART, as_version=4)
    env_cell = f"{SETUP}\nimport os\nos.environ.update({wired(sb)!r})"
    notebook.cells.insert(0, nbformat.v4.new_code_cell(env_cell))
    for cell in notebook.cells:  # stored outputs must not stand in for this run's
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, lab.server.root_dir / "quickstart.ipynb")
    code_cells = sum(cell.cell_type == "code" for cell in notebook.cells)

    lab.open("quickstart", timeout=90)
    assert_notebook7(lab)
    expect(lab.cells()).to_have_count(code_cells)  # the page may still be adding cells
    lab.run_all(timeout=240)  # raises AssertionError on any error output

    prompts = lab.prompts()
    assert len(prompts) == code_cells, prompts
    unfinished = [i for i, p in enumerate(prompts) if not re.fullmatch(r"\[\d+\]:", p)]
    assert not unfinished, f"code cells {unfinished} did not finish: {prompts}"
    assert lab.errors() == []
    stderr = lab.page.locator(STDERR).all_inner_texts()
    assert not [text for text in stderr if "Traceback" in text], stderr


PANEL = """\
from exalsius_jupyter import WorkspacePanel
panel = WorkspacePanel(auto_refresh=False)
panel"""


def row(lab: Lab, name: str) -> Locator:
    """The panel row showing the workspace `name` (exact name match)."""
    cell = lab.page.locator(".exls-cell-name", has_text=re.compile(rf"^{re.escape(name)}$"))
    return lab.page.locator(".exls-row", has=cell)


def test_panel_stop_sends_exactly_one_post(lab: Lab, sb: Sandbox) -> None:
    """WorkspacePanel in Notebook 7: Stop asks first; confirming stops the RUNNING workspace with
    exactly one POST /workspace/{id}/stop at the sandbox, and the row shows STOPPED."""
    wid = sb.add({"name": "nb7-stop", "workspace_status": "RUNNING"})
    sb.add({"name": "nb7-bystander", "workspace_status": "RUNNING"})
    lab.open_notebook([SETUP, PANEL], name="panel_stop_nb7", env=wired(sb))
    assert_notebook7(lab)
    lab.run_all()
    target = row(lab, "nb7-stop")
    target.locator("button.exls-stop").click()
    expect(target.locator(".exls-confirm-text")).to_have_text("Stop nb7-stop?")
    assert sb.request_count("POST", "/workspace/{id}/stop") == 0
    target.locator("button.exls-confirm").click()
    expect(target.locator(".exls-badge-stopped")).to_have_text("STOPPED")
    assert (sb.get(wid) or {})["workspace_status"] == "STOPPED"
    lab.page.wait_for_timeout(1000)  # a second (duplicate) request would have arrived by now
    assert sb.request_count("POST", "/workspace/{id}/stop") == 1
    expect(target.locator("button.exls-stop")).to_be_disabled()
    expect(row(lab, "nb7-bystander").locator(".exls-badge-running")).to_be_visible()
