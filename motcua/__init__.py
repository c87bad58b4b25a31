"""motcua: queue tickets, calls, announcements and ratings for a Vietnamese one-stop hall."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask imports ssl: `motcua serve` patches for gevent before it (launch.py)
    from flask import Flask

log = logging.getLogger(__name__)

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "db" / "migrations")


def create_app(
    test_config: dict[str, Any] | None = None, *, instance_path: str | Path | None = None
) -> Flask:
    """Application factory (flaskr): defaults, instance config.py, then FLASK_* env vars.

    The instance folder (config.py, the SQLite file, the secret key, backups, photos, print
    previews) is ``instance_path``, else ``MOTCUA_INSTANCE`` (not for a test config), else
    Flask's default beside the package.
    """
    from flask import Flask
    from flask_babel import Babel

    from db import configure_engine_events, db
    from motcua.config import DEFAULTS, instance_folder, resolve_secret_key
    from motcua.errors import register_error_handlers
    from motcua.extensions import login_manager, migrate, socketio

    if instance_path is not None or test_config is None:
        instance_path = instance_folder(instance_path)
    app = Flask(
        __name__,
        instance_path=str(instance_path) if instance_path else None,
        instance_relative_config=True,
    )
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

    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        # A pooled connection a restarted PostgreSQL closed is replaced, not handed out.
        options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, **options}
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:  # the client's address and scheme as the proxy saw them (werkzeug's fix)
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    db.init_app(app)
    with app.app_context():
        configure_engine_events(db.engine)
        _refuse_sqlite_with_a_message_queue(app, db.engine.dialect.name)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    from motcua import i18n

    Babel(app, locale_selector=i18n.select_locale)
    app.jinja_env.globals.update(
        current_locale=i18n.current_locale, lang_param=i18n.lang_param, data_text=i18n.data_text
    )
    login_manager.init_app(app)
    message_queue = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    transports = app.config.get("SOCKETIO_TRANSPORTS") or (
        # Several processes: no sticky sessions needed when clients open websockets directly
        # (docs/cluster.md); a long-polling session would hop between processes and fail.
        ["websocket"] if message_queue else ["polling", "websocket"]
    )
    socketio.init_app(
        app,
        async_mode=async_mode(app),
        ping_interval=app.config["SOCKETIO_PING_INTERVAL"],
        ping_timeout=app.config["SOCKETIO_PING_TIMEOUT"],
        message_queue=message_queue,
        transports=transports,
        cors_allowed_origins=[],
    )
    from motcua import sites

    sites.init_app(app)  # /s/<site_code>/…: outermost, so Socket.IO's path follows the prefix

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


def create_server(
    test_config: dict[str, Any] | None = None, *, instance_path: str | Path | None = None
) -> Flask:
    """The app of a served process: create_app, then this process's share of the cluster work.

    What gunicorn runs (``gunicorn -k gevent -w 1 'motcua:create_server()'``) and what
    ``motcua serve`` runs: besides the app it refuses a second server on one SQLite file,
    follows the other processes' cache invalidations and takes part in the election of the
    one process that runs housekeeping (motcua/server.py).
    """
    from motcua.server import start_process_tasks

    app = create_app(test_config, instance_path=instance_path)
    start_process_tasks(app)
    return app


def async_mode(app: Flask) -> str:
    """gevent when this process is monkey-patched by gevent (served), else threading.

    gunicorn's gevent worker and ``motcua serve`` patch the standard library before the app
    is built, so every lock the app creates is cooperative; anything else (tests, CLI
    commands, benchmarks that build an app in-process) keeps the threading mode. A gevent
    mode in an unpatched process would hand real locks to greenlets: one greenlet waiting
    on a lock another holds across a yield would block the whole process.
    """
    configured = app.config.get("SOCKETIO_ASYNC_MODE")
    if configured:
        return str(configured)
    import sys

    if "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("threading"):
            return "gevent"
    return "threading"


SQLITE_WITH_QUEUE = (
    "SQLite chỉ dùng cho một tiến trình máy chủ: khi chạy nhiều tiến trình "
    "(SOCKETIO_MESSAGE_QUEUE) hãy dùng PostgreSQL "
    "(SQLALCHEMY_DATABASE_URI=postgresql+psycopg://…). "
    "/ SQLite serves one server process only: with a message queue (several processes) "
    "use PostgreSQL."
)


def _refuse_sqlite_with_a_message_queue(app: Flask, dialect: str) -> None:
    """Several processes on one SQLite file would each own caches, timers and write locks."""
    if dialect == "sqlite" and app.config.get("SOCKETIO_MESSAGE_QUEUE"):
        raise RuntimeError(SQLITE_WITH_QUEUE)


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
