"""Where the API token comes from: token sources that renew themselves, and their precedence.

Precedence of credentials (``resolve_token_source``): an explicit token > ``EXALSIUS_TOKEN`` >
the notebook's sign-in > a credential command (``token_command``) > the ``exls`` keyring entries.
No token is ever part of a repr, a str, an error message or a log record.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import requests

from ..errors import (
    AuthenticationError,
    InvalidResponseError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    ValidationError,
)
from ..text import redact_jwts, untrusted
from . import deadline
from .bearer import TokenSource, check_token
from .oauth import (
    DEFAULT_AUDIENCE,
    DEFAULT_CLIENT_ID,
    DEFAULT_DOMAIN,
    DEFAULT_SCOPE,
    ENV_TOKEN,
    KEYRING_KEYS,
    KEYRING_SERVICE,
    REFRESH_LEEWAY,
    REFRESH_RETRY_AFTER,
    SIGNED_OUT,
    AuthSettings,
    CredentialCommandError,
    DeviceCode,
    DeviceLogin,
    KeyringError,
    SignInCancelledError,
    SignInDeniedError,
    SignInError,
    SignInExpiredError,
    Tokens,
    _claim_time,
    _clip,
    _now,
    expiry_text,
    jwt_claims,
    refresh_tokens,
    revoke,
    signed_out,
)

logger = logging.getLogger(__name__)
LOCK_WAIT = 30.0  # outside a call: the longest wait for another thread's renewal
MAX_COMMAND_OUTPUT = 64 * 1024  # a token command printing more prints no token


# -- token sources ----------------------------------------------------------------------------


class StaticToken:
    """A fixed token (``token=``, ``EXALSIUS_TOKEN``, ``%exalsius login --token``); no renewal.

    Args:
        token: the bearer token.
        name: how ``describe()`` names where it came from.
    """

    renewable = False

    def __init__(self, token: str, name: str = "explicit token") -> None:
        if not isinstance(token, str) or not token.strip():
            raise ValidationError("the token is empty")
        self._token = check_token(token, name)
        self.name = name

    def token(self) -> str:
        """The token as given."""
        return self._token

    def refresh(self, stale: str | None = None) -> str:
        """A fixed token cannot be renewed: always the "signed out" error."""
        raise signed_out(f"the {self.name} was refused and cannot be refreshed")

    @property
    def expires_at(self) -> datetime | None:
        """The token's ``exp`` claim, if it is a JWT."""
        return _claim_time(jwt_claims(self._token), "exp")

    def describe(self) -> str:
        """E.g. "EXALSIUS_TOKEN (expires ... UTC (in 12 min))"."""
        exp = self.expires_at
        return f"{self.name} ({expiry_text(exp)})" if exp else f"{self.name} (expiry unknown)"

    def __repr__(self) -> str:
        return f"<StaticToken {self.describe()}>"


