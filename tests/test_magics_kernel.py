"""%exalsius inside a real ipykernel run headless (allow_stdin=False, as nbval and papermill do)."""

from __future__ import annotations

import os
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from support import REPO_ROOT

A100 = "11111111-1111-4111-8111-111111111111"
WIDGET = "application/vnd.jupyter.widget-view+json"


def execute(*sources: str, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Run the cells in a fresh python3 kernel; errors are recorded, not raised."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p))
    for var in ("EXALSIUS_API_URL", "EXALSIUS_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    client = NotebookClient(nb, kernel_name="python3", timeout=60, allow_errors=True,
                            resources={"metadata": {"path": str(REPO_ROOT)}})
    client.execute()
    return nb.cells


def text(cell: Any) -> str:
    """Every stream and text/plain output of a cell, joined."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "".join(parts)


def test_headless_kernel_never_waits_for_confirmation_or_a_token(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cells = execute(
        "%load_ext exalsius_jupyter",
        "%exalsius sandbox start --workspaces 4 --seed 2 --pending-seconds 0.1\n"
        "before = %exalsius list",
        "%exalsius delete --where 'gpu_count >= 0'",
        "%exalsius stop --where 'gpu_count >= 0'",
        "%exalsius login --token",
        "after = %exalsius list\nprint(after.equals(before))",
        monkeypatch=monkeypatch,
    )
    for cell in cells[2:4]:
        out = text(cell)
        assert "UsageError:" in out and "add --yes" in out and "Traceback" not in out
    assert "UsageError: cannot prompt for the token" in text(cells[4])
    assert "EXALSIUS_TOKEN" in text(cells[4])
    assert text(cells[5]).strip() == "True"  # nothing was stopped or deleted


def test_wait_and_watch_show_the_progress_widget_in_a_kernel(
        monkeypatch: pytest.MonkeyPatch) -> None:
    create = f"%exalsius create --cluster {A100} --template jupyter-notebook"
    cells = execute(
        "%load_ext exalsius_jupyter",
        "%exalsius sandbox start --pending-seconds 0.2",
        "%config Exalsius.poll_interval = 0.05",
        f"{create} --name waited --wait",
        f"r = {create} --name watched --watch\nprint('returned', r)",
        "%exalsius wait watched",
        "%exalsius panel",
        monkeypatch=monkeypatch,
    )
    waited = cells[3].outputs
    assert any(WIDGET in o.get("data", {}) for o in waited)  # the live widget
    assert any(o.get("data", {}).get("text/plain", "").startswith("CreationProgress")
               for o in waited)  # and a readable fallback, never a raw widget repr
    result = [o for o in waited if o.output_type == "execute_result"]
    assert len(result) == 1 and "RUNNING" in result[0].data["text/plain"]
    watched = text(cells[4])
    assert "returned None" in watched and "CreationProgress" in watched
    assert "RUNNING" in text(cells[5])
    panel = cells[6].outputs
    assert any(WIDGET in o.get("data", {}) for o in panel)
    assert all("Traceback" not in text(c) and "UsageError" not in text(c) for c in cells)


def test_the_saved_copy_of_a_waited_progress_widget_shows_the_final_state(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cells = execute(
        "%load_ext exalsius_jupyter",
        "%exalsius sandbox start --pending-seconds 0.3",
        "%config Exalsius.poll_interval = 0.05",
        f"%exalsius create --cluster {A100} --template jupyter-notebook --name done --wait",
        monkeypatch=monkeypatch,
    )
    shown = [o for o in cells[3].outputs if o.output_type == "display_data"]
    assert len(shown) == 1  # one display, updated in place when waiting ends
    fallback = shown[0].data["text/plain"]
    assert "Running" in fallback and "Submitted" not in fallback, fallback
    assert "Running" in shown[0].data["text/html"]
