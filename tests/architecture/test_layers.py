"""The import rules that make the layers real (DESIGN.md), checked on the source itself:
nothing above store/ talks to SQLAlchemy, and our modules import each other at module level
only, so that an import cycle cannot hide inside a function (the command line may import a
heavy command's modules when the command runs)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("states", "store", "flows", "notifications", "api", "cli", "seeds")


def modules(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def imports(source: str) -> list[tuple[int, str, bool]]:
    """(line, module, inside a function) for every import statement of a module's source."""
    found: list[tuple[int, str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                found.append((child.lineno, child.module, in_function))
            visit(child, nested)

    visit(ast.parse(source), False)
    return found


def sqlalchemy_imports(source: str) -> list[int]:
    return [
        line
        for line, module, _ in imports(source)
        if module == "sqlalchemy" or module.startswith("sqlalchemy.")
    ]


def function_level_imports_of_ours(source: str) -> list[int]:
    return [
        line
        for line, module, in_function in imports(source)
        if in_function and (module == "upphandla" or module.startswith("upphandla."))
    ]


def offenders(paths: list[Path], finder: object) -> list[str]:
    assert callable(finder)
    return [
        f"{path.relative_to(ROOT)}:{line}"
        for path in paths
        for line in finder(path.read_text(encoding="utf-8"))
    ]


def test_no_module_of_api_cli_or_flows_imports_sqlalchemy() -> None:
    assert offenders(modules("api", "cli", "flows"), sqlalchemy_imports) == []


def test_the_sqlalchemy_rule_sees_every_form_of_import() -> None:
    source = (
        "import os\n"
        "import sqlalchemy\n"
        "import sqlalchemy.orm as orm\n"
        "from sqlalchemy import select\n"
        "def f():\n"
        "    from sqlalchemy.exc import IntegrityError\n"
        "from upphandla.store.uow import UnitOfWork\n"
        "from sqlalchemy_utils import x\n"
    )
    assert sqlalchemy_imports(source) == [2, 3, 4, 6]


def test_our_modules_import_each_other_at_module_level() -> None:
    below_the_command_line = [p for p in modules(*PACKAGES) if p.parts[len(ROOT.parts)] != "cli"]
    assert offenders(below_the_command_line, function_level_imports_of_ours) == []


def test_the_module_level_rule_sees_imports_in_functions_and_methods() -> None:
    source = (
        "from upphandla.states import clock\n"
        "class A:\n"
        "    def m(self):\n"
        "        from upphandla.states.gates import Check\n"
        "def f():\n"
        "    import json\n"
        "    async def g():\n"
        "        import upphandla.store.db\n"
    )
    assert function_level_imports_of_ours(source) == [4, 8]
