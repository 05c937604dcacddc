"""The sandbox's identity provider (--auth) over real HTTP: device flow, refresh, revoke, 401s."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from support import AUTH_POLL

from exalsius_jupyter.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
CLIENT_ID = "kSbRc9MOnuMKMVLzhZYBo3xkTtk2KK7B"
AUDIENCE = "https://api.exalsius.ai"
SCOPE = "openid profile email offline_access"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ERRORS = "https://api.exalsius.ai/errors/"
TIMEOUT = 5.0
FAST = AUTH_POLL  # the sandboxes' device_interval: seconds between polls


# -- fixtures and helpers -------------------------------------------------------------------


@dataclass
class Remote:
    """A sandbox served by another process: its base URL and issuer URL."""

    url: str
    issuer_url: str


Target = Sandbox | Remote


@pytest.fixture
def start(auth_sandbox_factory: Callable[..., Sandbox]) -> Callable[..., Sandbox]:
    """Auth-mode sandboxes polled every FAST seconds (conftest.auth_sandbox_factory)."""
    return auth_sandbox_factory


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A requests session, closed after the test."""
    with requests.Session() as s:
        yield s


def issuer(sb: Target) -> str:
    """The sandbox's issuer URL (auth mode)."""
    assert sb.issuer_url is not None
    return sb.issuer_url


def device_code(
    sb: Target, http: requests.Session, scope: str = SCOPE, client_id: str = CLIENT_ID
) -> requests.Response:
    """POST /oauth/device/code."""
    form = {"client_id": client_id, "scope": scope, "audience": AUDIENCE}
    return http.post(f"{issuer(sb)}oauth/device/code", data=form, timeout=TIMEOUT)


def authorize(sb: Target, http: requests.Session, scope: str = SCOPE) -> dict[str, Any]:
    """A fresh device authorization's JSON."""
    r = device_code(sb, http, scope)
    assert r.status_code == 200, r.text
    return r.json()


def token(sb: Target, http: requests.Session, client_id: str = CLIENT_ID, **form: str) -> Any:
    """POST /oauth/token with client_id and the given fields."""
    data = {"client_id": client_id, **form}
    return http.post(f"{issuer(sb)}oauth/token", data=data, timeout=TIMEOUT)


def poll(sb: Target, http: requests.Session, code: str) -> requests.Response:
    """One device-code token request."""
    return token(sb, http, grant_type=DEVICE_GRANT, device_code=code)


def refresh(sb: Target, http: requests.Session, refresh_token: str) -> requests.Response:
    """One refresh-token grant."""
    return token(sb, http, grant_type="refresh_token", refresh_token=refresh_token)


def revoke(
    sb: Target, http: requests.Session, value: str, client_id: str = CLIENT_ID
) -> requests.Response:
    """POST /oauth/revoke."""
    form = {"token": value, "client_id": client_id}
    return http.post(f"{issuer(sb)}oauth/revoke", data=form, timeout=TIMEOUT)


def error(r: requests.Response) -> str:
    """The OAuth error code of an answer."""
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == {"error", "error_description"} and body["error_description"]
    return str(body["error"])


class FormParser(HTMLParser):
    """The first form of a page: method, action, fields and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.method = self.action = ""
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, tuple[str, str]] = {}  # value -> (name, label)
        self._button: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.action:
            self.method, self.action = a.get("method", "get").lower(), a.get("action", "")
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._button = (a.get("name", ""), a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._button is not None and data.strip():
            name, value = self._button
            self.buttons[value] = (name, data.strip())
            self._button = None


def submit(
    http: requests.Session, page: requests.Response, button: str, **typed: str
) -> requests.Response:
    """Submit a page's form as a browser would: its fields, what was typed, the button pressed."""
    form = FormParser()
    form.feed(page.text)
    assert form.method == "post", page.text
    name, _ = form.buttons[button]
    data = {**form.fields, **typed, name: button}
    return http.post(urljoin(page.url, form.action), data=data, timeout=TIMEOUT)


