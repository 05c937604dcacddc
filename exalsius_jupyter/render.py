"""View-independent rendering of workspaces as HTML and plain text (every server string escaped)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import ExalsiusError
from .model.workspace import Workspace, WorkspaceStatus, access_links

EMPTY = "—"

# (background, foreground) of each status badge.
STATUS_COLOURS: dict[WorkspaceStatus, tuple[str, str]] = {
    WorkspaceStatus.PENDING: ("#fff3cd", "#7a5b00"),
    WorkspaceStatus.RUNNING: ("#d4edda", "#155724"),
    WorkspaceStatus.STOPPED: ("#e2e3e5", "#383d41"),
    WorkspaceStatus.FAILED: ("#f8d7da", "#721c24"),
    WorkspaceStatus.DELETED: ("#5a6268", "#ffffff"),
    WorkspaceStatus.UNKNOWN: ("#e8dff5", "#4b2a7b"),
}

# The panel's row cells: (key, heading, CSS grid track). Name, template and access share what
# room there is; the rest are fixed, so rows and the heading line up at any width.
ROW_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("name", "Name", "minmax(80px, 1.4fr)"),
    ("id", "ID", "68px"),
    ("status", "Status", "88px"),
    ("template", "Template", "minmax(70px, 1fr)"),
    ("gpus", "GPUs", "84px"),
    ("cpu_memory", "CPU / memory", "112px"),
    ("age", "Age", "86px"),
    ("expires", "Expires", "78px"),
    ("access", "Access", "minmax(110px, 1.8fr)"),
)
ROW_TEMPLATE = " ".join(track for _, _, track in ROW_COLUMNS)
_GRID = (f"display:grid;grid-template-columns:{ROW_TEMPLATE};column-gap:6px;"
         "align-items:center;font-size:13px;line-height:1.6;width:100%")
_CELL = "overflow:hidden;text-overflow:ellipsis;white-space:nowrap"


def escape(value: Any) -> str:
    """HTML-escape any value for text or a quoted attribute (None becomes "")."""
    return "" if value is None else html.escape(str(value), quote=True)


def status_badge(status: WorkspaceStatus | str | None) -> str:
    """A coloured badge for a workspace status (unknown values show as UNKNOWN)."""
    parsed = status if isinstance(status, WorkspaceStatus) else WorkspaceStatus.parse(status)
    bg, fg = STATUS_COLOURS[parsed]
    return (f'<span class="exls-badge exls-badge-{parsed.value.lower()}" '
            f'style="background:{bg};color:{fg};border-radius:4px;padding:1px 6px;'
            f'font-size:11px;font-weight:600;letter-spacing:0.3px">{parsed.value}</span>')


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(timezone.utc)


def _span(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    days = seconds // 86400
    return f"{days} day" if days == 1 else f"{days} days"


def humanize_age(dt: datetime | None, now: datetime | None = None) -> str:
    """How long ago ``dt`` was, e.g. "3 min ago" ("—" when unknown)."""
    if dt is None:
        return EMPTY
    seconds = (_now(now) - dt).total_seconds()
    if seconds < 45:
        return "just now"
    return f"{_span(seconds)} ago"


def expires_in(dt: datetime | None, now: datetime | None = None) -> str:
    """How long until ``dt`` (``to_be_deleted_at``), e.g. "in 2 h"; "expired" once past."""
    if dt is None:
        return EMPTY
    seconds = (dt - _now(now)).total_seconds()
    if seconds <= 0:
        return "expired"
    return f"in {_span(seconds)}"


def short_id(workspace_id: str, length: int = 8) -> str:
    """The first characters of an id, as shown in a table cell."""
    return workspace_id[:length]


def is_web_url(link: str) -> bool:
    """Whether ``link`` is an http(s) URL that may become a clickable link."""
    try:
        parts = urlsplit(link)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in link


def access_link_html(link: str) -> str:
    """A clickable link for an http(s) URL, else a copyable ``<code>`` (e.g. an ssh line)."""
    if is_web_url(link):
        return (f'<a class="exls-access-link" href="{escape(link)}" target="_blank" '
                f'style="color:#0b5394;text-decoration:underline" '
                f'rel="noopener noreferrer" title="{escape(link)}">{escape(link)}</a>')
    return (f'<code class="exls-access-code" style="user-select:all;cursor:copy" '
            f'title="{escape(link)} (click to select, then copy)">{escape(link)}</code>')


def access_html(info: Any) -> str:
    """Every access link of ``access_information``, as HTML ("—" when there is none)."""
    links = access_links(info)
    return " ".join(access_link_html(link) for link in links) if links else EMPTY


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


def _cells(ws: Workspace, now: datetime) -> dict[str, tuple[str, str]]:
    """Each cell as (text, tooltip)."""
    links = ws.access_links
    return {
        "name": (ws.name or EMPTY, ws.description or ws.name),
        "id": (short_id(ws.id) or EMPTY, ws.id),
        "status": (ws.workspace_status.value, ws.workspace_status.value),
        "template": (ws.template.name or EMPTY, ws.template.name),
        "gpus": (ws.resources.gpus, ws.resources.gpus),
        "cpu_memory": (cpu_memory(ws), cpu_memory(ws)),
        "age": (humanize_age(ws.created_at, now),
                ws.created_at.isoformat() if ws.created_at else ""),
        "expires": (expires_in(ws.to_be_deleted_at, now),
                    ws.to_be_deleted_at.isoformat() if ws.to_be_deleted_at else ""),
        "access": (" ".join(links) if links else EMPTY, " ".join(links)),
    }


def workspace_row_html(ws: Workspace, now: datetime | None = None, note: str = "") -> str:
    """One workspace as a fixed-width grid row (the panel's read-only cells).

    ``note`` (e.g. "working…") is shown next to the status badge.
    """
    cells = _cells(ws, _now(now))
    out = [f'<div class="exls-cells" data-workspace-id="{escape(ws.id)}" style="{_GRID}">']
    for key, _, _ in ROW_COLUMNS:
        text, tip = cells[key]
        if key == "status":
            inner = status_badge(ws.workspace_status)
            if note:
                inner += f' <span class="exls-note" style="color:#666;font-style:italic">' \
                         f'{escape(note)}</span>'
        elif key == "access":
            inner = access_html(ws.access_information)
        elif key == "name":
            inner = f"<b>{escape(text)}</b>"
        else:
            inner = escape(text)
        out.append(f'<span class="exls-cell exls-cell-{key}" style="{_CELL}" '
                   f'title="{escape(tip)}">{inner}</span>')
    out.append("</div>")
    return "".join(out)


def header_row_html() -> str:
    """The panel's column headings, aligned with ``workspace_row_html``."""
    heads = "".join(f'<span style="{_CELL}">{escape(title)}</span>'
                    for _, title, _ in ROW_COLUMNS)
    return (f'<div class="exls-head" style="{_GRID};font-weight:600;color:#555;'
            f'border-bottom:1px solid #ccc">{heads}</div>')


def workspace_html(ws: Workspace, now: datetime | None = None) -> str:
    """One workspace as a small HTML definition table."""
    now = _now(now)
    rows = [
        ("Name", f"<b>{escape(ws.name)}</b>"),
        ("ID", f"<code>{escape(ws.id)}</code>"),
        ("Status", status_badge(ws.workspace_status)),
        ("Cluster", f"<code>{escape(ws.cluster_id)}</code>"),
        ("Template", escape(ws.template.name or EMPTY)),
        ("Variables", escape(", ".join(f"{k}={v}" for k, v in ws.template.variables.items())
                             or EMPTY)),
        ("GPUs", escape(ws.resources.gpus)),
        ("CPU / memory", escape(cpu_memory(ws))),
        ("Storage", escape(f"{ws.resources.storage_gb} GB"
                           if ws.resources.storage_gb is not None else EMPTY)),
        ("Age", escape(humanize_age(ws.created_at, now))),
        ("Expires", escape(expires_in(ws.to_be_deleted_at, now))),
        ("Access", access_html(ws.access_information)),
    ]
    if ws.description:
        rows.insert(1, ("Description", escape(ws.description)))
    body = "".join(f'<tr><th style="text-align:left;padding-right:12px">{k}</th>'
                   f'<td style="text-align:left">{v}</td></tr>' for k, v in rows)
    return f'<table class="exls-workspace">{body}</table>'


def workspace_text(ws: Workspace, now: datetime | None = None) -> str:
    """One workspace as plain text lines."""
    now = _now(now)
    lines = [
        f"{ws.name} ({ws.id})",
        f"  status:   {ws.workspace_status.value}",
        f"  cluster:  {ws.cluster_id}",
        f"  template: {ws.template.name or EMPTY}",
        f"  GPUs:     {ws.resources.gpus}",
        f"  CPU/mem:  {cpu_memory(ws)}",
        f"  age:      {humanize_age(ws.created_at, now)}",
        f"  expires:  {expires_in(ws.to_be_deleted_at, now)}",
        f"  access:   {access_text(ws.access_information)}",
    ]
    return "\n".join(lines)


_TABLE_COLUMNS = (("name", "Name"), ("id", "ID"), ("status", "Status"),
                  ("template", "Template"), ("gpus", "GPUs"), ("cpu_memory", "CPU / memory"),
                  ("age", "Age"), ("expires", "Expires"), ("access", "Access"))


def workspaces_html(workspaces: Iterable[Workspace], now: datetime | None = None,
                    total: int | None = None) -> str:
    """A plain HTML table of workspaces (the fallback where widgets do not render)."""
    now = _now(now)
    head = "".join(f'<th style="text-align:left">{title}</th>' for _, title in _TABLE_COLUMNS)
    rows = []
    count = 0
    for ws in workspaces:
        count += 1
        cells = _cells(ws, now)
        tds = []
        for key, _ in _TABLE_COLUMNS:
            text, tip = cells[key]
            if key == "status":
                inner = status_badge(ws.workspace_status)
            elif key == "access":
                inner = access_html(ws.access_information)
            else:
                inner = escape(text)
            tds.append(f'<td style="text-align:left" title="{escape(tip)}">{inner}</td>')
        rows.append(f"<tr>{''.join(tds)}</tr>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(_TABLE_COLUMNS)}">no workspaces</td></tr>')
    caption = ""
    if total is not None and total != count:
        caption = f"<caption>{count} of {total} workspaces</caption>"
    return (f'<table class="exls-table">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def workspaces_text(workspaces: Iterable[Workspace], now: datetime | None = None,
                    total: int | None = None) -> str:
    """Workspaces as an aligned plain-text table."""
    now = _now(now)
    rows = [[title for _, title in _TABLE_COLUMNS]]
    for ws in workspaces:
        cells = _cells(ws, now)
        rows.append([cells[key][0] for key, _ in _TABLE_COLUMNS])
    if len(rows) == 1:
        return "no workspaces"
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    count = len(rows) - 1
    if total is not None and total != count:
        lines.append(f"({count} of {total} workspaces)")
    return "\n".join(lines)


def error_html(message: str) -> str:
    """A one-line error in red (``message`` is escaped)."""
    return (f'<div class="exls-error-text" style="color:#b00020;white-space:nowrap;'
            f'overflow:hidden;text-overflow:ellipsis" title="{escape(message)}">'
            f"⚠ {escape(message)}</div>")


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
    "EMPTY",
    "ROW_COLUMNS",
    "ROW_TEMPLATE",
    "STATUS_COLOURS",
    "access_html",
    "access_link_html",
    "access_text",
    "cpu_memory",
    "endpoint_label",
    "error_html",
    "error_line",
    "escape",
    "expires_in",
    "header_row_html",
    "humanize_age",
    "is_web_url",
    "short_id",
    "status_badge",
    "workspace_html",
    "workspace_row_html",
    "workspace_text",
    "workspaces_html",
    "workspaces_text",
]
