"""The reference pages cover the code, and only the code: settings, traits, environment
variables, subcommands and their options, sandbox options; links resolve; versions agree."""

from __future__ import annotations

import argparse
import re

from docs_support import ROOT, blocks, pages

from exalsius_jupyter import _version, settings
from exalsius_jupyter.magics.commands import COMMANDS, build_parser, cell_parsers
from exalsius_jupyter.magics.magic import Exalsius
from exalsius_jupyter.magics.parser import CommandParser
from exalsius_jupyter.sandbox import options as sandbox_options

DOCS = ROOT / "docs"
ENV_NAME = re.compile(r"\bEXALSIUS_[A-Z][A-Z_]*[A-Z]\b")
# Where the project reads environment variables: the package, the dev commands, the benches and
# the browser tests' Chromium lookup.
ENV_SOURCES = [*(ROOT / "exalsius_jupyter").rglob("*.py"), ROOT / "dev.py",
               *(ROOT / "bench").glob("*.py"), ROOT / "tests" / "browser" / "conftest.py"]


def text(name: str) -> str:
    """A page's Markdown."""
    return (ROOT / name).read_text(encoding="utf-8")


def section(page: str, title: str) -> str:
    """A page's text under ``## title`` up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text(page), re.M | re.S)
    assert match, f"{page} has no section {title!r}"
    return match.group(1)


def first_cells(markdown: str) -> list[str]:
    """The first cell of each table row (not the header or the rule)."""
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    return [row.split("|")[1].strip() for row in rows[1:] if not row.startswith("|---")]


def code_names(cell: str) -> list[str]:
    """The backticked names of a table cell, each without what follows a space."""
    return [name.split()[0] for name in re.findall(r"`([^`]+)`", cell)]


# -- settings, traits and environment variables -----------------------------------------------


def test_every_setting_and_trait_is_documented_and_every_documented_one_exists() -> None:
    documented = [name for cell in first_cells(section("docs/configuration.md", "Settings"))
                  for name in code_names(cell)]
    traits = set(Exalsius.class_trait_names(config=True))
    assert set(settings.names()) == traits
    assert sorted(documented) == sorted(traits), "configuration.md's settings table"


def test_each_setting_row_gives_its_default_and_environment_variable() -> None:
    rows = {row.split("|")[1].strip("` "): row.split("|")
            for row in section("docs/configuration.md", "Settings").splitlines()
            if row.startswith("| `")}
    for setting in settings.rows():
        cells = [cell.strip() for cell in rows[setting.name]]
        assert cells[3] == f"`{setting.default!r}`", setting.name
        assert cells[4] == (f"`{setting.env}`" if setting.env else ""), setting.name


def env_read_by_the_project() -> set[str]:
    """Every whole ``EXALSIUS_...`` name in the code that reads or sets the environment."""
    return {name for path in ENV_SOURCES
            for name in ENV_NAME.findall(path.read_text(encoding="utf-8"))}


def test_every_environment_variable_is_documented_and_exists() -> None:
    documented = {name for cell in first_cells(section("docs/configuration.md",
                                                       "Environment variables"))
                  for name in code_names(cell)}
    in_code = env_read_by_the_project()
    assert {"EXALSIUS_API_URL", "EXALSIUS_TOKEN", "EXALSIUS_FAST"} <= in_code
    assert documented == in_code


def test_every_environment_variable_the_pages_name_exists() -> None:
    in_code = env_read_by_the_project()
    for page in pages():
        named = set(ENV_NAME.findall(page.read_text(encoding="utf-8")))
        assert named <= in_code, f"{page.name} names {named - in_code}"


# -- subcommands and their options -------------------------------------------------------------


def parsers() -> dict[str, CommandParser]:
    """Every parser the magic has, by the heading magics.md gives it."""
    found: dict[str, CommandParser] = {}
    top = build_parser()
    for name, parser in top.children.items():
        found[name] = parser
        found.update({f"{name} {child}": sub for child, sub in parser.children.items()})
    found.update({f"%%exalsius {name}": parser for name, parser in cell_parsers().items()})
    return found


def options_of(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string and positional metavar of a parser, help and subcommands aside."""
    names: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        names.update(action.option_strings or [str(action.metavar or action.dest.upper())])
    return names


