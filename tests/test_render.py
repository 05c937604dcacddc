"""render.py: escaping everywhere, badges, ages, access links, one workspace and tables."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

import pytest

from exalsius_jupyter import render
from exalsius_jupyter.errors import ConflictError, ConnectionFailedError
from exalsius_jupyter.model.workspace import Workspace, WorkspaceStatus
from exalsius_jupyter.widgets import style

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
EVIL = '<img src=x onerror="document.title=\'pwned\'">'
ALLOWED_TAGS = {"a", "b", "code", "div", "span", "table", "thead", "tbody", "tr", "th", "td",
                "caption"}


class TagCollector(HTMLParser):
    """Collects every start tag and attribute the browser would create."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = TagCollector()
    parser.feed(html)
    parser.close()
    return parser.tags


def assert_inert(html: str) -> None:
    """No element or attribute in ``html`` can run script: only our own tags, no on* handlers."""
    for tag, attrs in tags_of(html):
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}> in {html[:200]!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            if name == "href":
                assert value is not None and value.startswith(("http://", "https://"))


def evil_workspace(**overrides: Any) -> Workspace:
    data: dict[str, Any] = {
        "id": f"id-{EVIL}",
        "name": EVIL,
        "cluster_id": f"c-{EVIL}",
        "workspace_status": "RUNNING",
        "description": EVIL,
        "template": {"name": EVIL, "variables": {EVIL: EVIL}},
        "resources": {"gpu_count": 2, "gpu_type": EVIL, "cpu_cores": 4, "memory_gb": 16},
        "access_information": f"http://host/\"><script>alert(1)</script>{EVIL}",
        "created_at": "2026-11-27T11:57:00Z",
        "to_be_deleted_at": "2026-11-27T14:00:00Z",
    }
    data.update(overrides)
    return Workspace.from_api(data)


def ws(name: str = "ws-1", status: str = "RUNNING", **extra: Any) -> Workspace:
    data: dict[str, Any] = {
        "id": "0f8fad5b-d9cb-469f-a165-70867728950e", "name": name, "cluster_id": "c1",
        "workspace_status": status, "template": {"name": "jupyter-notebook", "variables": {}},
        "resources": {"gpu_count": 2, "gpu_type": "A100", "cpu_cores": 8, "memory_gb": 32},
        "created_at": "2026-11-27T11:57:00Z",
    }
    data.update(extra)
    return Workspace.from_api(data)


# -- escape -----------------------------------------------------------------------------------


def test_escape_turns_markup_into_text() -> None:
    assert render.escape(EVIL) == ("&lt;img src=x onerror=&quot;document.title=&#x27;pwned&#x27;"
                                   "&quot;&gt;")
    assert render.escape(None) == ""
    assert render.escape(3) == "3"
    assert tags_of(render.escape(EVIL)) == []


# -- status badges ----------------------------------------------------------------------------


def test_every_status_has_its_own_colour() -> None:
    colours = set()
    for status in WorkspaceStatus:
        badge = render.status_badge(status)
        assert f"exls-badge-{status.value.lower()}" in badge
        assert f">{status.value}</span>" in badge
        assert "style=" not in badge  # colours come from the one stylesheet
        background = style.STATUS_COLOURS[status][0]
        assert f".exls-badge-{status.value.lower()}{{background:{background};" in \
            style.STYLESHEET
        colours.add(background)
    assert len(colours) == len(WorkspaceStatus)


def test_unknown_status_strings_show_as_unknown() -> None:
    badge = render.status_badge("<b>HIBERNATING</b>")
    assert ">UNKNOWN</span>" in badge and "HIBERNATING" not in badge
    assert ">RUNNING<" in render.status_badge("running")


# -- times ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(seconds=10), "just now"),
    (timedelta(seconds=50), "50 s ago"),
    (timedelta(minutes=3, seconds=20), "3 min ago"),
    (timedelta(hours=5, minutes=59), "5 h ago"),
    (timedelta(days=1, hours=2), "1 day ago"),
    (timedelta(days=12), "12 days ago"),
    (timedelta(seconds=-30), "just now"),
])
def test_humanize_age(delta: timedelta, text: str) -> None:
    assert render.humanize_age(NOW - delta, NOW) == text


