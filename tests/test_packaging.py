"""Packaging: what the sdist and the wheel hold, what the wheel declares, and that it works alone.

The sdist and the wheel are built once per run (`python -m build --no-isolation`: the test
environment's setuptools, which the `test` dependency group pins to the same floor as
[build-system]), from a copy of the working tree without .git, .venv, caches and egg-info, as a
fresh clone would be; the wheel is built from the sdist, so a file missing from the sdist fails
too. The wheel is then installed, with its dependencies from the package index, into a fresh
virtual environment, where a subprocess (isolated mode, cwd outside the repo, so the source
tree cannot shadow it) loads the extension into an IPython shell and runs a sandbox round trip.

The expected package files come from the source tree, not a list, so new subpackages count.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from dataclasses import dataclass
from email.message import Message
from email.parser import Parser
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "exalsius_jupyter"
DIST = "exalsius_jupyter"  # the distribution name as file names spell it
# What may stand at the top of the sdist, besides the package: nothing of tests/, notebooks/ ...
SDIST_TOP = {
    "PKG-INFO",
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "MANIFEST.in",
    "setup.cfg",
    PACKAGE,
    f"{DIST}.egg-info",
}
# Not copied into the build tree: what a fresh clone does not have.
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "venv",
    "*.egg-info",
    "build",
    "dist",
    "__pycache__",
    "*.pyc",
    ".hypothesis",
    ".ruff_cache",
    ".pytest_cache",
    ".mypy_cache",
    "node_modules",
    "test-artifacts",
    ".ipynb_checkpoints",
)
BUILD_TIMEOUT = 300
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 120


@dataclass(frozen=True)
class Built:
    """The source copy the distributions were built from, and the two files."""

    source: Path
    sdist: Path
    wheel: Path

    def package_files(self) -> set[str]:
        """Every file of the package in the source tree (e.g. `exalsius_jupyter/api/client.py`)."""
        root = self.source / PACKAGE
        return {
            path.relative_to(self.source).as_posix()
            for path in root.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        }

    def version(self) -> str:
        """`__version__` as written in the source copy's _version.py."""
        tree = ast.parse((self.source / PACKAGE / "_version.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
            ):
                return ast.literal_eval(node.value)
        raise AssertionError("no __version__ in _version.py")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Build the sdist, then the wheel from it, out of a clean copy of the working tree."""
    base = tmp_path_factory.mktemp("packaging")
    source, out = base / "src", base / "dist"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    cmd = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT, cwd=base)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out.iterdir())
    return Built(source, sdists[0], wheels[0])


def wheel_metadata(wheel: Path) -> Message:
    """The METADATA of `wheel`, parsed as the email-style headers it is."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(zf.read(name).decode())


def requirements(meta: Message, extra: str | None = None) -> set[str]:
    """The names of the distributions that `meta` requires, at run time or for `extra`."""
    names = set()
    for text in meta.get_all("Requires-Dist") or []:
        req = Requirement(text)
        wanted = (
            req.marker is None
            if extra is None
            else (req.marker is not None and req.marker.evaluate({"extra": extra}))
        )
        if wanted:
            names.add(canonicalize_name(req.name))
    return names


@pytest.mark.packaging
def test_sdist_holds_the_package_license_and_readme_and_no_junk(built: Built) -> None:
    """The sdist has LICENSE, README.md, pyproject.toml, every package file and py.typed; no
    tests/, notebooks/, .venv or compiled files."""
    top = f"{DIST}-{built.version()}/"
    with tarfile.open(built.sdist) as tf:
        members = [m.name for m in tf.getmembers() if m.isfile()]
    assert all(name.startswith(top) for name in members), members
    names = {name[len(top) :] for name in members}
    required = {"LICENSE", "README.md", "pyproject.toml", "PKG-INFO", f"{PACKAGE}/py.typed"}
    assert required <= names, sorted(required - names)
    missing = built.package_files() - names
    assert not missing, f"package files missing from the sdist: {sorted(missing)}"
    strays = sorted(name for name in names if name.split("/")[0] not in SDIST_TOP)
    assert not strays, f"files outside the package in the sdist: {strays}"
    compiled = sorted(name for name in names if "__pycache__" in name or name.endswith(".pyc"))
    assert not compiled, compiled


@pytest.mark.packaging
def test_wheel_holds_every_package_file_and_only_those(built: Built) -> None:
    """Every file of the source package (subpackages included) is in the wheel, with py.typed
    and the LICENSE; nothing else is (no top-level tests package)."""
    with zipfile.ZipFile(built.wheel) as zf:
        names = set(zf.namelist())
    dist_info = f"{DIST}-{built.version()}.dist-info/"
    assert f"{PACKAGE}/py.typed" in names
    missing = built.package_files() - names
    assert not missing, f"package files missing from the wheel: {sorted(missing)}"
    strays = sorted(n for n in names if not n.startswith((f"{PACKAGE}/", dist_info)))
    assert not strays, f"files outside the package in the wheel: {strays}"
    assert f"{dist_info}licenses/LICENSE" in names
    with zipfile.ZipFile(built.wheel) as zf:
        license_text = zf.read(f"{dist_info}licenses/LICENSE").decode()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text


@pytest.mark.packaging
def test_wheel_metadata_is_true(built: Built) -> None:
    """License expression, dependencies (urllib3>=2 above all), classifiers, URLs and a README
    whose images are absolute links, so that they render on PyPI."""
    meta = wheel_metadata(built.wheel)
    assert meta["Name"] == "exalsius-jupyter"
    assert meta["Version"] == built.version()
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Requires-Python"] == ">=3.10"

    requires = [Requirement(text) for text in meta.get_all("Requires-Dist") or []]
    runtime = {canonicalize_name(r.name): r for r in requires if r.marker is None}
    urllib3 = runtime.get("urllib3")
    assert urllib3 is not None, "urllib3 is imported by the client but not declared"
    assert not urllib3.specifier.contains("1.26.20"), "Retry(backoff_max=...) needs urllib3>=2"
    assert urllib3.specifier.contains("2.0.0")
    extras = set(meta.get_all("Provides-Extra") or [])
    assert extras - {"fast"} == {"yaml", "lab", "keyring"}, (
        "test tools belong in [dependency-groups], not an extra")

    classifiers = meta.get_all("Classifier") or []
    for expected in (
        "Framework :: Jupyter",
        "Framework :: IPython",
        "Typing :: Typed",
        "Intended Audience :: Science/Research",
        "Operating System :: OS Independent",
        *(f"Programming Language :: Python :: 3.{minor}" for minor in range(10, 14)),
    ):
        assert expected in classifiers, expected
    assert any(c.startswith("Topic :: ") for c in classifiers)
    assert not [c for c in classifiers if c.startswith("License ::")], "PEP 639 forbids these"
    assert meta.get_all("Keywords")

    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL") or [])
    assert urls["Homepage"] == "https://exalsius.ai"
    repo = "https://github.com/exalsius/exalsius-jupyter"
    assert urls["Repository"] == repo
    assert urls["Issues"].startswith(repo) and urls["Documentation"].startswith(repo)

    assert meta["Description-Content-Type"] == "text/markdown"
    readme = meta.get_payload()
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)", readme)
    assert images, "the README shows its screenshots"
    relative = [link for link in images if not link.startswith("https://")]
    assert not relative, f"relative image links do not render on PyPI: {relative}"


