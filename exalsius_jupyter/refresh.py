"""AutoRefresh: list again and again in the background, slower while nothing changes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .poller import Backoff, Poller, transient

if TYPE_CHECKING:
    from .api.client import ExalsiusClient


class AutoRefresh:
    """A refresh repeated on a ``Poller``, paced by one ``Backoff``, under the one error policy.

    An error waiting may cure (an outage, a timeout, a 5xx, a 429) backs off and goes on; any
    other pauses the loop (``paused``) until ``resume``. No widget here: a view passes what to
    call and redraws in ``on_tick``.

    Args:
        refresh: one refresh on the loop's own client: True if something changed, False if
            not, None if it failed (then ``last_error`` tells why).
        last_error: the error of the last failed refresh.
        on_tick: called after every refresh and state change (to redraw a summary).
        on_crash: called with an unexpected exception (a bug); the loop then pauses.
        interval: seconds between refreshes while something changes.
        max_interval: the longest pause while nothing changes.
        name: the loop thread's name.
    """

    def __init__(self, refresh: Callable[[ExalsiusClient], bool | None], *,
                 last_error: Callable[[], BaseException | None],
                 on_tick: Callable[[], None], on_crash: Callable[[BaseException], None],
                 interval: float, max_interval: float, name: str = "exalsius-refresh") -> None:
        self._refresh = refresh
        self._last_error = last_error
        self._on_tick = on_tick
        self._on_crash = on_crash
        self._name = name
        self.backoff = Backoff(interval, max(interval, max_interval))
        self.paused = False
        self._poller: Poller | None = None

    @property
    def running(self) -> bool:
        """Whether the loop's thread is running."""
        return self._poller is not None and self._poller.running

    @property
    def thread(self) -> threading.Thread | None:
        """The loop's thread, once started."""
        return self._poller.thread if self._poller is not None else None

    @property
    def delay(self) -> float:
        """Seconds until the next refresh: grows while nothing changes."""
        return self.backoff.delay()

    def start(self, client: ExalsiusClient) -> None:
        """Start the loop on a clone of ``client``, a pause first (idempotent while running)."""
        if self.running:
            return
        self.paused = False
        self.backoff.reset()
        own = client.clone()  # the loop's own (a Session is never shared)
        poller = Poller(lambda: self._first(own, poller), name=self._name,
                        on_crash=self._crashed, on_end=own.close)
        self._poller = poller.start()

    def resume(self) -> None:
        """Leave the paused state (a refresh outside the loop has succeeded)."""
        self.paused = False

    def wake(self) -> None:
        """Refresh soon: reset the pace and wake the loop."""
        self.backoff.reset()
        if self._poller is not None:
            self._poller.wake()

    def stop(self, join: float | None = 5.0) -> None:
        """Stop the loop (waiting up to ``join`` seconds for its thread; None: not at all)."""
        if self._poller is not None:
            self._poller.stop(join=join)

    def _first(self, client: ExalsiusClient, poller: Poller) -> float | None:
        """The loop starts with a pause: the view has just been listed."""
        poller.step = lambda: self.tick(client, poller)
        return self.backoff.delay()

    def tick(self, client: ExalsiusClient, poller: Poller | None = None) -> float | None:
        """One refresh and the pause to the next (None: the loop ends, stopped or paused)."""
        changed = self._refresh(client)
        if poller is not None and poller.stopped:
            return None
        if changed is None:
            error = self._last_error()
            if not (error is not None and transient(error)):
                self.paused = True
                self._on_tick()
                return None
        if changed:
            self.backoff.reset()
        else:
            self.backoff.quiet()
        self._on_tick()
        return self.backoff.delay()

    def _crashed(self, exc: BaseException) -> None:
        self.paused = True
        self._on_crash(exc)


__all__ = ["AutoRefresh"]
