"""Speed goals, measured side by side in one run against the embedded sandbox.

Usage: ``python bench/bench.py [--quick] [--only P1,P2,...]``. CAT (bench/catalogue.py: the
catalogue frames at 1,000 clusters of 8 nodes), WAIT (bench/waiting.py: 500 creations) and
BROWSER (bench/browser.py: the widgets' cost in Chromium) run as their own scripts from here
too, so one run prints every goal. Every line prints our figure, the baseline measured in the
same run, their ratio or value, the goal, and PASS/MISS. The exit code
is 0 even on a MISS: this is a measurement, not a test. P1 runs the msgspec fast path and the
stdlib path (EXALSIUS_FAST=1/0), the naive path, and the upstream SDK where it is importable.
"""

from __future__ import annotations

import argparse
import gc
import json
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


def interleaved_all(fns: dict[str, Fn], repeat: int) -> dict[str, float]:
    """Median times of every function, measured in turns so that drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            times[name].append(best(fn, 1))
    return {name: statistics.median(ts) for name, ts in times.items()}


def _fast_env(on: bool) -> Callable[[Fn], Fn]:
    """Run a function with the msgspec fast path switched on or off (EXALSIUS_FAST)."""
    import os

    def wrap(fn: Fn) -> Fn:
        def run() -> object:
            old = os.environ.get("EXALSIUS_FAST")
            os.environ["EXALSIUS_FAST"] = "1" if on else "0"
            try:
                return fn()
            finally:
                if old is None:
                    del os.environ["EXALSIUS_FAST"]
                else:
                    os.environ["EXALSIUS_FAST"] = old
        return run
    return wrap


def _sdk_list(url: str) -> Fn | None:
    """The upstream SDK's list call plus a frame of its models, when the SDK is importable."""
    try:
        import exalsius_api_client as sdk  # optional: never a dependency of this project
    except ImportError:
        return None
    import pandas as pd

    api = sdk.WorkspacesApi(sdk.ApiClient(sdk.Configuration(host=url)))

    def run() -> object:
        listed = api.list_workspaces(_request_timeout=120.0)
        return pd.DataFrame([w.to_dict() for w in listed.workspaces])
    return run


MEMORY_CHILD = """
import json, os, sys
mode, url, traced = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
os.environ["EXALSIUS_FAST"] = "1" if mode == "fast" else "0"
import pandas
from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.model import msgspec_path as fast
if fast.enabled():
    fast._decoders()  # import msgspec and build the Structs before measuring
client = ExalsiusClient(url, timeout=120)
def status(key):
    # VmHWM: this process's peak RSS; ru_maxrss would include the forking parent's (the sandbox)
    line = next(x for x in open("/proc/self/status") if x.startswith(key + ":"))
    return int(line.split()[1]) * 1024
rss0 = status("VmRSS")
if traced:
    import tracemalloc
    tracemalloc.start()
workspaces = client.list_workspaces()
frame = workspaces.to_dataframe()
out = {"rows": len(frame), "fast": workspaces._fast is not None}
if traced:
    out["retained"], out["peak"] = tracemalloc.get_traced_memory()
else:
    out["rss_peak"] = status("VmHWM") - rss0
print(json.dumps(out))
"""


def _memory(url: str, mode: str) -> dict[str, float]:
    """Peak memory of list + frame in a fresh process (the sandbox stays in this one).

    Two runs: tracemalloc's peak (Python heap, numpy and msgspec included; no allocator slack),
    and without tracing the growth of the peak RSS (VmHWM) over the RSS before the call.
    """
    out: dict[str, float] = {}
    for traced in ("1", "0"):
        run = subprocess.run([sys.executable, "-c", MEMORY_CHILD, mode, url, traced],
                             capture_output=True, text=True, cwd=ROOT, timeout=600, check=True)
        out.update(json.loads(run.stdout.strip().splitlines()[-1]))
    return out


def p1(n: int, repeat: int) -> None:
    """list_workspaces().to_dataframe(), msgspec fast path and stdlib path, against the naive
    requests + json_normalize, and against the upstream SDK where it is installed."""
    for api in ("1.5.1", "1.46"):
        _p1_api(n, repeat, api)


