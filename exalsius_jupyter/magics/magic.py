"""The ``%exalsius`` magic: the settings as traits, and one dispatch to the subcommand modules.

Loading is cheap: pandas, requests and ipywidgets are imported when a subcommand needs them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Bool, Float, TraitError, TraitType, Unicode, observe, validate

from .. import settings
from ..errors import ExalsiusError
from ..session import current_session
from .commands import (
    REGISTRY,
    build_parser,
    cell_commands,
    cell_parsers,
    cell_usage,
    full_help,
    show_help,
)
from .context import CommandContext
from .parser import HelpShown, split_line

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..session import Session

SETTINGS = settings.names()
_TRAIT_TYPES: dict[type, type[TraitType[Any, Any]]] = {str: Unicode, float: Float, bool: Bool}


def setting_traits(cls: type[settings.Settings] | None = None) -> dict[str, TraitType[Any, Any]]:
    """One ``config=True`` trait per field of ``Settings``: its type, default and help."""
    return {row.name: _TRAIT_TYPES[row.type](row.default, help=row.help).tag(config=True)
            for row in settings.rows(cls)}


@magics_class
class Exalsius(Magics):
    """The ``%exalsius`` magics; configure with ``%config Exalsius.<trait> = value``.

    The traits are the kernel session's settings (``exalsius_jupyter.settings.Settings``, one
    trait per field): a change is forwarded to the session, which owns the client, the token
    and the sandbox.
    """

    # One trait per Settings field, put into the class body itself (a class scope's locals()
    # is its namespace), so traitlets sees them as written here and %config Exalsius still
    # reads "Exalsius(Magics) options": a new setting is one field in settings.py.
    locals().update(setting_traits())

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.session.configure(**{name: getattr(self, name) for name in SETTINGS})

    @property
    def session(self) -> Session:
        """The kernel's session (one per process), which these traits configure."""
        return current_session()

    # -- configuration ------------------------------------------------------------------

    @validate(*settings.of_kind(settings.SECONDS))
    def _positive(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not (value > 0 and math.isfinite(value)):
            name = proposal["trait"].name
            raise TraitError(f"Exalsius.{name} must be a positive number of seconds, "
                             f"not {proposal['value']!r}")
        return value

    @validate(*settings.of_kind(settings.URL))
    def _check_url(self, proposal: Any) -> str:
        value = str(proposal["value"]).strip()
        if value:
            try:
                self.session.build_client(api_url=value).close()
            except ExalsiusError as err:
                raise TraitError(f"Exalsius.api_url: {err}") from None
        return value

    @validate(*settings.of_kind(settings.AUTH))
    def _check_auth(self, proposal: Any) -> str:
        from ..auth.settings import AuthSettings

        value = str(proposal["value"]).strip()
        name = proposal["trait"].name
        if value:
            try:
                AuthSettings.from_env({}, **{name.removeprefix("auth_"): value})
            except ExalsiusError as err:
                raise TraitError(f"Exalsius.{name}: {err}") from None
        return value

    @validate(*settings.of_kind(settings.COMMAND))
    def _check_command(self, proposal: Any) -> str:
        from ..auth.command import CommandToken

        value = str(proposal["value"]).strip()
        if value:
            try:
                CommandToken(value)
            except ExalsiusError as err:
                raise TraitError(f"Exalsius.token_command: {err}") from None
        return value

    @observe(*SETTINGS)
    def _settings_changed(self, change: Any) -> None:
        if change["name"] == "api_url" and self.session.sandbox is not None:
            print("Note: the sandbox is running; Exalsius.api_url applies after "
                  "%exalsius sandbox stop.")
        self.session.configure(**{change["name"]: change["new"]})

    # -- the magic --------------------------------------------------------------------

    @line_cell_magic
    def exalsius(self, line: str = "", cell: str | None = None) -> Any:
        """The exalsius magics: ``%exalsius?`` shows every subcommand's help, ``%exalsius``
        the overview."""
        try:
            return self._dispatch(line, cell)
        except HelpShown:
            return None
        except ExalsiusError as err:
            raise UsageError(str(err)) from None

    # ``%exalsius?`` asks IPython's inspector, which calls an object's ``getdoc()``: the full
    # help (every parser's) is made then, not at %load_ext (#16.4: 25 ms of its ~60).
    exalsius.getdoc = full_help  # type: ignore[union-attr]

    def context(self) -> CommandContext:
        """What a subcommand gets: the session, the shell, and whether a kernel runs it."""
        in_kernel = getattr(self.shell, "kernel", None) is not None
        return CommandContext(session=self.session, shell=self.shell, in_kernel=in_kernel)

    def _dispatch(self, line: str, cell: str | None) -> Any:
        argv = split_line(line)
        if cell is not None:
            command = cell_commands().get(argv[0]) if argv else None
            if command is None:
                raise UsageError(f"the cell magic is {cell_usage()}")
            args = cell_parsers()[command.NAME].parse_args(argv[1:])
            return command.run_cell(self.context(), args, cell)
        top = build_parser()
        if not argv:
            top.print_help()
            return None
        args, extra = top.parse_known_args(argv)
        if extra:
            prog = f"%exalsius {args.command}" + (
                f" {args.action}" if getattr(args, "action", None) else "")
            raise UsageError(f"{prog}: unrecognized arguments: {' '.join(extra)} "
                             f"(see {prog} --help)")
        if args.command == "help":
            show_help(args.topic)
            return None
        return REGISTRY[args.command].run(self.context(), args)

    def close(self) -> None:
        """Stop the sandbox, close the client, sign out, and forget the settings."""
        self.session.reset()


ExalsiusMagics = Exalsius


def _instance(shell: InteractiveShell) -> Exalsius | None:
    registry = shell.magics_manager.registry
    found = dict.get(registry, Exalsius.__name__)
    return found if isinstance(found, Exalsius) else None


def register(shell: InteractiveShell) -> Exalsius:
    """Register the magics and the ``Exalsius`` configurable with ``shell`` (idempotent)."""
    existing = _instance(shell)
    if existing is not None:
        return existing
    magics = Exalsius(shell=shell)  # Magics.__init__ appends it to shell.configurables
    if magics not in shell.configurables:
        shell.configurables.append(magics)
    shell.register_magics(magics)
    return magics


def unregister(shell: InteractiveShell) -> None:
    """Remove the magics and the configurable; stop the sandbox and reset the session."""
    magics = _instance(shell)
    if magics is None:
        return
    magics.close()
    manager = shell.magics_manager
    for kind in ("line", "cell"):
        if getattr(manager.magics[kind].get("exalsius"), "__self__", None) is magics:
            del manager.magics[kind]["exalsius"]
    dict.pop(manager.registry, Exalsius.__name__, None)
    shell.configurables[:] = [c for c in shell.configurables if c is not magics]