@pytest.mark.parametrize(("seconds", "parts", "text"), [
    (0, 1, "0 s"), (8.9, 1, "8 s"), (59, 2, "59 s"), (60, 1, "1 min"), (125, 1, "2 min"),
    (125, 2, "2 min 05 s"), (3725, 1, "1 h"), (3725, 2, "1 h 02 min"), (86400, 1, "1 day"),
    (2 * 86400 + 5, 1, "2 days"), (-5, 1, "0 s"),
])
def test_one_duration_format(seconds: float, parts: int, text: str) -> None:
    assert render.duration(seconds, parts) == text


def test_age_and_expiry_of_unknown_times_are_a_dash() -> None:
    assert render.humanize_age(None, NOW) == "—"
    assert render.expires_in(None, NOW) == "—"


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(seconds=20), "in 20 s"),
    (timedelta(minutes=90), "in 1 h"),
    (timedelta(days=3, hours=1), "in 3 days"),
    (timedelta(seconds=0), "expired"),
    (timedelta(hours=-2), "expired"),
])
def test_expires_in(delta: timedelta, text: str) -> None:
    assert render.expires_in(NOW + delta, NOW) == text


# -- access -----------------------------------------------------------------------------------


def test_http_access_is_a_link_that_opens_a_new_tab() -> None:
    html = render.access_link_html("https://ws.example.com:8888/lab?x=1&y=2")
    [(tag, attrs)] = tags_of(html)
    assert tag == "a"
    assert attrs["href"] == "https://ws.example.com:8888/lab?x=1&y=2"
    assert attrs["target"] == "_blank"
    assert "noopener" in (attrs["rel"] or "")
    assert "&amp;" in html


def test_ssh_access_is_copyable_code_not_a_link() -> None:
    html = render.access_link_html("ssh -p 30022 dev@10.0.0.1")
    [(tag, attrs)] = tags_of(html)
    assert tag == "code" and "style" not in attrs
    assert ".exls-access-code{user-select:all;" in style.STYLESHEET
    assert ">ssh -p 30022 dev@10.0.0.1</code>" in html


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,<script>x</script>",
                                  "http://a b", "file:///etc/passwd", "http://host:80/a b",
                                  'http://x/"onmouseover', "http://x/'onmouseover='y'",
                                  "http://x/<b>", "http://x/a\tb", "http://x/a\\b",
                                  "http://x/`y`", "http://x/\x7f"])
def test_only_http_urls_become_links(link: str) -> None:
    html = render.access_link_html(link)
    assert [t for t, _ in tags_of(html)] == ["code"]
    assert_inert(html)


def test_access_of_the_live_api_lists_every_link() -> None:
    info = [{"access_protocol": "HTTP", "port_number": 30001, "external_ips": ["1.2.3.4"]},
            {"access_protocol": "SSH", "port_number": 30002, "external_ips": ["1.2.3.4"]}]
    html = render.access_html(info)
    assert [t for t, _ in tags_of(html)] == ["a", "code"]
    assert render.access_text(info) == "http://1.2.3.4:30001 ssh -p 30002 1.2.3.4"
    assert render.access_html(None) == "—" and render.access_text([]) == "—"


def test_endpoint_label_hides_credentials_and_query() -> None:
    assert render.endpoint_label("https://user:s3cret@api.example.com:8443/v1?token=abc#x") == \
        "https://api.example.com:8443/v1"
    assert render.endpoint_label("http://127.0.0.1:8765/v1") == "http://127.0.0.1:8765/v1"


# -- one workspace and tables: everything from the server is escaped ---------------------------


def test_workspace_row_html_escapes_and_aligns() -> None:
    html = render.workspace_row_html(evil_workspace(), NOW, note="working…")
    assert_inert(html)
    first = tags_of(html)[0]
    assert first[0] == "div" and first[1]["data-workspace-id"] == f"id-{EVIL}"
    cells = [attrs for tag, attrs in tags_of(html)
             if tag == "span" and "exls-cell" in (attrs.get("class") or "").split()]
    assert len(cells) == len(render.COLUMNS)
    assert "working…" in html and "style=" not in html
    head = render.header_row_html()
    assert len([t for t, a in tags_of(head) if t == "span"]) == len(render.COLUMNS)
    # rows and heading share one grid, written once in the stylesheet
    assert 'class="exls-head"' in head and 'class="exls-cells"' in html
    assert f".exls-cells,.exls-head{{display:grid;grid-template-columns:{render.ROW_TEMPLATE};" \
        in style.STYLESHEET


