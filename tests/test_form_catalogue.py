"""The panel's creation form from the catalogue (API 1.46): clusters and templates by name, the
template's own fields, GPUs bounded by what is free, a live summary, a password field emptied
once the create is sent; without a catalogue, today's fields (#15 item 9)."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets
import pytest
from support import A100_CLUSTER, wait_until

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.sandbox import Sandbox
from exalsius_jupyter.widgets import WorkspacePanel
from exalsius_jupyter.widgets.base import walk
from exalsius_jupyter.widgets.form import CreationForm

PASSWORD = "form-horse-battery"
H100 = "22222222-2222-4222-8222-222222222222"
CREATE = "/workspaces"


@pytest.fixture
def form(live_like: Sandbox) -> Iterator[CreationForm]:
    with ExalsiusClient(live_like.url, timeout=5) as client:
        made = CreationForm(client, clusters=lambda: [], on_created=lambda _id: None)
        assert made.loaded.wait(10), "the catalogue was never read"
        yield made
        made.close()


def fill(form: CreationForm, **values: Any) -> None:
    form.name.value = values.get("name", "nb")
    form.inputs["gpu_count"].value = values.get("gpus", 2)
    form.inputs["gpu_type"].value = values.get("gpu_type", "H100")
    fields = form.catalogue
    assert fields is not None and fields.variables is not None
    if "password" in values:
        fields.variables.inputs["notebookPassword"].value = values["password"]


def created(form: CreationForm) -> str:
    wait_until(lambda: not form.busy, what="the create's answer")
    assert "Created <b>" in form.message.value, form.message.value
    return form.message.value.split("<code>")[1].split("</code>")[0]


def widget_states(form: CreationForm) -> str:
    """Every value the form's widgets would save into a notebook's widget state."""
    return json.dumps([w.get_state() for w in walk(form.widget)], default=str)


def test_clusters_and_templates_are_offered_by_name(form: CreationForm) -> None:
    fields = form.catalogue
    assert fields is not None and form.message.value == ""
    labels = dict((value, label) for label, value in fields.cluster.options)
    assert labels[""] == "wherever it fits, cheapest first"
    assert labels[H100].startswith("demo-h100 · 6 H100 free · 17.94/h")
    assert all("demo-l40s" not in label for label in labels.values())  # DEPLOYING: not offered
    assert "demo-cpu · no GPUs free · 1.2/h" in labels.values()
    assert fields.template.value == "jupyter-notebook-template"
    assert "marimo-workspace-template" in fields.template.options
    # Shown instead of the id box, the template name box and the key=value box.
    assert form.cluster not in form.widget.children and form.variables not in form.widget.children
    assert fields.cluster in form.widget.children and fields.summary in form.widget.children


def test_the_template_s_variables_are_typed_fields(form: CreationForm) -> None:
    fields = form.catalogue
    assert fields is not None and fields.variables is not None
    kinds = {path: type(w) for path, w in fields.variables.inputs.items()}
    assert kinds["notebookPassword"] is widgets.Password
    assert kinds["deploymentNumReplicas"] is widgets.IntText
    assert kinds["global"] is widgets.Textarea and kinds["deploymentImage"] is widgets.Text
    assert "deploymentName: jupyter-notebook" in fields.variables.inputs["global"].value
    fields.template.value = "llm-d-model-template-0-1-1"
    assert fields.variables is not None
    kinds = {path: type(w) for path, w in fields.variables.inputs.items()}
    assert kinds["huggingfaceToken"] is widgets.Password
    assert kinds["inferenceApiKey"] is widgets.Password and kinds["ms"] is widgets.Textarea


def test_the_gpu_count_is_bounded_by_a_node_s_free_gpus(form: CreationForm) -> None:
    fields = form.catalogue
    assert fields is not None
    fill(form, gpus=2)
    assert form.inputs["gpu_count"].max == 4  # demo-h100's fullest node; 6 free in all
    fields.cluster.value = A100_CLUSTER
    form.inputs["gpu_type"].value = ""
    assert form.inputs["gpu_count"].max == 8


def test_the_summary_follows_the_fields(form: CreationForm) -> None:
    fields = form.catalogue
    assert fields is not None
    fill(form, gpus=2)
    assert "cluster:   demo-h100" in fields.summary.value
    assert "2 × H100 GPUs, 48 CPUs" in fields.summary.value
    assert "17.94 per hour" in fields.summary.value
    assert form.inputs["cpu_cores"].value == 48 and form.inputs["cpu_cores"].disabled
    form.inputs["gpu_type"].value = "MI300X"
    assert "cluster:   demo-mi300x" in fields.summary.value
    form.inputs["gpu_type"].value = "B200"
    assert "no READY cluster has B200 GPUs" in fields.summary.value


def test_a_create_from_the_form_sends_the_password_once_and_forgets_it(
        form: CreationForm, live_like: Sandbox) -> None:
    fill(form)
    live_like.reset_counts()
    form.create_button.click()  # no password yet: refused before anything is sent
    assert "type notebookPassword" in form.message.value
    assert live_like.request_count("POST", CREATE) == 0
    fill(form, password=PASSWORD)
    form.create_button.click()
    workspace_id = created(form)
    assert live_like.request_count("POST", CREATE) == 1
    sent = live_like.get(workspace_id)
    assert sent is not None
    assert sent["template"]["variables"]["notebookPassword"] == PASSWORD
    assert sent["template"]["variables"]["deploymentNumReplicas"] == 1  # the template's own
    assert sent["cluster_id"] == H100 and sent["resources"]["gpu_count"] == 2
    assert form.catalogue is not None and form.catalogue.variables is not None
    assert form.catalogue.variables.inputs["notebookPassword"].value == ""
    assert PASSWORD not in widget_states(form)


def test_explicit_resources_are_checked_before_sending(form: CreationForm,
                                                      live_like: Sandbox) -> None:
    fields = form.catalogue
    assert fields is not None
    fill(form, gpus=1, password=PASSWORD)
    fields.fit.value = False
    assert not form.inputs["cpu_cores"].disabled
    form.inputs["cpu_cores"].value = 1000
    live_like.reset_counts()
    form.create_button.click()
    assert "node-a has 96 CPUs free, not 1000" in form.message.value
    assert live_like.request_count("POST", CREATE) == 0
    form.inputs["cpu_cores"].value = 6
    form.create_button.click()
    sent = live_like.get(created(form))
    assert sent is not None and sent["resources"]["cpu_cores"] == 6


def test_a_nested_value_is_edited_in_its_yaml_box(form: CreationForm,
                                                 live_like: Sandbox) -> None:
    fields = form.catalogue
    assert fields is not None
    fields.template.value = "llm-d-model-template-0-1-1"
    assert fields.variables is not None
    inputs = fields.variables.inputs
    inputs["huggingfaceToken"].value, inputs["inferenceApiKey"].value = "hf_x1y2z3w4", "key-1234"
    form.name.value, form.inputs["gpu_type"].value = "llm", "H100"
    inputs["ms"].value = inputs["ms"].value.replace("tensor: 1", "tensor: 2")
    form.create_button.click()
    sent = live_like.get(created(form))
    assert sent is not None
    ms = sent["template"]["variables"]["ms"]
    assert ms["decode"]["parallelism"] == {"tensor": 2, "data": 1}
    assert ms["modelArtifacts"]["uri"] == "hf://Qwen/Qwen3-0.6B"  # the rest kept
    inputs["ms"].value = "decode: [unclosed"
    form.create_button.click()
    assert "variable 'ms': not valid YAML or JSON" in html.unescape(form.message.value)


def test_without_a_catalogue_the_form_keeps_its_fields() -> None:
    with Sandbox(pending_seconds=0.2) as strict, ExalsiusClient(strict.url, timeout=5) as client:
        form = CreationForm(client, clusters=lambda: [A100_CLUSTER], on_created=lambda _id: None)
        try:
            assert form.loaded.wait(10)
            assert form.catalogue is None and form.message.value == ""
            assert form.cluster in form.widget.children and form.cluster.value == A100_CLUSTER
            assert form.variables in form.widget.children
        finally:
            form.close()


def test_the_panel_s_form_reads_the_catalogue(live_like: Sandbox) -> None:
    with ExalsiusClient(live_like.url, timeout=5) as client:
        panel = WorkspacePanel(client, auto_refresh=False)
        try:
            assert panel.form.loaded.wait(10) and panel.form.catalogue is not None
        finally:
            panel.close()


def test_closing_the_form_leaves_no_widget_open(live_like: Sandbox) -> None:
    from ipywidgets.widgets.widget import _instances

    before = set(_instances)
    with ExalsiusClient(live_like.url, timeout=5) as client:
        form = CreationForm(client, clusters=lambda: [], on_created=lambda _id: None)
        assert form.loaded.wait(10) and form.catalogue is not None
        assert form.catalogue is not None
        form.catalogue.template.value = "marimo-workspace-template"  # new fields, old closed
        form.close()
    assert set(_instances) - before == set()
