"""Placement and fitting as tables: which cluster and node, what resources, which one-line error."""

from __future__ import annotations

from typing import Any

import pytest

from exalsius_jupyter.errors import ValidationError
from exalsius_jupyter.model.catalogue import Cluster, NodeResources
from exalsius_jupyter.model.placement import fit, place, resolve_cluster, summary_lines


def cluster(name: str, cid: str, cost: float | None, status: str = "READY") -> Cluster:
    return Cluster.from_api({"id": cid, "name": name, "cluster_status": status,
                             "costs_per_hour": cost})


def node(name: str, gpus: int, gpu_type: str | None, cpu: int = 64, mem: int = 512,
         disk: int = 2000, used_gpus: int = 0) -> NodeResources:
    free = {"gpu_count": gpus, "gpu_type": gpu_type, "gpu_vendor": "NVIDIA" if gpu_type else None,
            "cpu_cores": cpu, "memory_gb": mem, "storage_gb": disk}
    used = {"gpu_count": used_gpus, "gpu_type": gpu_type, "cpu_cores": 0, "memory_gb": 0,
            "storage_gb": 0}
    return NodeResources.from_api({"node_id": f"id-{name}", "node_name": name,
                                   "available": free, "occupied": used})


A100 = cluster("demo-a100", "11111111-1111-4111-8111-111111111111", 22.2)
H100 = cluster("demo-h100", "22222222-2222-4222-8222-222222222222", 17.94)
CPU = cluster("demo-cpu", "33333333-3333-4333-8333-333333333333", 1.2)
H100B = cluster("h100-east", "22229999-0000-4000-8000-000000000000", 17.94)
FREE = cluster("no-price", "66666666-0000-4000-8000-000000000000", None)
DEPLOYING = cluster("demo-l40s", "55555555-5555-4555-8555-555555555555", 3.0, "DEPLOYING")
SMALL = cluster("small", "77777777-0000-4000-8000-000000000000", 0.5)
CLUSTERS = [A100, H100, CPU, DEPLOYING]
TINY = cluster("tiny", "88888888-0000-4000-8000-000000000000", 0.1)
NODES: dict[str, list[NodeResources]] = {
    TINY.id: [node("t-1", 1, "T4", cpu=1, mem=4, disk=10)],
    A100.id: [node("a-1", 8, "A100")],
    H100.id: [node("h-1", 1, "H100", used_gpus=3), node("h-2", 2, "H100", used_gpus=2)],
    CPU.id: [node("c-1", 0, None, cpu=32, mem=128, disk=500)],
    DEPLOYING.id: [node("l-1", 8, "L40S")],
    H100B.id: [node("e-1", 4, "H100")],
    FREE.id: [node("f-1", 4, "H100")],
    SMALL.id: [node("s-1", 1, "T4", cpu=8), node("s-2", 1, "T4", cpu=32)],
}

PLACES = [
    # (id, clusters, request, expected cluster/node, expected reason fragment)
    ("cheapest-first", CLUSTERS, {"gpu_count": 1}, "demo-h100/h-1", "cheapest READY cluster"),
    ("type-picks-cluster", CLUSTERS, {"gpu_count": 2, "gpu_type": "a100"}, "demo-a100/a-1",
     "2 free a100"),
    ("second-node-fits", CLUSTERS, {"gpu_count": 2, "gpu_type": "H100"}, "demo-h100/h-2",
     "(17.94/h)"),
    ("cpu-only-cheapest", CLUSTERS, {"gpu_count": 0}, "demo-cpu/c-1", "room for a workspace"),
    ("tie-by-name", [H100B, H100], {"gpu_count": 1, "gpu_type": "H100"}, "demo-h100/h-1",
     "cheapest"),
    ("tie-but-only-one-fits", [H100B, H100], {"gpu_count": 3, "gpu_type": "H100"},
     "h100-east/e-1", "cheapest"),
    ("explicit-passes-to-next-node", [SMALL], {"gpu_count": 1, "cpu_cores": 20},
     "small/s-2", "the cheapest READY cluster with 1 free GPU"),
    ("no-price-last", [FREE, A100], {"gpu_count": 1}, "demo-a100/a-1", "(22.2/h)"),
    ("no-price-when-alone", [FREE], {"gpu_count": 4}, "no-price/f-1", "cheapest"),
    ("given-cluster-by-name", CLUSTERS, {"gpu_count": 1, "cluster": "demo-a100"},
     "demo-a100/a-1", "the first node there"),
    ("given-cluster-by-prefix", CLUSTERS, {"gpu_count": 2, "cluster": "2222"},
     "demo-h100/h-2", "the first node there"),
]


