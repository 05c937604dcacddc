"""The README tells the truth: its Python example runs; it names every subcommand and setting."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The README's text under ``## title``, up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def code_block(text: str, lang: str = "python") -> str:
    """The first fenced code block of ``lang`` in ``text``."""
    match = re.search(rf"^```{lang}\n(.*?)^```", text, re.M | re.S)
    assert match, f"no ```{lang} block"
    return match.group(1)


def test_python_in_five_lines_is_five_lines_that_run() -> None:
    code = code_block(section("Python in five lines"))
    lines = [line for line in code.splitlines() if line.strip()]
    assert len(lines) == 5, code
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXALSIUS_")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    demo = [line for line in done.stdout.splitlines() if " demo " in f" {line} "]
    assert len(demo) == 1 and "RUNNING" in demo[0], done.stdout


def test_the_magic_in_five_lines_is_five_lines() -> None:
    code = code_block(section("The magic in five lines"))
    assert len([line for line in code.splitlines() if line.strip()]) == 5


def test_every_subcommand_is_listed() -> None:
    from exalsius_jupyter.magics.commands import COMMANDS

    text = section("The magic in five lines")
    missing = [c.NAME for c in COMMANDS if f"`{c.NAME}" not in text]
    assert not missing, f"README's subcommand list leaves out {missing}"


def test_create_wait_blocks_and_only_watch_returns_at_once() -> None:
    """`--wait` blocks the cell; the README never says it lets other cells run."""
    for sentence in re.split(r"(?<=[.;])\s", " ".join(README.split())):
        if "--wait" in sentence and "--watch" not in sentence:
            assert "keep running" not in sentence and "returns at once" not in sentence, sentence


def test_the_configuration_table_names_the_api_key_header_setting() -> None:
    from exalsius_jupyter.magics.magic import Exalsius

    assert "api_key_header" in Exalsius.class_trait_names(config=True)
    table = section("Configuration")
    row = next(line for line in table.splitlines() if "X-API-Key" in line)
    assert "`%config Exalsius.api_key_header" in row and "api_key_header=True" in row


def test_the_readme_names_the_notebooks_and_their_uncompared_cells() -> None:
    import json

    lax = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        lax[path.stem] = sum(1 for c in cells if c["cell_type"] == "code"
                             and "".join(c["source"]).startswith("# NBVAL_IGNORE_OUTPUT"))
    text = " ".join(section("Notebooks as tests").split())
    for name in (name for name, count in lax.items() if count):
        assert f"`{name}.ipynb`" in text, name
    docs = {"quickstart": 1, "magics-reference": 3, "python-api": 1, "exploring-workspaces": 0}
    assert {name: lax.get(name) for name in docs} == docs
    for name in docs:
        assert f"`{name}`" in section("The magic in five lines"), name
