"""The widgets in JupyterLab and Notebook 7, light and dark: every text readable, links styled.

One notebook per app shows the panel (workspaces in several statuses, the sandbox badge, an error
line, the form's "Created ..." message), a progress widget with a Failed and a Running row and its
"Finished: ..." summary, the progress's HTML fallback, and two sign-in widgets (one showing its
code and link, one signed in). In each theme the page measures the WCAG contrast of every visible
text node of the outputs against its effective background (alpha-composited up the ancestors),
checks that each link has a colour of its own and an underline on hover, and that the sign-in code
is large and sits on the countdown's baseline. One screenshot per app and theme is kept in
test-artifacts/: theme-lab-light.png, theme-lab-dark.png, theme-notebook-light.png and
theme-notebook-dark.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from playwright.sync_api import Page, expect
from support import A100_CLUSTER as A100
from support import PROGRESS_CELL as PROGRESS
from support import create_source as spec

from exalsius_jupyter.sandbox import Sandbox

if TYPE_CHECKING:
    from tests.browser.conftest import Lab

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SETUP = f"import sys\nsys.path.insert(0, {str(REPO)!r})"
MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text
MIN_CODE_PX = 20.0
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
OUTPUTS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output"
# The status each workspace is added with, and the badge the panel shows for it.
STATUSES = {"RUNNING": "running", "PENDING": "pending", "STOPPED": "stopped", "FAILED": "failed",
            "DELETED": "deleted", "HIBERNATING": "unknown"}

PANEL = """\
from exalsius_jupyter import WorkspacePanel
panel = WorkspacePanel(auto_refresh=False)
panel.errors.show("Could not stop theme-running: HTTP 503 Service Unavailable")
panel"""
# The progress widget's HTML fallback (what nbconvert keeps), inside Lab's rendered-HTML rules.
FALLBACK = "from IPython.display import HTML\nHTML(progress._repr_html_())"
SIGN_IN = """\
from exalsius_jupyter.auth.settings import AuthSettings
from exalsius_jupyter.widgets.sign_in import SignInWidget
{name} = SignInWidget(AuthSettings(issuer={issuer!r}, timeout=5), tick=0.2)
{name}"""

# The contrast of each visible text node of the outputs, worst first. Colours are read through a
# 1x1 canvas, so any computed colour syntax (rgb(), color(srgb ...), oklab()) is understood. The
# background is the ancestors' backgroundColor composited from the root down onto white (the
# canvas behind the page); the text's alpha is multiplied by the ancestors' opacity. Text in a
# disabled control is left out (WCAG 1.4.3 exempts inactive components).
CONTRAST_JS = """(selector) => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const parsed = new Map();
  const rgba = (css) => {
    if (!parsed.has(css)) {
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = css;
      ctx.fillRect(0, 0, 1, 1);
      const d = ctx.getImageData(0, 0, 1, 1).data;
      parsed.set(css, [d[0], d[1], d[2], d[3] / 255]);
    }
    return parsed.get(css);
  };
  const over = (top, below) => [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3]))
    .concat([1]);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const hex = (c) => '#' + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0'))
    .join('');
  const describe = (el) => el.tagName.toLowerCase() +
    [...el.classList].filter((c) => !c.startsWith('lm-')).map((c) => '.' + c).join('');
  const out = [];
  for (const root of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.data.trim();
      const el = node.parentElement;
      if (!text || !el || el.closest('script, style, option')) continue;
      if (el.closest('button:disabled, [disabled], .mod-disabled')) continue;
      if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      if (![...range.getClientRects()].some((r) => r.width > 0 && r.height > 0)) continue;
      const chain = [];
      for (let e = el; e; e = e.parentElement) chain.push(e);
      let bg = [255, 255, 255, 1];
      let opacity = 1;
      for (const e of chain.reverse()) {
        const style = getComputedStyle(e);
        bg = over(rgba(style.backgroundColor), bg);
        opacity *= parseFloat(style.opacity);
      }
      const style = getComputedStyle(el);
      const fg = rgba(style.color);
      const shown = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
      out.push({text: text.slice(0, 60), element: describe(el), ratio: ratio(shown, bg),
                color: hex(shown), background: hex(bg), size: style.fontSize});
    }
  }
  return out.sort((a, b) => a.ratio - b.ratio);
}"""

# Each link of the outputs: its colour and the colour of the text around it (its nearest
# ancestor that is not a link).
LINKS_JS = """(selector) => [...document.querySelectorAll(selector + ' a')]
  .filter((a) => a.checkVisibility())
  .map((a) => ({text: a.textContent.trim().slice(0, 60), color: getComputedStyle(a).color,
                around: getComputedStyle(a.parentElement.closest(':not(a)')).color,
                line: getComputedStyle(a).textDecorationLine}))"""

# The sign-in code's font size and its baseline against the countdown's: an empty inline-block
# sits with its bottom edge on the baseline of the line it is in.
BASELINE_JS = """([code, countdown]) => {
  const probe = (el) => {
    const mark = document.createElement('span');
    mark.style.cssText = 'display:inline-block;width:0;height:0;padding:0;border:0;margin:0';
    el.appendChild(mark);
    const y = mark.getBoundingClientRect().bottom;
    mark.remove();
    return y;
  };
  return {size: parseFloat(getComputedStyle(code).fontSize),
          code: probe(code), countdown: probe(countdown)};
}"""


@pytest.fixture(params=["lab", "notebook"])
def jupyter_app(request: pytest.FixtureRequest) -> str:
    """Each scenario runs in JupyterLab and in Notebook 7."""
    return str(request.param)


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(pending_seconds=1.0, seed=5) as sandbox:
        yield sandbox


@pytest.fixture
def idp() -> Iterator[Sandbox]:
    """A second sandbox that plays the identity provider of the sign-in widgets."""
    with Sandbox(auth=True, device_interval=0.2) as sandbox:
        yield sandbox


def set_theme(page: Page, theme: str) -> None:
    """Switch the app's theme with its own command and wait until the theme's CSS applies."""
    page.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', "
                  "{theme})", theme)
    page.wait_for_function(
        "(light) => document.body.dataset.jpThemeLight === String(light) && "
        "getComputedStyle(document.body).getPropertyValue('--jp-layout-color0').trim() !== ''",
        arg=theme == THEMES["light"], timeout=30_000)
    page.wait_for_timeout(300)  # the theme's stylesheet replaces the other one


def approve(idp: Sandbox, user_code: str) -> None:
    """Approve a device code through the identity provider's /activate form, as a user would."""
    assert idp.issuer_url is not None
    r = requests.post(idp.issuer_url + "activate",
                      data={"user_code": user_code, "action": "approve"}, timeout=10)
    assert r.status_code == 200, r.text


