"""How deep a JSON body may be: one limit of the client's own, the same on both list paths.

The decoders' own limits differ (msgspec takes one level more than ``json`` on Python 3.12 and
3.13, a few more on 3.11) and on 3.10/3.11 shrink with the caller's stack, so a limit left to them
lets one list path take what the other refuses. A body is measured first (``nesting_depth``, in C
speed passes over its bytes) and refused beyond ``MAX_DEPTH``, well below what either decoder
takes on a fresh stack; one within it that is too deep for the caller's stack is decoded on a new
thread (``on_fresh_stack``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Any, TypeVar

T = TypeVar("T")
MAX_DEPTH = 512  # nesting levels of a server's answer; deeper ones are refused by both paths

_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_KEPT = bytes(set(range(256)) - set(b'"[]{}'))  # what does not bear on the depth
_STEP = [0] * 256
_STEP[ord("[")], _STEP[ord("]")] = 1, -1
_PASSES = 8  # innermost levels peeled by bytes.replace before the rest is counted one by one


class TooDeep(ValueError):
    """A JSON text nested more than ``MAX_DEPTH`` levels; ``depth`` says how many."""

    def __init__(self, depth: int) -> None:
        """``depth``: the levels the text has."""
        super().__init__(
            f"the JSON is nested too deeply, {depth:,} levels where {MAX_DEPTH} are allowed")
        self.depth = depth


def nesting_depth(text: bytes | str) -> int:
    """The levels of arrays and objects in a JSON text, strings not counted (0 for a scalar)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if b"\\" in data:  # \\ and \" out first (in that order): each quote left opens or closes
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    kept = data.translate(None, _NOT_KEPT)  # brackets and quotes: a tenth of a list body
    quotes = kept.count(b'"')
    if kept.count(b'""') * 2 == quotes:  # every string's quotes side by side: no bracket in one
        brackets = kept.translate(_BRACKETS, b'"')
    else:
        # Two quotes in a row are an empty string or one's end and the next one's start: either
        # way nothing between them is outside a string. What is left between quotes is in one.
        brackets = kept.translate(_BRACKETS).replace(b'""', b"")
        if b'"' in brackets:
            brackets = b"".join(brackets.split(b'"')[::2])
    peeled = 0
    while brackets and peeled < _PASSES:  # each pass drops every innermost pair: one level
        brackets = brackets.replace(b"[]", b"")
        peeled += 1
    return peeled + max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def check_depth(text: bytes | str) -> None:
    """Raise ``TooDeep`` when ``text`` is nested more than ``MAX_DEPTH`` levels."""
    if len(text) > MAX_DEPTH:  # a shorter text cannot hold that many levels
        depth = nesting_depth(text)
        if depth > MAX_DEPTH:
            raise TooDeep(depth)


def spans_within_limit(spans: Sequence[Any], outer: int) -> bool:
    """True when values of these lengths, ``outer`` levels deep, cannot pass ``MAX_DEPTH``.

    A JSON value of n bytes has at most n // 2 levels (each opens and closes with a byte of its
    own), so only a span longer than twice what is left needs counting: in a list body, none.
    """
    room = MAX_DEPTH - outer
    lengths = list(map(len, spans))
    if max(lengths, default=0) <= 2 * room:
        return True
    return all(nesting_depth(bytes(span)) <= room
               for span, length in zip(spans, lengths, strict=True) if length > 2 * room)


def on_fresh_stack(decode: Callable[[], T]) -> T:
    """``decode()`` run on a new thread; its result or its exception."""
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(decode())
        except BaseException as exc:  # handed to the caller's thread
            error.append(exc)

    thread = threading.Thread(target=run, name="exalsius-json")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def in_place_or_fresh(decode: Callable[[], T]) -> T:
    """``decode()`` on the caller's stack, again on a fresh one if that is too deep for it."""
    try:
        return decode()
    except RecursionError:
        return on_fresh_stack(decode)


__all__ = ["MAX_DEPTH", "TooDeep", "check_depth", "in_place_or_fresh", "nesting_depth",
           "on_fresh_stack", "spans_within_limit"]
