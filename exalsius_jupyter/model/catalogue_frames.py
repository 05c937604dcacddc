"""The catalogue as pandas DataFrames: clusters, one cluster's nodes, templates.

Every frame has its columns and dtypes whatever the rows (an empty list too): text is pandas'
string dtype, counts are nullable ``Int64``, costs nullable ``Float64``, the status categorical
over ``ClusterStatus`` (UNKNOWN included). ``frame.attrs["total"]`` is the list's total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from .catalogue import Cluster, ClusterStatus, NodeResources, TemplateInfo

CLUSTER_STATUS_DTYPE = pd.CategoricalDtype(categories=[s.value for s in ClusterStatus],
                                           ordered=False)
_TEXT, _INT, _FLOAT = pd.StringDtype(), pd.Int64Dtype(), pd.Float64Dtype()

CLUSTER_DTYPES: dict[str, Any] = {
    "name": _TEXT, "id": _TEXT, "cluster_status": CLUSTER_STATUS_DTYPE, "cluster_type": _TEXT,
    "gpu_type": _TEXT, "gpus_free": _INT, "gpus_total": _INT, "costs_per_hour": _FLOAT,
    "current_costs": _FLOAT, "workspaces": _INT,
}
NODE_DTYPES: dict[str, Any] = {
    "node_name": _TEXT, "node_id": _TEXT, "gpu_type": _TEXT, "gpus_free": _INT,
    "gpus_total": _INT, "cpu_free": _INT, "cpu_total": _INT, "memory_free_gb": _INT,
    "memory_total_gb": _INT, "storage_free_gb": _INT, "storage_total_gb": _INT,
}
TEMPLATE_DTYPES: dict[str, Any] = {"name": _TEXT, "description": _TEXT, "variables": _TEXT}
CLUSTER_COLUMNS = tuple(CLUSTER_DTYPES)
NODE_COLUMNS = tuple(NODE_DTYPES)
TEMPLATE_COLUMNS = tuple(TEMPLATE_DTYPES)
# A node's free and total amount of each resource: (free column, total column, ResourcePool name).
_NODE_AMOUNTS = (("gpus_free", "gpus_total", "gpu_count"), ("cpu_free", "cpu_total", "cpu_cores"),
                 ("memory_free_gb", "memory_total_gb", "memory_gb"),
                 ("storage_free_gb", "storage_total_gb", "storage_gb"))
_INT64 = range(-(2**63), 2**63)


def clusters_frame(
    clusters: Iterable[Cluster],
    resources_by_cluster: Mapping[str, Sequence[NodeResources]] | None = None,
    total: int | None = None,
) -> pd.DataFrame:
    """One row per cluster; the GPU columns come from ``resources_by_cluster`` (by cluster id).

    A cluster without resources there has <NA> GPU columns. ``gpu_type`` names every GPU type
    of its nodes (``A100, H100``); ``gpus_free`` and ``gpus_total`` add up all its nodes.
    """
    known = resources_by_cluster or {}
    rows = []
    for cluster in clusters:
        nodes = known.get(cluster.id)
        types = dict.fromkeys(n.gpu_type for n in nodes or () if n.gpu_type)
        rows.append({
            "name": cluster.name or None, "id": cluster.id or None,
            "cluster_status": cluster.cluster_status.value, "cluster_type": cluster.cluster_type,
            "gpu_type": ", ".join(types) or None,
            "gpus_free": None if nodes is None else _sum(n.available.gpu_count for n in nodes),
            "gpus_total": None if nodes is None else _sum(n.total("gpu_count") for n in nodes),
            "costs_per_hour": cluster.costs_per_hour, "current_costs": cluster.current_costs,
            "workspaces": cluster.workspace_count,
        })
    return _frame(rows, CLUSTER_DTYPES, total)


def nodes_frame(nodes: Iterable[NodeResources], total: int | None = None) -> pd.DataFrame:
    """One row per node of a cluster: what is free on it and its capacity (free plus in use)."""
    rows = []
    for node in nodes:
        row: dict[str, Any] = {"node_name": node.node_name or None, "node_id": node.node_id or None,
                               "gpu_type": node.gpu_type}
        for free, whole, name in _NODE_AMOUNTS:
            row[free], row[whole] = getattr(node.available, name), node.total(name)
        rows.append(row)
    return _frame(rows, NODE_DTYPES, total)


def templates_frame(templates: Iterable[TemplateInfo], total: int | None = None) -> pd.DataFrame:
    """One row per template; ``variables`` lists the dotted paths a user can set."""
    rows = [{"name": t.name, "description": t.description,
             "variables": ", ".join(t.variable_paths) or None} for t in templates]
    return _frame(rows, TEMPLATE_DTYPES, total)


def _sum(values: Iterable[int | None]) -> int | None:
    """The sum of the known values; None when none is known."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _frame(rows: list[dict[str, Any]], dtypes: Mapping[str, Any],
           total: int | None) -> pd.DataFrame:
    data = {}
    for column, dtype in dtypes.items():
        values = [row[column] for row in rows]
        data[column] = _ints(values) if dtype == _INT else pd.array(values, dtype=dtype)
    frame = pd.DataFrame(data, columns=list(dtypes))
    frame.attrs["total"] = len(rows) if total is None else int(total)
    return frame


def _ints(values: list[Any]) -> Any:
    """Nullable Int64; a count beyond int64 (a hostile server) is <NA>."""
    return pd.array([v if v is None or v in _INT64 else None for v in values], dtype=_INT)


__all__ = ["CLUSTER_COLUMNS", "CLUSTER_DTYPES", "CLUSTER_STATUS_DTYPE", "NODE_COLUMNS",
           "NODE_DTYPES", "TEMPLATE_COLUMNS", "TEMPLATE_DTYPES", "clusters_frame", "nodes_frame",
           "templates_frame"]
