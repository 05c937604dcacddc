"""The optional msgspec fast path (``exalsius-jupyter[fast]``, issue #10): list bodies decoded
straight into typed records, their columns built by the same code as the stdlib path.

The records' types are derived from ``COLUMN_FIELDS``, so a new row of the field table needs no
edit here. They are deliberately narrow (text is ``str | None``, ints are ``int | None``, …): a body
that does not fit them exactly (another type, NaN, a lone surrogate, invalid UTF-8, more than
``jsondepth.MAX_DEPTH`` levels) is not decoded here at all, and the caller falls back to the
tolerant stdlib path. A body that fits
gives every column builder the very values the stdlib path reads from the dicts, so both frames
are identical. The body is decoded as the spans of its workspace objects, then a chunk of them at
a time into records that become columns (issue #16: one chunk's records in memory at once). The
JSON objects themselves (``WorkspaceList.raw``, ``Workspace`` parsing) are decoded from the kept
bytes only when somebody asks for them.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any

from ..errors import InvalidResponseError
from .cells import TEXT_TYPES
from .fields import ACCESS_KEYS, COLUMN_FIELDS, Field, Kind, primary_access_column
from .gcpause import gc_paused
from .jsondepth import check_depth, in_place_or_fresh, spans_within_limit
from .sharing import CHUNK, Columns

ENV = "EXALSIUS_FAST"


def enabled() -> bool:
    """True when msgspec is installed and ``EXALSIUS_FAST`` is not ``0``."""
    return os.environ.get(ENV, "1").strip() != "0" and _installed()


@functools.lru_cache(maxsize=1)
def _installed() -> bool:
    """Whether msgspec can be imported (it is imported on first use: ~20 ms)."""
    return importlib.util.find_spec("msgspec") is not None


def _types() -> tuple[Any, Any, Any, dict[str, Callable[[Sequence[Any]], Sequence[Any]]]]:
    """The list body's Structs (the contract's keys only, any keys), a chunk's type, and per
    column how its values become the stdlib's."""
    import msgspec

    # A 1.46 access object is decoded as a Struct of the four keys the link is made of (their
    # values as the contract types them; any other key is skipped unread). ``get`` lets the
    # stdlib's access code read it as it reads a dict (#16: no dict per row).
    value = str | int | list[str | None] | None
    access = msgspec.defstruct("Access", [(k, value, None) for k in ACCESS_KEYS], gc=False,
                               namespace={"get": _struct_get})
    template = msgspec.defstruct("Template", [("name", str | None, None)], gc=False)
    by_kind: dict[Kind, Any] = {
        Kind.TEXT: str | None, Kind.UUID: str | None, Kind.INT: int | None,
        Kind.TIME: str | None, Kind.STATUS: str | None, Kind.TEMPLATE: template | str | None,
        Kind.ACCESS: str | list[str | access] | None,  # type: ignore[valid-type]
    }

    def struct(name: str, fields: tuple[Field, ...], extra: list[Any]) -> Any:
        spec = [(f.name, by_kind[f.kind], None) for f in fields] + extra
        return msgspec.defstruct(name, spec, rename={f.name: f.key for f in fields}, gc=False)

    parents = tuple(dict.fromkeys(f.parent for f in COLUMN_FIELDS if f.parent))
    nested = {p: struct(p.title(), tuple(f for f in COLUMN_FIELDS if f.parent == p), [])
              for p in parents}
    record = struct("WorkspaceRecord", tuple(f for f in COLUMN_FIELDS if not f.parent),
                    [(p, nested[p] | None, None) for p in parents])
    # The body is read as spans of its workspace objects first; the records are then decoded
    # a chunk of spans at a time, so that only one chunk's records exist at once (#16: memory).
    # The body's own keys are all known (the contract's two): a body with another key at the
    # top, which could nest anything, is measured whole (``decode_list``).
    keys: list[tuple[str, Any, Any]] = [("workspaces", list[msgspec.Raw], msgspec.NODEFAULT),
                                        ("total", int | None, None)]
    body = msgspec.defstruct("ListBody", keys, gc=False, forbid_unknown_fields=True)
    any_keys = msgspec.defstruct("AnyListBody", keys, gc=False)
    chunk = list[record]  # type: ignore[valid-type]
    _EMPTY_PARENTS.update({p: nested[p]() for p in parents})
    convert: dict[str, Callable[[Sequence[Any]], Sequence[Any]]] = {}
    for f in COLUMN_FIELDS:
        if f.kind is Kind.TEMPLATE:
            convert[f.name] = _template_names(template)
        elif f.kind is Kind.ACCESS:
            convert[f.name] = _access_links(access)
    return body, any_keys, chunk, convert


def _struct_get(self: Any, key: str, default: Any = None) -> Any:
    """``dict.get`` for an access Struct."""
    return getattr(self, key, default)


