"""A template's variables as form fields: text, number, a password, a YAML box for nested values.

One field per top-level variable; an object holding a secret is opened up so that each secret
gets its own password field (never a YAML box a secret could be read from). A field's value is
sent only when it differs from the template's, as a (dotted path, value) pair.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import ipywidgets as widgets

from ..errors import ValidationError
from ..model.catalogue import TemplateInfo
from ..model.variables import is_secret, secret_paths
from .base import classed, walk

FIELD_STYLE = {"description_width": "170px"}
FIELD_WIDTH = "420px"


def _has_yaml() -> bool:
    try:
        import yaml  # noqa: F401
    except ImportError:
        return False
    return True


def nested_text(value: Any) -> str:
    """An object or list as the YAML box shows it (YAML where PyYAML is there, else JSON)."""
    if _has_yaml():
        import yaml

        return str(yaml.safe_dump(value, sort_keys=False, default_flow_style=False)).strip()
    return json.dumps(value, indent=2)


def parse_nested(text: str, path: str) -> Any:
    """The YAML box's text as a value (JSON is YAML too); one line naming the field if not."""
    try:
        if _has_yaml():
            import yaml

            return yaml.safe_load(text)
        return json.loads(text)
    except Exception as exc:  # json's ValueError or a yaml.YAMLError
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ValidationError(f"variable {path!r}: not valid YAML or JSON ({first})") from None


def _leaves(variables: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) per field: an object is opened up only where it holds a secret."""
    for key, value in variables.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and secret_paths(value):
            yield from _leaves(value, path + ".")
        else:
            yield path, value


def _input(path: str, value: Any) -> widgets.ValueWidget:
    nested = isinstance(value, dict | list)
    rows = min(max(nested_text(value).count("\n") + 1, 2), 8) if nested else 0
    layout = widgets.Layout(width=FIELD_WIDTH, height=f"{rows * 20 + 8}px" if rows else None)
    common: dict[str, Any] = {"description": path, "description_allow_html": False,
                              "style": dict(FIELD_STYLE), "layout": layout}
    if isinstance(value, bool):
        return widgets.Checkbox(value=value, indent=False, **common)
    if isinstance(value, int):
        return widgets.IntText(value=value, **common)
    if isinstance(value, float):
        return widgets.FloatText(value=value, **common)
    if nested:
        return widgets.Textarea(value=nested_text(value), **common)
    text = "" if value is None else str(value)
    if is_secret(path.rsplit(".", 1)[-1]):
        return widgets.Password(value=text, placeholder="hidden; cleared once sent", **common)
    return widgets.Text(value=text, **common)


class VariableInputs:
    """The fields of one template's variables, and the values a user changed in them.

    Args:
        template: the template as the service lists it.
        on_change: called (no arguments) whenever a field's value changes.
    """

    def __init__(self, template: TemplateInfo,
                 on_change: Callable[[], None] | None = None) -> None:
        self.template = template
        self._defaults = dict(_leaves(template.variables))
        self.inputs: dict[str, widgets.ValueWidget] = {
            path: classed(_input(path, value), "exls-form-variable")
            for path, value in self._defaults.items()}
        self.secrets = tuple(path for path, w in self.inputs.items()
                             if isinstance(w, widgets.Password))
        if on_change is not None:
            for w in self.inputs.values():
                w.observe(lambda _c: on_change(), "value")
        self.widget = classed(widgets.VBox(list(self.inputs.values())), "exls-form-variables")

    def values(self) -> list[tuple[str, Any]]:
        """(dotted path, value) for every field whose value differs from the template's."""
        changed: list[tuple[str, Any]] = []
        for path, w in self.inputs.items():
            default = self._defaults[path]
            value: Any = w.value
            if isinstance(default, dict | list):
                if value.strip() == nested_text(default).strip():
                    continue
                value = parse_nested(value, path)
            elif default is None and value == "":
                continue
            if value != default:
                changed.append((path, value))
        return changed

    def clear_secrets(self) -> None:
        """Empty every password field (once a create has been sent)."""
        for path in self.secrets:
            self.inputs[path].value = ""

    def close(self) -> None:
        """Close the fields (with their layouts and styles)."""
        for w in list(walk(self.widget)):
            w.close()


__all__ = ["VariableInputs", "nested_text", "parse_nested"]
