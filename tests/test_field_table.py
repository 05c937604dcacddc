"""A new API field is one row of model/fields.py: the model, the frame, the spec, ``create``
and the creation form follow.

The test copies the package, adds rows to the copy's field table (the only edit), and checks
from a fresh interpreter that the frame, the model, the create-body validation, the panel's
columns, ``create``'s options and the form's inputs know the fields, and that a ``%exalsius
create`` and a form's Create click send them to the sandbox (with and without the catalogue).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support import REPO_ROOT

ANCHOR = ('    Field("description", writable=True, '
          'ask=Ask("--description", "a description", "TEXT")),\n')
NEW_ROWS = ('    Field("region", writable=True, heading="Region",\n'
            '          ask=Ask("--region", "where it runs", "R", label="Region")),\n'
            '    Field("vram_gb", Kind.INT, "resources", writable=True,\n'
            '          ask=Ask("--vram", "VRAM in GB", "GB", label="VRAM (GB)", default=24)),\n')

SCRIPT = r"""
import json
from exalsius_jupyter.model.spec import validate_workspace_spec
from exalsius_jupyter.model.workspace import Workspace, WorkspaceList
from exalsius_jupyter.errors import ValidationError
from exalsius_jupyter import render

raw = {"id": "w1", "name": "a", "cluster_id": "c", "workspace_status": "RUNNING",
       "region": "eu-north", "resources": {"gpu_count": 1, "vram_gb": 80}}
frame = WorkspaceList([raw]).to_dataframe()
ws = Workspace.from_api(raw)
spec = {"name": "a", "cluster_id": "11111111-1111-4111-8111-111111111111",
        "template": {"name": "t", "variables": {}}, "region": "eu-north",
        "resources": {"gpu_count": 1, "vram_gb": 80}}
try:
    validate_workspace_spec({**spec, "region": 5})
    bad_region = "accepted"
except ValidationError as exc:
    bad_region = str(exc)
from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.magics.commands import build_parser
from exalsius_jupyter.magics.commands.create import create_spec
from exalsius_jupyter.widgets.form import CreationForm

create = build_parser().children["create"]
args = create.parse_args(["--name", "a", "--cluster", "11111111-1111-4111-8111-111111111111",
                          "--template", "t", "--region", "eu-west", "--vram", "48"])
form = CreationForm(ExalsiusClient("http://127.0.0.1:9/v1"), clusters=lambda: [],
                    on_created=lambda _id: None)
form.name.value, form.cluster.value = "b", "11111111-1111-4111-8111-111111111111"
form.inputs["region"].value = "us-east"
form.inputs["vram_gb"].value = 40
print(json.dumps({
    "create_help": create.format_help(),
    "create_body": create_spec(args),
    "form_labels": [w.description for w in form.inputs.values()],
    "form_spec": form.spec(),
    "columns": list(frame.columns),
    "region": frame["region"][0], "region_dtype": str(frame["region"].dtype),
    "vram": int(frame["vram_gb"][0]), "vram_dtype": str(frame["vram_gb"].dtype),
    "model": [ws.value("region"), ws.value("vram_gb")],
    "extra": sorted(ws.extra), "resource_extra": sorted(ws.resources.extra),
    "spec": validate_workspace_spec(spec),
    "bad_region": bad_region,
    "text": render.workspaces_text([ws]),
    "row": render.workspace_row_html(ws),
    "heads": render.header_row_html(),
    "table": render.workspaces_html([ws]),
}))
"""


# What the sandbox receives: `%exalsius create` without the catalogue (1.5.1) and by names with
# it (1.46), and a form's Create click.
END_TO_END = r"""
import json, time
from IPython.core.interactiveshell import InteractiveShell
from exalsius_jupyter.sandbox import Sandbox
from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.widgets.form import CreationForm

A100 = "11111111-1111-4111-8111-111111111111"


def posted(sb):
    return [json.loads(r.body) for r in sb.requests
            if (r.method, r.path) == ("POST", "/workspaces")]


shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "exalsius_jupyter")
out = {}
for api, line in (("1.5.1", f"--cluster {A100} --template jupyter-notebook"),
                  ("1.46", "--template jupyter-notebook-template --var notebookPassword=pw")):
    with Sandbox(api=api, pending_seconds=0.2, seed=1) as sb:
        shell.run_line_magic("config", f"Exalsius.api_url = {sb.url!r}")
        shell.run_line_magic("exalsius", f"create --name m {line} --region eu-west --vram 48")
        form = CreationForm(ExalsiusClient(sb.url), clusters=lambda: [A100],
                            on_created=lambda _id: None)
        form.name.value = "f"
        form.inputs["region"].value = "us-east"
        form.inputs["vram_gb"].value = 40
        assert form.submit(), form.message.value
        deadline = time.monotonic() + 30
        while form.busy and time.monotonic() < deadline:
            time.sleep(0.02)
        out[api] = {"bodies": posted(sb), "message": form.message.value}
print(json.dumps(out))
"""


def _run(package_root: Path, script: str = SCRIPT) -> dict[str, Any]:
    env = {"PYTHONPATH": str(package_root), "IPYTHONDIR": str(package_root / "ipython")}
    proc = subprocess.run([sys.executable, "-c", script], cwd=package_root, timeout=120,
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def with_rows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package whose field table has the new rows (the only edit)."""
    root = tmp_path_factory.mktemp("with_rows")
    copy = root / "exalsius_jupyter"
    shutil.copytree(REPO_ROOT / "exalsius_jupyter", copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    table = copy / "model" / "fields.py"
    text = table.read_text(encoding="utf-8")
    assert text.count(ANCHOR) == 1
    table.write_text(text.replace(ANCHOR, ANCHOR + NEW_ROWS), encoding="utf-8")
    return root


def test_one_row_adds_a_field_to_the_model_the_frame_and_the_spec(with_rows: Path) -> None:
    out = _run(with_rows)
    assert out["columns"][-2:] == ["region", "vram_gb"]
    assert (out["region"], out["region_dtype"]) == ("eu-north", "string")
    assert (out["vram"], out["vram_dtype"]) == (80, "Int64")
    assert out["model"] == ["eu-north", 80]
    assert "region" not in out["extra"] and "vram_gb" not in out["resource_extra"]
    assert out["spec"]["region"] == "eu-north" and out["spec"]["resources"]["vram_gb"] == 80
    assert "region must be a string" in out["bad_region"]
    # the panel's rows, its heading line and both fallbacks show the column with a heading
    assert "Region" in out["text"] and "eu-north" in out["text"]
    assert "eu-north" in out["row"] and "Region" in out["heads"]
    assert "<th>Region</th>" in out["table"] and "eu-north" in out["table"]
    # `create` has an option per new row, and its value reaches the request body
    help_text = " ".join(out["create_help"].split())
    assert "--region R where it runs" in help_text and "--vram GB VRAM in GB" in help_text
    assert out["create_body"]["region"] == "eu-west"
    assert out["create_body"]["resources"]["vram_gb"] == 48
    # the form has an input per new row (after the others, in table order) sent in its spec
    assert out["form_labels"][-2:] == ["Region", "VRAM (GB)"]
    assert out["form_spec"]["region"] == "us-east"
    assert out["form_spec"]["resources"]["vram_gb"] == 40


def test_without_the_row_the_field_stays_extra(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "exalsius_jupyter", tmp_path / "exalsius_jupyter",
                    ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run(
        [sys.executable, "-c", "from exalsius_jupyter.model.workspace import Workspace\n"
         "ws = Workspace.from_api({'id': 'w', 'region': 'x', 'resources': {'vram_gb': 1}})\n"
         "print(sorted(ws.extra), sorted(ws.resources.extra))"],
        cwd=tmp_path, timeout=120, capture_output=True, text=True,
        env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['region'] ['vram_gb']"


def test_one_row_reaches_what_create_and_the_form_send(with_rows: Path) -> None:
    out = _run(with_rows, END_TO_END)
    for api in ("1.5.1", "1.46"):  # without the catalogue, and a create by names with it
        magic, form = out[api]["bodies"]
        assert magic["name"] == "m" and magic["region"] == "eu-west"
        assert magic["resources"]["vram_gb"] == 48
        assert form["name"] == "f" and form["region"] == "us-east"
        assert form["resources"]["vram_gb"] == 40
        assert "Created <b>f</b>" in out[api]["message"]