@pytest.mark.parametrize(("clusters", "request_", "where", "why"),
                         [p[1:] for p in PLACES], ids=[p[0] for p in PLACES])
def test_placement(clusters: list[Cluster], request_: dict[str, Any], where: str,
                   why: str) -> None:
    got = place(clusters, NODES, **request_)
    assert f"{got.cluster.name}/{got.node.label}" == where
    assert why in got.reason, got.reason


NOTHING = [
    ("too-many-gpus", CLUSTERS, {"gpu_count": 4, "gpu_type": "H100"},
     "no node has 4 free H100; most free: 2 H100 on demo-h100/h-2"),
    ("no-such-type", CLUSTERS, {"gpu_count": 1, "gpu_type": "MI300X"},
     "no node has 1 free MI300X; no READY cluster has MI300X GPUs"),
    ("not-ready", CLUSTERS, {"gpu_count": 1, "cluster": "demo-l40s"},
     "cluster demo-l40s is DEPLOYING, not READY"),
    ("none-ready", [DEPLOYING], {"gpu_count": 1}, "no cluster is READY (demo-l40s: DEPLOYING)"),
    ("no-clusters", [], {"gpu_count": 1}, "no cluster is READY (this account has no clusters)"),
    ("given-cluster-too-small", CLUSTERS, {"gpu_count": 3, "cluster": "demo-h100"},
     "no node on demo-h100 has 3 free GPUs; most free: 2 GPUs on demo-h100/h-2"),
    ("unknown-cluster", CLUSTERS, {"gpu_count": 1, "cluster": "nope"},
     "no cluster has the name, id or id prefix 'nope' (clusters: demo-a100 (11111111)"),
    ("explicit-over-free", CLUSTERS, {"gpu_count": 1, "gpu_type": "A100", "cpu_cores": 65},
     "a-1 has 64 CPUs free, not 65"),
    ("explicit-memory-over-free", CLUSTERS, {"gpu_count": 1, "cluster": "demo-a100",
                                             "memory_gb": 600}, "a-1 has 512 GB of memory free"),
    ("cpu-only-nothing-fits", [TINY], {"gpu_count": 0},
     "no node on tiny has room for a workspace (2 CPUs, 10 GB memory, 20 GB storage free); "
     "most free: 1 CPUs on tiny/t-1"),
    ("gpus-there-but-no-room", [TINY], {"gpu_count": 1},
     "no node on tiny has 1 free GPU; tiny/t-1 has the GPUs but not 2 CPUs"),
]


@pytest.mark.parametrize(("clusters", "request_", "message"), [n[1:] for n in NOTHING],
                         ids=[n[0] for n in NOTHING])