def test_the_name_column_gets_the_room_of_the_page_s_longest_name() -> None:
    """#17.3: one class per page gives the name's track its room, the same in rows and heading."""
    assert render.name_room([]) == 0
    assert render.name_room(["ab", "a" * 45]) == 48  # steps of NAME_ROOM_STEP characters
    assert render.name_room(["x" * 500]) == render.NAME_ROOM_MAX
    html = render.workspace_row_html(ws(), NOW, room=48)
    assert 'class="exls-cells exls-room-48"' in html and "style=" not in html
    assert 'class="exls-head exls-room-48"' in render.header_row_html(48)
    assert 'class="exls-cells"' in render.workspace_row_html(ws(), NOW)  # no room: no class
    assert ".exls-room-48{--exls-name:calc(48ch + 2ch)}" in style.STYLESHEET


def test_the_panel_reflows_with_container_queries() -> None:
    """#17.3: the panel is a container; narrower widths hide the columns of higher rank."""
    sheet = style.STYLESHEET
    assert ".exls-panel{container-type:inline-size;container-name:exls-panel" in sheet
    ranks = {c.key: c.rank for c in render.COLUMNS}
    assert ranks["name"] == ranks["status"] == ranks["access"] == 1
    assert render.row_template(1).count("minmax(") == 3
    assert all(track.startswith("minmax(") for track in (c.track for c in render.COLUMNS))
    narrow = sheet.split(f"@container exls-panel (max-width: {style.NARROW_PX - 0.02}px)")[1]
    assert f"grid-template-columns:{render.row_template(1)}" in narrow
    assert ".exls-panel .exls-cell-template" in narrow.split("{display:none}")[0]
    assert ":focus-visible:enabled" in sheet and "outline:2px solid var(--jp-brand-color1" in sheet


def test_row_cells_show_the_issue_s_columns() -> None:
    html = render.workspace_row_html(ws(), NOW)
    for text in ("<b>ws-1</b>", ">0f8fad5b<", 'title="0f8fad5b-d9cb-469f-a165-70867728950e"',
                 ">RUNNING<", "jupyter-notebook", "2 × A100", "8 CPU · 32 GB", "3 min ago"):
        assert text in html


def test_the_fallbacks_show_the_columns_of_the_panel_rows() -> None:
    headings = [c.heading for c in render.COLUMNS]
    html = render.workspaces_html([ws(access_information="ssh -p 1 a@b")], NOW)
    assert [t for t, _ in tags_of(html)].count("th") == len(headings)
    assert all(f"<th>{h}</th>" in html for h in ("Name", "CPU / memory", "Access"))
    text = render.workspaces_text([ws(access_information="ssh -p 1 a@b")], NOW)
    assert text.splitlines()[0].split() == " ".join(headings).split()
    row = text.splitlines()[1]
    for value in ("ws-1", "0f8fad5b", "RUNNING", "2 × A100", "3 min ago", "ssh -p 1 a@b"):
        assert value in row


def test_workspaces_html_table_is_escaped_and_has_a_row_each() -> None:
    html = render.workspaces_html([evil_workspace(), ws()], NOW, total=10)
    assert_inert(html)
    assert html.count("<tr>") == 3
    assert "2 of 10 workspaces" in html
    assert "no workspaces" in render.workspaces_html([], NOW)


def test_workspaces_text_columns_line_up() -> None:
    text = render.workspaces_text([ws("a"), ws("a-much-longer-name", "PENDING")], NOW, total=5)
    lines = text.splitlines()
    assert lines[0].startswith("Name")
    status_col = lines[0].index("Status")
    assert lines[1][status_col:].startswith("RUNNING")
    assert lines[2][status_col:].startswith("PENDING")
    assert lines[-1] == "(2 of 5 workspaces)"
    assert render.workspaces_text([], NOW) == "no workspaces"


# -- errors -----------------------------------------------------------------------------------


def test_error_line_uses_the_problem_title_and_detail() -> None:
    exc = ConflictError("HTTP 409 Conflict: x", status=409, title="Conflict",
                        detail="workspace\n'nb-1' exists")
    assert render.error_line(exc, "Could not create nb-1") == \
        "Could not create nb-1: HTTP 409 Conflict: workspace 'nb-1' exists"
    plain = ConnectionFailedError("could not reach the server: GET http://x/v1 (refused)")
    assert render.error_line(plain) == "could not reach the server: GET http://x/v1 (refused)"
    assert render.error_line(KeyError("x"), "Unexpected error") == "Unexpected error: KeyError: 'x'"


