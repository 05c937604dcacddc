"""Synthetic, seed-deterministic workspaces to pre-populate a sandbox with."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from typing import TypeVar

from .clusters import DEMO_CLUSTERS, TEMPLATES
from .records import Record

T = TypeVar("T")
DAY = 86400.0
PROJECTS = (
    "bert-finetune", "llama-lora", "vision-eval", "rl-agent", "diffusion-lab", "etl-notebook",
    "forecasting", "speech-asr", "recsys", "graph-nn", "protein-fold", "tabular-automl",
)  # fmt: skip
OWNERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace")
# Status weights: mostly RUNNING, some STOPPED, FAILED and PENDING.
STATUSES = ("RUNNING", "STOPPED", "FAILED", "PENDING")
STATUS_WEIGHTS = (70, 15, 10, 5)
DELETE_AFTER_DAYS = (30, 45, 60, 90)


def synthetic_records(n: int, rng: random.Random, now: float | None = None) -> list[Record]:
    """Build n workspaces spread over the demo clusters, templates, statuses and the past 30 days.

    Names are unique ("<project>-<index>"). Pre-populated PENDING workspaces have no due time,
    so they stay PENDING until stopped or started. Every workspace asks for its cluster's GPU type
    (none on a CPU-only cluster); FAILED ones ask for more GPUs than their cluster has (on a
    CPU-only cluster: any GPU), which is why the cluster refused them.
    """
    now = time.time() if now is None else now
    clusters = list(DEMO_CLUSTERS.items())
    templates = list(TEMPLATES.items())
    created = sorted(now - rng.random() * 30 * DAY for _ in range(n))
    statuses = rng.choices(STATUSES, STATUS_WEIGHTS, k=n)
    records = []

    def pick(seq: Sequence[T]) -> T:
        return seq[int(rng.random() * len(seq))]

    for i, created_at in enumerate(created):
        cluster_id, cluster = pick(clusters)
        template_name, (about, variables, _) = pick(templates)
        status = statuses[i]
        gpus = 1 + int(rng.random() * cluster.max_gpus) if cluster.max_gpus else 0
        if status == "FAILED":
            gpus = cluster.max_gpus + pick((1, 2, 3, 4))
        resources: dict[str, object] = {"gpu_count": gpus}
        if cluster.gpu_type:  # the cluster's own GPUs; none named on a CPU-only cluster
            resources["gpu_vendor"] = cluster.gpu_vendor
            resources["gpu_type"] = cluster.gpu_type
        resources["cpu_cores"] = pick((2, 4, 8, 16, 32))
        resources["memory_gb"] = pick((8, 16, 32, 64, 128))
        resources["storage_gb"] = pick((20, 50, 100, 200, 500))
        project = pick(PROJECTS)
        records.append(
            Record(
                id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                name=f"{project}-{i + 1}",
                cluster_id=cluster_id,
                template={
                    "name": template_name,
                    "description": about,
                    "variables": dict(variables),
                },
                resources=resources,
                owner=pick(OWNERS),
                description=f"{project.replace('-', ' ')} on {cluster.name}",
                created_at=created_at,
                to_be_deleted_at=created_at + pick(DELETE_AFTER_DAYS) * DAY,
                status=status,
                outcome=status if status != "PENDING" else "RUNNING",
            )
        )
    return records
