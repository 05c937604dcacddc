"""Template variables of any JSON value: the live API (1.46) takes them, the 1.5.1 contract's
strict server answers 400 and the user reads that in one line (#15.6)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support import A100_CLUSTER

from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.errors import BadRequestError
from exalsius_jupyter.sandbox import Sandbox

NESTED = {"global": {"deploymentName": "nb", "deploymentNamespace": "default"},
          "deploymentNumReplicas": 1, "notebookPassword": "pw-123456"}


def _spec() -> dict[str, object]:
    return {"name": "nb", "cluster_id": A100_CLUSTER,
            "template": {"name": "jupyter-notebook-template", "variables": NESTED},
            "resources": {"gpu_count": 1, "cpu_cores": 4, "memory_gb": 16, "storage_gb": 50}}


def test_the_live_api_takes_nested_typed_variables(
        sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(api="1.46", pending_seconds=0.1)
    with ExalsiusClient(sb.url, timeout=5) as client:
        wid = client.create_workspace(_spec())
        sent = client.describe_workspace(wid).raw["template"]["variables"]
    assert sent["global"] == NESTED["global"] and sent["deploymentNumReplicas"] == 1


def test_a_strict_server_refuses_them_in_one_line(
        sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(api="1.5.1")
    with ExalsiusClient(sb.url, timeout=5) as client, pytest.raises(BadRequestError) as caught:
        client.create_workspace(_spec())
    text = str(caught.value)
    assert "variables" in text and "\n" not in text and "pw-123456" not in text, text


def _create_deleted_at(sb: Sandbox, when: str) -> str:
    """POST a create with ``to_be_deleted_at`` straight to the sandbox (no client-side check)."""
    import requests

    spec = {**_spec(), "template": {"name": "jupyter-notebook", "variables": {}},
            "to_be_deleted_at": when}
    answer = requests.post(sb.url + "/workspaces", json=spec, timeout=5)
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["workspace_id"])


@pytest.mark.parametrize("when", ["2030-01-01T00:00:00Z", "2030-01-01t00:00:00.123456789z",
                                  "2016-12-31T23:59:60Z"])
def test_the_sandbox_keeps_or_defaults_a_deletion_time_and_never_fails_on_one(
        sandbox_factory: Callable[..., Sandbox], when: str) -> None:
    """Valid RFC 3339 that Python's parser refuses (9 digits, a leap second) is no 500."""
    sb = sandbox_factory(api="1.5.1")
    kept = sb.get(_create_deleted_at(sb, when))
    assert kept is not None and kept["to_be_deleted_at"]
    if when.startswith("2030"):
        assert kept["to_be_deleted_at"].startswith("2030-01-01")


@pytest.mark.parametrize("when", ["0064-02-27T04:20:02Z", "0001-01-01T00:00:00Z",
                                  "9999-12-31T23:59:59Z"])
def test_a_kept_deletion_time_is_written_back_as_rfc_3339(
        sandbox_factory: Callable[..., Sandbox], when: str) -> None:
    """Found by the contract's negative run: year 64 came back as '64-02-27T04:20:02Z'."""
    import requests

    sb = sandbox_factory(api="1.5.1")
    _create_deleted_at(sb, when)
    listed = requests.get(sb.url + "/workspaces", timeout=5).json()["workspaces"]
    assert [w["to_be_deleted_at"] for w in listed] == [when]
