"""A Jupyter workspace's link says it opens with the password set at creation (#15 item 10)."""

from __future__ import annotations

from typing import Any

import pytest

from exalsius_jupyter.magics.results import WorkspaceDescription
from exalsius_jupyter.model.frames import workspaces_frame
from exalsius_jupyter.model.variables import opening_secret
from exalsius_jupyter.model.workspace import Workspace
from exalsius_jupyter.render import access_html, opens_with_text, workspace_row_html

URL = "https://nb.example.test/lab"


@pytest.mark.parametrize(("template", "variables", "expected"), [
    ("jupyter-notebook-template", {"notebookPassword": "••••••"}, "notebookPassword"),
    ("marimo-workspace-template", {"tokenPassword": ""}, "tokenPassword"),
    ("jupyter-notebook", {}, "password"),  # a Jupyter template that names none
    ("vscode-devcontainer-template", {"sshPassword": "", "sshPublicKey": ""}, None),
    ("llm-d-model-template-0-1-1", {"huggingfaceToken": "", "inferenceApiKey": ""},
     "huggingfaceToken"),
    ("ssh-pod", {}, None),
    ("x", {"auth": {"webToken": ""}}, "auth.webToken"),  # nested, by its dotted path
])
def test_the_variable_a_link_asks_for(template: str, variables: dict[str, Any],
                                      expected: str | None) -> None:
    assert opening_secret(template, variables) == expected


def workspace(template: str = "jupyter-notebook-template", link: str = URL) -> Workspace:
    return Workspace.from_api({
        "id": "w1", "name": "nb", "workspace_status": "RUNNING",
        "template": {"name": template, "variables": {"notebookPassword": "••••••"}},
        "access_information": link or None})


def test_the_link_says_what_it_opens_with() -> None:
    ws = workspace()
    assert ws.opens_with == "the notebookPassword set at creation"
    assert opens_with_text(ws) == " (opens with the notebookPassword set at creation)"
    html = access_html(ws.access_information, ws.opens_with, note=True)
    assert f'title="{URL} (opens with the notebookPassword set at creation)"' in html
    assert '<span class="exls-note">opens with the notebookPassword set at creation' in html
    assert "(opens with the notebookPassword" in workspace_row_html(ws)  # the panel's tooltip
    described = WorkspaceDescription(workspaces_frame([ws.raw]), ws)
    assert repr(described).splitlines()[-1].endswith(
        f"{URL} (opens with the notebookPassword set at creation)")
    assert "(opens with the notebookPassword set at creation)</p>" in described._repr_html_()


def test_an_ssh_line_says_nothing_of_a_password() -> None:
    ws = workspace(link="ssh -p 30022 dev@10.0.0.5")
    assert opens_with_text(ws) == ""
    assert "exls-note" not in access_html(ws.access_information, ws.opens_with, note=True)
    assert workspace(link="").access_url is None and opens_with_text(workspace(link="")) == ""
