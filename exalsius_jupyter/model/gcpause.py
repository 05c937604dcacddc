"""The cyclic GC paused while a large answer becomes many new containers."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

MANY = 50_000  # new containers after which a decode's are handed to the oldest generation


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a large body is decoded into many new containers.

    A 100k-workspace list is ~1M new dicts (or, on the fast path, records, then chunks of
    tuples and lists); CPython's GC would traverse them over and over during the decode
    (about a third of its time). Nothing in a decode creates cycles. It is on again after,
    if it was on before.

    What the decode made is kept (the list, its frame), so the young collections that would
    traverse it on the first allocation after (0.16 s for the standard library's 700k
    containers at 100k, #16) only to move it on are skipped: ``gc.freeze`` and
    ``gc.unfreeze`` hand every young object to the oldest generation at once, where full
    collections still look at it. Only after a large decode (``MANY`` new containers): after
    a small one, young garbage of the caller's own stays young. A process that froze objects
    of its own keeps them so.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_count()[0] > MANY and gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()
