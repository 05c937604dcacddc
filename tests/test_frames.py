"""frames.py: workspaces as a DataFrame with fixed columns and dtypes (pandas 2 and 3)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_fast_path import both_frames  # every frame here goes through both paths

from exalsius_jupyter.model import frames
from exalsius_jupyter.model.fields import primary_access, primary_access_column
from exalsius_jupyter.model.frames import COLUMNS, dtypes
from exalsius_jupyter.model.workspace import STATUS_VALUES, Workspace, WorkspaceList

RAW: list[dict[str, Any]] = [
    {
        "id": "a", "name": "alpha", "cluster_id": "c1", "workspace_status": "RUNNING",
        "template": {"name": "jupyter-notebook", "variables": {}},
        "resources": {"gpu_count": 2, "gpu_type": "A100", "gpu_vendor": "NVIDIA",
                      "cpu_cores": 8, "memory_gb": 64, "storage_gb": 100},
        "created_at": "2025-01-01T02:00:00+02:00", "to_be_deleted_at": "2025-02-01T00:00:00Z",
        "access_information": "http://1.2.3.4:8888", "owner": "me", "description": "d",
    },
    {
        "id": "b", "name": "beta", "cluster_id": "c1", "workspace_status": "HIBERNATING",
        "template": "ssh-pod", "resources": {"cpu_cores": 2},
        "access_information": [{"access_protocol": "SSH", "port_number": 22,
                                "external_ips": ["5.6.7.8"]}],
    },
    {"id": "c", "name": "gamma"},
]


def _check_dtypes(df: pd.DataFrame) -> None:
    assert tuple(df.columns) == COLUMNS
    for col, dtype in dtypes().items():
        assert df[col].dtype == dtype, col


def test_columns_include_the_documented_ones() -> None:
    documented = {"id", "name", "cluster_id", "workspace_status", "template", "gpu_count",
                  "gpu_type", "cpu_cores", "memory_gb", "storage_gb", "created_at",
                  "to_be_deleted_at", "access_information"}
    assert documented <= set(COLUMNS)
    assert set(dtypes()) == set(COLUMNS)


def test_dtypes_per_column() -> None:
    df = both_frames(RAW, total=10)
    _check_dtypes(df)
    assert isinstance(df["workspace_status"].dtype, pd.CategoricalDtype)
    assert list(df["workspace_status"].cat.categories) == list(STATUS_VALUES)
    assert "UNKNOWN" in df["workspace_status"].cat.categories
    for col in ("gpu_count", "cpu_cores", "memory_gb", "storage_gb"):
        assert df[col].dtype == pd.Int64Dtype()
    for col in ("created_at", "to_be_deleted_at"):
        assert isinstance(df[col].dtype, pd.DatetimeTZDtype)
        assert str(df[col].dt.tz) == "UTC"


def test_values() -> None:
    df = both_frames(RAW)
    assert df.attrs["total"] == 3
    assert list(df["workspace_status"]) == ["RUNNING", "UNKNOWN", "UNKNOWN"]
    assert list(df["template"].astype(object)) == ["jupyter-notebook", "ssh-pod", pd.NA]
    assert df.loc[0, "gpu_count"] == 2
    assert df["gpu_count"].isna().tolist() == [False, True, True]
    assert df["cpu_cores"].tolist()[:2] == [8, 2]
    assert df.loc[0, "created_at"] == pd.Timestamp("2025-01-01T00:00:00Z")
    assert pd.isna(df.loc[1, "created_at"])
    assert df.loc[0, "access_information"] == "http://1.2.3.4:8888"
    assert df.loc[1, "access_information"] == "ssh -p 22 5.6.7.8"


def test_total_attr() -> None:
    assert both_frames(RAW, total=123).attrs["total"] == 123


def test_empty_frame_same_columns_and_dtypes() -> None:
    df = both_frames([], total=0)
    assert df.empty and len(df) == 0
    _check_dtypes(df)
    assert df.attrs["total"] == 0


def test_nullable_ints_with_missing_and_junk() -> None:
    raw = [{"id": "1", "resources": {"gpu_count": None, "cpu_cores": "4", "memory_gb": True}},
           {"id": "2", "resources": None}, {"id": "3"}]
    df = both_frames(raw)
    _check_dtypes(df)
    assert df[["gpu_count", "cpu_cores", "memory_gb"]].isna().all().all()
    assert df["gpu_count"].sum() == 0


def test_junk_rows_and_timestamps_do_not_crash() -> None:
    raw: list[Any] = ["junk", {"id": "x", "created_at": "yesterday", "to_be_deleted_at": 5}]
    df = both_frames(raw)
    _check_dtypes(df)
    assert len(df) == 2 and df["created_at"].isna().all()
    assert list(df["workspace_status"]) == ["UNKNOWN", "UNKNOWN"]


@pytest.mark.parametrize("status", [["RUNNING"], {"phase": "RUNNING"}, 3, None, True])
def test_unhashable_or_odd_status_is_unknown(status: Any) -> None:
    # Regression: a list/dict status (a newer API's richer shape) raised TypeError
    # ("unhashable type") while the model turns it into UNKNOWN.
    df = both_frames([{"id": "x", "workspace_status": status}])
    assert list(df["workspace_status"]) == ["UNKNOWN"]


def test_status_agrees_with_the_model() -> None:
    # Regression: the model reads "running" as RUNNING, the frame said UNKNOWN.
    raw = [{"id": "x", "workspace_status": "running"}, {"id": "y", "workspace_status": "Failed"}]
    df = both_frames(raw)
    model = [Workspace.from_api(r).workspace_status.value for r in raw]
    assert list(df["workspace_status"]) == model == ["RUNNING", "FAILED"]


def test_integral_floats_agree_with_the_model() -> None:
    # Regression: the model reads 4.0 cores as 4, the frame dropped it to <NA>.
    raw = [{"id": "x", "resources": {"cpu_cores": 4.0, "gpu_count": 1.5}}]
    df = both_frames(raw)
    ws = Workspace.from_api(raw[0])
    assert df.loc[0, "cpu_cores"] == ws.resources.cpu_cores == 4
    assert pd.isna(df.loc[0, "gpu_count"]) and ws.resources.gpu_count is None


def test_frame_matches_models_for_the_same_rows() -> None:
    df = both_frames(RAW)
    for i, ws in enumerate(WorkspaceList(RAW)):
        assert df.loc[i, "id"] == ws.id
        assert df.loc[i, "workspace_status"] == ws.workspace_status.value
        created = df.loc[i, "created_at"]
        assert (pd.isna(created) and ws.created_at is None) or created == ws.created_at


def test_workspace_list_to_dataframe() -> None:
    df = WorkspaceList(RAW, total=7).to_dataframe()
    _check_dtypes(df)
    assert df.attrs["total"] == 7 and len(df) == 3


def test_datetimes_with_nanoseconds_and_offsets() -> None:
    raw = [{"id": "x", "created_at": "2025-01-01T00:00:00.123456789Z"},
           {"id": "y", "created_at": "2025-06-01T12:00:00-05:00"},
           {"id": "z", "created_at": "2025-01-01t00:00:00z"}]
    df = both_frames(raw)
    assert df.loc[0, "created_at"] == pd.Timestamp("2025-01-01T00:00:00.123456789Z")
    assert df.loc[1, "created_at"] == pd.Timestamp("2025-06-01T17:00:00Z")
    # Regression: RFC 3339's lower-case t/z parsed in the model but became NaT here.
    assert df.loc[2, "created_at"] == pd.Timestamp("2025-01-01T00:00:00Z")


def test_pandas_major_version_supported() -> None:
    assert int(pd.__version__.split(".")[0]) in (2, 3)
    assert frames.STATUS_DTYPE.categories.tolist() == list(STATUS_VALUES)


@pytest.mark.parametrize("text", ["2263-01-01T00:00:00Z", "1600-01-01T00:00:00Z",
                                  "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00"])
def test_timestamps_beyond_nanosecond_range_are_nat(text: str) -> None:
    # Regression (pandas 3): the parse picked a coarser unit, then as_unit("ns") overflowed
    # with OutOfBoundsDatetime instead of leaving the cell empty.
    df = both_frames([{"id": "x", "created_at": text},
                           {"id": "y", "created_at": "2025-01-01T00:00:00Z"}])
    _check_dtypes(df)
    assert pd.isna(df.loc[0, "created_at"])
    assert df.loc[1, "created_at"] == pd.Timestamp("2025-01-01T00:00:00Z")


@pytest.mark.parametrize("info", [" ", " http://h:1 ", ["", "x"], ["  "], "\tssh h\n"])
def test_access_cell_is_the_models_primary_access(info: Any) -> None:
    # Regression: plain strings skipped the model's cleaning (" " showed as a blank link).
    df = both_frames([{"id": "x", "access_information": info}, {"id": "y"}])
    cell = df.loc[0, "access_information"]
    want = Workspace.from_api({"id": "x", "access_information": info}).access_url
    assert (pd.isna(cell) and want is None) or cell == want
    assert want is None or want == want.strip()


def test_model_and_frame_agree_on_falsy_and_float_text() -> None:
    # Regression: the model read 0/False as a missing id or name, the frame showed "0"/"False".
    raw = [{"id": 0, "name": False, "cluster_id": 1.5, "template": {"name": 0}}]
    ws = Workspace.from_api(raw[0])
    df = both_frames(raw)
    assert (ws.id, ws.name, ws.cluster_id, ws.template.name) == ("0", "False", "1.5", "0")
    assert df.loc[0, ["id", "name", "cluster_id", "template"]].tolist() == ["0", "False", "1.5",
                                                                             "0"]


def test_nan_is_missing_in_model_and_frame() -> None:
    # Regression: the model turned NaN (json.loads accepts it) into the text "nan".
    raw = [{"id": "x", "owner": float("nan"), "name": float("nan"),
            "resources": {"gpu_type": float("nan")}}]
    ws = Workspace.from_api(raw[0])
    df = both_frames(raw)
    assert ws.owner is None and ws.name == "" and ws.resources.gpu_type is None
    assert df.loc[0, ["owner", "name", "gpu_type"]].isna().all()


@pytest.mark.parametrize("template", [5, ["jupyter"], True, {"variables": {}}])
def test_template_that_is_not_an_object_or_name_is_missing(template: Any) -> None:
    # Regression: the frame showed str(template) ("5", "['jupyter']") where the model has "".
    df = both_frames([{"id": "x", "template": template}])
    assert Workspace.from_api({"id": "x", "template": template}).template.name == ""
    assert pd.isna(df.loc[0, "template"])


def test_naive_timestamps_after_offset_ones_stay_utc() -> None:
    # Regression (pandas 2): a naive timestamp after one with an offset took that offset.
    raw = [{"id": "a", "created_at": "2000-01-01T00:00:00+02:00"},
           {"id": "b", "created_at": "2000-01-01T00:00:00"},
           {"id": "c", "created_at": "2000-01-01"},
           {"id": "d", "created_at": "2000-01-01T00:00:00\n"}]
    df = both_frames(raw)
    assert df["created_at"].tolist() == [pd.Timestamp("1999-12-31T22:00:00Z")] + [
        pd.Timestamp("2000-01-01T00:00:00Z")] * 3
    assert df["created_at"].tolist() == [Workspace.from_api(r).created_at for r in raw]


@pytest.mark.parametrize("value", [[], [None], [1, 2], {}])
def test_list_valued_text_fields_do_not_crash(value: Any) -> None:
    # Regression (pandas 2): a column of equal-length lists became a 2-D buffer (ValueError).
    df = both_frames([{"id": value, "name": value, "owner": value}])
    _check_dtypes(df)
    ws = Workspace.from_api({"id": value, "name": value, "owner": value})
    assert df.loc[0, ["id", "name", "owner"]].tolist() == [ws.id, ws.name, ws.owner]


access_items = st.fixed_dictionaries({}, optional={
    "access_protocol": st.one_of(st.none(), st.sampled_from(["HTTP", "https", "SSH", "TCP", ""]),
                                 st.integers()),
    "port_number": st.one_of(st.none(), st.integers(0, 70000), st.sampled_from([" 22", "", "x"])),
    "external_ips": st.one_of(st.none(), st.text(max_size=4), st.lists(st.one_of(
        st.none(), st.sampled_from(["10.0.0.5", " 10.0.0.6", "h\t", "", " "])), max_size=3)),
    "access_description": st.one_of(st.none(), st.sampled_from(
        ["ssh -p 22 dev@h", "ssh root@x", "Jupyter UI"]), st.integers()),
})
access_values = st.one_of(st.none(), st.text(max_size=6), st.integers(),
                          st.lists(st.one_of(access_items, st.text(max_size=4), st.none()),
                                   max_size=3), access_items)


@given(st.lists(access_values, max_size=8))
def test_the_access_column_is_primary_access_of_each_value(values: list[Any]) -> None:
    """The column-wise access rule (#16) gives what the per-row rule gives, value by value."""
    assert primary_access_column(values) == [primary_access(v) for v in values]


# Whole 1.46 access objects from small pools, so that a column repeats them (the column-wise
# rule reads each distinct protocol and port once): equal keys of other types (1, "1", True,
# 1.0), users that differ only in the description, unclean and missing hosts.
usual_access = st.fixed_dictionaries({
    "access_protocol": st.sampled_from(["HTTP", "https", "SSH", "TCP", "", None]),
    "port_number": st.sampled_from([1, "1", None, " 22", 22, 0]),
    "external_ips": st.sampled_from([["10.0.0.5"], ["10.0.0.5", "h"], ["h"]]),
    "access_description": st.sampled_from(["ssh -p 22 dev@h", "ssh -p 22 root@h", None,
                                           "Jupyter"]),
})
odd_access = st.fixed_dictionaries({
    "access_protocol": st.sampled_from(["SSH", True, 1]),
    "port_number": st.sampled_from([True, 1.0, 1]),
    "external_ips": st.sampled_from([[" h"], ["h\t"], [""], [None], [], "10.0.0.5"]),
    "access_description": st.sampled_from(["ssh -p 22 dev@h", 1, True]),
})
whole_access = st.one_of(usual_access, usual_access, usual_access, odd_access)
whole_values = st.one_of(st.none(), st.lists(whole_access, min_size=1, max_size=2))


@given(st.one_of(st.lists(whole_values, min_size=1, max_size=40),
                 st.lists(st.one_of(st.none(), st.lists(usual_access, min_size=1, max_size=2)),
                          min_size=1, max_size=40)))
def test_repeated_whole_access_objects_are_linked_as_row_by_row(values: list[Any]) -> None:
    """#16: linking a column at a time gives what linking row by row gives (both paths)."""
    assert primary_access_column(values) == [primary_access(v) for v in values]
    df = both_frames([{"id": str(i), "access_information": v} for i, v in enumerate(values)])
    assert [None if pd.isna(c) else c for c in df["access_information"]] == [
        primary_access(v) for v in values]


def test_the_usual_1_46_column_is_linked_column_wise() -> None:
    """The column-wise rule takes the usual shape itself (the test above is not all fallback)."""
    from exalsius_jupyter.model.fields import _first_links

    ssh = {"access_protocol": "SSH", "port_number": 30022, "external_ips": ["10.0.0.5"],
           "access_description": "ssh -p 30022 dev@10.0.0.5", "access_type": "NODE_PORT"}
    web = {**ssh, "access_protocol": "HTTP", "port_number": "8888", "access_description": None}
    values: list[Any] = [[ssh], None, [web, ssh], [ssh]]
    assert _first_links(values, dict) == ["ssh -p 30022 dev@10.0.0.5", None,
                                          "http://10.0.0.5:8888", "ssh -p 30022 dev@10.0.0.5"]
    assert _first_links([[{**ssh, "port_number": True}]], dict) is None  # a bool: per row


# -- #17.6: the columns people read first, the ids last (both paths) -------------------------

PEOPLE_FIRST = ("name", "workspace_status", "template", "gpu_count", "gpu_type",
                "access_information", "created_at")
IDS_LAST = ("id", "cluster_id", "owner")


def test_the_frame_reads_name_status_template_gpus_access_created_first_and_ids_last() -> None:
    df = both_frames(RAW, total=3)  # the fast path's frame is checked identical inside
    columns = tuple(df.columns)
    assert columns[:len(PEOPLE_FIRST)] == PEOPLE_FIRST
    assert columns[-len(IDS_LAST):] == IDS_LAST
    assert set(columns) == set(dtypes())  # every column kept for data work
    assert df["id"].tolist() == ["a", "b", "c"]  # full ids, not shortened


def test_cluster_names_go_after_the_status_ids_stay_last() -> None:
    df = frames.with_cluster_names(both_frames(RAW), {"c1": "berlin-a100"})
    columns = tuple(df.columns)
    assert columns[:3] == ("name", "workspace_status", "cluster_name")
    assert columns[-len(IDS_LAST):] == IDS_LAST
    assert df["cluster_name"].tolist()[:2] == ["berlin-a100"] * 2


def test_values_equal_across_types_are_not_shared_into_one() -> None:
    # Regression (#16): repeated values are shared through a dict, where True == 1 == 1.0; a
    # text column of such values kept the first one's text for all ("True", "True", "True").
    frame = frames.workspaces_frame([{"id": "a", "owner": True}, {"id": "b", "owner": 1},
                                     {"id": "c", "owner": 1.0}, {"id": "d", "owner": "x"}])
    assert list(frame["owner"]) == ["True", "1", "1.0", "x"]


@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(), max_size=3),
                max_size=12), st.lists(st.sampled_from(["a", "b", "c"]), min_size=1,
                                       max_size=3, unique=True))