def decide(http: requests.Session, grant: dict[str, Any], action: str) -> requests.Response:
    """Open the grant's verification_uri_complete and press Approve or Deny."""
    page = http.get(grant["verification_uri_complete"], timeout=TIMEOUT)
    assert page.status_code == 200, page.text
    return submit(http, page, action)


def decide_post(
    http: requests.Session, sb: Target, user_code: str, action: str
) -> requests.Response:
    """POST /activate directly, as a script would."""
    form = {"user_code": user_code, "action": action}
    return http.post(f"{issuer(sb)}activate", data=form, timeout=TIMEOUT)


def wait_for(sb: Target, http: requests.Session, code: str) -> requests.Response:
    """Poll at the grant's interval until the answer is no longer authorization_pending."""
    for _ in range(100):
        time.sleep(FAST + 0.05)
        r = poll(sb, http, code)
        if r.status_code == 200 or error(r) != "authorization_pending":
            return r
    raise AssertionError("still pending")


def sign_in(sb: Target, http: requests.Session, scope: str = SCOPE) -> dict[str, Any]:
    """Run the device flow, approving through the page; the token response's JSON."""
    grant = authorize(sb, http, scope)
    assert decide(http, grant, "approve").status_code == 200
    r = wait_for(sb, http, grant["device_code"])
    assert r.status_code == 200, r.text
    return r.json()


def claims(jwt: str) -> dict[str, Any]:
    """A JWT's payload, decoded without checking the signature."""
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def b64(data: dict[str, Any]) -> str:
    """Base64url JSON, unpadded."""
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def api(sb: Target, http: requests.Session, access_token: str | None) -> requests.Response:
    """GET /workspaces with (or without) a bearer token."""
    headers = {} if access_token is None else {"Authorization": f"Bearer {access_token}"}
    return http.get(f"{sb.url}/workspaces", headers=headers, timeout=TIMEOUT)


