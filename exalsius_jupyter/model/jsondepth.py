"""JSON decoded on a fresh thread: the same depth limit wherever the call comes from.

Both JSON decoders (``json`` and msgspec) count nesting against the interpreter's recursion
limit, so how deep a body may be depends on how deep the caller's stack already is (a kernel's
cell, a widget's thread). Decoding on a new thread gives every call the same budget, and the
fast path is given slightly less (``PADDING`` frames) so that whatever msgspec accepts, ``json``
accepts too: both list paths then agree on every depth.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
PADDING = 32  # frames fewer for msgspec, which takes a few levels more than json per frame


def on_fresh_stack(decode: Callable[[], T], *, padding: int = 0) -> T:
    """``decode()`` run on a new thread (``padding`` frames deep); its result or its exception."""
    result: list[T] = []
    error: list[BaseException] = []

    def run(depth: int) -> None:
        if depth:
            run(depth - 1)
            return
        try:
            result.append(decode())
        except BaseException as exc:  # handed to the caller's thread
            error.append(exc)

    thread = threading.Thread(target=run, args=(padding,), name="exalsius-json")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


__all__ = ["PADDING", "on_fresh_stack"]