def _access_links(access: type[Any]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """Access values as the stdlib column holds them: each value's primary link (or None)."""
    from msgspec.structs import asdict

    def as_dicts(value: Any) -> Any:  # the rare values the per-row walk reads: as dicts
        if type(value) is list:
            return [asdict(v) if type(v) is access else v for v in value]
        return value

    def links(values: Sequence[Any]) -> Sequence[Any]:
        if TEXT_TYPES.issuperset(map(type, values)):  # 1.5.1: the links already
            return values
        return primary_access_column(values, plain=access, as_mapping=as_dicts)

    return links



_EMPTY_PARENTS: dict[str, Any] = {}


def _template_names(template: Any) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """Template values as the stdlib column holds their names: an object's name, a bare name."""
    get = attrgetter("name")

    def names(values: Sequence[Any]) -> Sequence[Any]:
        if set(map(type, values)) == {template}:
            return list(map(get, values))
        return [get(v) if type(v) is template else v for v in values]

    return names


_DECODERS: tuple[Any, Any, Any] | None = None
_CONVERT: dict[str, Callable[[Sequence[Any]], Sequence[Any]]] = {}


def _decoders() -> tuple[Any, Any, Any]:
    """The msgspec decoders of list bodies as spans (with the contract's keys only, and with
    any keys) and of a chunk's records, made once."""
    global _DECODERS
    if _DECODERS is None:
        import msgspec

        body, any_keys, chunk, convert = _types()
        _CONVERT.update(convert)
        _DECODERS = (msgspec.json.Decoder(body), msgspec.json.Decoder(any_keys),
                     msgspec.json.Decoder(chunk))
    return _DECODERS


class FastList:
    """A list body decoded into columns; the JSON objects are decoded from its bytes on demand."""

    __slots__ = ("_body", "_columns", "_len", "total")

    def __init__(self, columns: dict[str, list[Any]], total: int | None, body: bytes) -> None:
        self._columns = columns
        self._len = len(columns[COLUMN_FIELDS[0].name])
        self.total = total
        self._body: bytes | None = body

    def __len__(self) -> int:
        return self._len

    def raw(self) -> list[dict[str, Any]]:
        """The workspace objects exactly as the stdlib path decodes them (the bytes are freed)."""
        body = self._body
        if body is None:
            raise RuntimeError("FastList.raw() was already taken")
        value = _loads(body)
        self._body = None
        return value["workspaces"]

    def columns(self) -> Mapping[str, list[Any]]:
        """Each column's values as the stdlib path reads them from the dicts."""
        return self._columns


def _columns(spans: list[Any], decode: Callable[[bytes], list[Any]]) -> dict[str, list[Any]]:
    """The columns by field name of the workspace objects at ``spans`` (``msgspec.Raw``).

    A chunk of spans at a time is decoded into records (read as tuples in one pass, while
    they are in the cache), which are freed before the next: the peak holds one chunk's
    records beside the columns. Templates and access values become names and links in the
    chunk, and a column whose values repeat (templates, clusters, owners) keeps one string
    object per distinct value instead of one per row (``sharing.Columns``).
    """
    from msgspec.structs import astuple  # a record's fields in ``_types``' order: ``names``

    groups: dict[str, list[str]] = {}
    for f in COLUMN_FIELDS:
        if f.parent:
            groups.setdefault(f.parent, []).append(f.name)
    names = [f.name for f in COLUMN_FIELDS if not f.parent] + list(groups)
    columns = Columns()
    for start in range(0, len(spans), CHUNK):
        records = decode(b"[" + b",".join(spans[start:start + CHUNK]) + b"]")
        values: dict[str, Sequence[Any]] = dict(zip(
            names, _fields(map(astuple, records), len(names)), strict=True))
        del records
        for parent, fields in groups.items():
            inner = values.pop(parent)
            if None in inner:
                empty = _EMPTY_PARENTS[parent]
                inner = [empty if v is None else v for v in inner]
            values.update(zip(fields, _fields(map(astuple, inner), len(fields)),
                              strict=True))
        for name, convert in _CONVERT.items():
            values[name] = convert(values[name])
        for name, column in values.items():
            columns.add(name, column)
    return columns.values


def _fields(records: Iterable[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    """The columns of a chunk of records read as tuples (``width`` empty ones for none)."""
    return list(zip(*records, strict=True)) or [()] * width


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
        chunk = _decoders()[2]
        with gc_paused():  # nothing here makes a cycle: the collector would only slow it down
            parsed = _spans(body)
            # The stdlib path refuses a body nested beyond the limit, and says where; here
            # the spans' lengths tell that a list body is not (two levels hold its objects).
            if not spans_within_limit(parsed.workspaces, outer=2):
                return None
            columns = in_place_or_fresh(lambda: _columns(parsed.workspaces, chunk.decode))
    except Exception:  # any mismatch: another type, malformed, too deep, … (never raised)
        return None
    return FastList(columns, parsed.total, body)


def _spans(body: bytes) -> Any:
    """The body as its workspace objects' spans and ``total``; another key at the top, which
    could nest anything, has the whole body measured first."""
    import msgspec

    known, any_keys, _ = _decoders()
    try:
        return in_place_or_fresh(lambda: known.decode(body))
    except msgspec.ValidationError:  # such a key (or a mismatch the next decode meets again)
        check_depth(body)
        return in_place_or_fresh(lambda: any_keys.decode(body))


def _loads(body: bytes) -> Any:
    """``json.loads`` with the GC paused, on a fresh stack if the caller's is too deep for it."""
    try:
        with gc_paused():
            return in_place_or_fresh(lambda: json.loads(body))
    except RecursionError:  # only where the interpreter's limit was set below MAX_DEPTH's needs
        raise InvalidResponseError("the server's answer is nested too deeply for the recursion "
                                   f"limit ({sys.getrecursionlimit()})") from None
