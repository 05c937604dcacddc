"""The sandbox's options, declared once: ``Sandbox(...)``, its command line and the magic use them.

Each field of :class:`SandboxOptions` carries its name, type, default and help (and its flag's
bounds or choices); the argparse flags of ``python -m exalsius_jupyter.sandbox`` and of
``%exalsius sandbox start`` are made from the fields by :func:`add_arguments`. There is ONE set of
defaults, the dataclass's. A front door that needs another value on purpose says so in its
:class:`FrontDoor`: ``overrides`` (a different default, still a flag) or ``pinned`` (a fixed value,
no flag). Standard library only, and cheap to import: the magic reads it at ``%load_ext``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import textwrap
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

# exls' public client id and the API's audience (the sandbox stands apart from auth/settings.py).
DEFAULT_CLIENT_ID = "kSbRc9MOnuMKMVLzhZYBo3xkTtk2KK7B"
DEFAULT_AUDIENCE = "https://api.exalsius.ai"
APIS = ("1.5.1", "1.46")
OAUTH_ERRORS = ("rfc", "auth0")

FAULTS = "faults"
AUTH = "identity provider (--auth)"


def option(default: Any, help: str, *, metavar: str | None = None,
           choices: tuple[str, ...] | None = None, low: float | None = None,
           high: float | None = None, above: float | None = None, off_help: str | None = None,
           group: str | None = None) -> Any:
    """A SandboxOptions field: its default, help and what a value may be.

    Args:
        default: the one default (a front door may override it by name, see FrontDoor).
        help: the flag's help; for a boolean, what the option does when true.
        metavar: the flag's value placeholder in ``--help``.
        choices: the only values allowed.
        low, high: inclusive bounds; above: an exclusive lower bound.
        off_help: a boolean's help for its ``--no-...`` flag (when its default is true).
        group: the ``--help`` section (None: the main one).
    """
    meta = {"help": help, "metavar": metavar, "choices": choices, "low": low, "high": high,
            "above": above, "off_help": off_help, "group": group}
    return field(default=default, metadata=MappingProxyType(meta))


@dataclass(frozen=True)
class SandboxOptions:
    """How a Sandbox serves; every field is also a keyword of ``Sandbox(...)`` and a flag."""

    host: str = option("127.0.0.1", "address to bind", metavar="HOST")
    port: int = option(0, "port; 0 picks a free one", metavar="PORT", low=0, high=65535)
    pending_seconds: float = option(
        3.0, "seconds a new (or started) workspace is PENDING before it is RUNNING, or FAILED "
        "when its cluster cannot satisfy it", metavar="S", low=0)
    deleted_ttl: float = option(30.0, "seconds a deleted workspace stays listed as DELETED",
                                metavar="S", low=0)
    workspaces: int = option(0, "synthetic demo workspaces to start with (each fits its cluster)",
                             metavar="N", low=0)
    seed: int | None = option(None, "seed: the same demo workspaces and faults on every run",
                              metavar="N")
    state: str | Path | None = option(  # noqa: RUF009 (option() returns a dataclasses.field)
        None, "keep workspaces in FILE (JSON snapshot) and FILE.journal across restarts; an "
        "acknowledged write survives kill -9", metavar="FILE")
    api: str = option("1.5.1", "response shapes: 1.5.1 (the contract) or 1.46 (today's live API)",
                      choices=APIS)
    extras: bool = option(True, "serve the start and logs endpoints (the 1.5.1 contract has "
                          "neither)",
                          off_help="do not serve start and logs (as the 1.5.1 contract)")
    quiet: bool = option(True, "no request log on stderr", off_help="log every request on stderr")
    latency: float = option(0.0, "seconds added to every request", metavar="S", low=0,
                            group=FAULTS)
    error_rate: float = option(0.0, "probability of an injected 500 (or 503 with Retry-After)",
                               metavar="P", low=0, high=1, group=FAULTS)
    drop_rate: float = option(0.0, "probability that a request is dropped unanswered",
                              metavar="P", low=0, high=1, group=FAULTS)
    retry_after: int = option(1, "Retry-After seconds of injected 503s", metavar="S", low=0,
                              group=FAULTS)
    auth: bool = option(False, "require bearer tokens: also play the identity provider (OAuth "
                        "device flow) at the server's root; API requests without a valid access "
                        "token get 401", group=AUTH)
    token_ttl: float = option(3600.0, "access token lifetime in seconds", metavar="S", above=0,
                              group=AUTH)
    device_code_ttl: float = option(600.0, "seconds a device code stays valid (expires_in)",
                                    metavar="S", above=0, group=AUTH)
    device_interval: float = option(
        5.0, "seconds between sign-in polls (interval; fractions allowed so tests poll fast)",
        metavar="S", above=0, group=AUTH)
    slow_down_step: float = option(5.0, "seconds a device grant's interval grows on each "
                                   "slow_down (RFC 8628: 5)", metavar="S", low=0, group=AUTH)
    client_id: str = option(DEFAULT_CLIENT_ID, "the only client id accepted", metavar="ID",
                            group=AUTH)
    audience: str = option(DEFAULT_AUDIENCE, "the API's audience", metavar="URL", group=AUTH)
    user_name: str = option("Ada Lovelace", "the demo user's name (ID token claim)",
                            metavar="NAME", group=AUTH)
    user_email: str = option("ada@example.com", "the demo user's email (ID token claim)",
                             metavar="EMAIL", group=AUTH)
    oauth_errors: str = option("rfc", "HTTP statuses of OAuth errors: rfc (400, invalid_client "
                               "401) or auth0 (403, slow_down 429)", choices=OAUTH_ERRORS,
                               group=AUTH)

    def __post_init__(self) -> None:
        for f in fields():
            value = getattr(self, f.name)
            problem = check(f, value)
            if problem is not None:
                raise ValueError(f"{f.name} {problem}, not {value!r}")

    def replace(self, **changes: Any) -> SandboxOptions:
        """A copy with some fields changed (checked); TypeError names an unknown one."""
        unknown = sorted(set(changes) - set(names()))
        if unknown:
            raise TypeError(f"unknown sandbox option {unknown[0]!r} (known: {', '.join(names())})")
        return dataclasses.replace(self, **changes)


def _document(cls: type[SandboxOptions]) -> None:
    """Append an Args section made from the fields' help to the class docstring."""
    lines = [textwrap.fill(f"{f.name}: {f.metadata['help']} (default {f.default!r}).", width=96,
                           initial_indent=" " * 8, subsequent_indent=" " * 12) for f in fields()]
    cls.__doc__ = f"{cls.__doc__}\n\n    Args:\n" + "\n".join(lines) + "\n"


