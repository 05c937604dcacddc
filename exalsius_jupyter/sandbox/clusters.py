"""The demo clusters the sandbox knows, and the templates its synthetic workspaces use."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

NODE_NAMESPACE = uuid.UUID("0e5a1d5c-5a4d-4b0c-8e7a-5a4db0c8e7a5")  # node ids: uuid5(this, path)
SIZES = ("gpu_count", "cpu_cores", "memory_gb", "storage_gb")
HOLDING = frozenset({"PENDING", "RUNNING"})  # the statuses in which a workspace holds its node


@dataclass(frozen=True)
class DemoCluster:
    """A cluster a workspace can be created on, with what one workspace may ask of it."""

    name: str
    gpu_type: str | None
    gpu_vendor: str | None
    max_gpus: int
    gpu_memory: int = 0
    cluster_type: str = "REMOTE"
    cluster_status: str = "READY"

    def refuses(self, gpu_count: int, gpu_type: str | None) -> str | None:
        """Why the cluster cannot run a workspace asking for this, or None when it can."""
        if gpu_count > self.max_gpus:
            return f"cluster {self.name} offers at most {self.max_gpus} GPUs per workspace"
        if gpu_type and (self.gpu_type or "").lower() != gpu_type.lower():
            offered = self.gpu_type or "no GPUs"
            return f"cluster {self.name} offers {offered}, not {gpu_type}"
        return None


DEMO_CLUSTERS: MappingProxyType[str, DemoCluster] = MappingProxyType(
    {
        "11111111-1111-4111-8111-111111111111": DemoCluster("demo-a100", "A100", "NVIDIA", 8, 80),
        "22222222-2222-4222-8222-222222222222": DemoCluster("demo-h100", "H100", "NVIDIA", 4, 80),
        "33333333-3333-4333-8333-333333333333": DemoCluster("demo-cpu", None, None, 0),
        "44444444-4444-4444-8444-444444444444": DemoCluster("demo-mi300x", "MI300X", "AMD", 8, 192),
    }
)

DEPLOYING_CLUSTERS: MappingProxyType[str, DemoCluster] = MappingProxyType(
    {  # listed by the 1.46 catalogue only; a create on it is refused (not READY)
        "55555555-5555-4555-8555-555555555555": DemoCluster(
            "demo-l40s", "L40S", "NVIDIA", 4, 48, cluster_status="DEPLOYING"
        ),
    }
)


@dataclass(frozen=True)
class DemoNode:
    """One self-managed worker node of a demo cluster and its whole capacity."""

    id: str
    cluster_id: str
    hostname: str
    gpu_count: int
    cpu_cores: int
    memory_gb: int
    storage_gb: int
    price_per_hour: float

    def capacity(self) -> dict[str, int]:
        """The node's sizes, keyed like a workspace's resources."""
        return {
            "gpu_count": self.gpu_count,
            "cpu_cores": self.cpu_cores,
            "memory_gb": self.memory_gb,
            "storage_gb": self.storage_gb,
        }


def _nodes(cluster_id: str, *specs: tuple[str, int, int, int, int, float]) -> tuple[DemoNode, ...]:
    cluster = {**DEMO_CLUSTERS, **DEPLOYING_CLUSTERS}[cluster_id].name
    return tuple(
        DemoNode(
            str(uuid.uuid5(NODE_NAMESPACE, f"{cluster}/{host}")),
            cluster_id,
            host,
            gpus,
            cpus,
            memory,
            storage,
            price,
        )
        for host, gpus, cpus, memory, storage, price in specs
    )


# cluster id -> its nodes: (hostname, GPUs, CPU cores, memory GB, storage GB, price per hour).
# Each GPU cluster has a node with its max_gpus, so refuses() and the capacity agree.
DEMO_NODES: MappingProxyType[str, tuple[DemoNode, ...]] = MappingProxyType(
    {
        "11111111-1111-4111-8111-111111111111": _nodes(
            "11111111-1111-4111-8111-111111111111",
            ("node-a", 8, 128, 1024, 4000, 14.8),
            ("node-b", 4, 64, 512, 2000, 7.4),
        ),
        "22222222-2222-4222-8222-222222222222": _nodes(
            "22222222-2222-4222-8222-222222222222",
            ("node-a", 4, 96, 1024, 4000, 11.96),
            ("node-b", 2, 48, 512, 2000, 5.98),
        ),
        "33333333-3333-4333-8333-333333333333": _nodes(
            "33333333-3333-4333-8333-333333333333",
            ("node-a", 0, 64, 256, 2000, 1.2),
        ),
        "44444444-4444-4444-8444-444444444444": _nodes(
            "44444444-4444-4444-8444-444444444444",
            ("node-a", 8, 192, 2048, 8000, 21.6),
            ("node-b", 8, 192, 2048, 8000, 21.6),
            ("node-c", 4, 96, 1024, 4000, 10.8),
        ),
        "55555555-5555-4555-8555-555555555555": _nodes(
            "55555555-5555-4555-8555-555555555555",
            ("node-a", 4, 64, 512, 2000, 6.4),
        ),
    }
)
NODES: MappingProxyType[str, DemoNode] = MappingProxyType(
    {node.id: node for nodes in DEMO_NODES.values() for node in nodes}
)


def costs_per_hour(cluster_id: str) -> float:
    """What a cluster costs per hour: the sum of its nodes' prices."""
    return round(sum(node.price_per_hour for node in DEMO_NODES.get(cluster_id, ())), 2)