def show_everything(lab: Lab, sb: Sandbox, idp: Sandbox) -> None:
    """Open and run the notebook; bring each widget into the state the checks measure."""
    for status in STATUSES:
        sb.add({"name": f"theme-{status.lower()}", "workspace_status": status,
                "cluster_id": A100, "resources": {"gpu_count": 2, "gpu_type": "A100"}})
    cells = [SETUP, PANEL, PROGRESS.format(ok=spec("theme-ok"), bad=spec("theme-big", 12)),
             SIGN_IN.format(name="waiting", issuer=idp.issuer_url),
             SIGN_IN.format(name="approved", issuer=idp.issuer_url), FALLBACK]
    lab.open_notebook(cells, name="theme", env={"EXALSIUS_API_URL": sb.url,
                                                "EXALSIUS_SANDBOX": "1"})
    lab.run_all()
    page = lab.page
    expect(page.locator(".exls-login-code code")).to_have_count(2, timeout=15_000)
    approve(idp, page.locator(".exls-login-code code").nth(1).inner_text().strip())
    expect(page.locator(".exls-login-status.exls-tone-ok")).to_contain_text(
        "Signed in as", timeout=15_000)
    page.locator(".exls-form .jupyter-widget-Collapse-header").first.click()
    page.locator(".exls-form-name input").fill("theme-form")
    page.locator(".exls-form-cluster input").fill(A100)
    page.locator("button.exls-form-create").click()
    expect(page.locator(".exls-form-message")).to_contain_text("Created theme-form",
                                                               timeout=15_000)
    expect(page.locator(".exls-progress-status", has_text="Finished")).to_have_text(
        "Finished: 1 running, 1 failed", timeout=20_000)
    lab.run_cell(len(cells))  # the fallback again, now with the outcome (0 is the env cell)
    expect(page.locator(".exls-progress-table .exls-stage-failed")).to_have_text("Failed")
    for badge in STATUSES.values():
        expect(page.locator(f".exls-row .exls-badge-{badge}").first).to_be_visible()
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement && document.activeElement.blur()")


