"""View-independent rendering of workspaces as HTML and plain text (every server string escaped)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from .durations import duration
from .errors import ExalsiusError
from .model.fields import WORKSPACE_FIELDS
from .model.workspace import Workspace, WorkspaceStatus, access_links

EMPTY = "—"


class Column(NamedTuple):
    """One column of the workspaces table: its key (CSS ``exls-cell-<key>``), heading and track.

    The panel's rows, its heading line and both fallbacks (HTML and text) all follow this table.
    ``rank`` says from which width on the panel shows the column (1: always, 2: from a medium
    width, 3: only when wide; the breakpoints are the stylesheet's).
    """

    key: str
    heading: str
    track: str  # the CSS grid track of the panel's rows
    rank: int = 1


# Every track may shrink to nothing (``minmax(0, ...)``): a row's cells never grow past their box,
# so they cannot slide under the buttons (#17.3); the name takes the largest share of the room.
COLUMNS: tuple[Column, ...] = (
    # The name's track is at least as wide as the page's longest name (``--exls-name``, set per
    # page by the ``exls-room-<n>`` class, ``name_room``), up to 40 % of the row: at wide widths
    # names are whole (#17.3).
    Column("name", "Name", "minmax(min(var(--exls-name, 0px), 40%), 4fr)"),
    Column("id", "ID", "minmax(0, 68px)", 3),
    Column("status", "Status", "minmax(0, 84px)"),
    Column("template", "Template", "minmax(0, 1fr)", 2),
    Column("cluster", "Cluster", "minmax(0, 0.8fr)", 3),
    Column("gpus", "GPUs", "minmax(0, 72px)", 2),
    Column("cpu_memory", "CPU / memory", "minmax(0, 104px)", 3),
    Column("age", "Age", "minmax(0, 76px)", 2),
    Column("expires", "Expires", "minmax(0, 72px)", 3),
    Column("access", "Access", "minmax(0, 1.3fr)"),
    # A field-table row with a heading is a column too: its value as text.
    *(Column(f.name, f.heading, "minmax(0, 1fr)", 3) for f in WORKSPACE_FIELDS if f.heading),
)


def row_template(rank: int = 3) -> str:
    """The grid template of the columns shown up to ``rank`` (3: every column)."""
    return " ".join(c.track for c in COLUMNS if c.rank <= rank)


ROW_TEMPLATE = row_template()
NAME_ROOM_STEP = 4  # characters: the rooms are steps of this (a class each in the stylesheet)
NAME_ROOM_MAX = 64  # characters: longer names are ellipsized whatever the width


def name_room(names: Iterable[str]) -> int:
    """The room, in characters, the longest of ``names`` needs, in steps (0: no name)."""
    longest = min(max((len(n) for n in names), default=0), NAME_ROOM_MAX)
    return -(-longest // NAME_ROOM_STEP) * NAME_ROOM_STEP


def _room_class(room: int) -> str:
    """The class that gives the name column ``room`` characters (``exls-room-<n>``)."""
    return f" exls-room-{int(room)}" if room > 0 else ""


def escape(value: Any) -> str:
    """HTML-escape any value for text or a quoted attribute (None becomes "")."""
    return "" if value is None else html.escape(str(value), quote=True)


def status_badge(status: WorkspaceStatus | str | None) -> str:
    """A badge for a workspace status (unknown values show as UNKNOWN; colours: the stylesheet)."""
    parsed = status if isinstance(status, WorkspaceStatus) else WorkspaceStatus.parse(status)
    return (f'<span class="exls-badge exls-badge-{parsed.value.lower()}">'
            f"{parsed.value}</span>")


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(timezone.utc)


def humanize_age(dt: datetime | None, now: datetime | None = None) -> str:
    """How long ago ``dt`` was, e.g. "3 min ago" ("—" when unknown)."""
    if dt is None:
        return EMPTY
    seconds = (_now(now) - dt).total_seconds()
    if seconds < 45:
        return "just now"
    return f"{duration(seconds)} ago"


def expires_in(dt: datetime | None, now: datetime | None = None) -> str:
    """How long until ``dt`` (``to_be_deleted_at``), e.g. "in 2 h"; "expired" once past."""
    if dt is None:
        return EMPTY
    seconds = (dt - _now(now)).total_seconds()
    if seconds <= 0:
        return "expired"
    return f"in {duration(seconds)}"


def short_id(workspace_id: str, length: int = 8) -> str:
    """The first characters of an id, as shown in a table cell."""
    return workspace_id[:length]


# Characters a well-formed URL never holds raw (RFC 3986): whitespace and controls, quotes,
# angle brackets, backslash and backtick. A link with one is shown as text, never as an <a>.
_NOT_IN_URLS = frozenset('"\'<>\\`{}|^') | {chr(c) for c in (*range(0x21), 0x7F)}


def is_web_url(link: str) -> bool:
    """Whether ``link`` is a well-formed http(s) URL that may become a clickable link.

    The one rule for the panel, the progress widget and ``%exalsius describe``.
    """
    if any(ch in _NOT_IN_URLS for ch in link):
        return False
    try:
        parts = urlsplit(link)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def access_link_html(link: str, opens_with: str | None = None) -> str:
    """A clickable link for an http(s) URL, else a copyable ``<code>`` (e.g. an ssh line).

    ``opens_with`` (e.g. "the notebookPassword set at creation") goes into a web link's tooltip.
    """
    if is_web_url(link):
        tip = f"{link} (opens with {opens_with})" if opens_with else link
        return (f'<a class="exls-access-link" href="{escape(link)}" target="_blank" '
                f'rel="noopener noreferrer" title="{escape(tip)}">{escape(link)}</a>')
    return (f'<code class="exls-access-code" '
            f'title="{escape(link)} (click to select, then copy)">{escape(link)}</code>')


def access_html(info: Any, opens_with: str | None = None, *, note: bool = False) -> str:
    """Every access link of ``access_information``, as HTML ("—" when there is none).

    ``opens_with`` is in each web link's tooltip and, with ``note``, written after the links.
    """
    links = access_links(info)
    if not links:
        return EMPTY
    out = " ".join(access_link_html(link, opens_with) for link in links)
    if note and opens_with and any(is_web_url(link) for link in links):
        out += f' <span class="exls-note">opens with {escape(opens_with)}</span>'
    return out


def opens_with_text(ws: Workspace) -> str:
    """" (opens with the notebookPassword set at creation)" for a web link that asks, else ""."""
    return f" (opens with {ws.opens_with})" if ws.opens_with and ws.access_url and is_web_url(
        ws.access_url) else ""


def access_text(info: Any) -> str:
    """Access links as plain text ("—" when there is none)."""
    links = access_links(info)
    return " ".join(links) if links else EMPTY


def endpoint_label(url: str) -> str:
    """An API URL as it may be shown: without user info, query or fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(invalid URL)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def cpu_memory(ws: Workspace) -> str:
    """CPU cores and memory, e.g. "8 CPU · 32 GB"."""
    res = ws.resources
    parts = []
    if res.cpu_cores is not None:
        parts.append(f"{res.cpu_cores} CPU")
    if res.memory_gb is not None:
        parts.append(f"{res.memory_gb} GB")
    return " · ".join(parts) or EMPTY


def cluster_text(cluster_id: str | None, clusters: Mapping[str, str] | None = None) -> str:
    """A cluster as the table names it: its name where the catalogue gave one, else a short id."""
    if not cluster_id:
        return EMPTY
    return (clusters or {}).get(cluster_id) or short_id(cluster_id)


def cells(ws: Workspace, now: datetime | None = None,
          clusters: Mapping[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """Each column's plain text and tooltip for one workspace (``clusters``: id to name)."""
    now = _now(now)
    links = ws.access_links
    return {
        "name": (ws.name or EMPTY, ws.description or ws.name),
        "id": (short_id(ws.id) or EMPTY, ws.id),
        "status": (ws.workspace_status.value, ws.workspace_status.value),
        "template": (ws.template.name or EMPTY, ws.template.name),
        "cluster": (cluster_text(ws.cluster_id, clusters), ws.cluster_id or ""),
        "gpus": (ws.resources.gpus, ws.resources.gpus),
        "cpu_memory": (cpu_memory(ws), cpu_memory(ws)),
        "age": (humanize_age(ws.created_at, now),
                ws.created_at.isoformat() if ws.created_at else ""),
        "expires": (expires_in(ws.to_be_deleted_at, now),
                    ws.to_be_deleted_at.isoformat() if ws.to_be_deleted_at else ""),
        "access": (" ".join(links) if links else EMPTY, " ".join(links)),
        **{f.name: _field_cell(ws.value(f.name)) for f in WORKSPACE_FIELDS if f.heading},
    }


def _field_cell(value: Any) -> tuple[str, str]:
    """The text and tooltip of a column that comes straight from the field table."""
    if value is None:
        return EMPTY, ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return text, text


def _cell_html(key: str, ws: Workspace, text: str) -> str:
    """One cell's inner HTML: a badge, links, or the escaped text."""
    if key == "status":
        return status_badge(ws.workspace_status)
    if key == "access":
        return access_html(ws.access_information, ws.opens_with)
    if key == "name":
        return f"<b>{escape(text)}</b>"
    return escape(text)


def workspace_row_html(ws: Workspace, now: datetime | None = None, note: str = "",
                       clusters: Mapping[str, str] | None = None, room: int = 0) -> str:
    """One workspace as a grid row of ``COLUMNS`` (the panel's read-only cells).

    ``note`` (e.g. "working…") is shown next to the status badge; ``clusters`` names clusters;
    ``room`` is the name column's room (``name_room`` of the page), the same in every row.
    """
    values = cells(ws, now, clusters)
    out = [f'<div class="exls-cells{_room_class(room)}" data-workspace-id="{escape(ws.id)}">']
    for key in (c.key for c in COLUMNS):
        text, tip = values[key]
        inner = _cell_html(key, ws, text)
        if key == "status" and note:
            inner += f' <span class="exls-note">{escape(note)}</span>'
        out.append(f'<span class="exls-cell exls-cell-{key}" title="{escape(tip)}">{inner}</span>')
    out.append("</div>")
    return "".join(out)


def header_row_html(room: int = 0) -> str:
    """The panel's column headings, aligned with ``workspace_row_html`` of the same ``room``."""
    heads = "".join(f'<span class="exls-cell exls-cell-{c.key}">{escape(c.heading)}</span>'
                    for c in COLUMNS)
    return f'<div class="exls-head{_room_class(room)}">{heads}</div>'


def workspaces_html(workspaces: Iterable[Workspace], now: datetime | None = None,
                    total: int | None = None, prelude: str = "",
                    clusters: Mapping[str, str] | None = None) -> str:
    """An HTML table of ``COLUMNS`` (the fallback where widgets do not render).

    ``prelude`` (e.g. a ``<style>`` block) goes first inside the table.
    """
    now = _now(now)
    head = "".join(f"<th>{escape(c.heading)}</th>" for c in COLUMNS)
    rows = []
    for ws in workspaces:
        values = cells(ws, now, clusters)
        tds = "".join(f'<td title="{escape(values[c.key][1])}">'
                      f"{_cell_html(c.key, ws, values[c.key][0])}</td>" for c in COLUMNS)
        rows.append(f"<tr>{tds}</tr>")
    count = len(rows)
    if not rows:
        rows.append(f'<tr><td colspan="{len(COLUMNS)}">no workspaces</td></tr>')
    caption = ""
    if total is not None and total != count:
        caption = f"<caption>{count} of {total} workspaces</caption>"
    return (f'<table class="exls-table">{prelude}{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def workspaces_text(workspaces: Iterable[Workspace], now: datetime | None = None,
                    total: int | None = None, clusters: Mapping[str, str] | None = None) -> str:
    """Workspaces as an aligned plain-text table of ``COLUMNS``."""
    now = _now(now)
    rows = [[c.heading for c in COLUMNS]]
    rows += [[values[c.key][0] for c in COLUMNS]
             for values in (cells(ws, now, clusters) for ws in workspaces)]
    if len(rows) == 1:
        return "no workspaces"
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    count = len(rows) - 1
    if total is not None and total != count:
        lines.append(f"({count} of {total} workspaces)")
    return "\n".join(lines)


def panel_html(base_url: str, workspaces: Iterable[Workspace], total: int | None,
               prelude: str = "", clusters: Mapping[str, str] | None = None) -> str:
    """The workspace panel where widgets do not render: its title, then ``workspaces_html``."""
    return (f"<div><b>exalsius workspaces</b> · <code>{escape(endpoint_label(base_url))}</code>"
            f"</div>" + workspaces_html(workspaces, total=total, prelude=prelude,
                                        clusters=clusters))


def panel_text(base_url: str, workspaces: Iterable[Workspace], total: int | None,
               is_sandbox: bool = False, clusters: Mapping[str, str] | None = None) -> str:
    """The workspace panel as plain text: one head line, then ``workspaces_text``."""
    shown = list(workspaces)
    sandbox = " (sandbox)" if is_sandbox else ""
    count = "not listed yet" if total is None else f"{total} workspace{'s' if total != 1 else ''}"
    head = f"WorkspacePanel {endpoint_label(base_url)}{sandbox}: {count}"
    return head + ("\n" + workspaces_text(shown, total=total, clusters=clusters) if shown else "")


def stage_class(stage: str) -> str:
    """The CSS class that colours a stage's text, e.g. ``exls-stage-timed-out``."""
    return "exls-stage-" + stage.lower().replace(" ", "-")


class ProgressLine(NamedTuple):
    """One workspace of the progress widget's fallback: name, stage, elapsed, access HTML."""

    name: str
    stage: str
    elapsed: str
    access_html: str


def progress_html(lines: Iterable[ProgressLine], prelude: str = "") -> str:
    """The creation progress where widgets do not render: one table row per workspace."""
    rows = "".join(f"<tr><td><b>{escape(line.name)}</b></td>"
                   f'<td class="{stage_class(line.stage)}">{escape(line.stage)}</td>'
                   f"<td>{escape(line.elapsed)}</td><td>{line.access_html}</td></tr>"
                   for line in lines)
    return (f'<table class="exls-progress-table">{prelude}<thead><tr><th>Workspace</th>'
            f"<th>Stage</th><th>Elapsed</th><th>Access</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def error_html(message: str) -> str:
    """A one-line error in red (``message`` is escaped)."""
    return f'<div class="exls-error-text" title="{escape(message)}">⚠ {escape(message)}</div>'


def error_line(exc: BaseException, action: str = "") -> str:
    """One readable line for an error: the problem's title and detail when the server sent one."""
    title = getattr(exc, "title", None)
    detail = getattr(exc, "detail", None)
    status = getattr(exc, "status", None)
    if title or detail:
        head = f"HTTP {status} " if status else ""
        text = head + ": ".join(str(p) for p in (title, detail) if p)
    elif isinstance(exc, ExalsiusError):
        text = str(exc) or type(exc).__name__
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return f"{action}: {text}" if action else text


__all__ = [
    "COLUMNS",
    "EMPTY",
    "NAME_ROOM_MAX",
    "NAME_ROOM_STEP",
    "ROW_TEMPLATE",
    "Column",
    "ProgressLine",
    "access_html",
    "access_link_html",
    "access_text",
    "cells",
    "cluster_text",
    "cpu_memory",
    "duration",
    "endpoint_label",
    "error_html",
    "error_line",
    "escape",
    "expires_in",
    "header_row_html",
    "humanize_age",
    "is_web_url",
    "name_room",
    "opens_with_text",
    "panel_html",
    "panel_text",
    "progress_html",
    "row_template",
    "short_id",
    "stage_class",
    "status_badge",
    "workspace_row_html",
    "workspaces_html",
    "workspaces_text",
]
