"""Where a workspace goes and what it asks for: clusters by name, nodes by free capacity.

Pure functions over the catalogue models (no HTTP): the magic and the form call them with what
the client listed, and everything here is decided before any request is sent.

The rule for resources starts from the ``exls`` CLI's (0.6.0): a node needs the GPUs asked for
free, and at least 2 CPUs, 10 GB of memory and 20 GB of storage; CPU, memory and storage are
the node's free share per GPU times the GPUs asked for; a request for the whole node keeps 10 %
back (and 10 GB of storage) for the node itself. Beyond the CLI: a request without GPUs gets the
share of one GPU (or, on a node without GPUs, a quarter of what is free); values given
explicitly override the rule and are checked against the node's free capacity; a placement
without a cluster picks the cheapest READY cluster where the request fits, and says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import ValidationError
from .catalogue import Cluster, NodeResources
from .workspace import ResourcePool

MIN_CPU, MIN_MEMORY_GB, MIN_STORAGE_GB = 2, 10, 20  # what a node must have free (exls)
KEEP_BACK = 0.10  # of a whole node's CPU and memory, for the node itself
KEEP_STORAGE_GB = 10
SHOWN = 8  # candidates named in an error


@dataclass(frozen=True)
class Placement:
    """A cluster and node for a request, the resources to ask for, and why this one."""

    cluster: Cluster
    node: NodeResources
    resources: ResourcePool
    reason: str


def short_id(value: str) -> str:
    """The first 8 characters of an id."""
    return value[:8]


def resolve_cluster(clusters: Sequence[Cluster], key: str) -> Cluster:
    """The cluster ``key`` names: an id, a unique id prefix, or a unique name.

    As for workspaces: an exact id wins, then a unique id prefix, then a unique exact name; a
    prefix that is another cluster's name is ambiguous, not a guess.
    """
    key = key.strip()
    if not key:
        raise ValidationError("an empty cluster name or id")
    for c in clusters:
        if c.id == key:
            return c
    prefix = [c for c in clusters if c.id.startswith(key)]
    named = [c for c in clusters if c.name == key]
    if len(prefix) == 1 and all(c is prefix[0] for c in named):
        return prefix[0]
    if len(named) == 1 and len(prefix) != 1:
        return named[0]
    candidates = list({id(c): c for c in prefix + named}.values())
    if not candidates:
        known = ", ".join(f"{c.name} ({short_id(c.id)})" for c in clusters[:SHOWN]) or "none"
        raise ValidationError(f"no cluster has the name, id or id prefix {key!r} (clusters: "
                              f"{known}{', …' if len(clusters) > SHOWN else ''})")
    listed = "; ".join(f"{c.name} (id {c.id})" for c in candidates[:SHOWN])
    more = f"; and {len(candidates) - SHOWN} more" if len(candidates) > SHOWN else ""
    raise ValidationError(f"{key!r} matches {len(candidates)} clusters: {listed}{more}; use the "
                          "full id or a longer id prefix")


def _free(node: NodeResources, name: str) -> int:
    return getattr(node.available, name) or 0


def _gpu_type_fits(node: NodeResources, gpu_type: str | None) -> bool:
    if not gpu_type:
        return True
    return (node.available.gpu_type or node.occupied.gpu_type or "").lower() == gpu_type.lower()


def most_free_gpus(nodes: Sequence[NodeResources], gpu_type: str | None = None) -> int:
    """The most GPUs (of ``gpu_type``, any if None) free on one node, by placement's own rule."""
    return max((_free(n, "gpu_count") for n in nodes if _gpu_type_fits(n, gpu_type)), default=0)


