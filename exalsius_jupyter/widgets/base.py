"""Helpers shared by the widgets: classes, display bundles, error capture, background jobs."""

from __future__ import annotations

import atexit
import contextlib
import functools
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

import ipywidgets as widgets

from ..errors import ExalsiusError
from ..render import error_html, error_line

W = TypeVar("W", bound=widgets.DOMWidget)
JOIN_TIMEOUT = 5.0


def classed(widget: W, *classes: str) -> W:
    """Add stable CSS classes (``exls-…``) to a widget and return it."""
    for name in classes:
        widget.add_class(name)
    return widget


def set_traits(widget: widgets.Widget, **traits: Any) -> None:
    """Set several traits in one sync message (traitlets itself skips values that are equal)."""
    with widget.hold_sync():
        for name, value in traits.items():
            setattr(widget, name, value)


class Displayable:
    """One display bundle: the widget's own (from ipywidgets) plus HTML and text fallbacks.

    As dask.distributed's ``Cluster._ipython_display_`` does: the widget-view part comes from
    ``widget._repr_mimebundle_()``, so it follows ipywidgets' protocol. Subclasses provide
    ``widget``, ``start()``, ``_repr_html_()`` and ``__repr__``.
    """

    widget: widgets.Widget

    def start(self) -> Any:
        """Begin background work; called when the object is displayed."""
        raise NotImplementedError

    def _repr_html_(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        self.start()
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self._repr_html_()
        return bundle

    def _ipython_display_(self, **kwargs: Any) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)


class ErrorArea:
    """A one-line error display plus an Output that keeps tracebacks of unexpected exceptions."""

    def __init__(self) -> None:
        self.line = classed(widgets.HTML(value=""), "exls-error")
        self.output = classed(widgets.Output(), "exls-output")
        self.source = ""

    @property
    def message(self) -> str:
        """The error line's text, HTML included ("" when there is no error)."""
        return self.line.value

    def show(self, text: str, source: str = "") -> None:
        """Show one escaped error line (``source`` says who may clear it)."""
        self.line.value = error_html(text)
        self.source = source

    def show_exception(self, exc: BaseException, action: str = "", source: str = "") -> None:
        """Show an error; unexpected exceptions also leave their traceback in the Output."""
        self.show(error_line(exc, action), source)
        if not isinstance(exc, ExalsiusError):
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self.output.append_stderr(text)

    def clear(self, source: str | None = None) -> None:
        """Remove the error line (only if it came from ``source``, when given)."""
        if source is None or source == self.source:
            self.line.value = ""
            self.source = ""

    def widgets(self) -> list[widgets.Widget]:
        """The widgets to place in a view."""
        return [self.line, self.output]


Guard = Callable[[Callable[..., Any]], Callable[..., None]]


def guarded(errors: ErrorArea, action: str = "") -> Guard:
    """Wrap a widget callback so no exception escapes it: each one is shown in ``errors``."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., None]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> None:
            try:
                fn(*args, **kwargs)
            except Exception as exc:
                errors.show_exception(exc, action or "Unexpected error")

        return run

    return wrap


class Stoppable(Protocol):
    """Something with background work that must end at kernel shutdown."""

    def _shutdown(self) -> None: ...


_live: weakref.WeakSet[Any] = weakref.WeakSet()
_registered = False
_registry_lock = threading.Lock()


def stop_at_exit(obj: Stoppable) -> None:
    """Make sure ``obj._shutdown()`` runs when the kernel (the interpreter) shuts down."""
    global _registered
    with _registry_lock:
        _live.add(obj)
        if not _registered:
            atexit.register(shutdown_all)
            _registered = True


def shutdown_all() -> None:
    """Stop every live widget's background work (run at exit)."""
    for obj in list(_live):
        with contextlib.suppress(Exception):  # shutting down: nothing left to report to
            obj._shutdown()


def walk(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    """A widget and every widget it refers to (children, layout, style), each once."""
    seen: set[int] = set()
    stack = [widget]
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        yield w
        for name in ("children", "layout", "style"):
            value = getattr(w, name, None)
            if isinstance(value, widgets.Widget):
                stack.append(value)
            elif isinstance(value, (tuple, list)):
                stack.extend(v for v in value if isinstance(v, widgets.Widget))


def join_thread(thread: threading.Thread | None, timeout: float = JOIN_TIMEOUT) -> None:
    """Join a worker thread unless it is the calling thread."""
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)


class Jobs:
    """Runs each job on its own daemon thread, off the kernel thread; knows which still run.

    A job should catch and show its own errors; one that escapes is shown in ``errors`` (if
    given).
    """

    def __init__(self, name: str, errors: ErrorArea | None = None) -> None:
        self.name = name
        self._errors = errors
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def run(self, job: Callable[[], Any], action: str = "Unexpected error") -> threading.Thread:
        """Start ``job`` now on a new daemon thread and return the thread."""
        target = guarded(self._errors, action)(job) if self._errors is not None else job
        thread = threading.Thread(target=target, name=self.name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return thread

    def threads(self) -> list[threading.Thread]:
        """The jobs' threads that may still run."""
        with self._lock:
            return [t for t in self._threads if t.is_alive()]

    @property
    def busy(self) -> bool:
        """Whether any job is still running."""
        with self._lock:
            return any(t.is_alive() for t in self._threads)

    def join(self, timeout: float = JOIN_TIMEOUT) -> bool:
        """Wait (at most ``timeout`` seconds) for the running jobs; True if none is left."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            join_thread(t, max(0.0, deadline - time.monotonic()))
        return not self.busy


C = TypeVar("C", bound="Cloneable")


class Cloneable(Protocol):
    """A client that can make a copy of itself with its own HTTP session."""

    def clone(self: C) -> C: ...

    def close(self) -> None: ...


@contextlib.contextmanager
def own_client(client: C) -> Iterator[C]:
    """A clone of ``client`` for the calling thread (a Session is never shared), closed after."""
    mine = client.clone()
    try:
        yield mine
    finally:
        mine.close()


__all__ = [
    "Displayable",
    "ErrorArea",
    "Jobs",
    "classed",
    "guarded",
    "join_thread",
    "own_client",
    "set_traits",
    "shutdown_all",
    "stop_at_exit",
    "walk",
]
