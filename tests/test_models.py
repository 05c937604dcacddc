"""models.py: tolerant parsing of 1.5.1 and live-API (1.46) workspace shapes."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import pytest
from support import load_spec

from exalsius_jupyter.errors import InvalidResponseError
from exalsius_jupyter.model.workspace import (
    ResourcePool,
    Workspace,
    WorkspaceList,
    WorkspaceStatus,
    WorkspaceTemplate,
    access_links,
    primary_access,
)

UTC = timezone.utc


def _example(spec: dict[str, Any], path: str, name: str) -> Any:
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    return content["examples"][name]["value"]


@pytest.fixture(scope="module")
def spec_146() -> dict[str, Any]:
    return load_spec("1.46.0")


def test_1_46_list_example(spec_146: dict[str, Any]) -> None:
    body = _example(spec_146, "/workspaces", "default")
    listing = WorkspaceList(body["workspaces"], total=body["total"])
    assert len(listing) == 2 and listing.total == 2
    first, second = listing
    assert first.id == "123e4567-e89b-12d3-a456-426614174000"
    assert first.workspace_status is WorkspaceStatus.RUNNING
    assert second.workspace_status is WorkspaceStatus.STOPPED
    assert first.template == WorkspaceTemplate(
        "jupyter-notebook", {"notebook_port": "8888"}, "Jupyter Notebook server template")
    assert first.resources.gpu_memory == 80 and first.resources.gpus == "1 × A100"
    assert second.resources.gpu_type is None and second.resources.gpus == "none"
    assert first.created_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert first.to_be_deleted_at == datetime(2025, 2, 1, tzinfo=UTC)
    # fields the 1.5.1 contract does not know are kept, not dropped
    assert first.extra["owner_username"] == "john.doe@example.com"
    assert first.extra["owner_teams"] == ["platform", "ml-team"]
    assert "id" not in first.extra and "name" not in first.extra
    # no access_information in the list example: fine
    assert first.access_information is None and first.access_url is None
    assert listing.raw is body["workspaces"]


def test_1_46_describe_example_is_wrapped(spec_146: dict[str, Any]) -> None:
    body = _example(spec_146, "/workspace/{workspace_id}", "workspace-details")
    assert set(body) == {"workspace"}
    ws = Workspace.from_api(body)
    assert ws.name == "my-workspace" and ws.cluster_id.endswith("4001")
    assert isinstance(ws.access_information, list)
    assert ws.access_links == ["http://123.456.789.12:30080"]
    assert ws.access_url is not None and ws.access_url.startswith("http://")
    assert ws.owner == "auth0|user123"
    assert ws.extra["owner_org_name"] == "Acme Inc"


def test_bare_1_5_1_workspace() -> None:
    ws = Workspace.from_api({
        "id": "a", "name": "n", "cluster_id": "c", "workspace_status": "PENDING",
        "template": {"name": "t", "variables": {}}, "resources": {"gpu_count": 2},
        "access_information": "ssh -i ~/.ssh/id_rsa user@host",
    })
    assert ws.workspace_status is WorkspaceStatus.PENDING
    assert ws.access_links == ["ssh -i ~/.ssh/id_rsa user@host"]
    assert ws.resources.gpus == "2"


def test_missing_optional_fields() -> None:
    ws = Workspace.from_api({"id": "x"})
    assert ws.name == "" and ws.cluster_id == ""
    assert ws.workspace_status is WorkspaceStatus.UNKNOWN
    assert ws.template == WorkspaceTemplate("")
    assert ws.resources == ResourcePool()
    assert ws.created_at is None and ws.to_be_deleted_at is None
    assert ws.owner is None and ws.description is None
    assert ws.access_links == [] and ws.extra == {}


@pytest.mark.parametrize("value", ["STARTING", "Hibernating", "", None, 3, ["RUNNING"]])
def test_unknown_status_is_unknown(value: Any) -> None:
    assert Workspace.from_api({"id": "x", "workspace_status": value}).workspace_status \
        is WorkspaceStatus.UNKNOWN


def test_status_parse_is_case_insensitive() -> None:
    assert WorkspaceStatus.parse("running") is WorkspaceStatus.RUNNING
    assert str(WorkspaceStatus.FAILED) == "FAILED"
    assert WorkspaceStatus.RUNNING == "RUNNING"


def test_final_statuses() -> None:
    finals = {s for s in WorkspaceStatus if s.is_final}
    assert finals == {WorkspaceStatus.RUNNING, WorkspaceStatus.STOPPED, WorkspaceStatus.DELETED,
                      WorkspaceStatus.FAILED}


def test_wrong_shapes_are_tolerated_per_field() -> None:
    ws = Workspace.from_api({
        "id": 17, "name": "n", "template": ["x"], "resources": "lots",
        "created_at": "not a date", "to_be_deleted_at": 12,
    })
    assert ws.id == "17"
    assert ws.template.name == "" and ws.resources == ResourcePool()
    assert ws.created_at is None and ws.to_be_deleted_at is None


def test_template_as_bare_name_and_resource_junk() -> None:
    assert WorkspaceTemplate.from_api("jupyter").name == "jupyter"
    res = ResourcePool.from_api({"gpu_count": True, "cpu_cores": 4.0, "memory_gb": "16",
                                 "storage_gb": 2.5, "nvlink": True})
    assert res.gpu_count is None and res.cpu_cores == 4
    assert res.memory_gb is None and res.storage_gb is None
    assert res.extra == {"nvlink": True}


@pytest.mark.parametrize("junk", [None, [], "workspace", 5, {}, {"description": "no id"}])
def test_not_a_workspace_raises_invalid_response(junk: Any) -> None:
    with pytest.raises(InvalidResponseError):
        Workspace.from_api(junk)


def test_timestamps_are_aware_utc() -> None:
    ws = Workspace.from_api({"id": "x", "created_at": "2025-01-01T02:00:00+02:00",
                             "to_be_deleted_at": "2025-01-01T00:00:00.123456789Z"})
    assert ws.created_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert ws.created_at is not None and ws.created_at.utcoffset().total_seconds() == 0
    assert ws.to_be_deleted_at == datetime(2025, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)


def test_access_links_shapes() -> None:
    objects = [
        {"access_protocol": "HTTPS", "port_number": 443, "external_ips": ["1.2.3.4", "5.6.7.8"]},
        {"access_protocol": "SSH", "port_number": 2222, "external_ips": ["1.2.3.4"]},
        {"access_protocol": "TCP", "port_number": 9000, "external_ips": "9.9.9.9"},
        "plain string",
        42,
    ]
    assert access_links(objects) == ["https://1.2.3.4:443", "https://5.6.7.8:443",
                                      "ssh -p 2222 1.2.3.4", "9.9.9.9:9000", "plain string"]
    assert access_links({"access_protocol": "HTTP", "port_number": 80,
                         "external_ips": ["h"]}) == ["http://h:80"]
    assert access_links("  ") == [] and access_links(None) == []
    assert primary_access(objects) == "https://1.2.3.4:443"
    assert primary_access([]) is None


def test_workspace_list_sequence_behaviour() -> None:
    raw = [{"id": str(i), "name": f"w{i}", "workspace_status": "RUNNING"} for i in range(5)]
    listing = WorkspaceList(raw, total=50)
    assert len(listing) == 5 and listing.total == 50
    assert listing[-1].name == "w4"
    assert [w.name for w in listing[1:3]] == ["w1", "w2"]
    assert listing[0] is listing[0]  # parsed once
    with pytest.raises(IndexError):
        listing[5]
    assert "5 of 50" in repr(listing)
    assert WorkspaceList([]).total == 0


def test_workspace_list_is_lazy() -> None:
    raw: list[Any] = [{"id": "ok"}, "junk"]
    listing = WorkspaceList(raw)
    assert listing[0].id == "ok"
    with pytest.raises(InvalidResponseError):
        listing[1]


def test_workspace_is_frozen() -> None:
    ws = Workspace.from_api({"id": "x"})
    with pytest.raises(AttributeError):
        ws.name = "y"  # type: ignore[misc]


def test_from_api_does_not_mutate_input(spec_146: dict[str, Any]) -> None:
    body = _example(spec_146, "/workspace/{workspace_id}", "workspace-details")
    before = copy.deepcopy(body)
    Workspace.from_api(body)
    assert body == before


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_timestamps_beyond_datetime_range_are_none(text: str) -> None:
    # Regression: converting to UTC overflowed (OverflowError escaped from_api).
    ws = Workspace.from_api({"id": "x", "created_at": text, "to_be_deleted_at": text})
    assert ws.created_at is None and ws.to_be_deleted_at is None


def test_access_links_are_stripped_and_never_blank() -> None:
    # Regression: list items were kept verbatim ("" and " x " became links), objects without
    # a port or IP gave "http://None:None".
    info = ["", "  ", " http://h:1 ",
            {"access_protocol": "HTTP", "external_ips": ["h2"]},
            {"access_protocol": "SSH", "external_ips": [None, " ", "h3"]},
            {"access_protocol": "TCP", "port_number": 5, "external_ips": None}]
    assert access_links(info) == ["http://h:1", "http://h2", "ssh h3"]
    assert primary_access(["", " x "]) == "x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2025-01-01T12:34", datetime(2025, 1, 1, 12, 34, tzinfo=UTC)),
     ("2025-01-01T12:34:56+01", datetime(2025, 1, 1, 11, 34, 56, tzinfo=UTC)),
     ("2025-01-01T12:34:56.Z", datetime(2025, 1, 1, 12, 34, 56, tzinfo=UTC)),
     ("2025-01-01T12:34-0130", datetime(2025, 1, 1, 14, 4, tzinfo=UTC)),
     ("2025-01-01", datetime(2025, 1, 1, tzinfo=UTC))],
)
def test_reduced_iso_timestamps_parse_as_the_frame_does(text: str, expected: datetime) -> None:
    # Regression: the frame (pandas ISO 8601) read these, the model said None.
    from exalsius_jupyter.model.frames import workspaces_frame

    assert Workspace.from_api({"id": "x", "created_at": text}).created_at == expected
    assert workspaces_frame([{"id": "x", "created_at": text}]).loc[0, "created_at"] == expected


@pytest.mark.parametrize(("description", "link"), [
    ("SSH into the workspace pod as dev: ssh -p 30022 dev@127.0.0.1", "ssh -p 30022 dev@10.0.0.5"),
    ("SSH access", "ssh -p 30022 10.0.0.5"),
    ("write to root@example.org, then ssh in", "ssh -p 30022 10.0.0.5"),  # not an ssh user
    (None, "ssh -p 30022 10.0.0.5"),
])
def test_an_ssh_link_carries_the_user_its_description_names(description: Any, link: str) -> None:
    from exalsius_jupyter.model.fields import access_links

    item = {"access_protocol": "SSH", "port_number": 30022, "external_ips": ["10.0.0.5"],
            "access_description": description}
    assert access_links([item]) == [link]
