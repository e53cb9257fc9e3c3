"""The shape of the house, checked from the code itself (issue: one owner of the parcel's state, an
explicit derivation pipeline, shared pieces in one place). Plain `ast` over the production modules:
anyone can run the same checks with `python -m pytest tests/test_architecture.py`."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "fulfillment", "pickups", "monitoring", "backoffice", "api", "notifications", "live", "config")
PARCEL_STATE_WRITERS = {"fulfillment/parcel_state.py", "fulfillment/derivations.py"}
# A parcel's state: the status and the milestones (DESIGN.md, "The parcel's life").
STATE_COLUMNS = {
    "status",
    "paid_at",
    "shipped_at",
    "rts_at",
    "picked_up_at",
    "sorting_centre_at",
    "out_for_delivery_at",
    "delivered_at",
    "last_event_at",
}


@cache
def production_modules() -> dict[str, ast.Module]:
    modules = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/tests/" in relative or "/migrations/" in relative:
                continue
            modules[relative] = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
    return modules


def imported_modules(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_transition_not_allowed_is_defined_once():
    definitions = [
        path
        for path, tree in production_modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name == "TransitionNotAllowed"
    ]
    assert definitions == ["core/errors.py"]


@pytest.mark.parametrize(
    ("app", "forbidden"),
    [
        ("core", ("fulfillment", "pickups", "monitoring", "backoffice", "api", "notifications", "live")),
        ("fulfillment", ("pickups", "monitoring", "backoffice", "api", "notifications", "live")),
        ("pickups", ("monitoring", "backoffice", "api", "notifications", "live")),
        ("monitoring", ("pickups", "backoffice", "api", "notifications", "live")),
        ("backoffice", ("api", "notifications", "live")),
        ("api", ("backoffice", "notifications", "live")),
        ("notifications", ("pickups", "backoffice", "api", "live")),
        ("live", ("pickups", "backoffice", "api", "notifications")),
    ],
)
def test_dependencies_point_one_way(app, forbidden):
    """backoffice → monitoring → fulfillment → core, and pickups → fulfillment; monitoring does not
    import pickups. Names in strings (settings' dotted paths) are how steps above plug in."""
    wrong = sorted(
        f"{path} imports {name}"
        for path, tree in production_modules().items()
        if path.startswith(f"{app}/")
        for name in imported_modules(tree)
        if name.split(".")[0] in forbidden
    )
    assert wrong == []


def test_fulfillment_names_nothing_of_the_apps_above_it_even_in_strings():
    wrong = sorted(
        f"{path}:{node.lineno}: {node.value!r}"
        for path, tree in production_modules().items()
        if path.startswith("fulfillment/")
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and any(node.value.startswith(f"{app}.") for app in ("pickups", "monitoring", "backoffice"))
    )
    assert wrong == []


def test_database_vendor_branches_live_in_core_db():
    wrong = sorted(
        f"{path}:{node.lineno}"
        for path, tree in production_modules().items()
        if not path.startswith("core/db/")
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "vendor"
    )
    assert wrong == []


def test_no_literal_table_names_in_sql_strings():
    tables = ("fulfillment_", "pickups_", "monitoring_")
    wrong = sorted(
        f"{path}:{node.lineno}"
        for path, tree in production_modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and any(word in node.value for word in ("SELECT", "UPDATE", "INSERT", "DELETE", "FROM"))
        and any(table in node.value for table in tables)
    )
    assert wrong == []


def _chain_root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def test_only_the_parcel_state_module_writes_a_parcels_status_or_milestones():
    """No `Parcel.objects….update(status=…)`, `ParcelDraft…update(picked_up_at=…)` or
    `parcel.status = …` outside `fulfillment.parcel_state` (and the pipeline's one write)."""
    wrong = []
    for path, tree in production_modules().items():
        if path in PARCEL_STATE_WRITERS:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("update", "bulk_update")
                and _chain_root(node.func) in ("Parcel", "ParcelDraft")
                and ({kw.arg for kw in node.keywords} & STATE_COLUMNS or node.func.attr == "bulk_update")
            ):
                wrong.append(f"{path}:{node.lineno}")
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and target.attr in STATE_COLUMNS
                        and isinstance(target.value, ast.Name)
                        and "parcel" in target.value.id
                    ):
                        wrong.append(f"{path}:{node.lineno}")
    assert wrong == []


def test_no_production_module_over_500_lines_and_no_function_over_80():
    long_modules, long_functions = [], []
    for path, tree in production_modules().items():
        lines = (ROOT / path).read_text(encoding="utf-8").count("\n")
        if lines > 500:
            long_modules.append(f"{path} ({lines})")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 80:
                    long_functions.append(f"{path}:{node.lineno} {node.name} ({length})")
    assert long_modules == []
    assert long_functions == []
