"""The panel's creation form: fields in, a validated workspace spec out, the client creates it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from ..api.client import ExalsiusClient
from ..errors import ExalsiusError, ValidationError
from ..model.spec import validate_workspace_spec
from ..render import error_html, error_line, escape
from ._base import classed

DEFAULT_TEMPLATE = "jupyter-notebook"


def parse_variables(text: str) -> dict[str, str]:
    """Template variables from ``key=value`` lines (blank lines and ``#`` comments ignored)."""
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not key.strip():
            raise ValidationError(
                f"template variables, line {number}: expected key=value, got {stripped!r}")
        out[key.strip()] = value.strip()
    return out


class CreationForm:
    """Name, cluster, template, variables and resources; Create validates, then sends once."""

    def __init__(
        self,
        client: ExalsiusClient,
        *,
        clusters: Callable[[], Sequence[str]],
        on_created: Callable[[str], None],
        guard: Callable[[Callable[..., Any]], Callable[..., None]] | None = None,
    ) -> None:
        self.client = client
        self._clusters = clusters
        self._on_created = on_created
        self._lock = threading.Lock()
        wide = widgets.Layout(width="420px")
        narrow = widgets.Layout(width="200px")
        style = {"description_width": "110px"}
        self.name = classed(widgets.Text(description="Name", placeholder="my-workspace",
                                         layout=wide, style=style), "exls-form-name")
        self.cluster = classed(widgets.Combobox(
            description="Cluster", placeholder="cluster id (UUID)", options=[],
            ensure_option=False, layout=wide, style=style), "exls-form-cluster")
        self.template = classed(widgets.Text(description="Template", value=DEFAULT_TEMPLATE,
                                             layout=wide, style=style), "exls-form-template")
        self.variables = classed(widgets.Textarea(
            description="Variables", placeholder="key=value, one per line",
            layout=widgets.Layout(width="420px", height="64px"), style=style),
            "exls-form-variables")
        self.gpu_count = classed(widgets.BoundedIntText(
            description="GPUs", value=1, min=0, max=64, layout=narrow, style=style),
            "exls-form-gpu-count")
        self.gpu_type = classed(widgets.Text(description="GPU type", placeholder="any",
                                             layout=narrow, style=style), "exls-form-gpu-type")
        self.cpu_cores = classed(widgets.BoundedIntText(
            description="CPUs", value=4, min=0, max=1024, layout=narrow, style=style),
            "exls-form-cpu")
        self.memory_gb = classed(widgets.BoundedIntText(
            description="Memory (GB)", value=16, min=0, max=65536, layout=narrow, style=style),
            "exls-form-memory")
        self.storage_gb = classed(widgets.BoundedIntText(
            description="Storage (GB)", value=50, min=0, max=1_000_000, layout=narrow,
            style=style), "exls-form-storage")
        self.create_button = classed(widgets.Button(description="Create", icon="plus",
                                                    button_style="primary"), "exls-form-create")
        self.message = classed(widgets.HTML(value=""), "exls-form-message")
        handler: Callable[..., Any] = lambda _b: self.submit()  # noqa: E731
        self.create_button.on_click(guard(handler) if guard else handler)
        self.widget = classed(widgets.VBox([
            self.name, self.cluster, self.template, self.variables,
            widgets.HBox([self.gpu_count, self.gpu_type]),
            widgets.HBox([self.cpu_cores, self.memory_gb]),
            self.storage_gb,
            widgets.HBox([self.create_button, self.message],
                         layout=widgets.Layout(align_items="center")),
        ]), "exls-form-body")
        self.update_clusters()

    def update_clusters(self) -> None:
        """Offer the cluster ids seen so far; pre-fill the first when the field is empty."""
        known = list(self._clusters())
        if list(self.cluster.options) != known:
            self.cluster.options = known
        if not self.cluster.value and known:
            self.cluster.value = known[0]

    def spec(self) -> dict[str, Any]:
        """The workspace spec the fields describe, validated (ValidationError names the field)."""
        resources: dict[str, Any] = {
            "gpu_count": self.gpu_count.value,
            "cpu_cores": self.cpu_cores.value,
            "memory_gb": self.memory_gb.value,
            "storage_gb": self.storage_gb.value,
        }
        if self.gpu_type.value.strip():
            resources["gpu_type"] = self.gpu_type.value.strip()
        spec = {
            "name": self.name.value.strip(),
            "cluster_id": self.cluster.value.strip(),
            "template": {"name": self.template.value.strip(),
                         "variables": parse_variables(self.variables.value)},
            "resources": resources,
        }
        return validate_workspace_spec(spec)

    def submit(self) -> str | None:
        """Validate and create (one request even when clicked twice); the new id or None."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if self.create_button.disabled:
                return None
            try:
                spec = self.spec()
            except ValidationError as exc:
                self.message.value = error_html(str(exc))
                return None
            self.create_button.disabled = True
            self.message.value = "<i>creating…</i>"
            try:
                workspace_id = self.client.create_workspace(spec)
            except ExalsiusError as exc:
                self.message.value = error_html(error_line(exc, f"Could not create {spec['name']}"))
                return None
            finally:
                self.create_button.disabled = False
            self.message.value = (f'<span style="color:#155724">Created <b>{escape(spec["name"])}'
                                  f"</b> (<code>{escape(workspace_id)}</code>)</span>")
            self._on_created(workspace_id)
            return workspace_id
        except Exception as exc:
            self.message.value = error_html(error_line(exc, "Unexpected error"))
            raise
        finally:
            self._lock.release()

    def close(self) -> None:
        """Close the form's widgets."""
        from ._base import walk

        for w in list(walk(self.widget)):
            w.close()


__all__ = ["CreationForm", "parse_variables"]
