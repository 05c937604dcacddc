"""Contract: the client against a third-party mock of ``../shared/openapi/workspaces-1.5.1.yaml``.

The mock is Stoplight Prism (``@stoplight/prism-cli`` from the npm registry, pure JavaScript, run
with the machine's Node.js). It serves the spec from its examples and schemas and validates every
incoming request against it: a wrong path, method, parameter format, content type or body gets a
4xx (the spec's own 400 example where the operation declares 400, otherwise Prism's 422/415/404),
so each operation succeeding here shows the client's requests are valid. The fixture installs Prism
into ``.venv/prism`` with ``npm install --prefix`` on first use.

Prism quirks the client has to live with (all verified against 5.14.2):
- Paths are served from the root: the spec's server path (``/v1``) is not a prefix, so the base URL
  is ``http://127.0.0.1:PORT``.
- ``Prefer: code=404, example=workspace-not-found`` forces an error example; Prism ignores the
  spec's ``x-useExample`` and with ``code=`` alone answers the first example (``bad-request``).
- A forced error is only served if the request's ``Accept`` admits ``application/problem+json``;
  ``Accept: application/json`` alone makes Prism fall back to the 200 answer (or a 500 of its own).
- A body on ``stop`` (which has no request body) is rejected with 415.
- Unknown query parameters and unknown body members are *not* rejected (the schemas allow them), so
  the tests also record what the client sent and check it.
- Static answers use the examples; ``total`` has none and comes out as -2147483648 (int32 minimum).
  ``Prefer: dynamic=true`` generates data from the schemas instead (seeded, so repeatable):
  random UUIDs, negative int32s, date-times such as ``1963-09-17T07:51:30.0Z``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from support import free_port

pytestmark = pytest.mark.contract

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO.parent / "shared" / "openapi" / "workspaces-1.5.1.yaml"
# 5.14.2 is the newest Prism that runs on Node 20 (5.15 and later ask for Node >= 24).
PRISM_PACKAGE = "@stoplight/prism-cli"
PRISM_VERSION = "5.14.2"
PRISM_PREFIX = REPO / ".venv" / "prism"
PRISM_SEED = "exalsius"
IN_CI = os.environ.get("CI", "").strip().lower() == "true"
STARTUP_DEADLINE = 60.0
INSTALL_TIMEOUT = 240.0

WORKSPACE_ID = "123e4567-e89b-12d3-a456-426614174000"
CLUSTER_ID = str(uuid.UUID("8f14e45f-ceea-467e-a9b8-2d3c1a0f5e21"))
CREATE_SPEC: dict[str, Any] = {
    "name": "contract-ws",
    "cluster_id": CLUSTER_ID,
    "template": {"name": "jupyter-notebook", "variables": {"k": "v"}},
    "resources": {"gpu_count": 1, "gpu_type": "A100", "cpu_cores": 4, "memory_gb": 16,
                  "storage_gb": 100},
}

# Every (operation, status, example) that the spec's x-useExample names; checked against the spec
# by test_error_table_matches_the_specs_x_use_example.
ERROR_CASES = [
    ("listWorkspaces", 404, "workspace-not-found"),
    ("listWorkspaces", 500, "server-error"),
    ("createWorkspace", 400, "bad-request"),
    ("createWorkspace", 409, "workspace-already-exists"),
    ("createWorkspace", 500, "server-error"),
    ("describeWorkspace", 404, "workspace-not-found"),
    ("describeWorkspace", 500, "server-error"),
    ("deleteWorkspace", 404, "workspace-not-found"),
    ("deleteWorkspace", 500, "server-error"),
    ("stopWorkspace", 404, "workspace-not-found"),
    ("stopWorkspace", 500, "server-error"),
]


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where the contract check must run."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def _load_spec() -> dict[str, Any]:
    if not SPEC.is_file():
        _unavailable(f"contract spec not found: {SPEC}")
    try:
        import yaml
    except ImportError:
        _unavailable("PyYAML is not installed (it is in the 'test' extra)")
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


# -- the mock server ------------------------------------------------------------------------


def _installed_version(prefix: Path) -> str | None:
    manifest = prefix / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None


def _prism_command() -> list[str]:
    """``node <prism cli>``, installing the pinned Prism into .venv/prism first if needed."""
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not on PATH: cannot run the Prism mock server")
    cli = PRISM_PREFIX / "node_modules" / "@stoplight" / "prism-cli" / "dist" / "index.js"
    if _installed_version(PRISM_PREFIX) != PRISM_VERSION or not cli.is_file():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is not on PATH: cannot install the Prism mock server")
        PRISM_PREFIX.mkdir(parents=True, exist_ok=True)
        with _install_lock(PRISM_PREFIX.parent / "prism.lock"):
            if _installed_version(PRISM_PREFIX) != PRISM_VERSION or not cli.is_file():
                cmd = [npm, "install", "--prefix", str(PRISM_PREFIX), "--no-audit", "--no-fund",
                       "--save-exact", "--loglevel=error", f"{PRISM_PACKAGE}@{PRISM_VERSION}"]
                try:
                    done = subprocess.run(cmd, capture_output=True, text=True,
                                          timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL,
                                          check=False)
                except subprocess.TimeoutExpired:
                    _unavailable(f"npm install {PRISM_PACKAGE} took over {INSTALL_TIMEOUT:g}s")
                if done.returncode != 0 or not cli.is_file():
                    _unavailable(f"npm install {PRISM_PACKAGE}@{PRISM_VERSION} failed "
                                 f"(exit {done.returncode}): {done.stderr.strip()[-800:]}")
    return [node, str(cli)]


@contextlib.contextmanager
def _install_lock(path: Path) -> Iterator[None]:
    """Serialise installs between concurrent pytest processes (POSIX; a no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass
class Mock:
    base_url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)  # the group this fixture started, nothing else
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _start(cmd: list[str], log_path: Path, spec: Path = SPEC, probe: str = "/workspaces",
           probe_headers: dict[str, str] | None = None) -> Mock:
    """Prism on ``spec``, once ``GET probe`` (with ``probe_headers``) answers 200, or has exited."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [*cmd, "mock", "--host", "127.0.0.1", "--port", str(port), "--seed", PRISM_SEED,
             str(spec)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=str(REPO), start_new_session=True,
            env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
        )
    mock = Mock(base_url, log_path, proc)
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return mock  # exited (e.g. the port was taken meanwhile); the caller retries
        try:
            if requests.get(base_url + probe, headers=probe_headers,
                            timeout=1.0).status_code == 200:
                return mock
        except requests.RequestException:
            pass
        time.sleep(0.1)
    _stop(proc)
    pytest.fail(f"Prism did not answer within {STARTUP_DEADLINE:g}s\n{mock.log_tail()}",
                pytrace=False)
    raise AssertionError  # unreachable


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return _load_spec()


@contextlib.contextmanager
def serve_prism(spec: Path, probe: str, tmp_path_factory: pytest.TempPathFactory,
                probe_headers: dict[str, str] | None = None) -> Iterator[Mock]:
    """Prism mocking ``spec`` on a free loopback port (ready when ``GET probe`` is 200)."""
    cmd = _prism_command()
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    for _attempt in range(3):
        server = _start(cmd, log_path, spec, probe, probe_headers)
        if server.process.poll() is None:
            break
    else:
        pytest.fail(f"Prism exited at start-up\n{server.log_tail()}", pytrace=False)
    try:
        yield server
    finally:
        _stop(server.process)


@pytest.fixture(scope="module")
def mock(spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mock]:
    """Prism mocking the 1.5.1 spec on a free loopback port; stopped after the module."""
    with serve_prism(SPEC, "/workspaces", tmp_path_factory) as server:
        yield server


@pytest.fixture
def client(mock: Mock) -> Iterator[Any]:
    from exalsius_jupyter import ExalsiusClient

    c = ExalsiusClient(base_url=mock.base_url, token=None, timeout=10.0)
    try:
        yield c
    finally:
        c.session.close()


@pytest.fixture
def sent(client: Any) -> list[requests.PreparedRequest]:
    """The requests the client really sent (recorded through its requests.Session)."""
    record: list[requests.PreparedRequest] = []

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        record.append(response.request)

    client.session.hooks["response"].append(hook)
    return record


def _raw(mock: Mock, method: str, path: str, prefer: str | None = None, **kw: Any) -> Any:
    """What the mock answers to a plain request, to compare the client's parse against."""
    headers = {"Accept": "application/json"}
    if prefer:
        headers["Prefer"] = prefer
    resp = requests.request(method, mock.base_url + path, headers=headers, timeout=10, **kw)
    assert resp.ok, f"{method} {path} -> {resp.status_code} {resp.text}\n{mock.log_tail()}"
    return resp.json()


