"""Fixtures that drive a real JupyterLab or Notebook 7 in headless Chromium with Playwright.

A test asks for `lab` (a `Lab` bound to a fresh page), writes and opens a notebook, runs it and
checks the page:

    @pytest.mark.browser
    def test_x(lab: Lab) -> None:
        lab.open_notebook(["import ipywidgets as w", "w.Button(description='Go')"])
        lab.run_all()
        lab.wait_for("button.widget-button").click()

Notebook 7: override the fixture `jupyter_app` to return "notebook" (in a module, or parametrize
it); `lab` is then a `Notebook7` on the session's Notebook 7 server, and the same scenarios run.

Environment for the kernel (e.g. EXALSIUS_API_URL of a sandbox the test started):
- per notebook: `lab.open_notebook(cells, env={"EXALSIUS_API_URL": url})` puts a first cell into
  the notebook that updates `os.environ`, so the kernel sees it before any of the test's cells;
- for the whole session: override the session fixture `jupyter_server_env` in a conftest.py; the
  Jupyter servers are started with it and their kernels inherit it.

Everything listens on 127.0.0.1 only and is stopped by the fixtures. On a failing test the page's
screenshot and the tail of the server log are saved into test-artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from support import JUPYTER_DIRS, free_port

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
NOTIFICATION_SETTINGS = "@jupyterlab/apputils-extension/notification.jupyterlab-settings"
# Saving a notebook saves its widget state too, so a test can grep what a widget would keep.
WIDGET_SETTINGS = "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings"
VISIBLE_NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# True once no code cell of the visible notebook is queued or running and the kernel idles.
PROMPTS_JS = f"""[...document.querySelectorAll('{VISIBLE_NOTEBOOK} .jp-CodeCell .jp-InputPrompt')]
  .map((p) => p.textContent.trim())"""
EXECUTION_DONE_JS = f"""() => {{
  const nb = document.querySelector('{VISIBLE_NOTEBOOK}');
  if (!nb) return false;
  const indicator = nb.querySelector('.jp-Notebook-ExecutionIndicator');
  if (!indicator || indicator.getAttribute('data-status') !== 'idle') return false;
  const prompts = {PROMPTS_JS};
  return !prompts.some((p) => p.includes('*'));
}}"""
# "cell I: ENAME: EVALUE" of each error output in the current notebook's model: the DOM shows
# errors just like stderr. window.jupyterapp exists thanks to expose_app_in_browser (APPS).
ERRORS_JS = """() => {
  const model = window.jupyterapp?.shell.currentWidget?.content?.model;
  const errors = [];
  for (let i = 0; i < (model?.cells.length ?? 0); i++) {
    const outputs = model.cells.get(i).outputs;
    for (let j = 0; j < (outputs?.length ?? 0); j++) {
      const out = outputs.get(j).toJSON();
      if (out.output_type === 'error') errors.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
    }
  }
  return errors;
}"""
# True once the current notebook's kernel is attached, connected and idle. The toolbar can show
# the kernelspec's name while the kernel is still starting; a Run All then is the likely cause of
# a Notebook 7 run under load that left every prompt "[ ]" (once, on a fresh server).
KERNEL_READY_JS = """() => {
  const kernel = window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel;
  return kernel?.connectionStatus === 'connected' && kernel?.status === 'idle';
}"""

# `jupyter APP` for each front end, with the flag that exposes window.jupyterapp (ERRORS_JS).
APPS = {
    "lab": "--LabApp.expose_app_in_browser=True",
    "notebook": "--JupyterNotebookApp.expose_app_in_browser=True",
}


@dataclass
class JupyterServer:
    """A running JupyterLab or Notebook 7 server."""

    base_url: str
    token: str
    root_dir: Path
    log_path: Path

    def url(self, path: str) -> str:
        """Return the absolute URL of `path` (e.g. "/lab/tree/x.ipynb") with the token."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path}{sep}token={self.token}"

    def api(self, method: str, path: str) -> Any:
        """Call the REST API (e.g. "GET", "/api/sessions") and return the decoded JSON or None."""
        request = urllib.request.Request(self.url(path), method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 80) -> str:
        """Return the last `lines` lines of the server log."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Store each phase's report on the item (item.rep_setup, item.rep_call) for teardown."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Chromium: $EXALSIUS_CHROMIUM or /usr/bin/chromium; skips if absent (fails on CI)."""
    path = os.environ.get("EXALSIUS_CHROMIUM") or "/usr/bin/chromium"
    if not Path(path).exists():
        reason = f"no Chromium at {path} (apt-get install chromium, or set EXALSIUS_CHROMIUM)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: browser tests must run, but {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def jupyter_server_env() -> dict[str, str]:
    """Extra environment for the Jupyter servers and so their kernels; override in a conftest."""
    return {}


