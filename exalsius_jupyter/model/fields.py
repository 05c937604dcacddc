"""ONE table of the workspace fields, and the coercions that read server values tolerantly.

A new API field is one row here: the model (``Workspace.value``), the frame's columns and dtypes,
the create-body validation, (with a ``heading``) the panel's columns and (with an ``Ask``) the
option of ``%exalsius create`` and the creation form's input follow from the table.
The fields already shown have composite columns of their own in ``render.COLUMNS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from operator import attrgetter, itemgetter
from typing import Any


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


class ClusterStatus(str, Enum):
    """A cluster's ``cluster_status``; statuses this client does not know are UNKNOWN."""

    PENDING = "PENDING"
    DEPLOYING = "DEPLOYING"
    READY = "READY"
    DELETING = "DELETING"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, value: Any) -> ClusterStatus:
        """The status for a JSON value (case-insensitive; anything else is UNKNOWN)."""
        if isinstance(value, str):
            try:
                return cls(value.strip().upper())
            except ValueError:
                pass
        return cls.UNKNOWN


class Kind(Enum):
    """How a field's value is read, typed in a frame and checked in a create body."""

    TEXT = "text"
    UUID = "uuid"
    INT = "int"
    TIME = "time"
    STATUS = "status"
    TEMPLATE = "template"
    ACCESS = "access"


# The widget kinds a row's ``Ask`` declares; the form maps each to an input, ``create`` each to
# an option's parser (``Ask.parse``).
INPUT_KINDS = ("int", "text", "choice")


@dataclass(frozen=True)
class Ask:
    """How ``%exalsius create`` and the creation form ask for a writable field.

    Args:
        flag: the create option (``--gpus``); its ``dest`` is the field's name.
        help: the option's help (a choice's values are added to it).
        metavar: the option's value placeholder.
        widget: the input's kind: "int" (a whole number, the field's kind INT), "text" or
            "choice" (one of ``choices``); the form draws it, the option parses it.
        label: the form input's label ("": no form input, the magic only).
        default: the form input's first value (the magic sends nothing unless given).
        low: the smallest whole number the option and the form take.
        high: the largest whole number the form's input takes (larger ones from the magic are
            the server's to refuse).
        step: the form's step for a whole number.
        placeholder: a text input's hint, a choice's entry for "not given" (default "any").
        choices: the values a "choice" takes.
    """

    flag: str
    help: str
    metavar: str = "N"
    widget: str = "text"
    label: str = ""
    default: Any = None
    low: int = 0
    high: int = 1_000_000
    step: int = 1
    placeholder: str = ""
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.widget not in INPUT_KINDS:
            raise ValueError(f"{self.flag}: widget {self.widget!r} is not one of "
                             f"{', '.join(INPUT_KINDS)}")
        if (self.widget == "choice") != bool(self.choices):
            raise ValueError(f"{self.flag}: a choice, and only a choice, has choices")
        if self.widget == "int" and not self.low <= (self.default or self.low) <= self.high:
            raise ValueError(f"{self.flag}: default {self.default} is not in "
                             f"{self.low}..{self.high}")
        if self.widget == "choice" and self.default not in (None, *self.choices):
            raise ValueError(f"{self.flag}: default {self.default!r} is not a choice")

    @property
    def option_help(self) -> str:
        """The option's help, naming a choice's values."""
        if self.widget == "choice":
            return f"{self.help} (one of {', '.join(self.choices)})"
        return self.help

    def parse(self, text: str) -> Any:
        """An option's text as the field's value; ValueError says what was expected."""
        if self.widget == "int":
            try:
                value = int(text)
            except ValueError:
                raise ValueError(f"expected a whole number, got {text!r}") from None
            if value < self.low:
                raise ValueError(f"expected a number >= {self.low}, got {text!r}")
            return value
        if self.widget == "choice" and text not in self.choices:
            raise ValueError(f"expected one of {', '.join(self.choices)}, got {text!r}")
        return text


@dataclass(frozen=True)
class Field:
    """One workspace field: where it lives in the API object and how it is used."""

    name: str
    kind: Kind = Kind.TEXT
    parent: str | None = None  # "resources" for fields nested in the resources object
    column: bool = True  # a column of the workspaces frame
    writable: bool = False  # accepted in a create body
    required: bool = False  # required in a create body
    heading: str = ""  # a column of the panel and its fallbacks, under this heading
    ask: Ask | None = None  # an option of `create` (and an input of the form) for this field

    def __post_init__(self) -> None:
        if self.ask is None:
            return
        if not self.writable:
            raise ValueError(f"{self.name}: only a writable field is asked for")
        if (self.ask.widget == "int") != (self.kind is Kind.INT) or self.kind not in (
                Kind.INT, Kind.TEXT):
            raise ValueError(f"{self.name}: a field of kind {self.kind.value} cannot be asked "
                             f"for with a {self.ask.widget!r} input")

    @property
    def key(self) -> str:
        """The key inside its parent object (or the workspace object)."""
        return self.name

    def read(self, data: Mapping[str, Any]) -> Any:
        """The raw value of this field in a workspace object (None when absent)."""
        if self.parent is not None:
            data = data.get(self.parent)  # type: ignore[assignment]
            if not isinstance(data, Mapping):
                return None
        return data.get(self.key)


