"""Workspace models parsed tolerantly from the 1.5.1 contract and today's live API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, overload

from ..errors import InvalidResponseError
from .fields import (
    FIELDS_BY_NAME,
    RESOURCE_FIELDS,
    STATUS_VALUES,
    TOP_LEVEL_KEYS,
    WorkspaceStatus,
    access_links,
    coerce,
    opt_int,
    opt_str,
    parse_datetime,
    primary_access,
)

__all__ = [
    "STATUS_VALUES",
    "ResourcePool",
    "Workspace",
    "WorkspaceList",
    "WorkspaceStatus",
    "WorkspaceTemplate",
    "access_links",
    "opt_int",
    "opt_str",
    "parse_datetime",
    "primary_access",
]

if TYPE_CHECKING:
    import pandas as pd

    from .msgspec_path import FastList




@dataclass(frozen=True)
class WorkspaceTemplate:
    """The template a workspace was made from (name, variables, description)."""

    name: str
    variables: dict[str, Any] = field(default_factory=dict, repr=False)  # may hold secrets
    description: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, data: Any) -> WorkspaceTemplate:
        """Parse the API's template object (a bare name string is tolerated)."""
        if isinstance(data, str):
            return cls(name=data)
        if not isinstance(data, Mapping):
            return cls(name="")
        variables = data.get("variables")
        return cls(
            name=opt_str(data.get("name")) or "",
            variables={str(k): v for k, v in variables.items()}  # any JSON value, as sent
            if isinstance(variables, Mapping) else {},
            description=opt_str(data.get("description")),
            extra=_extra(data, ("name", "variables", "description")),
        )


@dataclass(frozen=True)
class ResourcePool:
    """Resources requested for or allocated to a workspace."""

    gpu_count: int | None = None
    gpu_vendor: str | None = None
    gpu_type: str | None = None
    cpu_cores: int | None = None
    memory_gb: int | None = None
    storage_gb: int | None = None
    gpu_memory: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, data: Any) -> ResourcePool:
        """Parse the API's resources object; missing fields stay None."""
        if not isinstance(data, Mapping):
            return cls()
        # Table fields without an attribute of their own are read with Workspace.value().
        values = {f.name: coerce(f, data.get(f.key)) for f in RESOURCE_FIELDS
                  if f.name in _RESOURCE_ATTRS}
        return cls(extra=_extra(data, tuple(f.key for f in RESOURCE_FIELDS)), **values)

    @property
    def gpus(self) -> str:
        """GPUs as a person reads them, e.g. ``2 × A100``."""
        if not self.gpu_count:
            return "none"
        return f"{self.gpu_count} × {self.gpu_type}" if self.gpu_type else str(self.gpu_count)


_RESOURCE_ATTRS = frozenset(f.name for f in fields(ResourcePool)) - {"extra"}


@dataclass(frozen=True)
class Workspace:
    """One workspace as the API describes it; unknown fields are kept in ``extra``."""

    id: str
    name: str
    cluster_id: str
    workspace_status: WorkspaceStatus
    template: WorkspaceTemplate
    resources: ResourcePool
    owner: str | None = None
    description: str | None = None
    access_information: Any = None
    created_at: datetime | None = None
    to_be_deleted_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> Workspace:
        """Parse a workspace object, bare (1.5.1) or wrapped as ``{"workspace": …}`` (1.46)."""
        if isinstance(data, Mapping) and isinstance(data.get("workspace"), Mapping):
            data = data["workspace"]
        if not isinstance(data, Mapping):
            raise InvalidResponseError(
                f"expected a workspace object, got {type(data).__name__}")
        wid, name = opt_str(data.get("id")) or "", opt_str(data.get("name")) or ""
        if not wid and not name:
            raise InvalidResponseError("a workspace object has neither 'id' nor 'name'")
        return cls(
            id=wid,
            name=name,
            cluster_id=opt_str(data.get("cluster_id")) or "",
            workspace_status=WorkspaceStatus.parse(data.get("workspace_status")),
            template=WorkspaceTemplate.from_api(data.get("template")),
            resources=ResourcePool.from_api(data.get("resources")),
            owner=opt_str(data.get("owner")),
            description=opt_str(data.get("description")),
            access_information=data.get("access_information"),
            created_at=parse_datetime(data.get("created_at")),
            to_be_deleted_at=parse_datetime(data.get("to_be_deleted_at")),
            extra=_extra(data, TOP_LEVEL_KEYS),
            raw=data,
        )

    def value(self, name: str) -> Any:
        """Any field of the field table by name, coerced as the frame reads it."""
        try:
            spec = FIELDS_BY_NAME[name]
        except KeyError:
            raise KeyError(f"no workspace field {name!r}") from None
        return coerce(spec, spec.read(self.raw))

    @property
    def access_links(self) -> list[str]:
        """Every way to reach this workspace: URLs or ssh command lines."""
        return access_links(self.access_information)

    @property
    def access_url(self) -> str | None:
        """The first link to open or paste, or None before it is RUNNING."""
        links = self.access_links
        return links[0] if links else None

    @property
    def opens_with(self) -> str | None:
        """What the web link asks for, e.g. "the notebookPassword set at creation" (or None)."""
        from .variables import opening_secret

        secret = opening_secret(self.template.name, self.template.variables)
        return f"the {secret} set at creation" if secret else None


class WorkspaceList(Sequence[Workspace]):
    """Workspaces from one list call: parsed lazily, with ``.total`` and ``.to_dataframe()``."""

    __slots__ = ("_fast", "_len", "_parsed", "_raw", "total")

    def __init__(self, raw: list[dict[str, Any]], total: int | None = None) -> None:
        self._raw: list[dict[str, Any]] | None = raw
        self._fast: FastList | None = None
        self._len = len(raw)
        self._parsed: dict[int, Workspace] = {}
        self.total = len(raw) if total is None else total

    @classmethod
    def from_fast(cls, fast: FastList, total: int | None = None) -> WorkspaceList:
        """A list the msgspec fast path decoded: its JSON objects are decoded on first use."""
        self = cls([], total=len(fast) if total is None else total)
        self._raw, self._fast, self._len = None, fast, len(fast)
        return self

    @property
    def raw(self) -> list[dict[str, Any]]:
        """The JSON objects exactly as the server sent them."""
        if self._raw is None:
            assert self._fast is not None
            self._raw = self._fast.raw()
        return self._raw

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> Workspace: ...
    @overload
    def __getitem__(self, index: slice) -> list[Workspace]: ...

    def __getitem__(self, index: int | slice) -> Workspace | list[Workspace]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("workspace index out of range")
        ws = self._parsed.get(index)
        if ws is None:
            ws = self._parsed[index] = Workspace.from_api(self.raw[index])
        return ws

    def __iter__(self) -> Iterator[Workspace]:
        return (self[i] for i in range(self._len))

    def __repr__(self) -> str:
        return f"<WorkspaceList {len(self)} of {self.total} workspaces>"

    def to_dataframe(self) -> pd.DataFrame:
        """The workspaces as a DataFrame: ``frames.COLUMNS`` order (ids last), ``frames`` dtypes."""
        from .frames import columns_frame, workspaces_frame
        from .gcpause import gc_paused

        with gc_paused():  # a column's many new objects would wake the collector
            if self._fast is not None:  # the columns msgspec decoded: no dicts needed
                return columns_frame(self._fast.columns(), self.total)
            return workspaces_frame(self.raw, total=self.total)


def _extra(data: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in known}
