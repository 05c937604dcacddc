"""Speed goals, measured side by side in one run against the embedded sandbox.

Usage: ``python bench/bench.py [--quick] [--only P1,P2,...]``. Every line prints our figure, the
baseline measured in the same run, their ratio or value, the goal, and PASS/MISS. The exit code
is 0 even on a MISS: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exalsius_jupyter.api.client import ExalsiusClient  # noqa: E402
from exalsius_jupyter.sandbox import DEMO_CLUSTERS, Sandbox  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` timed calls (seconds), with the GC out of the way."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


Fn = Callable[[], object]


def interleaved(a: Fn, b: Fn, repeat: int) -> tuple[float, float]:
    """Median times of ``a`` and ``b`` measured alternately, so drift hits both alike."""
    ta, tb = [], []
    for _ in range(repeat):
        ta.append(best(a, 1))
        tb.append(best(b, 1))
    return statistics.median(ta), statistics.median(tb)


def report(name: str, what: str, value: float, goal: str, ok: bool) -> None:
    """Print one result line."""
    print(f"{name:3} {what:<62} {value:10.3f}  goal {goal:<10} {'PASS' if ok else 'MISS'}",
          flush=True)


def p1(n: int, repeat: int) -> None:
    """list_workspaces().to_dataframe() against requests + json_normalize at n workspaces."""
    import pandas as pd
    import requests

    with Sandbox(workspaces=n, seed=1) as sb:
        client = ExalsiusClient(sb.url, timeout=120)
        session = requests.Session()

        def ours() -> object:
            return client.list_workspaces().to_dataframe()

        def naive() -> object:
            body = session.get(sb.url + "/workspaces", timeout=120).json()
            return pd.json_normalize(body["workspaces"])

        ours(), naive()  # warm the server's cache and both connections
        t_ours, t_naive = interleaved(ours, naive, repeat)
    print(f"    ours {t_ours:.3f}s, naive requests+json_normalize {t_naive:.3f}s at {n:,}")
    ratio = t_ours / t_naive
    report("P1", f"list->DataFrame at {n:,} / naive (ratio)", ratio, "<= 0.6", ratio <= 0.6)


def p2(calls: int, repeat: int) -> None:
    """describe_workspace against a raw requests.Session().get().json()."""
    import requests

    with Sandbox(workspaces=100, seed=1) as sb:
        client = ExalsiusClient(sb.url)
        wid = client.list_workspaces()[0].id
        session = requests.Session()
        url = f"{sb.url}/workspace/{wid}"

        def ours() -> None:
            for _ in range(calls):
                client.describe_workspace(wid)

        def raw() -> None:
            for _ in range(calls):
                session.get(url, timeout=10).json()

        ours(), raw()
        t_ours, t_raw = interleaved(ours, raw, repeat)
    print(f"    ours {t_ours / calls * 1e3:.3f} ms/call, raw {t_raw / calls * 1e3:.3f} ms/call")
    ratio = t_ours / t_raw
    report("P2", "describe / raw Session().get().json() (ratio)", ratio, "<= 1.2", ratio <= 1.2)


def p3_requests(ticks: int) -> None:
    """Requests per tick while tracking 50 creations, against polling each id."""
    from exalsius_jupyter.watch import WorkspaceWatcher

    cluster = next(iter(DEMO_CLUSTERS))
    with Sandbox(pending_seconds=3600, seed=1) as sb:
        client = ExalsiusClient(sb.url)
        ids = [client.create_workspace({
            "name": f"bench-{i}", "cluster_id": cluster,
            "template": {"name": "jupyter-notebook", "variables": {}},
            "resources": {"gpu_count": 1}}) for i in range(50)]
        watcher = WorkspaceWatcher(client, ids)
        sb.reset_counts()
        for _ in range(ticks):
            watcher.poll()
        ours = sb.request_count() / ticks
        sb.reset_counts()
        for _ in range(ticks):
            for wid in ids:
                client.describe_workspace(wid)
        naive = sb.request_count() / ticks
    print(f"    per-id polling needs {naive:.0f} requests per tick")
    report("P3", "requests per tick tracking 50 creations", ours, "1", ours == 1)


KERNEL_SETUP = """
from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.sandbox import DEMO_CLUSTERS, Sandbox
from exalsius_jupyter.widgets import CreationProgress
sb = Sandbox(pending_seconds=3600).start()
client = ExalsiusClient(sb.url)
cluster = next(iter(DEMO_CLUSTERS))
ids = [client.create_workspace({"name": f"w{i}", "cluster_id": cluster,
       "template": {"name": "jupyter-notebook", "variables": {}}, "resources": {}})
       for i in range(50)]