class OAuthSession:
    """A signed-in session: renews its access token shortly before expiry; thread-safe.

    Only one refresh runs at a time; threads that waited for it use its result. A rotated
    refresh token replaces the old one. When renewal fails for good, every call raises
    "signed out: run %exalsius login".

    Args:
        tokens: the tokens of the sign-in.
        settings: the issuer and client the tokens came from.
        on_refresh: called with the new Tokens after each refresh (e.g. to store them).
        reload: called before a refresh; may return newer Tokens stored by someone else (the
            ``exls`` CLI), which are then used instead of refreshing.
        http: a requests session for the refresh requests.
        name: how ``describe()`` names this session.
        leeway: renew at most this many seconds before expiry (or 10 % of the lifetime).
    """

    renewable = True

    def __init__(self, tokens: Tokens, settings: AuthSettings | None = None, *,
                 on_refresh: Callable[[Tokens], None] | None = None,
                 reload: Callable[[], Tokens | None] | None = None,
                 http: requests.Session | None = None, name: str = "notebook sign-in",
                 leeway: float = REFRESH_LEEWAY) -> None:
        self.settings = settings if settings is not None else AuthSettings.from_env()
        self.on_refresh = on_refresh
        self.reload = reload
        self.name = name
        self.leeway = leeway
        self._http = http
        self._tokens = tokens
        self._lock = threading.Lock()  # one refresh at a time
        self._dead: str | None = None  # why renewal failed for good
        self._retry_at = 0.0  # no refresh before this (after a transient failure)
        self.refreshes = 0

    @property
    def tokens(self) -> Tokens:
        """The current tokens (for ``%exalsius login --save``)."""
        return self._tokens

    @property
    def identity(self) -> str | None:
        """Who is signed in (from the ID token, for display only)."""
        return self._tokens.identity

    @property
    def expires_at(self) -> datetime:
        """When the current access token expires."""
        return self._tokens.expires_at

    def _window(self, tokens: Tokens) -> float:
        lifetime = tokens.lifetime
        return self.leeway if lifetime is None else min(self.leeway, 0.1 * lifetime)

    def due(self, tokens: Tokens | None = None) -> bool:
        """Whether the access token is within its renewal window (or expired)."""
        tokens = tokens or self._tokens
        return tokens.expires_in() <= self._window(tokens)

    def token(self) -> str:
        """A valid access token, renewed first when it is about to expire."""
        if self._dead is not None:
            raise signed_out(self._dead)
        seen = self._tokens
        if not self.due(seen):
            return seen.access_token
        return self._renew(seen, forced=False)

    def refresh(self, stale: str | None = None) -> str:
        """Renew now (after a 401); when ``stale`` was already replaced, the newer token."""
        if self._dead is not None:
            raise signed_out(self._dead)
        seen = self._tokens
        if stale is not None and stale != seen.access_token:
            return seen.access_token
        return self._renew(seen, forced=True)

    def _renew(self, seen: Tokens, *, forced: bool) -> str:
        # Waiting for another thread's renewal counts against this call's deadline too.
        if not self._lock.acquire(timeout=max(0.0, deadline.left(LOCK_WAIT))):
            raise RequestTimeoutError("could not renew the session: another call was still "
                                      "renewing it when this call's deadline ended")
        try:
            return self._renew_locked(seen, forced=forced)
        finally:
            self._lock.release()

    def _renew_locked(self, seen: Tokens, *, forced: bool) -> str:
        if self._dead is not None:
            raise signed_out(self._dead)
        if self._tokens is not seen:  # another thread renewed while we waited
            return self._tokens.access_token
        current = self._tokens
        if self.reload is not None:
            newer = self._reloaded(current)
            if newer is not None:
                self._tokens = newer
                if not self.due(newer):
                    return newer.access_token
                current = newer
        still_valid = current.expires_in() > 0 and not forced
        if still_valid and time.monotonic() < self._retry_at:
            return current.access_token
        if not current.refresh_token:
            if still_valid:
                return current.access_token
            self._dead = "the session expired and has no refresh token"
            raise signed_out(self._dead)
        try:
            fresh = refresh_tokens(self.settings, current.refresh_token, self._http,
                                   secrets=(current.access_token, current.id_token))
        except (TransportError, ServerError, InvalidResponseError) as exc:
            # A fault on the way: the sign-in itself may be fine, so it is not ended.
            if still_valid:
                self._retry_at = time.monotonic() + REFRESH_RETRY_AFTER
                logger.warning("could not renew the exalsius session yet: %s", exc)
                return current.access_token
            raise
        except AuthenticationError as exc:
            self._dead = str(exc).removeprefix(SIGNED_OUT).strip(" ()") or "refused"
            raise
        self._tokens = fresh
        self.refreshes += 1
        self._retry_at = 0.0
        if self.on_refresh is not None:
            try:
                self.on_refresh(fresh)
            except Exception as exc:  # storing is best effort; the session goes on
                logger.warning("could not store the renewed exalsius tokens (%s)",
                               type(exc).__name__)
        return fresh.access_token

    def _reloaded(self, current: Tokens) -> Tokens | None:
        """Tokens someone else stored since, if they differ from ours."""
        assert self.reload is not None
        try:
            newer = self.reload()
        except Exception as exc:
            logger.warning("could not re-read the stored exalsius tokens (%s)",
                           type(exc).__name__)
            return None
        if newer is None or newer.access_token == current.access_token:
            return None
        if newer.refresh_token == current.refresh_token and newer.expires_at <= current.expires_at:
            return None
        return newer

    def end(self, reason: str = "signed out") -> None:
        """End this session here (logout): every later call raises "signed out", sends nothing.

        Clients and clones still holding it stop using its tokens at once.
        """
        self._dead = reason

    def describe(self) -> str:
        """E.g. "notebook sign-in as Ada (access token expires ... UTC (in 59 min), renews ...)"."""
        tokens = self._tokens
        who = f" as {tokens.identity}" if tokens.identity else ""
        if self._dead is not None:
            return f"{self.name}{who} (signed out: {self._dead})"
        renews = ", renews automatically" if tokens.refresh_token else ", no refresh token"
        return f"{self.name}{who} (access token {expiry_text(tokens.expires_at)}{renews})"

    def __repr__(self) -> str:
        return f"<OAuthSession {self.describe()}>"


