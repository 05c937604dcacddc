"""What the magics return: a readable single workspace and the final state after waiting."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from ..render import access_link_html, escape, opens_with_text

if TYPE_CHECKING:
    import pandas as pd

    from ..model.workspace import Workspace
    from ..watch import Tracked


class WorkspaceDescription:
    """One workspace: ``.frame`` (one row, the list's columns), ``.workspace`` and the link."""

    def __init__(self, frame: pd.DataFrame, workspace: Workspace) -> None:
        self.frame = frame
        self.workspace = workspace

    @property
    def access_url(self) -> str | None:
        """The primary access link, if the workspace has one."""
        return self.workspace.access_url

    def _fields(self) -> list[tuple[str, str]]:
        row = self.frame.iloc[0]
        return [(col, "" if _missing(row[col]) else str(row[col]))
                for col in self.frame.columns if col != "access_information"]

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._fields() if v)
        url = self.access_url
        opens = escape(opens_with_text(self.workspace))
        link = (f"<p>Access: {access_link_html(url, self.workspace.opens_with)}{opens}</p>"
                if url else "")  # the panel's rule
        title = html.escape(self.workspace.name or self.workspace.id or "workspace")
        return f"<div><h4>{title}</h4><table>{rows}</table>{link}</div>"

    def __repr__(self) -> str:
        fields = [(k, v) for k, v in self._fields() if v]
        width = max((len(k) for k, _ in fields), default=0)
        lines = [f"{k.ljust(width)}  {v}" for k, v in fields]
        access = (self.access_url + opens_with_text(self.workspace) if self.access_url
                  else "(none yet)")
        lines.append(f"{'access'.ljust(width)}  {access}")
        return "\n".join(lines)


def _missing(value: Any) -> bool:
    """Whether a frame cell holds nothing (None, NaN, NaT, <NA>); text never counts."""
    if isinstance(value, str):
        return False
    import pandas as pd

    return value is None or bool(pd.isna(value))


def final_state_frame(tracked: dict[str, Tracked]) -> pd.DataFrame:
    """One row per waited-for workspace: its last status, how waiting ended, its access link."""
    import pandas as pd

    rows = []
    for wid, t in tracked.items():
        ws = t.workspace
        rows.append({
            "id": wid,
            "name": t.name,
            "cluster_id": ws.cluster_id if ws else None,
            "workspace_status": str(ws.workspace_status) if ws else None,
            "stage": t.stage,
            "access_information": ws.access_url if ws else None,
        })
    columns = ["id", "name", "cluster_id", "workspace_status", "stage", "access_information"]
    return pd.DataFrame(rows, columns=columns).astype("string")
