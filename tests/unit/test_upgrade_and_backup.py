"""Data safety: a database made by migration 0001 keeps everything through the upgrade to head;
``motcua backup`` / ``motcua restore`` on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from db import db
from motcua import create_app
from tests.support.parts import postgres_url

T = dt.datetime(2026, 11, 23, 1, 15, 3)  # naive UTC, as stored

ROWS: dict[str, list[dict[str, Any]]] = {
    "sites": [
        {
            "id": 1,
            "uuid": "s-1",
            "code": "main",
            "name": "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
            "unit_name": "PHƯỜNG BA ĐÌNH",
            "kind": "hall",
            "active": True,
            "seq": 42,
        },
        {
            "id": 2,
            "uuid": "s-2",
            "code": "thon-2",
            "name": "ĐIỂM THÔN 2",
            "unit_name": "",
            "kind": "point",
            "active": True,
            "seq": 0,
        },
    ],
    "service_areas": [
        {
            "id": 1,
            "code": "tuphap",
            "prefix": "A",
            "name": "Tư pháp – Hộ tịch",
            "description": "",
            "target_wait_minutes": 15,
            "sort_order": 1,
            "active": True,
        },
        {
            "id": 2,
            "code": "chungthuc",
            "prefix": "B",
            "name": "Chứng thực",
            "description": "Bản sao",
            "target_wait_minutes": 10,
            "sort_order": 2,
            "active": False,
        },
    ],
    "users": [
        {
            "id": 1,
            "username": "canbo1",
            "full_name": "Nguyễn Thị Lan",
            "position": "Công chức",
            "unit": "UBND",
            "photo": None,
            "password_hash": "x",
            "role": "officer",
            "active": True,
            "created_at": T,
        },
        {
            "id": 2,
            "username": "admin",
            "full_name": "Quản trị",
            "position": "",
            "unit": "",
            "photo": "a.jpg",
            "password_hash": "y",
            "role": "admin",
            "active": False,
            "created_at": T,
        },
    ],
    "counters": [
        {
            "id": 1,
            "site_id": 1,
            "number": 1,
            "name": "Quầy 01",
            "sort_order": 1,
            "active": True,
            "paused": False,
            "officer_id": 1,
            "normal_streak": 2,
        },
    ],
    "counter_areas": [{"counter_id": 1, "area_id": 1}, {"counter_id": 1, "area_id": 2}],
    "ticket_sequences": [
        {"site_id": 1, "area_id": 1, "business_day": dt.date(2026, 11, 23), "last_number": 2}
    ],
    "tickets": [
        {
            "id": n,
            "uuid": f"t-{n}",
            "token": f"tok-{n}",
            "site_id": 1,
            "issue_area_id": 1,
            "area_id": 1,
            "business_day": dt.date(2026, 11, 23),
            "number": n,
            "code": f"A00{n}",
            "status": "finished" if n == 1 else "waiting",
            "priority": "elderly" if n == 2 else None,
            "idempotency_key": f"k{n}",
            "issued_at": T,
            "queued_at": T,
            "first_called_at": T if n == 1 else None,
            "called_at": T if n == 1 else None,
            "started_at": T if n == 1 else None,
            "finished_at": T if n == 1 else None,
            "counter_id": 1 if n == 1 else None,
            "officer_id": 1 if n == 1 else None,
            "target_counter_id": None,
            "call_count": 1 if n == 1 else 0,
            "misses": 0,
            "dossier_code": "HS-001" if n == 1 else None,
            "kiosk": "sanh-1",
        }
        for n in (1, 2)
    ],
    "ticket_events": [
        {
            "id": i,
            "uuid": f"e-{i}",
            "ticket_id": 1,
            "site_id": 1,
            "kind": kind,
            "at": T,
            "actor_id": 1 if kind != "issued" else None,
            "counter_id": 1,
            "area_id": 1,
            "detail": {"dossier_code": "HS-001"} if kind == "finished" else None,
        }
        for i, kind in enumerate(("issued", "called", "started", "finished"), start=1)
    ],
    "ratings": [
        {
            "id": 1,
            "uuid": "r-1",
            "ticket_id": 1,
            "site_id": 1,
            "area_id": 1,
            "counter_id": 1,
            "officer_id": 1,
            "level": 3,
            "scale": 3,
            "reasons": ["Chờ lâu"],
            "comment": "Tốt",
            "source": "tablet",
            "rated_at": T,
        },
    ],
}


def migrated_app(uri: str) -> Flask:
    """An app whose schema comes from the migrations only."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "SQLALCHEMY_DATABASE_URI": uri,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


