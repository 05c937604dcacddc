"""The kernel's sign-in as one state: none → pending (a code shown) → signed in → ended.

``SignInState`` is owned by the session; the terminal (``login()``) and the login widget both go
through ``begin``/``finish``, and both name an ended sign-in with ``outcome``. It knows where a
sign-in's token comes from while pending, and what a logout did (``SignOut``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..api.bearer import TokenSource
from ..durations import expiry_text
from ..errors import (
    AuthenticationError,
    ExalsiusError,
    KeyringError,
    SignInCancelledError,
    SignInDeniedError,
    SignInError,
    SignInExpiredError,
    signed_out,
)
from .device import LINK_WARNING, DeviceCode, DeviceLogin
from .keyring_store import KeyringTokens
from .provider import revoke
from .renewal import RenewingTokens
from .settings import AuthSettings
from .tokens import Tokens

PENDING_WAIT = 20.0  # seconds a call that needs the token waits for a pending sign-in
SIGNED_OUT_HERE = "signed out with %exalsius logout"


def print_code(code: DeviceCode) -> None:
    """Print what to open and which code to check (the terminal's sign-in)."""
    warning = "" if code.link_is_safe else f" (⚠ {LINK_WARNING})"
    print(f"To sign in to exalsius, open {code.verification_uri_complete}{warning}\n"
          f"and check that it shows the code {code.user_code} (expires in "
          f"{int(code.expires_in()) // 60} min). Waiting for approval; Ctrl-C cancels.",
          flush=True)


def outcome(exc: BaseException) -> tuple[str, str]:
    """How a sign-in that raised ``exc`` ended: (state, one line for people)."""
    if isinstance(exc, SignInCancelledError):
        return "cancelled", "Sign-in cancelled."
    if isinstance(exc, SignInDeniedError):
        return "denied", "Sign-in denied on the approval page."
    if isinstance(exc, SignInExpiredError):
        return "expired", "The code expired before it was approved; run %exalsius login again."
    if isinstance(exc, ExalsiusError):
        return "failed", str(exc)
    return "failed", f"sign-in failed: {type(exc).__name__}"


class PendingSignIn:
    """A device sign-in that is waiting for the user's approval; it knows no token.

    Args:
        code: what the user must approve (the link carries the user code only).
        settings: where the sign-in happens.
        cancel: stops the polling (Cancel, logout, a newer login).
    """

    def __init__(self, code: DeviceCode, settings: AuthSettings,
                 cancel: Callable[[], None]) -> None:
        self.code = code
        self.settings = settings
        self._cancel = cancel
        self.done = threading.Event()
        self.outcome = ""  # why it ended without a sign-in ("" while pending or signed in)

    @property
    def what_to_do(self) -> str:
        """What the user must finish, and where (the link with the user code only)."""
        warning = "" if self.code.link_is_safe else f" (⚠ {LINK_WARNING})"
        return (f"open {self.code.verification_uri_complete}{warning} and approve the code "
                f"{self.code.user_code}")

    def cancel(self) -> None:
        """Stop waiting for the approval."""
        self._cancel()

    def end(self, why: str) -> None:
        """Stop waiting, and say why it ended without a sign-in."""
        self.cancel()
        self.outcome = why
        self.done.set()

    def __repr__(self) -> str:
        state = "pending" if not self.done.is_set() else (self.outcome or "done")
        return f"<PendingSignIn {state}: {self.what_to_do}>"


class _PendingToken:
    """The credential while a sign-in is pending: waits (bounded) for it, then uses its result."""

    renewable = True  # a 401 is answered by the sign-in's own renewal

    def __init__(self, state: SignInState, pending: PendingSignIn) -> None:
        self._state = state
        self.pending = pending

    def _settled(self) -> TokenSource:
        if not self.pending.done.wait(self._state.pending_wait):
            raise AuthenticationError(
                f"sign-in pending: {self.pending.what_to_do}, then run this again", status=401)
        signed = self._state.signed
        if signed is None:
            raise signed_out(self.pending.outcome or "the sign-in did not complete")
        return signed

    def token(self) -> str:
        """The token of the sign-in once it completed (waits at most ``pending_wait`` s)."""
        return self._settled().token()

    def refresh(self, stale: str | None = None) -> str:
        """Renew through the completed sign-in."""
        return self._settled().refresh(stale)

    def describe(self) -> str:
        """The pending sign-in (link and user code only), or what replaced it."""
        if not self.pending.done.is_set():
            return f"notebook sign-in (pending: {self.pending.what_to_do})"
        signed = self._state.signed
        if signed is None:
            return f"not signed in ({self.pending.outcome or 'the sign-in did not complete'})"
        return signed.describe()

    def __repr__(self) -> str:
        return f"<credential {self.describe()}>"


class NoSignIn:
    """The credential of an auth-mode sandbox nobody signed in to: every use says so."""

    renewable = False

    def token(self) -> str:
        """Raises "signed out: run %exalsius login"."""
        raise signed_out()

    def refresh(self, stale: str | None = None) -> str:
        """Raises "signed out: run %exalsius login"."""
        return self.token()

    def describe(self) -> str:
        """Not signed in."""
        return "not signed in (the sandbox's API needs %exalsius login)"

    def __repr__(self) -> str:
        return f"<credential {self.describe()}>"


@dataclass
class SignOut:
    """What a logout did, for one line each: revoked, nothing to revoke, or could not revoke."""

    everywhere: bool = False
    revoked: int = 0  # refresh tokens the issuer revoked
    nothing_to_revoke: bool = False  # no refresh token (a sign-in without offline_access)
    access_valid_until: datetime | None = None  # an access token that could not be revoked
    problems: list[str] = field(default_factory=list)  # why revoking failed
    keyring: list[str] = field(default_factory=list)  # why the keyring was not cleared

    @property
    def notes(self) -> list[str]:
        """One line per problem (revoking first, then the keyring)."""
        return [*self.problems, *(f"keyring: {k}" for k in self.keyring)]

    def summary(self) -> str:
        """What happened, in one sentence."""
        if not self.everywhere:
            return ("Signed out: this kernel forgot its sign-in (%exalsius logout --everywhere "
                    "also ends the session at the server and in the keyring).")
        what = "Signed out everywhere: this kernel forgot its sign-in"
        if self.problems:
            what += "; the session could not be revoked"
        elif self.revoked:
            what += "; the session was revoked"
        else:
            what += "; there was no refresh token to revoke (the sign-in had no offline_access)"
            if self.access_valid_until is not None:
                what += (f", so its access token works until it "
                         f"{expiry_text(self.access_valid_until).removeprefix('expires ')}")
        what += ("; the keyring was not cleared" if self.keyring
                 else "; the exls keyring entries are cleared")
        return what + "."


class SignInState:
    """The kernel's device sign-in: none, pending, or signed in; ended by logout or replacement.

    Args:
        lock: the owner's lock, held while the state changes.
        changed: called (lock held) whenever the credential may differ, with whether the
            client must be rebuilt (False from a polling thread: a pending credential asks
            this state again once the sign-in ended).
        pending_wait: seconds a call that needs the token waits for a pending sign-in.
    """

    def __init__(self, lock: threading.RLock, changed: Callable[[bool], None],
                 pending_wait: float = PENDING_WAIT) -> None:
        self._lock = lock
        self._changed = changed
        self.pending_wait = pending_wait
        self.signed: RenewingTokens | None = None
        self.pending: PendingSignIn | None = None
        self.typed: str | None = None  # a token typed with %exalsius login --token (memory only)

    def set_typed(self, token: str | None) -> None:
        """Use a typed token (None: forget it); it replaces the sign-in."""
        with self._lock:
            self.typed = token or None
            if self.typed is not None:
                self.forget("replaced by a token typed with %exalsius login --token")
            self._changed(True)

    def credential(self) -> TokenSource | None:
        """The sign-in's token source: signed in, waiting on a pending one, or None."""
        if self.signed is not None:
            return self.signed
        return _PendingToken(self, self.pending) if self.pending is not None else None

    def begin(self, code: DeviceCode, settings: AuthSettings,
              cancel: Callable[[], None]) -> PendingSignIn:
        """Record a device sign-in waiting for approval (cancelling an older one)."""
        pending = PendingSignIn(code, settings, cancel)
        with self._lock:
            older, self.pending = self.pending, pending
            self._changed(True)
        if older is not None:
            older.cancel()
        return pending

    def finish(self, pending: PendingSignIn, tokens: Tokens | None,
               why: str = "") -> RenewingTokens | None:
        """End a pending sign-in: with ``tokens`` it becomes the notebook's sign-in."""
        signed: RenewingTokens | None = None
        with self._lock:
            if self.pending is pending:
                self.pending = None
                if tokens is not None:
                    signed = self._adopt(tokens, pending.settings)
                self._changed(False)
        pending.outcome = "" if signed is not None else (why or "the sign-in ended")
        pending.done.set()
        return signed

    def adopt(self, tokens: Tokens, settings: AuthSettings) -> RenewingTokens:
        """Make ``tokens`` the notebook's sign-in (replacing an older one)."""
        with self._lock:
            signed = self._adopt(tokens, settings)
            self._changed(True)
            return signed

    def _adopt(self, tokens: Tokens, settings: AuthSettings) -> RenewingTokens:
        self._end_signed("replaced by a newer sign-in")
        self.typed = None
        self.signed = RenewingTokens(tokens, settings).renew_ahead()  # #17.5c
        return self.signed

    def _end_signed(self, reason: str) -> None:
        signed, self.signed = self.signed, None
        if signed is not None:
            signed.end(reason)

    def forget(self, reason: str) -> None:
        """Drop the sign-in; clients and clones still holding it are signed out too."""
        with self._lock:
            self._end_signed(reason)
            self._changed(True)

    def end_pending(self, why: str, issuer: str | None = None) -> None:
        """Cancel a pending sign-in (only one at ``issuer``, when given)."""
        with self._lock:
            pending = self.pending
            if pending is None or (issuer is not None and pending.settings.issuer_url != issuer):
                return
            self.pending = None
            self._changed(True)
        pending.end(why)

    def login(self, settings: AuthSettings, on_code: Callable[[DeviceCode], None],
              cancel: threading.Event | None = None) -> RenewingTokens:
        """The device sign-in, blocking: show the code with ``on_code``, wait for approval.

        Raises SignInError subclasses (denied, expired, cancelled) in one line; Ctrl-C cancels.
        """
        login = DeviceLogin(settings)
        stop = cancel or threading.Event()
        try:
            code = login.start()
            pending = self.begin(code, settings, stop.set)
            on_code(code)
            try:
                tokens = login.wait(stop)
            except KeyboardInterrupt:
                stop.set()
                self.finish(pending, None, "sign-in cancelled")
                raise SignInCancelledError("sign-in cancelled") from None
            except ExalsiusError as exc:
                self.finish(pending, None, outcome(exc)[1])
                raise
        finally:
            login.close()
        signed = self.finish(pending, tokens)
        if signed is None:  # a newer sign-in or a logout came in between
            raise SignInCancelledError("sign-in cancelled: replaced, or signed out meanwhile")
        return signed

    def save(self) -> None:
        """Store the sign-in in the ``exls`` keyring entries and keep them current."""
        signed = self.signed
        if signed is None:
            raise signed_out("nothing to save")
        store = KeyringTokens(signed.settings)
        store.save(signed.tokens)
        signed.on_refresh, signed.reload = store.save, store.load
        signed.exclusive = store.exclusive

    def sign_out(self, settings: AuthSettings, *, everywhere: bool,
                 keyring_allowed: bool) -> SignOut:
        """Forget the sign-in, cancel a pending one; ``everywhere``: revoke, clear the keyring.

        ``keyring_allowed`` is False for a sandbox: its sign-ins are never stored there.
        """
        self.end_pending(SIGNED_OUT_HERE)
        with self._lock:
            signed, self.signed, self.typed = self.signed, None, None
            self._changed(True)
        report = SignOut(everywhere=everywhere)
        if everywhere:
            _revoke_everywhere(report, signed, settings, keyring_allowed)
        if signed is not None:
            signed.end(SIGNED_OUT_HERE)
        return report


def _revoke_everywhere(report: SignOut, signed: RenewingTokens | None, settings: AuthSettings,
                       keyring_allowed: bool) -> None:
    """Revoke every refresh token known here and in the keyring; clear the keyring."""
    targets: list[tuple[AuthSettings, str]] = []
    if signed is not None and signed.tokens.refresh_token:
        targets.append((signed.settings, signed.tokens.refresh_token))
    store = KeyringTokens(signed.settings if signed is not None else settings)
    stored = None
    if not keyring_allowed:
        report.keyring.append("left alone (a sandbox sign-in is never stored there)")
    else:
        try:
            stored = store.load()
        except KeyringError as exc:
            report.keyring.append(str(exc))
    if stored is not None and stored.refresh_token and all(
            stored.refresh_token != t for _, t in targets):
        targets.append((store.settings, stored.refresh_token))
    for where, refresh_token in targets:
        try:
            revoke(where, refresh_token)
            report.revoked += 1
        except SignInError as exc:
            report.problems.append(f"{exc}; signed out locally")
    if not targets:
        report.nothing_to_revoke = True
        alive = [t.expires_at for t in (signed.tokens if signed else None, stored)
                 if t is not None and t.expires_in() > 0]
        report.access_valid_until = max(alive) if alive else None
    if not report.keyring:
        try:
            store.clear()
        except KeyringError as exc:
            report.keyring.append(str(exc))
