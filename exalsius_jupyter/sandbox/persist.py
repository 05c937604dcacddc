"""The sandbox's state on disk: a JSON snapshot plus an append-only journal of later changes.

``FILE`` holds a snapshot of every record; ``FILE.journal`` holds one JSON line per change since
that snapshot: the changed record's whole state, so replaying the lines in order over the snapshot
(last one wins) gives the current state, and replaying them twice gives the same. A change is
appended and handed to the operating system (an unbuffered ``write``) before the store returns,
hence before the HTTP answer is sent: it survives ``kill -9`` or a crash of the sandbox. Lines are
not fsync'ed, so a power loss or an OS crash can lose the latest ones; a torn last line (no
newline) was never acknowledged and is dropped. Compaction writes a new snapshot to a temporary
file, fsyncs it, renames it over ``FILE`` and only then removes the journal; stale temporary files
of an interrupted compaction are removed at start.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

FORMAT = "exalsius-sandbox-state/1"
_encode = json.JSONEncoder(separators=(",", ":")).encode


def journal_path(path: Path) -> Path:
    """Where the journal of the state file `path` lives: beside it, as ``<name>.journal``."""
    return path.with_name(path.name + ".journal")


def _temporaries(path: Path) -> list[Path]:
    return list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))


def remove_stale_temporaries(path: Path) -> int:
    """Delete temporary files an interrupted save of `path` left behind; how many there were."""
    stale = _temporaries(path)
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return len(stale)


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The record states the journal holds, oldest first; [] when there is no journal."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    lines = raw.split(b"\n")
    lines.pop()  # b"" after the last newline, or a torn line that was never acknowledged
    changes: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        try:
            change = json.loads(line)
        except ValueError:
            raise ValueError(f"{path}:{number} is not a sandbox journal line") from None
        if not isinstance(change, dict) or not isinstance(change.get("id"), str):
            raise ValueError(f"{path}:{number} is not a sandbox journal line")
        changes.append(change)
    return changes


def load_state(path: Path) -> list[dict[str, Any]] | None:
    """The saved records (snapshot with the journal replayed), or None when nothing is saved."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = None
    if data is not None and (not isinstance(data, dict) or data.get("format") != FORMAT):
        raise ValueError(f"{path} is not a sandbox state file ({FORMAT})")
    changes = read_journal(journal_path(path))
    if data is None and not changes:
        return None
    records = {item["id"]: item for item in ([] if data is None else data["workspaces"])}
    for change in changes:
        records[change["id"]] = change  # an existing id keeps its place, as in the store
    return list(records.values())


def _fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (POSIX; a no-op where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_state(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """Write a snapshot to a temporary file beside `path`, fsync it, move it into place; bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        data = _encode({"format": FORMAT, "workspaces": list(records)}).encode("utf-8")
        with os.fdopen(fd, "wb") as out:
            out.write(data)  # one encode and one write: several times faster than json.dump
            out.flush()
            os.fsync(out.fileno())
        size = len(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return size


class Journal:
    """The append-only change log of one state file; not thread-safe (the store's lock is)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self.size = 0

    def _open(self) -> BinaryIO:
        if self._file is None:
            handle = open(self.path, "a+b", buffering=0)  # noqa: SIM115 - kept open, closed later
            try:
                self._drop_torn_tail(handle)
            except BaseException:
                handle.close()
                raise
            self._file = handle
            self.size = os.fstat(handle.fileno()).st_size
        return self._file

    @staticmethod
    def _drop_torn_tail(handle: BinaryIO) -> None:
        """Cut an unfinished last line (a write cut short) so the next line starts cleanly."""
        end = handle.seek(0, os.SEEK_END)
        if end == 0:
            return
        keep = end
        while keep > 0:
            start = max(0, keep - 65536)
            handle.seek(start)
            block = handle.read(keep - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            keep = start
        if keep != end:
            handle.truncate(keep)

    def append(self, state: dict[str, Any]) -> None:
        """Add one record state as a line and hand it to the OS before returning."""
        handle = self._open()
        line = (_encode(state) + "\n").encode("utf-8")
        view = memoryview(line)
        while view:
            written = handle.write(view)
            if not written:
                raise OSError(f"could not append to {self.path}")
            view = view[written:]
        self.size += len(line)

    def remove(self) -> None:
        """Close and delete the journal (after a snapshot made it redundant)."""
        self.close()
        self.path.unlink(missing_ok=True)
        self.size = 0

    def close(self) -> None:
        """Close the file; the next append reopens it."""
        if self._file is not None:
            self._file.close()
            self._file = None
