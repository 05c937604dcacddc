"""Validation of a create body: the api mode's contract plus the sandbox's own rules.

Each mode follows its own contract (../shared/openapi/workspaces-{1.5.1,1.46.0}.yaml): a field the
mode defines is type-checked; one it does not define (1.5.1's ``gpu_memory``, ``vram``, 1.46's
``id`` or ``owner``, ...) accepts any value and is not stored. The sandbox's own rules on top:
a non-empty name, a READY demo cluster, non-negative 32-bit sizes, at most MAX_DEPTH levels of
nesting.
"""

from __future__ import annotations

import calendar
import json
import re
from typing import Any

from .clusters import DEMO_CLUSTERS, DEPLOYING_CLUSTERS

INT32_MAX = 2**31 - 1
MAX_DEPTH = 64  # nesting levels of a request body; deeper ones are a 400, never a RecursionError
STATUSES = ("PENDING", "RUNNING", "STOPPED", "DELETED", "FAILED")
SIZES = ("gpu_count", "cpu_cores", "memory_gb", "storage_gb")
INT_RESOURCES = {"1.5.1": SIZES, "1.46": (*SIZES, "gpu_memory")}  # int32 resources per api mode
STR_RESOURCES = ("gpu_type", "gpu_vendor")
STRING_VARIABLES = {"1.5.1": True, "1.46": False}  # template.variables: strings, or any values
OPTIONAL_FIELDS = {  # top-level fields each mode's create body defines, and their kind
    "1.5.1": {
        "id": "uuid",
        "workspace_status": "status",
        "owner": "string",
        "description": "string",
        "access_information": "string",
        "created_at": "date-time",
        "to_be_deleted_at": "date-time",
    },
    "1.46": {"namespace": "string", "description": "string", "to_be_deleted_at": "date-time"},
}

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-]([0-9]{2}):([0-9]{2}))"
)


class InvalidBody(ValueError):
    """A create body the API must reject with 400; the message names the field."""


def is_uuid(value: object) -> bool:
    """Whether value is a UUID in its canonical hyphenated text form (any case)."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def is_date_time(value: str) -> bool:
    """Whether value is an RFC 3339 date-time, as JSON Schema's "date-time" format means it."""
    m = _DATE_TIME.fullmatch(value)
    if m is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year or 2000, month)[1]):
        return False
    leap_second = second == 60 and hour == 23 and minute == 59
    if hour > 23 or minute > 59 or (second > 59 and not leap_second):
        return False
    return m.group(9) is None or (int(m.group(9)) <= 23 and int(m.group(10)) <= 59)


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply value's lists and objects nest (a scalar is 0), counted up to limit + 1."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]  # iterative: no recursion on hostile input
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth) for child in children)
    return deepest


def parse_json(raw: bytes) -> Any:
    """Decode a strict JSON document (no NaN/Infinity, at most MAX_DEPTH deep), else InvalidBody."""

    def reject_constant(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    too_deep = f"The request body is nested deeper than {MAX_DEPTH} levels."
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=reject_constant)
    except RecursionError:
        raise InvalidBody(too_deep) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidBody(f"The request body is not valid JSON: {exc}") from None
    if nesting_depth(value, MAX_DEPTH) > MAX_DEPTH:
        raise InvalidBody(too_deep)
    return value


def _string(obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    if key not in obj:
        if required:
            raise InvalidBody(f"Field '{where}{key}' is required.")
        return None
    value = obj[key]
    if not isinstance(value, str):
        raise InvalidBody(f"Field '{where}{key}' must be a string.")
    return value


def _object(obj: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    if key not in obj:
        raise InvalidBody(f"Field '{where}{key}' is required.")
    value = obj[key]
    if not isinstance(value, dict):
        raise InvalidBody(f"Field '{where}{key}' must be an object.")
    return value


def _template(body: dict[str, Any], api: str) -> dict[str, Any]:
    raw = _object(body, "template")
    name = _string(raw, "name", "template.", required=True)
    description = _string(raw, "description", "template.")
    variables = _object(raw, "variables", "template.")
    if STRING_VARIABLES[api]:
        for key, value in variables.items():
            if not isinstance(value, str):
                raise InvalidBody(f"Field 'template.variables.{key}' must be a string.")
    template: dict[str, Any] = {"name": name, "variables": dict(variables)}
    if description is not None:
        template["description"] = description
    return template


def _resources(body: dict[str, Any], api: str) -> dict[str, Any]:
    raw = _object(body, "resources")
    resources: dict[str, Any] = {}
    for key in INT_RESOURCES[api]:
        if key in raw:
            value = raw[key]
            if type(value) is float and value.is_integer():
                value = int(value)  # JSON Schema counts 2.0 as an integer
            if type(value) is not int or not 0 <= value <= INT32_MAX:
                raise InvalidBody(f"Field 'resources.{key}' must be a non-negative 32-bit integer.")
            resources[key] = value
    for key in STR_RESOURCES:
        value = _string(raw, key, "resources.")
        if value is not None:
            resources[key] = value
    return resources


def _optional_fields(body: dict[str, Any], api: str) -> None:
    for key, kind in OPTIONAL_FIELDS[api].items():
        if key not in body:
            continue
        if kind == "uuid" and not is_uuid(body[key]):
            raise InvalidBody(f"Field '{key}' must be a UUID string.")
        value = _string(body, key, "") if kind != "uuid" else None
        if kind == "status" and value not in STATUSES:
            raise InvalidBody(f"Field '{key}' must be one of {', '.join(STATUSES)}.")
        if kind == "date-time" and value is not None and not is_date_time(value):
            raise InvalidBody(f"Field '{key}' must be an RFC 3339 date-time.")


def validate_create(body: Any, api: str = "1.5.1") -> dict[str, Any]:
    """Check a parsed create body against `api`'s contract; return the fields the store keeps."""
    if not isinstance(body, dict):
        raise InvalidBody("The request body must be a JSON object.")
    name = _string(body, "name", "", required=True)
    if not name or not name.strip():
        raise InvalidBody("Field 'name' must be a non-empty string.")
    if "cluster_id" not in body:
        raise InvalidBody("Field 'cluster_id' is required.")
    cluster_id = body["cluster_id"]
    if not is_uuid(cluster_id):
        raise InvalidBody("Field 'cluster_id' must be a UUID string.")
    template = _template(body, api)
    resources = _resources(body, api)
    _optional_fields(body, api)
    cluster_id = cluster_id.lower()
    deploying = DEPLOYING_CLUSTERS.get(cluster_id)
    if deploying is not None and api == "1.46":  # listed by the catalogue, but not READY
        raise InvalidBody(
            f"Field 'cluster_id': cluster {deploying.name} is {deploying.cluster_status}, "
            "not READY."
        )
    if cluster_id not in DEMO_CLUSTERS:
        raise InvalidBody(f"Field 'cluster_id': cluster {cluster_id} not found.")
    return {
        "name": name,
        "cluster_id": cluster_id,
        "template": template,
        "resources": resources,
        "description": body.get("description", ""),
        "to_be_deleted_at": body.get("to_be_deleted_at"),  # checked above; None: a week
    }
