"""Every Python block of the README and docs/ runs, and every %exalsius line in them parses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docs_support import ROOT, blocks, inline_magics, magic_lines, pages
from IPython.core.error import UsageError

from exalsius_jupyter.magics.commands import build_parser, cell_parsers
from exalsius_jupyter.magics.parser import HelpShown, split_line

RUNNER = Path(__file__).with_name("docs_runner.py")
PAGES = [page for page in pages() if page.exists()]


def parse(line: str) -> None:
    """Parse one magic line with the magic's own parsers, without running it."""
    cell = line.startswith("%%")
    argv = split_line(line.split("%exalsius", 1)[1])
    try:
        if cell:
            cell_parsers()[argv[0]].parse_args(argv[1:])
            return
        _, extra = build_parser().parse_known_args(argv)
    except HelpShown:
        return
    assert not extra, f"unrecognized arguments {extra}"


def docs_env(tmp_path: Path) -> dict[str, str]:
    """A newcomer's environment: no EXALSIUS_* settings, a fresh home, no system keyring."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXALSIUS_")}
    env.update(HOME=str(tmp_path), EXALSIUS_LOCK_DIR=str(tmp_path / "locks"),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    return env


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_block_runs(page: Path, tmp_path: Path) -> None:
    runnable = [(b.where, b.code) for b in blocks(page) if b.lang == "python" and not b.not_run]
    skipped = [b for b in blocks(page) if b.lang == "python" and b.not_run]
    print(f"{page.name}: {len(runnable)} Python blocks run, {len(skipped)} marked not run")
    if not runnable:
        return
    done = subprocess.run([sys.executable, str(RUNNER)], input=json.dumps(runnable), cwd=tmp_path,
                          capture_output=True, text=True, timeout=240, env=docs_env(tmp_path))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert done.stdout.count("--- ") == len(runnable)


def test_the_docs_run_snippets() -> None:
    """The count the issue asks for; a page that loses all its runnable blocks shows here."""
    counts = {page.name: sum(1 for b in blocks(page) if b.lang == "python" and not b.not_run)
              for page in PAGES}
    print("Python blocks run per page:", counts, "total", sum(counts.values()))
    assert counts["README.md"] >= 1 and counts["magics.md"] >= 1
    assert counts["python-api.md"] >= 1 and counts["sandbox.md"] >= 1


def test_not_run_marks_say_why() -> None:
    for page in PAGES:
        for block in blocks(page):
            assert block.not_run is None or block.not_run.strip(), block.where


def check_mention(span: str) -> None:
    """A ``%exalsius ...`` span in prose: its subcommand exists and takes each option it names."""
    argv = split_line(span.split("%exalsius", 1)[1])
    parser = build_parser().children[argv[0]]
    if len(argv) > 1 and argv[1] in parser.children:
        parser = parser.children[argv[1]]
    known = {opt for action in parser._actions for opt in action.option_strings}
    unknown = [arg.split("=")[0] for arg in argv if arg.startswith("-")
               and arg.split("=")[0] not in known]
    assert not unknown, f"{argv[0]} takes no {unknown}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_magic_line_parses(page: Path) -> None:
    """Code lines parse whole; a span in prose names a real subcommand and real options."""
    bad = []
    for block, line in magic_lines(page):
        try:
            parse(line.split("=", 1)[1].strip() if line.split()[0].isidentifier() else line)
        except (UsageError, AssertionError, KeyError, IndexError) as err:
            bad.append(f"{block.where}: {line!r}: {err}")
    for span in inline_magics(page):
        if span.split()[1].isupper():  # a placeholder: `%exalsius SUBCOMMAND --help`
            continue
        try:
            check_mention(span)
        except (UsageError, AssertionError, KeyError, IndexError) as err:
            bad.append(f"{page.name}: {span!r}: {err!r}")
    assert not bad, "\n".join(bad)


def test_the_parse_check_can_fail() -> None:
    for line in ("%exalsius lst", "%exalsius list --colour red", "%exalsius stop --token=abc",
                 "%%exalsius create --gpus 2"):
        with pytest.raises((UsageError, AssertionError)):
            parse(line)
    for span in ("%exalsius lst", "%exalsius wait --colour", "%exalsius sandbox start --wait"):
        with pytest.raises((KeyError, AssertionError)):
            check_mention(span)


def test_the_runner_fails_on_a_failing_block(tmp_path: Path) -> None:
    """A block whose magic raises (a one-line UsageError, no traceback) fails the page."""
    blocks_in = [["ok", "x = 1"], ["bad", "%load_ext exalsius_jupyter\n%exalsius describe nosuch"],
                 ["never", "print('not reached')"]]
    env = {**docs_env(tmp_path), "EXALSIUS_API_URL": "http://127.0.0.1:9/v1"}
    done = subprocess.run([sys.executable, str(RUNNER)], input=json.dumps(blocks_in), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED bad" in done.stdout and "not reached" not in done.stdout
