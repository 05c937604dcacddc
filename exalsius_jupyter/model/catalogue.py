"""The read-only catalogue a creation needs: clusters, their nodes' free resources, templates.

Parsed as tolerantly as workspaces (API 1.46 ``catalogue-1.46.0.yaml``): a missing or odd field
is None, an unknown status is UNKNOWN, unknown keys stay in ``extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import InvalidResponseError
from .fields import ClusterStatus, opt_int, opt_str, parse_datetime
from .workspace import ResourcePool


def opt_float(value: Any) -> float | None:
    """A JSON number as a float (bools and non-finite values are None)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None


def _ids(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _extra(data: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in known}


def _object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidResponseError(f"expected a {what} object, got {type(data).__name__}")
    return data


_CLUSTER_KEYS = ("id", "name", "cluster_status", "cluster_type", "costs_per_hour",
                 "current_costs", "workspace_deployments", "worker_node_ids",
                 "control_plane_node_ids", "created_at")


@dataclass(frozen=True)
class Cluster:
    """One cluster as ``GET /clusters`` lists it."""

    id: str
    name: str
    cluster_status: ClusterStatus
    cluster_type: str | None = None
    costs_per_hour: float | None = None
    current_costs: float | None = None
    workspace_count: int = 0
    worker_node_ids: tuple[str, ...] = ()
    control_plane_node_ids: tuple[str, ...] = ()
    created_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, data: Any) -> Cluster:
        """Parse a cluster object, bare or wrapped as ``{"cluster": …}`` (describe)."""
        if isinstance(data, Mapping) and isinstance(data.get("cluster"), Mapping):
            data = data["cluster"]
        data = _object(data, "cluster")
        cid, name = opt_str(data.get("id")) or "", opt_str(data.get("name")) or ""
        if not cid and not name:
            raise InvalidResponseError("a cluster object has neither 'id' nor 'name'")
        deployments = data.get("workspace_deployments")
        return cls(
            id=cid,
            name=name,
            cluster_status=ClusterStatus.parse(data.get("cluster_status")),
            cluster_type=opt_str(data.get("cluster_type")),
            costs_per_hour=opt_float(data.get("costs_per_hour")),
            current_costs=opt_float(data.get("current_costs")),
            workspace_count=len(deployments) if isinstance(deployments, list) else 0,
            worker_node_ids=_ids(data.get("worker_node_ids")),
            control_plane_node_ids=_ids(data.get("control_plane_node_ids")),
            created_at=parse_datetime(data.get("created_at")),
            extra=_extra(data, _CLUSTER_KEYS),
        )

    @property
    def ready(self) -> bool:
        """Whether workspaces can be created on it now."""
        return self.cluster_status is ClusterStatus.READY


@dataclass(frozen=True)
class NodeResources:
    """One node of a cluster: what is free on it (``available``) and what is in use."""

    node_id: str
    node_name: str
    available: ResourcePool
    occupied: ResourcePool

    @classmethod
    def from_api(cls, data: Any) -> NodeResources:
        """Parse one item of ``GET /cluster/{id}/resources``."""
        data = _object(data, "node resources")
        return cls(
            node_id=opt_str(data.get("node_id")) or "",
            node_name=opt_str(data.get("node_name")) or "",
            available=ResourcePool.from_api(data.get("available")),
            occupied=ResourcePool.from_api(data.get("occupied")),
        )

    @property
    def label(self) -> str:
        """The node as a person names it: its name, else its id."""
        return self.node_name or self.node_id

    def total(self, name: str) -> int | None:
        """Capacity of one resource (``gpu_count``, ``cpu_cores``, ...): free plus in use."""
        free, used = getattr(self.available, name), getattr(self.occupied, name)
        if free is None and used is None:
            return None
        return (free or 0) + (used or 0)

    @property
    def gpu_type(self) -> str | None:
        """The node's GPU type, from what is free or else from what is in use."""
        return self.available.gpu_type or self.occupied.gpu_type


@dataclass(frozen=True)
class ClusterNodes:
    """The node ids of one cluster (``GET /cluster/{id}/nodes``)."""

    cluster_id: str
    control_plane_node_ids: tuple[str, ...] = ()
    worker_node_ids: tuple[str, ...] = ()
    total_nodes: int = 0

    @classmethod
    def from_api(cls, data: Any) -> ClusterNodes:
        """Parse the answer; ``total_nodes`` is counted from the ids when it is missing or odd."""
        data = _object(data, "cluster nodes")
        control = _ids(data.get("control_plane_node_ids"))
        workers = _ids(data.get("worker_node_ids"))
        total = opt_int(data.get("total_nodes"))
        return cls(
            cluster_id=opt_str(data.get("cluster_id")) or "",
            control_plane_node_ids=control,
            worker_node_ids=workers,
            total_nodes=total if total is not None and total >= 0 else len(control) + len(workers),
        )

    @property
    def node_ids(self) -> tuple[str, ...]:
        """Every node id of the cluster, control plane first, each once."""
        return tuple(dict.fromkeys(self.control_plane_node_ids + self.worker_node_ids))


@dataclass(frozen=True)
class TemplateInfo:
    """A workspace template the service offers: its name and its variables as JSON."""

    name: str
    description: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, data: Any) -> TemplateInfo:
        """Parse one item of ``GET /management/workspace-templates`` (variables kept as sent)."""
        data = _object(data, "workspace template")
        name = opt_str(data.get("name")) or ""
        if not name:
            raise InvalidResponseError("a workspace template has no 'name'")
        variables = data.get("variables")
        return cls(
            name=name,
            description=opt_str(data.get("description")),
            variables=dict(variables) if isinstance(variables, Mapping) else {},
            extra=_extra(data, ("name", "description", "variables")),
        )

    @property
    def variable_paths(self) -> tuple[str, ...]:
        """The dotted path of every value a user can set (``ms.modelArtifacts.uri``), in order.

        Objects are walked into; any other value (text, a number, a list) is one path, and an
        empty object is one path too.
        """
        paths: list[str] = []
        stack: list[tuple[str, Any]] = [(str(k), v) for k, v in list(self.variables.items())[::-1]]
        while stack:
            path, value = stack.pop()
            if isinstance(value, Mapping) and value:
                stack.extend((f"{path}.{k}", v) for k, v in list(value.items())[::-1])
            else:
                paths.append(path)
        return tuple(paths)


def items(body: Any, key: str, what: str) -> list[Any]:
    """The list under ``key`` of a catalogue answer (``{"clusters": [...], "total": n}``)."""
    if isinstance(body, Mapping):
        body = body.get(key)
    if not isinstance(body, list):
        raise InvalidResponseError(f"expected a list of {what} under {key!r}")
    return body


__all__ = ["Cluster", "ClusterNodes", "ClusterStatus", "NodeResources", "TemplateInfo", "items",
           "opt_float"]
