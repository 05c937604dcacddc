"""The catalogue's list answers as typed lists with ``.total`` and ``.to_dataframe()``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import InvalidResponseError
from .catalogue import Cluster, NodeResources, TemplateInfo, items

if TYPE_CHECKING:
    import pandas as pd

_T = TypeVar("_T")


class CatalogueList(list[_T]):
    """Parsed items of one catalogue answer, with the answer's ``total``.

    Args:
        entries: the parsed items, in the server's order.
        total: the server's count of all items; default ``len(entries)``.
    """

    def __init__(self, entries: Iterable[_T] = (), total: int | None = None) -> None:
        super().__init__(entries)
        self.total = len(self) if total is None else total

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {len(self)} of {self.total}>"


class ClusterList(CatalogueList[Cluster]):
    """Clusters from ``GET /clusters``."""

    def to_dataframe(
        self, resources_by_cluster: Mapping[str, Sequence[NodeResources]] | None = None,
    ) -> pd.DataFrame:
        """One row per cluster; GPU columns from ``resources_by_cluster`` (else <NA>)."""
        from .catalogue_frames import clusters_frame

        return clusters_frame(self, resources_by_cluster, self.total)

    def by_id(self, cluster_id: str) -> Cluster | None:
        """The cluster with this id (case-insensitive), if listed."""
        wanted = cluster_id.strip().lower()
        return next((c for c in self if c.id.lower() == wanted), None)


class NodeResourcesList(CatalogueList[NodeResources]):
    """The nodes of one cluster and their free and occupied hardware."""

    def to_dataframe(self) -> pd.DataFrame:
        """One row per node: free and total GPUs, CPUs, memory and storage."""
        from .catalogue_frames import nodes_frame

        return nodes_frame(self, self.total)


class TemplateList(CatalogueList[TemplateInfo]):
    """Workspace templates from ``GET /management/workspace-templates``."""

    def to_dataframe(self) -> pd.DataFrame:
        """One row per template: name, description and the variables a user sets."""
        from .catalogue_frames import templates_frame

        return templates_frame(self, self.total)

    def by_name(self, name: str) -> TemplateInfo | None:
        """The template of this name, if listed."""
        return next((t for t in self if t.name == name), None)


def parse_items(body: Any, key: str, what: str, parse: Callable[[Any], _T],
                where: str = "") -> list[_T]:
    """Every item under ``key``, parsed; a broken item is one InvalidResponseError naming it."""
    out = []
    for index, item in enumerate(_listed(body, key, what, where)):
        try:
            out.append(parse(item))
        except InvalidResponseError as exc:
            raise InvalidResponseError(f"{what} {index} of the answer: {exc}{where}") from None
    return out


def list_total(body: Any, count: int) -> int:
    """The answer's ``total`` when it is a whole number not below zero, else ``count``."""
    total = body.get("total") if isinstance(body, Mapping) else None
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        return total
    return count


def _listed(body: Any, key: str, what: str, where: str) -> list[Any]:
    try:
        return items(body, key, what)
    except InvalidResponseError as exc:
        raise InvalidResponseError(f"{exc}{where}") from None


__all__ = ["CatalogueList", "ClusterList", "NodeResourcesList", "TemplateList", "list_total",
           "parse_items"]
