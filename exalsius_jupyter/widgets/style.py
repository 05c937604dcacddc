"""The one stylesheet of the widgets, keyed on the ``exls-*`` CSS classes, and the shared layouts.

Every colour is written here once, as a JupyterLab theme variable (``var(--jp-…, fallback)``, so
light and dark themes both read well, and front ends without the variables get the fallback) or
a ``color-mix()`` of them. The HTML pieces of ``render`` carry classes only; a view places
``stylesheet_widget()`` beside them (and its HTML fallback carries ``STYLESHEET``).
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


def theme(name: str, fallback: str) -> str:
    """A JupyterLab theme variable, with the colour to use where the front end has none."""
    return f"var(--jp-{name},{fallback})"


def mix(colour: str, percent: int, other: str) -> str:
    """``percent`` of ``colour`` mixed into ``other`` (CSS color-mix in sRGB)."""
    return f"color-mix(in srgb,{colour} {percent}%,{other})"


# The theme's strongest and normal text colours (black or white, by the theme).
TEXT_STRONG = theme("ui-font-color0", "#000")
TEXT = theme("ui-font-color1", "rgba(0,0,0,.87)")


def tone(colour: str) -> str:
    """Text in a theme colour, pulled 40 % towards the text colour: readable in any theme.

    JupyterLab's error, success and warning colours are made for icons and bars; as small text
    they fall under 4.5:1 in one theme or the other (orange on white, dark red on #111).
    """
    return mix(colour, 60, TEXT_STRONG)


def tint(colour: str, percent: int = 18) -> str:
    """A see-through background of ``colour``: the page's own background shows through."""
    return mix(colour, percent, "transparent")


# The theme's colours of each kind (the fallbacks: JupyterLab Light's).
_ERROR = theme("error-color1", "#d32f2f")
_SUCCESS = theme("success-color1", "#388e3c")
_WARNING = theme("warn-color1", "#f57c00")
_INFO = theme("info-color1", "#0097a7")
_BRAND = theme("brand-color1", "#1976d2")
ERROR_RED = tone(_ERROR)
SUCCESS_GREEN = tone(_SUCCESS)
WARNING_AMBER = tone(_WARNING)
INFO_CYAN = tone(_INFO)
LINK_BLUE = theme("content-link-color", "#0d47a1")
LINK_HOVER = theme("content-link-hover-color", LINK_BLUE)
# Secondary text (headings, notes): between the theme's normal and its secondary text colour.
MUTED_GREY = mix(TEXT, 35, theme("ui-font-color2", "rgba(0,0,0,.54)"))
HEAD_LINE = theme("border-color1", "#bdbdbd")
ROW_LINE = theme("border-color2", "#e0e0e0")
BUTTON_PX = 72
DELETE_BUTTON_PX = 88

# (background, foreground) of each status badge: a tint of the status's colour, its text in the
# same colour made readable (tone).
STATUS_COLOURS: dict[WorkspaceStatus, tuple[str, str]] = {
    WorkspaceStatus.PENDING: (tint(_WARNING), WARNING_AMBER),
    WorkspaceStatus.RUNNING: (tint(_SUCCESS), SUCCESS_GREEN),
    WorkspaceStatus.STOPPED: (tint(TEXT, 10), TEXT),
    WorkspaceStatus.FAILED: (tint(_ERROR), ERROR_RED),
    WorkspaceStatus.DELETED: (tint(TEXT, 30), TEXT_STRONG),
    WorkspaceStatus.UNKNOWN: (tint(_INFO), INFO_CYAN),
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
    (".exls-head", f"font-weight:600;color:{MUTED_GREY};border-bottom:1px solid {HEAD_LINE}"),
    (".exls-cell", f"min-width:0;{_ELLIPSIS}"),
    (".exls-badge", "border-radius:4px;padding:1px 6px;font-size:11px;font-weight:600;"
     "letter-spacing:0.3px"),
    *((f".exls-badge-{s.value.lower()}", f"background:{bg};color:{fg}")
      for s, (bg, fg) in STATUS_COLOURS.items()),
    (".exls-note", f"color:{MUTED_GREY};font-style:italic"),
    # Links: JupyterLab's and Notebook 7's ".jp-ThemedContainer a:hover" (color and
    # text-decoration: unset) and ".jp-RenderedHTMLCommon a:link" are (0,2,1); these are (0,3,1).
    (":root a.exls-access-link:any-link", f"color:{LINK_BLUE};text-decoration:underline"),
    (":root a.exls-access-link:any-link:hover", f"color:{LINK_HOVER};text-decoration:underline;"
     "text-decoration-thickness:2px"),
    (".exls-access-code", "user-select:all;cursor:copy"),
    (".exls-error-text", f"color:{ERROR_RED};{_ELLIPSIS}"),
    (".exls-sandbox", f"background:{tint(_BRAND, 15)};color:{LINK_BLUE};border-radius:4px;"
     "padding:1px 6px;font-size:11px"),
    # The sign-in code keeps its widget's large size: Lab's ".jp-ThemedContainer code" (0,1,1)
    # sets the code font's 13 px.
    (":root code.exls-login-code", "font-size:inherit;line-height:inherit"),
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
        border_bottom=f"1px solid {ROW_LINE}"))
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
