"""The panel's creation form: fields in, a validated workspace spec out, the client creates it.

Where the server has the catalogue, the form reads it once it is opened and offers clusters and
templates by name with the template's own fields (``catalogue_fields``); elsewhere it takes a
cluster id, a template name and ``key=value`` variables.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..api.client import ExalsiusClient
from ..errors import ExalsiusError, NotSupportedError, ValidationError
from ..model.fields import FORM_FIELDS, Ask, Field
from ..model.spec import build_workspace_spec
from ..render import error_html, error_line, escape
from .base import Guard, Jobs, classed, own_client, walk

if TYPE_CHECKING:
    from ..creation import Catalogue, CreatePlan
    from .catalogue_fields import CatalogueFields

DEFAULT_TEMPLATE = "jupyter-notebook"
VARIABLES = "template variables"  # how errors name the Variables field
READING = "<i>reading the clusters and templates…</i>"


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


def _secret_missing(path: str) -> str:
    raise ValidationError(f"type {path} (a secret the template needs) in its field")


class CreationForm:
    """Name, cluster, template, variables and resources; Create validates, then sends once.

    Args:
        client: the client; each background job works on its own clone.
        clusters: the cluster ids seen so far (the fallback's cluster box offers them).
        on_created: called with a new workspace's id.
        guard: wraps the Create click (errors shown, not raised).
        catalogue: read the catalogue in the background and, where the server has it, offer
            clusters and templates by name (False: the fields without a catalogue only).
    """

    def __init__(
        self,
        client: ExalsiusClient,
        *,
        clusters: Callable[[], Sequence[str]],
        on_created: Callable[[str], None],
        guard: Guard | None = None,
        catalogue: bool = True,
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
        self._create_row = widgets.HBox([self.create_button, self.message],
                                        layout=widgets.Layout(align_items="center"))
        self._fallback = (self.cluster, self.template, self.variables)
        self._resource_rows = _pairs(list(self.inputs.values()))
        self.widget = classed(widgets.VBox([
            self.name, *self._fallback, *self._resource_rows, self._create_row,
        ]), "exls-form-body")
        self._style = style
        self.catalogue: CatalogueFields | None = None
        self.loaded = threading.Event()  # set once the catalogue was read (or is not there)
        self.update_clusters()
        if catalogue:
            self.message.value = READING
            self._jobs.run(self._read_catalogue)
        else:
            self.loaded.set()

    def _read_catalogue(self) -> None:
        """Read the catalogue (a background job); show it where the server has one."""
        try:
            with own_client(self.client) as client:
                from ..creation import fetch_catalogue

                found = fetch_catalogue(client) if client.offers_catalogue() else None
            if found is not None:
                self.use_catalogue(found)
            self._say_read(READING, "")
        except NotSupportedError:
            self._say_read(READING, "")
        except ExalsiusError as exc:
            self._say_read(READING, error_html(error_line(
                exc, "Could not read the clusters and templates (give a cluster id)")))
        except Exception as exc:  # a bug: say so where the user looks
            self._say_read(READING, error_html(error_line(exc, "Unexpected error")))
        finally:
            self.loaded.set()

    def _say_read(self, was: str, now: str) -> None:
        with self._lock:
            if self.message.value == was:  # a create's message is not overwritten
                self.message.value = now

    def use_catalogue(self, catalogue: Catalogue) -> None:
        """Offer ``catalogue``'s clusters and templates by name, with the template's fields."""
        from .catalogue_fields import CatalogueFields

        fields = CatalogueFields(catalogue, self.inputs, name=lambda: self.name.value,
                                 style=self._style)
        self.name.observe(lambda _c: fields.update(), "value")
        old, self.catalogue = self.catalogue, fields
        self.widget.children = (self.name, *fields.widgets, *self._resource_rows, fields.fit,
                                fields.summary, self._create_row)
        if old is not None:
            old.close()

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
            fields = self.catalogue
            try:
                if fields is None:
                    spec = self.spec()
                    job: Callable[[], None] = lambda: self._create(spec)  # noqa: E731
                else:
                    name = self.name.value.strip()
                    fields.plan(name, ask_secret=_secret_missing)  # checked before anything
                    args = fields.plan_args(name)
                    job = lambda: self._create_planned(fields, args)  # noqa: E731
            except ValidationError as exc:
                self.message.value = error_html(str(exc))
                return False
            self._sending = True
            self.create_button.disabled = True
            self.message.value = "<i>creating…</i>"
        self._jobs.run(job)
        return True

    def _create_planned(self, fields: CatalogueFields, args: dict[str, Any]) -> None:
        """Plan again on a fresh catalogue, then send; the password fields are then emptied."""
        from ..creation import plan_create

        plan: CreatePlan | None = None

        def create(client: ExalsiusClient) -> str:
            nonlocal plan
            plan = plan_create(client, ask_secret=_secret_missing, **args)
            try:
                return client.create_workspace(plan.spec)
            finally:
                fields.clear_secrets()  # sent: the secret lives on in the workspace only

        self._create(None, create, lambda: plan.mask if plan is not None else None)

    def _create(self, spec: dict[str, Any] | None,
                send: Callable[[ExalsiusClient], str] | None = None,
                masker: Callable[[], Callable[[str], str] | None] = lambda: None) -> None:
        """Send the create (a background job) and show its outcome.

        ``send`` makes the request (default: create ``spec``); ``masker`` gives what masks
        the plan's secrets in an error line.
        """
        workspace_id: str | None = None
        name = spec["name"] if spec is not None else self.name.value.strip()
        try:
            with own_client(self.client) as client:
                workspace_id = (send(client) if send is not None
                                else client.create_workspace(spec or {}))
            self.message.value = (f'<span class="exls-tone-ok">Created <b>{escape(name)}'
                                  f"</b> (<code>{escape(workspace_id)}</code>)</span>")
        except Exception as exc:
            action = f"Could not create {name}" if isinstance(exc, ExalsiusError) else (
                "Unexpected error")  # a bug: say so where the user looks
            line = error_line(exc, action)
            mask = masker()
            self.message.value = error_html(mask(line) if mask is not None else line)
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
        """Close the form's widgets (those not shown too)."""
        self._jobs.join()
        if self.catalogue is not None:
            self.catalogue.close()
        for shown in (self.widget, *self._fallback):
            for w in list(walk(shown)):
                w.close()


__all__ = ["CreationForm"]
