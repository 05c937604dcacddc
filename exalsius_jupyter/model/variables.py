"""A template's own variables: set by dotted path, typed by the template, secrets masked.

A create starts from the variables the service lists for its template (any JSON value) and sets
the user's values by dotted path (``ms.decode.parallelism.tensor=2``); a value takes the type
of the template's value at that path. A variable whose name says password, token, secret or
key is a secret: masked as ``MASK`` in every output.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ValidationError

MASK = "••••••"
SECRET_WORDS = frozenset({"password", "passwd", "token", "secret", "key", "apikey"})
NOT_SECRET = frozenset({"publickey", "pubkey"})  # a public key is meant to be shared
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
MIN_SECRET_LEN = 4  # shorter values are masked in text only where they stand alone


def words(name: str) -> list[str]:
    """A name's words, lower-case: ``inferenceApiKey`` -> inference, api, key."""
    return [w.lower() for part in re.split(r"[_\-.\s]+", name) for w in _WORD.findall(part)]


def is_secret(name: str) -> bool:
    """Whether a variable named ``name`` holds a secret (a public key does not)."""
    parts = words(name)
    joined = "".join(parts)
    if any(joined.endswith(safe) for safe in NOT_SECRET):
        return False
    return any(w in SECRET_WORDS for w in parts) or joined.endswith("apikey")


def secret_paths(variables: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted path of every secret in ``variables``, nested objects included."""
    out = []
    for key, value in variables.items():
        path = f"{prefix}{key}"
        if is_secret(str(key)) and not isinstance(value, Mapping):
            out.append(path)
        elif isinstance(value, Mapping):
            out.extend(secret_paths(value, path + "."))
    return out


def opening_secret(template_name: str, variables: Mapping[str, Any]) -> str | None:
    """The variable a workspace's web link asks for: its password or token variable.

    The first secret path whose name says password or token (``notebookPassword``,
    ``tokenPassword``); a Jupyter template that lists none still opens with a password.
    Nothing for a template without such a variable (a dev pod's ``sshPassword`` is for ssh).
    """
    for path in secret_paths(variables):
        parts = words(path.rsplit(".", 1)[-1])
        if "ssh" not in parts and ({"password", "token"} & set(parts)):
            return path
    return "password" if "jupyter" in template_name.lower() else None


def mask(value: Any) -> Any:
    """``MASK`` for a secret's value; an empty one (nothing set yet) is shown as it is."""
    return value if value in (None, "") else MASK


def masked_variables(variables: Any) -> Any:
    """A copy of ``variables`` with every secret's value shown as ``MASK`` (nested too)."""
    if isinstance(variables, Mapping):
        return {k: (mask(v) if is_secret(str(k)) and not isinstance(v, Mapping)
                    else masked_variables(v)) for k, v in variables.items()}
    if isinstance(variables, list):
        return [masked_variables(v) for v in variables]
    return variables


def secret_values(variables: Any) -> list[str]:
    """The secret values in ``variables`` as text (for ``mask_text``)."""
    out: list[str] = []
    if isinstance(variables, Mapping):
        for k, v in variables.items():
            if is_secret(str(k)) and isinstance(v, str | int | float) and not isinstance(v, bool):
                out.append(str(v))
            else:
                out.extend(secret_values(v))
    elif isinstance(variables, list):
        for v in variables:
            out.extend(secret_values(v))
    return out


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``MASK`` (longest first, never a part).

    A value shorter than ``MIN_SECRET_LEN`` is masked only where it stands alone (not inside
    a longer word), so a 3-letter password hides neither half of the text nor itself.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in dict.fromkeys((secret, json.dumps(secret)[1:-1])):  # as is, inside JSON
            if len(secret) >= MIN_SECRET_LEN:
                text = text.replace(form, MASK)
            else:
                text = re.sub(rf"(?<![\w]){re.escape(form)}(?![\w])", MASK, text)
    return text


def get_path(variables: Mapping[str, Any], path: str) -> Any:
    """The value at dotted ``path`` of ``variables``, or None where there is none."""
    node: Any = variables
    for key in path.split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def set_path(variables: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``variables`` with ``path`` (dotted) set to ``value``, typed as the template's.

    Text is converted to the type the template holds there (int, float, bool, or JSON for an
    object or list); a Python value of a fitting type is kept. A path the template lacks is a
    ``ValidationError`` with the names that are there.
    """
    keys = [k for k in path.split(".")]
    if not path or any(not k for k in keys):
        raise ValidationError(f"bad variable path {path!r} (e.g. ms.modelArtifacts.uri)")
    out = copy.deepcopy(dict(variables))
    node: Any = out
    for depth, key in enumerate(keys):
        where = ".".join(keys[:depth]) or "the template's variables"
        if not isinstance(node, dict):
            raise ValidationError(f"variable {path!r}: {where} is a {_kind(node)}, not an object")
        if key not in node:
            raise ValidationError(f"variable {path!r}: {where} has no {key!r}{_hint(key, node)}")
        if depth == len(keys) - 1:
            node[key] = typed_like(node[key], value, path)
        else:
            node = node[key]
    return out


def typed_like(current: Any, value: Any, path: str) -> Any:
    """``value`` as the type of ``current`` (the template's value at ``path``)."""
    if not isinstance(value, str):
        if current is None or _same_kind(current, value):
            return value
        raise ValidationError(f"variable {path!r} is a {_kind(current)} in the template, "
                              f"not a {_kind(value)}")
    text = value.strip()
    try:
        if isinstance(current, bool):
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            raise ValueError
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
        if isinstance(current, dict | list):
            parsed = json.loads(text)
            if not _same_kind(current, parsed):
                raise ValueError
            return parsed
    except ValueError:
        raise ValidationError(f"variable {path!r} is a {_kind(current)} in the template; "
                              f"{value!r} is not one") from None
    return value


def _same_kind(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return isinstance(b, int) or isinstance(a, float)
    return isinstance(b, type(a)) or (isinstance(a, dict) and isinstance(b, dict))


def _kind(value: Any) -> str:
    names = {bool: "boolean", int: "number", float: "number", str: "string", dict: "object",
             list: "list", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _hint(key: str, node: Mapping[str, Any]) -> str:
    names = [str(k) for k in node]
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
    if close:
        return f" (did you mean {', '.join(close)}?)"
    shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    return f" (it has: {shown})" if names else " (it has none)"


__all__ = ["MASK", "get_path", "is_secret", "mask", "mask_text", "masked_variables", "secret_paths",
           "secret_values", "set_path", "typed_like", "words"]
