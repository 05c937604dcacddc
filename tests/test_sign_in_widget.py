"""SignInWidget against the sandbox's identity provider: approve, deny, expire, cancel.

Approval goes through the sandbox's /activate form, as a user in a browser would. No token and no
device code may appear in the state of any widget.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets
import pytest
import requests
from ipywidgets.widgets.widget import _instances
from support import AUTH_POLL, wait_until

from exalsius_jupyter.auth.device import DeviceLogin
from exalsius_jupyter.auth.settings import AuthSettings
from exalsius_jupyter.auth.tokens import Tokens
from exalsius_jupyter.errors import SignInDeniedError
from exalsius_jupyter.sandbox import Sandbox
from exalsius_jupyter.widgets.sign_in import (
    SignInWidget,
    countdown_text,
    link_html,
    signed_in_text,
)

FAST = AUTH_POLL  # the sandboxes' device_interval: seconds between polls
TIMEOUT = 5.0


@pytest.fixture
def start(auth_sandbox_factory: Callable[..., Sandbox]) -> Callable[..., Sandbox]:
    """Auth-mode sandboxes polled every FAST seconds (conftest.auth_sandbox_factory)."""
    return auth_sandbox_factory


@pytest.fixture
def made() -> Iterator[list[SignInWidget]]:
    """Widgets a test made, closed after it (their threads joined)."""
    widgets: list[SignInWidget] = []
    yield widgets
    for w in widgets:
        w.close()


def new_widget(sb: Sandbox, made: list[SignInWidget], **kwargs: Any) -> SignInWidget:
    """A widget signing in at the sandbox."""
    assert sb.issuer_url is not None
    w = SignInWidget(AuthSettings(issuer=sb.issuer_url, timeout=TIMEOUT), tick=0.1,
                          **kwargs)
    made.append(w)
    return w


def decide(sb: Sandbox, user_code: str, action: str) -> None:
    """Approve or deny through the /activate form."""
    assert sb.issuer_url is not None
    r = requests.post(sb.issuer_url + "activate", data={"user_code": user_code, "action": action},
                      timeout=TIMEOUT)
    assert r.status_code == 200, r.text


def all_widget_state() -> str:
    """The state of every live widget, as one JSON text."""
    states = [w.get_state() for w in list(_instances.values())]
    return json.dumps(states, default=str)


def test_approve_shows_who_signed_in(start: Callable[..., Sandbox],
                                     made: list[SignInWidget]) -> None:
    sb = start()
    received: list[Tokens] = []
    w = new_widget(sb, made, on_success=received.append)
    began = time.monotonic()
    bundle = w._repr_mimebundle_()  # what displaying it does: the cell returns at once
    assert time.monotonic() - began < 2 and w.state == "waiting" and not w.done.is_set()
    code = w.login.code
    assert code is not None
    device_code = code._device_code
    text = bundle["text/plain"]
    assert code.verification_uri_complete in text and code.user_code in text
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == w.widget.model_id
    assert f'href="{sb.issuer_url}activate?user_code={code.user_code}"' in w.link.value
    assert 'target="_blank"' in w.link.value and 'rel="noopener noreferrer"' in w.link.value
    assert code.user_code in w.code.value
    wait_until(lambda: w.countdown.value.startswith("expires in 9 min"), timeout=5)
    during = all_widget_state()
    assert device_code not in during and code.user_code in during

    decide(sb, code.user_code, "approve")
    assert w.wait(10) and w.state == "signed in"
    assert len(received) == 1 and received[0] is w.tokens
    tokens = received[0]
    assert "Signed in as Ada Lovelace (ada@example.com)" in w.status.value
    assert "renews itself" in w.status.value
    assert w.pending_box.layout.display == "none" and w.cancel_button.disabled
    assert w.link.value == "" and w.code.value == ""
    after = all_widget_state() + repr(w) + w._repr_html_() + json.dumps(w._repr_mimebundle_())
    for secret in (device_code, tokens.access_token, tokens.refresh_token, tokens.id_token):
        assert secret and secret not in during and secret not in after
    assert w._poller is not None
    assert w._poller.join(5)


def test_deny_says_so_in_one_line(start: Callable[..., Sandbox],
                                  made: list[SignInWidget]) -> None:
    sb = start()
    w = new_widget(sb, made).start()
    assert w.login.code is not None
    decide(sb, w.login.code.user_code, "deny")
    assert w.wait(10) and w.state == "denied"
    assert w.message == "Sign-in denied on the approval page."
    assert isinstance(w.error, SignInDeniedError) and w.tokens is None
    assert "denied" in w.status.value and "\n" not in w.message


def test_expiry_says_so(start: Callable[..., Sandbox], made: list[SignInWidget]) -> None:
    sb = start(device_code_ttl=1)
    w = new_widget(sb, made).start()
    assert w.wait(1 + TIMEOUT) and w.state == "expired"
    assert "expired" in w.message and "%exalsius login" in w.message
    assert w._repr_mimebundle_()["text/plain"] == w.message


def test_cancel_button_stops_polling(start: Callable[..., Sandbox],
                                     made: list[SignInWidget]) -> None:
    sb = start()
    w = new_widget(sb, made).start()
    time.sleep(0.5)
    began = time.monotonic()
    w.cancel_button.click()
    assert w.wait(2) and time.monotonic() - began < 1
    assert w.state == "cancelled" and w.message == "Sign-in cancelled."
    polls = sb.auth_counts()["device_polls"]
    time.sleep(3 * FAST)
    assert sb.auth_counts()["device_polls"] == polls  # nothing polls any more
    assert sb.auth_counts()["tokens_issued"] == 0


def test_start_failure_is_shown(start: Callable[..., Sandbox],
                                made: list[SignInWidget]) -> None:
    sb = start()
    assert sb.issuer_url is not None
    settings = AuthSettings(issuer=sb.issuer_url, client_id="someone-else", timeout=TIMEOUT)
    w = SignInWidget(DeviceLogin(settings))
    made.append(w)
    bundle = w._repr_mimebundle_()
    assert w.state == "failed" and w.done.is_set() and w._poller is None
    assert "invalid_client" in w.message and "invalid_client" in bundle["text/plain"]
    assert w.error is not None


def test_on_success_failure_is_reported(start: Callable[..., Sandbox],
                                        made: list[SignInWidget]) -> None:
    sb = start()

    def keep(tokens: Tokens) -> None:
        raise RuntimeError("keyring\nlocked")

    w = new_widget(sb, made, on_success=keep).start()
    assert w.login.code is not None
    decide(sb, w.login.code.user_code, "approve")
    assert w.wait(10) and w.state == "failed"
    assert w.message == "signed in, but keeping the session failed: keyring locked"


def test_pieces_escape_and_count_down() -> None:
    hostile = 'https://x.example/activate?user_code="><script>alert(1)</script>'
    html = link_html(hostile)
    assert "<script>" not in html and "&quot;&gt;&lt;script&gt;" in html
    assert countdown_text(605.2) == "expires in 10 min 06 s"
    assert countdown_text(59) == "expires in 59 s" and countdown_text(0) == "expired"
    from datetime import datetime, timezone

    tokens = Tokens("a" * 30, None, None, datetime(2030, 1, 2, 3, 4, tzinfo=timezone.utc))
    assert signed_in_text(tokens) == (
        "Signed in as unknown user. The session ends 2030-01-02 03:04:00 UTC; then run "
        "%exalsius login again.")


def test_many_widgets_threads_end(start: Callable[..., Sandbox],
                                  made: list[SignInWidget]) -> None:
    sb = start()
    ws = [new_widget(sb, made).start() for _ in range(3)]
    for w in ws:
        w.close()
    assert all(w._poller is not None and not w._poller.running for w in ws)
    assert all(w.state == "cancelled" for w in ws)
    names = [t.name for t in threading.enumerate()]
    assert "exalsius-sign-in" not in names
    assert isinstance(ws[0].widget, ipywidgets.VBox)


def test_close_leaves_no_widget_behind(start: Callable[..., Sandbox]) -> None:
    sb = start()
    before = set(_instances)
    w = SignInWidget(AuthSettings(issuer=sb.issuer_url, timeout=TIMEOUT), tick=0.1)
    w.start()
    w.close()
    assert set(_instances) <= before  # every child, layout and style closed
    all_widget_state()  # and what is left still serializes


def test_the_first_names_still_work() -> None:
    from exalsius_jupyter.widgets.login import DeviceLoginWidget
    from exalsius_jupyter.widgets.sign_in import SignInWidget as Current

    assert DeviceLoginWidget is Current


# -- #17.5c: the session renews ahead of expiry, and the widget's line follows ------------------


def renewal_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "exalsius-renewal" and t.is_alive()]


def signed_in_by_widget(sb: Sandbox, made: list[SignInWidget]) -> tuple[Any, SignInWidget]:
    """A session at the sandbox signed in as ``%exalsius login`` does in Jupyter (the widget)."""
    from exalsius_jupyter.magics.commands.login import _widget
    from exalsius_jupyter.session import Session

    session = Session()
    session.attach_sandbox(sb, "--auth")
    w = _widget(session, save=False)
    made.append(w)
    assert w.login.code is not None
    decide(sb, w.login.code.user_code, "approve")
    assert w.wait(10) and w.state == "signed in"
    return session, w


def test_the_session_renews_before_expiry_without_a_call_and_the_line_follows(
        start: Callable[..., Sandbox], made: list[SignInWidget]) -> None:
    sb = start(token_ttl=3)
    session, w = signed_in_by_widget(sb, made)
    signed = session.sign_in
    assert signed is not None
    first, shown = signed.tokens, w.status.value
    assert signed_in_text(first) in shown
    before = sb.auth_counts()["refreshes"]
    wait_until(lambda: sb.auth_counts()["refreshes"] > before, timeout=6,
               what="a renewal ahead of expiry")
    # the issuer counts the refresh before its answer reaches the session: wait for the answer
    renewed = wait_until(lambda: signed.tokens if signed.tokens is not first else None,
                         timeout=3, what="the renewed tokens in the session")
    assert sb.request_count("GET", "/workspaces") == 0  # no call asked for a token
    assert renewed.access_token != first.access_token and renewed.expires_at > first.expires_at
    assert first.expires_in() > -0.5  # renewed before the old token expired, not after
    wait_until(lambda: signed_in_text(signed.tokens) in w.status.value, timeout=3,
               what="the line with the new expiry")
    assert w.status.value != shown
    texts = all_widget_state() + repr(w) + w._repr_html_() + json.dumps(w._repr_mimebundle_())
    for t in (first, renewed):
        for secret in (t.access_token, t.refresh_token, t.id_token):
            assert secret and secret not in texts

    assert signed.renewing_ahead and renewal_threads()
    session.logout()  # sign-out stops the timer
    # this session's thread: other tests' sessions may still renew on theirs
    wait_until(lambda: not signed.renewing_ahead, timeout=5, what="the renewal thread's end")
    after = sb.auth_counts()["refreshes"]
    time.sleep(3.5)  # past the next expiry
    assert sb.auth_counts()["refreshes"] == after
    assert "until signed out with %exalsius logout" in w.status.value and w.state == "signed out"


def test_a_renewal_refused_ahead_of_expiry_is_shown_not_hidden(
        start: Callable[..., Sandbox], made: list[SignInWidget]) -> None:
    sb = start(token_ttl=3)
    session, w = signed_in_by_widget(sb, made)
    assert sb.idp is not None
    sb.idp.revoke_all()  # the issuer refuses the refresh token from now on
    wait_until(lambda: "could not be renewed" in w.status.value, timeout=6,
               what="the refused renewal in the widget")
    assert "%exalsius login" in w.status.value and "exls-tone-error" in w.status.value
    signed = session.sign_in
    assert signed is not None
    wait_until(lambda: not signed.renewing_ahead, timeout=5, what="the renewal thread's end")
    session.close()