def fit(node: NodeResources, gpu_count: int, *, cpu_cores: int | None = None,
        memory_gb: int | None = None, storage_gb: int | None = None,
        gpu_type: str | None = None) -> ResourcePool:
    """The resources to ask ``node`` for: the rule above, with explicit values checked.

    Raises ``ValidationError`` (one line, naming what is free) when the node cannot give it:
    more GPUs, CPUs, memory or storage than are free, another GPU type (case-insensitive), or
    a count below zero (GPUs) or one (the rest).
    """
    if gpu_count < 0:
        raise ValidationError(f"a GPU count of {gpu_count}: ask for 0 or more GPUs")
    for name, value in (("CPUs", cpu_cores), ("GB of memory", memory_gb),
                        ("GB of storage", storage_gb)):
        if value is not None and value < 1:
            raise ValidationError(f"{value} {name}: ask for at least 1")
    if gpu_count and not _gpu_type_fits(node, gpu_type):
        have = node.available.gpu_type or node.occupied.gpu_type or "no GPU type"
        raise ValidationError(f"{node.label} has {have} GPUs, not {gpu_type}")
    free_gpus = _free(node, "gpu_count")
    if gpu_count > free_gpus:
        raise ValidationError(f"{node.label} has {free_gpus} free GPUs, not {gpu_count}")
    share = _share(node, gpu_count)
    asked = {"cpu_cores": cpu_cores, "memory_gb": memory_gb, "storage_gb": storage_gb}
    out: dict[str, int] = {}
    for name, value in asked.items():
        free = _free(node, name)
        chosen = share[name] if value is None else value
        if chosen > free:
            unit = "CPUs" if name == "cpu_cores" else f"GB of {name.removesuffix('_gb')}"
            raise ValidationError(f"{node.label} has {free} {unit} free, not {chosen}")
        out[name] = chosen
    gpus = node.available if node.available.gpu_type else node.occupied
    return ResourcePool(gpu_count=gpu_count, gpu_type=gpus.gpu_type if gpu_count else None,
                        gpu_vendor=gpus.gpu_vendor if gpu_count else None,
                        cpu_cores=out["cpu_cores"], memory_gb=out["memory_gb"],
                        storage_gb=out["storage_gb"])


def _share(node: NodeResources, gpu_count: int) -> dict[str, int]:
    """CPU, memory and storage for ``gpu_count`` GPUs of ``node`` by the rule (no checks)."""
    free = {name: _free(node, name) for name in ("cpu_cores", "memory_gb", "storage_gb")}
    free_gpus = _free(node, "gpu_count")
    # per GPU asked for (a request without GPUs: one GPU's share); no GPUs there: a quarter
    fraction = max(gpu_count, 1) / free_gpus if free_gpus else 0.25
    if fraction >= 1:  # the whole node: keep some back for the node itself
        return {"cpu_cores": max(1, int(free["cpu_cores"] * (1 - KEEP_BACK))),
                "memory_gb": max(1, int(free["memory_gb"] * (1 - KEEP_BACK))),
                "storage_gb": max(1, free["storage_gb"] - KEEP_STORAGE_GB)}
    return {name: max(1, int(value * fraction)) for name, value in free.items()}


def _fits(node: NodeResources, gpu_count: int, gpu_type: str | None) -> bool:
    return (_free(node, "gpu_count") >= gpu_count and _gpu_type_fits(node, gpu_type)
            and _free(node, "cpu_cores") >= MIN_CPU
            and _free(node, "memory_gb") >= MIN_MEMORY_GB
            and _free(node, "storage_gb") >= MIN_STORAGE_GB)


def _cost_key(cluster: Cluster) -> tuple[bool, float, str]:
    cost = cluster.costs_per_hour
    return (cost is None, cost or 0.0, cluster.name)


def cheapest_first(clusters: Sequence[Cluster]) -> list[Cluster]:
    """The READY clusters, cheapest ``costs_per_hour`` first (unpriced last, then by name)."""
    return sorted((c for c in clusters if c.ready), key=_cost_key)


def place(clusters: Sequence[Cluster], resources: Mapping[str, Sequence[NodeResources]], *,
          gpu_count: int, gpu_type: str | None = None, cluster: str | None = None,
          cpu_cores: int | None = None, memory_gb: int | None = None,
          storage_gb: int | None = None) -> Placement:
    """A READY cluster and node for the request, cheapest ``costs_per_hour`` first.

    ``resources`` maps a cluster id to its nodes' resources. With ``cluster`` (a name, id or
    id prefix) only that cluster is tried. A node with room that cannot give the explicit
    values is passed over for the next. Nothing fits: one ``ValidationError`` line with the
    most that is free and where (or the first such node's refusal of the explicit values).
    """
    if cluster is not None:
        chosen = resolve_cluster(clusters, cluster)
        if not chosen.ready:
            raise ValidationError(f"cluster {chosen.name} is {chosen.cluster_status.value}, "
                                  "not READY: no workspace can be created on it now")
        candidates = [chosen]
    else:
        candidates = cheapest_first(clusters)
        if not candidates:
            raise ValidationError("no cluster is READY" + (
                f" ({', '.join(f'{c.name}: {c.cluster_status.value}' for c in clusters)})"
                if clusters else " (this account has no clusters)"))
    refused: ValidationError | None = None  # the first node that had room but not for the values
    for c in candidates:
        for node in resources.get(c.id, ()):
            if _fits(node, gpu_count, gpu_type):
                try:
                    fitted = fit(node, gpu_count, cpu_cores=cpu_cores, memory_gb=memory_gb,
                                 storage_gb=storage_gb, gpu_type=gpu_type)
                except ValidationError as error:
                    refused = refused or error
                    continue
                return Placement(c, node, fitted, _reason(c, node, gpu_count, gpu_type,
                                                          cluster is None))
    if refused is not None:
        raise refused
    raise ValidationError(_nothing_fits(candidates, resources, gpu_count, gpu_type))


