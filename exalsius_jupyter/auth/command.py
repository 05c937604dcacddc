"""A credential command such as ``exls get-token``: bounded in time and output, its text cleaned."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..api import deadline
from ..api.bearer import check_token, claim_time, jwt_claims
from ..durations import expiry_text, now_utc
from ..errors import CredentialCommandError, RequestTimeoutError, ValidationError
from ..text import clip, redact_jwts, untrusted
from .renewal import REFRESH_LEEWAY

MAX_COMMAND_OUTPUT = 64 * 1024  # a token command printing more prints no token


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
        return claim_time(jwt_claims(self._token), "exp")

    def _fresh(self, token: str | None) -> bool:
        if not token:
            return False
        exp = claim_time(jwt_claims(token), "exp")
        if exp is None:
            return True  # opaque: used until a 401
        claims_iat = claim_time(jwt_claims(token), "iat")
        window = self.leeway
        if claims_iat is not None:
            window = min(window, 0.1 * max(0.0, (exp - claims_iat).total_seconds()))
        return (exp - now_utc()).total_seconds() > window

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
            raise RequestTimeoutError(f"token command {clip(self.command, 80)!r} was still "
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
        shown = clip(self.command, 80)
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
        return f"token command {clip(self.command, 80)!r} ({state})"

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
