"""One stored workspace, its JSON views (API 1.5.1 or 1.46) and its synthetic logs."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from .clusters import DEMO_CLUSTERS, access_kind

NODE_PORT_BASE = 30000
NODE_PORT_SPAN = 2768  # the Kubernetes NodePort range 30000-32767
OWNER_TEAMS = ("ml-team", "platform", "research", "data-science")
_encode = json.JSONEncoder(separators=(",", ":")).encode


def iso(ts: float, *, millis: bool = False) -> str:
    """Format epoch seconds as ISO 8601 UTC with a trailing 'Z'."""
    t = time.gmtime(ts)  # strftime's %Y drops the zeros of a year below 1000 on Linux
    base = f"{t.tm_year:04d}-" + time.strftime("%m-%dT%H:%M:%S", t)
    return f"{base}.{int(ts * 1000) % 1000:03d}Z" if millis else base + "Z"


@dataclass(slots=True)
class Record:
    """A workspace as the store keeps it; `due` is when PENDING ends or a DELETED one vanishes."""

    id: str
    name: str
    cluster_id: str
    template: dict[str, Any]
    resources: dict[str, Any]
    owner: str
    description: str
    created_at: float
    to_be_deleted_at: float
    status: str
    due: float | None = None
    outcome: str = "RUNNING"
    node_id: str | None = None  # the node it landed on (see store.py), None if it fits none
    events: list[tuple[float, str]] = field(default_factory=list)
    cached: bytes | None = None

    def port(self) -> int:
        """The synthetic NodePort this workspace publishes, stable per id."""
        return NODE_PORT_BASE + int(self.id.replace("-", "")[:8], 16) % NODE_PORT_SPAN

    def access_line(self) -> str:
        """The 1.5.1 access_information string: a URL, or an ssh command for ssh templates."""
        kind = access_kind(self.template.get("name", ""))
        if kind == "ssh":
            return f"ssh -p {self.port()} dev@127.0.0.1"
        return f"http://127.0.0.1:{self.port()}{kind}"

    def access_objects(self) -> list[dict[str, Any]]:
        """The 1.46 access_information list: one NodePort access object."""
        ssh = access_kind(self.template.get("name", "")) == "ssh"
        return [
            {
                "access_type": "NODE_PORT",
                "access_protocol": "SSH" if ssh else "HTTP",
                "port_name": "ssh" if ssh else "http",
                "port_number": self.port(),
                "external_ips": ["127.0.0.1"],
                "access_description": f"SSH into the workspace pod as dev: {self.access_line()}"
                if ssh
                else f"Opens the workspace UI at {self.access_line()}",
            }
        ]

    def view(self, api: str) -> dict[str, Any]:
        """The workspace as the API shows it."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "cluster_id": self.cluster_id,
            "workspace_status": self.status,
            "template": self.template,
            "owner": self.owner,
            "description": self.description,
            "resources": self.resources,
            "created_at": iso(self.created_at),
            "to_be_deleted_at": iso(self.to_be_deleted_at),
        }
        if api == "1.46":
            out["owner"] = f"auth0|{self.owner}"
            out["owner_username"] = f"{self.owner}@example.com"
            out["owner_org_id"] = "org_sandbox"
            out["owner_org_name"] = "Sandbox Org"
            out["owner_teams"] = [OWNER_TEAMS[len(self.owner) % len(OWNER_TEAMS)]]
            cluster = DEMO_CLUSTERS.get(self.cluster_id)
            if cluster and cluster.gpu_memory and self.resources.get("gpu_count"):
                out["resources"] = {"gpu_memory": cluster.gpu_memory, **self.resources}
        if self.status == "RUNNING":
            out["access_information"] = (
                self.access_objects() if api == "1.46" else self.access_line()
            )
        return out

    def json(self, api: str) -> bytes:
        """The view serialised, cached until the record changes."""
        if self.cached is None:
            self.cached = _encode(self.view(api)).encode()
        return self.cached

    def log_lines(self) -> bytes:
        """NDJSON log lines describing this workspace's lifecycle so far."""
        cluster = DEMO_CLUSTERS.get(self.cluster_id)
        where = cluster.name if cluster else self.cluster_id
        template = self.template.get("name", "")
        events = [
            (self.created_at, f"Workspace {self.name} created from template {template}"),
            (self.created_at, f"Pod scheduled on cluster {where}"),
            *self.events,
        ]
        if not self.events and self.status != "PENDING":
            events.append((self.created_at + 30.0, f"Workspace is {self.status}"))
        pod = f"ws-{self.id[:8]}-0"
        return b"".join(
            json.dumps(
                {
                    "pod_name": pod,
                    "pod_namespace": "workspaces",
                    "timestamp": iso(ts, millis=True),
                    "log_message": message,
                }
            ).encode()
            + b"\n"
            for ts, message in events
        )

    def to_state(self) -> dict[str, Any]:
        """A JSON-safe dict for the state file."""
        return {
            "id": self.id,
            "name": self.name,
            "cluster_id": self.cluster_id,
            "template": self.template,
            "resources": self.resources,
            "owner": self.owner,
            "description": self.description,
            "created_at": self.created_at,
            "to_be_deleted_at": self.to_be_deleted_at,
            "status": self.status,
            "due": self.due,
            "outcome": self.outcome,
            "node_id": self.node_id,
            "events": [list(e) for e in self.events],
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Record:
        """Rebuild a record from `to_state` output."""
        fields = {k: v for k, v in data.items() if k != "events"}
        return cls(**fields, events=[(float(t), str(m)) for t, m in data.get("events", [])])
