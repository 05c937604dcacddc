"""The ``%%exalsius create`` cell body: variable substitution, JSON or YAML, validation."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from string import Template
from typing import Any

from ..errors import ValidationError
from ..model.spec import validate_workspace_spec

# {name} was substituted before 0.2; now it is only reported, where name is a notebook variable.
_BRACED = re.compile(r"(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace ``$name`` / ``${name}`` with the variable as text (``string.Template``).

    ``$$`` is a literal ``$``; an unknown name, a ``$`` that starts no name, and the old
    ``{name}`` form where ``name`` is a notebook variable are one-line errors. One pass, so a
    substituted value is never expanded again.
    """
    for match in _BRACED.finditer(text):
        name = match.group(1)
        if name in namespace:
            raise ValidationError(
                f"cell body: {{{name}}} is no longer substituted; write ${name} for the "
                f"variable (or ${{{name}}} next to letters)")
    try:
        return Template(text).substitute(namespace)
    except KeyError as exc:
        name = exc.args[0] if exc.args else "?"
        raise ValidationError(
            f"cell body: ${name} is not a notebook variable (write $$ for a literal $)") from None
    except ValueError:
        line, column = _invalid_dollar(text)
        raise ValidationError(
            f"cell body, line {line} column {column}: a $ must start a variable ($name) or be "
            "written $$ for a literal $") from None


def _invalid_dollar(text: str) -> tuple[int, int]:
    """Where the first ``$`` that string.Template refuses is (1-based line and column)."""
    match = Template.pattern.search(text)
    while match is not None and match.group("invalid") is None:
        match = Template.pattern.search(text, match.end())
    index = match.start("invalid") if match is not None else 0
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def parse_body(text: str) -> Any:
    """Parse JSON, else YAML if PyYAML is installed; one-line errors otherwise."""
    if not text.strip():
        raise ValidationError("the cell body is empty: write a workspace mapping (JSON or YAML)")
    try:
        return json.loads(text)
    except ValueError as exc:
        json_error = f"line {exc.lineno} column {exc.colno}: {exc.msg}" \
            if isinstance(exc, json.JSONDecodeError) else str(exc)
    try:
        import yaml
    except ImportError:
        raise ValidationError(
            f"the cell body is not valid JSON ({json_error}), and YAML needs PyYAML: "
            "pip install 'exalsius-jupyter[yaml]'") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ValidationError(f"the cell body is neither JSON nor YAML ({where}{problem})") \
            from None


def body_specs(text: str, namespace: Mapping[str, Any], cluster_id: str | None = None
               ) -> tuple[list[dict[str, Any]], bool]:
    """Validated create bodies from a cell, and whether the cell held a list."""
    data = parse_body(substitute(text, namespace))
    many = isinstance(data, list)
    items = data if many else [data]
    if not items:
        raise ValidationError("the cell body is an empty list: nothing to create")
    specs = []
    seen: dict[tuple[str, str], int] = {}
    for i, item in enumerate(items, start=1):
        if cluster_id and isinstance(item, dict) and item.get("cluster_id") is None:
            item = {**item, "cluster_id": cluster_id}
        name = item.get("name") if isinstance(item, Mapping) else None
        label = f"item {i} ({name})" if isinstance(name, str) and name else f"item {i}"
        spec = validate_workspace_spec(item, where=label)
        key = (str(spec["cluster_id"]), str(spec["name"]))
        if key in seen:  # the server would refuse it with 409 after creating the first
            raise ValidationError(f"{label}: name {key[1]!r} repeats item {seen[key]} on "
                                  f"cluster {key[0]}; names are unique per cluster")
        seen[key] = i
        specs.append(spec)
    return specs, many
