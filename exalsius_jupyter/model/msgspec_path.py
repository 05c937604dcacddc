"""The optional msgspec fast path (``exalsius-jupyter[fast]``, issue #10): list bodies decoded
straight into typed records, their columns built by the same code as the stdlib path.

The records' types are derived from ``COLUMN_FIELDS``, so a new row of the field table needs no
edit here. They are deliberately narrow (text is ``str | None``, ints are ``int | None``, …): a body
that does not fit them exactly (another type, NaN, a lone surrogate, invalid UTF-8, more than
``jsondepth.MAX_DEPTH`` levels) is not decoded here at all, and the caller falls back to the
tolerant stdlib path. A body that fits
gives every column builder the very values the stdlib path reads from the dicts, so both frames
are identical. The JSON objects themselves (``WorkspaceList.raw``, ``Workspace`` parsing) are
decoded from the kept bytes only when somebody asks for them.
"""

from __future__ import annotations

import functools
import gc
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from operator import attrgetter
from typing import Any

from ..errors import InvalidResponseError
from .fields import COLUMN_FIELDS, Field, Kind
from .jsondepth import check_depth, in_place_or_fresh

ENV = "EXALSIUS_FAST"


def enabled() -> bool:
    """True when msgspec is installed and ``EXALSIUS_FAST`` is not ``0``."""
    return os.environ.get(ENV, "1").strip() != "0" and _installed()


@functools.lru_cache(maxsize=1)
def _installed() -> bool:
    """Whether msgspec can be imported (it is imported on first use: ~20 ms)."""
    return importlib.util.find_spec("msgspec") is not None


def _types() -> tuple[Any, dict[str, Callable[[list[Any]], list[Any]]]]:
    """The list body's Struct, and per column how its record values become the stdlib's."""
    import msgspec

    # A 1.46 access object is decoded as the dict the stdlib path reads (its fields are text,
    # numbers and lists of text by contract; anything else is the stdlib path's to read).
    access_item = dict[str, str | int | list[str | None] | None]
    template = msgspec.defstruct("Template", [("name", str | None, None)], gc=False)
    by_kind: dict[Kind, Any] = {
        Kind.TEXT: str | None, Kind.UUID: str | None, Kind.INT: int | None,
        Kind.TIME: str | None, Kind.STATUS: str | None, Kind.TEMPLATE: template | str | None,
        Kind.ACCESS: str | list[str | access_item] | None,
    }

    def struct(name: str, fields: tuple[Field, ...], extra: list[Any]) -> Any:
        spec = [(f.name, by_kind[f.kind], None) for f in fields] + extra
        return msgspec.defstruct(name, spec, rename={f.name: f.key for f in fields}, gc=False)

    parents = tuple(dict.fromkeys(f.parent for f in COLUMN_FIELDS if f.parent))
    nested = {p: struct(p.title(), tuple(f for f in COLUMN_FIELDS if f.parent == p), [])
              for p in parents}
    record = struct("WorkspaceRecord", tuple(f for f in COLUMN_FIELDS if not f.parent),
                    [(p, nested[p] | None, None) for p in parents])
    body = msgspec.defstruct("ListBody", [("workspaces", list[record]),  # type: ignore[valid-type]
                                          ("total", int | None, None)], gc=False)
    _EMPTY_PARENTS.update({p: nested[p]() for p in parents})
    convert: dict[str, Callable[[list[Any]], list[Any]]] = {}
    for f in COLUMN_FIELDS:
        if f.kind is Kind.TEMPLATE:
            convert[f.name] = _template_names(template)
    return body, convert


_EMPTY_PARENTS: dict[str, Any] = {}


def _template_names(template: Any) -> Callable[[list[Any]], list[Any]]:
    """Template values as the stdlib column holds their names: an object's name, a bare name."""
    get = attrgetter("name")

    def names(values: list[Any]) -> list[Any]:
        if set(map(type, values)) <= {template}:
            return list(map(get, values))
        return [get(v) if type(v) is template else v for v in values]

    return names


_DECODER: Any = None
_CONVERT: dict[str, Callable[[list[Any]], list[Any]]] = {}


def _decoder() -> Any:
    """The msgspec decoder of list bodies, made on first use."""
    global _DECODER
    if _DECODER is None:
        import msgspec

        body, convert = _types()
        _CONVERT.update(convert)
        _DECODER = msgspec.json.Decoder(body)
    return _DECODER


class FastList:
    """A list body decoded into records; the JSON objects are decoded from its bytes on demand."""

    __slots__ = ("_body", "records", "total")

    def __init__(self, records: list[Any], total: int | None, body: bytes) -> None:
        self.records = records
        self.total = total
        self._body: bytes | None = body

    def raw(self) -> list[dict[str, Any]]:
        """The workspace objects exactly as the stdlib path decodes them (the bytes are freed)."""
        body = self._body
        if body is None:
            raise RuntimeError("FastList.raw() was already taken")
        value = _loads(body)
        self._body = None
        return value["workspaces"]

    def columns(self) -> Mapping[str, list[Any]]:
        """Each column's values as the stdlib path reads them from the dicts.

        Read lazily, one column per lookup: a frame built from it holds one column's list at a
        time beside the records (#16: memory within 3x the body).
        """
        records = self.records
        groups: dict[str | None, list[Any]] = {None: records}
        for parent, empty in _EMPTY_PARENTS.items():
            values = list(map(attrgetter(parent), records))
            if None in values:
                values = [empty if v is None else v for v in values]
            groups[parent] = values
        return _Columns(groups)


class _Columns(Mapping[str, list[Any]]):
    """The record columns by field name, each built when it is looked up."""

    def __init__(self, groups: dict[str | None, list[Any]]) -> None:
        self._groups = groups

    def __getitem__(self, name: str) -> list[Any]:
        f = _BY_NAME[name]
        values = list(map(attrgetter(f.name), self._groups[f.parent]))
        convert = _CONVERT.get(f.name)
        return values if convert is None else convert(values)

    def __iter__(self) -> Iterator[str]:
        return iter(_BY_NAME)

    def __len__(self) -> int:
        return len(_BY_NAME)


_BY_NAME = {f.name: f for f in COLUMN_FIELDS}


def decode_list(body: bytes) -> FastList | None:
    """The list body as records, or None where only the tolerant stdlib path may read it."""
    if not enabled() or not isinstance(body, bytes):
        return None
    if not body.isascii():
        try:  # json.loads rejects invalid UTF-8 anywhere; msgspec only in values it decodes
            body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        check_depth(body)  # the stdlib path refuses it with the same limit, and says where
        decoder = _decoder()
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            parsed = in_place_or_fresh(lambda: decoder.decode(body))
        finally:
            if was_enabled:
                gc.enable()
    except Exception:  # any mismatch: another type, malformed, too deep, … (never raised)
        return None
    return FastList(parsed.workspaces, parsed.total, body)


def _loads(body: bytes) -> Any:
    """``json.loads`` with the GC paused, on a fresh stack if the caller's is too deep for it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return in_place_or_fresh(lambda: json.loads(body))
    except RecursionError:  # only where the interpreter's limit was set below MAX_DEPTH's needs
        raise InvalidResponseError("the server's answer is nested too deeply for the recursion "
                                   f"limit ({sys.getrecursionlimit()})") from None
    finally:
        if was_enabled:
            gc.enable()
