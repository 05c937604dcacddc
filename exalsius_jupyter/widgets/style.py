"""The one stylesheet of the widgets, keyed on the ``exls-*`` CSS classes, and the shared layouts.

Every colour is written here once. The HTML pieces of ``render`` carry classes only; a view
places ``stylesheet_widget()`` beside them (and its HTML fallback carries ``STYLESHEET``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle

from ..model.workspace import WorkspaceStatus
from ..render import ROW_TEMPLATE, stage_class
from ..watch import Stage

ERROR_RED = "#b00020"
SUCCESS_GREEN = "#155724"
WARNING_AMBER = "#8a5a00"
LINK_BLUE = "#0b5394"
MUTED_GREY = "#555"
BUTTON_PX = 72
DELETE_BUTTON_PX = 88

# (background, foreground) of each status badge.
STATUS_COLOURS: dict[WorkspaceStatus, tuple[str, str]] = {
    WorkspaceStatus.PENDING: ("#fff3cd", "#7a5b00"),
    WorkspaceStatus.RUNNING: ("#d4edda", SUCCESS_GREEN),
    WorkspaceStatus.STOPPED: ("#e2e3e5", "#383d41"),
    WorkspaceStatus.FAILED: ("#f8d7da", "#721c24"),
    WorkspaceStatus.DELETED: ("#5a6268", "#ffffff"),
    WorkspaceStatus.UNKNOWN: ("#e8dff5", "#4b2a7b"),
}
# The text colour of a progress stage that has ended (and of the status line's tones).
STAGE_COLOURS: dict[Stage, str] = {
    Stage.RUNNING: SUCCESS_GREEN,
    Stage.FAILED: ERROR_RED,
    Stage.STOPPED: ERROR_RED,
    Stage.DELETED: ERROR_RED,
    Stage.TIMED_OUT: WARNING_AMBER,
    Stage.CANCELLED: MUTED_GREY,
}


_ELLIPSIS = "overflow:hidden;text-overflow:ellipsis;white-space:nowrap"
RULES: tuple[tuple[str, str], ...] = (
    (".exls-cells,.exls-head", f"display:grid;grid-template-columns:{ROW_TEMPLATE};"
     "column-gap:6px;align-items:center;font-size:13px;line-height:1.6;width:100%"),
    (".exls-head", f"font-weight:600;color:{MUTED_GREY};border-bottom:1px solid #ccc"),
    (".exls-cell", f"min-width:0;{_ELLIPSIS}"),
    (".exls-badge", "border-radius:4px;padding:1px 6px;font-size:11px;font-weight:600;"
     "letter-spacing:0.3px"),
    *((f".exls-badge-{s.value.lower()}", f"background:{bg};color:{fg}")
      for s, (bg, fg) in STATUS_COLOURS.items()),
    (".exls-note", "color:#666;font-style:italic"),
    (".exls-access-link", f"color:{LINK_BLUE};text-decoration:underline"),
    (".exls-access-code", "user-select:all;cursor:copy"),
    (".exls-error-text", f"color:{ERROR_RED};{_ELLIPSIS}"),
    (".exls-sandbox", f"background:#e7f1ff;color:{LINK_BLUE};border-radius:4px;padding:1px 6px;"
     "font-size:11px"),
    (".exls-summary-text", "margin-left:8px"),
    (".exls-tone-ok", f"color:{SUCCESS_GREEN}"),
    (".exls-tone-error", f"color:{ERROR_RED}"),
    (".exls-tone-warning", f"color:{WARNING_AMBER}"),
    (".exls-detail-text", "font-size:12px;margin-left:4px"),
    *((f".{stage_class(s)}", f"color:{c}") for s, c in STAGE_COLOURS.items()),
    (".exls-table th,.exls-table td,.exls-progress-table th,.exls-progress-table td",
     "text-align:left;padding-right:12px"),
    # A long name without break points stays in its column (#7.20): the cell may shrink and
    # clips; the name itself ends in an ellipsis, or breaks anywhere where it may wrap.
    (".exls-progress-name", "min-width:0;overflow:hidden"),
    (".exls-progress-name b", f"display:block;{_ELLIPSIS};overflow-wrap:anywhere"),
    # ipywidgets' content box is a flex item: min-width:0 lets it shrink to the cell (#17.3).
    (".exls-progress-name>.widget-html-content,.exls-progress-name>.jupyter-widget-html-content",
     f"min-width:0;{_ELLIPSIS}"),
    (".exls-confirm-text", f"min-width:0;{_ELLIPSIS}"),
)
STYLESHEET = "<style>" + "".join(f"{sel}{{{body}}}" for sel, body in RULES) + "</style>"


def stylesheet_widget() -> widgets.HTML:
    """A hidden HTML widget carrying ``STYLESHEET`` (a <style> applies wherever it sits)."""
    sheet = widgets.HTML(value=STYLESHEET, layout=widgets.Layout(display="none"))
    sheet.add_class("exls-stylesheet")
    return sheet


@dataclass
class RowStyle:
    """Layout and style objects shared by every row of a table (one model each, not per row)."""

    cells: widgets.Layout = field(default_factory=lambda: widgets.Layout(
        flex="1 1 0%", min_width="0", margin="0 6px 0 0"))
    html: HTMLStyle = field(default_factory=HTMLStyle)
    button: widgets.Layout = field(default_factory=lambda: widgets.Layout(
        width=f"{BUTTON_PX}px", margin="0 2px"))
    # A button that keeps its room but is not shown (a finished question's Confirm and Cancel).
    hidden: widgets.Layout = field(default_factory=lambda: widgets.Layout(
        width=f"{BUTTON_PX}px", margin="0 2px", visibility="hidden"))
    delete: widgets.Layout = field(default_factory=lambda: widgets.Layout(
        width=f"{DELETE_BUTTON_PX}px", margin="0 2px"))
    button_style: widgets.ButtonStyle = field(default_factory=widgets.ButtonStyle)
    row: widgets.Layout = field(default_factory=lambda: widgets.Layout(
        align_items="center", flex_flow="row wrap", min_height="30px",
        border_bottom="1px solid #eee"))
    # The confirmation line keeps its height (a button's) whatever it shows (#7.15).
    confirm: widgets.Layout = field(default_factory=lambda: widgets.Layout(
        width="100%", justify_content="flex-end", align_items="center", padding="0 0 4px 0",
        min_height="32px"))

    def actions_width(self, with_start: bool) -> str:
        """The width of a row's buttons, for the heading's spacer."""
        buttons = 2 if with_start else 1
        return f"{buttons * (BUTTON_PX + 4) + DELETE_BUTTON_PX + 4}px"

    def close(self) -> None:
        """Close the shared models."""
        for w in (self.cells, self.html, self.button, self.hidden, self.delete,
                  self.button_style, self.row, self.confirm):
            w.close()


__all__ = [
    "BUTTON_PX",
    "DELETE_BUTTON_PX",
    "ERROR_RED",
    "RULES",
    "STAGE_COLOURS",
    "STATUS_COLOURS",
    "STYLESHEET",
    "RowStyle",
    "stage_class",
    "stylesheet_widget",
]