def _call(mock: Mock, fn: Any, *args: Any, **kwargs: Any) -> Any:
    from exalsius_jupyter import ExalsiusError

    try:
        return fn(*args, **kwargs)
    except ExalsiusError as exc:
        pytest.fail(f"{fn.__name__} failed against the validating mock: {exc!r} "
                    f"(status={getattr(exc, 'status', None)})\nPrism log:\n{mock.log_tail()}",
                    pytrace=False)


# -- checking a parse -----------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)"
)


def _rfc3339(text: str) -> datetime:
    """An independent RFC 3339 parser (any fraction length, 'Z'), for expected values."""
    m = _RFC3339.fullmatch(text)
    assert m, f"mock sent a date-time this test cannot read: {text!r}"
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    off = m.group(8)
    if off in ("Z", "z"):
        tz = timezone.utc
    else:
        sign = 1 if off[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[4:6])))
    return datetime(y, mo, d, h, mi, s, micro, tzinfo=tz)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_workspace(ws: Any, raw: dict[str, Any]) -> None:
    """The parsed workspace has the right types and the values the mock sent."""
    for key in ("id", "name", "cluster_id"):
        value = getattr(ws, key)
        assert isinstance(value, str), (key, value)
        assert value == raw[key], key
    uuid.UUID(ws.id)
    uuid.UUID(ws.cluster_id)

    status = ws.workspace_status
    assert isinstance(status, Enum) and isinstance(status, str), status
    assert type(status).__name__ == "WorkspaceStatus"
    assert status.value == raw["workspace_status"]

    assert isinstance(ws.template.name, str) and ws.template.name == raw["template"]["name"]
    assert dict(ws.template.variables) == raw["template"]["variables"]
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in ws.template.variables.items())
    if "description" in raw["template"]:
        assert ws.template.description == raw["template"]["description"]

    res = ws.resources
    for key in ("gpu_count", "cpu_cores", "memory_gb", "storage_gb"):
        value = getattr(res, key)
        assert _is_int(value), (key, value)
        assert value == raw["resources"][key], key
    for key in ("gpu_type", "gpu_vendor"):
        assert getattr(res, key) == raw["resources"][key], key

    for key in ("owner", "description", "access_information"):
        assert getattr(ws, key) == raw[key], key
    for key in ("created_at", "to_be_deleted_at"):
        value = getattr(ws, key)
        assert isinstance(value, datetime), (key, value)
        assert value.tzinfo is not None and value.utcoffset() is not None, (key, value)
        assert value == _rfc3339(raw[key]), (key, value, raw[key])


