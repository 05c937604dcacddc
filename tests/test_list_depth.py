"""Both list paths (msgspec and the standard library) give the same outcome at every depth,
wherever the call comes from (#14.5): a list up to ``MAX_DEPTH`` levels, beyond it the same
one-line error naming the depth. The limit is the client's own, not the interpreter's: msgspec
takes one level more than json on Python 3.12 and 3.13 whatever the stack, so a limit left to the
decoders lets the fast path list what the standard-library path refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import msgspec  # noqa: F401 (the [fast] extra is in the test install: both paths run)
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import Canned, CannedServer

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.errors import InvalidResponseError
from exalsius_jupyter.model.jsondepth import MAX_DEPTH, nesting_depth

GOOD = {"id": "3f2a1b4c-0000-4000-8000-000000000001", "name": "good",
        "cluster_id": "11111111-1111-4111-8111-111111111111", "workspace_status": "RUNNING"}
# Where the deep value sits, and how many levels the body has around it.
AROUND = {"unknown field": 3, "known field": 3, "top level": 1}
NESTS = ("[", "]"), ('{"a": ', "}")


def _body(nest: int, where: str, brackets: tuple[str, str] = NESTS[0]) -> bytes:
    open_, close = brackets
    value = open_ * nest + ("1" if open_ != "[" else "") + close * nest
    item = json.dumps(GOOD)[:-1]
    if where == "unknown field":
        return f'{{"workspaces": [{item}, "odd": "]]]", "zz": {value}}}]}}'.encode()
    if where == "known field":
        return f'{{"workspaces": [{item}, "access_information": {value}}}]}}'.encode()
    return f'{{"workspaces": [{item}}}], "x": {value}}}'.encode()


@pytest.fixture
def canned() -> Iterator[CannedServer]:
    server = CannedServer().start()
    yield server
    server.stop()


def _outcome(client: ExalsiusClient, monkeypatch: pytest.MonkeyPatch, fast: bool,
             stack: int) -> Any:
    monkeypatch.setenv("EXALSIUS_FAST", "1" if fast else "0")

    def call(depth: int) -> Any:
        if depth:
            return call(depth - 1)
        try:
            listing = client.list_workspaces()
            return ("listed", listing.to_dataframe()["name"].tolist(), len(listing.raw))
        except InvalidResponseError as exc:
            return ("error", str(exc).split(": ")[0])

    return call(stack)


def test_the_limit_is_below_what_the_decoders_take_from_a_fresh_stack() -> None:
    assert 64 <= MAX_DEPTH <= 900


@pytest.mark.parametrize("brackets", NESTS, ids=("arrays", "objects"))
@pytest.mark.parametrize("where", AROUND)
def test_both_paths_agree_at_every_depth(canned: CannedServer, monkeypatch: pytest.MonkeyPatch,
                                         where: str, brackets: tuple[str, str]) -> None:
    client = ExalsiusClient(canned.url, timeout=10)
    around = AROUND[where]
    nests = [*range(MAX_DEPTH - around - 2, MAX_DEPTH - around + 3), 986, 990, 1_500, 10_000]
    for nest in nests:
        depth = nest + around
        body = _body(nest, where, brackets)
        assert nesting_depth(body) == depth
        canned.replies.clear()
        canned.reply(Canned(200, body, {"Content-Type": "application/json"}))
        # from a shallow stack, and one too deep for json.loads of MAX_DEPTH levels in place
        outcomes = {(fast, stack): _outcome(client, monkeypatch, fast, stack)
                    for fast in (True, False) for stack in (0, 700)}
        assert len(set(map(repr, outcomes.values()))) == 1, (nest, where, outcomes)
        outcome = next(iter(outcomes.values()))
        if depth <= MAX_DEPTH:
            assert outcome == ("listed", ["good"], 1), (nest, where)
        else:
            said = (f"the server's answer is nested too deeply, {depth:,} levels where "
                    f"{MAX_DEPTH} are allowed (GET /v1/workspaces)")
            assert outcome == ("error", said), (nest, where)
    client.close()


@pytest.mark.parametrize(("text", "depth"), [
    (b"1", 0), (b"[]", 1), (b'{"a": [1, {"b": []}]}', 4), (b'["[[[", "\\"[[", []]', 2),
    (b'"]]]]"', 0), ('{"ä": ["\\u005b"]}', 2), (b"[" * 5000 + b"]" * 5000, 5000),
    (b'[[[], [[]]], {"x": {}}]', 4), (b'["\\\\", []]', 2), (b'["\\\\\\"[", []]', 2),
    (b'["\\n\\"[[[", {"\\\\]": {}}]', 3), (b'[""]', 1), (b'["[", "]", [""]]', 2),
])
def test_nesting_depth_counts_levels_outside_strings(text: bytes | str, depth: int) -> None:
    assert nesting_depth(text) == depth
    assert depth > 900 or json.loads(text) is not None  # each case is JSON


def _depth(value: Any) -> int:
    if isinstance(value, dict | list):
        children = value.values() if isinstance(value, dict) else value
        return 1 + max(map(_depth, children), default=0)
    return 0


TRICKY = st.text(alphabet='[]{}"\\\\/abc\n\u00e9\ud83d\ude00', max_size=8)
VALUES = st.recursive(st.none() | st.integers() | TRICKY,
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(TRICKY, inner, max_size=3), max_leaves=30)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(VALUES, st.booleans())
def test_nesting_depth_is_the_decoded_depth(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    data = text.encode("utf-8", "surrogatepass")
    assert nesting_depth(text) == nesting_depth(data) == _depth(value)


@pytest.mark.parametrize("outer", [0, 2, 100])
def test_spans_within_the_limit_are_told_by_their_lengths_or_counted(outer: int) -> None:
    """#16: a span of n bytes has at most n // 2 levels; a longer one is counted."""
    from exalsius_jupyter.model.jsondepth import spans_within_limit

    room = MAX_DEPTH - outer
    flat = b'{"name": "' + b"x" * (4 * room) + b'"}'  # long, one level: counted, within
    nested = b"[" * room + b"]" * room  # exactly the room left
    deeper = b"[" * (room + 1) + b"]" * (room + 1)
    assert spans_within_limit([b"{}"] * 3, outer)
    assert spans_within_limit([b"{}", flat, nested], outer)
    assert not spans_within_limit([b"{}", deeper], outer)
    assert spans_within_limit([], outer)