@pytest.mark.packaging
def test_every_third_party_import_is_declared(built: Built) -> None:
    """Each third-party module the package imports (anywhere, TYPE_CHECKING and function-local
    imports included) is a Requires-Dist of the wheel; pyyaml may stay in the `yaml` extra,
    keyring in the `keyring` extra and msgspec in the `fast` extra."""
    imported: set[str] = set()
    for path in (built.source / PACKAGE).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = sorted(imported - set(sys.stdlib_module_names) - {PACKAGE})
    assert {"IPython", "ipywidgets", "pandas", "requests", "urllib3"} <= set(third_party)
    meta = wheel_metadata(built.wheel)
    declared = requirements(meta)
    optional = {module: requirements(meta, extra)
                for module, extra in (("yaml", "yaml"), ("keyring", "keyring"),
                                      ("msgspec", "fast"))}
    distributions = packages_distributions()  # import name -> distributions, in this env
    undeclared = {}
    for module in third_party:
        names = {canonicalize_name(name) for name in distributions.get(module, [module])}
        if not names & (declared | optional.get(module, set())):
            undeclared[module] = sorted(names)
    assert not undeclared, f"imported but not declared in [project] dependencies: {undeclared}"


# Runs in the fresh venv, isolated (-I): no cwd or PYTHONPATH on sys.path, no user site.
SCRIPT = r"""
import importlib.metadata, json, sys
import pandas as pd
from IPython.core.interactiveshell import InteractiveShell
import exalsius_jupyter

shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "exalsius_jupyter")
shell.run_line_magic("exalsius", "sandbox start --workspaces 3 --seed 1")
try:
    df = shell.run_line_magic("exalsius", "list")
finally:
    shell.run_line_magic("exalsius", "sandbox stop")
modules = {name: getattr(module, "__file__", None) for name, module in sys.modules.items()
           if name == "exalsius_jupyter" or name.startswith("exalsius_jupyter.")}
print("RESULT " + json.dumps({
    "prefix": sys.prefix,
    "file": exalsius_jupyter.__file__,
    "modules": modules,
    "version": exalsius_jupyter.__version__,
    "dist_version": importlib.metadata.version("exalsius-jupyter"),
    "is_dataframe": isinstance(df, pd.DataFrame),
    "type": type(df).__module__ + "." + type(df).__qualname__,
    "rows": len(df) if isinstance(df, pd.DataFrame) else None,
}))
"""


