"""``%exalsius logs``: a workspace's log records (NDJSON), as a DataFrame or as text lines."""

from __future__ import annotations

import argparse
import html
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...errors import ExalsiusError, NotSupportedError
from ...text import printable
from ..parser import CommandParser, add_cluster, add_output, positive_int
from ..targets import resolve_targets

if TYPE_CHECKING:
    import pandas as pd

    from ...api.client import ExalsiusClient, LogRecords
    from ..context import CommandContext

NAME = "logs"
HELP = "a workspace's log records (where the server offers logs)"
# The columns of the API's log record, first and in this order; others follow as they come.
COLUMNS = ("timestamp", "pod_name", "pod_namespace", "log_message")
MAX_RECORDS = 100_000  # keep at most the last this many records per request
Record = dict[str, Any]


def add_parser(top: CommandParser) -> CommandParser:
    """``logs NAME_OR_ID [--cluster ID] [--tail N] [--follow] [-o VAR]``."""
    p = top.child(
        NAME, help=HELP,
        description="Show a workspace's log records: a DataFrame in Jupyter (timestamp as UTC "
                    "datetime), text lines in a terminal. Only servers with the logs endpoint "
                    "(the live API, the sandbox) offer them.")
    p.add_argument("targets", nargs=1, metavar="NAME_OR_ID")
    add_cluster(p, "only consider workspaces")
    p.add_argument("--tail", type=positive_int, metavar="N", help="only the last N records")
    p.add_argument("--follow", action="store_true",
                   help="keep showing new records until interrupted, or for "
                        "%%config Exalsius.wait_timeout seconds")
    add_output(p, "the DataFrame (with --follow: every record seen)")
    return p


def run(ctx: CommandContext, args: argparse.Namespace) -> pd.DataFrame | None:
    """The target's records; printed as text lines outside Jupyter."""
    client = ctx.client()
    listing = client.list_workspaces(cluster_id=ctx.cluster_id(args.cluster))
    (index,) = resolve_targets(listing.raw, args.targets)
    raw = listing.raw[index]
    workspace_id = str(raw["id"])
    fetched = fetch(client, workspace_id)
    if fetched.truncated:
        print(f"{raw.get('name') or workspace_id}: showing the last {len(fetched):,} of "
              f"{fetched.seen:,} records")
    records = fetched[-args.tail:] if args.tail else fetched
    if args.follow:
        name = str(raw.get("name") or workspace_id)
        records = follow(ctx, client, workspace_id, name, records, fetched)
    frame = logs_frame(records)
    if args.output:
        ctx.user_ns[args.output] = frame
    if args.follow:
        return None  # the records are on screen already
    if not ctx.in_kernel:
        for record in records:
            print(text_line(record))
        return None
    return frame


def fetch(client: ExalsiusClient, workspace_id: str) -> LogRecords:
    """Every record the server has for the workspace; a server without logs says so."""
    try:
        return client.workspace_logs(workspace_id, limit=MAX_RECORDS)
    except NotSupportedError:
        raise NotSupportedError(
            f"this server does not offer logs ({client.base_url}; the 1.5.1 API has no logs "
            "endpoint)") from None


def logs_frame(records: list[Record]) -> pd.DataFrame:
    """The records as a DataFrame: the API's columns first, ``timestamp`` as UTC datetimes."""
    import pandas as pd

    seen = dict.fromkeys(key for record in records for key in record)
    columns = [c for c in COLUMNS if c in seen or not records]
    columns += [c for c in seen if c not in columns]
    frame = pd.DataFrame.from_records(records, columns=columns)
    if "timestamp" in frame.columns:
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, errors="coerce",
                                            format="ISO8601")
    return frame


def text_line(record: Record) -> str:
    """One record as a line: timestamp, pod and message (other records as JSON).

    Server text reaches a terminal here: escape sequences and control characters are dropped.
    """
    if "log_message" not in record:
        return json.dumps(record, default=str)
    parts = [record.get("timestamp"), record.get("pod_name"), record.get("log_message")]
    return printable("  ".join(str(p) for p in parts if p not in (None, "")))


def new_records(records: list[Record], seen: Counter[str]) -> list[Record]:
    """The records not seen before (by content, so a repeated line still counts twice)."""
    counts: Counter[str] = Counter()
    fresh = []
    for record in records:
        key = json.dumps(record, sort_keys=True, default=str)
        counts[key] += 1
        if counts[key] > seen[key]:
            seen[key] += 1
            fresh.append(record)
    return fresh


class LogLines:
    """Text lines shown as one block; the follow area displays (and updates) it."""

    def __init__(self, title: str, lines: list[str]) -> None:
        self.title = title
        self.lines = lines

    def _repr_html_(self) -> str:
        body = html.escape("\n".join(self.lines)) or "(no records yet)"
        return (f"<div><b>{html.escape(self.title)}</b><pre style='margin:0'>{body}</pre>"
                "</div>")

    def __repr__(self) -> str:
        return "\n".join([self.title, *self.lines])


def follow(ctx: CommandContext, client: ExalsiusClient, workspace_id: str, name: str,
           records: list[Record], fetched: list[Record], *,
           sleep: Callable[[float], None] = time.sleep,
           clock: Callable[[], float] = time.monotonic) -> list[Record]:
    """Show ``records``, then poll for new ones until interrupted or ``wait_timeout`` passes.

    ``fetched`` is everything read so far (``records`` may be its tail); only records beyond it
    are new. Returns every record shown. Transient server or network failures are retried.
    """
    from ...poller import Backoff, Poller, transient

    settings = ctx.session.settings
    backoff = Backoff(settings.poll_interval, maximum=max(settings.poll_interval, 5.0))
    deadline = clock() + settings.wait_timeout
    seen: Counter[str] = Counter()
    new_records(fetched, seen)
    shown = list(records)
    title = f"Logs of {name} (following; interrupt the kernel to stop)"
    lines = [text_line(r) for r in shown]
    handle = None
    if ctx.in_kernel:
        from IPython.display import display

        handle = display(LogLines(title, lines), display_id=True)
    else:
        for line in lines:
            print(line, flush=True)
    ended = f"stopped following after {settings.wait_timeout:g}s (%config Exalsius.wait_timeout)"

    def step() -> float | None:
        """Wait, then one fetch: new records are shown; transient failures back off."""
        if clock() >= deadline:
            return None
        sleep(min(backoff.delay(), max(deadline - clock(), 0.0)))
        try:
            fresh = new_records(fetch(client, workspace_id), seen)
        except ExalsiusError as exc:
            if not transient(exc):
                raise
            backoff.quiet()
            return 0.0
        if not fresh:
            backoff.quiet()
            return 0.0
        backoff.reset()
        shown.extend(fresh)
        if handle is not None:
            lines.extend(text_line(r) for r in fresh)
            handle.update(LogLines(title, lines))
        else:
            for record in fresh:
                print(text_line(record), flush=True)
        return 0.0

    try:
        Poller(step, name="exalsius-logs").run()
    except KeyboardInterrupt:
        ended = "interrupted; stopped following"
    if handle is not None:
        handle.update(LogLines(f"Logs of {name}", lines))
    print(f"{name}: {ended} ({len(shown)} records).")
    return shown
