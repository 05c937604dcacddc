"""Routing and handling of the Workspaces API over a WorkspaceStore, independent of sockets.

In API 1.46 mode the read-only catalogue (catalogue.py) is served too; in 1.5.1 mode its routes
answer 404 like any unknown route, so a client's fallback without the catalogue stays testable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, quote, unquote

from . import catalogue
from .catalogue import Catalogue, CatalogueError
from .store import Conflict, WorkspaceStore
from .validation import InvalidBody, is_uuid, parse_json, validate_create

PREFIX = "/v1"
MAX_BODY = 64 * 1024
ERRORS = "https://api.exalsius.ai/errors/"
PROBLEM_TYPES = {400: "bad-request", 404: "not-found", 409: "conflict"}
ROUTES: dict[str, tuple[str, ...]] = {
    "/workspaces": ("GET", "POST"),
    "/workspace/{id}": ("GET", "DELETE"),
    "/workspace/{id}/stop": ("POST",),
    "/workspace/{id}/start": ("POST",),
    "/workspace/{id}/logs": ("GET",),
    **catalogue.ROUTES,
}
EXTRA_ROUTES = frozenset({"/workspace/{id}/start", "/workspace/{id}/logs"})
ACTIONS = frozenset({"stop", "start", "logs"})


@dataclass
class Response:
    """An HTTP answer: status, body, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: object, **headers: str) -> Response:
    """A JSON answer."""
    return Response(status, json.dumps(payload).encode(), headers=dict(headers))


def problem(
    status: int, title: str, detail: str, instance: str, retry_after: int | None = None
) -> Response:
    """An error in the API's shape: problem+json wrapped in {"detail": {...}}."""
    slug = PROBLEM_TYPES.get(status) or (
        "server-error" if status >= 500 else HTTPStatus(status).phrase.lower().replace(" ", "-")
    )
    body = {
        "type": ERRORS + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": quote(unquote(instance), safe="/"),
    }
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    return Response(
        status, json.dumps({"detail": body}).encode(), "application/problem+json", headers
    )


def match(path: str) -> tuple[str, str | None] | None:
    """The route template and (still percent-encoded) id of a request path, or None."""
    if not path.startswith(PREFIX + "/"):
        return None
    parts = path[len(PREFIX) :].split("/")
    if parts == ["", "workspaces"]:
        return "/workspaces", None
    if len(parts) == 3 and parts[1] == "workspace":
        return "/workspace/{id}", parts[2]
    if len(parts) == 4 and parts[1] == "workspace" and parts[3] in ACTIONS:
        return f"/workspace/{{id}}/{parts[3]}", parts[2]
    return catalogue.match(parts)


def route_name(path: str) -> str:
    """How request accounting names a path: its route template, else the literal path sans /v1."""
    bare = path[len(PREFIX) :] if path.startswith(PREFIX + "/") else path
    hit = match(PREFIX + bare)
    return hit[0] if hit else bare


