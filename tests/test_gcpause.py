"""gc_paused: the collector off inside, on again after, the decode's objects already old."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from exalsius_jupyter.model.gcpause import MANY, gc_paused


@pytest.fixture
def collector() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_on_after(collector: None) -> None:
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()  # off before: off after


def test_what_was_decoded_is_in_the_oldest_generation_after(collector: None) -> None:
    """#16: no young collection traverses a large kept answer only to move it on."""
    with gc_paused():
        kept = [{"a": [i]} for i in range(MANY)]
    old = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(d) in old for d in kept)
    assert gc.get_count()[0] < 100  # the young generation starts again (near) empty
    assert gc.get_freeze_count() == 0


def test_after_a_small_decode_young_objects_stay_young(collector: None) -> None:
    gc.collect()
    with gc_paused():
        kept = [{"a": [i]} for i in range(100)]
    young = {id(o) for o in gc.get_objects(generation=0)}
    assert all(id(d) in young for d in kept)


def test_objects_a_process_froze_itself_stay_frozen(collector: None) -> None:
    mine = [[1], [2]]
    gc.freeze()
    frozen = gc.get_freeze_count()
    with gc_paused():
        kept = [[i] for i in range(10)]
    assert gc.get_freeze_count() == frozen  # not unfrozen by us
    assert kept and mine
