"""Database layer: declarative base, models, engine settings and migrations.

This package imports nothing from the rest of the project.
"""

from db.base import Base, db
from db.engine import configure_engine_events

__all__ = ["Base", "db", "configure_engine_events"]