@pytest.fixture(scope="session")
def jupyter_server(
    tmp_path_factory: pytest.TempPathFactory, jupyter_server_env: dict[str, str]
) -> Iterator[JupyterServer]:
    """Start JupyterLab on a random 127.0.0.1 port with private config dirs; stop it at the end."""
    yield from serve("lab", tmp_path_factory, jupyter_server_env)


@pytest.fixture(scope="session")
def notebook7_server(
    tmp_path_factory: pytest.TempPathFactory, jupyter_server_env: dict[str, str]
) -> Iterator[JupyterServer]:
    """Start Jupyter Notebook 7 like `jupyter_server`; stop it at the end."""
    yield from serve("notebook", tmp_path_factory, jupyter_server_env)


def serve(
    app: str, tmp_path_factory: pytest.TempPathFactory, server_env: dict[str, str]
) -> Iterator[JupyterServer]:
    """Run `jupyter APP` (a key of APPS) with private config dirs until the generator closes."""
    home = tmp_path_factory.mktemp(f"jupyter-{app}")
    dirs = {name: home / name.lower() for name in JUPYTER_DIRS}
    for path in dirs.values():
        path.mkdir()
    settings = dirs["JUPYTERLAB_SETTINGS_DIR"] / NOTIFICATION_SETTINGS
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    widget_settings = dirs["JUPYTERLAB_SETTINGS_DIR"] / WIDGET_SETTINGS
    widget_settings.parent.mkdir(parents=True)
    widget_settings.write_text(json.dumps({"saveState": True}))
    root_dir = home / "root"
    root_dir.mkdir()
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, **{k: str(v) for k, v in dirs.items()}, **server_env}
    cmd = [
        sys.executable, "-m", "jupyter", app, "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
        "--LanguageServerManager.autodetect=False", APPS[app],
    ]  # fmt: skip
    log_path = home / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=root_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    server = JupyterServer(f"http://127.0.0.1:{port}", token, root_dir, log_path)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter {app} exited with {proc.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter {app}: no /api/status answer in 90 s:\n{server.log_tail()}")
            try:
                server.api("GET", "/api/status")
                break
            except OSError:
                time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Browser]:
    """Launch headless Chromium with private XDG dirs; close it at the end."""
    home = tmp_path_factory.mktemp("chromium")
    env = {**os.environ, "HOME": str(home)}
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS, env=env
        )
        yield browser
        browser.close()


@pytest.fixture
def jupyter_app() -> str:
    """The front end that `lab` drives: "lab" (JupyterLab); override: "notebook" (Notebook 7)."""
    return "lab"


@pytest.fixture
def app_server(request: pytest.FixtureRequest, jupyter_app: str) -> JupyterServer:
    """The session's server of `jupyter_app`: `jupyter_server` or `notebook7_server`."""
    servers = {"lab": "jupyter_server", "notebook": "notebook7_server"}
    return request.getfixturevalue(servers[jupyter_app])


