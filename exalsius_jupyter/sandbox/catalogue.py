"""The read-only catalogue of API 1.46 (``catalogue-1.46.0.yaml``): clusters, nodes, templates.

Served in ``api="1.46"`` mode only (see api.py). The clusters are the demo clusters of
clusters.py plus the DEPLOYING one, each with its self-managed nodes (status DEPLOYED on a READY
cluster); free resources are a node's capacity minus what its PENDING and RUNNING workspaces hold
(the store places each workspace on a node). ``costs_per_hour`` is the sum of the nodes' prices;
``current_costs`` grows with use: each holding workspace's age in hours times its share of its
node's price (its GPUs of the node's GPUs, its CPU cores on a node without GPUs). The templates
are live-like, with nested and typed variables; every one of them can be created.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from .clusters import (
    DEMO_CLUSTERS,
    DEMO_NODES,
    DEPLOYING_CLUSTERS,
    HOLDING,
    NODES,
    DemoCluster,
    DemoNode,
    costs_per_hour,
    free_on,
    size,
)
from .records import Record, iso
from .store import WorkspaceStore

ROUTES: dict[str, tuple[str, ...]] = {
    "/clusters": ("GET",),
    "/cluster/{id}": ("GET",),
    "/cluster/{id}/nodes": ("GET",),
    "/cluster/{id}/resources": ("GET",),
    "/nodes": ("GET",),
    "/node/{id}": ("GET",),
    "/management/workspace-templates": ("GET",),
    "/management/ssh-keys": ("GET",),
}
CLUSTER_STATUSES = ("PENDING", "DEPLOYING", "READY", "DELETING", "FAILED")
NODE_QUERY = {  # /nodes query parameters and their allowed values (None: any string)
    "node_type": ("CLOUD", "SELF_MANAGED"),
    "provider": None,
    "sort_field": ("CREATED_AT", "HOSTNAME"),
    "order_by": ("ASC", "DESC"),
}
CREATED_AT = 1767603600.0  # 2026-01-05T09:00:00Z: when the demo clusters were set up
SSH_KEY_ID = "5a4d5e11-7e1a-4c2b-9d3e-0b5e55a4d000"
SSH_KEYS = ({"id": SSH_KEY_ID, "name": "sandbox-nodes", "scope": "org"},)
OWNER = "auth0|sandbox-admin"
_SOFTWARE = {
    "NVIDIA": {"docker": "27.3.1", "nvidia": "570.86.15"},
    "AMD": {"docker": "27.3.1", "amd": "6.3.1"},
}


def _resources(gpu_count: int, vendor: str = "NVIDIA") -> dict[str, Any]:
    return {
        "gpuCount": gpu_count, "gpuVendor": vendor, "gpuType": "",
        "cpuCores": 4, "memoryGb": 16, "storageGb": 50,
    }  # fmt: skip


def _global(name: str) -> dict[str, str]:
    return {"deploymentName": name, "deploymentNamespace": "default"}


TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "name": "jupyter-notebook-template",
        "description": "Jupyter Notebook server with GPU support; opens with notebookPassword",
        "variables": {
            "global": _global("jupyter-notebook"),
            "deploymentNumReplicas": 1,
            "deploymentImage": "quay.io/jupyter/pytorch-notebook:cuda12-python-3.12",
            "notebookPassword": "",
            "ephemeralStorageGb": 50,
            "resources": _resources(1),
        },
    },
    {
        "name": "marimo-workspace-template",
        "description": "marimo reactive Python notebook; opens with tokenPassword",
        "variables": {
            "global": _global("marimo-workspace"),
            "deploymentNumReplicas": 1,
            "deploymentImage": "ghcr.io/marimo-team/marimo:latest-sql",
            "tokenPassword": "",
            "resources": _resources(0),
        },
    },
    {
        "name": "vscode-devcontainer-template",
        "description": "Dev container reachable over SSH as user dev (sshPassword or sshPublicKey)",
        "variables": {
            "global": _global("vscode-devcontainer"),
            "deploymentNumReplicas": 1,
            "deploymentImage": "mcr.microsoft.com/devcontainers/python:3.12",
            "sshPassword": "",
            "sshPublicKey": "",
            "resources": _resources(1),
        },
    },
    {
        "name": "llm-d-model-template-0-1-1",
        "description": "LLM inference with llm-d (vLLM) serving a Hugging Face model",
        "variables": {
            "global": _global("llm-d-model"),
            "huggingfaceToken": "",
            "inferenceApiKey": "",
            "ms": {
                "modelArtifacts": {"uri": "hf://Qwen/Qwen3-0.6B", "size": "20Gi"},
                "decode": {"replicas": 1, "parallelism": {"tensor": 1, "data": 1}},
                "prefill": {"replicas": 0},
            },
            "resources": _resources(1),
        },
    },
)


class CatalogueError(Exception):
    """A request the catalogue answers with an error: status, title and detail."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        """Args: status: the HTTP status; title, detail: the problem's."""
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