def size(resources: Mapping[str, Any], key: str) -> int:
    """One size of a workspace's resources; a missing or odd value counts as 0."""
    value = resources.get(key)
    return value if type(value) is int and value > 0 else 0


def held_by_node(
    workspaces: Iterable[tuple[str | None, str, Mapping[str, Any]]],
) -> dict[str, dict[str, int]]:
    """Per node id, the sizes its workspaces hold, from (node_id, status, resources) triples."""
    held = {node_id: dict.fromkeys(SIZES, 0) for node_id in NODES}
    for node_id, status, resources in workspaces:
        if node_id in held and status in HOLDING:
            for key in SIZES:
                held[node_id][key] += size(resources, key)
    return held


def free_on(node: DemoNode, held: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """What is free on a node: its capacity minus what is held there (never below 0)."""
    taken = held.get(node.id, {})
    return {key: max(0, cap - taken.get(key, 0)) for key, cap in node.capacity().items()}


def first_fit(
    cluster_id: str, resources: Mapping[str, Any], held: Mapping[str, Mapping[str, int]]
) -> DemoNode | None:
    """The cluster's first node whose free sizes hold the resources asked for, or None."""
    for node in DEMO_NODES.get(cluster_id, ()):
        free = free_on(node, held)
        if all(size(resources, key) <= free[key] for key in SIZES):
            return node
    return None


# Template name -> (description, variables, access kind: "http" URL path or "ssh").
TEMPLATES: dict[str, tuple[str, dict[str, str], str]] = {
    "jupyter-notebook": ("Jupyter Notebook server", {"notebook_port": "8888"}, "/lab"),
    "ssh-pod": ("Pod reachable over SSH", {"ssh_user": "dev"}, "ssh"),
    "vscode-server": ("VS Code Server", {"server_port": "8080"}, "/"),
    "pytorch-jupyter": ("Jupyter with PyTorch preinstalled", {"notebook_port": "8888"}, "/lab"),
}

# The live service's templates (the 1.46 catalogue lists them) -> the access each publishes.
LIVE_ACCESS: dict[str, str] = {
    "jupyter-notebook-template": "/lab",
    "marimo-workspace-template": "/",
    "vscode-devcontainer-template": "ssh",
    "llm-d-model-template-0-1-1": "/v1/models",
}


def access_kind(template_name: str) -> str:
    """The access a template publishes: a URL path for HTTP templates, or "ssh"."""
    known = TEMPLATES.get(template_name)
    if known is not None:
        return known[2]
    if template_name in LIVE_ACCESS:
        return LIVE_ACCESS[template_name]
    name = template_name.lower()
    if "ssh" in name:
        return "ssh"
    return "/lab" if "jupyter" in name or "notebook" in name else "/"


def describe_clusters() -> str:
    """One line per demo cluster, for --help and docs."""
    lines = []
    for cluster_id, c in DEMO_CLUSTERS.items():
        gpus = f"{c.gpu_vendor} {c.gpu_type}, up to {c.max_gpus} per workspace"
        if not c.max_gpus:
            gpus = "no GPUs"
        lines.append(f"  {c.name:<12} {cluster_id}  ({gpus})")
    return "\n".join(lines)
