"""The read-only catalogue of API 1.46 on ExalsiusClient: clusters, free resources, templates.

``CatalogueMixin`` goes through the client's own transport (``_request`` and ``_json``): the same
deadline, retries and problem+json -> typed errors as the workspace calls. A server without the
catalogue (API 1.5.1) answers 404 on these routes; that becomes one ``NotSupportedError`` line,
told apart from a 404 for an unknown cluster id (see ``CatalogueMixin._catalogue_get``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from ..errors import (
    ExalsiusError,
    InvalidResponseError,
    NotFoundError,
    NotSupportedError,
    ValidationError,
)
from ..model.catalogue import Cluster, ClusterNodes, ClusterStatus, NodeResources, TemplateInfo
from ..model.catalogue_lists import (
    ClusterList,
    NodeResourcesList,
    TemplateList,
    list_total,
    parse_items,
)
from . import transport
from .operation import operation
from .urls import path_id

if TYPE_CHECKING:
    import requests

    from .bearer import BearerAuth

CATALOGUE = "catalogue"
CLUSTERS = "/clusters"
TEMPLATES = "/management/workspace-templates"
CLUSTER_STATUSES = tuple(s.value for s in ClusterStatus if s is not ClusterStatus.UNKNOWN)

_P = ParamSpec("_P")
_R = TypeVar("_R")
_M = TypeVar("_M", bound="CatalogueMixin")


class CatalogueMixin:
    """The catalogue calls of ``ExalsiusClient`` (GET only; the upstream SDK's names)."""

    if TYPE_CHECKING:
        deadline: float
        _base_url: str
        _offers: dict[str, bool]
        _auth: BearerAuth

        def _request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                     feature: str | None = None) -> requests.Response: ...

        def _json(self, resp: requests.Response, data: bytes | None = None) -> Any: ...

    @operation
    def list_clusters(self, cluster_status: str | ClusterStatus | None = None) -> ClusterList:
        """The clusters of the account, optionally of one ``cluster_status`` (e.g. ``READY``)."""
        params = {"cluster_status": _status(cluster_status)} if cluster_status else None
        body, resp = self._catalogue_get(CLUSTERS, CLUSTERS, params)
        found = parse_items(body, "clusters", "cluster", Cluster.from_api, transport.where(resp))
        return ClusterList(found, list_total(body, len(found)))

    @operation
    def describe_cluster(self, cluster_id: str) -> Cluster:
        """One cluster (``{"cluster": {...}}``); an unknown id is a NotFoundError."""
        body, resp = self._catalogue_get(f"/cluster/{_path_id(cluster_id)}", CLUSTERS)
        return _parsed(Cluster.from_api, body, resp)

    @operation
    def list_cluster_nodes(self, cluster_id: str) -> ClusterNodes:
        """The node ids of one cluster (control plane and workers)."""
        body, resp = self._catalogue_get(f"/cluster/{_path_id(cluster_id)}/nodes", CLUSTERS)
        return _parsed(ClusterNodes.from_api, body, resp)

    @operation
    def get_cluster_resources(self, cluster_id: str) -> NodeResourcesList:
        """Per node of one cluster: the hardware free (``available``) and in use (``occupied``)."""
        body, resp = self._catalogue_get(f"/cluster/{_path_id(cluster_id)}/resources", CLUSTERS)
        found = parse_items(body, "resources", "node resources", NodeResources.from_api,
                            transport.where(resp))
        return NodeResourcesList(found, list_total(body, len(found)))

    @operation
    def list_workspace_templates(self) -> TemplateList:
        """The workspace templates the service offers, their variables exactly as listed."""
        body, resp = self._catalogue_get(TEMPLATES, TEMPLATES)
        found = parse_items(body, "workspace_templates", "workspace template",
                            TemplateInfo.from_api, transport.where(resp))
        return TemplateList(found, list_total(body, len(found)))

    @operation
    def offers_catalogue(self) -> bool:
        """Whether the server has the catalogue (asks ``GET /clusters`` once; cached)."""
        if CATALOGUE not in self._offers:
            try:
                self._catalogue_get(CLUSTERS, CLUSTERS, read=False)
            except NotSupportedError:
                self._offers[CATALOGUE] = False
        return self._offers[CATALOGUE]

    # -- plumbing --------------------------------------------------------------------------

    def _catalogue_get(self, path: str, listing: str, params: Mapping[str, str] | None = None,
                       *, read: bool = True) -> tuple[Any, requests.Response]:
        """GET one catalogue route: its decoded body and the answer.

        A 404 means the catalogue is missing when it comes from the list route itself, or is
        no problem object of the API's (a framework's bare "Not Found"). A 404 problem on a
        route with an id is an unknown id when its title names the cluster, or when the list
        route ``listing`` answers (asked once, within the same deadline); otherwise the
        catalogue is missing.
        """
        try:
            resp = self._request("GET", path, params=params, feature=CATALOGUE)
        except NotSupportedError as exc:
            raise self._no_catalogue(path, exc) from None
        except NotFoundError as exc:
            if path == listing or not self._lists(listing, exc):
                raise self._no_catalogue(path, exc) from None
            raise
        self._offers[CATALOGUE] = True
        if not read:
            resp.close()
            return None, resp
        return self._json(resp), resp

    def _lists(self, listing: str, error: NotFoundError) -> bool:
        """Whether the server has the catalogue, after a 404 problem on a route with an id."""
        if self._offers.get(CATALOGUE) or "cluster" in (error.title or "").lower():
            return True
        try:
            self._request("GET", listing, feature=CATALOGUE).close()
        except (NotSupportedError, NotFoundError):
            self._offers[CATALOGUE] = False
            return False
        except ExalsiusError:
            return True  # it cannot be told: the server's own 404 stands
        self._offers[CATALOGUE] = True
        return True

    def _no_catalogue(self, path: str, error: ExalsiusError) -> NotSupportedError:
        """The one line for a server without the catalogue, with what it answered."""
        self._offers[CATALOGUE] = False
        said = f": {error.title}" if error.title and error.title.lower() != "not found" else ""
        return NotSupportedError(
            f"this server has no catalogue (GET {path} answered {error.status or 404}{said}): "
            f"clusters, their free resources and workspace templates are API 1.46 routes, and "
            f"{self._base_url} serves an older API", status=error.status, title=error.title,
            detail=error.detail, instance=error.instance, type=error.type)


def _status(value: str | ClusterStatus) -> str:
    """A ``cluster_status`` filter as the API spells it; anything else is a ValidationError."""
    status = ClusterStatus.parse(value.value if isinstance(value, ClusterStatus) else value)
    if status is ClusterStatus.UNKNOWN:
        raise ValidationError(
            f"cluster_status must be one of {', '.join(CLUSTER_STATUSES)}, got {value!r}")
    return status.value


def _path_id(cluster_id: str) -> str:
    return path_id(cluster_id, "cluster")


def _parsed(parse: Callable[[Any], _R], body: Any, resp: requests.Response) -> _R:
    """``parse(body)``; its InvalidResponseError says which request it answered."""
    try:
        return parse(body)
    except InvalidResponseError as exc:
        raise InvalidResponseError(f"{exc}{transport.where(resp)}") from None


__all__ = ["CATALOGUE", "CLUSTER_STATUSES", "CatalogueMixin"]
