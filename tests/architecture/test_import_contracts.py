"""The import contracts in pyproject.toml ([tool.importlinter]) hold for the package, and each
kind breaks when a forbidden import is added to a copy of it: so the CI step that runs them can
fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("states", "store", "flows", "notifications", "api", "cli", "seeds")
LINT = "import sys; from importlinter.cli import lint_imports_command as lint; sys.exit(lint())"


def lint_copy(
    tmp_path: Path, change: tuple[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """lint-imports on a copy of the package, with `change` = (module file, line) appended."""
    package = tmp_path / "upphandla"
    package.mkdir()
    shutil.copy(ROOT / "__init__.py", package / "__init__.py")
    for name in PACKAGES:
        shutil.copytree(ROOT / name, package / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if change is not None:
        path, line = change
        with (package / path).open("a", encoding="utf-8") as module:
            module.write(f"\n{line}\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}  # the copy, not the installed package
    return subprocess.run(
        [sys.executable, "-c", LINT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_package_keeps_every_contract(tmp_path: Path) -> None:
    result = lint_copy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("change", "broken"),
    [
        (("flows/handler.py", "import sqlalchemy"), "Only store/ talks to the database"),
        (
            ("api/deps.py", "from sqlalchemy.orm import Session"),
            "Only store/ talks to the database",
        ),
        (("store/db.py", "import upphandla.flows.handler"), "Layers: cli > api > flows"),
        (("states/case.py", "import upphandla.store.records"), "Layers: cli > api > flows"),
        (("states/gates.py", "import fastapi"), "states/ imports no framework"),
        (("store/records.py", "import upphandla.seeds.loader"), "store/ uses nothing of ours"),
        (("states/definition.py", "import upphandla.states.checks"), "No import cycles"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, change: tuple[str, str], broken: str
) -> None:
    result = lint_copy(tmp_path, change)
    assert result.returncode != 0
    lines = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(line.startswith(broken) for line in lines), result.stdout
