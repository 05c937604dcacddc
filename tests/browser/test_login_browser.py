"""%exalsius login in a real JupyterLab (Chromium) against the in-process sandbox's --auth mode.

The kernel starts the sandbox as its own sign-in service; the test clicks the link the widget
shows (a new page opens: the sandbox's approval page), clicks Approve, sees the widget say who
signed in, and runs %exalsius list, whose output is the frame's HTML table.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

if TYPE_CHECKING:
    from tests.browser.conftest import Lab

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SETUP = f"import sys\nsys.path.insert(0, {str(REPO)!r})"
CELLS = [
    SETUP,
    "%load_ext exalsius_jupyter",
    "%exalsius sandbox start --auth --device-interval 0.2 --workspaces 2 --seed 4",
    "%exalsius login",
    "%exalsius list",
    "%exalsius sandbox stop",
]


def test_device_login_in_jupyterlab_then_list(lab: Lab) -> None:
    lab.open_notebook(CELLS, name="login_browser", env={"EXALSIUS_TOKEN": ""})
    for index in range(1, 4):  # 0 is the env cell; SETUP, load_ext, sandbox start, login
        lab.run_cell(index)
    lab.run_cell(4)  # login: the cell returns at once, the widget waits for approval
    link = lab.wait_for("a.exls-login-link")
    href = link.get_attribute("href") or ""
    code = lab.wait_for(".exls-login-code code").inner_text().strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/activate\?user_code=[A-Z]{4}-[A-Z]{4}", href)
    assert href.endswith(code)
    status = lab.page.locator(".widget-html.exls-login-status")  # the widget; inside, its line
    expect(status).to_contain_text("Waiting for approval")

    with lab.page.expect_popup() as popup:  # target=_blank: a new page, as for a user
        link.click()
    approval = popup.value
    try:
        approval.wait_for_load_state()
        expect(approval.locator("#user-code")).to_have_text(code)
        approval.get_by_role("button", name="Approve").click()
        expect(approval.locator("h1")).to_have_text("Device approved")
    finally:
        approval.close()

    expect(status).to_contain_text("Signed in as Ada Lovelace (ada@example.com)",
                                   timeout=15_000)
    line = status.locator("div.exls-login-status")
    expect(line).to_have_class(re.compile(r"\bexls-tone-ok\b"))
    colour = "e => getComputedStyle(e).color"
    title = lab.page.locator(".exls-login .widget-html-content > b").first  # "Sign in to ..."
    assert line.evaluate(colour) != title.evaluate(colour)  # the sheet's success colour
    expect(lab.page.locator("a.exls-login-link")).to_have_count(0)

    lab.run_cell(5)  # %exalsius list
    table = lab.cells().nth(5).locator(".jp-OutputArea-output table.dataframe")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(2)
    lab.run_cell(6)
