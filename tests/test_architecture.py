"""Structural rules of the code base (issue 20), read from the source with ast.

No database and no Django imports: these parse the production modules' text.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("municipalities", "buildingblocks", "agreements", "scoring", "reports", "api")
PACKAGES = (*APPS, "nupportal")
LAGGING_HOME = "scoring/models.py"


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def _top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports run when the module is imported: not those inside functions.

    `if TYPE_CHECKING:` blocks never run, so they are left out.
    """
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        inner = ast.walk(node) if isinstance(node, ast.If | ast.Try) else [node]
        for child in inner:
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the project modules it imports at module level."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in _top_level_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif node.module and node.level == 0:
                # `from scoring import tasks` imports the module scoring.tasks.
                targets = [node.module]
                targets += [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_a_cycle_between_two_apps():
    graph = {
        "municipalities.mergers": {"buildingblocks.services"},
        "buildingblocks.services": {"municipalities.mergers"},
        "scoring.tasks": set(),
    }
    assert cycles(graph) == [["buildingblocks.services", "municipalities.mergers"]]


def test_no_module_imports_back_a_module_that_imports_it_at_module_level():
    found = cycles(import_graph(_modules()))
    assert found == [], f"module-level import cycles: {found}"


# --- "At risk or overdue": one definition -------------------------------------

_LAGGING = {"at_risk", "overdue"}
_LAGGING_MEMBERS = {"AT_RISK", "OVERDUE"}
_SQL_LIST = re.compile(r"IN\s*\(\s*'(at_risk|overdue)'\s*,\s*'(at_risk|overdue)'", re.I)


def _element(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute) and node.attr in _LAGGING_MEMBERS:
        return node.attr.lower()
    if (
        isinstance(node, ast.Attribute)
        and node.attr == "value"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr in _LAGGING_MEMBERS
    ):
        return node.value.attr.lower()
    return None


def lagging_definitions(source: str) -> list[int]:
    """Lines that spell out the two lagging statuses or alias LAGGING_STATUSES."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            spelled = len(node.elts) == 2 and {_element(e) for e in node.elts}
            found = spelled == _LAGGING
        elif isinstance(node, ast.Assign):
            found = isinstance(node.value, ast.Name)
            found = found and node.value.id == "LAGGING_STATUSES"
        elif isinstance(node, ast.Constant):
            found = isinstance(node.value, str) and bool(_SQL_LIST.search(node.value))
        else:
            found = False
        if found:
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize(
    "source",
    [
        'BAD = ("at_risk", "overdue")',
        "LAGGING = LAGGING_STATUSES",
        "x = {ComplianceStatus.OVERDUE, ComplianceStatus.AT_RISK}",
        "sql = \"WHERE status IN ('overdue', 'at_risk')\"",
    ],
)
def test_lagging_finder_sees_a_redefinition(source):
    assert lagging_definitions(source) == [1]


def _offenders(finder: Callable[[str], list[int]], allowed: set[str]) -> dict:
    """File → lines where `finder` sees something, in production files not allowed."""
    found = {}
    for path in _modules().values():
        name = str(path.relative_to(ROOT))
        if name not in allowed and (lines := finder(path.read_text())):
            found[name] = lines
    return found


def test_at_risk_or_overdue_is_defined_once():
    offenders = _offenders(lagging_definitions, {LAGGING_HOME})
    assert offenders == {}, "use scoring.models.LAGGING_STATUSES"
    assert lagging_definitions((ROOT / LAGGING_HOME).read_text()), "moved? update"


# --- statuses: one write path -------------------------------------------------------

STATUS_MODELS = {"AdoptionStatus", "StatusChange"}
WRITES = {"bulk_create", "bulk_update", "create", "update", "update_or_create"}
# The one service, and the demo seed that replaces all statuses and history at once.
STATUS_WRITERS = {
    "buildingblocks/services.py",
    "buildingblocks/management/commands/seed_demo.py",
}


def status_writes(source: str) -> list[int]:
    """Lines that build or write AdoptionStatus / StatusChange rows."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        builds = isinstance(func, ast.Name) and func.id in STATUS_MODELS
        writes = isinstance(func, ast.Attribute) and func.attr in WRITES
        if writes:
            # Down the chain `Model.objects.filter(…).update(…)` to its root.
            inner = func.value
            while isinstance(inner, ast.Call | ast.Attribute) and not _is_manager(
                inner
            ):
                inner = inner.func if isinstance(inner, ast.Call) else inner.value
            writes = _is_manager(inner)
        if builds or writes:
            lines.append(node.lineno)
    return lines


def _is_manager(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "objects"
        and isinstance(node.value, ast.Name)
        and node.value.id in STATUS_MODELS
    )


@pytest.mark.parametrize(
    "source",
    [
        "StatusChange.objects.bulk_create(rows)",
        "AdoptionStatus.objects.filter(pk=1).update(level='x')",
        "row = AdoptionStatus(municipality_id=1, block_id=2)",
    ],
)
def test_status_write_finder_sees_a_write(source):
    assert status_writes(source) == [1]


def test_statuses_are_written_only_by_the_status_service():
    offenders = _offenders(status_writes, STATUS_WRITERS)
    assert offenders == {}, "write statuses with buildingblocks.services.write_statuses"


# --- apps that import each other ----------------------------------------------------

# Pairs of apps that import each other's functions or classes at module level
# (models and constants left out: Django apps share those by design). The shared
# UI (template tags, admin mixins) lives in nupportal so that no app needs
# another's views or admin: none is known, and a new pair fails.
KNOWN_MUTUAL_APPS: set[tuple[str, str]] = set()
# Modules whose names other apps may import freely: schema and constants.
SHARED_DEFINITIONS = {"models", "levels", "sizeclasses", "roles", "geography"}


def mutual_apps(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    uses: set[tuple[str, str]] = set()
    for source, targets in graph.items():
        for target in targets:
            app, other = source.split(".")[0], target.split(".")[0]
            shared = target.split(".")[-1] in SHARED_DEFINITIONS
            if app in APPS and other in APPS and app != other and not shared:
                uses.add((app, other))
    return {(a, b) for a, b in uses if a < b and (b, a) in uses}


def test_no_new_pair_of_apps_imports_each_other():
    assert mutual_apps(import_graph(_modules())) == KNOWN_MUTUAL_APPS