def _what(gpu_count: int, gpu_type: str | None) -> str:
    if not gpu_count:
        return (f"room for a workspace ({MIN_CPU} CPUs, {MIN_MEMORY_GB} GB memory, "
                f"{MIN_STORAGE_GB} GB storage free)")
    return f"{gpu_count} free {gpu_type or 'GPU'}{'' if gpu_type or gpu_count == 1 else 's'}"


def _reason(cluster: Cluster, node: NodeResources, gpu_count: int, gpu_type: str | None,
            picked: bool) -> str:
    cost = f" ({cluster.costs_per_hour:g}/h)" if cluster.costs_per_hour is not None else ""
    where = f"{cluster.name}/{node.label}"
    if not picked:
        return f"on {where}{cost}: the first node there with {_what(gpu_count, gpu_type)}"
    return f"picked {where}{cost}: the cheapest READY cluster with {_what(gpu_count, gpu_type)}"


def _nothing_fits(candidates: Sequence[Cluster], resources: Mapping[str, Sequence[NodeResources]],
                  gpu_count: int, gpu_type: str | None) -> str:
    best: tuple[int, str] | None = None
    for c in candidates:
        for node in resources.get(c.id, ()):
            if _gpu_type_fits(node, gpu_type):
                free = _free(node, "gpu_count")
                if best is None or free > best[0]:
                    best = (free, f"{c.name}/{node.label}")
    scope = f" on {candidates[0].name}" if len(candidates) == 1 else ""
    head = f"no node{scope} has {_what(gpu_count, gpu_type)}"
    if best is None:
        kind = f"{gpu_type} GPUs" if gpu_type else "nodes"
        return f"{head}; no READY cluster has {kind}"
    unit = gpu_type or "GPUs"
    if not gpu_count:  # a CPU-only request: say where the most CPUs are free
        cpus = max(((_free(n, "cpu_cores"), f"{c.name}/{n.label}") for c in candidates
                    for n in resources.get(c.id, ())), default=(0, best[1]))
        return f"{head}; most free: {cpus[0]} CPUs on {cpus[1]}"
    if best[0] >= gpu_count:  # the GPUs are there; CPU, memory or storage are not
        return (f"{head}; {best[1]} has the GPUs but not {MIN_CPU} CPUs, {MIN_MEMORY_GB} GB "
                f"memory and {MIN_STORAGE_GB} GB storage free")
    return f"{head}; most free: {best[0]} {unit} on {best[1]}"


def summary_lines(placement: Placement, template: str) -> list[str]:
    """What a create will ask for, before it is sent: cluster, node, template, resources, cost."""
    r, c = placement.resources, placement.cluster
    gpus = f"{r.gpu_count} × {r.gpu_type}" if r.gpu_count and r.gpu_type else str(r.gpu_count or 0)
    cost = f"{c.costs_per_hour:g} per hour" if c.costs_per_hour is not None else "not listed"
    return [f"cluster:   {c.name} ({short_id(c.id)})", f"node:      {placement.node.label}",
            f"template:  {template}",
            f"resources: {gpus} GPUs, {r.cpu_cores} CPUs, {r.memory_gb} GB memory, "
            f"{r.storage_gb} GB storage",
            f"cost:      {cost} (the cluster's)", f"why:       {placement.reason}"]


__all__ = ["Placement", "cheapest_first", "fit", "most_free_gpus", "place", "resolve_cluster",
           "short_id", "summary_lines"]
