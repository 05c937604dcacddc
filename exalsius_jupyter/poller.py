"""The one background loop: a thread (or the caller's), stop and wake, a backoff, one error policy.

Every poll in the package runs on ``Poller``: the workspace watcher, the progress widget, the
panel's auto-refresh, the sign-in widget, the device flow and ``logs --follow``. The policy is
``transient()``: an error that waiting may cure (a timeout, a dropped connection, a 5xx, a 429)
backs off and goes on until the deadline; any other (authentication after a failed renewal,
permission, not found, an invalid request) ends the wait at once with that error.
A leaf module: it imports only the errors, so every layer may use it.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections.abc import Callable

from .errors import ApiError, InvalidResponseError, ServerError, TransportError

_MAX_BACKOFF_STEPS = 64
JOIN_TIMEOUT = 5.0
PAUSE_SLICE = 0.1  # the longest a pause goes without looking at the stop event


def transient(exc: BaseException) -> bool:
    """Whether waiting may cure ``exc``: timeouts, connection faults, 5xx and 429 answers, and
    garbled answers (a proxy's page, a cut-off or too-deep body)."""
    if isinstance(exc, TransportError | ServerError | InvalidResponseError):
        return True
    return isinstance(exc, ApiError) and exc.status == 429


class Backoff:
    """Delays that grow by ``factor`` while nothing happens, capped, and reset on progress.

    Args:
        interval: the first (and reset) delay in seconds.
        maximum: the largest delay in seconds.
        factor: the growth per quiet step.
    """

    def __init__(self, interval: float, maximum: float, factor: float = 1.5) -> None:
        self.interval = interval
        self.maximum = max(maximum, interval)
        self.factor = factor
        self.steps = 0

    def quiet(self) -> None:
        """Nothing changed (or the server failed): the next delay grows."""
        self.steps += 1

    def reset(self) -> None:
        """Something changed: the next delay is the first one again."""
        self.steps = 0

    def delay(self) -> float:
        """The current delay in seconds."""
        growth = self.factor ** min(self.steps, _MAX_BACKOFF_STEPS)  # no float overflow
        return min(self.interval * growth, self.maximum)


Step = Callable[[], float | None]


class Poller:
    """Calls ``step`` again and again until it returns None, ``stop()`` is called, or it raises.

    ``step()`` does one round and returns the seconds to pause before the next (None: done).
    ``start()`` runs the loop on a daemon thread; ``run()`` on the calling thread (Ctrl-C
    then ends it). ``wake()`` ends the current pause at once. An exception escaping ``step``
    ends the loop: ``on_crash`` gets it on the thread (``run()`` raises it). ``on_end`` is called
    once the loop ended, however. Every started poller is stopped at interpreter exit.

    Args:
        step: one round of the loop.
        name: the thread's name.
        on_crash: what to do with an exception that escaped ``step`` on the thread.
        on_end: called when the loop has ended (on the loop's thread).
        stop: an event that stops the loop when set (default: one of its own).
    """

    def __init__(self, step: Step, *, name: str = "exalsius-poller",
                 on_crash: Callable[[BaseException], None] | None = None,
                 on_end: Callable[[], None] | None = None,
                 stop: threading.Event | None = None) -> None:
        self.step = step
        self.name = name
        self.on_crash = on_crash
        self.on_end = on_end
        self.stop_event = stop if stop is not None else threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether the loop's thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def thread(self) -> threading.Thread | None:
        """The loop's thread, once started on one."""
        return self._thread

    @property
    def stopped(self) -> bool:
        """Whether ``stop()`` was called."""
        return self.stop_event.is_set()

    def start(self) -> Poller:
        """Run the loop on a daemon thread (once; idempotent)."""
        with self._lock:
            if self._thread is None and not self.stopped:
                thread = threading.Thread(target=self._thread_loop, name=self.name,
                                          daemon=True)
                _LIVE.add(self)
                thread.start()
                self._thread = thread  # only a started thread is ever joined
        return self

    def run(self) -> None:
        """Run the loop on the calling thread until it ends; exceptions from ``step`` propagate."""
        try:
            self._loop()
        finally:
            self._ended()

    def wake(self) -> None:
        """End the current pause: the next round starts now."""
        self._wake.set()

    def stop(self, join: float | None = JOIN_TIMEOUT) -> None:
        """End the loop at its next pause; wait up to ``join`` seconds for the thread."""
        self.stop_event.set()
        self._wake.set()
        thread = self._thread
        if join is not None and thread is not None and thread is not threading.current_thread():
            thread.join(join)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; whether it has."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return not self.running

    def pause(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` (woken early by ``wake``/``stop``); whether to go on."""
        end = time.monotonic() + max(0.0, seconds)
        while not self.stopped:  # a shared stop event is not ours to wake: look at it often
            left = end - time.monotonic()
            if left <= 0:
                break
            if self._wake.wait(min(left, PAUSE_SLICE)):
                self._wake.clear()
                break
        return not self.stopped

    def _loop(self) -> None:
        while not self.stopped:
            delay = self.step()
            if delay is None or not self.pause(delay):
                return

    def _thread_loop(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a bug in a step: the owner shows it; the loop ends
            if self.on_crash is None:
                raise
            self.on_crash(exc)
        finally:
            self._ended()

    def _ended(self) -> None:
        _LIVE.discard(self)
        if self.on_end is not None:
            self.on_end()


_LIVE: weakref.WeakSet[Poller] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """Stop every poller still running when the interpreter exits."""
    for poller in list(_LIVE):
        poller.stop(join=1.0)


__all__ = ["Backoff", "Poller", "transient"]
