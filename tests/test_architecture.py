"""The layering rules of house-style.md, read from the imports with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("motcua", "db", "kiosk", "counter", "display", "rating", "printer")
SURFACES = ("kiosk", "counter", "display", "rating")


def modules(package: str) -> list[Path]:
    """Every Python file of a top-level package (migrations excluded)."""
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


def imports(path: Path) -> set[str]:
    """Top-level dotted names a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def roots(names: set[str]) -> set[str]:
    """First components of dotted names."""
    return {n.split(".")[0] for n in names}


def test_every_package_exists() -> None:
    """The customer's top-level folders are there and importable packages."""
    for package in PROJECT:
        assert (ROOT / package / "__init__.py").exists(), package
    assert (ROOT / "tests").is_dir() and (ROOT / "README.md").exists()


def test_db_imports_nothing_from_the_project() -> None:
    """db/ stands alone."""
    for path in modules("db"):
        bad = roots(imports(path)) & (set(PROJECT) - {"db"})
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_printer_is_pure_library_code() -> None:
    """printer/ knows nothing of Flask, the database or the surfaces."""
    for path in modules("printer"):
        bad = roots(imports(path)) & (
            set(PROJECT) - {"printer"} | {"flask", "flask_socketio", "sqlalchemy"}
        )
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


WEB_LAYERS = [
    s for s in (*SURFACES, "motcua/api", "motcua/admin", "motcua/reports") if (ROOT / s).exists()
]


@pytest.mark.parametrize("surface", WEB_LAYERS)
def test_surfaces_never_touch_the_database(surface: str) -> None:
    """Views and event handlers call services; they never import sqlalchemy or db."""
    for path in (ROOT / surface).rglob("*.py"):
        bad = roots(imports(path)) & {"sqlalchemy", "db", "flask_sqlalchemy"}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("surface", SURFACES)
def test_surfaces_never_import_each_other(surface: str) -> None:
    """kiosk, counter, display and rating are independent of one another."""
    for path in modules(surface):
        bad = roots(imports(path)) & (set(SURFACES) - {surface})
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_services_never_touch_the_request() -> None:
    """Services take plain arguments: no request, session or g."""
    for path in (ROOT / "motcua" / "services").rglob("*.py"):
        names = imports(path)
        bad = {
            n
            for n in names
            if n in {"flask.request", "flask.session", "flask.g", "flask_login.current_user"}
        }
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_realtime_emits() -> None:
    """Socket.IO facts leave through motcua/realtime.py only."""
    offenders = []
    for package in PROJECT:
        for path in modules(package):
            if path == ROOT / "motcua" / "realtime.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    if name in {"emit", "send"} and not (
                        isinstance(func, ast.Attribute)
                        and isinstance(func.value, ast.Name)
                        and func.value.id in {"sock", "ws", "self_sock"}
                    ):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_no_module_shadows_the_standard_library_queue() -> None:
    """Never name a module queue.py."""
    assert not [p for pkg in PROJECT for p in (ROOT / pkg).rglob("queue.py")]


def test_only_config_reads_the_environment() -> None:
    """Settings come from create_app (defaults, instance config, FLASK_* variables).

    motcua/config.py alone also reads MOTCUA_INSTANCE: the folder the instance config is in.
    """
    offenders = []
    for package in PROJECT:
        for path in modules(package):
            if path == ROOT / "motcua" / "config.py":
                continue
            text = path.read_text(encoding="utf-8")
            if "os.environ" in text or "getenv(" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders


def _module_name(path: Path) -> str:
    """The dotted name of a project file (a package is named by its folder)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _runtime_imports(tree: ast.Module, name: str, is_package: bool) -> set[str]:
    """Dotted names a module imports when it runs, lazy ones too (not TYPE_CHECKING blocks)."""
    found: set[str] = set()
    package = name if is_package else name.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(package: str) -> dict[str, set[str]]:
    """Module → the modules of the same package it imports (at import time or in a function)."""
    files = {_module_name(p): p for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        names = _runtime_imports(
            ast.parse(path.read_text(encoding="utf-8")), name, path.name == "__init__.py"
        )
        # A module never counts as importing its own package: the package is being
        # imported already when the module loads (``from pkg import sibling`` inside pkg).
        graph[name] = {
            n for n in names if n in files and n != name and not name.startswith(f"{n}.")
        }
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := walk(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := walk(start)):
            return cycle
    return None


def test_the_cycle_finder_sees_a_lazy_import_cycle() -> None:
    """The checker below is not blind: a function-level import closing a loop is a cycle."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    tree = ast.parse("def f():\n    from motcua.services import audit\n")
    assert "motcua.services.audit" in _runtime_imports(tree, "motcua.services.x", False)


def test_services_have_no_import_cycle() -> None:
    """No chain of imports among motcua/services leads back to where it started."""
    graph = import_graph("motcua/services")
    assert "motcua.services.audit" in graph and graph["motcua.services.audit"]
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph) or [])


def test_domain_errors_live_in_one_module() -> None:
    """Every DomainError subclass is defined in motcua/errors.py, beside its HTTP/ack mapping."""
    errors_py = ROOT / "motcua" / "errors.py"
    tree = ast.parse(errors_py.read_text(encoding="utf-8"))
    domain = {n.name for n in tree.body if isinstance(n, ast.ClassDef)} - {"DomainError"}
    domain.add("DomainError")
    offenders = []
    for package in PROJECT:
        for path in modules(package):
            if path == errors_py:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef) and any(
                    (base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")) in domain
                    for base in node.bases
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not offenders, offenders