def match(parts: Sequence[str]) -> tuple[str, str | None] | None:
    """The catalogue route and (percent-encoded) id of a path split on "/" after /v1, or None."""
    bare = "/" + "/".join(parts[1:])
    if bare in ROUTES:
        return bare, None
    if len(parts) == 3 and parts[1] in ("cluster", "node"):
        return f"/{parts[1]}/{{id}}", parts[2]
    if len(parts) == 4 and parts[1] == "cluster" and parts[3] in ("nodes", "resources"):
        return f"/cluster/{{id}}/{parts[3]}", parts[2]
    return None


def all_clusters() -> dict[str, DemoCluster]:
    """Every cluster the catalogue lists: the demo clusters, then the DEPLOYING one."""
    return {**DEMO_CLUSTERS, **DEPLOYING_CLUSTERS}


def hardware(cluster: DemoCluster, sizes: Mapping[str, int]) -> dict[str, Any]:
    """A Hardware object: the sizes, with the cluster's GPU vendor, type and memory if any."""
    out: dict[str, Any] = {"gpu_count": sizes["gpu_count"]}
    if cluster.gpu_type:
        out.update(
            gpu_vendor=cluster.gpu_vendor, gpu_type=cluster.gpu_type, gpu_memory=cluster.gpu_memory
        )
    out.update(
        cpu_cores=sizes["cpu_cores"], memory_gb=sizes["memory_gb"], storage_gb=sizes["storage_gb"]
    )
    return out


def _share(node: DemoNode, rec: Record) -> float:
    if node.gpu_count:
        return min(1.0, size(rec.resources, "gpu_count") / node.gpu_count)
    return min(1.0, size(rec.resources, "cpu_cores") / max(1, node.cpu_cores))


def current_costs(cluster_id: str, records: Sequence[Record], now: float) -> float:
    """What the cluster's holding workspaces have cost so far (see the module docstring)."""
    total = 0.0
    for rec in records:
        node = NODES.get(rec.node_id or "")
        if node is None or node.cluster_id != cluster_id or rec.status not in HOLDING:
            continue
        hours = max(0.0, now - rec.created_at) / 3600
        total += hours * node.price_per_hour * _share(node, rec)
    return round(total, 2)


def cluster_view(cluster_id: str, records: Sequence[Record], now: float) -> dict[str, Any]:
    """One cluster as ``GET /clusters`` and ``GET /cluster/{id}`` show it."""
    cluster = all_clusters()[cluster_id]
    labels = {"cluster.exalsius.ai/gpu-type": (cluster.gpu_vendor or "none").lower()}
    return {
        "id": cluster_id,
        "name": cluster.name,
        "namespace": cluster.name,
        "owner": OWNER,
        "owner_username": "sandbox-admin@example.com",
        "owner_org_id": "org_sandbox",
        "owner_org_name": "Sandbox Org",
        "owner_teams": ["platform"],
        "cluster_type": cluster.cluster_type,
        "vpn_cluster": False,
        "telemetry_enabled": False,
        "cluster_status": cluster.cluster_status,
        "cluster_labels": labels,
        "created_at": iso(CREATED_AT),
        "updated_at": iso(CREATED_AT),
        "control_plane_node_ids": [],
        "worker_node_ids": [node.id for node in DEMO_NODES.get(cluster_id, ())],
        "service_deployments": [],
        "workspace_deployments": [
            {
                "workspace_id": rec.id,
                "workspace_name": rec.name,
                "workspace_template": str(rec.template.get("name", "")),
                "owner": f"auth0|{rec.owner}",
            }
            for rec in records
            if rec.cluster_id == cluster_id and rec.status != "DELETED"
        ],
        "k8s_version": "v1.32.5",
        "current_costs": current_costs(cluster_id, records, now),
        "costs_per_hour": costs_per_hour(cluster_id),
    }


