"""The one stylesheet of the widgets, keyed on the ``exls-*`` CSS classes, and the shared layouts.

Every colour is written here once. The HTML pieces of ``render`` carry classes only; a view
places ``stylesheet_widget()`` beside them (and its HTML fallback carries ``STYLESHEET``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle

from ..model.workspace import WorkspaceStatus
from ..render import (
    COLUMNS,
    NAME_ROOM_MAX,
    NAME_ROOM_STEP,
    ROW_TEMPLATE,
    row_template,
    stage_class,
)
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
    (".exls-confirm-text", f"min-width:0;{_ELLIPSIS}"),
)

# -- Layout (#17.3, #17.4): how the panel reflows with its own width, and the focus ring --------
# The panel's box is a CSS container: the rules below follow its width in the browser, with no
# kernel round trip. Wide (from WIDE_PX): every column, buttons with text; below, the buttons are
# icons (their text stays their accessible name). Below MEDIUM_PX: the columns of rank 2 only.
# Narrow (below NARROW_PX): name, status and access; the buttons on a line under the cells.
NARROW_PX = 600
MEDIUM_PX = 960
WIDE_PX = 1400
COMPACT_PX = 34  # an icon-only button
_BUTTON = ".exls-panel .exls-row > .jupyter-button"
_ACTIONS = ".exls-start,.exls-stop,.exls-delete"


def _hide(rank: int) -> str:
    """A selector of the panel's cells (and headings) whose column needs more than ``rank``."""
    return ",".join(f".exls-panel .exls-cell-{c.key}" for c in COLUMNS if c.rank > rank)


def _grid(rank: int) -> tuple[str, str]:
    return (".exls-panel .exls-cells,.exls-panel .exls-head",
            f"grid-template-columns:{row_template(rank)}")


def _widths(start: int, stop: int, delete: int) -> tuple[tuple[str, str], ...]:
    """The row's action buttons' widths and the heading's spacer above them."""
    margins = 4
    return (
        (f"{_BUTTON}.exls-start", f"width:{start}px"),
        (f"{_BUTTON}.exls-stop", f"width:{stop}px"),
        (f"{_BUTTON}.exls-delete", f"width:{delete}px"),
        (".exls-panel .exls-head-spacer", f"width:{stop + delete + 2 * margins}px"),
        (".exls-panel .exls-head-spacer.exls-with-start",
         f"width:{start + stop + delete + 3 * margins}px"),
    )


_COMPACT: tuple[tuple[str, str], ...] = (
    *_widths(COMPACT_PX, COMPACT_PX, COMPACT_PX),
    # The text stays in the button (its accessible name, with the title naming the workspace).
    (",".join(f"{_BUTTON}{a}" for a in _ACTIONS.split(",")), "font-size:0;padding:0"),
    (",".join(f"{_BUTTON}{a} i.fa" for a in _ACTIONS.split(",")), "font-size:13px;margin:0"),
)
LAYOUT_RULES: tuple[tuple[str, str], ...] = (
    (".exls-panel", "container-type:inline-size;container-name:exls-panel;min-width:0"),
    (".exls-panel .exls-cells,.exls-panel .exls-head", "width:100%;min-width:0"),
    (".exls-panel .exls-cells-widget,.exls-panel .exls-table-head",
     "flex:1 1 0%;min-width:0;margin:0 6px 0 0;overflow:hidden"),
    (".exls-panel .exls-cell-name", "min-width:0"),
    (f"{_BUTTON}", "flex:none;margin:0 2px"),
    (".exls-panel .exls-confirm-line .jupyter-button", "width:76px;flex:none;margin:0 2px"),
    (".exls-panel .exls-head-spacer", "flex:none"),
    # The header's controls wrap (their HBox); a filter never gets wider than the panel.
    (".exls-panel .exls-controls > .widget-dropdown", "max-width:100%"),
    (".exls-panel .exls-controls > .exls-summary", "min-width:0;max-width:100%"),
    *_widths(72, 72, 84),
    # The name column's room on this page (render.name_room): bold text, 2 ch to spare.
    *((f".exls-room-{n}", f"--exls-name:calc({n}ch + 2ch)")
      for n in range(NAME_ROOM_STEP, NAME_ROOM_MAX + 1, NAME_ROOM_STEP)),
    # A progress row's parts wrap onto a second line rather than run past the widget (#17.3).
    (".exls-progress-row > .widget-hbox", "flex-wrap:wrap;row-gap:2px"),
    (".exls-progress .exls-confirm-text", "min-width:0"),
    # A focus ring that shows (#17.4): 2 px in the theme's brand colour, keyboard focus only.
    (".exls-panel .jupyter-button:focus-visible:enabled,"
     ".exls-progress .jupyter-button:focus-visible:enabled,"
     ".exls-panel .widget-toggle-button:focus-visible",
     "outline:2px solid var(--jp-brand-color1, #1976d2);outline-offset:1px"),
)
# (container condition, rules): the later blocks win where they overlap.
CONTAINER_RULES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (f"exls-panel (max-width: {WIDE_PX - 0.02}px)", _COMPACT),
    (f"exls-panel (max-width: {MEDIUM_PX - 0.02}px)", (_grid(2), (_hide(2), "display:none"))),
    (f"exls-panel (max-width: {NARROW_PX - 0.02}px)", (
        _grid(1), (_hide(1), "display:none"),
        # The cells take the whole line; the buttons go under them, to the right.
        (".exls-panel .exls-cells-widget", "flex:1 0 100%;margin:0"),
        (f"{_BUTTON}:first-of-type", "margin-left:auto"),
        (".exls-panel .exls-head-spacer", "display:none"),
        (".exls-panel .exls-cell-name", "white-space:normal;overflow-wrap:anywhere"),
    )),
)