def assert_401(r: requests.Response, instance: str = "/workspaces") -> str:
    """Check the 1.46 problem shape of a 401 and WWW-Authenticate; returns the detail."""
    assert r.status_code == 401, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.headers["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    problem = r.json()["detail"]
    assert problem["type"] == ERRORS + "unauthorized"
    assert problem["title"] == "Unauthorized" and problem["status"] == 401
    assert problem["instance"] == instance
    return str(problem["detail"])


# -- device authorization -------------------------------------------------------------------


def test_device_authorization_response(start: Callable[..., Sandbox], http: requests.Session):
    sb = start(device_code_ttl=90, device_interval=5)
    r = device_code(sb, http)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    grant = r.json()
    assert set(grant) == {
        "device_code", "user_code", "verification_uri", "verification_uri_complete",
        "expires_in", "interval",
    }  # fmt: skip
    assert re.fullmatch(r"[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}", grant["user_code"])
    assert grant["verification_uri"] == f"{issuer(sb)}activate"
    assert grant["verification_uri_complete"] == (
        f"{issuer(sb)}activate?user_code={grant['user_code']}"
    )
    assert grant["device_code"] not in grant["verification_uri_complete"]
    assert grant["expires_in"] == 90 and grant["interval"] == 5
    assert sb.issuer_url == sb.url.removesuffix("/v1") + "/"
    assert sb.auth_counts()["device_authorizations"] == 1


def test_device_flow_approved_through_the_page(
    start: Callable[..., Sandbox], http: requests.Session
):
    sb = start(token_ttl=120, user_name="Grace Hopper", user_email="grace@example.com")
    grant = authorize(sb, http)
    assert error(poll(sb, http, grant["device_code"])) == "authorization_pending"
    page = http.get(grant["verification_uri_complete"], timeout=TIMEOUT)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert grant["user_code"] in page.text and grant["device_code"] not in page.text
    done = submit(http, page, "approve")
    assert done.status_code == 200 and "approved" in done.text.lower()
    r = wait_for(sb, http, grant["device_code"])
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    tokens = r.json()
    assert set(tokens) == {
        "access_token", "refresh_token", "id_token", "token_type", "expires_in", "scope",
    }  # fmt: skip
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 120
    assert tokens["scope"] == SCOPE
    access = claims(tokens["access_token"])
    assert access["iss"] == issuer(sb) and access["aud"] == AUDIENCE
    assert access["scope"] == SCOPE and access["sub"]
    assert isinstance(access["exp"], int) and access["exp"] - access["iat"] >= 120
    identity = claims(tokens["id_token"])
    assert identity["aud"] == CLIENT_ID and identity["sub"] == access["sub"]
    assert identity["name"] == "Grace Hopper" and identity["email"] == "grace@example.com"
    assert api(sb, http, tokens["access_token"]).status_code == 200
    counts = sb.auth_counts()
    assert counts["approvals"] == 1 and counts["tokens_issued"] == 1
    assert counts["device_polls"] >= 2


def test_a_device_code_is_redeemed_once(start: Callable[..., Sandbox], http: requests.Session):
    sb = start()
    grant = authorize(sb, http)
    decide(http, grant, "approve")
    assert wait_for(sb, http, grant["device_code"]).status_code == 200
    time.sleep(FAST + 0.05)
    again = poll(sb, http, grant["device_code"])
    assert again.status_code == 400 and error(again) == "invalid_grant"
    assert sb.auth_counts()["tokens_issued"] == 1


def test_denied_device_flow(start: Callable[..., Sandbox], http: requests.Session):
    sb = start()
    grant = authorize(sb, http)
    page = decide(http, grant, "deny")
    assert page.status_code == 200 and "denied" in page.text.lower()
    r = wait_for(sb, http, grant["device_code"])
    assert r.status_code == 400 and error(r) == "access_denied"
    time.sleep(FAST + 0.05)
    assert error(poll(sb, http, grant["device_code"])) == "access_denied"
    late = decide_post(http, sb, grant["user_code"], "approve")
    assert late.status_code == 409  # already decided
    assert sb.auth_counts()["denials"] == 1 and sb.auth_counts()["tokens_issued"] == 0


def test_expired_device_code(start: Callable[..., Sandbox], http: requests.Session):
    sb = start(device_code_ttl=0.5)
    grant = authorize(sb, http)
    assert grant["expires_in"] == 1
    r = wait_for(sb, http, grant["device_code"])
    assert r.status_code == 400 and error(r) == "expired_token"
    page = http.get(grant["verification_uri_complete"], timeout=TIMEOUT)
    assert page.status_code == 400 and "expired" in page.text
    late = decide_post(http, sb, grant["user_code"], "approve")
    assert late.status_code == 400 and "expired" in late.text
    assert sb.auth_counts()["approvals"] == 0


def test_slow_down_adds_five_seconds(start: Callable[..., Sandbox], http: requests.Session):
    sb = start(device_interval=5)
    assert sb.idp is not None
    grant = authorize(sb, http)
    code = grant["device_code"]
    assert error(poll(sb, http, code)) == "authorization_pending"  # the first poll is never early
    early = poll(sb, http, code)
    assert early.status_code == 400 and error(early) == "slow_down"
    assert "10 seconds" in early.json()["error_description"]
    assert sb.idp.interval(grant["user_code"]) == 10
    assert error(poll(sb, http, code)) == "slow_down"
    assert sb.idp.interval(grant["user_code"].lower()) == 15  # codes match in any case


def test_slow_down_applies_to_later_polls(start: Callable[..., Sandbox], http: requests.Session):
    sb = start()  # interval 0.2 s
    code = authorize(sb, http)["device_code"]
    assert error(poll(sb, http, code)) == "authorization_pending"
    time.sleep(FAST + 0.1)
    assert error(poll(sb, http, code)) == "authorization_pending"  # spaced by the interval
    assert error(poll(sb, http, code)) == "slow_down"  # at once: interval is now 5.2 s
    time.sleep(FAST + 0.1)
    assert error(poll(sb, http, code)) == "slow_down"  # the old interval no longer suffices


def test_auth0_error_statuses(start: Callable[..., Sandbox], http: requests.Session):
    sb = start(oauth_errors="auth0", device_interval=5)
    grant = authorize(sb, http)
    pending = poll(sb, http, grant["device_code"])
    assert pending.status_code == 403 and error(pending) == "authorization_pending"
    slow = poll(sb, http, grant["device_code"])
    assert slow.status_code == 429 and error(slow) == "slow_down"
    unknown = poll(sb, http, "nope")
    assert unknown.status_code == 403 and error(unknown) == "invalid_grant"


def test_request_errors(start: Callable[..., Sandbox], http: requests.Session):
    sb = start()
    for r in (
        device_code(sb, http, client_id="someone-else"),
        device_code(sb, http, client_id=""),
        token(sb, http, client_id="someone-else", grant_type=DEVICE_GRANT, device_code="x"),
        revoke(sb, http, "x", client_id="someone-else"),
    ):
        assert r.status_code == 401 and error(r) == "invalid_client"
    assert error(poll(sb, http, "no-such-code")) == "invalid_grant"
    assert error(token(sb, http, grant_type="password")) == "unsupported_grant_type"
    assert error(token(sb, http, grant_type=DEVICE_GRANT)) == "invalid_request"
    assert error(token(sb, http)) == "invalid_request"
    twice = http.post(
        f"{issuer(sb)}oauth/token",
        data=[("client_id", CLIENT_ID), ("grant_type", DEVICE_GRANT), ("device_code", "a"),
              ("device_code", "b")],
        timeout=TIMEOUT,
    )  # fmt: skip
    assert twice.status_code == 400 and error(twice) == "invalid_request"
    other_api = http.post(
        f"{issuer(sb)}oauth/device/code",
        data={"client_id": CLIENT_ID, "audience": "https://elsewhere.example"},
        timeout=TIMEOUT,
    )
    assert other_api.status_code == 400 and error(other_api) == "invalid_request"
    get = http.get(f"{issuer(sb)}oauth/token", timeout=TIMEOUT)
    assert get.status_code == 405 and get.headers["Allow"] == "POST"


def test_json_bodies_are_accepted(start: Callable[..., Sandbox], http: requests.Session):
    sb = start()
    form = {"client_id": CLIENT_ID, "scope": SCOPE, "audience": AUDIENCE}
    r = http.post(f"{issuer(sb)}oauth/device/code", json=form, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["user_code"]


def test_scopes_decide_which_tokens(start: Callable[..., Sandbox], http: requests.Session):
    sb = start()
    bare = sign_in(sb, http, scope="")
    assert set(bare) == {"access_token", "token_type", "expires_in", "scope"}
    profile = sign_in(sb, http, scope="openid profile")
    assert "refresh_token" not in profile
    identity = claims(profile["id_token"])
    assert identity["name"] == "Ada Lovelace" and "email" not in identity
    email = claims(sign_in(sb, http, scope="openid email")["id_token"])
    assert email["email"] == "ada@example.com" and "name" not in email


# -- refresh and revoke ---------------------------------------------------------------------


def test_refresh_rotates(start: Callable[..., Sandbox], http: requests.Session):
    sb = start()
    first = sign_in(sb, http)
    r = refresh(sb, http, first["refresh_token"])
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    second = r.json()
    assert set(second) == set(first) and second["scope"] == SCOPE
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert claims(second["id_token"])["email"] == "ada@example.com"
    assert api(sb, http, second["access_token"]).status_code == 200
    third = refresh(sb, http, second["refresh_token"])
    assert third.status_code == 200 and api(sb, http, third.json()["access_token"]).ok
    assert sb.auth_counts()["refreshes"] == 2 and sb.auth_counts()["refresh_requests"] == 2


def test_reused_refresh_token_revokes_the_family(
    start: Callable[..., Sandbox], http: requests.Session
):
    sb = start()
    first = sign_in(sb, http)
    rotated = refresh(sb, http, first["refresh_token"]).json()
    reused = refresh(sb, http, first["refresh_token"])
    assert reused.status_code == 400 and error(reused) == "invalid_grant"
    dead = refresh(sb, http, rotated["refresh_token"])
    assert error(dead) == "invalid_grant"  # the rotated one went with its family
    assert "revoked" in assert_401(api(sb, http, rotated["access_token"]))
    other = sign_in(sb, http)  # another session is untouched
    assert refresh(sb, http, other["refresh_token"]).status_code == 200
    assert sb.auth_counts()["reuse_detected"] == 1


def test_concurrent_refreshes_with_one_token_succeed_once(
    start: Callable[..., Sandbox], http: requests.Session
):
    sb = start()
    refresh_token = sign_in(sb, http)["refresh_token"]
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def worker() -> None:
        with requests.Session() as s:
            barrier.wait()
            statuses.append(refresh(sb, s, refresh_token).status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200] + [400] * 7
    assert sb.auth_counts()["refreshes"] == 1


def test_revoke(start: Callable[..., Sandbox], http: requests.Session):
    sb = start()
    tokens = sign_in(sb, http)
    r = revoke(sb, http, tokens["refresh_token"])
    assert r.status_code == 200 and r.content == b""
    assert error(refresh(sb, http, tokens["refresh_token"])) == "invalid_grant"
    assert "revoked" in assert_401(api(sb, http, tokens["access_token"]))
    assert revoke(sb, http, "unknown-token").status_code == 200  # RFC 7009 §2.2
    assert error(revoke(sb, http, "")) == "invalid_request"
    assert sb.auth_counts()["revocations"] == 1


# -- the API behind bearer tokens -----------------------------------------------------------


def test_api_needs_a_valid_bearer(start: Callable[..., Sandbox], http: requests.Session):
    sb = start()
    tokens = sign_in(sb, http)
    good = tokens["access_token"]
    header, payload, signature = good.split(".")
    forged = b64({**claims(good), "sub": "auth0|mallory"})
    foreign = sign_in(start(), http)["access_token"]  # another sandbox: other issuer and secret
    cases = {
        None: "required",
        "": "required",
        "garbage": "malformed",
        "a.b.c": "malformed",
        f"{header}.{forged}.{signature}": "malformed",
        f"{header}.{payload}.{signature[:-2]}AA": "malformed",
        f"{header}.{payload}": "malformed",
        tokens["id_token"]: "malformed",  # not an access token
        foreign: "malformed",  # signed with another secret
    }
    for value, word in cases.items():
        assert word in assert_401(api(sb, http, value)), value
    basic = http.get(f"{sb.url}/workspaces", headers={"Authorization": f"Basic {good}"})
    assert "required" in assert_401(basic)
    assert api(sb, http, good).status_code == 200
    lower = http.get(f"{sb.url}/workspaces", headers={"Authorization": f"bearer {good}"})
    assert lower.status_code == 200
    assert sb.auth_counts()["unauthorized"] == len(cases) + 1


def test_every_api_route_is_guarded(start: Callable[..., Sandbox], http: requests.Session):
    sb = start(workspaces=2, seed=3)
    body = {"name": "x", "cluster_id": "11111111-1111-4111-8111-111111111111"}
    created = http.post(f"{sb.url}/workspaces", json=body, timeout=TIMEOUT)
    assert_401(created)
    assert len(sb) == 2  # nothing was created
    some = str(uuid.uuid4())
    assert_401(http.get(f"{sb.url}/workspace/{some}", timeout=TIMEOUT), f"/workspace/{some}")
    stop = http.post(f"{sb.url}/workspace/{some}/stop", timeout=TIMEOUT)
    assert_401(stop, f"/workspace/{some}/stop")
    assert_401(http.get(f"{sb.url}/nope", timeout=TIMEOUT), "/nope")
    good = sign_in(sb, http)["access_token"]
    ok = http.get(f"{sb.url}/workspaces", headers={"Authorization": f"Bearer {good}"})
    assert ok.status_code == 200 and ok.json()["total"] == 2


def test_expired_access_token_gets_401(start: Callable[..., Sandbox], http: requests.Session):
    sb = start(token_ttl=0.5)
    tokens = sign_in(sb, http)
    assert tokens["expires_in"] == 1
    for _ in range(100):
        r = api(sb, http, tokens["access_token"])
        if r.status_code == 401:
            break
        time.sleep(0.1)
    assert "expired" in assert_401(r)
    fresh = refresh(sb, http, tokens["refresh_token"]).json()
    assert api(sb, http, fresh["access_token"]).status_code == 200


def test_revoke_all_ends_every_session(start: Callable[..., Sandbox], http: requests.Session):
    sb = start()
    assert sb.idp is not None
    sessions = [sign_in(sb, http), sign_in(sb, http)]
    sb.idp.revoke_all()
    for tokens in sessions:
        assert "revoked" in assert_401(api(sb, http, tokens["access_token"]))
        assert error(refresh(sb, http, tokens["refresh_token"])) == "invalid_grant"
    assert api(sb, http, sign_in(sb, http)["access_token"]).status_code == 200


def test_identity_provider_is_spared_faults(start: Callable[..., Sandbox], http: requests.Session):
    sb = start()
    sb.outage()
    assert device_code(sb, http).status_code == 200
    assert api(sb, http, None).status_code == 503
    sb.outage(False)


def test_without_auth_there_is_no_identity_provider(http: requests.Session):
    with Sandbox() as sb:
        assert sb.issuer_url is None and sb.idp is None
        root = sb.url.removesuffix("/v1")
        assert http.post(f"{root}/oauth/token", timeout=TIMEOUT).status_code == 404
        assert http.get(f"{root}/activate", timeout=TIMEOUT).status_code == 404
        assert api(sb, http, None).status_code == 200
        with pytest.raises(RuntimeError):
            sb.auth_counts()


# -- the approval page ----------------------------------------------------------------------


def test_activate_page_escapes_a_hostile_user_code(
    start: Callable[..., Sandbox], http: requests.Session
):
    sb = start()
    hostile = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
    page = http.get(f"{issuer(sb)}activate", params={"user_code": hostile}, timeout=TIMEOUT)
    assert page.status_code == 400
    assert "<script>" not in page.text and "<img" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&gt;&lt;img" in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    posted = decide_post(http, sb, hostile, "approve")
    assert posted.status_code == 400 and "<script>" not in posted.text


def test_activate_without_a_code_lets_the_user_type_it(
    start: Callable[..., Sandbox], http: requests.Session
):
    sb = start()
    grant = authorize(sb, http)
    page = http.get(grant["verification_uri"], timeout=TIMEOUT)
    assert page.status_code == 200 and 'name="user_code"' in page.text
    typed = grant["user_code"].lower().replace("-", " ")  # codes match in any case and spacing
    assert submit(http, page, "approve", user_code=typed).status_code == 200
    assert wait_for(sb, http, grant["device_code"]).status_code == 200


def test_activate_refuses_bad_forms(start: Callable[..., Sandbox], http: requests.Session):
    sb = start()
    grant = authorize(sb, http)
    assert decide_post(http, sb, grant["user_code"], "maybe").status_code == 400
    assert decide_post(http, sb, "BCDF-GHJK", "approve").status_code == 400
    assert http.put(f"{issuer(sb)}activate", timeout=TIMEOUT).status_code == 405
    assert decide_post(http, sb, grant["user_code"], "approve").status_code == 200
    assert decide_post(http, sb, grant["user_code"], "approve").status_code == 409
    page = http.get(grant["verification_uri_complete"], timeout=TIMEOUT)
    assert page.status_code == 409 and "already used" in page.text


# -- CLI ------------------------------------------------------------------------------------


def test_cli_auth_prints_the_issuer_and_logs_no_secret() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = ["--port", "0", "--auth", "--device-interval", str(FAST), "--token-ttl", "60"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "exalsius_jupyter.sandbox", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", url), url
        line = proc.stdout.readline().strip()
        assert line == "issuer: " + url.removesuffix("/v1") + "/"
        sb = Remote(url, line.removeprefix("issuer: "))
        with requests.Session() as http:
            assert_401(api(sb, http, None))
            grant = authorize(sb, http)
            tokens = sign_in(sb, http)
            assert api(sb, http, tokens["access_token"]).status_code == 200
            assert refresh(sb, http, tokens["refresh_token"]).status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and out == ""
    assert "POST /oauth/token" in err
    for secret in (grant["device_code"], *tokens.values()):
        if isinstance(secret, str) and len(secret) > 20:
            assert secret not in err
