"""A lock file that processes honour, so kernels sharing one stored sign-in renew it in turn."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import RequestTimeoutError

logger = logging.getLogger(__name__)

LOCK_DIR_ENV = "EXALSIUS_LOCK_DIR"  # where the lock files live (default ~/.cache/exalsius-jupyter)
RETRY_EVERY = 0.02


def lock_path(name: str) -> Path:
    """The lock file for ``name`` (a file name, e.g. ``exalsius_cli-<client id>.lock``)."""
    base = os.environ.get(LOCK_DIR_ENV) or str(Path.home() / ".cache" / "exalsius-jupyter")
    return Path(base) / name


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def held(path: Path, timeout: float, what: str = "the stored sign-in") -> Iterator[None]:
    """Hold the lock at ``path`` for the block, waiting at most ``timeout`` seconds for it.

    A lock file that cannot be made (a read-only home) is skipped with a warning: the renewal
    then goes on as before, re-reading what is stored first.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        logger.warning("no lock file for %s (%s); renewing without it", what,
                       type(exc).__name__)
        yield
        return
    try:
        end = time.monotonic() + timeout
        while True:
            try:
                _try_lock(fd)
                break
            except OSError:
                if time.monotonic() >= end:
                    raise RequestTimeoutError(
                        f"could not renew {what}: another kernel was still renewing it when "
                        "this call's deadline ended") from None
                time.sleep(RETRY_EVERY)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