def _css(rules: tuple[tuple[str, str], ...]) -> str:
    return "".join(f"{sel}{{{body}}}" for sel, body in rules)


STYLESHEET = ("<style>" + _css(RULES) + _css(LAYOUT_RULES)
              + "".join(f"@container {cond}{{{_css(rules)}}}" for cond, rules in CONTAINER_RULES)
              + "</style>")


def stylesheet_widget() -> widgets.HTML:
    """A hidden HTML widget carrying ``STYLESHEET`` (a <style> applies wherever it sits)."""
    sheet = widgets.HTML(value=STYLESHEET, layout=widgets.Layout(display="none"))
    sheet.add_class("exls-stylesheet")
    return sheet


@dataclass
class RowStyle:
    """Layout and style objects shared by every row of a table (one model each, not per row)."""

    # Sizes and flex of the cells and buttons are the stylesheet's (LAYOUT_RULES): they follow
    # the panel's width there, which inline styles from a Layout would outrank.
    cells: widgets.Layout = field(default_factory=lambda: widgets.Layout(min_width="0"))
    html: HTMLStyle = field(default_factory=HTMLStyle)
    button: widgets.Layout = field(default_factory=widgets.Layout)
    # A button that keeps its room but is not shown (a finished question's Confirm and Cancel).
    hidden: widgets.Layout = field(default_factory=lambda: widgets.Layout(visibility="hidden"))
    delete: widgets.Layout = field(default_factory=widgets.Layout)
    button_style: widgets.ButtonStyle = field(default_factory=widgets.ButtonStyle)
    row: widgets.Layout = field(default_factory=lambda: widgets.Layout(
        align_items="center", flex_flow="row wrap", min_height="30px",
        border_bottom="1px solid #eee"))
    # The confirmation line keeps its height (a button's) whatever it shows (#7.15).
    confirm: widgets.Layout = field(default_factory=lambda: widgets.Layout(
        width="100%", justify_content="flex-end", align_items="center", padding="0 0 4px 0",
        min_height="32px"))

    def close(self) -> None:
        """Close the shared models."""
        for w in (self.cells, self.html, self.button, self.hidden, self.delete,
                  self.button_style, self.row, self.confirm):
            w.close()


__all__ = [
    "BUTTON_PX",
    "CONTAINER_RULES",
    "DELETE_BUTTON_PX",
    "ERROR_RED",
    "LAYOUT_RULES",
    "RULES",
    "STAGE_COLOURS",
    "STATUS_COLOURS",
    "STYLESHEET",
    "RowStyle",
    "stage_class",
    "stylesheet_widget",
]