def test_every_subcommand_has_a_section_and_every_section_is_a_subcommand() -> None:
    headings = re.findall(r"^## (.+)$", text("docs/magics.md"), re.M)
    have = parsers()
    wanted = {name for name, parser in have.items() if not parser.children}
    assert set(headings) == wanted, (set(headings) ^ wanted)


def test_every_option_is_documented_and_every_documented_option_exists() -> None:
    for name, parser in parsers().items():
        if parser.children:
            continue
        documented = {opt for cell in first_cells(section("docs/magics.md", name))
                      for opt in code_names(cell)}
        wanted = options_of(parser)
        assert documented == wanted, f"magics.md, {name}: {documented ^ wanted}"


def test_the_readme_table_names_every_subcommand() -> None:
    table = section("README.md", "Subcommands")
    named = {name for cell in first_cells(table) for name in code_names(cell)}
    assert named == {command.NAME for command in COMMANDS}


def test_every_sandbox_option_is_documented_and_exists() -> None:
    rows = [row.split("|") for row in section("docs/sandbox.md", "Options").splitlines()
            if row.startswith("| `")]
    documented = {row[1].strip().strip("`"): row[2].strip().strip("`") for row in rows}
    assert set(documented) == set(sandbox_options.names())
    flags = {f.name: f"--{f.name.replace('_', '-')}" for f in sandbox_options.fields()}
    for name, flag in documented.items():
        assert flag in (flags[name], f"--no-{name.replace('_', '-')}"), name


# -- links, the Develop section, the changelog --------------------------------------------------


def test_the_readme_links_to_the_docs_absolutely_and_they_exist() -> None:
    repo = "https://github.com/exalsius/exalsius-jupyter/blob/main/"
    links = re.findall(r"\]\(([^)\s]+)\)", text("README.md"))
    local = [link for link in links if not link.startswith("https://")]
    assert not local, f"relative links do not work on PyPI: {local}"
    ours = [link.removeprefix(repo) for link in links if link.startswith(repo)]
    assert {"docs/sign-in.md", "docs/magics.md", "CONTRIBUTING.md", "CHANGELOG.md"} <= set(ours)
    missing = [path for path in ours if not (ROOT / path.split("#")[0]).exists()]
    assert not missing, missing


def test_links_between_pages_resolve() -> None:
    for page in [*DOCS.glob("*.md"), ROOT / "CONTRIBUTING.md"]:
        for link in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if link.startswith(("https://", "http://", "#")):
                continue
            target = (page.parent / link.split("#")[0]).resolve()
            assert target.exists(), f"{page.name} links to a missing {link}"
            anchor = link.partition("#")[2]
            if anchor and target.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", target.read_text(encoding="utf-8"), re.M)
                slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                         for h in headings}
                assert anchor in slugs, f"{page.name}: no heading for #{anchor} in {target.name}"


def test_ci_runs_the_readmes_test_command() -> None:
    develop = section("README.md", "Develop")
    commands = [line.split("#")[0].strip() for block in blocks(ROOT / "README.md")
                if block.lang == "bash" and block.code in develop
                for line in block.code.splitlines()]
    assert "python3 dev.py test" in commands and "python3 dev.py lab" in commands
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.lstrip().startswith("#")]
    assert any(line.startswith("python3 dev.py test") for line in ci), ci


def test_the_newest_changelog_release_is_the_version() -> None:
    versions = re.findall(r"^## \[([^\]]+)\]", text("CHANGELOG.md"), re.M)
    released = [v for v in versions if v.lower() != "unreleased"]
    assert released, "CHANGELOG.md has no released version"
    assert released[0] == _version.__version__, (released[0], _version.__version__)
    links = dict(re.findall(r"^\[([^\]]+)\]: (\S+)$", text("CHANGELOG.md"), re.M))
    assert set(versions) <= set(links), "each version heading has its link"


def test_each_changelog_release_has_dated_sections() -> None:
    for match in re.finditer(r"^## \[(?P<v>[^\]]+)\](?P<rest>[^\n]*)\n(?P<body>.*?)(?=^## |\Z)",
                             text("CHANGELOG.md"), re.M | re.S):
        kinds = set(re.findall(r"^### (\w+)", match["body"], re.M))
        assert kinds and kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed",
                                   "Security"}, match["v"]
        if match["v"].lower() != "unreleased":
            assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", match["rest"]), match["v"]
