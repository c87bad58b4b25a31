"""motcua: queue tickets, calls, announcements and ratings for a Vietnamese one-stop hall."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "db" / "migrations")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory (flaskr): defaults, instance config.py, then FLASK_* env vars."""
    from flask_babel import Babel

    from db import configure_engine_events, db
    from motcua.config import DEFAULTS, resolve_secret_key
    from motcua.errors import register_error_handlers
    from motcua.extensions import login_manager, migrate, socketio

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env()
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(
            Path(app.instance_path) / "motcua.sqlite3"
        )
    # No known secret, ever (motcua/config.py): a published key is refused in every mode.
    app.config["SECRET_KEY"] = resolve_secret_key(
        app.config.get("SECRET_KEY"), app.instance_path, testing=test_config is not None
    )
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "vi")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh")

    db.init_app(app)
    with app.app_context():
        configure_engine_events(db.engine)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    Babel(app)
    login_manager.init_app(app)
    socketio.init_app(
        app,
        async_mode="threading",
        ping_interval=app.config["SOCKETIO_PING_INTERVAL"],
        ping_timeout=app.config["SOCKETIO_PING_TIMEOUT"],
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        cors_allowed_origins=[],
    )

    from motcua import auth, web
    from motcua.api import register_api

    app.register_blueprint(auth.bp)
    app.register_blueprint(web.bp)
    app.jinja_env.globals["settings_version"] = web.settings_version_or_blank
    register_api(app)
    _register_surfaces(app)
    from motcua.reports import bp as reports_bp
    from motcua.reports import register_namespaces as register_report_namespaces

    app.register_blueprint(reports_bp)  # /reports for leaders, and the /leader namespace
    register_report_namespaces(socketio)
    register_error_handlers(app)
    from motcua import security
    from motcua.admin import register_admin

    security.init_app(app)  # CSRF on forms, security headers, CSP
    register_admin(app)  # /admin (role admin) and /device (pairing)

    from motcua.cli import register_cli

    register_cli(app)
    if test_config is None and app.config.get("GC_FREEZE"):
        _freeze_startup_objects()
    return app


def _freeze_startup_objects() -> None:
    """Collect once, then move every object alive now into the permanent generation.

    A server builds its app once and keeps it (modules, SQLAlchemy's mappers and caches,
    Jinja, marshmallow): without this, each full (generation 2) collection walks them all
    and holds the GIL for 80-150 ms, a pause every screen and kiosk feels. See gc.freeze.
    """
    import gc

    gc.collect()
    gc.freeze()


def _register_surfaces(app: Flask) -> None:
    """Register each surface's blueprint and Socket.IO namespace, when it exists."""
    import importlib

    from motcua.extensions import socketio

    for name in ("kiosk", "counter", "display", "rating"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        bp = getattr(module, "bp", None)
        if bp is not None:
            app.register_blueprint(bp)
        register = getattr(module, "register_namespaces", None)
        if register is not None:
            register(socketio)
