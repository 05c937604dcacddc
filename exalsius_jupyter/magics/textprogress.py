"""Plain-text progress for waiting in a terminal (or anywhere without widgets)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ..watch import WorkspaceWatcher


class TextProgress:
    """Prints one line whenever a workspace's stage changes (use as ``on_tick``)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out
        self._stages: dict[str, str] = {}
        self._error: str | None = None

    def _print(self, line: str) -> None:
        print(line, file=self.out or sys.stdout, flush=True)

    def start(self, watcher: WorkspaceWatcher) -> None:
        """Announce what is being waited for."""
        n = len(watcher.tracked)
        noun = "workspace" if n == 1 else "workspaces"
        self._print(f"Waiting for {n} {noun} (timeout {watcher.timeout:g}s)")

    def __call__(self, watcher: WorkspaceWatcher) -> None:
        """Print the workspaces whose stage changed since the last tick."""
        now = watcher.clock()
        for wid, t in watcher.tracked.items():
            if self._stages.get(wid) == t.stage:
                continue
            self._stages[wid] = t.stage
            line = f"  {t.name}: {t.stage}"
            if t.done:
                line += f" after {t.elapsed(now):.1f}s"
            url = t.workspace.access_url if t.workspace and t.succeeded else None
            from ..render import opens_with_text

            if url and t.workspace:
                line += f" at {url}{opens_with_text(t.workspace)}"
            self._print(line)
        error = str(watcher.last_error) if watcher.last_error else None
        if error and error != self._error:
            self._print(f"  (retrying: {error})")
        self._error = error
