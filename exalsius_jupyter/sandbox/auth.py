"""The sandbox as an OAuth identity provider: RFC 8628 device flow, refresh rotation, revocation.

Served at the server's root (the issuer URL, e.g. ``http://127.0.0.1:8765/``) when the Sandbox
runs with ``auth=True``: ``POST /oauth/device/code``, ``POST /oauth/token`` (device-code and
refresh-token grants), ``POST /oauth/revoke``, and ``GET``/``POST /activate`` (the approval page).
Access and ID tokens are JWT-shaped and signed with HMAC-SHA256 over a per-instance random secret;
refresh tokens and device codes are opaque. Nothing here logs a token or a device code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import parse_qs, quote

from .api import Response, problem
from .guard import PEER_HEADER, WrongCodes, cross_site
from .options import DEFAULT_AUDIENCE, DEFAULT_CLIENT_ID

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels, as RFC 8628 §6.1 suggests
ROUTES: dict[str, tuple[str, ...]] = {
    "/oauth/device/code": ("POST",),
    "/oauth/token": ("POST",),
    "/oauth/revoke": ("POST",),
    "/activate": ("GET", "POST"),
}
DESCRIPTIONS = {
    "authorization_pending": "User has yet to authorize device code.",
    "slow_down": "You are polling faster than the specified interval.",
    "access_denied": "User refused to authorize the device.",
    "expired_token": "The device code has expired.",
    "invalid_client": "Unknown client.",
    "too_many_requests": "Too many sign-ins are pending; try again later.",
}
MAX_PENDING = 1000  # device grants kept at once (expired ones are dropped after GRACE)
GRACE = 60.0  # seconds an expired or decided grant is kept (its poll then says why)
# HTTP status per OAuth error: "rfc" follows RFC 6749 §5.2 (400; 401 for invalid_client),
# "auth0" what Auth0 answers (403 pending/denied/expired/invalid_grant, 429 slow_down).
ERROR_STATUSES: dict[str, dict[str, int]] = {
    "rfc": {"invalid_client": 401, "too_many_requests": 429},
    "auth0": {
        "invalid_client": 401,
        "too_many_requests": 429,
        "authorization_pending": 403,
        "access_denied": 403,
        "expired_token": 403,
        "invalid_grant": 403,
        "slow_down": 429,
    },
}
COUNTERS = (
    "device_authorizations", "device_polls", "refresh_requests", "tokens_issued", "refreshes",
    "reuse_detected", "revocations", "approvals", "denials", "unauthorized",
)  # fmt: skip
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An OAuth error answer: the `error` code and its `error_description`."""

    def __init__(self, code: str, description: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.description = description or DESCRIPTIONS.get(code, code)


@dataclass
class DeviceGrant:
    """One device authorization: its codes, what was asked for and where the user is in it."""

    device_code: str
    user_code: str
    scope: str
    audience: str
    expires_at: float  # time.monotonic()
    interval: float
    last_poll: float | None = None
    state: str = "pending"  # pending | approved | denied | redeemed


@dataclass
class Family:
    """A sign-in session: every refresh token rotated from one grant, revoked together."""

    scope: str
    audience: str
    revoked: bool = False


@dataclass
class RefreshEntry:
    """One refresh token: its family and whether it was already exchanged."""

    family: str
    used: bool = False


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of an unpadded base64url string (ValueError when malformed)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Makes and checks HS256 JWTs with a random per-instance secret."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def _signature(self, signing_input: str) -> str:
        digest = hmac.new(self._secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        return b64url(digest)

    def sign(self, claims: Mapping[str, Any], typ: str) -> str:
        """A compact JWT carrying `claims`, with `typ` in its header."""
        header = b64url(json.dumps({"alg": "HS256", "typ": typ, "kid": "sandbox"}).encode())
        payload = b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
        return f"{header}.{payload}.{self._signature(f'{header}.{payload}')}"

    def verify(self, token: str, typ: str) -> dict[str, Any] | None:
        """The claims of a token this signer made with `typ`, or None (malformed, tampered)."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        expected = self._signature(f"{parts[0]}.{parts[1]}")
        if not hmac.compare_digest(expected, parts[2]):
            return None
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
        except ValueError:
            return None
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            return None
        if header.get("typ") != typ or not isinstance(claims, dict):
            return None
        return claims


def json_number(value: float) -> int | float:
    """An integral float as an int (5.0 -> 5), anything else unchanged."""
    return int(value) if float(value).is_integer() else value


def normalize_user_code(text: str) -> str:
    """A user code as typed (any case, dashes, spaces) in its stored form: 8 capitals."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def parse_form(headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
    """The fields of a form-encoded (or flat JSON) body; OAuthError invalid_request otherwise."""
    if body is None:
        raise OAuthError("invalid_request", "The request body is too large.")
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
        if media_type == "application/json":
            data = json.loads(text or "{}")
            if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
                raise ValueError("not a flat object of strings")
            return data
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=False)
    except (ValueError, RecursionError) as exc:
        raise OAuthError("invalid_request", "The request body cannot be parsed.") from exc
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:
        raise OAuthError("invalid_request", f"Parameter {repeated[0]} was given more than once.")
    return {name: values[0] for name, values in fields.items()}


def required(form: Mapping[str, str], name: str) -> str:
    """A form field that must be present and non-empty."""
    value = form.get(name, "")
    if not value:
        raise OAuthError("invalid_request", f"Missing required parameter: {name}")
    return value


def oauth_json(status: int, payload: Mapping[str, Any]) -> Response:
    """A JSON answer of the authorization server (never cached)."""
    return Response(status, json.dumps(dict(payload)).encode(), headers=dict(NO_STORE))


class IdentityProvider:
    """An Auth0-like authorization server for one public client and one demo user; thread-safe.

    client_id: the only client accepted (others get invalid_client).
    audience: the API identifier access tokens are issued for (and checked against).
    token_ttl: access (and ID) token lifetime in seconds.
    device_code_ttl: device and user code lifetime in seconds (`expires_in`).
    device_interval: the polling interval in seconds; a float is allowed here (RFC 8628 says
        integer seconds) so that tests can poll fast.
    slow_down_step: seconds added to a grant's interval on each slow_down (RFC 8628: 5).
    user_name, user_email, user_sub: the demo user's ID token claims and subject.
    error_statuses: "rfc" (OAuth errors are 400, invalid_client 401) or "auth0" (403/429 as Auth0).
    max_pending: device grants kept at once; more device-code requests get 429.

    The approval page takes POSTs from its own origin only, and limits wrong user codes per
    client and in all (``guard.WrongCodes``): past the total, every pending code is void.
    """

    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        audience: str = DEFAULT_AUDIENCE,
        token_ttl: float = 3600.0,
        device_code_ttl: float = 600.0,
        device_interval: float = 5.0,
        slow_down_step: float = 5.0,
        user_name: str = "Ada Lovelace",
        user_email: str = "ada@example.com",
        user_sub: str = "auth0|sandbox-ada",
        error_statuses: str = "rfc",
        max_pending: int = MAX_PENDING,
    ) -> None:
        if error_statuses not in ERROR_STATUSES:
            raise ValueError(f"error_statuses must be one of {', '.join(ERROR_STATUSES)}")
        if token_ttl <= 0 or device_code_ttl <= 0 or device_interval < 0:
            raise ValueError("token_ttl and device_code_ttl must be > 0, device_interval >= 0")
        self.client_id = client_id
        self.audience = audience
        self.token_ttl = token_ttl
        self.device_code_ttl = device_code_ttl
        self.device_interval = device_interval
        self.slow_down_step = slow_down_step
        self.user = {"sub": user_sub, "name": user_name, "email": user_email}
        self.error_statuses = error_statuses
        self.issuer = "http://127.0.0.1/"  # set by the Sandbox once bound
        self._signer = Signer()
        self._lock = threading.Lock()
        self.max_pending = max_pending
        self._devices: dict[str, DeviceGrant] = {}
        self._order: deque[str] = deque()  # device codes by expiry (one lifetime for all)
        self._wrong = WrongCodes()
        self._user_codes: dict[str, str] = {}  # normalized user code -> device code
        self._families: dict[str, Family] = {}
        self._refresh: dict[str, RefreshEntry] = {}
        self._counts: Counter[str] = Counter()
        self._issued: list[str] = []  # every token and device code handed out (test hook)

    # -- dispatch hooks -------------------------------------------------------------------------

    @staticmethod
    def serves(path: str) -> bool:
        """Whether a request path is one of the identity provider's routes."""
        return path in ROUTES

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes | None
    ) -> Response:
        """Answer a request to one of ROUTES."""
        allowed = ROUTES[path]
        if method not in allowed:
            body_405 = {"error": "invalid_request", "error_description": "Method Not Allowed"}
            response = oauth_json(405, body_405)
            response.headers["Allow"] = ", ".join(allowed)
            return response
        if path == "/activate":
            peer = str(headers.get(PEER_HEADER) or "-")
            if self._wrong.blocked(peer, time.monotonic()):
                return result_page(429, "Too many tries",
                                   "Too many wrong codes were entered; wait, then try again.")
            if method == "GET":
                return self._activate_get(query, peer)
            if cross_site(headers, self.issuer):
                return result_page(403, "Refused", "Approvals are only taken from this page.")
            return self._activate_post(body, peer)
        try:
            form = parse_form(headers, body)
            if path == "/oauth/device/code":
                return self._device_code(form)
            if path == "/oauth/token":
                return self._token(form)
            return self._revoke(form)
        except OAuthError as exc:
            return self._error(exc)

    def refuse(self, headers: Mapping[str, str], instance: str) -> Response | None:
        """None when the request carries a valid access token, else the API's 401 answer."""
        reason = self._bearer_problem(headers.get("authorization", ""))
        if reason is None:
            return None
        with self._lock:
            self._counts["unauthorized"] += 1
        response = problem(401, "Unauthorized", reason, instance)
        escaped = reason.replace("\\", "\\\\").replace('"', '\\"')
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="exalsius-sandbox", error="invalid_token", error_description="{escaped}"'
        )
        return response

    # -- test hooks -----------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Counters: device_authorizations, device_polls, refresh_requests, tokens_issued, ..."""
        with self._lock:
            return {name: self._counts[name] for name in COUNTERS}

    def interval(self, user_code: str) -> float | None:
        """The current polling interval of a device grant (grown by slow_down), or None."""
        with self._lock:
            grant = self._grant_by_user_code(user_code)
            return None if grant is None else grant.interval

    def issued_secrets(self) -> list[str]:
        """Every access, ID and refresh token and every device code issued so far (leak tests)."""
        with self._lock:
            return list(self._issued)

    def revoke_all(self) -> None:
        """Revoke every session: all refresh tokens and the access tokens issued with them."""
        with self._lock:
            for family in self._families.values():
                family.revoked = True

    # -- endpoints ------------------------------------------------------------------------------

    def _check_client(self, form: Mapping[str, str]) -> None:
        if form.get("client_id") != self.client_id:
            raise OAuthError("invalid_client")

    def _error(self, exc: OAuthError) -> Response:
        status = ERROR_STATUSES[self.error_statuses].get(exc.code, 400)
        return oauth_json(status, {"error": exc.code, "error_description": exc.description})

    def _device_code(self, form: Mapping[str, str]) -> Response:
        self._check_client(form)
        audience = form.get("audience") or self.audience
        if audience != self.audience:
            raise OAuthError("invalid_request", f"Service not found: {audience}")
        grant = DeviceGrant(
            device_code=secrets.token_urlsafe(32),
            user_code=self._new_user_code(),
            scope=form.get("scope", ""),
            audience=audience,
            expires_at=time.monotonic() + self.device_code_ttl,
            interval=self.device_interval,
        )
        with self._lock:
            self._purge(time.monotonic())
            if len(self._devices) >= self.max_pending:
                raise OAuthError("too_many_requests")
            self._devices[grant.device_code] = grant
            self._order.append(grant.device_code)
            self._user_codes[normalize_user_code(grant.user_code)] = grant.device_code
            self._counts["device_authorizations"] += 1
            self._issued.append(grant.device_code)
        uri = f"{self.issuer}activate"
        return oauth_json(
            200,
            {
                "device_code": grant.device_code,
                "user_code": grant.user_code,
                "verification_uri": uri,
                "verification_uri_complete": f"{uri}?user_code={quote(grant.user_code)}",
                "expires_in": math.ceil(self.device_code_ttl),
                "interval": json_number(self.device_interval),
            },
        )

    def _token(self, form: Mapping[str, str]) -> Response:
        grant_type = required(form, "grant_type")
        self._check_client(form)
        if grant_type == DEVICE_GRANT:
            return self._device_token(required(form, "device_code"))
        if grant_type == REFRESH_GRANT:
            return self._refresh_token(required(form, "refresh_token"), form.get("scope"))
        raise OAuthError("unsupported_grant_type", f"Unsupported grant type: {grant_type}")

    def _device_token(self, device_code: str) -> Response:
        now = time.monotonic()
        with self._lock:
            self._counts["device_polls"] += 1
            grant = self._devices.get(device_code)
            if grant is None:
                raise OAuthError("invalid_grant", "Invalid or unknown device code.")
            self._poll(grant, now)
            grant.state = "redeemed"
            family_id = self._new_family(grant.scope, grant.audience)
            return self._issue(family_id)

    def _poll(self, grant: DeviceGrant, now: float) -> None:
        """Raise the OAuthError this poll of a device grant earns, if any (lock held)."""
        if now >= grant.expires_at:
            raise OAuthError("expired_token")
        too_soon = grant.last_poll is not None and now - grant.last_poll < grant.interval
        grant.last_poll = now
        if too_soon:
            grant.interval += self.slow_down_step
            detail = f"You are polling faster than the interval of {grant.interval:g} seconds."
            raise OAuthError("slow_down", detail)
        if grant.state == "denied":
            raise OAuthError("access_denied")
        if grant.state == "pending":
            raise OAuthError("authorization_pending")
        if grant.state == "redeemed":
            raise OAuthError("invalid_grant", "The device code was already redeemed.")

    def _refresh_token(self, token: str, scope: str | None) -> Response:
        with self._lock:
            self._counts["refresh_requests"] += 1
            entry = self._refresh.get(token)
            if entry is None or self._families[entry.family].revoked:
                raise OAuthError("invalid_grant", "Unknown or invalid refresh token.")
            if entry.used:
                self._families[entry.family].revoked = True
                self._counts["reuse_detected"] += 1
                raise OAuthError("invalid_grant", "Unknown or invalid refresh token.")
            granted = set(self._families[entry.family].scope.split())
            if scope and not set(scope.split()) <= granted:
                raise OAuthError("invalid_scope", "The requested scope exceeds the granted one.")
            entry.used = True
            self._counts["refreshes"] += 1
            return self._issue(entry.family)

    def _revoke(self, form: Mapping[str, str]) -> Response:
        self._check_client(form)
        token = required(form, "token")
        with self._lock:
            entry = self._refresh.get(token)
            if entry is not None:
                self._families[entry.family].revoked = True
                self._counts["revocations"] += 1
        return Response(200, b"", headers=dict(NO_STORE))

    def _unknown(self, shown: str, peer: str) -> Response:
        """The page for a wrong code, counted; past the total limit every pending code is void."""
        now = time.monotonic()
        if self._wrong.record(peer, now):
            with self._lock:
                for grant in self._devices.values():
                    if grant.state == "pending":
                        grant.expires_at = min(grant.expires_at, now)
        return result_page(400, "Unknown code", f"The code {shown} is unknown or has expired.")

    def _activate_get(self, query: str, peer: str) -> Response:
        values = parse_qs(query, keep_blank_values=True).get("user_code") or [""]
        shown = values[0]
        if not shown:
            return activate_page(None, "")
        with self._lock:
            grant = self._grant_by_user_code(shown)
            refused = self._undecidable(grant, shown)
        if refused is not None or grant is None:  # no grant: refused is the 400 page
            return self._unknown(shown, peer) if refused is None or refused.status == 400 \
                else refused
        return activate_page(grant.user_code, grant.scope)

    def _activate_post(self, body: bytes | None, peer: str) -> Response:
        try:
            form = parse_form({}, body)
        except OAuthError:
            return result_page(400, "Bad request", "The form cannot be read.")
        action, shown = form.get("action", ""), form.get("user_code", "")
        if action not in ("approve", "deny"):
            return result_page(400, "Bad request", "The action must be approve or deny.")
        with self._lock:
            grant = self._grant_by_user_code(shown)
            refused = self._undecidable(grant, shown)
            if refused is None and grant is not None:
                grant.state = "approved" if action == "approve" else "denied"
                self._counts["approvals" if action == "approve" else "denials"] += 1
        if refused is not None or grant is None:  # no grant: refused is the 400 page
            return self._unknown(shown, peer) if refused is None or refused.status == 400 \
                else refused
        if action == "approve":
            return result_page(200, "Device approved", "You can close this page and go back.")
        return result_page(200, "Access denied", "The device was not signed in.")

    # -- bearer check ---------------------------------------------------------------------------

    def _bearer_problem(self, authorization: str) -> str | None:
        """Why an Authorization header does not grant API access, or None when it does."""
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "A bearer access token is required."
        claims = self._signer.verify(token.strip(), "at+jwt")
        if claims is None:
            return "The access token is malformed or its signature is invalid."
        if claims.get("iss") != self.issuer or claims.get("aud") != self.audience:
            return "The access token was not issued for this API."
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= time.time():
            return "The access token has expired."
        with self._lock:
            family = self._families.get(str(claims.get("sid")))
            if family is None or family.revoked:
                return "The access token was revoked."
        return None

    # -- state helpers (lock held) --------------------------------------------------------------

    def _new_user_code(self) -> str:
        letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
        return f"{letters[:4]}-{letters[4:]}"

    def _grant_by_user_code(self, user_code: str) -> DeviceGrant | None:
        device_code = self._user_codes.get(normalize_user_code(user_code))
        return None if device_code is None else self._devices.get(device_code)

    @staticmethod
    def _undecidable(grant: DeviceGrant | None, shown: str) -> Response | None:
        """The page refusing to approve or deny `grant` (400 unknown/expired, 409 used), or None."""
        if grant is None or (grant.state == "pending" and time.monotonic() >= grant.expires_at):
            return result_page(400, "Unknown code", f"The code {shown} is unknown or has expired.")
        if grant.state != "pending":
            return result_page(409, "Already decided", f"The code {shown} was already used.")
        return None

    def _purge(self, now: float) -> None:
        """Forget device grants that expired more than GRACE seconds ago (oldest first)."""
        while self._order:
            grant = self._devices.get(self._order[0])
            if grant is not None and now <= grant.expires_at + GRACE:
                break
            self._order.popleft()
            if grant is not None:
                del self._devices[grant.device_code]
                self._user_codes.pop(normalize_user_code(grant.user_code), None)

    def _new_family(self, scope: str, audience: str) -> str:
        family_id = secrets.token_hex(8)
        self._families[family_id] = Family(scope, audience)
        return family_id

    def _issue(self, family_id: str) -> Response:
        """A token response for a session: access, ID (openid) and refresh (offline_access)."""
        family = self._families[family_id]
        now = time.time()
        iat, exp = int(now), math.ceil(now) + math.ceil(self.token_ttl)
        claims = {"iss": self.issuer, "sub": self.user["sub"], "iat": iat, "exp": exp}
        access = {
            **claims,
            "aud": family.audience,
            "azp": self.client_id,
            "scope": family.scope,
            "sid": family_id,
            "jti": secrets.token_hex(8),
        }
        body: dict[str, Any] = {
            "access_token": self._signer.sign(access, "at+jwt"),
            "token_type": "Bearer",
            "expires_in": math.ceil(self.token_ttl),
            "scope": family.scope,
        }
        scopes = family.scope.split()
        if "openid" in scopes:
            id_claims = {**claims, "aud": self.client_id, "sid": family_id}
            body["id_token"] = self._signer.sign({**id_claims, **self._profile(scopes)}, "JWT")
        if "offline_access" in scopes:
            refresh = secrets.token_urlsafe(32)
            self._refresh[refresh] = RefreshEntry(family_id)
            body["refresh_token"] = refresh
        self._counts["tokens_issued"] += 1
        self._issued.extend(body[k] for k in ("access_token", "id_token", "refresh_token")
                            if k in body)
        return oauth_json(200, body)

    def _profile(self, scopes: list[str]) -> dict[str, Any]:
        """The demo user's ID token claims the scopes ask for (profile: name, email: email).

        profile also brings ``nickname``, the email's local part, as Auth0 derives it: exls
        refuses an ID token without one.
        """
        claims: dict[str, Any] = {}
        if "profile" in scopes:
            claims.update(name=self.user["name"], nickname=self.user["email"].partition("@")[0])
        if "email" in scopes:
            claims.update(email=self.user["email"], email_verified=True)
        return claims