def node_view(node: DemoNode) -> dict[str, Any]:
    """One self-managed node as ``GET /nodes`` and ``GET /node/{id}`` show it."""
    cluster = all_clusters()[node.cluster_id]
    ready = cluster.cluster_status == "READY"
    index = list(NODES).index(node.id)
    return {
        "id": node.id,
        "node_type": "SELF_MANAGED",
        "namespace": cluster.name,
        "hostname": node.hostname,
        "location": "sandbox",
        "import_time": iso(CREATED_AT + index * 60),
        "price_per_hour": node.price_per_hour,
        "node_status": "DEPLOYED" if ready else "ADDED",
        "hardware": hardware(cluster, node.capacity()),
        "software": _SOFTWARE.get(cluster.gpu_vendor or "", {"docker": "27.3.1"}),
        "system": {"os": "Ubuntu 24.04.2 LTS", "kernel": "6.8.0-60-generic"},
        "endpoint": f"10.0.0.{11 + index}:22",
        "username": "ubuntu",
        "ssh_key_id": SSH_KEY_ID,
        "last_heartbeat_date": iso(time.time() // 30 * 30),
    }


class Catalogue:
    """Answers the catalogue's GET routes from the store's workspaces."""

    def __init__(self, store: WorkspaceStore) -> None:
        """Args: store: the workspaces whose placements make the free resources."""
        self.store = store

    def answer(self, route: str, item_id: str, query: str) -> tuple[dict[str, Any], int | None]:
        """The 200 body of a GET on `route` and its X-Total-Count (or None); else CatalogueError."""
        if route == "/clusters":
            return self._clusters(query)
        if route == "/nodes":
            return self._nodes(query)
        if route == "/management/workspace-templates":
            templates = copy.deepcopy(list(TEMPLATES))
            return {"workspace_templates": templates, "total": len(templates)}, len(templates)
        if route == "/management/ssh-keys":
            return {"ssh_keys": [dict(k) for k in SSH_KEYS], "total": len(SSH_KEYS)}, None
        if route == "/node/{id}":
            node = NODES.get(item_id.lower())
            if node is None:
                raise CatalogueError(404, "Not Found", f"The node with ID {item_id} was not found.")
            return node_view(node), None
        cluster_id = item_id.lower()
        if cluster_id not in all_clusters():
            raise CatalogueError(
                404, "Cluster Not Found", f"The cluster with ID {item_id} was not found."
            )
        if route == "/cluster/{id}/nodes":
            workers = [node.id for node in DEMO_NODES.get(cluster_id, ())]
            return {
                "cluster_id": cluster_id,
                "control_plane_node_ids": [],
                "worker_node_ids": workers,
                "total_nodes": len(workers),
            }, None
        if route == "/cluster/{id}/resources":
            return self._resources(cluster_id), None
        return {"cluster": cluster_view(cluster_id, self.store.placements(), time.time())}, None

    def _clusters(self, query: str) -> tuple[dict[str, Any], int | None]:
        values = parse_qs(query, keep_blank_values=True).get("cluster_status")
        wanted = None
        if values is not None:
            if len(values) != 1 or values[0] not in CLUSTER_STATUSES:
                raise CatalogueError(
                    404,
                    "Not Found",
                    f"No cluster status {','.join(values)}; "
                    f"the statuses are {', '.join(CLUSTER_STATUSES)}.",
                )
            wanted = values[0]
        records, now = self.store.placements(), time.time()
        clusters = [
            cluster_view(cluster_id, records, now)
            for cluster_id, cluster in all_clusters().items()
            if wanted is None or cluster.cluster_status == wanted
        ]
        return {"clusters": clusters, "total": len(clusters)}, None

    def _nodes(self, query: str) -> tuple[dict[str, Any], int | None]:
        given = parse_qs(query, keep_blank_values=True)
        chosen: dict[str, str] = {}
        for key, allowed in NODE_QUERY.items():
            values = given.get(key)
            if values is None:
                continue
            if len(values) != 1 or (allowed is not None and values[0] not in allowed):
                raise CatalogueError(
                    422, "Unprocessable Entity", f"Unsupported value for parameter {key}."
                )
            chosen[key] = values[0]
        nodes = list(NODES.values())
        if chosen.get("node_type", "SELF_MANAGED") != "SELF_MANAGED" or "provider" in chosen:
            nodes = []  # every sandbox node is self-managed: none is a cloud provider's
        if chosen.get("sort_field") == "HOSTNAME":
            nodes.sort(key=lambda node: (node.hostname, all_clusters()[node.cluster_id].name))
        if chosen.get("order_by") == "DESC":
            nodes.reverse()
        views = [node_view(node) for node in nodes]
        return {"nodes": views, "total": len(views)}, len(views)

    def _resources(self, cluster_id: str) -> dict[str, Any]:
        cluster = all_clusters()[cluster_id]
        held = self.store.occupancy()
        items = [
            {
                "node_id": node.id,
                "node_name": node.hostname,
                "available": hardware(cluster, free_on(node, held)),
                "occupied": hardware(cluster, held[node.id]),
            }
            for node in DEMO_NODES.get(cluster_id, ())
        ]
        return {"resources": items, "total": len(items)}
