"""Client-side validation of a workspace spec before anything is sent."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..errors import ValidationError
from .fields import (
    ASKED_FIELDS,
    RESOURCE_INT_FIELDS,
    RESOURCE_STR_FIELDS,
    WORKSPACE_FIELDS,
    Kind,
)

INT32_MAX = 2**31 - 1
_WRITABLE = [f for f in WORKSPACE_FIELDS if f.writable]
_TOP_LEVEL = {f.parent or f.name for f in _WRITABLE}
# The create body's required members: the required fields, and every object holding fields.
_REQUIRED = tuple(dict.fromkeys(f.parent or f.name for f in _WRITABLE if f.required or f.parent))
# Optional top-level times (to_be_deleted_at): ISO 8601 text with a zone when given.
_OPTIONAL_TIMES = tuple(f.name for f in _WRITABLE if not f.parent and f.kind is Kind.TIME)
# Optional top-level text fields (description, owner, ...): strings when given.
_OPTIONAL_TEXT = tuple(f.name for f in _WRITABLE
                       if not f.parent and not f.required and f.kind is Kind.TEXT)
_TEMPLATE_KEYS = {"name", "variables", "description"}
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def validate_workspace_spec(spec: Any, *, where: str = "") -> dict[str, Any]:
    """Check a create body against the API's Workspace schema; return a clean copy.

    Raises ``ValidationError`` naming the first offending field (prefixed by ``where``).
    """
    prefix = f"{where}: " if where else ""

    def fail(message: str) -> ValidationError:
        return ValidationError(prefix + message)

    if not isinstance(spec, Mapping):
        raise fail(f"a workspace spec must be a mapping, not {type(spec).__name__}")
    unknown = _unknown(spec, _TOP_LEVEL)
    if unknown is not None:
        raise fail(f"unknown field {unknown!r} (allowed: {', '.join(sorted(_TOP_LEVEL))})")
    for key in _REQUIRED:
        if key not in spec or spec[key] is None:
            raise fail(f"missing required field {key!r}")
    name = spec["name"]
    if not isinstance(name, str) or not name.strip():
        raise fail("name must be a non-empty string")
    out: dict[str, Any] = {
        "name": name,
        "cluster_id": _cluster_id(spec["cluster_id"], fail),
        "template": _template(spec["template"], fail),
        "resources": _resources(spec["resources"], fail),
    }
    for key in _OPTIONAL_TEXT:
        if spec.get(key) is not None:
            if not isinstance(spec[key], str):
                raise fail(f"{key} must be a string")
            out[key] = spec[key]
    for key in _OPTIONAL_TIMES:
        if spec.get(key) is not None:
            out[key] = _time(key, spec[key], fail)
    return out


def _time(key: str, value: Any, fail: Any) -> str:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return value.strip()
    raise fail(f"{key} must be an ISO 8601 time with a zone (e.g. 2026-12-24T18:00:00Z), "
               f"got {value!r}")


def parse_variable(item: str | tuple[str, str], *, where: str = "--var") -> tuple[str, str]:
    """One template variable from ``KEY=VALUE`` (or a pair): the key is stripped, the value kept."""
    if isinstance(item, tuple):
        key, value = item
    else:
        key, sep, value = item.partition("=")
        if not sep:
            key = ""
    if not key.strip():
        raise ValidationError(f"{where}: expected KEY=VALUE, got {item!r}")
    return key.strip(), value


def parse_variables(items: str | Iterable[str | tuple[str, str]], *,
                    source: str = "--var") -> dict[str, str]:
    """Template variables from ``KEY=VALUE`` items, or from the lines of one text.

    The one rule, for the magic's ``--var`` and the form alike: a key given twice is an error
    (never a silent overwrite), and the value's whitespace is kept. From a text, blank lines and
    ``#`` comment lines are skipped and errors name the line.
    """
    numbered: list[tuple[str, str | tuple[str, str]]]
    if isinstance(items, str):
        numbered = [(f"{source}, line {n}", line) for n, line in enumerate(items.splitlines(), 1)
                    if line.strip() and not line.lstrip().startswith("#")]
    else:
        numbered = [(source, item) for item in items]
    variables: dict[str, str] = {}
    for where, item in numbered:
        key, value = parse_variable(item, where=where)
        if key in variables:
            raise ValidationError(f"{source} {key!r} is given twice ({variables[key]!r} and "
                                  f"{value!r}); give each template variable once")
        variables[key] = value
    return variables


def build_workspace_spec(
    *,
    name: str,
    cluster_id: str,
    template: str,
    variables: Mapping[str, Any] | str | Iterable[str | tuple[str, str]] = (),
    where: str = "",
    source: str = "--var",
    **values: Any,
) -> dict[str, Any]:
    """The validated create body for one workspace, from plain values (None: left out).

    The magic's ``create`` and the panel's form both build their body here. ``values`` are
    the asked fields of the field table by name (``gpu_count=2``, ``description=...``): a
    resource goes into ``resources``, any other to the top level. ``variables`` is a mapping,
    or ``KEY=VALUE`` items / lines for :func:`parse_variables` (``source`` names them in
    errors). Raises ``ValidationError`` naming the first offending field.
    """
    unknown = set(values) - {f.name for f in ASKED_FIELDS}
    if unknown:
        raise TypeError(f"unknown workspace fields: {', '.join(sorted(unknown))}")
    if isinstance(variables, Mapping):
        template_variables = dict(variables)
    else:
        template_variables = parse_variables(variables, source=source)
    spec: dict[str, Any] = {
        "name": name,
        "cluster_id": cluster_id,
        "template": {"name": template, "variables": template_variables},
        "resources": {},
    }
    for f in ASKED_FIELDS:
        value = values.get(f.name)
        if value is not None:
            (spec["resources"] if f.parent == "resources" else spec)[f.name] = value
    return validate_workspace_spec(spec, where=where)


def _unknown(value: Mapping[Any, Any], known: set[str]) -> Any:
    """The first key not in ``known`` (in a stable order, whatever the key types), or None."""
    extra = [key for key in value if key not in known]
    return min(extra, key=lambda key: (not isinstance(key, str), str(key))) if extra else None


def _cluster_id(value: Any, fail: Any) -> str:
    if not isinstance(value, str):
        raise fail("cluster_id must be a UUID string")
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise fail(f"cluster_id must be a UUID, got {value!r}") from None
    # The API's format: uuid is the hyphenated form; send braces/urn/bare hex forms that way.
    return value if _CANONICAL_UUID.fullmatch(value) else str(parsed)


def _template(value: Any, fail: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise fail("template must be a mapping with 'name' and 'variables'")
    unknown = _unknown(value, _TEMPLATE_KEYS)
    if unknown is not None:
        raise fail(f"unknown field 'template.{unknown}'")
    name = value.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("template.name must be a non-empty string")
    if "variables" not in value or value["variables"] is None:
        raise fail("missing required field 'template.variables' (use {} for none)")
    variables = value["variables"]
    if not isinstance(variables, Mapping):
        raise fail("template.variables must be a mapping")
    for key in variables:
        if not isinstance(key, str):
            raise fail(f"template.variables names must be strings, got {key!r}")
    # Any JSON value, as the live templates hold (objects, numbers, lists); a stricter server
    # (the 1.5.1 contract: strings only) answers 400 and says so.
    bad = _not_json(variables, "template.variables")
    if bad is not None:
        raise fail(bad)
    out: dict[str, Any] = {"name": name, "variables": dict(variables)}
    if value.get("description") is not None:
        if not isinstance(value["description"], str):
            raise fail("template.description must be a string")
        out["description"] = value["description"]
    return out


def _not_json(value: Any, path: str) -> str | None:
    """Why ``value`` is not a JSON value (a NaN, a set, a key that is not text), or None."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, Mapping):
            for key, val in item.items():
                if not isinstance(key, str):
                    return f"{where} names must be strings, got {key!r}"
                stack.append((f"{where}.{key}", val))
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}[{i}]", val) for i, val in enumerate(item))
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{where} must be a finite number, got {item!r}"
        elif not (item is None or isinstance(item, str | int | float | bool)):
            return f"{where} must be a JSON value, got {type(item).__name__}"
    return None


def _resources(value: Any, fail: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise fail("resources must be a mapping")
    known = set(RESOURCE_INT_FIELDS) | set(RESOURCE_STR_FIELDS)
    unknown = _unknown(value, known)
    if unknown is not None:
        raise fail(f"unknown field 'resources.{unknown}' (allowed: {', '.join(sorted(known))})")
    out: dict[str, Any] = {}
    for key in RESOURCE_INT_FIELDS:
        val = value.get(key)
        if val is None:
            continue
        if isinstance(val, bool) or not isinstance(val, int):
            raise fail(f"resources.{key} must be an integer, got {val!r}")
        if not 0 <= val <= INT32_MAX:
            raise fail(f"resources.{key} must be between 0 and {INT32_MAX}, got {val}")
        out[key] = val
    for key in RESOURCE_STR_FIELDS:
        val = value.get(key)
        if val is None:
            continue
        if not isinstance(val, str):
            raise fail(f"resources.{key} must be a string, got {val!r}")
        out[key] = val
    return out
