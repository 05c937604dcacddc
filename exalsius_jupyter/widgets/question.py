"""Question: the one inline confirmation ("Delete ws-1?" Confirm / Cancel) every row kind uses."""

from __future__ import annotations

import threading
from collections.abc import Callable

import ipywidgets as widgets

from .base import Guard, classed, set_traits


class Question:
    """An inline question armed for one action on one key, its widgets built at the first ask.

    Confirm calls ``on_confirm(action, key)`` with what was armed (a view checks the key is
    still its own: rows are reused); Cancel calls ``on_cancel()`` once the question is closed.
    Either way it disarms first, so a second click on a stale button sends nothing.

    Args:
        button_layout: the layout of both buttons (shared with the view's other buttons).
        guard: wraps the button callbacks so no exception escapes them.
        on_confirm: called with the armed action and key when Confirm is pressed.
        on_cancel: called when Cancel is pressed.
        confirm_label: the Confirm button's text.
        cancel_label: the Cancel button's text (e.g. "Keep" where Cancel is the action).
    """

    def __init__(self, button_layout: widgets.Layout, *, guard: Guard,
                 on_confirm: Callable[[str, str], None], on_cancel: Callable[[], None],
                 confirm_label: str = "Confirm", cancel_label: str = "Cancel") -> None:
        self._layout = button_layout
        self._guard = guard
        self._on_confirm = on_confirm
        self._on_cancel = on_cancel
        self._labels = (confirm_label, cancel_label)
        self._lock = threading.RLock()
        self._widgets: tuple[widgets.Label, widgets.Button, widgets.Button] | None = None
        self.action: str | None = None
        self.key: str | None = None
        self.last_action: str | None = None  # the action of the last question asked
        self.asking = False

    def _built(self) -> tuple[widgets.Label, widgets.Button, widgets.Button]:
        with self._lock:
            if self._widgets is None:
                label = classed(widgets.Label(value=""), "exls-confirm-text")
                yes = classed(widgets.Button(description=self._labels[0], button_style="danger",
                                             layout=self._layout), "exls-confirm")
                no = classed(widgets.Button(description=self._labels[1], layout=self._layout),
                             "exls-cancel")
                yes.on_click(self._guard(lambda _b: self._confirmed()))
                no.on_click(self._guard(lambda _b: self._cancelled()))
                self._widgets = (label, yes, no)
            return self._widgets

    @property
    def label(self) -> widgets.Label:
        """The question's (or the outcome's) text."""
        return self._built()[0]

    @property
    def yes(self) -> widgets.Button:
        """The Confirm button."""
        return self._built()[1]

    @property
    def no(self) -> widgets.Button:
        """The Cancel (or Keep) button."""
        return self._built()[2]

    @property
    def children(self) -> tuple[widgets.Widget, ...]:
        """The question's widgets, in order: text, Confirm, Cancel."""
        return self._built()

    @property
    def text(self) -> str:
        """The question shown ("" when none is open)."""
        return self.label.value if self.asking else ""

    def ask(self, question: str, action: str, key: str, *, danger: bool = True) -> None:
        """Open the question for ``action`` on ``key`` (e.g. a workspace id), buttons enabled."""
        with self._lock:
            label, yes, no = self._built()
            label.value = question
            set_traits(yes, button_style="danger" if danger else "warning", disabled=False,
                       layout=self._layout)
            set_traits(no, disabled=False, layout=self._layout)
            self.action, self.key, self.asking = action, key, True
            self.last_action = action

    def disarm(self) -> bool:
        """Close the question without acting; True if one was open."""
        with self._lock:
            was = self.asking
            self.action = self.key = None
            self.asking = False
            return was

    def say(self, text: str, *, buttons: widgets.Layout | None = None,
            enabled: bool = False) -> None:
        """Show ``text`` in the question's place (an action under way or done), disarmed."""
        with self._lock:
            self.disarm()
            label, yes, no = self._built()
            label.value = text
            for button in (yes, no):
                set_traits(button, disabled=not enabled, layout=buttons or self._layout)

    def _confirmed(self) -> None:
        with self._lock:
            action, key = self.action, self.key
            self.disarm()
        if action is not None and key is not None:
            self._on_confirm(action, key)

    def _cancelled(self) -> None:
        self.disarm()
        self._on_cancel()

    def cancel(self) -> bool:
        """Cancel an open question as the Cancel button does (Escape); False if none was open."""
        with self._lock:
            if not self.asking:
                return False
        self._cancelled()
        return True

    def close(self) -> None:
        """Close the question's widgets, if they were built."""
        with self._lock:
            for w in self._widgets or ():
                w.close()


class AsksQuestion:
    """What a row with a ``Question`` shows of it: Confirm, whether it is open, its text."""

    _question: Question

    @property
    def confirm_button(self) -> widgets.Button:
        """The Confirm button of the inline question."""
        return self._question.yes

    @property
    def asking(self) -> bool:
        """Whether the inline question is open."""
        return self._question.asking

    @property
    def question(self) -> str:
        """The confirmation question currently shown ("" when none)."""
        return self._question.text


__all__ = ["AsksQuestion", "Question"]