@pytest.fixture
def page(
    request: pytest.FixtureRequest, browser: Browser, app_server: JupyterServer
) -> Iterator[Page]:
    """A fresh page in its own browser context; saves artifacts if the test fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    node = request.node
    reports = [getattr(node, f"rep_{when}", None) for when in ("setup", "call")]
    if any(report is not None and report.failed for report in reports):
        artifacts = request.config.rootpath / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", node.nodeid)
        try:
            page.screenshot(path=str(artifacts / f"{stem}.png"), full_page=True)
        except Exception as error:  # the page may be gone; the log still helps
            print(f"screenshot failed: {error}")
        (artifacts / f"{stem}.server.log").write_text(app_server.log_tail(200))
    context.close()
    for session in app_server.api("GET", "/api/sessions") or []:  # the test's kernels
        app_server.api("DELETE", f"/api/sessions/{session['id']}")


class Lab:
    """Drives one JupyterLab page: write, open and run notebooks, wait for the page."""

    NOTEBOOK_URL = "/lab/tree/"  # + NAME.ipynb: a notebook's page

    def __init__(self, page: Page, server: JupyterServer) -> None:
        self.page = page
        self.server = server

    def write_notebook(
        self, cells: list[str], name: str = "test", env: dict[str, str] | None = None
    ) -> Path:
        """Write code cells (plus a first cell that sets `env`) to root_dir/NAME.ipynb."""
        sources = list(cells)
        if env:
            sources.insert(0, f"import os\nos.environ.update({env!r})")
        notebook = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(source) for source in sources],
            metadata={
                "kernelspec": {
                    "name": "python3",
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                }
            },
        )
        path = self.server.root_dir / f"{name}.ipynb"
        nbformat.write(notebook, path)
        return path

    def open_notebook(
        self,
        cells: list[str],
        name: str = "test",
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> None:
        """Write the notebook, open it (`open`) and wait for an idle kernel."""
        self.write_notebook(cells, name, env)
        self.open(name, timeout)

    def open(self, name: str, timeout: float = 60) -> None:
        """Open root_dir/NAME.ipynb at NOTEBOOK_URL + NAME.ipynb and wait for an idle kernel."""
        self.page.goto(self.server.url(f"{self.NOTEBOOK_URL}{name}.ipynb?reset"))
        notebook = self.page.locator(VISIBLE_NOTEBOOK)
        ms = timeout * 1000
        kernel_name = notebook.locator(".jp-Toolbar-kernelName")
        expect(kernel_name).not_to_have_text(re.compile(r"^\s*(No Kernel)?\s*$"), timeout=ms)
        indicator = notebook.locator(".jp-Notebook-ExecutionIndicator")
        expect(indicator).to_have_attribute("data-status", "idle", timeout=ms)
        self.page.wait_for_function(KERNEL_READY_JS, timeout=ms)

    def run_all(self, timeout: float = 60, check: bool = True) -> None:
        """Run all cells via the menu Run → Run All Cells; wait until execution finished."""
        before = self.prompts()
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        self.wait_until_executed(before, timeout, check)

    def run_cell(self, index: int, timeout: float = 60, check: bool = True) -> None:
        """Run code cell `index` (0-based; an `env` cell is 0) with Ctrl+Enter; wait for it."""
        before = self.prompts()
        self.cells().nth(index).locator(".cm-content").click()
        self.page.keyboard.press("Control+Enter")
        self.wait_until_executed(before, timeout, check)

    def wait_until_executed(
        self, before: list[str] | None = None, timeout: float = 60, check: bool = True
    ) -> None:
        """Wait until the prompts differ from `before` and nothing is queued or running.

        With `check`, raise AssertionError if the notebook shows a traceback.
        """
        if before is not None:
            self.page.wait_for_function(
                f"(before) => JSON.stringify({PROMPTS_JS}) !== JSON.stringify(before)",
                arg=before,
                timeout=timeout * 1000,
            )
        self.page.wait_for_function(EXECUTION_DONE_JS, timeout=timeout * 1000)
        if check and (errors := self.errors()):
            raise AssertionError("a cell raised:\n" + "\n\n".join(errors))

    def prompts(self) -> list[str]:
        """Input prompts of the code cells, e.g. ["[1]:", "[*]:", "[ ]:"]."""
        return self.page.evaluate(f"() => {PROMPTS_JS}")

    def cells(self) -> Locator:
        """Locator of the code cells of the visible notebook."""
        return self.page.locator(f"{VISIBLE_NOTEBOOK} .jp-CodeCell")

    def errors(self) -> list[str]:
        """Error outputs of the current notebook, as "cell I: ENAME: EVALUE"."""
        return self.page.evaluate(ERRORS_JS)

    def wait_for(self, selector: str, timeout: float = 30) -> Locator:
        """Wait until `selector` is visible; return its first match."""
        locator = self.page.locator(selector).first
        locator.wait_for(state="visible", timeout=timeout * 1000)
        return locator

    def wait_for_text(
        self, selector: str, text: str | re.Pattern[str], timeout: float = 30
    ) -> Locator:
        """Wait until the first match of `selector` has exactly `text` (str or regex); return it."""
        locator = self.page.locator(selector).first
        expect(locator).to_have_text(text, timeout=timeout * 1000)
        return locator


class Notebook7(Lab):
    """Drives one Jupyter Notebook 7 page: the same page parts and menu, other URLs."""

    NOTEBOOK_URL = "/notebooks/"


@pytest.fixture
def lab(page: Page, app_server: JupyterServer, jupyter_app: str) -> Lab:
    """A `Lab` (or, for jupyter_app "notebook", a `Notebook7`) driving a fresh page of the
    session's server."""
    return (Notebook7 if jupyter_app == "notebook" else Lab)(page, app_server)
