"""Asking the user: a yes/no question or a hidden token, never hanging when nobody can answer."""

from __future__ import annotations

import sys
from typing import Any

from IPython.core.error import StdinNotImplementedError, UsageError

HEADLESS = ("this run has no interactive input (a kernel without stdin, as under nbval, "
            "papermill or nbconvert --execute, or a script)")


def stdin_available(shell: Any) -> bool:
    """Whether someone can answer a prompt: the kernel's allow_stdin, else a terminal on stdin."""
    kernel = getattr(shell, "kernel", None)
    if kernel is not None:
        return bool(getattr(kernel, "_allow_stdin", False))
    stdin = sys.stdin
    try:
        return stdin is not None and stdin.isatty()
    except (ValueError, OSError, AttributeError):
        return False


def confirm(shell: Any, question: str, *, fix: str) -> bool:
    """Ask a yes/no question; without interactive input raise a UsageError that says ``fix``."""
    headless = UsageError(f"{question.rstrip('?')}: needs a confirmation, but {HEADLESS}; {fix}")
    if not stdin_available(shell):
        raise headless
    try:
        answer = input(f"{question} [y/N] ")
    except (StdinNotImplementedError, EOFError, OSError):
        raise headless from None
    return answer.strip().lower() in ("y", "yes")


def read_secret(shell: Any, prompt: str, *, fix: str, what: str = "the token") -> str:
    """Read a secret with getpass (never echoed); without interactive input raise ``fix``."""
    headless = UsageError(f"cannot prompt for {what}: {HEADLESS}; {fix}")
    if not stdin_available(shell):
        raise headless
    import getpass

    try:
        return getpass.getpass(prompt)
    except (StdinNotImplementedError, EOFError, OSError):
        raise headless from None