WORKSPACE_FIELDS: tuple[Field, ...] = (
    Field("id"),
    Field("name", writable=True, required=True),
    Field("cluster_id", Kind.UUID, writable=True, required=True),
    Field("workspace_status", Kind.STATUS),
    Field("template", Kind.TEMPLATE, writable=True, required=True),
    Field("gpu_count", Kind.INT, "resources", writable=True,
          ask=Ask("--gpus", "GPU count", widget="int", label="GPUs", default=1, high=64)),
    Field("gpu_type", Kind.TEXT, "resources", writable=True,
          ask=Ask("--gpu-type", "e.g. A100", "T", label="GPU type", placeholder="any")),
    Field("gpu_vendor", Kind.TEXT, "resources", writable=True,
          ask=Ask("--gpu-vendor", "e.g. NVIDIA", "V")),
    Field("cpu_cores", Kind.INT, "resources", writable=True,
          ask=Ask("--cpus", "CPU cores", widget="int", label="CPUs", default=4, high=1024)),
    Field("memory_gb", Kind.INT, "resources", writable=True,
          ask=Ask("--memory", "memory in GB", "GB", widget="int", label="Memory (GB)",
                  default=16, high=65536)),
    Field("storage_gb", Kind.INT, "resources", writable=True,
          ask=Ask("--storage", "storage in GB", "GB", widget="int", label="Storage (GB)",
                  default=50)),
    Field("gpu_memory", Kind.INT, "resources", column=False, writable=True),
    Field("created_at", Kind.TIME),
    Field("to_be_deleted_at", Kind.TIME, writable=True),  # API 1.46 takes it in a create
    Field("access_information", Kind.ACCESS),
    Field("owner", writable=True),
    Field("description", writable=True, ask=Ask("--description", "a description", "TEXT")),
)
FIELDS_BY_NAME = {f.name: f for f in WORKSPACE_FIELDS}
COLUMN_FIELDS = tuple(f for f in WORKSPACE_FIELDS if f.column)
# Keys of the workspace object the model reads (everything else is kept in ``extra``).
TOP_LEVEL_KEYS = tuple(dict.fromkeys(f.parent or f.name for f in WORKSPACE_FIELDS))
RESOURCE_FIELDS = tuple(f for f in WORKSPACE_FIELDS if f.parent == "resources")
# The fields `create` asks for by option, and those the form has an input for, in table order.
ASKED_FIELDS = tuple(f for f in WORKSPACE_FIELDS if f.ask is not None)
FORM_FIELDS = tuple(f for f in ASKED_FIELDS if f.ask is not None and f.ask.label)
RESOURCE_INT_FIELDS = tuple(f.name for f in RESOURCE_FIELDS if f.kind is Kind.INT)
RESOURCE_STR_FIELDS = tuple(f.name for f in RESOURCE_FIELDS if f.kind is Kind.TEXT)


# -- coercions: what a server value means ----------------------------------------------------


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
    hosts = [host for ip in ips if (host := "" if ip is None else str(ip).strip())]
    n = len(hosts)
    return _links([protocol] * n, [port] * n, hosts, [item.get("access_description")] * n)


_WEB = frozenset({"HTTP", "HTTPS"})


def _links(protocols: list[str], ports: list[str], hosts: list[str],
           descriptions: list[Any]) -> list[str]:
    """The link of each access object's host: its protocol (upper case), port (text), host
    and description (an ssh link's user), a column at a time."""
    users = [_ssh_user(d) if p == "SSH" else None
             for p, d in zip(protocols, descriptions, strict=True)]
    return [(f"{p.lower()}://{h}:{o}" if o else f"{p.lower()}://{h}") if p in _WEB
            else (f"ssh -p {o} {u}@{h}" if o else f"ssh {u}@{h}") if p == "SSH" and u
            else (f"ssh -p {o} {h}" if o else f"ssh {h}") if p == "SSH"
            else (f"{h}:{o}" if o else h)
            for p, o, h, u in zip(protocols, ports, hosts, users, strict=True)]


# The keys of a 1.46 access object that its links are made of (``_access_object_links``).
ACCESS_KEYS = ("access_protocol", "port_number", "external_ips", "access_description")


