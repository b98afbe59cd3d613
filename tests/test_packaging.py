"""The package as an operator installs it: the wheel carries its type markers and its licence, every
package the code imports is declared, the container is built from the same files, and `.env.example`
names every variable the settings read.

The wheel is built from a copy of exactly what the Dockerfile copies (``pip wheel --no-deps``, the
build the image's ``pip install`` runs), so the test never writes ``build/`` into the working tree.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from bot.config import load_settings

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "channels", "cadence_adapter")
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", *PACKAGES)
"""What ``pip install .`` reads, and all the Dockerfile copies."""

NOT_IMPORTED_ON_PURPOSE = {
    "sniffio": "httpcore looks for it on every lock it takes (the comment in pyproject.toml)",
    "tzdata": "zoneinfo's time zones where the system has none (python:3.11-slim, Windows)",
}
"""Runtime dependencies that no module imports by name, and why they are still needed."""


def _normal(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): ``Psycopg_Pool`` -> ``psycopg-pool``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return _normal(match.group(1))


def _project() -> dict[str, object]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert isinstance(project, dict)
    return project


def _runtime_dependencies() -> set[str]:
    dependencies = _project()["dependencies"]
    assert isinstance(dependencies, list)
    return {_requirement_name(requirement) for requirement in dependencies}


def _imports(paths: Iterator[Path]) -> dict[str, set[str]]:
    """Top-level module -> the files importing it (absolute imports, at any depth in the file)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(REPO)))
    return found


def _third_party_imports() -> dict[str, set[str]]:
    sources = (path for package in PACKAGES for path in sorted((REPO / package).rglob("*.py")))
    return {
        module: files
        for module, files in _imports(sources).items()
        if module not in sys.stdlib_module_names and module not in PACKAGES
    }


