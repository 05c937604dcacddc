"""Pager: Prev, "page 2 of 5", Next under the workspaces table."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets

from .base import Guard, classed, set_traits


class Pager:
    """The table's page controls; ``on_turn`` gets -1 or +1.

    Args:
        guard: wraps the buttons' callbacks so no exception escapes them.
        on_turn: called with the step when Prev (-1) or Next (+1) is pressed.
    """

    def __init__(self, *, guard: Guard, on_turn: Callable[[int], None]) -> None:
        self.prev_button = classed(widgets.Button(description="Prev", icon="chevron-left",
                                                  layout=widgets.Layout(width="80px")),
                                   "exls-prev")
        self.next_button = classed(widgets.Button(description="Next", icon="chevron-right",
                                                  layout=widgets.Layout(width="80px")),
                                   "exls-next")
        self.page_label = classed(widgets.Label(value="page 1 of 1"), "exls-page")
        self.widget = classed(widgets.HBox([self.prev_button, self.page_label, self.next_button],
                                           layout=widgets.Layout(align_items="center")),
                              "exls-pager")
        self.prev_button.on_click(guard(lambda _b: on_turn(-1)))
        self.next_button.on_click(guard(lambda _b: on_turn(+1)))

    def show(self, page: int, pages: int) -> None:
        """Show page ``page`` (from 0) of ``pages``; a button at an end is disabled."""
        self.page_label.value = f"page {page + 1} of {pages}"
        set_traits(self.prev_button, disabled=page == 0)
        set_traits(self.next_button, disabled=page >= pages - 1)


__all__ = ["Pager"]
