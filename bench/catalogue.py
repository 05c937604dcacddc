"""The catalogue frames at scale (issue #16 item 3): 1,000 clusters with 8 nodes each.

Usage: ``python bench/catalogue.py [--clusters N] [--nodes M] [--repeat R]``. A canned server on
127.0.0.1 answers ``GET /clusters`` and ``GET /cluster/{id}/resources`` in the 1.46 shapes; the
lines printed measure, side by side in one run (medians of interleaved turns):

- the ``%exalsius clusters`` path: the cluster list, each READY cluster's resources, the frame;
- the same requests read naively (``requests.get().json()``) and framed by ``pd.json_normalize``;
- the parsing and framing alone, from bodies already read, against ``json.loads`` +
  ``pd.json_normalize`` (no HTTP on either side).

A measurement, not a test: the exit code is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from canned import Quiet  # noqa: E402

from exalsius_jupyter.api.client import ExalsiusClient  # noqa: E402


def bodies(clusters: int, nodes: int) -> tuple[bytes, dict[str, bytes]]:
    """The /clusters body and each cluster's /resources body, 1.46 shapes, reproducible."""
    ids = [str(uuid.UUID(int=i + 1, version=4)) for i in range(clusters)]
    listed = {"clusters": [{
        "id": cid, "name": f"cluster-{i:04d}", "cluster_status": "READY" if i % 10 else "DEPLOYING",
        "cluster_type": "CLOUD", "costs_per_hour": 2.5 + i % 7, "current_costs": 11.0 * i,
        "created_at": "2026-11-02T10:00:00Z", "workspace_deployments": [],
        "worker_node_ids": [f"{cid[:8]}-n{j}" for j in range(nodes)],
        "control_plane_node_ids": []} for i, cid in enumerate(ids)], "total": clusters}
    gpu = ("H100", "A100", "L40S", "MI300X")
    resources = {cid: json.dumps({"resources": [{
        "node_id": f"{cid[:8]}-n{j}", "node_name": f"node-{j}",
        "available": {"gpu_count": (i + j) % 9, "gpu_type": gpu[i % 4], "gpu_vendor": "NVIDIA",
                      "cpu_cores": 96, "memory_gb": 768, "storage_gb": 4000},
        "occupied": {"gpu_count": 8 - (i + j) % 9, "gpu_type": gpu[i % 4], "gpu_vendor": "NVIDIA",
                     "cpu_cores": 32, "memory_gb": 256, "storage_gb": 1000}}
        for j in range(nodes)]}).encode() for i, cid in enumerate(ids)}
    return json.dumps(listed).encode(), resources


class Canned(ThreadingHTTPServer):
    """Answers the two catalogue routes from prepared bodies."""

    daemon_threads = True

    def __init__(self, listed: bytes, resources: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.listed, self.resources, self.requests = listed, resources, 0


class Handler(Quiet):
    """GET /v1/clusters and /v1/cluster/{id}/resources."""

    server: Canned

    def do_GET(self) -> None:
        self.server.requests += 1
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[1:] == ["clusters"]:
            body = self.server.listed
        elif len(parts) == 4 and parts[1] == "cluster" and parts[3] == "resources":
            body = self.server.resources.get(parts[2], b'{"resources": []}')
        else:
            self.answer(b'{"title": "Not Found"}', 404)
            return
        self.answer(body)


def interleaved(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each function, measured in turns."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    """Print the catalogue figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import pandas as pd
    import requests

    from exalsius_jupyter.model.catalogue import Cluster, NodeResources
    from exalsius_jupyter.model.catalogue_frames import clusters_frame, nodes_frame
    from exalsius_jupyter.model.catalogue_lists import ClusterList, parse_items

    listed, resources = bodies(args.clusters, args.nodes)
    server = Canned(listed, resources)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    client = ExalsiusClient(url, timeout=60)
    session = requests.Session()

    def ours() -> object:
        clusters = client.list_clusters()
        found = {c.id: client.get_cluster_resources(c.id) for c in clusters if c.ready}
        return clusters_frame(clusters, found, total=clusters.total)

    def naive() -> object:
        clusters = session.get(url + "/clusters", timeout=60).json()["clusters"]
        nodes = [n for c in clusters if c["cluster_status"] == "READY" for n in session.get(
            f"{url}/cluster/{c['id']}/resources", timeout=60).json()["resources"]]
        return pd.json_normalize(clusters), pd.json_normalize(nodes)

    def ours_parse() -> object:
        clusters = ClusterList(parse_items(json.loads(listed), "clusters", "cluster",
                                           Cluster.from_api, ""))
        found = {cid: parse_items(json.loads(body), "resources", "node resources",
                                  NodeResources.from_api, "") for cid, body in resources.items()}
        everything = [n for nodes in found.values() for n in nodes]
        return clusters_frame(clusters, found), nodes_frame(everything)

    def naive_parse() -> object:
        nodes = [n for body in resources.values() for n in json.loads(body)["resources"]]
        return pd.json_normalize(json.loads(listed)["clusters"]), pd.json_normalize(nodes)

    fns = {"ours": ours, "naive": naive, "ours_parse": ours_parse, "naive_parse": naive_parse}
    for fn in fns.values():
        fn()  # warm connections and imports
    server.requests = 0
    ours()
    requests_made = server.requests
    t = interleaved(fns, args.repeat)
    server.shutdown()
    n = args.clusters
    print(f"    {n:,} clusters x {args.nodes} nodes ({len(listed) / 1e6:.1f} MB list, "
          f"{sum(map(len, resources.values())) / 1e6:.1f} MB of resources), "
          f"{requests_made} requests per clusters frame")
    print(f"CAT %exalsius clusters path at {n:,} clusters (s) {t['ours']:10.3f}  naive "
          f"{t['naive']:.3f}  ratio {t['ours'] / t['naive']:.2f}x")
    print(f"CAT parse + frames, no HTTP (clusters, {n * args.nodes:,} nodes) (s) "
          f"{t['ours_parse']:.3f}  naive {t['naive_parse']:.3f}  ratio "
          f"{t['ours_parse'] / t['naive_parse']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
