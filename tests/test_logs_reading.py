"""Reading logs (issue #14.4): long records in linear time, the last records kept, a cap that
says so, and ``--tail N`` showing the real last N. Real HTTP against a canned server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from support import Canned, CannedServer
from test_magics_shell import close_shell, make_shell, ok

from exalsius_jupyter.api.client import ExalsiusClient

WID = "3f2a1b4c-0000-4000-8000-0000000000bb"
NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(records: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


@pytest.mark.parametrize("megabytes", [4, 16])
def test_a_long_record_is_read_within_the_deadline(canned: CannedServer, megabytes: int) -> None:
    message = "x" * (megabytes << 20)
    canned.reply(Canned(200, ndjson([{"log_message": "first"}, {"log_message": message},
                                     {"log_message": "last"}]), NDJSON))
    client = ExalsiusClient(canned.url, timeout=5)  # a 15 s deadline
    records = client.workspace_logs(WID, limit=10)
    assert [len(r["log_message"]) for r in records] == [5, len(message), 4]


def test_the_last_records_are_kept_and_the_cut_is_counted(canned: CannedServer) -> None:
    canned.reply(Canned(200, ndjson([{"log_message": f"r{i}"} for i in range(1000)]), NDJSON))
    records = ExalsiusClient(canned.url, timeout=5).workspace_logs(WID, limit=10)
    assert [r["log_message"] for r in records] == [f"r{i}" for i in range(990, 1000)]
    assert records.seen == 1000 and records.truncated


def test_a_last_line_without_a_newline_still_counts(canned: CannedServer) -> None:
    canned.reply(Canned(200, b'{"log_message": "a"}\r\n{"log_message": "b"}', NDJSON))
    records = ExalsiusClient(canned.url, timeout=5).workspace_logs(WID)
    assert [r["log_message"] for r in records] == ["a", "b"] and not records.truncated


@pytest.fixture
def shell(canned: CannedServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    sh = make_shell(canned.url, monkeypatch)
    yield sh
    close_shell(sh)


def test_tail_of_more_records_than_the_cap_shows_the_real_last_and_says_so(
        shell: InteractiveShell, canned: CannedServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from exalsius_jupyter.magics.commands import logs

    monkeypatch.setattr(logs, "MAX_RECORDS", 1000)  # the cap, smaller for the test
    listing = {"workspaces": [{"id": WID, "name": "nb", "cluster_id": "c",
                               "workspace_status": "RUNNING"}]}
    canned.json(listing)
    canned.reply(Canned(200, ndjson([{"timestamp": "2026-01-01T00:00:00Z",
                                      "log_message": f"r{i}"} for i in range(1005)]), NDJSON))
    ran = ok(shell, capsys, "%exalsius logs nb --tail 3")
    lines = ran.out.strip().splitlines()
    assert [line.split()[-1] for line in lines[-3:]] == ["r1002", "r1003", "r1004"], lines
    assert "showing the last 1,000 of 1,005 records" in ran.out + ran.err
