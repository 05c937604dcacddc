"""Both list paths (msgspec and the standard library) give the same outcome at every depth,
wherever the call comes from (#14.5): a list, or the same one-line 'nested too deeply' error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import msgspec  # noqa: F401 (the [fast] extra is in the test install: both paths run)
import pytest
from support import Canned, CannedServer

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.errors import InvalidResponseError

GOOD = {"id": "3f2a1b4c-0000-4000-8000-000000000001", "name": "good",
        "cluster_id": "11111111-1111-4111-8111-111111111111", "workspace_status": "RUNNING"}
WHERE = ("unknown field", "known field", "top level")
DEPTHS = (*range(960, 1001, 2), 1100, 10_000)


def _body(depth: int, where: str) -> bytes:
    nest = "[" * depth + "]" * depth
    item = json.dumps(GOOD)[:-1]
    if where == "unknown field":
        return f'{{"workspaces": [{item}, "odd": {nest}}}]}}'.encode()
    if where == "known field":
        return f'{{"workspaces": [{item}, "access_information": {nest}}}]}}'.encode()
    return f'{{"workspaces": [{item}}}], "x": {nest}}}'.encode()


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
            return ("error", str(exc))

    return call(stack)


@pytest.mark.parametrize("where", WHERE)
def test_both_paths_agree_at_every_depth(canned: CannedServer, monkeypatch: pytest.MonkeyPatch,
                                         where: str) -> None:
    client = ExalsiusClient(canned.url, timeout=10)
    seen = set()
    for depth in DEPTHS:
        canned.replies.clear()
        canned.reply(Canned(200, _body(depth, where), {"Content-Type": "application/json"}))
        outcomes = {(fast, stack): _outcome(client, monkeypatch, fast, stack)
                    for fast in (True, False) for stack in (0, 300)}
        assert len(set(map(repr, outcomes.values()))) == 1, (depth, where, outcomes)
        kind = next(iter(outcomes.values()))
        seen.add(kind[0])
        if kind[0] == "error":
            assert kind[1].startswith("the server's answer is nested too deeply (GET /v1/")
    assert seen == {"listed", "error"}  # the threshold lies inside the depths tried
    client.close()
