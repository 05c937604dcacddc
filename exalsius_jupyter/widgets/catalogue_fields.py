"""The creation form's catalogue part: clusters and templates by name, the template's fields.

Shown where the server has the catalogue: a dropdown of READY clusters with their free GPUs
and cost, a dropdown of templates, the chosen template's variables as fields, CPU, memory and
storage fitted to the node (or given and checked), the GPU count bounded by what is free, and
the summary of what Create will send, live as the fields change. Pure over a catalogue read
once; Create reads it again before sending.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from ..creation import Catalogue, CreatePlan, plan_from
from ..errors import ValidationError
from ..model.catalogue import Cluster, NodeResources
from ..model.placement import most_free_gpus
from ..render import error_html, escape
from .base import classed, walk
from .variable_inputs import VariableInputs

AUTO = ""  # the cluster choice "wherever it fits, cheapest first"
PREFERRED_TEMPLATE = "jupyter-notebook-template"
FITTED = ("cpu_cores", "memory_gb", "storage_gb")
SUMMARY_NAME = "my-workspace"  # the name the live summary plans with while Name is empty


def cluster_label(cluster: Cluster, nodes: list[NodeResources]) -> str:
    """A cluster as its dropdown entry names it: name, free GPUs by type, cost per hour."""
    by_type: dict[str, int] = {}
    for n in nodes:
        if n.gpu_type or n.available.gpu_count:
            kind = n.gpu_type or "GPU"
            by_type[kind] = by_type.get(kind, 0) + (n.available.gpu_count or 0)
    gpus = ", ".join(f"{count} {kind}" for kind, count in by_type.items()) or "no GPUs"
    cost = f" · {cluster.costs_per_hour:g}/h" if cluster.costs_per_hour is not None else ""
    return f"{cluster.name} · {gpus} free{cost}"


class CatalogueFields:
    """Cluster and template dropdowns, the template's variables and the live summary.

    Args:
        catalogue: what the service listed (templates, clusters, free resources).
        resources: the form's resource inputs by field name (``gpu_count``, ``cpu_cores``, ...).
        name: the form's workspace name now.
        style: the description style of the form's inputs.
    """

    def __init__(self, catalogue: Catalogue, resources: Mapping[str, widgets.ValueWidget], *,
                 name: Callable[[], str], style: dict[str, str]) -> None:
        self.catalogue = catalogue
        self.resources = resources
        self._name = name
        self._quiet = False
        wide = widgets.Layout(width="420px")
        ready = catalogue.ready
        self.cluster = classed(widgets.Dropdown(
            description="Cluster", layout=wide, style=style,
            options=[("wherever it fits, cheapest first", AUTO), *(
                (cluster_label(c, list(catalogue.resources.get(c.id, ()))), c.id)
                for c in ready)]), "exls-form-cluster-choice")
        names = [t.name for t in catalogue.templates]
        self.template = classed(widgets.Dropdown(
            description="Template", options=names, layout=wide, style=style,
            value=PREFERRED_TEMPLATE if PREFERRED_TEMPLATE in names else
            (names[0] if names else None)), "exls-form-template-choice")
        self.variables: VariableInputs | None = None
        self.variables_box = classed(widgets.VBox([]), "exls-form-variables-box")
        self.fit = classed(widgets.Checkbox(
            value=True, indent=False, layout=wide,
            description="Fit CPU, memory and storage to the node's free capacity"),
            "exls-form-fit")
        self.summary = classed(widgets.HTML(value=""), "exls-form-summary")
        self.cluster.observe(lambda _c: self.update(), "value")
        self.template.observe(lambda _c: self._show_template(), "value")
        self.fit.observe(lambda _c: self.update(), "value")
        for w in resources.values():
            w.observe(lambda _c: self.update(), "value")
        types = sorted({n.gpu_type for nodes in catalogue.resources.values() for n in nodes
                        if n.gpu_type})
        if "gpu_type" in resources and types:
            resources["gpu_type"].placeholder = "any: " + ", ".join(types)
        self._show_template()

    @property
    def widgets(self) -> list[widgets.Widget]:
        """The widgets in the order the form shows them, before the resources."""
        return [self.cluster, self.template, self.variables_box]

    def _show_template(self) -> None:
        old = self.variables
        info = self.catalogue.templates.by_name(self.template.value or "")
        self.variables = None if info is None else VariableInputs(info, on_change=self.update)
        self.variables_box.children = () if self.variables is None else (self.variables.widget,)
        if old is not None:
            old.close()
        self.update()

    def _nodes(self) -> list[NodeResources]:
        chosen = self.cluster.value
        return [n for cid, nodes in self.catalogue.resources.items()
                if chosen in (AUTO, cid) for n in nodes]

    def plan_args(self, name: str) -> dict[str, Any]:
        """The keyword arguments of ``plan_from`` (and ``plan_create``) the fields describe."""
        r = {k: w.value for k, w in self.resources.items()}
        gpu_type = str(r.get("gpu_type") or "").strip() or None
        explicit = {} if self.fit.value else {k: r.get(k) for k in FITTED}
        return {"name": name, "template": self.template.value or "",
                "values": self.variables.values() if self.variables is not None else [],
                "cluster": self.cluster.value or None, "gpu_count": r.get("gpu_count"),
                "gpu_type": gpu_type, **explicit}

    def plan(self, name: str, ask_secret: Callable[[str], str] | None = None) -> CreatePlan:
        """The create plan over the catalogue read (a ``ValidationError`` names what is wrong)."""
        if not self.template.value:
            raise ValidationError("the service lists no workspace template")
        return plan_from(self.catalogue, ask_secret=ask_secret, **self.plan_args(name))

    def update(self) -> None:
        """Bound the GPU count, show the fitted resources and the summary for the fields now."""
        if self._quiet:
            return
        self._quiet = True
        try:
            self._update()
        finally:
            self._quiet = False

    def _update(self) -> None:
        gpus = self.resources.get("gpu_count")
        gpu_type = self.resources.get("gpu_type")
        if gpus is not None and hasattr(gpus, "max"):
            gpus.max = most_free_gpus(self._nodes(), gpu_type.value if gpu_type else None)
        for k in FITTED:
            if k in self.resources:
                self.resources[k].disabled = self.fit.value
        try:
            plan = self.plan(self._name().strip() or SUMMARY_NAME, ask_secret=lambda _p: "")
        except ValidationError as exc:
            self.summary.value = error_html(str(exc))
            return
        if self.fit.value:
            fitted = plan.spec["resources"]
            for k in FITTED:
                if k in self.resources and fitted.get(k) is not None:
                    self.resources[k].value = fitted[k]
        self.summary.value = ('<pre class="exls-summary">' + escape("\n".join(plan.summary()))
                              + "</pre>")

    def clear_secrets(self) -> None:
        """Empty the template's password fields (once a create has been sent)."""
        if self.variables is not None:
            self.variables.clear_secrets()

    def close(self) -> None:
        """Close the catalogue's widgets."""
        if self.variables is not None:
            self.variables.close()
        for shown in (self.cluster, self.template, self.variables_box, self.fit, self.summary):
            for w in list(walk(shown)):
                w.close()


__all__ = ["CatalogueFields", "cluster_label"]
