"""Command line: ``python -m exalsius_jupyter.sandbox --port 8765`` serves until SIGINT/SIGTERM.

Its flags are made from ``SandboxOptions`` (sandbox/options.py); the CLI's own defaults are the
named overrides of ``options.CLI``: port 8765 and a request log on stderr (``--quiet``: none).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .app import Sandbox
from .clusters import describe_clusters
from .options import CLI, add_arguments, from_args

EPILOG = f"""\
demo clusters (create on one of these; any other cluster_id is a 400):
{describe_clusters()}

lifecycle: a new workspace is PENDING for --pending-seconds, then RUNNING, or FAILED if the
cluster cannot satisfy it (more GPUs than its per-workspace maximum, or a gpu_type other than the
cluster's; case-insensitive, empty is fine). stop -> STOPPED; start -> PENDING -> RUNNING again;
delete -> DELETED at once, then gone (404) after --deleted-ttl seconds. Pre-populated PENDING
workspaces stay PENDING until stopped or started.

auth (--auth): the same server also plays the identity provider at its root (the issuer URL):
POST /oauth/device/code, POST /oauth/token (device-code and refresh-token grants, refresh tokens
rotate, a reused one revokes its session), POST /oauth/revoke, and GET /activate?user_code=...,
a page whose Approve/Deny form POSTs user_code and action=approve|deny to /activate. Every API
request under /v1 then needs "Authorization: Bearer <access token>", else 401.

state (--state FILE): loaded at start (FILE, then the changes in FILE.journal; without FILE,
--workspaces populates it). Every write (create, stop, start, delete) is appended to FILE.journal
and handed to the operating system before its answer is sent, so an acknowledged write survives
kill -9 or a crash of the sandbox. The journal is not fsync'ed per write: an OS crash or power
loss can lose the most recent writes. The journal is compacted into FILE (temporary file, fsync,
rename) once it outgrows FILE, and on a clean exit; leftover temporary files are removed at start.

The base URL is printed as the first line on stdout once listening (with --auth, then a line
"issuer: <issuer URL>"); the request log goes to stderr and never shows a token.
"""


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser: one flag per SandboxOptions field, with the CLI's defaults."""
    p = argparse.ArgumentParser(
        prog="python -m exalsius_jupyter.sandbox",
        description="Serve an exalsius-compatible Workspaces API sandbox under /v1.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p, CLI)
    return p


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    return build_parser().parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sandbox until SIGINT or SIGTERM; returns the exit code."""
    args = parse_args(argv)
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    sandbox = Sandbox(options=from_args(args, CLI))
    with sandbox:
        print(sandbox.url, flush=True)
        if sandbox.issuer_url is not None:
            print(f"issuer: {sandbox.issuer_url}", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