class CommandToken:
    """A credential command such as ``exls get-token``: its stdout is the token.

    It runs with a timeout and without a shell, again once a JWT's ``exp`` is near, and again
    after a 401 (``refresh``). Its stderr is shown, in one line, when it fails.

    Args:
        command: the command line (split with shlex) or its argument list.
        timeout: seconds the command may run.
        env: the environment for the command (default: this process's).
        leeway: re-run this many seconds before a JWT token's ``exp``.
    """

    renewable = True

    def __init__(self, command: str | Sequence[str], timeout: float = 10.0, *,
                 env: Mapping[str, str] | None = None, leeway: float = REFRESH_LEEWAY) -> None:
        try:
            argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
        except ValueError as exc:
            raise ValidationError(f"the token command cannot be parsed: {exc}") from None
        if not argv:
            raise ValidationError("the token command is empty")
        self.argv = argv
        self.timeout = timeout
        self.env = dict(env) if env is not None else None
        self.leeway = leeway
        self._token: str | None = None
        self._lock = threading.Lock()
        self.runs = 0

    @property
    def command(self) -> str:
        """The command line as shown in messages."""
        return shlex.join(self.argv)

    @property
    def expires_at(self) -> datetime | None:
        """The cached token's ``exp`` claim, if it is a JWT."""
        return _claim_time(jwt_claims(self._token), "exp")

    def _fresh(self, token: str | None) -> bool:
        if not token:
            return False
        exp = _claim_time(jwt_claims(token), "exp")
        if exp is None:
            return True  # opaque: used until a 401
        claims_iat = _claim_time(jwt_claims(token), "iat")
        window = self.leeway
        if claims_iat is not None:
            window = min(window, 0.1 * max(0.0, (exp - claims_iat).total_seconds()))
        return (exp - _now()).total_seconds() > window

    def token(self) -> str:
        """The cached token while fresh, else the command's new output."""
        seen = self._token
        if seen is not None and self._fresh(seen):
            return seen
        return self._run_if(seen)

    def refresh(self, stale: str | None = None) -> str:
        """Run the command again (after a 401), unless ``stale`` was already replaced."""
        seen = self._token
        if stale is not None and seen is not None and stale != seen:
            return seen
        return self._run_if(seen)

    def _run_if(self, seen: str | None) -> str:
        # Waiting for another thread's run counts against this call's deadline too.
        if not self._lock.acquire(timeout=max(0.0, deadline.left(self.timeout + 1.0))):
            raise RequestTimeoutError(f"token command {_clip(self.command, 80)!r} was still "
                                      "running for another call when this call's deadline ended")
        try:
            if self._token is not seen and self._token is not None:
                return self._token
            self._token = self._run()
            return self._token
        finally:
            self._lock.release()

    def _run(self) -> str:
        self.runs += 1
        shown = _clip(self.command, 80)
        timeout = deadline.left(self.timeout)
        if timeout <= 0:
            raise RequestTimeoutError(f"token command {shown!r} not run: no time was left "
                                      "within the call's deadline")
        try:
            proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=self.env, start_new_session=os.name == "posix")
        except OSError as exc:
            reason = "not found" if isinstance(exc, FileNotFoundError) else type(exc).__name__
            raise CredentialCommandError(f"token command {shown!r} could not run: {reason}") \
                from None
        out, err, cut = _communicate(proc, timeout, MAX_COMMAND_OUTPUT)
        if cut == "timeout":
            why = "" if timeout >= self.timeout else " (what was left of the call's deadline)"
            raise CredentialCommandError(
                f"token command {shown!r} timed out after {timeout:.3g} s{why}")
        if cut == "too much":
            raise CredentialCommandError(
                f"token command {shown!r} printed more than {MAX_COMMAND_OUTPUT // 1024} KiB, "
                "which is no token; it was stopped")
        stdout = out.decode("utf-8", "replace").strip()
        stderr = untrusted(redact_jwts(err.decode("utf-8", "replace")), (stdout,))
        if proc.returncode != 0:
            said = f": {stderr}" if stderr else ""
            raise CredentialCommandError(
                f"token command {shown!r} failed (exit {proc.returncode}){said}")
        if not stdout:
            said = f": {stderr}" if stderr else ""
            raise CredentialCommandError(f"token command {shown!r} printed no token{said}")
        if any(ch.isspace() for ch in stdout):
            raise CredentialCommandError(
                f"token command {shown!r} printed more than a token (spaces or several lines)")
        return check_token(stdout, f"token command {shown!r}")

    def describe(self) -> str:
        """E.g. "token command 'exls get-token' (expires ... UTC (in 58 min))"."""
        exp = self.expires_at
        state = expiry_text(exp) if exp else ("not run yet" if self._token is None
                                              else "expiry unknown")
        return f"token command {_clip(self.command, 80)!r} ({state})"

    def __repr__(self) -> str:
        return f"<CommandToken {self.describe()}>"


