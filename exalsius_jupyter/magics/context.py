"""What a subcommand gets to work with: the session, the shell, and whether a kernel runs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..api.client import ExalsiusClient
    from ..session import Session


@dataclass(frozen=True)
class CommandContext:
    """The kernel's session, the IPython shell (user_ns, stdin) and whether widgets can show.

    A subcommand gets this, never the Magics object.
    """

    session: Session
    shell: Any
    in_kernel: bool = False

    @property
    def user_ns(self) -> dict[str, Any]:
        """The notebook's variables (``-o VAR`` writes here; ``$name`` and ``@var`` read here)."""
        ns = getattr(self.shell, "user_ns", None)
        return ns if isinstance(ns, dict) else {}

    def client(self) -> ExalsiusClient:
        """The session's client (raises, in one line, why the settings give none)."""
        return self.session.client()

    def cluster_id(self, key: str | None) -> str | None:
        """The id of the cluster ``key`` names (a name, id or unique id prefix) where the server
        has the catalogue; elsewhere ``key`` itself (the server knows ids only)."""
        if key is None:
            return None
        client = self.client()
        if not client.offers_catalogue():
            return key
        from ..model.placement import resolve_cluster

        return resolve_cluster(client.list_clusters(), key).id