class Api:
    """Answers requests for the Workspaces API; start and logs only when `extras`.

    The catalogue's routes are served when the store's api mode is "1.46", else they are 404.
    """

    def __init__(self, store: WorkspaceStore, *, extras: bool = True) -> None:
        self.store = store
        self.extras = extras
        self.catalogue = Catalogue(store) if store.api == "1.46" else None
        self._handlers: dict[tuple[str, str], Callable[[str, str, str], Response]] = {
            ("GET", "/workspaces"): self._list,
            ("GET", "/workspace/{id}"): self._describe,
            ("DELETE", "/workspace/{id}"): self._delete,
            ("POST", "/workspace/{id}/stop"): self._stop,
            ("POST", "/workspace/{id}/start"): self._start,
            ("GET", "/workspace/{id}/logs"): self._logs,
        }

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes | None
    ) -> Response:
        """Route one request; `body` is None when it was too large to read."""
        hit = match(path)
        if (
            hit is None
            or (not self.extras and hit[0] in EXTRA_ROUTES)
            or (self.catalogue is None and hit[0] in catalogue.ROUTES)
        ):
            return json_response(404, {"detail": "Not Found"})
        template, raw_id = hit
        allowed = ROUTES[template]
        if method not in allowed:
            return json_response(405, {"detail": "Method Not Allowed"}, Allow=", ".join(allowed))
        instance = path[len(PREFIX) :]
        if self.catalogue is not None and template in catalogue.ROUTES:
            return self._catalogue(self.catalogue, template, raw_id, query, instance)
        if template == "/workspaces" and method == "POST":
            return self._create(headers, body, instance)
        workspace_id = unquote(raw_id or "")
        if raw_id is not None and not is_uuid(workspace_id):
            return self._not_found(workspace_id, instance)
        return self._handlers[(method, template)](workspace_id, query, instance)

    @staticmethod
    def _catalogue(
        served: Catalogue, template: str, raw_id: str | None, query: str, instance: str
    ) -> Response:
        try:
            payload, total = served.answer(template, unquote(raw_id or ""), query)
        except CatalogueError as exc:
            return problem(exc.status, exc.title, exc.detail, instance)
        if total is None:
            return json_response(200, payload)
        return json_response(200, payload, **{"X-Total-Count": str(total)})

    @staticmethod
    def _not_found(workspace_id: str, instance: str) -> Response:
        return problem(
            404,
            "Workspace Not Found",
            f"The workspace with ID {workspace_id} was not found.",
            instance,
        )

    def _list(self, _: str, query: str, instance: str) -> Response:
        values = parse_qs(query, keep_blank_values=True).get("cluster_id")
        cluster_id = None
        if values is not None:
            if len(values) != 1 or not is_uuid(values[0]):
                shown = ",".join(values)
                return problem(
                    404,
                    "Cluster Not Found",
                    f"The cluster with ID {shown} was not found.",
                    instance,
                )
            cluster_id = values[0].lower()
        body, total = self.store.list_body(cluster_id)
        return Response(200, body, headers={"X-Total-Count": str(total)})

    def _create(self, headers: Mapping[str, str], body: bytes | None, instance: str) -> Response:
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if media_type != "application/json":
                raise InvalidBody("Content-Type must be application/json.")
            if body is None:
                raise InvalidBody(f"The request body exceeds {MAX_BODY} bytes.")
            spec = validate_create(parse_json(body), self.store.api)
            workspace_id = self.store.create(spec)
        except InvalidBody as exc:
            return problem(400, "Bad Request", str(exc), instance)
        except Conflict as exc:
            return problem(409, "Conflict", str(exc), instance)
        return json_response(201, {"workspace_id": workspace_id})

    def _describe(self, workspace_id: str, _: str, instance: str) -> Response:
        body = self.store.describe_body(workspace_id)
        if body is None:
            return self._not_found(workspace_id, instance)
        return Response(200, body)

    def _delete(self, workspace_id: str, _: str, instance: str) -> Response:
        if not self.store.delete(workspace_id):
            return self._not_found(workspace_id, instance)
        return json_response(200, {"workspace_id": workspace_id.lower()})

    def _stop(self, workspace_id: str, _: str, instance: str) -> Response:
        if not self.store.stop(workspace_id):
            return self._not_found(workspace_id, instance)
        return json_response(200, {"workspace_id": workspace_id.lower()})

    def _start(self, workspace_id: str, _: str, instance: str) -> Response:
        outcome = self.store.start(workspace_id)
        if outcome == "deleted":
            return problem(
                404,
                "Workspace Not Found",
                f"The workspace with ID {workspace_id} was deleted and cannot be started.",
                instance,
            )
        if outcome is None:
            return self._not_found(workspace_id, instance)
        return json_response(200, {"workspace_id": workspace_id.lower()})

    def _logs(self, workspace_id: str, _: str, instance: str) -> Response:
        lines = self.store.logs(workspace_id)
        if lines is None:
            return self._not_found(workspace_id, instance)
        return Response(200, lines, "application/x-ndjson")
