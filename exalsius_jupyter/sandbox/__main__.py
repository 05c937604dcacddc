"""Command line: ``python -m exalsius_jupyter.sandbox --port 8765`` serves until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .app import Sandbox
from .auth import DEFAULT_CLIENT_ID
from .clusters import describe_clusters

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


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        prog="python -m exalsius_jupyter.sandbox",
        description="Serve an exalsius-compatible Workspaces API sandbox under /v1.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one (default 8765)")
    p.add_argument("--pending-seconds", type=float, default=3.0, help="PENDING -> RUNNING delay")
    p.add_argument("--deleted-ttl", type=float, default=30.0, help="seconds DELETED stay listed")
    p.add_argument("--workspaces", type=int, default=0, help="pre-populate N synthetic workspaces")
    p.add_argument("--seed", type=int, default=None, help="seed for pre-population and faults")
    p.add_argument(
        "--state",
        default=None,
        metavar="FILE",
        help="keep workspaces in FILE (JSON snapshot) and FILE.journal; an acknowledged write "
        "survives kill -9 (see 'state' below)",
    )
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    p.add_argument("--error-rate", type=float, default=0.0, help="probability of a 500/503 answer")
    p.add_argument("--drop-rate", type=float, default=0.0, help="probability of a dropped request")
    p.add_argument("--retry-after", type=int, default=1, help="Retry-After of injected 503s")
    p.add_argument("--api", choices=("1.5.1", "1.46"), default="1.5.1", help="response shapes")
    p.add_argument("--no-extras", action="store_true", help="do not serve start and logs")
    p.add_argument("--quiet", action="store_true", help="no request log on stderr")
    auth = p.add_argument_group("identity provider (--auth)")
    auth.add_argument("--auth", action="store_true", help="require bearer tokens; serve OAuth")
    auth.add_argument("--token-ttl", type=float, default=3600.0, help="access token seconds")
    auth.add_argument("--device-code-ttl", type=float, default=600.0, help="device code seconds")
    auth.add_argument("--device-interval", type=float, default=5.0, help="polling interval")
    auth.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help="the accepted client id")
    auth.add_argument(
        "--oauth-errors", choices=("rfc", "auth0"), default="rfc",
        help="HTTP statuses of OAuth errors: rfc (400) or auth0 (403, slow_down 429)",
    )  # fmt: skip
    return p.parse_args(argv)


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
    sandbox = Sandbox(
        args.host,
        args.port,
        pending_seconds=args.pending_seconds,
        deleted_ttl=args.deleted_ttl,
        workspaces=args.workspaces,
        seed=args.seed,
        state=args.state,
        latency=args.latency,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        retry_after=args.retry_after,
        api=args.api,
        extras=not args.no_extras,
        quiet=args.quiet,
        auth=args.auth,
        token_ttl=args.token_ttl,
        device_code_ttl=args.device_code_ttl,
        device_interval=args.device_interval,
        client_id=args.client_id,
        oauth_errors=args.oauth_errors,
    )
    with sandbox:
        print(sandbox.url, flush=True)
        if sandbox.issuer_url is not None:
            print(f"issuer: {sandbox.issuer_url}", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