def _check_list(result: Any, raw: dict[str, Any]) -> None:
    items = raw["workspaces"]
    assert len(result) == len(items) >= 1
    for ws, item in zip(result, items, strict=True):
        _check_workspace(ws, item)
    assert result[0].id == items[0]["id"]
    assert _is_int(result.total), result.total
    df = result.to_dataframe()
    assert len(df) == len(items)
    assert [str(v) for v in df["id"]] == [w["id"] for w in items]
    assert [str(v) for v in df["workspace_status"]] == [w["workspace_status"] for w in items]


def _check_id(value: Any, raw: dict[str, Any]) -> None:
    assert isinstance(value, str), value
    assert value == raw["workspace_id"]
    uuid.UUID(value)


# -- the mock really validates ----------------------------------------------------------------


def test_mock_rejects_a_create_body_without_name(mock: Mock) -> None:
    body = {k: v for k, v in CREATE_SPEC.items() if k != "name"}
    resp = requests.post(mock.base_url + "/workspaces", json=body, timeout=10)
    assert 400 <= resp.status_code < 500, resp.text
    violations = json.loads(resp.headers.get("sl-violations", "[]"))
    assert any("name" in v.get("message", "") for v in violations), resp.headers


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/workspaces", {"json": {**CREATE_SPEC, "resources": {"gpu_count": "1"}}}),
        ("POST", "/workspaces", {"data": json.dumps(CREATE_SPEC),
                                 "headers": {"Content-Type": "text/plain"}}),
        ("POST", "/workspaces", {}),
        ("GET", "/workspaces?cluster_id=not-a-uuid", {}),
        ("GET", "/workspace/not-a-uuid", {}),
        ("POST", f"/workspace/{WORKSPACE_ID}/stop", {"json": {}}),
        ("GET", f"/v1/workspace/{WORKSPACE_ID}", {}),
        ("PUT", f"/workspace/{WORKSPACE_ID}", {"json": CREATE_SPEC}),
    ],
    ids=["wrong-type", "wrong-content-type", "no-body", "bad-query-uuid", "bad-path-uuid",
         "body-on-stop", "unknown-path", "unknown-method"],
)
def test_mock_rejects_invalid_requests(mock: Mock, method: str, path: str,
                                       kwargs: dict[str, Any]) -> None:
    resp = requests.request(method, mock.base_url + path, timeout=10, **kwargs)
    assert 400 <= resp.status_code < 500, f"{method} {path} -> {resp.status_code} {resp.text}"


