"""Proves the browser harness: widgets render, clicks reach the kernel, late updates arrive."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.browser.conftest import Lab

WIDGETS = """\
import ipywidgets as w

label = w.Label("clicks: 0").add_class("t-label")
button = w.Button(description="Click me").add_class("t-button")
clicks = 0

def on_click(_):
    global clicks
    clicks += 1
    label.value = f"clicks: {clicks}"

button.on_click(on_click)
w.VBox([button, label])
"""

BACKGROUND = """\
import threading
import time

late = w.Label("updates: -").add_class("t-late")

def update():
    time.sleep(2)  # start only well after the cell has finished
    done = []
    for i in range(1, 4):
        done.append(str(i))
        late.value = "updates: " + ",".join(done)
        time.sleep(0.3)

threading.Thread(target=update, daemon=True).start()
late
"""


@pytest.mark.browser
def test_button_click_and_background_updates(lab: Lab) -> None:
    """A click changes a Label; a daemon thread's updates after the cell finished show up."""
    lab.open_notebook([WIDGETS, BACKGROUND], name="harness")
    lab.run_all()
    # run_all returned: both cells finished, so every later change comes from the thread
    lab.wait_for_text(".t-late", "updates: -", timeout=1)
    button = lab.wait_for("button.t-button")
    lab.wait_for_text(".t-label", "clicks: 0")
    button.click()
    lab.wait_for_text(".t-label", "clicks: 1")
    button.click()
    lab.wait_for_text(".t-label", "clicks: 2")
    lab.wait_for_text(".t-late", "updates: 1,2,3", timeout=20)
