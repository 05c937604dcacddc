"""Reading logs with long records: ``workspace_logs`` beside requests' ``iter_lines``, one run.

Usage: ``python bench/logs.py``. For one record of 1, 4 and 16 MB (between two short ones) it
prints the seconds our client takes, the seconds requests' ``iter_lines`` takes on the same
answer (the way the client read logs before), and their ratio. A measurement: exit code 0.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from canned import Quiet  # noqa: E402

from exalsius_jupyter.api.client import ExalsiusClient  # noqa: E402

BODY: dict[str, bytes] = {}


class Logs(Quiet):
    """Answers every GET with the current log body."""

    def do_GET(self) -> None:
        self.answer(BODY["current"], content_type="application/x-ndjson")


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Logs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    wid = "3f2a1b4c-0000-4000-8000-0000000000cc"
    client = ExalsiusClient(url, timeout=60)
    print(f"{'record':>8} {'ours':>9} {'iter_lines':>11} {'ratio':>7}")
    for megabytes in (1, 4, 16):
        records = [{"log_message": "a"}, {"log_message": "x" * (megabytes << 20)},
                   {"log_message": "b"}]
        BODY["current"] = "".join(json.dumps(r) + "\n" for r in records).encode()
        began = time.perf_counter()
        assert len(client.workspace_logs(wid)) == 3
        ours = time.perf_counter() - began
        began = time.perf_counter()
        with requests.get(f"{url}/workspace/{wid}/logs", stream=True, timeout=120) as resp:
            lines = [json.loads(line) for line in resp.iter_lines() if line]
        theirs = time.perf_counter() - began
        assert len(lines) == 3
        print(f"{megabytes:>5} MB {ours:>8.3f}s {theirs:>10.3f}s {ours / theirs:>6.2f}x")
    server.shutdown()


if __name__ == "__main__":
    main()
