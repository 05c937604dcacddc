"""A first workspace from the panel's form in a real JupyterLab (Chromium), by names: pick a
cluster and a template, type the password, Create; then the saved notebook and its widget state
are grepped for the password, as after the same create from the magic's hidden prompt (#15)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.sandbox import Sandbox

if TYPE_CHECKING:
    from tests.browser.conftest import Lab

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SETUP = f"import sys\nsys.path.insert(0, {str(REPO)!r})"
H100 = "22222222-2222-4222-8222-222222222222"
PASSWORD = "browser-horse-battery-7"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


@pytest.fixture
def live_like() -> Iterator[Sandbox]:
    with Sandbox(api="1.46", pending_seconds=1.0, seed=5) as sandbox:
        yield sandbox


def sent_workspace(sb: Sandbox, name: str) -> dict[str, Any]:
    """The workspace ``name`` as the sandbox holds it (the password unmasked)."""
    with ExalsiusClient(sb.url, timeout=5) as client:
        (ws,) = [w for w in client.list_workspaces() if w.name == name]
    found = sb.get(ws.id)
    assert found is not None
    return found


def save(lab: Lab, path: Path) -> str:
    """Save the open notebook (Ctrl+S) and return the file once it is written whole."""
    before = path.read_text()
    lab.page.locator(".jp-Notebook").first.click()
    lab.page.keyboard.press("Control+s")
    lab.page.wait_for_function(
        "() => !document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)')"
        "?.classList.contains('jp-mod-dirty')", timeout=30_000)
    for _ in range(100):
        text = path.read_text()
        if text != before:
            try:
                json.loads(text)  # not while the server is still writing it
            except ValueError:
                pass
            else:
                return text
        lab.page.wait_for_timeout(100)
    raise AssertionError("the notebook was not saved")


def test_a_create_from_the_form_by_names_keeps_no_password(lab: Lab, live_like: Sandbox) -> None:
    cells = [SETUP, "from exalsius_jupyter import WorkspacePanel\n"
                    "panel = WorkspacePanel(auto_refresh=False)\npanel"]
    path = lab.write_notebook(cells, name="form_by_names", env={"EXALSIUS_API_URL": live_like.url})
    lab.open("form_by_names")
    lab.run_all()
    lab.page.locator(".exls-form .jupyter-widget-Collapse-header").first.click()
    cluster = lab.wait_for(".exls-form-cluster-choice select")
    expect(cluster.locator("option")).to_contain_text(
        [re.compile("cheapest"), re.compile(r"demo-h100\s·\s6\sH100\sfree\s·\s17\.94/h")])  # nbsp
    template = lab.page.locator(".exls-form-template-choice select")
    template.select_option("marimo-workspace-template")
    expect(lab.page.locator(".exls-form-variable input[type=password]")).to_have_count(1)
    template.select_option("jupyter-notebook-template")
    h100 = cluster.locator("option", has_text=re.compile("demo-h100")).get_attribute("value")
    cluster.select_option(value=h100)  # the entry's label (with its nbsp) is its DOM value
    lab.page.locator(".exls-form-name input").fill("nb-form")
    gpus = lab.page.locator(".exls-form-gpu-count input")
    gpus.fill("2")
    gpus.press("Enter")
    lab.page.locator(".exls-form-gpu-type input").fill("H100")
    lab.page.locator(".exls-form-gpu-type input").press("Enter")
    expect(lab.page.locator(".exls-form-summary")).to_contain_text("2 × H100 GPUs")
    expect(lab.page.locator(".exls-form-summary")).to_contain_text("17.94 per hour")
    secret = lab.page.locator(".exls-form-variable input[type=password]")
    secret.fill(PASSWORD)
    secret.press("Tab")  # the value reaches the kernel on change
    lab.page.locator("button.exls-form-create").click()
    expect(lab.page.locator(".exls-form-message")).to_contain_text("Created nb-form",
                                                                   timeout=30_000)
    expect(secret).to_have_value("")  # emptied once sent
    expect(lab.page.locator(".exls-progress-area")).to_contain_text("RUNNING", timeout=30_000)
    sent = sent_workspace(live_like, "nb-form")
    assert sent["template"]["variables"]["notebookPassword"] == PASSWORD
    assert sent["cluster_id"] == H100 and sent["resources"]["gpu_count"] == 2
    saved = save(lab, path)
    state = json.loads(saved)["metadata"].get("widgets", {}).get(WIDGET_STATE, {})
    assert "notebookPassword" in json.dumps(state)  # the password field's state was saved...
    assert saved.count(PASSWORD) == 0  # ...and holds no password, nor does anything else


def test_a_create_from_the_magic_prompt_keeps_no_password(lab: Lab, live_like: Sandbox) -> None:
    cells = [SETUP, "%load_ext exalsius_jupyter",
             "%exalsius create --name nb-magic --template jupyter-notebook-template --gpus 2 "
             "--gpu-type H100"]
    path = lab.write_notebook(cells, name="magic_by_names", env={"EXALSIUS_API_URL": live_like.url})
    lab.open("magic_by_names")
    before = lab.prompts()
    lab.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    lab.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    prompt = lab.wait_for(".jp-Stdin-input")
    assert prompt.get_attribute("type") == "password"  # hidden as it is typed
    prompt.fill(PASSWORD)
    prompt.press("Enter")
    lab.wait_until_executed(before, timeout=60)
    saved = save(lab, path)
    assert "nb-magic" in saved and "notebookPassword (hidden)" in saved
    assert saved.count(PASSWORD) == 0
    assert sent_workspace(live_like, "nb-magic")["template"]["variables"][
        "notebookPassword"] == PASSWORD
