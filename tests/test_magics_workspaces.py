"""%exalsius list, describe, create (line and cell), wait and target resolution, on the sandbox."""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING

import pytest
from test_magics_shell import A100, H100, ok, run, shell, usage_error

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from exalsius_jupyter.sandbox import Sandbox

__all__ = ["shell"]  # the fixture, imported for pytest

CREATE = f"%exalsius create --cluster {A100} --template jupyter-notebook"


def add(sandbox: Sandbox, name: str, cluster: str = A100, status: str = "RUNNING") -> str:
    """Put a workspace straight into the sandbox's store; returns its id."""
    wid = sandbox.add({"name": name, "cluster_id": cluster,
                       "template": {"name": "jupyter-notebook", "variables": {}},
                       "resources": {"gpu_count": 1, "gpu_type": "A100"}})
    sandbox.set_status(wid, status)
    return wid


# -- list ---------------------------------------------------------------------------------


def test_list_returns_the_frame_and_o_stores_it(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    add(sandbox, "alpha")
    add(sandbox, "beta", cluster=H100, status="STOPPED")
    frame = ok(shell, capsys, "%exalsius list -o ws").value
    assert sorted(frame["name"]) == ["alpha", "beta"]
    assert shell.user_ns["ws"] is frame
    assert frame.attrs["total"] == 2
    assert str(frame["workspace_status"].dtype) == "category"


def test_list_filters_by_status_and_cluster(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    add(sandbox, "alpha")
    add(sandbox, "beta", cluster=H100, status="STOPPED")
    add(sandbox, "gamma", cluster=H100, status="FAILED")
    stopped = ok(shell, capsys, "%exalsius list --status stopped failed").value
    assert sorted(stopped["name"]) == ["beta", "gamma"]
    sandbox.reset_counts()
    on_h100 = ok(shell, capsys, f"%exalsius list --cluster {H100}").value
    assert set(on_h100["cluster_id"]) == {H100} and len(on_h100) == 2
    assert sandbox.request_count("GET", "/workspaces") == 1


def test_list_of_nothing_is_an_empty_frame(shell: InteractiveShell,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    frame = ok(shell, capsys, "%exalsius list").value
    assert frame.empty and "workspace_status" in frame.columns


# -- describe and targets -----------------------------------------------------------------


def test_describe_by_name_id_and_prefix(shell: InteractiveShell, sandbox: Sandbox,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    wid = add(sandbox, "alpha")
    add(sandbox, "beta")
    for target in ("alpha", wid, wid[:8]):
        view = ok(shell, capsys, f"%exalsius describe {target}").value
        assert len(view.frame) == 1 and view.frame["id"][0] == wid
    url = sandbox.get(wid)["access_information"]
    assert url and view.access_url == url
    assert re.search(rf"^access +{re.escape(url)} \(opens with the password set at creation\)$",
                     repr(view), re.MULTILINE)
    assert "access_information" not in repr(view)  # shown once, as the link
    assert f'href="{url}"' in view._repr_html_()


def test_describe_o_stores_the_one_row_frame(shell: InteractiveShell, sandbox: Sandbox,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    add(sandbox, "alpha")
    ok(shell, capsys, "%exalsius describe alpha -o one")
    assert list(shell.user_ns["one"]["name"]) == ["alpha"]


def test_describe_escapes_html(shell: InteractiveShell, sandbox: Sandbox,
                               capsys: pytest.CaptureFixture[str]) -> None:
    wid = add(sandbox, "<b>bold</b>")
    html = ok(shell, capsys, f"%exalsius describe {wid}").value._repr_html_()
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


MALFORMED_ACCESS = ["http://host:80/a b", 'http://x/"onmouseover', "http://x/'y'",
                    "http://x/<b>", "http://x/a\tb"]


@pytest.mark.parametrize("url", MALFORMED_ACCESS)
def test_describe_shows_a_malformed_access_url_as_text_as_the_panel_does(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str], url: str) -> None:
    """#7.19: describe and the panel share one rule; a URL with quotes or spaces is no link."""
    from exalsius_jupyter import render
    from exalsius_jupyter.model.workspace import WorkspaceList
    from exalsius_jupyter.session import set_client

    raw = [{"id": "0f0f0f0f-0000-4000-8000-000000000001", "name": "odd", "cluster_id": A100,
            "workspace_status": "RUNNING",
            "template": {"name": "jupyter-notebook", "variables": {}},
            "resources": {"gpu_count": 1}, "access_information": url}]

    class OneWorkspace:
        def list_workspaces(self, cluster_id: str | None = None) -> WorkspaceList:
            return WorkspaceList(list(raw))

    set_client(OneWorkspace())  # type: ignore[arg-type]
    html = ok(shell, capsys, "%exalsius describe odd").value._repr_html_()
    assert "<a " not in html and "href" not in html
    assert render.access_link_html(url) in html  # the panel's own rendering of it
    assert render.escape(url) in html


def test_same_name_in_two_clusters_is_ambiguous_and_lists_candidates(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    first = add(sandbox, "twin")
    second = add(sandbox, "twin", cluster=H100)
    message = usage_error(shell, capsys, "%exalsius describe twin", "'twin' matches 2")
    for part in (first, second, A100, H100):
        assert part in message
    view = ok(shell, capsys, f"%exalsius describe twin --cluster {H100}").value
    assert view.frame["id"][0] == second


def test_unknown_target_is_one_line(shell: InteractiveShell, sandbox: Sandbox,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    add(sandbox, "alpha")
    usage_error(shell, capsys, "%exalsius describe nosuch", "no workspace", "'nosuch'")


def test_resolution_order_exact_id_then_unique_prefix_then_name() -> None:
    from exalsius_jupyter.magics.targets import AmbiguousTargetError, resolve_one

    raw = [
        {"id": "abc123", "name": "first", "cluster_id": "c1"},
        {"id": "abd456", "name": "ab", "cluster_id": "c1"},
        {"id": "ff0000", "name": "abc123x", "cluster_id": "c2"},
        {"id": "ee0000", "name": "abd", "cluster_id": "c2"},
    ]
    assert resolve_one(raw, "abc123") == 0  # exact id
    assert resolve_one(raw, "abc") == 0  # unique id prefix
    assert resolve_one(raw, "ab") == 1  # prefix of two ids: the exact name decides
    assert resolve_one(raw, "abc123x") == 2  # a name
    with pytest.raises(AmbiguousTargetError, match=r"abd456.*ee0000"):
        resolve_one(raw, "abd")  # one id's prefix and another's name: never a guess


def test_a_deleted_namesake_does_not_make_a_name_ambiguous(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    add(sandbox, "again", status="DELETED")
    new = add(sandbox, "again")
    assert ok(shell, capsys, "%exalsius describe again").value.frame["id"][0] == new
    add(sandbox, "again", cluster=H100)
    usage_error(shell, capsys, "%exalsius describe again", "'again' matches 3")


def test_one_list_call_resolves_all_targets(shell: InteractiveShell, sandbox: Sandbox,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    # names that are no hex prefix: a random id beginning "a1" made "a1" ambiguous (flaky)
    ids = [add(sandbox, n) for n in ("nb-1", "nb-2", "nb-3")]
    sandbox.reset_counts()
    frame = ok(shell, capsys, "%exalsius wait nb-1 nb-2 " + ids[2][:10]).value
    assert list(frame["workspace_status"]) == ["RUNNING"] * 3
    assert sandbox.request_count("GET", "/workspaces") == 2  # resolve + one watcher tick
    assert sandbox.request_count("GET", "/workspace/{id}") == 0


# -- create (line) ------------------------------------------------------------------------


def test_create_returns_the_id_and_sends_the_options(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    wid = ok(shell, capsys, f"{CREATE} --name nb --gpus 2 --gpu-type A100 --cpus 8 "
                            "--memory 64 --storage 100 --var notebook_port=9999 "
                            "--description 'my notebook'").value
    stored = sandbox.get(wid)
    assert stored["name"] == "nb" and stored["workspace_status"] == "PENDING"
    assert stored["template"]["variables"] == {"notebook_port": "9999"}
    assert stored["resources"]["gpu_count"] == 2 and stored["resources"]["memory_gb"] == 64
    assert stored["description"] == "my notebook"


def test_create_options_keep_their_spellings_and_refusals(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    help_text = ok(shell, capsys, "%exalsius create --help").out
    for option in ("--gpus N", "--gpu-type T", "--gpu-vendor V", "--cpus N", "--memory GB",
                   "--storage GB", "--description TEXT"):
        assert re.search(rf"^  {option} +\S", help_text, re.MULTILINE), option
    usage_error(shell, capsys, f"{CREATE} --name nb --gpus two",
                "argument --gpus: expected a whole number, got 'two'")
    usage_error(shell, capsys, f"{CREATE} --name nb --storage -1",
                "argument --storage: expected a number >= 0, got '-1'")
    assert sandbox.request_count("POST", "/workspaces") == 0


def test_create_validates_before_sending(shell: InteractiveShell, sandbox: Sandbox,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, "%exalsius create --name nb --cluster not-a-uuid --template t",
                "cluster_id must be a UUID")
    usage_error(shell, capsys, f"{CREATE} --name nb --var novalue", "KEY=VALUE")
    assert sandbox.request_count("POST", "/workspaces") == 0


def test_create_repeated_var_key_is_an_error(shell: InteractiveShell, sandbox: Sandbox,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, f"{CREATE} --name nb --var port=1 --var port=2",
                "--var", "'port'", "twice")
    assert sandbox.request_count("POST", "/workspaces") == 0


def test_create_dry_run_returns_the_body_and_sends_nothing(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    ran = ok(shell, capsys, f"{CREATE} --name nb --gpus 1 --dry-run")
    assert ran.value["resources"] == {"gpu_count": 1} and "nothing was sent" in ran.out
    assert sandbox.request_count("POST", "/workspaces") == 0


def test_create_conflict_is_one_line(shell: InteractiveShell, sandbox: Sandbox,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    add(sandbox, "taken")
    usage_error(shell, capsys, f"{CREATE} --name taken", "HTTP 409")


def test_create_wait_shows_text_progress_and_returns_the_final_state(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    ran = ok(shell, capsys, f"{CREATE} --name nb --wait")
    frame = ran.value
    assert list(frame["workspace_status"]) == ["RUNNING"] and list(frame["stage"]) == ["Running"]
    assert frame["access_information"][0].startswith("http")
    assert "Waiting for 1 workspace" in ran.out and "nb: Running after" in ran.out


def test_create_watch_in_a_terminal_waits_too(shell: InteractiveShell,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    frame = ok(shell, capsys, f"{CREATE} --name nb --watch").value
    assert list(frame["workspace_status"]) == ["RUNNING"]


def test_create_wait_on_a_cluster_that_cannot_run_it_fails_in_one_line(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, f"{CREATE} --name big --gpus 64 --wait", "big is FAILED")


def test_wait_timeout_is_one_line(shell: InteractiveShell, sandbox: Sandbox,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    add(sandbox, "slow", status="PENDING")  # pre-populated PENDING stays PENDING
    usage_error(shell, capsys, "%exalsius wait slow --timeout 0.3", "not RUNNING after 0.3s",
                "slow")
    ok(shell, capsys, "%config Exalsius.wait_timeout = 0.2")
    usage_error(shell, capsys, "%exalsius wait slow", "not RUNNING after 0.2s")


def test_wait_ends_on_stopped(shell: InteractiveShell, sandbox: Sandbox,
                              capsys: pytest.CaptureFixture[str]) -> None:
    add(sandbox, "halted", status="STOPPED")
    usage_error(shell, capsys, "%exalsius wait halted", "halted is STOPPED")


# -- %%exalsius create --------------------------------------------------------------------

BODY = ('{"name": "%s", "cluster_id": "%s", "template": {"name": "jupyter-notebook", '
        '"variables": {}}, "resources": {"gpu_count": 1}}')


def test_cell_one_json_item_returns_its_id(shell: InteractiveShell, sandbox: Sandbox,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    wid = ok(shell, capsys, "%%exalsius create\n" + BODY % ("one", A100)).value
    assert sandbox.get(wid)["name"] == "one"


def test_cell_yaml_list_creates_all_and_waits_with_one_request_per_tick(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    body = "".join(
        f"- name: {n}\n  cluster_id: '{A100}'\n  template: {{name: jupyter-notebook, "
        "variables: {}}\n  resources: {gpu_count: 1}\n" for n in ("y1", "y2", "y3"))
    sandbox.reset_counts()
    frame = ok(shell, capsys, "%%exalsius create --wait\n" + body).value
    assert sorted(frame["name"]) == ["y1", "y2", "y3"]
    assert set(frame["workspace_status"]) == {"RUNNING"}
    assert sandbox.request_count("POST", "/workspaces") == 3
    assert sandbox.request_count("GET", "/workspace/{id}") == 0  # never one per workspace


def test_cell_bad_item_sends_nothing_and_names_item_and_field(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    good = BODY % ("good", A100)
    bad = BODY.replace('"gpu_count": 1', '"gpu_count": "two"') % ("bad", A100)
    usage_error(shell, capsys, f"%%exalsius create\n[{good}, {bad}]",
                "item 2 (bad)", "resources.gpu_count")
    assert sandbox.request_count("POST", "/workspaces") == 0


def test_cell_repeated_name_on_one_cluster_sends_nothing(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    body = f"[{BODY % ('twin', A100)}, {BODY % ('other', A100)}, {BODY % ('twin', A100)}]"
    usage_error(shell, capsys, "%%exalsius create\n" + body, "item 3 (twin)", "item 1")
    assert sandbox.request_count("POST", "/workspaces") == 0
    # the same name on two clusters is two different workspaces
    ids = ok(shell, capsys, f"%%exalsius create\n[{BODY % ('twin', A100)}, "
                            f"{BODY % ('twin', H100)}]").value
    assert len(ids) == 2


def test_cell_substitutes_variables_and_keeps_json_braces(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    shell.user_ns.update(ws_name="subst", gpus=2, cluster=A100)
    body = ('{"name": "${ws_name}", "cluster_id": "$cluster", "description": "costs $$5", '
            '"template": {"name": "jupyter-notebook", "variables": {"x": "{nosuch}"}}, '
            '"resources": {"gpu_count": $gpus}}')
    wid = ok(shell, capsys, "%%exalsius create\n" + body).value
    stored = sandbox.get(wid)
    assert stored["name"] == "subst" and stored["cluster_id"] == A100
    assert stored["resources"]["gpu_count"] == 2
    assert stored["description"] == "costs $5"
    assert stored["template"]["variables"] == {"x": "{nosuch}"}


def test_cell_old_brace_form_of_a_notebook_variable_is_a_clear_error(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    # {name} collided with YAML flow mappings and JSON; it is no longer substituted.
    shell.user_ns.update(gpus=2)
    body = (f"name: braces\ncluster_id: {A100}\ntemplate: {{name: t, variables: {{}}}}\n"
            "resources: {gpu_count: {gpus}}\n")
    usage_error(shell, capsys, "%%exalsius create\n" + body,
                "{gpus} is no longer substituted", "$gpus")
    usage_error(shell, capsys, "%%exalsius create\n" + BODY % ("costs $5", A100),
                "line 1 column 18", "written $$ for a literal $")
    assert sandbox.request_count("POST", "/workspaces") == 0


def test_cell_unknown_dollar_variable_is_an_error(shell: InteractiveShell, sandbox: Sandbox,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, "%%exalsius create\n" + BODY % ("$nope", A100),
                "$nope is not a notebook variable")
    assert sandbox.request_count("POST", "/workspaces") == 0


def test_cell_cluster_option_fills_in_missing_cluster_id(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    body = ('[{"name": "c1", "template": {"name": "t", "variables": {}}, "resources": {}}, '
            f'{{"name": "c2", "cluster_id": "{H100}", "template": {{"name": "t", '
            '"variables": {}}, "resources": {}}]')
    ids = ok(shell, capsys, f"%%exalsius create --cluster {A100}\n{body}").value
    assert [sandbox.get(i)["cluster_id"] for i in ids] == [A100, H100]


def test_cell_dry_run_returns_validated_bodies(shell: InteractiveShell, sandbox: Sandbox,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    ran = ok(shell, capsys, f"%%exalsius create --dry-run\n[{BODY % ('d1', A100)}]")
    assert [b["name"] for b in ran.value] == ["d1"] and "nothing was sent" in ran.out
    assert sandbox.request_count("POST", "/workspaces") == 0


def test_cell_without_pyyaml_still_takes_json_and_explains_yaml(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml -> ImportError
    assert ok(shell, capsys, "%%exalsius create\n" + BODY % ("j", A100)).value
    usage_error(shell, capsys, "%%exalsius create\nname: y\n", "not valid JSON",
                "exalsius-jupyter[yaml]")


def test_cell_errors(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(shell, capsys, "%%exalsius list\nx", "the cell magic is %%exalsius create")
    usage_error(shell, capsys, "%%exalsius create\n   \n", "the cell body is empty")
    usage_error(shell, capsys, "%%exalsius create\n[]", "empty list")
    usage_error(shell, capsys, "%%exalsius create\n- [unclosed", "neither JSON nor YAML")
    usage_error(shell, capsys, "%%exalsius create\n42", "item 1", "must be a mapping")


def test_partial_create_failure_reports_what_was_created(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    add(sandbox, "p2")
    body = f"[{BODY % ('p1', A100)}, {BODY % ('p2', A100)}]"
    message = usage_error(shell, capsys, "%%exalsius create\n" + body,
                          "created 1 of 2 (p1)", "'p2' failed", "HTTP 409")
    assert "Traceback" not in message
    names = ok(shell, capsys, "%exalsius list").value["name"]
    assert sorted(names) == ["p1", "p2"]


def test_run_cell_with_magic_not_last_line(shell: InteractiveShell, sandbox: Sandbox,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    add(sandbox, "alpha")
    ran = run(shell, capsys, "df = %exalsius list\nn = len(df)")
    assert ran.result.success and shell.user_ns["n"] == 1


def test_interrupting_a_wait_is_one_line_and_says_how_to_resume(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from exalsius_jupyter.magics.textprogress import TextProgress

    def interrupted(self: TextProgress, watcher: object) -> None:
        raise KeyboardInterrupt  # what Ctrl-C / the kernel's interrupt does mid-wait

    add(sandbox, "slow", status="PENDING")
    monkeypatch.setattr(TextProgress, "__call__", interrupted)
    usage_error(shell, capsys, "%exalsius wait slow", "interrupted", "%exalsius wait NAME")


# -- settings -------------------------------------------------------------------------------


def test_api_key_header_setting_sends_the_token_as_x_api_key(
        shell: InteractiveShell, sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``%config Exalsius.api_key_header = True`` reaches the session's client (#8.7)."""
    from test_magics_shell import SECRET

    monkeypatch.setenv("EXALSIUS_TOKEN", SECRET)
    ok(shell, capsys, "%exalsius list")
    assert sandbox.requests[-1].headers.get("authorization") == f"Bearer {SECRET}"
    ok(shell, capsys, "%config Exalsius.api_key_header = True")
    ok(shell, capsys, "%exalsius list")
    headers = sandbox.requests[-1].headers
    assert headers.get("x-api-key") == SECRET and "authorization" not in headers
    ok(shell, capsys, "%config Exalsius.api_key_header = False")
    ok(shell, capsys, "%exalsius list")
    assert sandbox.requests[-1].headers.get("authorization") == f"Bearer {SECRET}"
