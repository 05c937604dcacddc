"""The msgspec fast path (issue #10): identical frames, lists and models, or a silent fallback.

Every case runs through both paths: ``decode_list`` (msgspec, when installed and not switched off
with ``EXALSIUS_FAST=0``) and the stdlib path (``decode.loads`` plus the tolerant builders). Where
msgspec is absent ``decode_list`` must decline everything, so the same tests check the fallback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import Canned, CannedServer

from exalsius_jupyter.api import decode
from exalsius_jupyter.api.client import ExalsiusClient, _total
from exalsius_jupyter.errors import InvalidResponseError
from exalsius_jupyter.model import msgspec_path as fast
from exalsius_jupyter.model.frames import workspaces_frame
from exalsius_jupyter.model.jsondepth import MAX_DEPTH
from exalsius_jupyter.model.workspace import Workspace, WorkspaceList
from exalsius_jupyter.sandbox import Sandbox

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
NO_HEADERS = SimpleNamespace(headers={})


# -- helpers the other agreement tests use too ------------------------------------------------


def assert_same_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Values, dtypes, column order and attrs all equal."""
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.attrs == want.attrs


def both_frames(raw: list[Any], total: int | None = None) -> pd.DataFrame:
    """``workspaces_frame(raw, total)``; the same objects as a list body through the fast path
    must give the identical frame wherever msgspec accepts them (and msgspec must not raise)."""
    want = workspaces_frame(raw, total)
    body = json.dumps({"workspaces": raw}).encode()
    listed = fast.decode_list(body)
    if listed is not None:
        again = workspaces_frame(json.loads(body)["workspaces"], total)  # NaN/-0.0 round trip
        count = len(listed)
        assert_same_frame(WorkspaceList.from_fast(listed, total).to_dataframe(), again)
        assert count == len(raw)
    return want


def _models(wl: WorkspaceList) -> list[Any]:
    out: list[Any] = []
    for i in range(len(wl)):
        try:
            out.append(wl[i])
        except InvalidResponseError as exc:
            out.append(str(exc))
    return out


def both_paths(body: bytes) -> str:
    """Run a list body through both paths as the client does; 'fast', 'fallback' or 'error'."""
    try:
        decoded = decode.loads(body)
        items = decoded.get("workspaces") if isinstance(decoded, dict) else None
    except (ValueError, UnicodeDecodeError):
        items = None
    listed = fast.decode_list(body)  # never raises
    if listed is None:
        return "fallback" if isinstance(items, list) else "error"
    assert isinstance(items, list), "the fast path accepted a body the stdlib path rejects"
    std = WorkspaceList(items, total=_total(NO_HEADERS, decoded, len(items)))  # type: ignore[arg-type]
    quick = WorkspaceList.from_fast(
        listed, total=_total(NO_HEADERS, {"total": listed.total}, len(listed)))  # type: ignore[arg-type]
    assert (len(quick), quick.total) == (len(std), std.total)
    assert_same_frame(quick.to_dataframe(), std.to_dataframe())
    assert quick.raw == std.raw
    assert _models(quick) == _models(std)
    assert_same_frame(quick.to_dataframe(), std.to_dataframe())  # again, after the dicts
    return "fast"


# -- strategies: typed-friendly workspaces (the fast path takes them) and malformed bodies ----

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
)
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
finite_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
text = st.one_of(st.none(), st.text(max_size=10), st.sampled_from(["", " ", "0", "a b "]))
ints = st.one_of(st.none(), st.integers(min_value=-(2**70), max_value=2**70),
                 st.integers(min_value=0, max_value=64))
stamps = st.one_of(
    text,
    st.builds(
        lambda d, sep, clock, frac, zone: f"{d.isoformat()}{sep}{clock}{frac}{zone}",
        st.dates(),
        st.sampled_from(["T", "t", " "]),
        st.sampled_from(["00:00:00", "12:34:56", "23:59:59", "12:34", "24:00:00", "12:60:00",
                         "23:59:60"]),
        st.sampled_from(["", ".5", ".123456", ".123456789", "."]),
        st.sampled_from(["", "Z", "z", "+02:00", "-0530", "+01", "+23:59", "+24:00", " "]),
    ),
)
statuses = st.one_of(text, st.sampled_from(
    ["PENDING", "RUNNING", "running", "Stopped", "DELETED", "FAILED", "UNKNOWN", "HIBERNATING"]))
