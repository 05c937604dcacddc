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
            '          ask=Ask("--vram", "VRAM in GB", "GB", widget="int", label="VRAM (GB)",\n'
            '                  default=24, low=8, high=640, step=8)),\n'
            '    Field("interconnect", Kind.TEXT, "resources", writable=True,\n'
            '          ask=Ask("--interconnect", "the nodes\' link", "L", widget="choice",\n'
            '                  label="Interconnect", choices=("ethernet", "infiniband"))),\n')

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
line = ["--name", "a", "--cluster", "11111111-1111-4111-8111-111111111111", "--template", "t"]
args = create.parse_args([*line, "--region", "eu-west", "--vram", "48"])
refused = []
for bad in (["--vram", "4"], ["--vram", "4.5"], ["--interconnect", "token-ring"]):
    try:
        create.parse_args([*line, *bad])
        refused.append("accepted")
    except Exception as exc:
        refused.append(str(exc))
form = CreationForm(ExalsiusClient("http://127.0.0.1:9/v1"), clusters=lambda: [],
                    on_created=lambda _id: None)
form.name.value, form.cluster.value = "b", "11111111-1111-4111-8111-111111111111"
form.inputs["region"].value = "us-east"
form.inputs["vram_gb"].value = 40
vram, link = form.inputs["vram_gb"], form.inputs["interconnect"]
print(json.dumps({
    "refused": refused,
    "form_widgets": [type(w).__name__ for w in form.inputs.values()],
    "vram_input": [vram.min, vram.max, vram.step],
    "vram_first": CreationForm(ExalsiusClient("http://127.0.0.1:9/v1"), clusters=lambda: [],
                               on_created=lambda _id: None).inputs["vram_gb"].value,
    "link_options": [list(o) for o in link.options], "link_value": link.value,
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
        shell.run_line_magic("exalsius", f"create --name m {line} --region eu-west --vram 48 "
                                         "--interconnect infiniband")
        form = CreationForm(ExalsiusClient(sb.url), clusters=lambda: [A100],
                            on_created=lambda _id: None)
        form.name.value = "f"
        form.inputs["region"].value = "us-east"
        form.inputs["vram_gb"].value = 40
        form.inputs["interconnect"].value = "ethernet"
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
    # a new field goes after the table's other fields, before the ids (frames.COLUMNS)
    assert out["columns"][-6:] == ["region", "vram_gb", "interconnect", "id", "cluster_id", "owner"]
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
    assert "--interconnect L the nodes' link (one of ethernet, infiniband)" in help_text
    # its row's bound and choices are the option's too, refused in argparse's words
    assert "argument --vram: expected a number >= 8, got '4'" in out["refused"][0]
    assert "argument --vram: expected a whole number, got '4.5'" in out["refused"][1]
    assert ("argument --interconnect: expected one of ethernet, infiniband, got 'token-ring'"
            in out["refused"][2])
    assert out["create_body"]["region"] == "eu-west"
    assert out["create_body"]["resources"]["vram_gb"] == 48
    # the form has an input per new row (after the others, in table order) sent in its spec
    assert out["form_labels"][-3:] == ["Region", "VRAM (GB)", "Interconnect"]
    assert out["form_widgets"][-3:] == ["Text", "BoundedIntText", "Dropdown"]  # the row's kinds
    assert out["vram_input"] == [8, 640, 8] and out["vram_first"] == 24
    assert out["link_options"] == [["any", ""], ["ethernet", "ethernet"],
                                   ["infiniband", "infiniband"]]
    assert out["form_spec"]["region"] == "us-east"
    assert out["form_spec"]["resources"]["vram_gb"] == 40
    assert "interconnect" not in out["form_spec"]["resources"]  # "any": not sent


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
        assert magic["resources"]["interconnect"] == "infiniband"
        assert form["name"] == "f" and form["region"] == "us-east"
        assert form["resources"]["vram_gb"] == 40
        assert form["resources"]["interconnect"] == "ethernet"
        assert "Created <b>f</b>" in out[api]["message"]


def test_a_row_that_cannot_be_asked_for_fails_where_it_is_written() -> None:
    from exalsius_jupyter.model.fields import Ask, Field, Kind

    with pytest.raises(ValueError, match="widget 'slider' is not one of int, text, choice"):
        Ask("--x", "x", widget="slider")
    with pytest.raises(ValueError, match="only a choice, has choices"):
        Ask("--x", "x", choices=("a", "b"))
    with pytest.raises(ValueError, match="only a choice, has choices"):
        Ask("--x", "x", widget="choice")
    with pytest.raises(ValueError, match=r"default 99 is not in 0\.\.10"):
        Ask("--x", "x", widget="int", default=99, high=10)
    with pytest.raises(ValueError, match="default 'c' is not a choice"):
        Ask("--x", "x", widget="choice", choices=("a", "b"), default="c")
    with pytest.raises(ValueError, match="kind text cannot be asked for with a 'int' input"):
        Field("x", writable=True, ask=Ask("--x", "x", widget="int"))
    with pytest.raises(ValueError, match="kind int cannot be asked for with a 'text' input"):
        Field("x", Kind.INT, writable=True, ask=Ask("--x", "x"))
    with pytest.raises(ValueError, match="only a writable field is asked for"):
        Field("x", ask=Ask("--x", "x"))


def test_the_form_draws_every_input_kind_a_row_can_declare() -> None:
    from exalsius_jupyter.model.fields import FORM_FIELDS, INPUT_KINDS
    from exalsius_jupyter.widgets.form import INPUTS

    assert set(INPUTS) == set(INPUT_KINDS)
    assert [f.name for f in FORM_FIELDS] == [
        "gpu_count", "gpu_type", "cpu_cores", "memory_gb", "storage_gb"]


def test_an_ask_parses_as_its_row_says() -> None:
    from exalsius_jupyter.model.fields import Ask

    gpus = Ask("--gpus", "GPU count", widget="int", high=64)
    assert gpus.parse("65") == 65  # the form's upper bound; a larger ask is the server's
    assert gpus.parse(" 3 ") == 3 and gpus.option_help == "GPU count"
    with pytest.raises(ValueError, match="expected a number >= 0, got '-1'"):
        gpus.parse("-1")
    link = Ask("--link", "the link", widget="choice", choices=("a", "b"))
    assert link.parse("b") == "b" and link.option_help == "the link (one of a, b)"
    with pytest.raises(ValueError, match="expected one of a, b, got 'c'"):
        link.parse("c")
    assert Ask("--t", "text").parse(" as typed ") == " as typed "