def fields() -> tuple[dataclasses.Field[Any], ...]:
    """The option fields, in declaration (and ``--help``) order."""
    return dataclasses.fields(SandboxOptions)


def names() -> tuple[str, ...]:
    """The option names."""
    return tuple(f.name for f in fields())


_document(SandboxOptions)


@functools.cache
def _hints(cls: type) -> dict[str, tuple[type, ...]]:
    """Per field of an options class, the types its annotation allows, None left out.

    Evaluated once per class: each evaluation compiles every annotation.
    """
    return {name: tuple(k for k in typing.get_args(hint) or (hint,) if k is not type(None))
            for name, hint in typing.get_type_hints(cls).items()}


def _kinds(name: str) -> tuple[type, ...]:
    """The types a field's annotation allows, None left out."""
    return _hints(SandboxOptions)[name]


def value_type(f: dataclasses.Field[Any]) -> type:
    """What a flag's text is parsed as: bool, int, float or str (``X | None``: X)."""
    return _kinds(f.name)[0]


def _bounds(meta: Mapping[str, Any]) -> str | None:
    """The bounds as a phrase ("between 0 and 1", ">= 0", "> 0"), or None."""
    low, high, above = meta["low"], meta["high"], meta["above"]
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    if above is not None:
        return f"> {above:g}"
    if low is not None:
        return f">= {low:g}"
    return None


def check(f: dataclasses.Field[Any], value: Any) -> str | None:
    """Why ``value`` is not allowed for the field (a phrase such as "must be >= 0"), or None."""
    meta = f.metadata
    if value is None and f.default is None:
        return None
    kind = value_type(f)
    if kind is bool:
        return None if isinstance(value, bool) else "must be True or False"
    if kind is str:
        if not isinstance(value, _kinds(f.name)):
            return "must be text"
        if meta["choices"] is not None and value not in meta["choices"]:
            return f"must be one of {', '.join(meta['choices'])}"
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            kind is int and not isinstance(value, int)):
        return "must be a whole number" if kind is int else "must be a number"
    if not math.isfinite(value):
        return "must be a finite number"
    low, high, above = meta["low"], meta["high"], meta["above"]
    if ((low is not None and value < low) or (high is not None and value > high)
            or (above is not None and value <= above)):
        return f"must be {_bounds(meta)}"
    return None


