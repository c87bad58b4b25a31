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
    """Settings come from create_app (defaults, instance config, FLASK_* variables)."""
    offenders = []
    for package in PROJECT:
        for path in modules(package):
            text = path.read_text(encoding="utf-8")
            if "os.environ" in text or "getenv(" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
