"""The kernel's settings, declared once: ``Settings`` and each field's help, kind and reach.

Every field of :class:`Settings` carries its type, default and help (and whether changing it
rebuilds the client); the ``%config Exalsius.<name>`` traits, ``%exalsius config`` and the docs
are made from these fields. Standard library only, cheap to import (``%load_ext`` reads it).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

SECONDS = "seconds"  # a positive, finite number of seconds
URL = "url"  # an API base URL, checked by building a client
AUTH = "auth"  # a sign-in setting, checked by building the sign-in settings
COMMAND = "command"  # a credential command, checked by parsing it


@dataclass(frozen=True)
class Setting:
    """One setting as a row (for listings and the docs), made from its ``Settings`` field.

    Args:
        name: the field's name, also the trait's (``%config Exalsius.<name>``).
        type: ``str``, ``float`` or ``bool``.
        default: the value when nothing is configured.
        help: what it does.
        client: whether a change rebuilds the client.
        kind: the check a new value gets (SECONDS, URL, AUTH, COMMAND or "").
        env: the environment variable read when the value is empty, if any.
    """

    name: str
    type: type
    default: Any
    help: str
    client: bool
    kind: str
    env: str | None


def setting(default: Any, help: str, *, client: bool, kind: str = "",
            env: str | None = None) -> Any:
    """A Settings field: its default, its help, what checks it and whether the client depends on it.

    Args:
        default: the value when nothing is configured ("" means: the environment, else built in).
        help: one or two sentences for ``%config Exalsius``, ``%exalsius config`` and the docs.
        client: whether the client (endpoint, timeouts or credential) is rebuilt on a change.
        kind: the check a new value gets (SECONDS, URL, AUTH, COMMAND or "" for none).
        env: the environment variable read when the value is empty, if any.
    """
    return field(default=default, metadata=MappingProxyType(
        {"help": help, "client": client, "kind": kind, "env": env}))


@dataclass(frozen=True)
class Settings:
    """What ``%config Exalsius.<name>`` sets; an empty string means the environment/default."""

    api_url: str = setting(
        "", "API base URL including /v1 (empty: $EXALSIUS_API_URL, else "
            "https://api.exalsius.ai/v1).", client=True, kind=URL,
        env="EXALSIUS_API_URL")
    timeout: float = setting(10.0, "HTTP timeout in seconds for each request.", client=True,
                             kind=SECONDS)
    poll_interval: float = setting(
        1.0, "Seconds between status checks while waiting (backs off when nothing changes).",
        client=False, kind=SECONDS)
    wait_timeout: float = setting(
        600.0, "Default seconds --wait and %exalsius wait give workspaces to come up.",
        client=False, kind=SECONDS)
    auth_domain: str = setting(
        "", "Sign-in tenant: a host name (empty: $EXALSIUS_AUTH_DOMAIN, else "
            "exalsius.eu.auth0.com) or an issuer URL.", client=True, kind=AUTH,
        env="EXALSIUS_AUTH_DOMAIN")
    auth_client_id: str = setting(
        "", "Public OAuth client id for sign-in (empty: $EXALSIUS_AUTH_CLIENT_ID, else the exls "
            "CLI's).", client=True, kind=AUTH, env="EXALSIUS_AUTH_CLIENT_ID")
    auth_audience: str = setting(
        "", "API audience of the access tokens (empty: $EXALSIUS_AUTH_AUDIENCE, else "
            "https://api.exalsius.ai).", client=True, kind=AUTH,
        env="EXALSIUS_AUTH_AUDIENCE")
    token_command: str = setting(
        "", "Credential command whose stdout is the access token, e.g. 'exls get-token' (run "
            "without a shell; again on expiry or a 401).", client=True, kind=COMMAND)
    token_command_timeout: float = setting(10.0, "Seconds the token_command may run.",
                                           client=True, kind=SECONDS)
    use_keyring: bool = setting(
        True, "Use the exls sign-in stored in the system keyring (needs the keyring extra).",
        client=True)
    api_key_header: bool = setting(
        False, "Send the token as an X-API-Key header instead of Authorization: Bearer (for "
               "deployments that expect it).", client=True)


def fields(cls: type[Settings] | None = None) -> Iterator[dataclasses.Field[Any]]:
    """The settings' fields, in declaration order (of ``Settings`` unless given a subclass)."""
    return iter(dataclasses.fields(cls or Settings))


def rows(cls: type[Settings] | None = None) -> tuple[Setting, ...]:
    """Every setting as a row, in declaration order (what the docs list)."""
    hints = typing.get_type_hints(cls or Settings)
    return tuple(Setting(f.name, hints[f.name], f.default, str(f.metadata["help"]),
                         bool(f.metadata["client"]), str(f.metadata["kind"]),
                         f.metadata.get("env"))
                 for f in fields(cls))


def names(cls: type[Settings] | None = None) -> tuple[str, ...]:
    """Every setting's name, in declaration order."""
    return tuple(f.name for f in fields(cls))


def of_kind(kind: str, cls: type[Settings] | None = None) -> tuple[str, ...]:
    """The settings a check of ``kind`` applies to."""
    return tuple(f.name for f in fields(cls) if f.metadata["kind"] == kind)


def client_settings(cls: type[Settings] | None = None) -> frozenset[str]:
    """The settings the client is built from: a change to one rebuilds it."""
    return frozenset(f.name for f in fields(cls) if f.metadata["client"])


def help_of(name: str, cls: type[Settings] | None = None) -> str:
    """One setting's help text."""
    for f in fields(cls):
        if f.name == name:
            return str(f.metadata["help"])
    raise KeyError(f"no setting {name!r}")


__all__ = ["AUTH", "COMMAND", "SECONDS", "URL", "Setting", "Settings", "client_settings", "fields",
           "help_of", "names", "of_kind", "rows", "setting"]
