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