def _p1_api(n: int, repeat: int, api: str) -> None:
    """P1 against a sandbox answering with one API version's shapes."""
    import pandas as pd
    import requests

    from exalsius_jupyter.model import msgspec_path as fast

    with Sandbox(workspaces=n, seed=1, api=api) as sb:
        client = ExalsiusClient(sb.url, timeout=120)
        session = requests.Session()
        size = len(session.get(sb.url + "/workspaces", timeout=120).content)

        def ours() -> object:
            return client.list_workspaces().to_dataframe()

        def naive() -> object:
            body = session.get(sb.url + "/workspaces", timeout=120).json()
            return pd.json_normalize(body["workspaces"])

        fns: dict[str, Fn] = {"fast": _fast_env(True)(ours), "stdlib": _fast_env(False)(ours),
                              "naive": naive}
        sdk = _sdk_list(sb.url) if api == "1.46" else None
        for fn in fns.values():
            fn()  # warm the server's cache, the connections and the decoder
        t = interleaved_all(fns, repeat)
        if sdk is not None:  # ~16 s a call: once, after, beside the medians above
            sdk()
            t["sdk"] = best(sdk, 1)
        mem = {mode: _memory(sb.url, mode) for mode in ("fast", "stdlib")} \
            if api == "1.5.1" else {}
    if not fast.enabled():
        print("    msgspec is not installed: 'fast' below is the stdlib path")
    body = f"{size / 1e6:.1f} MB body"
    print(f"    api {api}, {n:,} workspaces, {body}: "
          + ", ".join(f"{k} {v:.3f}s" for k, v in t.items())
          + "".join(f", {k} / naive {t[k] / t['naive']:.2f}x" for k in t if k != "naive"))
    if "sdk" not in t and api == "1.46":
        print("    upstream SDK (exalsius-api-client) not importable: not measured")
    for mode, m in mem.items():
        print(f"    memory {mode:6} (fast path used: {m['fast']}): tracemalloc peak "
              f"{m['peak'] / size:.2f}x body ({m['peak'] / 1e6:.0f} MB, retained "
              f"{m['retained'] / size:.2f}x), peak RSS growth {m['rss_peak'] / size:.2f}x "
              f"({m['rss_peak'] / 1e6:.0f} MB)")
    tag = f" (api {api})" if api != "1.5.1" else ""
    report("P1", f"list->DataFrame [fast] at {n:,} / naive{tag}", t["fast"] / t["naive"],
           "<= 0.3", t["fast"] / t["naive"] <= 0.3)
    report("P1", f"list->DataFrame stdlib at {n:,} / naive{tag}", t["stdlib"] / t["naive"],
           "<= 0.6", t["stdlib"] / t["naive"] <= 0.6)
    if "fast" in mem:
        ratio = mem["fast"]["rss_peak"] / size
        report("P1", "peak memory list+frame [fast] / body (peak RSS growth)", ratio, "<= 3",
               ratio <= 3)


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
    """Cost of %load_ext exalsius_jupyter on top of import pandas, ipywidgets.

    Measured as an installed package runs it: from bytecode (pip compiles a wheel's modules),
    written once by a first run into a private cache (``PYTHONPYCACHEPREFIX``), even where the
    environment says ``PYTHONDONTWRITEBYTECODE``; that first run, which compiles every module,
    is printed too.
    """
    import os
    import tempfile

    code = (
        "import time, pandas, ipywidgets\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "t0 = time.perf_counter()\n"
        "shell.run_line_magic('load_ext', 'exalsius_jupyter')\n"
        "print(time.perf_counter() - t0)\n"
    )
    with tempfile.TemporaryDirectory(prefix="exalsius-pycache-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        runs = []
        for _ in range(repeat + 1):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 cwd=ROOT, timeout=120, check=True, env=env)
            runs.append(float(out.stdout.strip().splitlines()[-1]))
    cold, ms = runs[0] * 1e3, statistics.median(runs[1:]) * 1e3
    print(f"    first run, compiling every module: {cold:.0f} ms; then from bytecode: "
          + ", ".join(f"{r * 1e3:.0f}" for r in runs[1:]) + " ms")
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
    parser.add_argument("--only", default="P1,P2,P3,P4,P5,CAT,WAIT,BROWSER",
                        help="comma-separated subset")
    args = parser.parse_args()
    only = {x.strip().upper() for x in args.only.split(",")}
    rep = 2 if args.quick else 5
    print(f"python {sys.version.split()[0]}, {'quick' if args.quick else 'full'} run", flush=True)
    if "P1" in only:
        p1(10_000 if args.quick else 100_000, 2 if args.quick else 5)
    if "P2" in only:
        p2(200, rep)
    if "P3" in only:
        p3_requests(5)
        p3_latency(20)
    if "P4" in only:
        p4(rep)
    if "P5" in only:
        p5(1000, rep)
    for name, script in (("CAT", "catalogue.py"), ("WAIT", "waiting.py"),
                         ("BROWSER", "browser.py")):
        if name in only:
            print(f"-- {name}: bench/{script}", flush=True)
            subprocess.run([sys.executable, str(ROOT / "bench" / script)], check=False)


if __name__ == "__main__":
    main()