@pytest.mark.packaging
@pytest.mark.timeout(BUILD_TIMEOUT + INSTALL_TIMEOUT + RUN_TIMEOUT)
def test_wheel_installs_into_a_fresh_venv_and_runs_the_magic(built: Built, tmp_path: Path) -> None:
    """Install the wheel alone (dependencies from the index) into a new venv, then `%load_ext`,
    `%exalsius sandbox start --workspaces 3`, `df = %exalsius list` (a DataFrame of 3 rows) and
    `%exalsius sandbox stop` there."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    dropped = ("PYTHON", "EXALSIUS_", "VIRTUAL_ENV", "PIP_TARGET", "PIP_PREFIX", "PIP_USER")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    # This environment's pip installs into the new one (pip --python), which saves ensurepip;
    # pip's own cache keeps repeated runs from downloading the dependencies again.
    install = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(python),
        "install",
        "--disable-pip-version-check",
        "-q",
        str(built.wheel),
    ]
    proc = subprocess.run(
        install, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, cwd=tmp_path, env=env
    )
    assert proc.returncode == 0, f"installing the wheel failed:\n{proc.stdout}\n{proc.stderr}"

    env["IPYTHONDIR"] = str(tmp_path / "ipython")
    env["MPLCONFIGDIR"] = str(tmp_path / "mpl")
    proc = subprocess.run(
        [str(python), "-I", "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, f"the script failed:\n{proc.stdout}\n{proc.stderr}"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, proc.stdout + proc.stderr
    result = json.loads(lines[-1].removeprefix("RESULT "))
    assert "Sandbox running at http://127.0.0.1:" in proc.stdout
    assert "Sandbox stopped" in proc.stdout

    prefix = Path(result["prefix"]).resolve()
    assert prefix == env_dir.resolve()
    assert Path(result["file"]).resolve().is_relative_to(prefix), result["file"]
    outside = {
        name: file
        for name, file in result["modules"].items()
        if file is None or not Path(file).resolve().is_relative_to(prefix)
    }
    assert not outside, f"package modules not loaded from the fresh venv: {outside}"
    assert result["version"] == result["dist_version"] == built.version()
    assert result["is_dataframe"], f"%exalsius list returned {result['type']}"
    assert result["rows"] == 3, "the sandbox was started with 3 demo workspaces"
