"""JSON from a server, decoded defensively: depth-bombs and lone surrogates never escape."""

from __future__ import annotations

import json
import re
from typing import Any

from ..model.jsondepth import check_depth, in_place_or_fresh

# A \uD800-\uDFFF escape: a lone one decodes to text no codec can encode.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATES = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def loads(data: bytes | str) -> Any:
    """``json.loads``, raising ``TooDeep`` (a ValueError) past ``MAX_DEPTH``; surrogates replaced.

    The depth is measured before decoding, so the limit is the same wherever the call comes
    from and on both list paths; a body within it too deep for the caller's stack is decoded
    on a fresh one.
    """
    check_depth(data)
    try:
        value = in_place_or_fresh(lambda: json.loads(data))
    except RecursionError:  # only where the interpreter's limit was set below MAX_DEPTH's needs
        raise ValueError("the JSON is nested too deeply for the recursion limit") from None
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    # A backslash first (one byte: at memchr speed, where the regex scans the whole body).
    if (b"\\" in raw and _SURROGATE_ESCAPE.search(raw)) or (
            isinstance(data, str) and _SURROGATES.search(data)):
        value = replace_surrogates(value)
    return value


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD, so it can always be encoded."""
    return _SURROGATES.sub(REPLACEMENT, text) if _SURROGATES.search(text) else text


def replace_surrogates(value: Any) -> Any:
    """A copy of decoded JSON whose strings (keys too) hold no lone surrogates (iterative)."""
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = clean_text(item)
        elif isinstance(item, list):
            for index in range(len(item)):
                stack.append((item, index))
        elif isinstance(item, dict):
            cleaned = {clean_text(k) if isinstance(k, str) else k: v for k, v in item.items()}
            container[key] = cleaned
            for name in cleaned:
                stack.append((cleaned, name))
    return root[0]
