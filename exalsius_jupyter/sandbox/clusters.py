"""The demo clusters the sandbox knows, and the templates its synthetic workspaces use."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class DemoCluster:
    """A cluster a workspace can be created on, with what one workspace may ask of it."""

    name: str
    gpu_type: str | None
    gpu_vendor: str | None
    max_gpus: int
    gpu_memory: int = 0

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

# Template name -> (description, variables, access kind: "http" URL path or "ssh").
TEMPLATES: dict[str, tuple[str, dict[str, str], str]] = {
    "jupyter-notebook": ("Jupyter Notebook server", {"notebook_port": "8888"}, "/lab"),
    "ssh-pod": ("Pod reachable over SSH", {"ssh_user": "dev"}, "ssh"),
    "vscode-server": ("VS Code Server", {"server_port": "8080"}, "/"),
    "pytorch-jupyter": ("Jupyter with PyTorch preinstalled", {"notebook_port": "8888"}, "/lab"),
}


def access_kind(template_name: str) -> str:
    """The access a template publishes: a URL path for HTTP templates, or "ssh"."""
    known = TEMPLATES.get(template_name)
    if known is not None:
        return known[2]
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