def test_mock_accepts_the_create_body_used_here(mock: Mock) -> None:
    resp = requests.post(mock.base_url + "/workspaces", json=CREATE_SPEC, timeout=10)
    assert resp.status_code == 201, resp.text


def test_an_invalid_request_through_the_client_fails(client: Any, sent: list[Any]) -> None:
    from exalsius_jupyter import ExalsiusError

    with pytest.raises(ExalsiusError) as info:
        client.describe_workspace("not-a-uuid")
    if sent:  # the client may refuse it locally instead; if it sent it, the mock must reject it
        assert getattr(info.value, "status", None) == 422, repr(info.value)


# -- every operation succeeds and parses -----------------------------------------------------


@pytest.mark.parametrize("prefer", [None, "dynamic=true"], ids=["examples", "generated"])
def test_list_workspaces(mock: Mock, client: Any, sent: list[Any], prefer: str | None) -> None:
    if prefer:
        client.session.headers["Prefer"] = prefer
    result = _call(mock, client.list_workspaces, cluster_id=None)
    _check_list(result, _raw(mock, "GET", "/workspaces", prefer))
    (req,) = sent
    assert req.method == "GET"
    assert urlsplit(req.url).path == "/workspaces"
    assert parse_qs(urlsplit(req.url).query) == {}


@pytest.mark.parametrize("prefer", [None, "dynamic=true"], ids=["examples", "generated"])
def test_list_workspaces_of_a_cluster(mock: Mock, client: Any, sent: list[Any],
                                      prefer: str | None) -> None:
    if prefer:
        client.session.headers["Prefer"] = prefer
    result = _call(mock, client.list_workspaces, cluster_id=CLUSTER_ID)
    _check_list(result, _raw(mock, "GET", "/workspaces", prefer, params={"cluster_id": CLUSTER_ID}))
    (req,) = sent
    assert req.method == "GET"
    assert urlsplit(req.url).path == "/workspaces"
    assert parse_qs(urlsplit(req.url).query) == {"cluster_id": [CLUSTER_ID]}


@pytest.mark.parametrize("prefer", [None, "dynamic=true"], ids=["examples", "generated"])
def test_describe_workspace(mock: Mock, client: Any, sent: list[Any], prefer: str | None) -> None:
    if prefer:
        client.session.headers["Prefer"] = prefer
    ws = _call(mock, client.describe_workspace, WORKSPACE_ID)
    _check_workspace(ws, _raw(mock, "GET", f"/workspace/{WORKSPACE_ID}", prefer))
    (req,) = sent
    assert (req.method, urlsplit(req.url).path) == ("GET", f"/workspace/{WORKSPACE_ID}")


