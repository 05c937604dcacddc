"""``%exalsius config``, ``login`` and ``logout``: the endpoint and the token of this kernel."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from .errors import ExalsiusError

if TYPE_CHECKING:
    from .magics import Exalsius


def _endpoint_source(m: Exalsius) -> str:
    if m._sandbox is not None:
        return "the in-process sandbox"
    if m.api_url:
        return "%config Exalsius.api_url"
    if os.environ.get("EXALSIUS_API_URL"):
        return "EXALSIUS_API_URL"
    return "default"


def _token_line(m: Exalsius, *, usable: bool = True) -> str:
    from .api.client import mask_secret

    if m._token:
        configured = f"{mask_secret(m._token)} from %exalsius login"
    elif os.environ.get("EXALSIUS_TOKEN"):
        configured = f"{mask_secret(os.environ['EXALSIUS_TOKEN'])} from EXALSIUS_TOKEN"
    else:
        return "not set"
    if m._sandbox is not None:
        return f"not sent to the sandbox; {configured} is used after %exalsius sandbox stop"
    return configured if not usable or m.client().has_token else "not set"


def show_config(m: Exalsius) -> None:
    """Print the endpoint, the timeouts and whether a token is set (masked)."""
    try:
        client = m.client()
    except ExalsiusError as err:  # show the settings anyway, and why they do not work
        from .api.client import DEFAULT_API_URL

        url = m.api_url or os.environ.get("EXALSIUS_API_URL") or DEFAULT_API_URL
        endpoint = f"{url} ({_endpoint_source(m)}); not usable: {err}"
        token = _token_line(m, usable=False)
        timeout = f"{m.timeout:g}s per request"
    else:
        connect, read = client.timeout
        endpoint = f"{client.base_url} ({_endpoint_source(m)})"
        token = _token_line(m)
        timeout = f"{read:g}s per request (connect {connect:g}s)"
    rows = [
        ("endpoint", endpoint),
        ("token", token),
        ("timeout", timeout),
        ("poll_interval", f"{m.poll_interval:g}s"),
        ("wait_timeout", f"{m.wait_timeout:g}s"),
    ]
    for key, value in rows:
        print(f"{key + ':':<15}{value}")
    print("Change with %config Exalsius.api_url = '...' (also timeout, poll_interval, "
          "wait_timeout); set the token with EXALSIUS_TOKEN or %exalsius login.")


def login(m: Exalsius) -> None:
    """Read the token from a hidden prompt and rebuild the client with it."""
    from ._confirm import read_secret
    from .api.client import mask_secret

    token = read_secret(m.shell, "exalsius API token: ",
                        fix="set EXALSIUS_TOKEN in the environment instead").strip()
    if not token:
        raise UsageError("no token entered; nothing changed")
    previous, m._token = m._token, token
    try:
        m.apply_client()
    except ExalsiusError:
        m._token = previous
        raise
    where = ("after %exalsius sandbox stop" if m._sandbox is not None
             else f"for {m.client().base_url}")
    print(f"Token {mask_secret(token)} will be used {where}; it is kept in this kernel's "
          "memory only.")


def logout(m: Exalsius) -> None:
    """Forget the token from login (EXALSIUS_TOKEN, if set, applies again)."""
    m._token = None
    m.apply_client()
    left = " (EXALSIUS_TOKEN is still set)" if os.environ.get("EXALSIUS_TOKEN") else ""
    print(f"Forgot the token from %exalsius login{left}.")
