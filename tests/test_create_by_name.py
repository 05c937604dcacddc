"""Create a first workspace by names on a server with the catalogue (API 1.46): no UUID typed,
the template's own variables, resources fitted, secrets never shown (#15)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from test_magics_shell import close_shell, make_shell, ok, run, usage_error

from exalsius_jupyter.sandbox import Sandbox

PASSWORD = "correct-horse-battery"


@pytest.fixture
def shell(live_like: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    sh = make_shell(live_like.url, monkeypatch)
    sh.user_ns["pw"] = PASSWORD
    yield sh
    close_shell(sh)


CREATE = "%exalsius create --name nb --template jupyter-notebook-template"


def test_clusters_and_templates_are_frames(shell: InteractiveShell,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    clusters = ok(shell, capsys, "%exalsius clusters --status ready -o cl").value
    assert set(clusters["cluster_status"]) == {"READY"}
    h100 = clusters[clusters["name"] == "demo-h100"].iloc[0]
    assert h100["gpu_type"] == "H100" and h100["gpus_free"] == h100["gpus_total"] > 0
    assert shell.user_ns["cl"] is clusters
    nodes = ok(shell, capsys, "%exalsius clusters demo-h100").value
    assert list(nodes["gpu_type"].unique()) == ["H100"]
    templates = ok(shell, capsys, "%exalsius templates").value
    row = templates[templates["name"] == "jupyter-notebook-template"].iloc[0]
    assert row["secrets"] == "notebookPassword"


def test_a_create_by_names_picks_fits_and_masks(shell: InteractiveShell, live_like: Sandbox,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    ran = ok(shell, capsys, f"{CREATE} --gpus 2 --gpu-type H100 --var notebookPassword=$pw "
                            "--dry-run")
    body: dict[str, Any] = ran.value
    assert body["cluster_id"] == "22222222-2222-4222-8222-222222222222"
    assert body["resources"]["gpu_count"] == 2 and body["resources"]["gpu_type"] == "H100"
    assert body["template"]["variables"]["deploymentNumReplicas"] == 1  # the template's own
    assert body["template"]["variables"]["notebookPassword"] == "••••••"
    assert "picked demo-h100/" in ran.out and "17.94 per hour" in ran.out
    assert PASSWORD not in ran.out + repr(body)
    assert live_like.request_count("POST", "/workspaces") == 0
    wid = ok(shell, capsys, f"{CREATE} --gpus 2 --gpu-type H100 --var notebookPassword=$pw "
                            "--var global.deploymentName=mine").value
    assert live_like.request_count("POST", "/workspaces") == 1
    sent = live_like.get(wid)["template"]["variables"]  # what the server received
    assert sent["notebookPassword"] == PASSWORD and sent["global"]["deploymentName"] == "mine"


def test_nothing_fits_is_one_line_before_any_post(shell: InteractiveShell, live_like: Sandbox,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, f"{CREATE} --gpus 64 --gpu-type H100 --var notebookPassword=$pw",
                "no node has 64 free H100; most free:")
    assert live_like.request_count("POST", "/workspaces") == 0


def test_a_secret_is_not_asked_where_nobody_can_answer(shell: InteractiveShell,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, f"{CREATE} --gpus 1", "cannot prompt for notebookPassword",
                "--var notebookPassword=$pw")


def test_a_secret_is_asked_hidden_when_someone_can(shell: InteractiveShell, live_like: Sandbox,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    from exalsius_jupyter.magics import confirm

    asked: list[str] = []
    monkeypatch.setattr(confirm, "stdin_available", lambda _shell: True)
    monkeypatch.setattr(getpass, "getpass", lambda prompt: asked.append(prompt) or PASSWORD)
    ran = ok(shell, capsys, f"{CREATE} --gpus 1")
    assert asked == ["notebookPassword (hidden): "] and PASSWORD not in ran.out
    assert live_like.get(ran.value)["template"]["variables"]["notebookPassword"] == PASSWORD


def test_unknown_names_say_what_there_is(shell: InteractiveShell,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, "%exalsius create --name x --template jupyter-notebok",
                "did you mean jupyter-notebook-template?")
    usage_error(shell, capsys, f"{CREATE} --cluster nowhere --var notebookPassword=$pw",
                "no cluster has the name, id or id prefix 'nowhere'")
    usage_error(shell, capsys, f"{CREATE} --var deploymentNumReplica=2 --var "
                               "notebookPassword=$pw", "did you mean deploymentNumReplicas")


def test_without_the_catalogue_create_needs_the_uuid(sandbox: Sandbox,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    sh = make_shell(sandbox.url, monkeypatch)
    try:
        usage_error(sh, capsys, "%exalsius create --name x --template jupyter-notebook",
                    "--cluster is needed: this server has no catalogue")
        assert run(sh, capsys, "%exalsius clusters").result.error_in_exec is not None
    finally:
        close_shell(sh)


def test_delete_after_sets_to_be_deleted_at(shell: InteractiveShell, live_like: Sandbox,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import datetime, timedelta, timezone

    before = datetime.now(timezone.utc)
    ran = ok(shell, capsys, f"{CREATE} --var notebookPassword=$pw --delete-after 8h")
    deleted = datetime.fromisoformat(live_like.get(ran.value)["to_be_deleted_at"]
                                     .replace("Z", "+00:00"))
    assert timedelta(hours=8) - timedelta(seconds=5) <= deleted - before <= timedelta(hours=8,
                                                                                      seconds=5)
    assert "deleted:   at " in ran.out
    usage_error(shell, capsys, f"{CREATE} --var notebookPassword=$pw --delete-after soon",
                "not a duration: 'soon'")
    usage_error(shell, capsys, f"{CREATE} --var notebookPassword=$pw --delete-at "
                               "2001-01-01T00:00:00Z", "has passed")


def test_every_cluster_filter_takes_a_name(shell: InteractiveShell,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    ok(shell, capsys, f"{CREATE} --var notebookPassword=$pw --cluster demo-a100")
    ok(shell, capsys, f"{CREATE.replace('nb', 'nb2')} --var notebookPassword=$pw "
                      "--cluster demo-h100")
    on_h100 = ok(shell, capsys, "%exalsius list --cluster demo-h100").value
    assert list(on_h100["name"]) == ["nb2"]
    assert list(ok(shell, capsys, "%exalsius list --cluster 1111").value["name"]) == ["nb"]
    described = ok(shell, capsys, "%exalsius describe nb --cluster demo-a100").value
    assert described.frame["name"][0] == "nb"
    usage_error(shell, capsys, "%exalsius list --cluster demo", "no cluster has the name, id or "
                "id prefix 'demo' (clusters: demo-a100 (11111111)")


def test_a_dev_pod_is_reached_as_the_user_it_publishes(shell: InteractiveShell,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    final = ok(shell, capsys, "%exalsius create --name pod --template "
                              "vscode-devcontainer-template --var sshPassword=$pw --gpus 0 "
                              "--wait").value
    assert final["access_information"][0].startswith("ssh -p ")
    assert " dev@127.0.0.1" in final["access_information"][0]
