"""The house rules of tests/test_architecture.py, applied to `live` (which that test does not list yet):
small modules and functions, and no app below `live` importing it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def modules(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/tests/" not in relative and "/migrations/" not in relative:
            yield relative, ast.parse(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("app", ["core", "fulfillment", "pickups", "monitoring"])
def test_the_apps_below_live_do_not_import_it(app):
    wrong = [
        path
        for path, tree in modules(app)
        for node in ast.walk(tree)
        if (isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "live")
        or (isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "live" for alias in node.names))
    ]
    assert wrong == []


def test_live_imports_only_the_apps_below_it():
    wrong = [
        f"{path}: {node.module}"
        for path, tree in modules("live")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in ("pickups", "backoffice")
    ]
    assert wrong == []


def test_live_modules_and_functions_are_small():
    too_long = []
    for path, tree in modules("live"):
        if (ROOT / path).read_text(encoding="utf-8").count("\n") > 500:
            too_long.append(path)
        too_long += [
            f"{path}:{node.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 80
        ]
    assert too_long == []