"""


def _cell_latency(kc: object, samples: int) -> float:
    """Median round trip (s) of a trivial cell executed in the kernel."""
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        kc.execute_interactive("x = 1", timeout=30, output_hook=lambda msg: None)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def p3_latency(samples: int) -> None:
    """Latency of another cell while CreationProgress polls 50 workspaces in the kernel."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT))
    try:
        kc.execute_interactive(KERNEL_SETUP, timeout=60, output_hook=lambda msg: None)
        idle = _cell_latency(kc, samples)
        kc.execute_interactive(
            "progress = CreationProgress(ids, client, interval=0.1, timeout=3600)\n"
            "progress.start()",
            timeout=30, output_hook=lambda msg: None)
        time.sleep(0.5)
        busy = _cell_latency(kc, samples)
        kc.execute_interactive("progress.close(); sb.stop()", timeout=30,
                               output_hook=lambda msg: None)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(f"    idle kernel {idle * 1e3:.1f} ms per cell")
    ms = busy * 1e3
    report("P3", "another cell's latency while polling 50 creations (ms)", ms, "< 100", ms < 100)


def p4(repeat: int) -> None:
    """Cost of %load_ext exalsius_jupyter on top of import pandas, ipywidgets."""
    code = (
        "import time, pandas, ipywidgets\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "t0 = time.perf_counter()\n"
        "shell.run_line_magic('load_ext', 'exalsius_jupyter')\n"
        "print(time.perf_counter() - t0)\n"
    )
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=ROOT, timeout=120, check=True)
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    ms = statistics.median(runs) * 1e3
    report("P4", "%load_ext exalsius_jupyter after pandas+ipywidgets (ms)", ms, "<= 50", ms <= 50)


def p5(n: int, repeat: int) -> None:
    """Python-side time to build and refresh a WorkspacePanel of n workspaces."""
    from exalsius_jupyter.widgets import WorkspacePanel

    with Sandbox(workspaces=n, seed=1) as sb:
        client = ExalsiusClient(sb.url)
        client.offers("start")
        panels: list[WorkspacePanel] = []

        def build() -> None:
            panels.append(WorkspacePanel(client, auto_refresh=False))
            panels[-1].refresh()

        t_build = best(build, repeat)
        t_refresh = best(panels[-1].refresh, repeat)
        for panel in panels:
            panel.close()
    ms = (t_build + t_refresh) * 1e3
    print(f"    build {t_build * 1e3:.1f} ms, refresh {t_refresh * 1e3:.1f} ms")
    report("P5", f"panel build + refresh at {n:,} workspaces (ms)", ms, "<= 300", ms <= 300)


def main() -> None:
    """Run the benchmarks and print one line per goal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--only", default="P1,P2,P3,P4,P5", help="comma-separated subset")
    args = parser.parse_args()
    only = {x.strip().upper() for x in args.only.split(",")}
    rep = 2 if args.quick else 5
    print(f"python {sys.version.split()[0]}, {'quick' if args.quick else 'full'} run", flush=True)
    if "P1" in only:
        p1(10_000 if args.quick else 100_000, 2 if args.quick else 3)
    if "P2" in only:
        p2(200, rep)
    if "P3" in only:
        p3_requests(5)
        p3_latency(20)
    if "P4" in only:
        p4(rep)
    if "P5" in only:
        p5(1000, rep)


if __name__ == "__main__":
    main()
