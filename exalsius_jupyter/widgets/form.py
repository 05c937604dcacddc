"""The panel's creation form: fields in, a validated workspace spec out, the client creates it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from ..api.client import ExalsiusClient
from ..errors import ExalsiusError, ValidationError
from ..model.fields import FORM_FIELDS, Ask, Field
from ..model.spec import build_workspace_spec
from ..render import error_html, error_line, escape
from .base import Guard, Jobs, classed, own_client, walk

DEFAULT_TEMPLATE = "jupyter-notebook"
VARIABLES = "template variables"  # how errors name the Variables field


def _int_input(ask: Ask, **common: Any) -> widgets.ValueWidget:
    first = ask.low if ask.default is None else ask.default
    return widgets.BoundedIntText(value=first, min=ask.low, max=ask.high, step=ask.step,
                                  **common)


def _text_input(ask: Ask, **common: Any) -> widgets.ValueWidget:
    return widgets.Text(value=ask.default or "", placeholder=ask.placeholder, **common)


def _choice_input(ask: Ask, **common: Any) -> widgets.ValueWidget:
    options = [(ask.placeholder or "any", ""), *((c, c) for c in ask.choices)]
    return widgets.Dropdown(options=options, value=ask.default or "", **common)


# The widget for each input kind a row of the field table declares (model.fields.INPUT_KINDS).
INPUTS: dict[str, Callable[..., widgets.ValueWidget]] = {
    "int": _int_input, "text": _text_input, "choice": _choice_input}


def field_input(f: Field, *, layout: widgets.Layout, style: dict[str, str]) -> widgets.ValueWidget:
    """The form's input for one field of the field table, of the kind its row declares."""
    ask = f.ask
    assert ask is not None and ask.label, f.name
    widget = INPUTS[ask.widget](ask, description=ask.label, layout=layout, style=style)
    return classed(widget, "exls-form-" + f.name.replace("_", "-"))


def _value(w: widgets.ValueWidget) -> Any:
    """What an input sends: its number, or its text or choice stripped (None when empty)."""
    value = w.value
    return (value.strip() or None) if isinstance(value, str) else value


def _pairs(inputs: list[widgets.ValueWidget]) -> list[widgets.Widget]:
    return [widgets.HBox(inputs[i:i + 2]) for i in range(0, len(inputs), 2)]


class CreationForm:
    """Name, cluster, template, variables and resources; Create validates, then sends once."""

    def __init__(
        self,
        client: ExalsiusClient,
        *,
        clusters: Callable[[], Sequence[str]],
        on_created: Callable[[str], None],
        guard: Guard | None = None,
    ) -> None:
        self.client = client
        self._clusters = clusters
        self._on_created = on_created
        self._lock = threading.Lock()
        self._sending = False
        self._jobs = Jobs("exalsius-form-create")
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
        # One input per form field of the field table, in table order, two to a line.
        self.inputs: dict[str, widgets.ValueWidget] = {
            f.name: field_input(f, layout=narrow, style=style) for f in FORM_FIELDS}
        self.create_button = classed(widgets.Button(description="Create", icon="plus",
                                                    button_style="primary"), "exls-form-create")
        self.message = classed(widgets.HTML(value=""), "exls-form-message")
        handler: Callable[..., Any] = lambda _b: self.submit()  # noqa: E731
        self.create_button.on_click(guard(handler) if guard else handler)
        self.widget = classed(widgets.VBox([
            self.name, self.cluster, self.template, self.variables,
            *_pairs(list(self.inputs.values())),
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
        """The workspace spec the fields describe, validated (ValidationError names the field).

        Built by the one builder the magic's ``create`` uses too (one rule for variables).
        """
        return build_workspace_spec(
            name=self.name.value.strip(),
            cluster_id=self.cluster.value.strip(),
            template=self.template.value.strip(),
            variables=self.variables.value,
            source=VARIABLES,
            **{name: _value(w) for name, w in self.inputs.items()},
        )

    @property
    def busy(self) -> bool:
        """Whether a create is in flight."""
        return self._sending

    def submit(self) -> bool:
        """Validate, then create off the kernel thread (one request even when clicked twice).

        Returns whether a request was started; the outcome shows in ``message``.
        """
        with self._lock:
            if self._sending or self.create_button.disabled:
                return False
            try:
                spec = self.spec()
            except ValidationError as exc:
                self.message.value = error_html(str(exc))
                return False
            self._sending = True
            self.create_button.disabled = True
            self.message.value = "<i>creating…</i>"
        self._jobs.run(lambda: self._create(spec))
        return True

    def _create(self, spec: dict[str, Any]) -> None:
        """Send the create (a background job) and show its outcome."""
        workspace_id: str | None = None
        try:
            with own_client(self.client) as client:
                workspace_id = client.create_workspace(spec)
            self.message.value = (f'<span class="exls-tone-ok">Created <b>{escape(spec["name"])}'
                                  f"</b> (<code>{escape(workspace_id)}</code>)</span>")
        except ExalsiusError as exc:
            self.message.value = error_html(error_line(exc, f"Could not create {spec['name']}"))
        except Exception as exc:  # a bug: say so where the user looks
            self.message.value = error_html(error_line(exc, "Unexpected error"))
        finally:
            with self._lock:
                self._sending = False
                self.create_button.disabled = False
        if workspace_id is not None:
            try:
                self._on_created(workspace_id)
            except Exception as exc:
                self.message.value = error_html(error_line(exc, "Unexpected error"))

    def close(self) -> None:
        """Close the form's widgets."""
        for w in list(walk(self.widget)):
            w.close()


__all__ = ["CreationForm"]
