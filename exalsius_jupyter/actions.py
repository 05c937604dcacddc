"""Stop, start or delete one workspace and learn what became of it: what a button press sends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .errors import ExalsiusError, NotFoundError

if TYPE_CHECKING:
    from .api.client import ExalsiusClient
    from .model.workspace import Workspace

Action = Literal["stop", "start", "delete"]
VERBS: dict[str, tuple[str, str, str]] = {  # the action, under way, done
    "stop": ("Stop", "Stopping", "Stopped"),
    "start": ("Start", "Starting", "Started"),
    "delete": ("Delete", "Deleting", "Deleted"),
}


@dataclass(frozen=True)
class ActionOutcome:
    """An action's answer: the workspace after it (None: the server no longer has it)."""

    action: str
    workspace_id: str
    workspace: Workspace | None
    error: ExalsiusError | None = None

    @property
    def ok(self) -> bool:
        """Whether the server accepted the action."""
        return self.error is None

    @property
    def deleted(self) -> bool:
        """Whether the server confirmed a delete (the workspace is gone for good)."""
        return self.ok and self.action == "delete"


def perform(client: ExalsiusClient, action: str, workspace: Workspace) -> ActionOutcome:
    """Send ``action`` with the client's own calls (as the magics do) and read the result.

    An error is part of the outcome, not raised: a 404 means the workspace is gone; after any
    other the workspace is described again (or kept as it was) so the view shows the truth.
    An accepted action whose describe fails is still accepted.
    """
    wid = workspace.id
    try:
        _call(client, action, wid)
    except NotFoundError as exc:
        return ActionOutcome(action, wid, None, exc)
    except ExalsiusError as exc:
        return ActionOutcome(action, wid, _describe_quietly(client, wid) or workspace, exc)
    if action == "delete":
        return ActionOutcome(action, wid, None)  # confirmed: the row goes now, not at a list
    try:
        return ActionOutcome(action, wid, client.describe_workspace(wid))
    except NotFoundError:
        return ActionOutcome(action, wid, None)
    except ExalsiusError:  # accepted all the same: the next list tells the new status
        return ActionOutcome(action, wid, workspace)


def _call(client: ExalsiusClient, action: str, workspace_id: str) -> None:
    if action == "stop":
        client.stop_workspace(workspace_id)
    elif action == "delete":
        client.delete_workspace(workspace_id)
    elif action == "start":
        client.start_workspace(workspace_id)
    else:
        raise ValueError(f"unknown action {action!r}")


def _describe_quietly(client: ExalsiusClient, workspace_id: str) -> Workspace | None:
    try:
        return client.describe_workspace(workspace_id)
    except ExalsiusError:
        return None


__all__ = ["VERBS", "Action", "ActionOutcome", "perform"]
