"""``%exalsius templates``: the workspace templates the service offers and what a user sets."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..parser import CommandParser, add_output

if TYPE_CHECKING:
    import pandas as pd

    from ..context import CommandContext

NAME = "templates"
HELP = "workspace templates: name, description, variables (secrets marked)"


def add_parser(top: CommandParser) -> CommandParser:
    """``templates [-o VAR]``."""
    p = top.child(NAME, help=HELP,
                  description="List the workspace templates: their names (for create "
                              "--template), what they are, the variables a create can set by "
                              "dotted path (--var path=value) and which of them are secrets.")
    add_output(p, "the DataFrame")
    return p


def run(ctx: CommandContext, args: argparse.Namespace) -> pd.DataFrame:
    """The templates frame, with a ``secrets`` column."""
    import pandas as pd

    from ...model.variables import secret_paths

    templates = ctx.client().list_workspace_templates()
    frame = templates.to_dataframe()
    frame["secrets"] = pd.array([", ".join(secret_paths(t.variables)) or None
                                 for t in templates], dtype=pd.StringDtype())
    if args.output:
        ctx.user_ns[args.output] = frame
    return frame