def test_error_html_escapes_the_message() -> None:
    html = render.error_html(f"Could not stop {EVIL}")
    assert_inert(html)
    assert "&lt;img" in html
    assert "style=" not in html
    assert f".exls-error-text{{color:{style.ERROR_RED};" in style.STYLESHEET


COLOUR_LITERAL = re.compile(
    r"#[0-9a-f]{3,8}\b|\brgba?\(|(?<![\w-])(white|black|red|green|blue|gr[ae]y)(?![\w-])", re.I)
THEME_VAR = re.compile(r"var\(--(?:jp|exls)-[a-z0-9-]+,(?:[^()]|\([^()]*\))*\)")


def without_theme_vars(css: str) -> str:
    """``css`` with each ``var(--jp-…, fallback)`` (or the panel's own ``--exls-…``; nested ones
    too) replaced by THEME."""
    while (replaced := THEME_VAR.sub("THEME", css)) != css:
        css = replaced
    return css


def test_without_theme_vars_leaves_the_literals_outside_them() -> None:
    assert without_theme_vars("color:var(--jp-a,var(--jp-b,rgba(0,0,0,.5)))") == "color:THEME"
    assert COLOUR_LITERAL.search(without_theme_vars("border:1px solid var(--jp-a,#eee) #ccc"))


def test_every_colour_is_a_theme_variable_with_a_fallback() -> None:
    """Each colour of the sheet is a JupyterLab theme variable or a color-mix() of them; literal
    colours only as the variables' fallbacks (VS Code, nbconvert HTML), each var has one."""
    sheet = style.STYLESHEET
    assert "var(--jp-" in sheet and "color-mix(" in sheet
    left = without_theme_vars(sheet)
    assert not COLOUR_LITERAL.search(left), COLOUR_LITERAL.search(left)
    assert "var(" not in left  # every var() has its fallback (the pattern needs one)
    for colours in style.STATUS_COLOURS.values():
        for colour in colours:
            assert without_theme_vars(colour) != colour
    assert without_theme_vars(style.RowStyle().row.border_bottom or "") == "1px solid THEME"


def test_no_view_writes_a_colour_or_an_inline_style() -> None:
    import pathlib

    package = pathlib.Path(render.__file__).parent
    views = [package / "render.py", *(package / "widgets").glob("*.py")]
    files = [*views, *(package / "magics").rglob("*.py")]
    colours = {f.name: hit.group(0) for f in files if f.name != "style.py"
               if (hit := re.search(r"#[0-9a-f]{3,8}\b|\brgba?\(", f.read_text("utf-8"), re.I))}
    assert not colours, f"colours outside style.py: {colours}"
    inline = {f.name for f in views if re.search(r'(?<!\w)style=\\?["\']', f.read_text("utf-8"))}
    assert not inline, f"inline style= attributes in {inline}"


HOSTILE_ACCESS: list[Any] = [
    "javascript:alert(1)", " JaVaScRiPt:alert(1)", "\tjavascript:alert(1)", "java\nscript:x",
    "' onmouseover='alert(1)", '"><script>alert(1)</script>', "vbscript:msgbox(1)",
    "http://x/'onmouseover='alert(1)'", f"http://x/{EVIL}",
    [{"access_protocol": "HTTP", "port_name": EVIL, "port_number": EVIL,
      "external_ips": ['x" onmouseover="alert(1)', EVIL, "javascript:alert(1)//"],
      "access_description": EVIL}],
    [{"access_protocol": "SSH", "port_name": EVIL, "port_number": 22, "external_ips": [EVIL]}],
    [{"access_protocol": EVIL, "port_number": 22, "external_ips": [EVIL]}],
]


@pytest.mark.parametrize("access", HOSTILE_ACCESS)
def test_hostile_access_information_is_inert_in_every_rendering(access: Any) -> None:
    w = evil_workspace(access_information=access)
    for html in (render.access_html(access), render.workspace_row_html(w, NOW, EVIL),
                 render.workspaces_html([w], NOW)):
        assert_inert(html)
        assert "<script" not in html and "<img" not in html
    assert EVIL not in render.error_html(EVIL)