# -- the approval page ------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · exalsius sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem}}
.code{{font:700 2.2rem ui-monospace,monospace;letter-spacing:.15em}}
button{{font-size:1rem;padding:.5rem 1.4rem;margin-right:.6rem}}</style>
</head><body><main><h1>{title}</h1>
{content}
</main></body></html>
"""
HTML_HEADERS = {
    **NO_STORE,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",  # no-referrer would make the form's Origin "null"
    "X-Frame-Options": "DENY",
}
BUTTONS = (
    '<p><button type="submit" name="action" value="approve">Approve</button>'
    '<button type="submit" name="action" value="deny">Deny</button></p>'
)


def html_page(status: int, title: str, content: str) -> Response:
    """An HTML answer; `title` is escaped here, `content` must already be safe markup."""
    text = PAGE.format(title=escape(title), content=content)
    return Response(status, text.encode(), "text/html; charset=utf-8", dict(HTML_HEADERS))


def result_page(status: int, title: str, message: str) -> Response:
    """A page with a title and one (escaped) message."""
    return html_page(status, title, f'<p id="message">{escape(message)}</p>')


def activate_page(user_code: str | None, scope: str) -> Response:
    """The approval form: POSTs user_code and action=approve|deny to /activate."""
    if user_code is None:
        intro = "<p>Enter the code shown on your device.</p>"
        field = '<p><input name="user_code" autocomplete="off" required autofocus></p>'
    else:
        code = escape(user_code)
        intro = "<p>Confirm that this code matches the one shown on your device.</p>"
        field = (
            f'<p class="code" id="user-code">{code}</p>'
            f'<input type="hidden" name="user_code" value="{code}">'
            f"<p>Requested access: {escape(scope) or '(none)'}</p>"
        )
    form = f'<form method="post" action="/activate">{field}{BUTTONS}</form>'
    return html_page(200, "Sign in to the exalsius sandbox", intro + form)