def test_nothing_fits_says_why_in_one_line(clusters: list[Cluster], request_: dict[str, Any],
                                           message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        place(clusters, NODES, **request_)
    text = str(caught.value)
    assert message in text and "\n" not in text, text


FITS = [
    # (id, node, gpus, explicit, expected cpu, memory, storage)
    ("share-per-gpu", node("n", 8, "A100", cpu=64, mem=512, disk=2000), 2, {}, (16, 128, 500)),
    ("whole-node-keeps-10pc", node("n", 2, "H100", cpu=40, mem=200, disk=100), 2, {},
     (36, 180, 90)),
    ("cpu-only-node-quarter", node("n", 0, None, cpu=32, mem=128, disk=500), 0, {},
     (8, 32, 125)),
    ("no-gpu-request-one-share", node("n", 4, "A100", cpu=64, mem=256, disk=400), 0, {},
     (16, 64, 100)),
    ("explicit-overrides", node("n", 8, "A100"), 1, {"cpu_cores": 3, "memory_gb": 12},
     (3, 12, 250)),
]


@pytest.mark.parametrize(("node_", "gpus", "explicit", "expected"), [f[1:] for f in FITS],
                         ids=[f[0] for f in FITS])
def test_fit(node_: NodeResources, gpus: int, explicit: dict[str, int],
             expected: tuple[int, int, int]) -> None:
    got = fit(node_, gpus, **explicit)
    assert (got.cpu_cores, got.memory_gb, got.storage_gb) == expected
    assert got.gpu_count == gpus
    assert got.gpu_type == (node_.available.gpu_type if gpus else None)


REFUSED = [
    ("more-gpus-than-free", 2, {}, "h-1 has 1 free GPUs, not 2"),
    ("other-gpu-type", 1, {"gpu_type": "A100"}, "h-1 has H100 GPUs, not A100"),
    ("negative-gpus", -1, {}, "a GPU count of -1"),
    ("zero-cpus", 1, {"cpu_cores": 0}, "0 CPUs: ask for at least 1"),
    ("storage-over-free", 1, {"storage_gb": 2001}, "h-1 has 2000 GB of storage free, not 2001"),
]


@pytest.mark.parametrize(("gpus", "explicit", "message"), [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_fit_refuses_in_one_line(gpus: int, explicit: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        fit(NODES[H100.id][0], gpus, **explicit)
    assert message in str(caught.value) and "\n" not in str(caught.value), str(caught.value)


def test_fit_matches_the_gpu_type_case_insensitively() -> None:
    assert fit(NODES[H100.id][0], 1, gpu_type="h100").gpu_type == "H100"


RESOLVE = [
    ("exact-id", "22222222-2222-4222-8222-222222222222", "demo-h100"),
    ("unique-prefix", "1111", "demo-a100"),
    ("name", "demo-cpu", "demo-cpu"),
]


@pytest.mark.parametrize(("key", "name"), [r[1:] for r in RESOLVE], ids=[r[0] for r in RESOLVE])
def test_resolve_cluster(key: str, name: str) -> None:
    assert resolve_cluster([*CLUSTERS, H100B], key).name == name


TWIN = cluster("demo-h100", "99999999-0000-4000-8000-000000000000", 1.0)
PREFIX_NAMED = cluster("2222", "44444444-0000-4000-8000-000000000000", 1.0)
UNRESOLVED = [
    ("unknown-lists-clusters", [A100, H100], "zzz",
     "no cluster has the name, id or id prefix 'zzz' (clusters: demo-a100 (11111111), "
     "demo-h100 (22222222))"),
    ("duplicate-names", [H100, TWIN], "demo-h100",
     "'demo-h100' matches 2 clusters: demo-h100 (id 22222222-2222-4222-8222-222222222222); "
     "demo-h100 (id 99999999"),
    ("prefix-of-one-name-of-another", [H100, PREFIX_NAMED], "2222", "matches 2 clusters"),
    ("empty", [A100], "  ", "an empty cluster name or id"),
]


@pytest.mark.parametrize(("clusters", "key", "message"), [u[1:] for u in UNRESOLVED],
                         ids=[u[0] for u in UNRESOLVED])
def test_unresolved_clusters_are_one_line(clusters: list[Cluster], key: str,
                                          message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        resolve_cluster(clusters, key)
    assert message in str(caught.value) and "\n" not in str(caught.value), str(caught.value)


def test_an_ambiguous_prefix_lists_the_candidates() -> None:
    with pytest.raises(ValidationError) as caught:
        resolve_cluster([H100, H100B], "2222")
    assert str(caught.value).startswith("'2222' matches 2 clusters: demo-h100 (id 2222")
    assert "h100-east (id 22229999" in str(caught.value)


def test_the_summary_names_cluster_node_template_resources_and_cost() -> None:
    lines = summary_lines(place(CLUSTERS, NODES, gpu_count=2, gpu_type="H100"),
                          "jupyter-notebook-template")
    text = "\n".join(lines)
    for part in ("demo-h100 (22222222)", "node:      h-2", "jupyter-notebook-template",
                 "2 × H100 GPUs", "17.94 per hour"):
        assert part in text, text