# -- the wheel ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.exists():  # a missing LICENSE fails the build (license-files), which says so
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--quiet", "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"pip wheel failed:\n{result.stdout}\n{result.stderr}"
    (built,) = out.glob("cadence_bot-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def test_the_wheel_marks_every_package_typed(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for package in PACKAGES:
        assert f"{package}/py.typed" in names, f"{package}/py.typed is not in the wheel"
    assert "cadence_adapter/sandbox/demo_seed.json" in names  # the sandbox's other package data


def test_the_wheel_carries_the_mit_licence(wheel: zipfile.ZipFile) -> None:
    licences = [name for name in wheel.namelist() if re.fullmatch(r"[^/]+\.dist-info/licenses/LICENSE", name)]
    assert licences, "no LICENSE in the wheel's .dist-info/licenses/"
    text = wheel.read(licences[0]).decode("utf-8")
    assert text.startswith("MIT License") and "the cadence-bot authors" in text
    (metadata,) = (name for name in wheel.namelist() if name.endswith(".dist-info/METADATA"))
    assert "License-Expression: MIT" in wheel.read(metadata).decode("utf-8").splitlines()


def test_the_wheel_does_not_require_the_benchmarks_tools(wheel: zipfile.ZipFile) -> None:
    (metadata,) = (name for name in wheel.namelist() if name.endswith(".dist-info/METADATA"))
    requires = [
        line.split(":", 1)[1].strip()
        for line in wheel.read(metadata).decode("utf-8").splitlines()
        if line.startswith("Requires-Dist:")
    ]
    unconditional = {_requirement_name(r) for r in requires if "extra ==" not in r}
    assert "dateparser" not in unconditional
    assert 'dateparser>=1.2; extra == "bench"' in requires


# -- dependencies -------------------------------------------------------------------------------------


def test_every_imported_package_is_declared() -> None:
    declared = _runtime_dependencies()
    distributions = packages_distributions()
    undeclared = []
    for module, files in sorted(_third_party_imports().items()):
        providers = {_normal(name) for name in distributions.get(module, [])}
        if not providers:
            undeclared.append(f"{module} (imported by {', '.join(sorted(files))}) is not even installed")
        elif not providers & declared:
            undeclared.append(
                f"{module} (imported by {', '.join(sorted(files))}): declare {' or '.join(sorted(providers))}"
            )
    assert not undeclared, "imported but not in [project] dependencies:\n" + "\n".join(undeclared)


def test_every_runtime_dependency_is_imported_or_explained() -> None:
    modules_of: dict[str, set[str]] = {}
    for module, names in packages_distributions().items():
        for name in names:
            modules_of.setdefault(_normal(name), set()).add(module)
    imported = set(_third_party_imports())
    unused = sorted(
        name
        for name in _runtime_dependencies()
        if not modules_of.get(name, set()) & imported and name not in NOT_IMPORTED_ON_PURPOSE
    )
    assert not unused, f"runtime dependencies nothing imports (an extra? NOT_IMPORTED_ON_PURPOSE?): {unused}"


def test_benchmarks_need_only_the_bench_extra_and_test_support() -> None:
    project = _project()
    extras = project["optional-dependencies"]
    assert isinstance(extras, dict)
    assert {_requirement_name(r) for r in extras["bench"]} >= {"dateparser", "types-dateparser"}
    assert "cadence-bot[bench]" in extras["dev"]  # make installs .[dev], and make bench runs nlu.py
    scripts = sorted((REPO / "benchmarks").glob("*.py"))
    installed = set(packages_distributions())
    for script in scripts:
        # Run as a script, benchmarks/ is sys.path[0]: a file named like a package hides it.
        assert script.stem not in installed | set(sys.stdlib_module_names), f"{script.name} shadows a package"
    for module, files in _imports(iter(scripts)).items():
        assert module != "conftest", files
    for script in scripts:  # test support is tests.support; conftest is pytest's (and imports it)
        assert "tests.conftest" not in script.read_text(encoding="utf-8"), f"{script.name} imports conftest"


# -- the container ------------------------------------------------------------------------------------


def test_the_image_is_built_from_what_the_wheel_is() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    copied = {
        Path(source).name
        for line in re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE)
        for source in line.split()[:-1]
    }
    assert copied == set(BUILD_INPUTS)
    allowed = {
        line[1:].strip("/")
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    assert set(BUILD_INPUTS) <= allowed
    assert re.search(r"^USER (?!root|0\b)", dockerfile, re.MULTILINE), "the image must not run as root"
    assert re.search(r"^HEALTHCHECK .*/healthz", dockerfile.replace("\\\n", " "), re.MULTILINE)


# -- the environment ----------------------------------------------------------------------------------


class _Recording(Mapping[str, str]):
    """An environment that records every name asked of it and holds only ``values``."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self.values[key]

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return self.values.get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return key in self.values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _settings_variables() -> set[str]:
    """Every variable ``load_settings`` asks for (with and without a default tenant, which gates the
    single-tenant ones), plus every such name spelled in ``bot/config.py``."""
    names: set[str] = set()
    for values in ({}, {"BOT_DEFAULT_TENANT": "movela"}):
        environ = _Recording(values)
        load_settings(environ)
        names |= environ.asked
    source = (REPO / "bot" / "config.py").read_text(encoding="utf-8")
    names |= set(re.findall(r"\b(?:CADENCE|BOT|TELEGRAM|TWILIO)_[A-Z][A-Z0-9_]*\b", source))
    return names


def test_env_example_names_every_setting_each_with_a_comment() -> None:
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    listed: dict[str, int] = {}
    for number, line in enumerate(lines):
        match = re.match(r"([A-Z][A-Z0-9_]*)=", line)
        if match:
            assert match.group(1) not in listed, f"{match.group(1)} is listed twice"
            listed[match.group(1)] = number
            assert number and lines[number - 1].startswith("# "), f"{match.group(1)} has no comment above it"
    read, documented = _settings_variables(), set(listed)
    assert "CADENCE_BASE_URL" in read and "BOT_LANGUAGE" in read  # the recording saw the settings at all
    assert not read - documented, f"read by the settings, not in .env.example: {sorted(read - documented)}"
    assert not documented - read, f"in .env.example but never read: {sorted(documented - read)}"


def test_the_wheel_installed_in_a_clean_venv_checks_out_against_the_sandbox(
    wheel: zipfile.ZipFile, tmp_path: Path
) -> None:
    """What a new operator does first: ``pip install`` in a clean venv, then ``cadence-bot check``. The
    tests run offline, so the venv borrows the dependencies (not cadence-bot itself) from this one."""
    import site
    import sysconfig

    from tests.conftest import SALON_KEY, salon_seed
    from tests.reliability._served import sandbox_process

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Plain path lines only: this venv's .pth hooks (the editable install of this checkout) don't run there.
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (Path(purelib) / "borrowed-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel.filename)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert installed.returncode == 0, installed.stderr
    where = subprocess.run(
        [str(python), "-c", "import bot; print(bot.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,  # not this checkout's directory, which would be first on the path
        env={"PATH": os.environ.get("PATH", "")},
    ).stdout
    assert where.startswith(purelib), f"bot imported from {where}, not from the installed wheel"
    with sandbox_process(salon_seed()) as url:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "CADENCE_BASE_URL": url,
            "BOT_DEFAULT_TENANT": "salon",
            "CADENCE_ORG_API_KEY": SALON_KEY,
        }
        checked = subprocess.run(
            [str(venv / "bin" / "cadence-bot"), "check"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "tenant 'salon' is Studio Salon; its org key works" in checked.stdout
