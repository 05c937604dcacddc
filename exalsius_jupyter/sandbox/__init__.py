"""An exalsius Workspaces API sandbox: a local HTTP server using only the standard library.

``with Sandbox(pending_seconds=0.5) as sb: ExalsiusClient(base_url=sb.url)`` or, from a shell,
``python -m exalsius_jupyter.sandbox --port 8765``. It serves under ``/v1``:
``GET/POST /workspaces``, ``GET/DELETE /workspace/{id}``, ``POST /workspace/{id}/stop`` and, unless
``extras=False``, ``POST /workspace/{id}/start`` and ``GET /workspace/{id}/logs`` (NDJSON).
``api="1.5.1"`` (default) answers exactly as the 1.5.1 contract; ``api="1.46"`` as the live API
(describe wrapped in ``{"workspace": ...}``, ``access_information`` a list of access objects,
owner_* fields, ``resources.gpu_memory``).

Demo clusters (``DEMO_CLUSTERS``; creating on any other cluster_id is a 400):

- ``demo-a100``   11111111-1111-4111-8111-111111111111: NVIDIA A100, up to 8 GPUs per workspace
- ``demo-h100``   22222222-2222-4222-8222-222222222222: NVIDIA H100, up to 4 GPUs per workspace
- ``demo-cpu``    33333333-3333-4333-8333-333333333333: no GPUs
- ``demo-mi300x`` 44444444-4444-4444-8444-444444444444: AMD MI300X, up to 8 GPUs per workspace

Lifecycle: a created workspace is PENDING for ``pending_seconds``, then RUNNING (with
``access_information``) or FAILED when the cluster cannot satisfy it: more GPUs than its maximum,
or a ``gpu_type`` other than the cluster's (case-insensitive; an empty one is fine). stop makes
PENDING/RUNNING STOPPED (other states: no-op); start makes STOPPED/FAILED PENDING again (PENDING or
RUNNING: no-op; DELETED: 404); delete makes it DELETED at once (repeating it is a no-op) and it is
gone (404) ``deleted_ttl`` seconds later. A duplicate name among a cluster's non-DELETED workspaces
is a 409. Pre-populated (``workspaces=N``) PENDING workspaces stay PENDING until stopped/started.

Faults: ``latency``, seeded ``error_rate`` (500, or 503 with Retry-After) and ``drop_rate``, and
``fail_next``/``drop_next``/``outage`` hooks. Requests are counted per route template
("/workspaces", "/workspace/{id}/stop", ...): see ``Sandbox.request_count``.

Options: ``SandboxOptions`` is the one declaration behind ``Sandbox(...)``, the CLI's flags and
``%exalsius sandbox start``; ``Sandbox(options=SandboxOptions(...))`` or the same names as keywords.

Sign-in (``auth=True``, CLI ``--auth``): the server also plays an Auth0-like identity provider at
its root (``Sandbox.issuer_url``): RFC 8628 device flow (``/oauth/device/code``, ``/oauth/token``,
approval page ``/activate``), refresh-token rotation with reuse detection, ``/oauth/revoke``; every
API request then needs a valid bearer access token, else 401. See ``exalsius_jupyter.sandbox.auth``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clusters import DEMO_CLUSTERS, DemoCluster
from .options import SandboxOptions

if TYPE_CHECKING:
    from .app import Sandbox

__all__ = ["DEMO_CLUSTERS", "DemoCluster", "Sandbox", "SandboxOptions"]


def __getattr__(name: str) -> Any:
    """``Sandbox`` is imported on first use: the magic reads the options without the server."""
    if name == "Sandbox":
        from .app import Sandbox

        return Sandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
