"""SignInWidget: the device-code sign-in (RFC 8628) as a widget, polled by a daemon thread.

It shows the approval link (which carries the user code only), the user code in large type, a
countdown to the code's expiry and a Cancel button; the cell that displays it returns at once.
No token and no device code ever reaches a widget's state.
"""

from __future__ import annotations

import contextlib
import html
import math
import threading
from collections.abc import Callable
from datetime import timezone
from typing import TYPE_CHECKING

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle

from ..auth.device import LINK_WARNING, DeviceCode, DeviceLogin
from ..auth.settings import AuthSettings
from ..auth.sign_in import outcome
from ..auth.tokens import Tokens
from ..durations import duration
from ..errors import AuthenticationError, ExalsiusError, SignInCancelledError
from ..poller import Poller
from ..watch import Stage
from .base import Displayable, classed, stop_at_exit, walk
from .style import STYLESHEET, stage_class, stylesheet_widget

if TYPE_CHECKING:
    from ..auth.renewal import RenewingTokens

JOIN_TIMEOUT = 5.0
STATES = ("new", "waiting", "signed in", "denied", "expired", "cancelled", "failed",
          "signed out")
# The stylesheet's classes that colour each outcome (style.py writes every colour once).
TONES = {"signed in": "exls-tone-ok", "denied": "exls-tone-error",
         "expired": "exls-tone-warning", "cancelled": stage_class(Stage.CANCELLED),
         "failed": "exls-tone-error", "signed out": stage_class(Stage.CANCELLED)}
CODE_SIZE = "2em"


def countdown_text(seconds: float) -> str:
    """The time left on a code, e.g. "expires in 9 min 05 s"; "expired" at 0."""
    left = math.ceil(seconds)
    return f"expires in {duration(left, parts=2)}" if left > 0 else "expired"


def link_html(url: str) -> str:
    """The approval link, escaped, opening in a new tab without a referrer."""
    safe = html.escape(url, quote=True)
    return (f'<a class="exls-access-link exls-login-link" href="{safe}" target="_blank" '
            f'rel="noopener noreferrer">{safe}</a>')


def page_html(code: DeviceCode) -> str:
    """The approval page: a link when it is https (or http on loopback), else text and a warning."""
    url = code.verification_uri_complete
    if code.link_is_safe:
        return link_html(url)
    return (f'<span class="exls-login-page">{html.escape(url)}</span> '
            f'<span class="exls-tone-warning">⚠ {html.escape(LINK_WARNING)}</span>')


def page_text(code: DeviceCode) -> str:
    """The approval page as text, with the warning when it is not a safe link."""
    url = code.verification_uri_complete
    return url if code.link_is_safe else f"{url} (⚠ {LINK_WARNING})"


def code_html(user_code: str) -> str:
    """The user code, bold and monospaced, easy to select (the widget shows it large)."""
    return (f'<b><code class="exls-access-code exls-login-code">{html.escape(user_code)}'
            f"</code></b>")


def renewal_html(signed: RenewingTokens, note: str = "") -> tuple[str, str, str]:
    """What a followed sign-in shows now: (state, message, status HTML); never a token.

    Signed in (with the current expiry), signed in but the last renewal failed (why, and that
    it is tried again), or ended (refused, or signed out).
    """
    error = signed.last_error
    if signed.ended is not None:
        if isinstance(error, AuthenticationError):
            why = str(error).removeprefix("signed out: run %exalsius login").strip(" ()")
            message = (f"Signed out: the session could not be renewed ({why or 'refused'}); "
                       "run %exalsius login again.")
            return "signed out", message, status_html("failed", message)
        message = f"Signed in as {who_text(signed.tokens)} until {signed.ended}."
        return "signed out", message, status_html("signed out", message)
    text = signed_in_text(signed.tokens)
    message = f"{text} {note}" if note else text
    value = status_html("signed in", message)
    if error is not None:
        problem = (f"Could not renew the session yet: {' '.join(str(error).split())[:200]}; "
                   "trying again.")
        message, value = f"{message} {problem}", value + status_html("expired", problem)
    return "signed in", message, value


def status_html(state: str, message: str) -> str:
    """One escaped status line in the colour of its state (a stylesheet class)."""
    tone = TONES.get(state, "")
    mark = {"signed in": "✓ ", "denied": "⚠ ", "expired": "⚠ ", "failed": "⚠ "}.get(state, "")
    classes = " ".join(c for c in ("exls-login-status", tone) if c)
    return f'<div class="{classes}">{mark}{html.escape(message)}</div>'