access_item = st.fixed_dictionaries({}, optional={
    "access_protocol": st.one_of(text, st.sampled_from(["HTTP", "https", "SSH", "TCP"])),
    "port_number": st.one_of(st.none(), st.integers(min_value=0, max_value=70000), text),
    "external_ips": st.one_of(text, st.lists(text, max_size=3)),
    "zz": finite_json,
})
access = st.one_of(text, st.sampled_from([" http://1.2.3.4:80 ", "ssh -p 22 u@h"]),
                   st.lists(st.one_of(st.text(max_size=8), access_item), max_size=3))
typed_workspace = st.fixed_dictionaries({}, optional={
    "id": st.one_of(text, st.uuids().map(str)),
    "name": text,
    "cluster_id": text,
    "workspace_status": statuses,
    "template": st.one_of(text, st.fixed_dictionaries({}, optional={
        "name": text, "variables": finite_json, "description": finite_json})),
    "resources": st.one_of(st.none(), st.fixed_dictionaries({}, optional={
        "gpu_count": ints, "cpu_cores": ints, "memory_gb": ints, "storage_gb": ints,
        "gpu_type": text, "gpu_vendor": text, "gpu_memory": finite_json, "zz": finite_json})),
    "owner": text,
    "description": text,
    "access_information": access,
    "created_at": stamps,
    "to_be_deleted_at": stamps,
    "extra_field": finite_json,
})
# Mostly well typed (the fast path's shape), sometimes anything at all (it must decline those).
workspace_any = st.one_of(typed_workspace, typed_workspace, typed_workspace, json_like)
list_bodies = st.builds(
    lambda rows, total, extra, ascii_only: json.dumps(
        {"workspaces": rows, **total, **extra}, ensure_ascii=ascii_only).encode(),
    st.lists(workspace_any, max_size=6),
    st.one_of(st.just({}), st.builds(lambda t: {"total": t}, json_like)),
    st.one_of(st.just({}), st.builds(lambda v: {"next": v}, finite_json)),
    st.booleans(),
)


def _mutate(body: bytes, how: str, at: int) -> bytes:
    """One byte-level oddity put into a body (at a position inside it)."""
    at = at % (len(body) + 1)
    inserts = {
        "lone_high": b'"\\ud800"', "lone_low": b'"\\udc00x"', "pair": b'"\\ud83d\\ude00"',
        "nan": b"NaN", "inf": b"-Infinity", "bad_utf8": b'"\xff\xfe"',
        "raw_surrogate": b'"\xed\xa0\x80"', "deep": b"[" * 1200 + b"]" * 1200,
        "deep_ok": b"[" * 300 + b"]" * 300, "bigint": b"1" + b"0" * 30,
    }
    if how == "bom":
        return b"\xef\xbb\xbf" + body
    if how == "truncate":
        return body[:at]
    if how == "dup_key":
        return body.replace(b'"id": ', b'"id": "first", "id": ', 1)
    value = inserts[how]
    # As the value of a new unknown key of the first workspace, or of the body itself.
    if b'{"id"' in body:
        return body.replace(b'{"id"', b'{"zz": ' + value + b', "id"', 1)
    return body.replace(b'{"workspaces"', b'{"zz": ' + value + b', "workspaces"', 1)


MUTATIONS = ["lone_high", "lone_low", "pair", "nan", "inf", "bad_utf8", "raw_surrogate", "deep",
             "deep_ok", "bigint", "bom", "truncate", "dup_key"]


# -- the agreement tests ----------------------------------------------------------------------


@FUZZ
@given(list_bodies)
def test_both_paths_agree_on_list_bodies(body: bytes) -> None:
    both_paths(body)


@FUZZ
@given(list_bodies, st.sampled_from(MUTATIONS), st.integers(min_value=0))
def test_both_paths_agree_on_malformed_bodies(body: bytes, how: str, at: int) -> None:
    both_paths(_mutate(body, how, at))


@FUZZ
@given(st.lists(typed_workspace, max_size=6))
def test_both_frames_agree_on_typed_workspaces(raw: list[dict[str, Any]]) -> None:
    both_frames(raw)


WELL_FORMED = json.dumps({"workspaces": [
    {"id": "a", "name": "alpha", "cluster_id": "c", "workspace_status": "RUNNING",
     "template": {"name": "jupyter-notebook", "variables": {"p": "1"}},
     "resources": {"gpu_count": 2, "gpu_type": "A100", "cpu_cores": 8, "gpu_memory": 80},
     "created_at": "2025-01-01T00:00:00Z", "to_be_deleted_at": None,
     "access_information": [{"access_protocol": "HTTPS", "port_number": 443,
                             "external_ips": ["1.2.3.4"]}], "extra": {"x": [1, {"y": 2}]}},
    {"id": "b", "name": "beta", "template": "ssh-pod", "resources": None,
     "access_information": "ssh -p 22 h", "created_at": "2025-06-01t12:00:00+02:00"},
    {"name": "gamma", "workspace_status": "hibernating"},
], "total": 7}).encode()


