"""The cyclic GC paused while a large answer becomes many new containers."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a large body is decoded into many new containers.

    A 100k-workspace list is ~1M new dicts (or, on the fast path, records, then chunks of
    tuples and lists); CPython's GC would traverse them over and over during the decode
    (about a third of its time). Nothing in a decode creates cycles. It is on again after,
    if it was on before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
