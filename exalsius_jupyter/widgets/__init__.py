"""ipywidgets views: the workspaces panel and the creation progress widget.

Importing this package builds no widget; widgets are built when a view is constructed.
"""

from .panel import WorkspacePanel
from .progress import CreationProgress

__all__ = ["CreationProgress", "WorkspacePanel"]
