"""Workspace models parsed tolerantly from the 1.5.1 contract and today's live API."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any, overload

from ..errors import InvalidResponseError

if TYPE_CHECKING:
    import pandas as pd


class WorkspaceStatus(str, Enum):
    """The API's workspace statuses, plus UNKNOWN for anything newer."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    DELETED = "DELETED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, value: Any) -> WorkspaceStatus:
        """Map a server value to a status; unknown values become UNKNOWN."""
        if isinstance(value, str):
            try:
                return cls(value.upper())
            except ValueError:
                pass
        return cls.UNKNOWN

    @property
    def is_final(self) -> bool:
        """True for statuses a workspace will not leave by itself."""
        return self in (WorkspaceStatus.RUNNING, WorkspaceStatus.STOPPED,
                        WorkspaceStatus.DELETED, WorkspaceStatus.FAILED)

    def __str__(self) -> str:
        return self.value


STATUS_VALUES: tuple[str, ...] = tuple(s.value for s in WorkspaceStatus)


@dataclass(frozen=True)
class WorkspaceTemplate:
    """The template a workspace was made from (name, variables, description)."""

    name: str
    variables: dict[str, str] = field(default_factory=dict)
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
            variables={str(k): str(v) for k, v in variables.items()}
            if isinstance(variables, Mapping) else {},
            description=opt_str(data.get("description")),
            extra=_extra(data, ("name", "variables", "description")),
        )


_RESOURCE_INTS = ("gpu_count", "cpu_cores", "memory_gb", "storage_gb", "gpu_memory")


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
        ints = {k: opt_int(data.get(k)) for k in _RESOURCE_INTS}
        return cls(
            gpu_vendor=opt_str(data.get("gpu_vendor")),
            gpu_type=opt_str(data.get("gpu_type")),
            extra=_extra(data, (*_RESOURCE_INTS, "gpu_vendor", "gpu_type")),
            **ints,
        )

    @property
    def gpus(self) -> str:
        """GPUs as a person reads them, e.g. ``2 × A100``."""
        if not self.gpu_count:
            return "none"
        return f"{self.gpu_count} × {self.gpu_type}" if self.gpu_type else str(self.gpu_count)


_WORKSPACE_KEYS = ("id", "name", "cluster_id", "workspace_status", "template", "resources",
                   "owner", "description", "access_information", "created_at",
                   "to_be_deleted_at")


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
            extra=_extra(data, _WORKSPACE_KEYS),
        )

    @property
    def access_links(self) -> list[str]:
        """Every way to reach this workspace: URLs or ssh command lines."""
        return access_links(self.access_information)

    @property
    def access_url(self) -> str | None:
        """The first link to open or paste, or None before it is RUNNING."""
        links = self.access_links
        return links[0] if links else None


class WorkspaceList(Sequence[Workspace]):
    """Workspaces from one list call: parsed lazily, with ``.total`` and ``.to_dataframe()``."""

    __slots__ = ("_parsed", "_raw", "total")

    def __init__(self, raw: list[dict[str, Any]], total: int | None = None) -> None:
        self._raw = raw
        self._parsed: dict[int, Workspace] = {}
        self.total = len(raw) if total is None else total

    @property
    def raw(self) -> list[dict[str, Any]]:
        """The JSON objects exactly as the server sent them."""
        return self._raw

    def __len__(self) -> int:
        return len(self._raw)

    @overload
    def __getitem__(self, index: int) -> Workspace: ...
    @overload
    def __getitem__(self, index: slice) -> list[Workspace]: ...

    def __getitem__(self, index: int | slice) -> Workspace | list[Workspace]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._raw)))]
        if index < 0:
            index += len(self._raw)
        if not 0 <= index < len(self._raw):
            raise IndexError("workspace index out of range")
        ws = self._parsed.get(index)
        if ws is None:
            ws = self._parsed[index] = Workspace.from_api(self._raw[index])
        return ws

    def __iter__(self) -> Iterator[Workspace]:
        return (self[i] for i in range(len(self._raw)))

    def __repr__(self) -> str:
        return f"<WorkspaceList {len(self)} of {self.total} workspaces>"

    def to_dataframe(self) -> pd.DataFrame:
        """The workspaces as a pandas DataFrame (columns and dtypes in ``frames``)."""
        from .frames import workspaces_frame

        return workspaces_frame(self._raw, total=self.total)


def access_links(info: Any) -> list[str]:
    """Turn ``access_information`` (a string or 1.46's list of objects) into links."""
    if info is None:
        return []
    if isinstance(info, (str, Mapping)):
        info = [info]
    elif not isinstance(info, list):
        info = [str(info)]
    links: list[str] = []
    for item in info:
        if isinstance(item, str):
            links.append(item.strip())
        elif isinstance(item, Mapping):
            links.extend(_access_object_links(item))
    return [link for link in links if link]


def _access_object_links(item: Mapping[str, Any]) -> list[str]:
    """Links for one 1.46 access object (protocol, port, external IPs)."""
    protocol = str(item.get("access_protocol") or "TCP").upper()
    port = item.get("port_number")
    port = "" if port is None else str(port).strip()
    ips = item.get("external_ips") or []
    if not isinstance(ips, list):
        ips = [ips]
    out = []
    for ip in ips:
        host = "" if ip is None else str(ip).strip()
        if not host:
            continue
        if protocol in ("HTTP", "HTTPS"):
            out.append(f"{protocol.lower()}://{host}" + (f":{port}" if port else ""))
        elif protocol == "SSH":
            out.append(f"ssh -p {port} {host}" if port else f"ssh {host}")
        else:
            out.append(f"{host}:{port}" if port else host)
    return out


def primary_access(info: Any) -> str | None:
    """The single most useful access string for a table cell, or None."""
    links = access_links(info)
    return links[0] if links else None


# RFC 3339, plus the reduced ISO 8601 forms pandas also reads (so model and frame agree):
# no seconds, an hour-only offset, an empty fraction, a bare date.
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2})(?::(\d{2})(?:\.(\d*))?)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$")


def parse_datetime(value: Any) -> datetime | None:
    """Parse an RFC 3339 timestamp into an aware UTC datetime; junk becomes None."""
    if not isinstance(value, str):
        return None
    match = _RFC3339.match(value.strip())
    if match is None:
        return None
    day, clock, seconds, fraction, offset = match.groups()
    micro = (fraction or "")[:6].ljust(6, "0")
    zone = "+00:00"
    if offset and offset not in "Zz":
        zone = offset[:3] + ":" + (offset[-2:] if len(offset) > 3 else "00")
    text = f"{day}T{clock or '00:00'}:{seconds or '00'}.{micro}{zone}"
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except (ValueError, OverflowError):  # no such date, or its UTC time is beyond year 1..9999
        return None


def opt_int(value: Any) -> int | None:
    """An int from the server, or None for missing or non-integer values."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def opt_str(value: Any) -> str | None:
    """Text as pandas' string dtype shows it: None and NaN are missing, anything else str()."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


def _extra(data: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in known}