def dump(conn: sa.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the 0001 tables, in the 0001 columns, sorted."""
    meta = sa.MetaData()
    meta.reflect(bind=conn, only=list(ROWS))
    out = {}
    for name in ROWS:
        table = meta.tables[name]
        columns = [table.c[c] for c in ROWS[name][0]]
        out[name] = sorted(conn.execute(sa.select(*columns)).all(), key=repr)
    return out


def fill(conn: sa.Connection) -> None:
    """Insert the sample hall into a 0001 schema."""
    meta = sa.MetaData()
    meta.reflect(bind=conn, only=list(ROWS))
    for name, rows in ROWS.items():
        conn.execute(meta.tables[name].insert(), rows)


def upgrade_keeps_everything(app: Flask) -> None:
    """0001 + data → head: the same rows, and the new tables work."""
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision="0001")
        with db.engine.begin() as conn:
            fill(conn)
            before = dump(conn)
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            after = dump(conn)
            names = set(sa.inspect(conn).get_table_names())
        assert after == before
        assert {"settings", "devices", "audit_log", "user_sites"} <= names
        from motcua.services import hall, scopes

        # Roles per site (0008): no account has sites, so every one stays province-wide and
        # sees every site, as before the upgrade.
        assert db.session.scalar(sa.text("SELECT count(*) FROM user_sites")) == 0
        assert all(scopes.scope_of(row["id"]).province for row in ROWS["users"])
        assert [s["code"] for s in hall.list_sites(actor_id=1)] == ["main", "thon-2"]
        from motcua.services import audit, settings

        settings.update_settings({"TICKET_FOOTER": "Sau nâng cấp"}, actor_id=1, actor="admin")
        assert settings.effective("TICKET_FOOTER") == "Sau nâng cấp"
        assert [r.target for r in audit.list_entries(action="setting_changed")] == ["TICKET_FOOTER"]
        assert any(r.target == "A001" for r in audit.list_entries(action="ticket:finished"))
        db.session.remove()


def test_upgrade_from_0001_keeps_a_halls_data_on_sqlite(tmp_path: Path) -> None:
    """Sites, areas, counters, users, tickets, events and ratings survive the upgrade."""
    upgrade_keeps_everything(migrated_app(f"sqlite:///{tmp_path / 'old.sqlite3'}"))


@pytest.fixture
def pg_clean() -> Any:
    """The PostgreSQL test database, emptied before and after."""
    url = postgres_url()
    app = migrated_app(url)

    def wipe() -> None:
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")

    wipe()
    yield app
    wipe()
    with app.app_context():
        db.engine.dispose()


def test_upgrade_from_0001_keeps_a_halls_data_on_postgresql(pg_clean: Flask) -> None:
    """The same on a real PostgreSQL."""
    upgrade_keeps_everything(pg_clean)


def backup_then_restore(app: Flask, backup: Path) -> None:
    """Back up, change the data, restore: the backed-up data is back; the CLI asks first."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    with app.app_context():
        from motcua.services import catalog

        catalog.add_counter("main", 1, ["A"])
    made = runner.invoke(args=["backup", str(backup)])
    assert made.exit_code == 0, made.output
    assert "Đã sao lưu dữ liệu vào" in made.output and backup.stat().st_size > 0
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM counter_areas"))
        db.session.execute(sa.text("DELETE FROM counters"))
        db.session.commit()
    refused = runner.invoke(args=["restore", str(backup)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    done = runner.invoke(args=["restore", str(backup), "--yes"])
    assert done.exit_code == 0, done.output
    assert "Đã khôi phục dữ liệu" in done.output
    with app.app_context():
        db.session.remove()
        assert db.session.scalar(sa.text("SELECT count(*) FROM counters")) == 1
        actions = db.session.scalars(sa.text("SELECT action FROM audit_log ORDER BY id")).all()
        assert actions[-1] == "restore"
        db.session.remove()


def test_backup_and_restore_on_sqlite(tmp_path: Path) -> None:
    """An online copy of the SQLite file (WAL included) restores in place."""
    app = migrated_app(f"sqlite:///{tmp_path / 'hall.sqlite3'}")
    app.instance_path = str(tmp_path / "instance")
    backup_then_restore(app, tmp_path / "b.sqlite3")
    assert list((tmp_path / "instance" / "backups").glob("motcua-*.sqlite3"))  # safety copy
    bad = tmp_path / "not-a-db.sqlite3"
    bad.write_bytes(b"hello")
    result = app.test_cli_runner().invoke(args=["restore", str(bad), "--yes"])
    assert result.exit_code != 0 and "không phải" in result.output


def test_backup_and_restore_on_postgresql(pg_clean: Flask, tmp_path: Path) -> None:
    """pg_dump / pg_restore of the configured database."""
    import shutil

    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    pg_clean.instance_path = str(tmp_path / "instance")
    backup_then_restore(pg_clean, tmp_path / "hall.dump")


def restore_onto_a_fresh_instance(hall: Flask, fresh: Flask, backup: Path) -> None:
    """A hall's backup restores onto an instance that was never initialised: its data, its
    accounts and the current schema are there, and no safety copy of nothing is made."""
    runner = hall.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    with hall.app_context():
        from motcua.services import catalog

        catalog.add_counter("main", 7, ["A"])
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    done = fresh.test_cli_runner().invoke(args=["restore", str(backup), "--yes"])
    assert done.exit_code == 0, done.output
    assert "vào máy chủ mới" in done.output
    assert not (Path(fresh.instance_path) / "backups").exists()
    with fresh.app_context():
        db.session.remove()
        assert db.session.scalar(sa.text("SELECT number FROM counters")) == 7
        version = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
        assert version == "0009"
        db.session.remove()
        db.engine.dispose()


def test_restore_onto_a_fresh_sqlite_instance(tmp_path: Path) -> None:
    """`motcua restore` onto a never-initialised SQLite instance (no database file yet)."""
    hall = migrated_app(f"sqlite:///{tmp_path / 'hall.sqlite3'}")
    hall.instance_path = str(tmp_path / "hall-instance")
    fresh = migrated_app(f"sqlite:///{tmp_path / 'new' / 'motcua.sqlite3'}")
    fresh.instance_path = str(tmp_path / "new-instance")
    assert not (tmp_path / "new" / "motcua.sqlite3").exists()
    restore_onto_a_fresh_instance(hall, fresh, tmp_path / "hall-backup.sqlite3")


def test_restore_onto_a_fresh_postgresql_database(pg_clean: Flask, tmp_path: Path) -> None:
    """The same onto an empty PostgreSQL database (the hall here is a SQLite one)."""
    import shutil

    if shutil.which("pg_restore") is None:
        pytest.skip("pg_restore not installed")
    hall = migrated_app(postgres_url())
    hall.instance_path = str(tmp_path / "hall-instance")
    assert hall.test_cli_runner().invoke(args=["init"]).exit_code == 0
    with hall.app_context():
        from motcua.services import catalog

        catalog.add_counter("main", 7, ["A"])
    backup = tmp_path / "hall.dump"
    assert hall.test_cli_runner().invoke(args=["backup", str(backup)]).exit_code == 0
    with hall.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        db.engine.dispose()
    pg_clean.instance_path = str(tmp_path / "new-instance")
    done = pg_clean.test_cli_runner().invoke(args=["restore", str(backup), "--yes"])
    assert done.exit_code == 0, done.output
    assert "vào máy chủ mới" in done.output
    with pg_clean.app_context():
        db.session.remove()
        assert db.session.scalar(sa.text("SELECT number FROM counters")) == 7
        db.session.remove()