def _communicate(proc: subprocess.Popen[bytes], timeout: float,
                 cap: int) -> tuple[bytes, bytes, str | None]:
    """stdout (at most ``cap`` bytes), the start of stderr, and why the run was cut short.

    Both pipes are drained by threads, so a command that writes much to stderr never blocks;
    the command is killed once it outlasts ``timeout`` or its stdout passes ``cap`` bytes.
    """
    out, err = bytearray(), bytearray()
    ended = threading.Event()  # stdout closed, or over the cap
    over = threading.Event()

    def pump(stream: Any, buf: bytearray, keep: int, is_stdout: bool) -> None:
        try:
            while chunk := stream.read1(1 << 16):
                if len(buf) < keep:
                    buf += chunk[: keep - len(buf)]
                if is_stdout and len(buf) >= keep:
                    over.set()
                    return
        except (OSError, ValueError):
            return
        finally:
            if is_stdout:
                ended.set()

    pumps = [threading.Thread(target=pump, args=(proc.stdout, out, cap + 1, True), daemon=True),
             threading.Thread(target=pump, args=(proc.stderr, err, 4096, False), daemon=True)]
    for thread in pumps:
        thread.start()
    began = time.monotonic()
    cut: str | None = None
    if not ended.wait(timeout):
        cut = "timeout"
    elif over.is_set():
        cut = "too much"
    else:
        try:
            proc.wait(max(0.0, timeout - (time.monotonic() - began)))
        except subprocess.TimeoutExpired:
            cut = "timeout"
    if cut is not None:
        _kill(proc)
    for thread in pumps:
        thread.join(1.0)
    for stream in (proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            if stream is not None:
                stream.close()
    return bytes(out[:cap]), bytes(err), cut


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End a command and its children, then reap it (bounded)."""
    with contextlib.suppress(OSError):
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        proc.wait(timeout=2.0)


# -- the exls keyring entries -----------------------------------------------------------------


def _keyring_module() -> Any:
    try:
        import keyring
    except ImportError:
        raise KeyringError("keyring support is not installed: "
                           "pip install 'exalsius-jupyter[keyring]'") from None
    return keyring


def _parse_expiry(text: str | None) -> datetime | None:
    if not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(value)
        when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when
        return when.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # e.g. 9999-12-31T23:59:59-01:00 is past year 9999
        return None


class KeyringTokens:
    """The ``exls`` sign-in in the system keyring, as a renewing token source.

    Reads service ``exalsius_cli``, usernames ``{client_id}_access_token``, ``_refresh_token``,
    ``_id_token`` and ``_expiry`` (ISO 8601, UTC), and writes renewed tokens back so that a
    rotation does not sign ``exls`` out. Needs the optional ``keyring`` package.

    Args:
        settings: the issuer and client id (the key names use the client id).
        service: the keyring service name.
        http: a requests session for the refresh requests.
    """

    renewable = True

    def __init__(self, settings: AuthSettings | None = None, *, service: str = KEYRING_SERVICE,
                 http: requests.Session | None = None) -> None:
        self.settings = settings if settings is not None else AuthSettings.from_env()
        self.service = service
        self._http = http
        self._session: OAuthSession | None = None
        self._lock = threading.Lock()

    def _key(self, name: str) -> str:
        return f"{self.settings.client_id}_{name}"

    def _get(self, name: str) -> str | None:
        try:
            value = _keyring_module().get_password(self.service, self._key(name))
        except KeyringError:
            raise
        except Exception as exc:
            raise KeyringError(f"the keyring cannot be read ({type(exc).__name__})") from None
        return value if isinstance(value, str) and value.strip() else None

    def load(self) -> Tokens | None:
        """The stored tokens, or None when ``exls`` is not signed in."""
        access = self._get("access_token")
        if access is None:
            return None
        expiry = _parse_expiry(self._get("expiry"))
        expires_at = expiry or _claim_time(jwt_claims(access), "exp") or _now()
        access = check_token(access, f"the exls keyring entry {self._key('access_token')!r}")
        return Tokens(access, self._get("refresh_token"), self._get("id_token"),
                      expires_at, _claim_time(jwt_claims(access), "iat"))

    def available(self) -> bool:
        """Whether an ``exls`` sign-in is stored (False when the keyring is missing or empty)."""
        try:
            return self.load() is not None
        except KeyringError:
            return False

    def save(self, tokens: Tokens) -> None:
        """Store tokens under the ``exls`` key names (``%exalsius login --save``)."""
        kr = _keyring_module()
        values = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "id_token": tokens.id_token,
            "expiry": tokens.expires_at.astimezone(timezone.utc).isoformat(),
        }
        try:
            for name, value in values.items():
                if value:
                    kr.set_password(self.service, self._key(name), value)
                else:
                    self._delete(kr, name)
        except Exception as exc:
            raise KeyringError(f"the keyring cannot be written ({type(exc).__name__})") from None

    def clear(self) -> None:
        """Delete the stored entries (``%exalsius logout --everywhere``)."""
        kr = _keyring_module()
        for name in KEYRING_KEYS:
            self._delete(kr, name)
        with self._lock:
            self._session = None

    def _delete(self, kr: Any, name: str) -> None:
        try:
            kr.delete_password(self.service, self._key(name))
        except Exception as exc:  # PasswordDeleteError when absent
            if type(exc).__name__ != "PasswordDeleteError":
                raise KeyringError(
                    f"the keyring entry cannot be deleted ({type(exc).__name__})") from None

    def session(self) -> OAuthSession:
        """The renewing session built from the stored tokens (loaded once)."""
        with self._lock:
            if self._session is None:
                tokens = self.load()
                if tokens is None:
                    raise signed_out("no exls sign-in in the keyring")
                self._session = OAuthSession(
                    tokens, self.settings, on_refresh=self._stored, reload=self.load,
                    http=self._http, name="exls keyring sign-in")
            return self._session

    def _stored(self, tokens: Tokens) -> None:
        self.save(tokens)

    def token(self) -> str:
        """A valid access token from the stored sign-in, renewed (and stored) as needed."""
        return self.session().token()

    def refresh(self, stale: str | None = None) -> str:
        """Renew now (after a 401), storing the result."""
        return self.session().refresh(stale)

    def describe(self) -> str:
        """The stored sign-in's identity and expiry, never a token."""
        with self._lock:
            session = self._session
        if session is not None:
            return session.describe()
        try:
            tokens = self.load()
        except KeyringError as exc:
            return f"exls keyring sign-in (unavailable: {exc})"
        if tokens is None:
            return "exls keyring sign-in (none stored)"
        who = f" as {tokens.identity}" if tokens.identity else ""
        return f"exls keyring sign-in{who} (access token {expiry_text(tokens.expires_at)})"

    def __repr__(self) -> str:
        return f"<KeyringTokens service={self.service!r} client_id={self.settings.client_id!r}>"


# -- precedence -------------------------------------------------------------------------------


def resolve_token_source(
    explicit: str | TokenSource | None = None,
    env: Mapping[str, str] | None = None,
    signed_in: TokenSource | None = None,
    token_command: str | Sequence[str] | None = None,
    use_keyring: bool | None = False,
    settings: AuthSettings | None = None,
    command_timeout: float = 10.0,
) -> TokenSource | None:
    """The credential to use: explicit > EXALSIUS_TOKEN > sign-in > token_command > keyring.

    ``use_keyring``: False skips the keyring, None uses it when installed and holding an
    ``exls`` sign-in, True also raises KeyringError when the package is missing. Returns None
    when nothing applies.
    """
    env = os.environ if env is None else env
    if isinstance(explicit, str):
        if explicit.strip():
            return StaticToken(explicit, "explicit token")
    elif explicit is not None:
        return explicit
    from_env = (env.get(ENV_TOKEN) or "").strip()
    if from_env:
        return StaticToken(from_env, ENV_TOKEN)
    if signed_in is not None:
        return signed_in
    if token_command and (not isinstance(token_command, str) or token_command.strip()):
        return CommandToken(token_command, command_timeout)
    if use_keyring is False:
        return None
    if use_keyring:
        _keyring_module()
    source = KeyringTokens(settings if settings is not None else AuthSettings.from_env(env))
    return source if source.available() else None


__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_DOMAIN",
    "DEFAULT_SCOPE",
    "KEYRING_SERVICE",
    "SIGNED_OUT",
    "AuthSettings",
    "CommandToken",
    "CredentialCommandError",
    "DeviceCode",
    "DeviceLogin",
    "KeyringError",
    "KeyringTokens",
    "OAuthSession",
    "SignInCancelledError",
    "SignInDeniedError",
    "SignInError",
    "SignInExpiredError",
    "StaticToken",
    "TokenSource",
    "Tokens",
    "expiry_text",
    "jwt_claims",
    "refresh_tokens",
    "resolve_token_source",
    "revoke",
    "signed_out",
]
