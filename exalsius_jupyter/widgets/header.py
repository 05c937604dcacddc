"""The WorkspacePanel's header: endpoint, Refresh, auto-refresh toggle, filters and the summary."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import ipywidgets as widgets

from ..model.workspace import WorkspaceStatus
from ..render import endpoint_label, error_line, escape
from .base import classed

ALL = ""  # the filters' "no filter" value

_SANDBOX_TAG = ' <span class="exls-sandbox">sandbox</span>'


def cluster_options(clusters: Iterable[str],
                    names: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """The cluster filter's choices: all clusters, then each cluster seen, by name where known."""
    names = names or {}
    labels = sorted((f"{names[c]} ({c[:8]})" if c in names else c, c) for c in clusters)
    return [("All clusters", ALL), *labels]


def lost_html(base_url: str, error: BaseException, listed_at: datetime | None) -> str:
    """The one line of a panel that lost its server (#17.5b): where, why, and what it shows."""
    text = error_line(error)
    reason = text[text.rfind("(") + 1:-1] if text.endswith(")") and "(" in text else text
    shown = (f"showing the last list from {listed_at.astimezone():%H:%M:%S}"
             if listed_at is not None else "no list yet")
    return (f'<span class="exls-tone-error exls-lost">Lost the server at {escape(base_url)}: '
            f"{escape(reason)}; {shown}</span>")


def summary_html(total: int | None, status: str, shown: int, refreshed_at: datetime | None,
                 paused: bool, auto_every: float | None, lost: str = "") -> str:
    """The summary line: total, filtered count, last refresh and the auto-refresh state.

    ``lost`` (``lost_html``) replaces the time of the last refresh while the server is gone.
    """
    parts = []
    if total is not None:
        parts.append(f"<b>{total}</b> workspace{'s' if total != 1 else ''}")
        if status:
            parts.append(f"{shown} {escape(status)}")
    if lost:
        parts.append(lost)
    elif refreshed_at is not None:
        parts.append(f"refreshed {refreshed_at.astimezone():%H:%M:%S}")
    if paused:
        parts.append('<span class="exls-tone-error">auto-refresh paused after an error'
                     " (Refresh resumes it)</span>")
    elif auto_every is not None:
        parts.append(f"auto-refresh every {auto_every:g} s")
    return '<span class="exls-summary-text">' + " · ".join(parts) + "</span>"


def title_html(base_url: str, is_sandbox: bool) -> str:
    """The panel's title: the endpoint, and a badge when it is the embedded sandbox."""
    endpoint = escape(endpoint_label(base_url))
    sandbox = _SANDBOX_TAG if is_sandbox else ""
    return f"<b>exalsius workspaces</b> · <code>{endpoint}</code>{sandbox}"


class PanelHeader:
    """The header widgets; the panel wires their callbacks."""

    def __init__(self, base_url: str, is_sandbox: bool, cluster: str, clusters: Iterable[str],
                 auto_refresh: bool) -> None:
        self._base_url = base_url
        self.title = classed(widgets.HTML(value=title_html(base_url, is_sandbox)),
                             "exls-endpoint")
        self.refresh_button = classed(widgets.Button(
            description="Refresh", icon="refresh", tooltip="List the workspaces again",
            layout=widgets.Layout(width="96px")), "exls-refresh")
        self.auto_toggle = classed(widgets.ToggleButton(
            value=auto_refresh, description="Auto-refresh", icon="clock-o",
            tooltip="Refresh by itself; slows down while nothing changes",
            layout=widgets.Layout(width="130px")), "exls-auto")
        self.cluster_filter = classed(widgets.Dropdown(
            options=cluster_options(clusters), value=cluster, description="Cluster",
            layout=widgets.Layout(width="330px"),
            style={"description_width": "50px"}), "exls-filter-cluster")
        self.status_filter = classed(widgets.Dropdown(
            options=[("All", ALL), *[(s.value, s.value) for s in WorkspaceStatus]],
            value=ALL, description="Status", layout=widgets.Layout(width="190px"),
            style={"description_width": "45px"}), "exls-filter-status")
        self.summary = classed(widgets.HTML(value=""), "exls-summary")
        self.controls = classed(widgets.HBox(
            [self.refresh_button, self.auto_toggle, self.cluster_filter, self.status_filter,
             self.summary], layout=widgets.Layout(align_items="center", flex_flow="row wrap")),
            "exls-controls")

    def show_sandbox(self, is_sandbox: bool) -> None:
        """Show (or drop) the "sandbox" badge: the server identified itself as the sandbox."""
        self.title.value = title_html(self._base_url, is_sandbox)

    def set_clusters(self, clusters: Iterable[str],
                     names: Mapping[str, str] | None = None) -> None:
        """Offer these cluster ids (by name where ``names`` has one), keeping the one selected."""
        value = self.cluster_filter.value
        self.cluster_filter.options = cluster_options(clusters, names)
        self.cluster_filter.value = value

    def show_summary(self, html: str) -> None:
        """Show the summary line (traitlets sends nothing when it is unchanged)."""
        self.summary.value = html


__all__ = ["ALL", "PanelHeader", "cluster_options", "lost_html", "summary_html", "title_html"]