def primary_access_column(values: Sequence[Any], plain: type[Any] = dict,
                          as_mapping: Callable[[Any], Any] | None = None) -> list[str | None]:
    """``primary_access`` of every value, the usual 1.46 shape without the per-row walk.

    A list whose first object (of type ``plain``: a dict, or the fast path's Struct with a
    ``get``) has a clean first external IP gives its first link straight away (the same
    ``_links``); any other value goes through ``primary_access``, after ``as_mapping``. A
    column of only such values and None is linked a column at a time (``_first_links``).
    """
    usual = _first_links(values, plain)
    if usual is not None:
        return usual
    out: list[str | None] = []
    append = out.append
    for value in values:
        if type(value) is str:  # 1.5.1: the link itself
            append(value.strip() or None)
            continue
        if value is None:
            append(None)
            continue
        if type(value) is list and value and type(item := value[0]) is plain:
            ips = item.get("external_ips")
            if type(ips) is list and ips and type(host := ips[0]) is str and host \
                    and not host[0].isspace() and not host[-1].isspace():
                port = item.get("port_number")
                append(_links([str(item.get("access_protocol") or "TCP").upper()],
                              ["" if port is None else str(port).strip()], [host],
                              [item.get("access_description")])[0])
                continue
        append(primary_access(value if as_mapping is None else as_mapping(value)))
    return out


_LIST = frozenset({list})
_STR_ONLY = frozenset({str})
_STR_OR_NONE = frozenset({str, type(None)})
_PORT_TYPES = frozenset({int, str, type(None)})
_INT_ONLY = frozenset({int})


def _first_links(values: Sequence[Any], plain: type[Any]) -> list[str | None] | None:
    """The usual 1.46 column column-wise, or None where the per-row rule has to decide.

    Usual: every value is None or a list whose first object (a ``plain``) has all of
    ``ACCESS_KEYS``, text or None in each (a port may be a number), and a clean first external
    IP. Protocols and ports are read once per distinct value: their exact types keep True, 1
    and 1.0 apart, which a dict key would take as one.
    """
    lists = [v for v in values if v is not None]
    if not lists or set(map(type, lists)) != _LIST:
        return None
    read = itemgetter(*ACCESS_KEYS) if plain is dict else attrgetter(*ACCESS_KEYS)
    try:
        items = list(map(itemgetter(0), lists))
        if set(map(type, items)) != {plain}:
            return None
        protocols, ports, ips, descriptions = zip(*map(read, items), strict=True)
        if set(map(type, ips)) != _LIST:
            return None
        hosts = list(map(itemgetter(0), ips))
    except (IndexError, KeyError, AttributeError):  # an empty list, a key missing: per row
        return None
    if not (set(map(type, hosts)) == _STR_ONLY and _STR_OR_NONE.issuperset(map(type, protocols))
            and _PORT_TYPES.issuperset(map(type, ports))
            and _STR_OR_NONE.issuperset(map(type, descriptions))):
        return None
    if "" in hosts or any(h[0].isspace() or h[-1].isspace() for h in set(hosts)):
        return None
    upper = {p: str(p or "TCP").upper() for p in set(protocols)}
    if set(map(type, ports)) == _INT_ONLY:
        port_texts = list(map(str, ports))
    else:
        text = {p: "" if p is None else str(p).strip() for p in set(ports)}
        port_texts = list(map(text.__getitem__, ports))
    firsts = iter(_links(list(map(upper.__getitem__, protocols)), port_texts, hosts,
                         list(descriptions)))
    return [None if v is None else next(firsts) for v in values]


_SSH_USER = re.compile(r"\bssh\b[^@\n]*?\s([a-z_][a-z0-9_.-]{0,31})@", re.IGNORECASE)


def _ssh_user(text: Any) -> str | None:
    """The user an ssh access object names in its description (``ssh -p 22 dev@host``)."""
    match = _SSH_USER.search(text) if isinstance(text, str) else None
    return match.group(1) if match else None


def primary_access(info: Any) -> str | None:
    """The single most useful access string for a table cell, or None."""
    links = access_links(info)
    return links[0] if links else None


def template_name(value: Any) -> Any:
    """A template object's raw name; a bare string is the name; anything else has none."""
    if isinstance(value, Mapping):
        return value.get("name")
    return value if isinstance(value, str) else None


def coerce(field: Field, value: Any) -> Any:
    """A raw server value as the model holds it (statuses are parsed by the model itself)."""
    if field.kind is Kind.INT:
        return opt_int(value)
    if field.kind is Kind.TIME:
        return parse_datetime(value)
    if field.kind is Kind.ACCESS:
        return value
    if field.kind is Kind.TEMPLATE:
        return opt_str(template_name(value))
    return opt_str(value)