def test_fast_path_takes_a_well_formed_body_exactly_when_enabled(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Not a skip: without msgspec (or with EXALSIUS_FAST=0) the body must go the stdlib way.
    assert both_paths(WELL_FORMED) == ("fast" if fast.enabled() else "fallback")
    monkeypatch.setenv(fast.ENV, "0")
    assert not fast.enabled() and fast.decode_list(WELL_FORMED) is None
    assert both_paths(WELL_FORMED) == "fallback"


@pytest.mark.parametrize("how", MUTATIONS)
def test_every_mutation_agrees(how: str) -> None:
    outcome = both_paths(_mutate(WELL_FORMED, how, len(WELL_FORMED) // 2))
    if how in ("lone_high", "lone_low", "nan", "inf", "bad_utf8", "raw_surrogate", "deep", "bom",
               "truncate"):
        assert outcome in ("fallback", "error"), how  # msgspec must decline these


@pytest.mark.parametrize("body", [
    b"[]", b"null", b'{"workspaces": null}', b'{"workspaces": {}}', b'{"total": 3}',
    b'{"workspaces": ["junk", 5, null]}', b'{"workspaces": [{"id": 1.5}]}',
    b'{"workspaces": [{"id": "a", "resources": []}]}', b'{"workspaces": [], "total": -1}',
    b'{"workspaces": [], "total": true}', b'{"workspaces": [], "total": "9"}',
    b'{"workspaces": [{"id": "a", "resources": {"cpu_cores": 4.0}}]}',
    b'{"workspaces": [{"id": "a", "access_information": {"port_number": 1}}]}',
    b'{"workspaces": [{"id": "a", "template": {"name": 5}}]}',
    b'{"workspaces": [], "workspaces": [{"id": "later"}]}',
    b'{"workspaces": [{"id": "a", "created_at": "2025-01-01T00:00:00Z"}]}  ',
    b'{"workspaces": [{"id": "a"}]} x',
])
def test_odd_shapes_agree(body: bytes) -> None:
    both_paths(body)


SSH_WITH_USER = json.dumps({"workspaces": [{"id": "a", "access_information": [{
    "access_protocol": "SSH", "port_number": 30022, "external_ips": ["10.0.0.5"],
    "access_description": "ssh -p 30022 dev@10.0.0.5"}]}]}).encode()


def test_the_ssh_user_of_a_1_46_access_object_is_kept_by_both_paths() -> None:
    """Regression: the fast path's access objects lacked the description naming the user."""
    assert both_paths(SSH_WITH_USER) == ("fast" if fast._installed() else "fallback")
    wl = WorkspaceList.from_fast(fast.decode_list(SSH_WITH_USER), total=1)  # type: ignore[arg-type]
    assert wl.to_dataframe()["access_information"][0] == "ssh -p 30022 dev@10.0.0.5"


def _many(n: int) -> list[dict[str, Any]]:
    """``n`` workspaces in both APIs' shapes, repeating values, odd ones past the first chunk."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        w: dict[str, Any] = {
            "id": f"w{i}", "name": f"n{i}", "cluster_id": f"c{i % 3}", "owner": "ada",
            "workspace_status": ("RUNNING", "PENDING", "stopped")[i % 3],
            "template": {"name": "jupyter"} if i % 2 else "vscode",
            "resources": {"gpu_count": i % 4, "gpu_type": "H100"} if i % 5 else None,
            "created_at": f"2026-01-{1 + i % 28:02d}T10:00:00Z",
            "access_information": f" http://10.0.0.{i % 250}:8888 " if i % 7 else [
                {"access_protocol": "ssh", "port_number": 22 + i, "external_ips": ["10.0.0.9"],
                 "access_description": "ssh -p 22 dev@10.0.0.9", "other": 1.5},
                "http://second"]}
        if i > fast.CHUNK and i % 11 == 0:  # past the first chunk: what the first did not have
            w["access_information"] = [{"external_ips": [" 10.0.0.1 "], "port_number": " 80"}]
            w["owner"] = None
        out.append(w)
    return out


def test_a_list_of_several_chunks_gives_the_stdlib_frame_and_shares_repeated_values() -> None:
    n = 2 * fast.CHUNK + 17
    raw = _many(n)
    both_frames(raw, total=n)
    listed = fast.decode_list(json.dumps({"workspaces": raw}).encode())
    if not fast._installed():
        assert listed is None
        return
    assert listed is not None and len(listed) == n
    columns = listed.columns()
    owners = columns["owner"]
    assert owners[0] == owners[fast.CHUNK + 1] == "ada" and owners[fast.CHUNK + 1] is owners[0]
    assert columns["name"][0] == "n0"
    assert columns["template"][-1] == "vscode" and columns["template"][1] == "jupyter"
    ssh = 7 * (n // 14)  # an ssh object in the second half
    assert columns["access_information"][ssh] == f"ssh -p {22 + ssh} dev@10.0.0.9"
    odd = next(i for i in range(fast.CHUNK + 1, n) if i % 11 == 0)
    assert columns["access_information"][odd] == "10.0.0.1:80" and owners[odd] is None
    assert WorkspaceList.from_fast(listed).raw == raw  # the JSON objects still come whole


def test_a_body_within_the_depth_limit_is_decoded_from_any_stack() -> None:
    # MAX_DEPTH levels are more than json or msgspec take 700 frames down (Python 3.10/3.11):
    # the records and the dicts are decoded on a fresh stack then; one level more is declined.
    def nested(depth: int) -> bytes:
        return b'{"workspaces": [{"id": "a", "zz": ' + b"[" * depth + b"]" * depth + b"}]}"

    def deep(n: int, then: Callable[[], Any]) -> Any:
        return deep(n - 1, then) if n else then()

    listed = deep(700, lambda: fast.decode_list(nested(MAX_DEPTH - 3)))
    assert listed is not None and listed.columns()["id"] == ["a"]
    wl = WorkspaceList.from_fast(listed)
    assert deep(700, lambda: wl.raw)[0]["id"] == "a"
    assert fast.decode_list(nested(MAX_DEPTH - 2)) is None


# -- through the client: EXALSIUS_FAST=1 and =0 give the same result -------------------------


@pytest.fixture(params=["1", "0"], ids=["fast", "stdlib"])
def fast_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both paths, by the environment switch."""
    monkeypatch.setenv(fast.ENV, request.param)
    yield request.param


def _client_result(url: str) -> Any:
    client = ExalsiusClient(url, timeout=5)
    try:
        wl = client.list_workspaces()
    except InvalidResponseError as exc:
        return ("error", str(exc))
    df = wl.to_dataframe()
    return wl, df, wl.raw, _models(wl)


def _same_result(a: Any, b: Any) -> None:
    if isinstance(a, tuple) and a and a[0] == "error":
        assert a == b
        return
    (wa, da, ra, ma), (wb, db, rb, mb) = a, b
    assert (len(wa), wa.total) == (len(wb), wb.total)
    assert_same_frame(da, db)
    assert ra == rb and ma == mb


@pytest.mark.parametrize("api", ["1.5.1", "1.46"])
def test_client_sandbox_lists_agree(monkeypatch: pytest.MonkeyPatch, api: str) -> None:
    with Sandbox(workspaces=300, seed=3, api=api) as sb:
        results = []
        for value in ("1", "0"):
            monkeypatch.setenv(fast.ENV, value)
            results.append(_client_result(sb.url))
    _same_result(*results)
    assert results[0][0]._fast is not None or not fast._installed()
    assert results[1][0]._fast is None


@pytest.mark.parametrize("body", [
    WELL_FORMED, _mutate(WELL_FORMED, "nan", 0), _mutate(WELL_FORMED, "lone_high", 0),
    _mutate(WELL_FORMED, "bad_utf8", 0), _mutate(WELL_FORMED, "deep", 0),
    b'{"workspaces": [', b"<html>", b'{"workspaces": 5}', b'{"workspaces": [{"id": 5}]}',
])
def test_client_paths_agree(canned: CannedServer, body: bytes,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    results = []
    for value in ("1", "0"):
        monkeypatch.setenv(fast.ENV, value)
        canned.reply(Canned(200, body, {"Content-Type": "application/json",
                                        "X-Total-Count": "11"}))
        results.append(_client_result(canned.url))
    _same_result(*results)


def test_client_fast_list_is_a_normal_list(fast_env: str, client: ExalsiusClient) -> None:
    wl = client.list_workspaces()
    assert isinstance(wl, WorkspaceList) and len(wl) == wl.total
    assert all(isinstance(w, Workspace) for w in wl)
    assert [w.id for w in wl] == [r["id"] for r in wl.raw]
