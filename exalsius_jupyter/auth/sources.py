"""Which credential the client uses: explicit > EXALSIUS_TOKEN > sign-in > command > keyring."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from ..api.bearer import StaticToken, TokenSource
from .command import CommandToken
from .keyring_store import KeyringTokens, keyring_module
from .settings import ENV_TOKEN, AuthSettings


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
        keyring_module()
    source = KeyringTokens(settings if settings is not None else AuthSettings.from_env(env))
    return source if source.available() else None
