"""Leak grep: notebooks/live-service.ipynb executed for real, saved, then searched for secrets.

The notebook signs in at the in-process sandbox (``%exalsius sandbox start --auth``), renews,
creates a first workspace by names with a password, and signs out. Before its last cell stops
the sandbox, one extra cell (not saved) asks the sandbox's identity provider for every token and
device code it issued, and the kernel for the workspace's password; the saved notebook (outputs
and widget state) must contain none of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell
from support import JUPYTER_DIRS, REPO_ROOT

NOTEBOOK = REPO_ROOT / "notebooks" / "live-service.ipynb"
PROBE = ("import json\n"
         "from exalsius_jupyter.session import current_session\n"
         "print(json.dumps([*current_session().sandbox.idp.issued_secrets(), pw]))")


def test_executed_notebook_holds_no_token_and_no_device_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in JUPYTER_DIRS:
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    for var in ("EXALSIUS_TOKEN", "EXALSIUS_API_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    with client.setup_kernel():
        last = len(nb.cells) - 1
        for index, cell in enumerate(nb.cells[:last]):
            client.execute_cell(cell, index)
        probe = new_code_cell(PROBE)
        nb.cells.insert(last, probe)
        client.execute_cell(probe, last)
        issued = json.loads("".join(o["text"] for o in probe.outputs if "text" in o))
        nb.cells.remove(probe)  # not saved
        client.execute_cell(nb.cells[last], last)
        client.set_widgets_metadata()
    saved = tmp_path / "live-service.executed.ipynb"
    nbformat.write(nb, saved)
    text = saved.read_text(encoding="utf-8")

    assert "widgets" in nb.metadata and "Signed in as Ada Lovelace" in text  # state was saved
    assert "user_code=" in text  # the link (with the user code only) is there
    assert "Deleted first" in text and "cheapest READY cluster" in text  # created by names
    assert len(issued) >= 7  # a device code, access, ID and refresh tokens, renewed; a password
    hits = [secret[:8] + "…" for secret in issued if secret in text]
    # also any 16-character piece of a secret (a token cut into an excerpt)
    pieces = [s[i:i + 16] for s in issued for i in range(0, len(s) - 16, 8)]
    partial = sum(piece in text for piece in pieces)
    print(f"\nleak grep: {len(issued)} secrets issued, {len(hits)} hits, {partial} partial hits")
    assert hits == [] and partial == 0