@pytest.mark.parametrize("prefer", [None, "dynamic=true"], ids=["examples", "generated"])
def test_create_workspace(mock: Mock, client: Any, sent: list[Any], prefer: str | None) -> None:
    if prefer:
        client.session.headers["Prefer"] = prefer
    new_id = _call(mock, client.create_workspace, CREATE_SPEC)
    _check_id(new_id, _raw(mock, "POST", "/workspaces", prefer, json=CREATE_SPEC))
    (req,) = sent
    assert (req.method, urlsplit(req.url).path) == ("POST", "/workspaces")
    assert req.headers["Content-Type"].split(";")[0].strip() == "application/json"
    assert json.loads(req.body) == CREATE_SPEC  # nothing added, renamed or dropped


@pytest.mark.parametrize("prefer", [None, "dynamic=true"], ids=["examples", "generated"])
def test_stop_workspace(mock: Mock, client: Any, sent: list[Any], prefer: str | None) -> None:
    if prefer:
        client.session.headers["Prefer"] = prefer
    result = _call(mock, client.stop_workspace, WORKSPACE_ID)
    _check_id(result, _raw(mock, "POST", f"/workspace/{WORKSPACE_ID}/stop", prefer))
    (req,) = sent
    assert (req.method, urlsplit(req.url).path) == ("POST", f"/workspace/{WORKSPACE_ID}/stop")
    assert not req.body


@pytest.mark.parametrize("prefer", [None, "dynamic=true"], ids=["examples", "generated"])
def test_delete_workspace(mock: Mock, client: Any, sent: list[Any], prefer: str | None) -> None:
    if prefer:
        client.session.headers["Prefer"] = prefer
    result = _call(mock, client.delete_workspace, WORKSPACE_ID)
    _check_id(result, _raw(mock, "DELETE", f"/workspace/{WORKSPACE_ID}", prefer))
    (req,) = sent
    assert (req.method, urlsplit(req.url).path) == ("DELETE", f"/workspace/{WORKSPACE_ID}")
    assert not req.body


# -- the spec's error examples become typed errors -------------------------------------------


def test_error_table_matches_the_specs_x_use_example(spec: dict[str, Any]) -> None:
    declared = set()
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and "operationId" in op:
                for code, example in (op.get("x-useExample") or {}).items():
                    declared.add((op["operationId"], int(code), example))
    assert declared == set(ERROR_CASES)


def _invoke(client: Any, operation_id: str) -> Any:
    return {
        "listWorkspaces": lambda: client.list_workspaces(cluster_id=None),
        "createWorkspace": lambda: client.create_workspace(CREATE_SPEC),
        "describeWorkspace": lambda: client.describe_workspace(WORKSPACE_ID),
        "deleteWorkspace": lambda: client.delete_workspace(WORKSPACE_ID),
        "stopWorkspace": lambda: client.stop_workspace(WORKSPACE_ID),
    }[operation_id]()


@pytest.mark.parametrize(("operation_id", "code", "example"), ERROR_CASES,
                         ids=[f"{o}-{c}-{e}" for o, c, e in ERROR_CASES])
def test_forced_error_examples_become_typed_errors(
    mock: Mock, client: Any, spec: dict[str, Any], operation_id: str, code: int, example: str
) -> None:
    import exalsius_jupyter as ej

    expected_cls = {400: ej.BadRequestError, 404: ej.NotFoundError, 409: ej.ConflictError,
                    500: ej.ServerError}[code]
    problem = spec["components"]["responses"]["ErrorResponse"]["content"][
        "application/problem+json"]["examples"][example]["value"]["detail"]

    client.session.headers["Prefer"] = f"code={code}, example={example}"
    with pytest.raises(ej.ExalsiusError) as info:
        _invoke(client, operation_id)
    err = info.value
    assert isinstance(err, expected_cls), f"{type(err).__name__}: {err}\n{mock.log_tail()}"
    assert (err.status, err.title, err.detail, err.instance) == (
        problem["status"], problem["title"], problem["detail"], problem["instance"])
    assert "\n" not in str(err)
