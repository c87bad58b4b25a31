"""Extension singletons, bound to an app in ``create_app``."""

from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO

# async_mode is pinned: eventlet is unmaintained and auto-detection prefers it.
socketio = SocketIO(async_mode="threading")
login_manager = LoginManager()
migrate = Migrate()
