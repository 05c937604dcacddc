"""Showing progress while workspaces come up: the widget in Jupyter, text lines elsewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

if TYPE_CHECKING:
    from .context import CommandContext

INTERRUPTED = ("interrupted; the workspaces keep changing on the server: "
               "%exalsius wait NAME resumes waiting, %exalsius list shows where they are")


def follow(ctx: CommandContext, ids: list[str], *, timeout: float | None, block: bool) -> Any:
    """Show progress until the workspaces end; return their final state (``block``)."""
    from .results import final_state_frame

    client = ctx.client()
    settings = ctx.session.settings
    timeout = timeout or settings.wait_timeout
    progress_cls = _progress_widget(ctx)
    if progress_cls is not None:
        from IPython.display import display

        progress = progress_cls(ids, client=client, timeout=timeout,
                                interval=settings.poll_interval)
        # One display, updated in place when waiting ends: the saved notebook keeps the final
        # state (its HTML/text fallback), not the first snapshot.
        shown = display(progress._repr_mimebundle_(), raw=True, display_id=True)
        progress.start()
        if not block:
            return None
        try:
            tracked = progress.wait()
        except KeyboardInterrupt:
            raise UsageError(INTERRUPTED) from None
        finally:
            if shown is not None:
                shown.update(progress._repr_mimebundle_(), raw=True)
        watcher = progress.watcher
    else:
        from ..watch import WorkspaceWatcher
        from .textprogress import TextProgress

        watcher = WorkspaceWatcher(client, ids, timeout=timeout, interval=settings.poll_interval)
        text = TextProgress()
        text.start(watcher)
        try:
            tracked = watcher.run(on_tick=text)
        except KeyboardInterrupt:
            raise UsageError(INTERRUPTED) from None
    frame = final_state_frame(tracked)
    watcher.raise_for_outcome()
    return frame


def _progress_widget(ctx: CommandContext) -> Any:
    if not ctx.in_kernel:
        return None
    try:
        from ..widgets import CreationProgress
    except ImportError:
        return None
    return CreationProgress