def who_text(tokens: Tokens) -> str:
    """Who signed in, for display: the name, and the email when it differs."""
    claims = tokens.claims
    name, email = claims.get("name"), claims.get("email")
    who = tokens.identity or "unknown user"
    if isinstance(name, str) and isinstance(email, str) and email and email != name:
        who = f"{who} ({email[:80]})"
    return who


def signed_in_text(tokens: Tokens) -> str:
    """Who signed in and when the session ends, for display."""
    who = who_text(tokens)
    until = tokens.expires_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    if tokens.refresh_token:
        return (f"Signed in as {who}. The access token is valid until {until} and renews itself "
                "shortly before then.")
    return f"Signed in as {who}. The session ends {until}; then run %exalsius login again."


class SignInWidget(Displayable):
    """A device-code sign-in in a notebook: link, code, countdown, Cancel; polls off the kernel.

    Display it (or call ``start()``): the device authorization is requested at once, then a daemon
    thread polls the token endpoint. ``on_success`` receives the Tokens (in that thread) and may
    return a note for the success line; ``on_done`` is called with the widget when the sign-in
    ended, whatever the outcome. ``tokens`` holds them too. The widgets never hold a token or the
    device code.

    Args:
        login: the DeviceLogin to run, or AuthSettings to make one (default: from the
            environment).
        on_success: called with the Tokens once the user approved; may return a note (str).
        on_done: called with this widget once the sign-in ended (any outcome).
        tick: seconds between countdown updates.
    """

    def __init__(self, login: DeviceLogin | AuthSettings | None = None, *,
                 on_success: Callable[[Tokens], str | None] | None = None,
                 on_done: Callable[[SignInWidget], None] | None = None,
                 tick: float = 1.0) -> None:
        self.login = login if isinstance(login, DeviceLogin) else DeviceLogin(login, tick=tick)
        self.login.tick = tick
        self.on_success = on_success
        self.on_done = on_done
        self.state = "new"
        self.message = ""
        self.tokens: Tokens | None = None
        self.error: ExalsiusError | None = None
        self.done = threading.Event()
        self._cancel = threading.Event()
        self._poller: Poller | None = None
        self._lock = threading.Lock()
        self._unwatch: Callable[[], None] | None = None
        self._note = ""
        self.title = widgets.HTML(value="<b>Sign in to exalsius</b>")
        self.link = classed(widgets.HTML(value=""), "exls-login-link")
        self.code = classed(widgets.HTML(value="", style=HTMLStyle(font_size=CODE_SIZE)),
                            "exls-login-code")
        self.countdown = classed(widgets.Label(value="", layout=widgets.Layout(margin="0 16px")),
                                 "exls-login-countdown")
        self.cancel_button = classed(
            widgets.Button(description="Cancel", icon="times",
                           tooltip="Stop waiting for the sign-in",
                           layout=widgets.Layout(width="90px")), "exls-login-cancel")
        self.cancel_button.on_click(lambda _button: self.cancel())
        self.status = classed(widgets.HTML(value=""), "exls-login-status")
        self.pending_box = widgets.VBox([
            widgets.HTML(value="Open this page, check that it shows the code below, approve:"),
            self.link,
            # On one baseline: the large code's text and the countdown's (not their boxes).
            widgets.HBox([self.code, self.countdown, self.cancel_button],
                         layout=widgets.Layout(align_items="baseline")),
        ])
        self.sheet = stylesheet_widget()
        self.widget = classed(widgets.VBox([self.sheet, self.title, self.pending_box,
                                            self.status]), "exls-login")
        stop_at_exit(self)

    # -- lifecycle ------------------------------------------------------------------------------

    def prepare(self) -> DeviceCode | None:
        """Request the codes (one bounded request) without polling yet; None if that failed."""
        with self._lock:
            if self.state != "new":
                return self.login.code if self.state == "waiting" else None
            self.state = "waiting"
        try:
            code = self.login.start()
        except ExalsiusError as exc:
            self._finish("failed", str(exc), exc)
            return None
        self._show_code(code)
        return code

    def start(self) -> SignInWidget:
        """Request the codes if not done yet, and start polling in a daemon thread."""
        if self.prepare() is None:
            return self
        with self._lock:
            if self._poller is not None:
                return self
            self._poller = Poller(lambda: self.login.step(self._tick), name="exalsius-sign-in",
                                  stop=self._cancel, on_crash=self._ended_with,
                                  on_end=self._ended)
        self._poller.start()
        return self

    def cancel(self) -> None:
        """Stop waiting; the widget says "Sign-in cancelled." within about one tick."""
        self._cancel.set()
        if self.state == "new":
            self._finish("cancelled", "Sign-in cancelled.", None)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the sign-in ended (any outcome) or ``timeout``; whether it ended."""
        return self.done.wait(timeout)

    def follow(self, signed: RenewingTokens) -> None:
        """Keep the status line in step with the sign-in: each renewal's expiry, a failure.

        Called once signed in (``%exalsius login`` does); ``close()`` stops following.
        """
        with self._lock:
            if self._unwatch is not None:
                self._unwatch()
            self._unwatch = signed.watch(self._renewed)
        self._renewed(signed)

    def _renewed(self, signed: RenewingTokens) -> None:
        """A renewal (or its failure, or the end) of the followed sign-in: redraw the line."""
        state, self.message, value = renewal_html(signed, self._note)
        self.state = state
        if self.status.value != value:
            self.status.value = value
        if state == "signed out":
            with self._lock:
                unwatch, self._unwatch = self._unwatch, None
            if unwatch is not None:
                unwatch()

    def close(self) -> None:
        """Cancel, stop the thread and close the widgets (and stop following a sign-in)."""
        with self._lock:
            unwatch, self._unwatch = self._unwatch, None
        if unwatch is not None:
            unwatch()
        self._shutdown()
        for w in list(walk(self.widget)):  # every child, layout and style: none left behind
            w.close()

    def _shutdown(self) -> None:
        """Cancel and join the polling thread (kernel shutdown)."""
        self._cancel.set()
        if self._poller is not None:
            self._poller.stop(JOIN_TIMEOUT)

    # -- the polling thread ---------------------------------------------------------------------

    def _ended_with(self, exc: BaseException) -> None:
        """The sign-in ended with an error (denied, expired, failed, or a bug)."""
        state, message = outcome(exc)
        self._finish(state, message, exc if isinstance(exc, ExalsiusError) else None)

    def _ended(self) -> None:
        """The polling ended: approved, cancelled, or after ``_ended_with``."""
        try:
            if self.done.is_set():
                return
            tokens = self.login.tokens
            if tokens is None:
                self._finish("cancelled", "Sign-in cancelled.",
                             SignInCancelledError("sign-in cancelled"))
                return
            self.tokens = tokens
            note = None
            if self.on_success is not None:
                try:
                    note = self.on_success(tokens)
                except Exception as exc:
                    self._finish("failed", f"signed in, but keeping the session failed: "
                                           f"{' '.join(str(exc).split())[:200]}", None)
                    return
            text = signed_in_text(tokens)
            extra = note if isinstance(note, str) and note else ""  # e.g. adopt() returns more
            self._note = extra
            self._finish("signed in", f"{text} {extra}" if extra else text, None)
        finally:
            self.login.close()

    def _tick(self, left: float) -> None:
        text = countdown_text(left)
        if self.countdown.value != text:
            self.countdown.value = text

    # -- view -----------------------------------------------------------------------------------

    def _show_code(self, code: DeviceCode) -> None:
        with self.widget.hold_sync():
            self.link.value = page_html(code)
            self.code.value = code_html(code.user_code)
            self.countdown.value = countdown_text(code.expires_in())
            self.status.value = status_html("waiting", "Waiting for approval…")

    def _finish(self, state: str, message: str, error: ExalsiusError | None) -> None:
        self.state, self.message, self.error = state, message, error
        with self.widget.hold_sync():
            self.pending_box.layout.display = "none"
            self.link.value = self.code.value = ""  # nothing left to approve
            self.countdown.value = ""
            self.cancel_button.disabled = True
            self.status.value = status_html(state, message)
        self.done.set()
        if self.on_done is not None:
            with contextlib.suppress(Exception):  # the outcome is shown already
                self.on_done(self)

    def _text(self) -> str:
        code = self.login.code
        if self.state == "waiting" and code is not None:
            return (f"Sign in to exalsius: open {page_text(code)} and approve "
                    f"the code {code.user_code} ({countdown_text(code.expires_in())}).")
        if self.state == "new":
            return "Sign in to exalsius (not started)."
        return self.message

    def _repr_html_(self) -> str:
        code = self.login.code
        if self.state == "waiting" and code is not None:
            link = page_html(code)
            return (f"{STYLESHEET}<div><b>Sign in to exalsius</b>: open {link} and approve the "
                    f"code {code_html(code.user_code)}</div>")
        return STYLESHEET + status_html(self.state, self._text())

    def __repr__(self) -> str:  # also the display bundle's text/plain
        return self._text()


__all__ = ["SignInWidget", "code_html", "countdown_text", "link_html", "page_html",
           "page_text", "renewal_html", "signed_in_text", "who_text"]