@dataclass(frozen=True)
class FrontDoor:
    """How one front door offers the options.

    Args:
        name: how the user reaches it (for messages and docs).
        overrides: options whose default differs here on purpose; they stay flags.
        pinned: options this door does not offer: fixed values, no flag.
    """

    name: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    pinned: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        SandboxOptions().replace(**self.overrides, **self.pinned)  # known names, allowed values

    def defaults(self) -> SandboxOptions:
        """What this door starts with when no flag is given."""
        return SandboxOptions().replace(**self.overrides, **self.pinned)

    def offered(self) -> Iterator[dataclasses.Field[Any]]:
        """The fields this door offers as flags, in declaration order."""
        return (f for f in fields() if f.name not in self.pinned)

    def as_flags(self, options: SandboxOptions) -> dict[str, str]:
        """The flags that ask this door for ``options``, by name: ``{"latency": "--latency 0.5"}``.

        Only options that differ from the door's defaults are listed.
        """
        base = self.defaults()
        out = {}
        for f in self.offered():
            value = getattr(options, f.name)
            if value != getattr(base, f.name):
                given = flag(f, getattr(base, f.name))
                out[f.name] = given if isinstance(value, bool) else f"{given} {_shown(value)}"
        return out


PYTHON = FrontDoor("Sandbox(...)")
# The CLI serves on a well-known port (notebooks and docs point at http://127.0.0.1:8765/v1) and
# logs every request on stderr (the console is its user interface; --quiet turns that off).
CLI = FrontDoor("python -m exalsius_jupyter.sandbox",
                overrides=MappingProxyType({"port": 8765, "quiet": False}))
# The kernel's sandbox listens on loopback only and never logs into the notebook; a sign-in in
# the notebook completes within a second of its approval, so the device flow polls every second.
MAGIC = FrontDoor("%exalsius sandbox start",
                  overrides=MappingProxyType({"device_interval": 1.0}),
                  pinned=MappingProxyType({"host": "127.0.0.1", "quiet": True}))


def flag(f: dataclasses.Field[Any], default: Any) -> str:
    """A field's flag: ``--pending-seconds``; a boolean that defaults to true: ``--no-extras``."""
    dashed = f.name.replace("_", "-")
    return f"--no-{dashed}" if value_type(f) is bool and default else f"--{dashed}"


def converter(f: dataclasses.Field[Any]) -> Callable[[str], Any]:
    """An argparse ``type`` for the field: parses the text, then applies the field's check."""
    kind = value_type(f)

    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        problem = check(f, value)
        if problem is not None:
            raise argparse.ArgumentTypeError(f"{problem}, got {text!r}")
        return value

    convert.__name__ = kind.__name__
    return convert


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def add_arguments(parser: argparse.ArgumentParser, door: FrontDoor) -> None:
    """Add one flag per option the door offers, with the door's defaults and the fields' help."""
    defaults = door.defaults()
    groups: dict[str | None, Any] = {None: parser}
    for f in door.offered():
        meta, default = f.metadata, getattr(defaults, f.name)
        group = meta["group"]
        if group not in groups:
            groups[group] = parser.add_argument_group(group)
        target = groups[group]
        text = meta["help"]
        if value_type(f) is bool:
            if default:
                text = meta["off_help"] or f"turn off: {text}"
            action = "store_false" if default else "store_true"
            target.add_argument(flag(f, default), dest=f.name, action=action, default=default,
                                help=text.replace("%", "%%"))
            continue
        if default is not None:
            text += f" (default {_shown(default)})"
        choices = meta["choices"]
        target.add_argument(flag(f, default), dest=f.name, default=default,
                            type=str if choices else converter(f), choices=choices,
                            metavar=None if choices else meta["metavar"],
                            help=text.replace("%", "%%"))


def from_args(args: argparse.Namespace, door: FrontDoor) -> SandboxOptions:
    """The options a parsed command line asks for (the door's pinned values included)."""
    values = {f.name: getattr(args, f.name) for f in door.offered()}
    return SandboxOptions().replace(**door.pinned, **values)
