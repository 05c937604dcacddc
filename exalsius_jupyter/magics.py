"""``%exalsius`` line magics and the ``%%exalsius create`` cell magic.

Loading is cheap: pandas, requests and ipywidgets are imported when a subcommand needs them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Float, TraitError, Unicode, observe, validate

from ._magic_args import (
    HelpShown,
    build_cell_parser,
    build_parser,
    full_help,
    split_line,
    subparser,
)
from .errors import ExalsiusError

if TYPE_CHECKING:
    import argparse

    from IPython.core.interactiveshell import InteractiveShell

    from .api.client import ExalsiusClient
    from .sandbox import Sandbox

INTERRUPTED = ("interrupted; the workspaces keep changing on the server: "
               "%exalsius wait NAME resumes waiting, %exalsius list shows where they are")


@magics_class
class Exalsius(Magics):
    """The ``%exalsius`` magics; configure with ``%config Exalsius.<trait> = value``."""

    api_url = Unicode(
        "", help="API base URL including /v1 (empty: $EXALSIUS_API_URL, else "
                 "https://api.exalsius.ai/v1).").tag(config=True)
    timeout = Float(10.0, help="HTTP timeout in seconds for each request.").tag(config=True)
    poll_interval = Float(
        1.0, help="Seconds between status checks while waiting (backs off when nothing "
                  "changes).").tag(config=True)
    wait_timeout = Float(
        600.0, help="Default seconds --wait and %exalsius wait give workspaces to come "
                    "up.").tag(config=True)

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        self._token: str | None = None  # from %exalsius login; deliberately not a trait
        self._sandbox: Sandbox | None = None
        self._sandbox_options = ""
        self._owns_client = False
        self._stale = False  # the settings changed but no client could be built from them
        super().__init__(shell=shell, **kwargs)

    # -- configuration ------------------------------------------------------------------

    @validate("timeout", "poll_interval", "wait_timeout")
    def _positive(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not (value > 0 and math.isfinite(value)):
            name = proposal["trait"].name
            raise TraitError(f"Exalsius.{name} must be a positive number of seconds, "
                             f"not {proposal['value']!r}")
        return value

    @validate("api_url")
    def _check_url(self, proposal: Any) -> str:
        value = str(proposal["value"]).strip()
        if value:
            try:
                _new_client(value, self._token, self.timeout).close()
            except ExalsiusError as err:
                raise TraitError(f"Exalsius.api_url: {err}") from None
        return value

    @observe("api_url", "timeout")
    def _settings_changed(self, change: Any) -> None:
        if change["name"] == "api_url" and self._sandbox is not None:
            print("Note: the sandbox is running; Exalsius.api_url applies after "
                  "%exalsius sandbox stop.")
        self.apply_client()

    def build_client(self) -> ExalsiusClient:
        """A client from the settings: the sandbox while it runs, else api_url or the env."""
        if self._sandbox is not None:
            return _new_client(self._sandbox.url, "", self.timeout)
        return _new_client(self.api_url or None, self._token, self.timeout)

    def apply_client(self) -> None:
        """Make a client built from the settings the kernel's current client.

        If the settings give no usable client, the previous one is dropped (never used
        silently) and every later call retries, raising the reason in one line.
        """
        from .session import set_client

        try:
            client = self.build_client()
        except ExalsiusError:
            set_client(None)
            self._owns_client, self._stale = False, True
            raise
        set_client(client)
        self._owns_client, self._stale = True, False

    def client(self) -> ExalsiusClient:
        """The kernel's current client (shared with the widgets)."""
        from .session import get_client

        if self._stale:
            self.apply_client()
        return get_client()

    # -- the magic --------------------------------------------------------------------

    @line_cell_magic
    def exalsius(self, line: str = "", cell: str | None = None) -> Any:
        try:
            return self._dispatch(line, cell)
        except HelpShown:
            return None
        except ExalsiusError as err:
            raise UsageError(str(err)) from None

    exalsius.__doc__ = full_help()

    def _dispatch(self, line: str, cell: str | None) -> Any:
        from . import _magic_commands as cmd

        argv = split_line(line)
        if cell is not None:
            if not argv or argv[0] != "create":
                raise UsageError("the cell magic is %%exalsius create [--cluster ID] "
                                 "[--wait|--watch] [--dry-run], with a JSON or YAML body")
            return cmd.cmd_create_cell(self, build_cell_parser().parse_args(argv[1:]), cell)
        parser = build_parser()
        if not argv:
            parser.print_help()
            return None
        args, extra = parser.parse_known_args(argv)
        if extra:
            prog = f"%exalsius {args.command}" + (
                f" {args.action}" if getattr(args, "action", None) else "")
            raise UsageError(f"{prog}: unrecognized arguments: {' '.join(extra)} "
                             f"(see {prog} --help)")
        if args.command == "help":
            target = subparser(parser, args.topic) if args.topic else parser
            if target is None:
                raise UsageError(f"no subcommand {args.topic!r}; see %exalsius help")
            target.print_help()
            return None
        workspace_commands = {
            "list": cmd.cmd_list, "describe": cmd.cmd_describe, "create": cmd.cmd_create,
            "stop": cmd.cmd_bulk, "delete": cmd.cmd_bulk, "start": cmd.cmd_start,
            "wait": cmd.cmd_wait,
        }
        if args.command in workspace_commands:
            return workspace_commands[args.command](self, args)
        session_commands = {
            "panel": self._panel, "sandbox": self._sandbox_cmd, "config": self._session,
            "login": self._session, "logout": self._session,
        }
        return session_commands[args.command](args)

    # -- waiting -----------------------------------------------------------------------

    def in_kernel(self) -> bool:
        """Whether this shell runs in a Jupyter kernel (so a widget can be displayed)."""
        return getattr(self.shell, "kernel", None) is not None

    def follow(self, ids: list[str], *, timeout: float | None, block: bool) -> Any:
        """Show progress until the workspaces end; return their final state (``block``)."""
        from ._magic_views import final_state_frame

        client = self.client()
        timeout = timeout or self.wait_timeout
        progress_cls = self._progress_widget()
        if progress_cls is not None:
            from IPython.display import display

            progress = progress_cls(ids, client=client, timeout=timeout,
                                    interval=self.poll_interval)
            display(progress)
            progress.start()
            if not block:
                return None
            try:
                tracked = progress.wait()
            except KeyboardInterrupt:
                raise UsageError(INTERRUPTED) from None
            watcher = progress.watcher
        else:
            from .textprogress import TextProgress
            from .watch import WorkspaceWatcher

            watcher = WorkspaceWatcher(client, ids, timeout=timeout, interval=self.poll_interval)
            text = TextProgress()
            text.start(watcher)
            try:
                tracked = watcher.run(on_tick=text)
            except KeyboardInterrupt:
                raise UsageError(INTERRUPTED) from None
        frame = final_state_frame(tracked)
        watcher.raise_for_outcome()
        return frame

    def _progress_widget(self) -> Any:
        if not self.in_kernel():
            return None
        try:
            from .widgets import CreationProgress
        except ImportError:
            return None
        return CreationProgress

    # -- panel, sandbox, settings -----------------------------------------------------

    def _panel(self, args: argparse.Namespace) -> Any:
        if not self.in_kernel():
            raise UsageError("the panel needs Jupyter (a kernel with widgets); in a terminal "
                             "use %exalsius list")
        try:
            from .widgets import WorkspacePanel
        except ImportError:
            raise UsageError("the workspaces panel isn't available in this version yet; "
                             "use %exalsius list") from None
        from IPython.display import display

        display(WorkspacePanel(cluster_id=args.cluster, auto_refresh=not args.no_auto_refresh,
                               page_size=args.page_size or 50))
        return None

    def _sandbox_cmd(self, args: argparse.Namespace) -> Any:
        from ._magic_sandbox import sandbox_command

        return sandbox_command(self, args)

    def _session(self, args: argparse.Namespace) -> None:
        from . import _magic_session

        handler = {"config": _magic_session.show_config, "login": _magic_session.login,
                   "logout": _magic_session.logout}[args.command]
        handler(self)

    def close(self) -> None:
        """Stop a sandbox these magics started and drop the client they configured."""
        if self._sandbox is not None:
            from ._magic_sandbox import stop_sandbox

            stop_sandbox(self, quiet=True)
        if self._owns_client:
            from .session import set_client

            set_client(None)
            self._owns_client = False


ExalsiusMagics = Exalsius


def _new_client(url: str | None, token: str | None, timeout: float) -> ExalsiusClient:
    """An ExalsiusClient; a refusal to send a token over http:// says what to change here."""
    from .api.client import ExalsiusClient
    from .errors import InsecureTransportError

    try:
        return ExalsiusClient(url, token, timeout=timeout)
    except InsecureTransportError as err:
        raise InsecureTransportError(
            f"refusing to send credentials over plain http:// to {err.host}; use an https:// "
            "URL (%config Exalsius.api_url or EXALSIUS_API_URL), or %exalsius logout / unset "
            "EXALSIUS_TOKEN for a server without a token", host=err.host) from None


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
    """Remove the magics and the configurable; stop the sandbox they started."""
    magics = _instance(shell)
    if magics is None:
        return
    magics.close()
    manager = shell.magics_manager
    for kind in ("line", "cell"):
        if manager.magics[kind].get("exalsius") == magics.exalsius:
            del manager.magics[kind]["exalsius"]
    dict.pop(manager.registry, Exalsius.__name__, None)
    shell.configurables[:] = [c for c in shell.configurables if c is not magics]