def test_keys_missing_somewhere_are_read_as_dict_get(items: list[dict[str, int]],
                                                     keys: list[str]) -> None:
    """#16: the keys every item has are read in one pass, the others learnt as they fail."""
    loose: set[str] = set()
    for start in range(0, len(items), 4):  # chunks, as workspaces_frame reads them
        chunk = items[start:start + 4]
        got = frames._columns(chunk, keys, loose)
        assert [list(column) for column in got] == [[i.get(k) for i in chunk] for k in keys]


digit = st.sampled_from("0123456789")


def _part(low: int, high: int, width: int) -> st.SearchStrategy[str]:
    """Mostly a valid field, now and then any digits (a month 00, an hour 24, a second 60)."""
    valid = st.integers(low, high).map(f"{{:0{width}d}}".format)
    return st.one_of(valid, valid, valid, valid, st.text(digit, min_size=width, max_size=width))


plain_stamp = st.builds(lambda y, mo, d, h, mi, se: f"{y}-{mo}-{d}T{h}:{mi}:{se}Z",
                        _part(1670, 2270, 4), _part(1, 12, 2), _part(1, 31, 2),
                        _part(0, 23, 2), _part(0, 59, 2), _part(0, 59, 2))


@given(st.lists(st.one_of(plain_stamp, plain_stamp, st.none(),
                          st.sampled_from(["2026-11-03T14:49:21+00:00", "x" * 20, "",
                                           "2026-11-03T14:49:2\u00e9Z"])), max_size=12)
       | st.lists(st.one_of(plain_stamp, st.none()), max_size=12))
@example(["2026-01-01T23:59:60Z"])
@example(["2026-02-30T00:00:00Z", None])
@example(["2024-02-29T00:00:00Z", "2023-02-29T12:00:00Z"])
@example(["2026-13-01T00:00:00Z"])
@example(["2026-00-10T00:00:00Z"])
@example(["1677-12-31T23:59:59Z"])
@example(["2262-01-01T00:00:00Z"])
@example([None, "2026-01-01T24:00:00Z"])
@example(["2026-04-31T00:00:00Z"])
@example([None, "2026-04-30T23:59:59Z", None])
@settings(max_examples=300)
def test_plain_timestamps_read_by_numpy_are_what_pandas_reads(values: list[Any]) -> None:
    """#16: the servers' own shape read digit by digit gives pandas' own reading, NaT and all."""
    from unittest import mock

    with mock.patch.object(frames, "_plain_utc_seconds", return_value=None):
        want = frames._times(values)
    got = frames._times(values)
    assert got.dtype == want.dtype == pd.DatetimeTZDtype(unit="ns", tz="UTC")
    assert got.equals(want), (values, got, want)
