"""A create by names: the template's own variables, a cluster and node that fit, the summary.

What ``%exalsius create`` (and the form) do against a server with the catalogue, before
anything is sent: fetch the template by name and start from its variables, set the user's
values by dotted path, ask for the secrets left empty, place the request on a READY cluster
(cheapest first) or the one named, and fit the resources to the chosen node's free capacity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .durations import iso_utc, now_utc, utc_text
from .errors import ValidationError
from .model.placement import Placement, cheapest_first, place, resolve_cluster, summary_lines
from .model.spec import build_workspace_spec
from .model.variables import (
    get_path,
    mask_text,
    masked_variables,
    secret_paths,
    secret_values,
    set_path,
)

if TYPE_CHECKING:
    from .api.client import ExalsiusClient
    from .model.catalogue import Cluster, TemplateInfo
    from .model.catalogue_lists import ClusterList, NodeResourcesList, TemplateList

DEFAULT_GPUS = 1


@dataclass(frozen=True)
class CreatePlan:
    """A validated create body with where it goes and why; its secrets never shown."""

    spec: dict[str, Any]
    placement: Placement
    template: TemplateInfo
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def summary(self) -> list[str]:
        """The lines a user reads before the create is sent."""
        lines = summary_lines(self.placement, self.template.name)
        when = self.spec.get("to_be_deleted_at")
        if when:
            lines.insert(-1, f"deleted:   at {when} (to_be_deleted_at)")
        return lines

    def shown_spec(self) -> dict[str, Any]:
        """The body as it may be shown: every secret masked."""
        shown = dict(self.spec)
        shown["template"] = {**self.spec["template"],
                             "variables": masked_variables(self.spec["template"]["variables"])}
        return shown

    def mask(self, text: str) -> str:
        """``text`` (an error, a log line) with this plan's secret values masked."""
        return mask_text(text, self.secrets)

    def __repr__(self) -> str:
        return f"CreatePlan({self.spec['name']!r} on {self.placement.reason!r})"


@dataclass(frozen=True)
class Catalogue:
    """What a create by names reads from the service: templates, clusters, free resources."""

    templates: TemplateList
    clusters: ClusterList
    resources: dict[str, NodeResourcesList]

    @property
    def ready(self) -> list[Cluster]:
        """The READY clusters, cheapest ``costs_per_hour`` first."""
        return cheapest_first(self.clusters)

    def template(self, name: str) -> TemplateInfo:
        """The template named ``name`` (one line listing the names if there is none)."""
        import difflib

        found = self.templates.by_name(name)
        if found is None:
            names = [t.name for t in self.templates]
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ValidationError(f"no workspace template {name!r}; {hint}the templates are: "
                                  f"{', '.join(names) or 'none'} (see %exalsius templates)")
        return found


def fetch_catalogue(client: ExalsiusClient, cluster: str | None = None) -> Catalogue:
    """Templates, clusters and the free resources of the READY ones (or of ``cluster`` only).

    One request for the templates, one for the clusters, one per cluster whose resources are
    read; ``cluster`` is a name, id or unique id prefix (resolved here, one line if not).
    """
    templates = client.list_workspace_templates()
    clusters = client.list_clusters()
    wanted = [resolve_cluster(clusters, cluster)] if cluster is not None else clusters
    resources = {c.id: client.get_cluster_resources(c.id) for c in wanted if c.ready}
    return Catalogue(templates, clusters, resources)


def plan_create(client: ExalsiusClient, *, cluster: str | None = None,
                **plan: Any) -> CreatePlan:
    """Everything a create by names decides, with the catalogue's answers; nothing is sent.

    Reads the catalogue (``fetch_catalogue``), then plans as ``plan_from`` does; ``plan`` are
    ``plan_from``'s keyword arguments.
    """
    return plan_from(fetch_catalogue(client, cluster), cluster=cluster, **plan)


def plan_from(catalogue: Catalogue, *, name: str, template: str,
              values: Iterable[tuple[str, Any]] = (), cluster: str | None = None,
              gpu_count: int | None = None, gpu_type: str | None = None,
              cpu_cores: int | None = None, memory_gb: int | None = None,
              storage_gb: int | None = None, description: str | None = None,
              delete_at: datetime | None = None,
              ask_secret: Callable[[str], str] | None = None, **fields: Any) -> CreatePlan:
    """The create plan over a catalogue already read (pure: the form's live summary uses it).

    ``values`` are (dotted path, value) pairs for the template's variables. A secret the
    template leaves empty and ``values`` does not set is asked with ``ask_secret(path)`` (a
    hidden prompt), or is an error saying how to pass it when there is none. ``delete_at``
    (aware) becomes the body's ``to_be_deleted_at``. ``fields`` are the other asked fields of
    the field table by name (a new row's value), sent as given; the resources placement fits
    are sent as fitted.
    """
    if delete_at is not None and delete_at <= now_utc():
        raise ValidationError(f"the delete time {utc_text(delete_at)} has passed")
    info = catalogue.template(template)
    variables: dict[str, Any] = dict(info.variables)
    given = set()
    for path, value in values:
        variables = set_path(variables, path, value)
        given.add(path)
    for path in secret_paths(variables):
        if path in given or get_path(variables, path) not in ("", None):
            continue
        if ask_secret is None:
            raise ValidationError(
                f"template {info.name} needs {path} (a secret) and nobody can be asked for it "
                f"here; pass it from a Python variable: --var {path}=$my_{_leaf(path)}")
        variables = set_path(variables, path, ask_secret(path))
    placement = place(catalogue.clusters, catalogue.resources,
                      gpu_count=DEFAULT_GPUS if gpu_count is None else gpu_count,
                      gpu_type=gpu_type, cluster=cluster, cpu_cores=cpu_cores,
                      memory_gb=memory_gb, storage_gb=storage_gb)
    r = placement.resources
    fitted = {"gpu_count": r.gpu_count, "gpu_type": r.gpu_type, "gpu_vendor": r.gpu_vendor,
              "cpu_cores": r.cpu_cores, "memory_gb": r.memory_gb, "storage_gb": r.storage_gb}
    spec = build_workspace_spec(
        name=name, cluster_id=placement.cluster.id, template=info.name, variables=variables,
        where=f"workspace {name!r}", description=description, **{**fields, **fitted})
    if delete_at is not None:
        spec["to_be_deleted_at"] = iso_utc(delete_at)
    return CreatePlan(spec, placement, info, tuple(secret_values(variables)))


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1]


__all__ = ["DEFAULT_GPUS", "Catalogue", "CreatePlan", "fetch_catalogue", "plan_create",
           "plan_from"]
