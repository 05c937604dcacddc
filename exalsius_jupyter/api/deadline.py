"""An overall deadline per API call, whatever the server does.

requests' timeout bounds each socket read, so a server that drips a byte at a time can hold a
call for ever. Every socket a call opens or reuses is registered with the call's ``Deadline``
(a thread-local, set by the client around each operation); one watchdog thread shuts those
sockets down when the deadline passes, which ends any blocked read at once.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator


class Deadline:
    """The end time of one call and the sockets it uses."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._finished = False

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.expires - time.monotonic()

    def watch(self, sock: socket.socket | None) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it has)."""
        if sock is None:
            return
        with self._lock:
            if self._finished:
                return
            if not self.expired:
                self._sockets.append(sock)
                return
        _shutdown(sock)

    def expire(self) -> None:
        """Mark the deadline passed and shut down the call's sockets."""
        with self._lock:
            if self._finished:
                return
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shutdown(sock)

    def finish(self) -> None:
        """The call is over: forget its sockets (they may serve the next call)."""
        with self._lock:
            self._finished = True
            self._sockets.clear()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that expires deadlines in order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (deadline.expires, next(self._counter), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="exalsius-deadlines",
                                                daemon=True)
                self._thread.start()
            if self._heap[0][2] is deadline:  # it ends first: the watchdog must wait less
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                expires, _, deadline = self._heap[0]
                wait = expires - time.monotonic()
                if wait > 0 and not deadline._finished:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            if not deadline._finished:
                deadline.expire()


_WATCHDOG = _Watchdog()
_local = threading.local()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Bound the calls made inside the block (on this thread) to ``seconds`` in all."""
    current_deadline = Deadline(seconds)
    previous = getattr(_local, "deadline", None)
    _local.deadline = current_deadline
    _WATCHDOG.add(current_deadline)
    try:
        yield current_deadline
    finally:
        current_deadline.finish()
        _local.deadline = previous


def current() -> Deadline | None:
    """The deadline of the call running on this thread, if any."""
    return getattr(_local, "deadline", None)


def left(cap: float) -> float:
    """Seconds a step may take: ``cap``, or less when this thread's call ends sooner."""
    active = current()
    return cap if active is None else min(cap, active.remaining())


def watch(sock: socket.socket | None) -> None:
    """Register ``sock`` with this thread's current call, if there is one."""
    active = current()
    if active is not None:
        active.watch(sock)
