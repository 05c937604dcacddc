"""The kernel's session: the ONE owner of the client, its settings, the credential and the sandbox.

The magics change it (``%config Exalsius.*``, ``login``, ``logout``, ``sandbox start``); the
widgets and the magics' commands read their client from it. Nothing else keeps a copy of this
state. Scripts use it without the magic::

    session = Session(Settings(auth_domain="exalsius.eu.auth0.com"))
    session.login()            # device sign-in: prints the link and the code, waits
    session.client().list_workspaces()

Where the token comes from (``token_source()``), highest first: a token typed with
``%exalsius login --token`` (the explicit token) > ``EXALSIUS_TOKEN`` > the notebook's sign-in
(``%exalsius login``, or one still pending) > ``token_command`` > the ``exls`` keyring entries.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any

from .errors import ExalsiusError, InsecureTransportError
from .settings import Settings, client_settings

if TYPE_CHECKING:  # the client (requests, urllib3) is imported when one is first built
    from .api.bearer import TokenSource
    from .api.client import ExalsiusClient
    from .auth.device import DeviceCode
    from .auth.renewal import RenewingTokens
    from .auth.settings import AuthSettings
    from .auth.sign_in import PendingSignIn, SignInState, SignOut
    from .auth.tokens import Tokens
    from .sandbox import Sandbox

PENDING_WAIT = 20.0  # seconds a call that needs the token waits for a pending sign-in


class Session:
    """The client of this kernel, built from the settings, the credential and the sandbox.

    Args:
        settings: the initial settings (defaults: the environment, 10 s timeouts).
        auth_settings: where to sign in, overriding the ``auth_*`` settings and the environment.
        pending_wait: seconds a call that needs the token waits for a pending sign-in.
    """

    def __init__(self, settings: Settings | None = None, *,
                 auth_settings: AuthSettings | None = None,
                 pending_wait: float = PENDING_WAIT) -> None:
        self._lock = threading.RLock()
        self._settings = settings or Settings()
        self._auth_override = auth_settings
        self._pending_wait = pending_wait
        self._state: SignInState | None = None  # made on first use (it imports requests)
        self._source: TokenSource | None = None
        self._source_ready = False
        self._sandbox: Sandbox | None = None
        self._sandbox_options = ""
        self._client: ExalsiusClient | None = None
        self._pinned = False

    # -- state ------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The current settings."""
        return self._settings

    @property
    def sign_in_state(self) -> SignInState:
        """The kernel's sign-in: none, pending, or signed in (made on first use)."""
        with self._lock:
            if self._state is None:
                from .auth.sign_in import SignInState

                self._state = SignInState(self._lock, self._changed, self._pending_wait)
            return self._state

    @property
    def pending_wait(self) -> float:
        """Seconds a call that needs the token waits for a pending sign-in."""
        return self._pending_wait

    @pending_wait.setter
    def pending_wait(self, seconds: float) -> None:
        self._pending_wait = seconds
        if self._state is not None:
            self._state.pending_wait = seconds

    @property
    def token(self) -> str | None:
        """The token typed with ``%exalsius login --token`` (kept in memory only), if any."""
        return self._state.typed if self._state is not None else None

    @property
    def sign_in(self) -> RenewingTokens | None:
        """The notebook's device sign-in (``%exalsius login``), if any."""
        return self._state.signed if self._state is not None else None

    @property
    def pending(self) -> PendingSignIn | None:
        """The device sign-in waiting for approval, if any."""
        return self._state.pending if self._state is not None else None

    @property
    def sandbox(self) -> Sandbox | None:
        """The in-process sandbox this session points at, if one runs."""
        return self._sandbox

    @property
    def sandbox_options(self) -> str:
        """How the running sandbox was started, for messages."""
        return self._sandbox_options

    @property
    def auth_settings(self) -> AuthSettings:
        """Where to sign in: the auth-mode sandbox's issuer, else the settings/environment."""
        from .auth.settings import AuthSettings

        sandbox = self._sandbox
        if sandbox is not None and sandbox.idp is not None and sandbox.issuer_url:
            return AuthSettings(issuer=sandbox.issuer_url, client_id=sandbox.idp.client_id,
                                audience=sandbox.idp.audience)
        if self._auth_override is not None:
            return self._auth_override
        s = self._settings
        return AuthSettings.from_env(domain=s.auth_domain or None,
                                     client_id=s.auth_client_id or None,
                                     audience=s.auth_audience or None)

    def auth_settings_source(self) -> str:
        """Where the sign-in settings come from, for ``%exalsius config``."""
        from .auth.settings import ENV_AUDIENCE, ENV_CLIENT_ID, ENV_DOMAIN

        if self._sandbox is not None and self._sandbox.idp is not None:
            return "the in-process sandbox"
        if self._auth_override is not None:
            return "Session(auth_settings=...)"
        s = self._settings
        if s.auth_domain or s.auth_client_id or s.auth_audience:
            return "%config Exalsius.auth_*"
        if any(os.environ.get(k) for k in (ENV_DOMAIN, ENV_CLIENT_ID, ENV_AUDIENCE)):
            return "EXALSIUS_AUTH_*"
        return "default"

    def configure(self, **changes: Any) -> None:
        """Change settings; if the endpoint or the credential changed, the client is rebuilt."""
        unknown = set(changes) - {f.name for f in fields(self._settings)}
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        with self._lock:
            before = self._settings
            self._settings = replace(before, **changes)
            if any(getattr(before, k) != getattr(self._settings, k)
                   for k in client_settings(type(self._settings)) & set(changes)):
                self._changed()

    def set_token(self, token: str | None) -> None:
        """Use ``token`` (None: forget it) as the explicit token; it replaces a sign-in."""
        self.sign_in_state.set_typed(token)

    # -- signing in (the state, begin/finish included, lives in auth.sign_in) ---------------

    def adopt(self, tokens: Tokens, settings: AuthSettings | None = None) -> RenewingTokens:
        """Make ``tokens`` (e.g. from a DeviceLogin of your own) the notebook's sign-in."""
        return self.sign_in_state.adopt(tokens, settings or self.auth_settings)

    def login(self, on_code: Callable[[DeviceCode], None] | None = None,
              cancel: threading.Event | None = None) -> RenewingTokens:
        """The device sign-in, blocking: show the code (``on_code``, default print), wait.

        Raises SignInError subclasses (denied, expired, cancelled) in one line; Ctrl-C cancels.
        """
        from .auth.sign_in import print_code

        return self.sign_in_state.login(self.auth_settings, on_code or print_code, cancel)

    def save_sign_in(self) -> None:
        """Store the notebook's sign-in in the ``exls`` keyring entries; keep them current."""
        self.sign_in_state.save()

    def logout(self, everywhere: bool = False) -> SignOut:
        """Forget the kernel's sign-in and typed token, cancel a pending sign-in.

        ``everywhere``: also revoke the refresh tokens at the issuer and clear the ``exls``
        keyring entries (cleared even when revoking fails). Says what it did.
        """
        with self._lock:
            settings, at_sandbox = self.auth_settings, self._sandbox is not None
        return self.sign_in_state.sign_out(settings, everywhere=everywhere,
                                           keyring_allowed=not at_sandbox)

    # -- the credential ---------------------------------------------------------------------

    def token_source(self) -> TokenSource | None:
        """The credential in use, by precedence (resolved once per change of state)."""
        with self._lock:
            if not self._source_ready:
                self._source, self._source_ready = self._resolve(), True
            return self._source

    def _resolve(self) -> TokenSource | None:
        from .api.bearer import StaticToken
        from .auth.sign_in import NoSignIn
        from .auth.sources import resolve_token_source

        state = self.sign_in_state
        signed = state.credential()
        sandbox = self._sandbox
        if sandbox is not None:  # your real credentials are never sent to the sandbox
            if sandbox.idp is None:
                return None
            return signed or NoSignIn()
        s = self._settings
        typed = StaticToken(state.typed, "%exalsius login --token") if state.typed else None
        return resolve_token_source(
            typed, os.environ, signed, s.token_command.strip() or None,
            None if s.use_keyring else False, self.auth_settings, s.token_command_timeout)

    def describe_credential(self) -> str:
        """Where the token comes from and when it expires; never the token."""
        try:
            source = self.token_source()
        except ExalsiusError as exc:
            return f"not usable: {exc}"
        return "not set" if source is None else source.describe()

    # -- the sandbox ------------------------------------------------------------------------

    def attach_sandbox(self, sandbox: Sandbox, options: str) -> None:
        """Point the session at a started sandbox (your credentials are not sent to it)."""
        with self._lock:
            self._sandbox, self._sandbox_options = sandbox, options
            self._changed()

    def detach_sandbox(self) -> Sandbox | None:
        """Forget the sandbox (the caller stops it) and any sign-in at its issuer."""
        with self._lock:
            sandbox, self._sandbox, self._sandbox_options = self._sandbox, None, ""
            issuer = sandbox.issuer_url if sandbox is not None else None
            state = self._state
            signed = state.signed if issuer and state is not None else None
            if state is not None and signed is not None and signed.settings.issuer_url == issuer:
                state.forget("the sandbox stopped")
            self._changed()
        if issuer and state is not None:
            state.end_pending("the sandbox stopped", issuer)
        return sandbox

    def pin_client(self, client: ExalsiusClient | None) -> None:
        """Use ``client`` as is until the settings change (None: build from the settings)."""
        with self._lock:
            self._drop_client()
            self._client, self._pinned = client, client is not None

    # -- the client ---------------------------------------------------------------------

    def client(self) -> ExalsiusClient:
        """The client for the current state, built on first use; raises why it cannot be."""
        with self._lock:
            if self._client is None:
                self._client = self.build_client()
            return self._client

    def build_client(self, api_url: str | None = None) -> ExalsiusClient:
        """A new client from the state (``api_url`` overrides the setting, for validation)."""
        from .api.client import ExalsiusClient

        timeout = self._settings.timeout
        if self._sandbox is not None and api_url is None:
            return ExalsiusClient(self._sandbox.url, self.token_source() or "", timeout=timeout)
        url = (api_url if api_url is not None else self._settings.api_url) or None
        if api_url is not None:  # validating a URL: the token's presence is what matters
            from .api.bearer import StaticToken

            source: TokenSource | str = StaticToken("validation") \
                if self._has_credential() else ""
        else:
            source = self.token_source() or ""
        try:
            return ExalsiusClient(url, source, timeout=timeout,
                                  api_key_header=self._settings.api_key_header)
        except InsecureTransportError as err:
            raise InsecureTransportError(
                f"refusing to send credentials over plain http:// to {err.host}; use an "
                "https:// URL (%config Exalsius.api_url or EXALSIUS_API_URL), or %exalsius "
                "logout / unset EXALSIUS_TOKEN for a server without a token",
                host=err.host) from None

    def _has_credential(self) -> bool:
        try:
            return self.token_source() is not None
        except ExalsiusError:
            return True

    def endpoint(self) -> str:
        """The endpoint the settings name, whether or not a client can be built for it."""
        from .api.client import DEFAULT_API_URL

        if self._sandbox is not None:
            return self._sandbox.url
        return self._settings.api_url or os.environ.get("EXALSIUS_API_URL") or DEFAULT_API_URL

    def endpoint_source(self) -> str:
        """Where the endpoint comes from, for ``%exalsius config``."""
        if self._sandbox is not None:
            return "the in-process sandbox"
        if self._settings.api_url:
            return "%config Exalsius.api_url"
        if os.environ.get("EXALSIUS_API_URL"):
            return "EXALSIUS_API_URL"
        return "default"

    def close(self) -> None:
        """Stop the sandbox and close the client this session built."""
        sandbox = self.detach_sandbox()
        if sandbox is not None:
            sandbox.stop()
        with self._lock:
            self._drop_client()

    def reset(self) -> None:
        """A fresh session: stop the sandbox, close the client, sign out, forget the settings."""
        self.close()
        self.logout()
        with self._lock:
            self._settings = type(self._settings)()  # the same declaration, its defaults
            self._changed()

    def _changed(self, rebuild: bool = True) -> None:
        """The credential may differ now (lock held): resolve it again, rebuild the client."""
        self._source, self._source_ready = None, False
        if rebuild:
            self._drop_client()

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None and not self._pinned:
            client.close()
        self._pinned = False


_lock = threading.Lock()
_current: Session | None = None


def current_session() -> Session:
    """The kernel's session, created from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = Session()
        return _current


def get_client() -> ExalsiusClient:
    """The kernel's client: what the magics configure and the widgets use by default."""
    return current_session().client()


def set_client(client: ExalsiusClient | None) -> None:
    """Make ``client`` the default for magics and widgets (None: rebuild from the settings)."""
    current_session().pin_client(client)