def distinct(texts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The texts, one per element kind and colour pair (the first, so the worst, of each)."""
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for t in texts:
        key = (t["element"], t["color"], t["background"])
        if key not in seen:
            seen.add(key)
            kept.append(t)
    return kept


def shown(t: dict[str, Any]) -> str:
    """One measured text, e.g. "1.86:1 'Created' in span.exls-tone-ok (#155724 on #212121)"."""
    return (f"{t['ratio']:.2f}:1 {t['text']!r} in {t['element']} ({t['color']} on "
            f"{t['background']}, {t['size']})")


def check_state(lab: Lab, state: str) -> list[str]:
    """The problems of the page as it is now (an empty list: none); prints what it measured."""
    page, problems = lab.page, []
    texts: list[dict[str, Any]] = page.evaluate(CONTRAST_JS, OUTPUTS)
    seen = " | ".join(t["text"] for t in texts)
    for needed in ("Signed in as", "Finished: 1 running, 1 failed", "Failed", "FAILED",
                   "Created", "Could not stop", "sandbox", "Status", "Template"):
        if needed not in seen:
            problems.append(f"{state}: no visible text {needed!r} was measured")
    worst = distinct([t for t in texts if t["ratio"] < MIN_CONTRAST])
    print(f"\n{state}: {len(texts)} texts; worst: " + "; ".join(map(shown, distinct(texts)[:5])))
    if worst:
        problems.append(f"{state}: {len(worst)} kinds of text below {MIN_CONTRAST}:1, worst: "
                        + "; ".join(map(shown, worst[:12])))

    links = page.evaluate(LINKS_JS, OUTPUTS)
    if len(links) < 3:  # the panel's, the progress row's and the sign-in link at least
        problems.append(f"{state}: only {len(links)} links shown")
    for index, link in enumerate(links):
        if link["color"] == link["around"]:
            problems.append(f"{state}: the link {link['text']!r} has the text's colour "
                            f"{link['color']}")
        page.locator(f"{OUTPUTS} a").filter(visible=True).nth(index).hover()
        line = page.locator(f"{OUTPUTS} a").filter(visible=True).nth(index).evaluate(
            "a => getComputedStyle(a).textDecorationLine")
        if "underline" not in line:
            problems.append(f"{state}: the link {link['text']!r} is not underlined on hover "
                            f"({line})")
    page.mouse.move(0, 0)

    waiting = page.locator(".exls-login").first
    code = waiting.locator(".exls-login-code code")
    countdown = waiting.locator(".exls-login-countdown")
    measured = page.evaluate(BASELINE_JS, [code.element_handle(), countdown.element_handle()])
    print(f"{state}: sign-in code {measured['size']:.1f} px, baseline {measured['code']:.1f} "
          f"vs the countdown's {measured['countdown']:.1f}")
    if measured["size"] < MIN_CODE_PX:
        problems.append(f"{state}: the sign-in code is {measured['size']:.1f} px "
                        f"(< {MIN_CODE_PX} px)")
    if abs(measured["code"] - measured["countdown"]) > 2:
        problems.append(f"{state}: the sign-in code's baseline is "
                        f"{measured['code'] - measured['countdown']:+.1f} px off the countdown's")
    return problems


def test_every_text_is_readable_and_links_are_styled_in_both_themes(
        lab: Lab, sb: Sandbox, idp: Sandbox, jupyter_app: str,
        request: pytest.FixtureRequest) -> None:
    artifacts = request.config.rootpath / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    lab.page.set_viewport_size({"width": 1500, "height": 2200})  # every output in view
    show_everything(lab, sb, idp)
    problems: list[str] = []
    try:
        for name, theme in THEMES.items():
            set_theme(lab.page, theme)
            state = f"{jupyter_app} {name}"
            problems += check_state(lab, state)
            lab.page.screenshot(path=str(artifacts / f"theme-{jupyter_app}-{name}.png"))
    finally:
        set_theme(lab.page, THEMES["light"])  # the theme is a setting of the shared server
    assert not problems, "\n".join(problems)

