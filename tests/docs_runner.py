"""Run a page's Python blocks in order in one IPython shell, as a notebook user would.

Reads a JSON list of ``[where, code]`` on stdin; exits 1 at the first block that fails. The
shell plays a kernel whose user answers: a hidden prompt gets a made-up password, a yes/no
question gets "y". Run by tests/test_docs_blocks.py in a subprocess with a timeout.
"""

from __future__ import annotations

import builtins
import getpass
import json
import sys
import types

from IPython.core.interactiveshell import InteractiveShell


def main() -> int:
    """Run the blocks; print each block's place before it runs."""
    shell = InteractiveShell.instance()
    shell.kernel = types.SimpleNamespace(_allow_stdin=True)  # a kernel with a user at it
    getpass.getpass = lambda prompt="", stream=None: "docs-example-password"  # type: ignore[assignment]
    builtins.input = lambda prompt="": "y"
    for where, code in json.load(sys.stdin):
        print(f"--- {where}", flush=True)
        result = shell.run_cell(code, store_history=True)
        if not result.success:
            error = result.error_before_exec or result.error_in_exec
            print(f"FAILED {where}: {type(error).__name__}: {error}", flush=True)
            return 1
    shell.run_line_magic("unload_ext", "exalsius_jupyter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
