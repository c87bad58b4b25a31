"""Helpers for the session tests: plan and kit at the hall, a laptop app, a scripted session."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from db import db
from motcua import create_app

# Saturday 28/11/2026, 07:45 in Hà Nội.
SAT = dt.datetime(2026, 11, 28, 0, 45, tzinfo=dt.UTC)
SAT_DAY = dt.date(2026, 11, 28)


def plan_and_kit(hall: Flask, kind: str = "mobile", **kwargs: Any) -> tuple[str, bytes]:
    """Plan a session at the hall and make its kit; return (code, kit bytes)."""
    from motcua.services import sessions

    with hall.app_context():
        options: dict[str, Any] = {
            "areas": ["A", "B"],
            "officers": ["canbo1", "canbo2"],
            "hours": "07:30-11:30",
        }
        options.update(kwargs)
        view = sessions.plan_session(kind, "Nhà văn hóa thôn Đông", SAT_DAY, **options)
        kit = sessions.make_kit(view.code, now=SAT - dt.timedelta(days=1))
    return view.code, kit.data


def open_laptop(tmp_path: Path, kit: bytes, name: str = "laptop") -> Flask:
    """A second app on its own SQLite file, migrated, with the kit installed (the laptop)."""
    from motcua.services import sessions

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "laptop-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / f'{name}.sqlite3'}",
            "PRINTER": {"backend": "dummy", "width_px": 384},
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        values = sessions.install_kit(kit, now=SAT - dt.timedelta(hours=1))
    values.pop("PRINTER")  # keep the test's dummy printer
    app.config.update(values)
    return app


def close_app(app: Flask) -> None:
    """Release an app's database connections."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@dataclass
class Script:
    """What the scripted session did, as the hall's report should count it."""

    issued: int
    served: int
    no_show: int
    walkins: int
    ratings: int
    levels: dict[int, int]


def counter_ids(app: Flask) -> dict[int, int]:
    """Counter number → id at the app's own site."""
    from db.models import Counter, Site

    with app.app_context():
        rows = db.session.execute(
            sa.select(Counter.number, Counter.id)
            .join(Site, Site.id == Counter.site_id)
            .where(Site.code == app.config["SITE_CODE"])
        ).all()
    return {int(n): int(i) for n, i in rows}


def run_session(laptop: Flask) -> Script:
    """Tickets, calls, a no-show, finishes, ratings on the tablet and a walk-in, offline."""
    from motcua.services import accounts, ratings, tickets, walkin

    counters = counter_ids(laptop)
    c1, c2 = counters[1], counters[2]
    t = SAT
    with laptop.app_context():
        # The officers sign in offline with their usual password (hash from the kit).
        from tests.conftest import PASSWORD

        lan = accounts.authenticate("canbo1", PASSWORD).id
        hung = accounts.authenticate("canbo2", PASSWORD).id
        issued = [tickets.issue_ticket(s, now=t + dt.timedelta(minutes=i)) for i, s in
                  enumerate(["A", "A", "B", "A", "B", "A"])]  # fmt: skip
        assert [v.code for v in issued] == ["A001", "A002", "B001", "A003", "B002", "A004"]
        t += dt.timedelta(minutes=10)
        # Four served; the counters' tablets rate three of them (levels 3, 2, 1).
        levels = [None, 3, 2, 1]
        for i, (counter, officer) in enumerate([(c1, lan), (c2, hung), (c1, lan), (c2, hung)]):
            now = t + dt.timedelta(minutes=5 * i)
            view = tickets.call_next(counter, officer_id=officer, now=now)
            tickets.start_service(counter, officer_id=officer, now=now + dt.timedelta(minutes=1))
            finished = now + dt.timedelta(minutes=4)
            tickets.finish(counter, officer_id=officer, dossier_code=f"H01.{i}", now=finished)
            if levels[i] is not None:
                rated = finished + dt.timedelta(seconds=30)
                ratings.rate_at_counter(counter, view.uuid, levels[i], now=rated)
        # One citizen does not come twice: ends as a no-show.
        t += dt.timedelta(minutes=30)
        absent = tickets.call_next(c1, officer_id=lan, now=t)
        tickets.mark_no_show(c1, officer_id=lan, now=t + dt.timedelta(minutes=1))
        tickets.call_ticket(c1, absent.code, officer_id=lan, now=t + dt.timedelta(minutes=2))
        tickets.mark_no_show(c1, officer_id=lan, now=t + dt.timedelta(minutes=3))
        # A home visit logged as a walk-in, rated by the citizen.
        walkin.record_walkin(
            "A",
            officer="canbo2",
            dossier_code="H01.99",
            rating=3,
            now=t + dt.timedelta(minutes=40),
            started_at=t + dt.timedelta(minutes=25),
        )
    return Script(
        issued=7,
        served=5,
        no_show=1,
        walkins=1,
        ratings=4,
        levels={3: 2, 2: 1, 1: 1},
    )


def counts(app: Flask) -> dict[str, int]:
    """Rows in the tickets, events and ratings tables."""
    from db.models import Rating, Ticket, TicketEvent

    with app.app_context():
        return {
            name: int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)
            for name, model in (("tickets", Ticket), ("events", TicketEvent), ("ratings", Rating))
        }


@dataclass
class World:
    """A hall (as a SQLite file) that planned a mobile session, and the laptop's bundle."""

    hall_file: Path
    code: str
    bundle: bytes


def build_world(folder: Path) -> World:
    """Hall, kit, laptop, scripted session and bundle, made once (the slow part)."""
    from motcua.services import session_records
    from tests.conftest import build_app

    hall_file = folder / "hall.sqlite3"
    hall = build_app(f"sqlite:///{hall_file}")
    try:
        code, kit = plan_and_kit(hall)
        laptop = open_laptop(folder, kit)
        try:
            run_session(laptop)
            with laptop.app_context():
                bundle = session_records.export_records(now=SAT + dt.timedelta(hours=4)).data
        finally:
            close_app(laptop)
    finally:
        close_app(hall)
    return World(hall_file=hall_file, code=code, bundle=bundle)


def hall_copy(world: World, folder: Path) -> Flask:
    """An app on a private copy of the world's hall database (as ``build_app`` configures it)."""
    import shutil

    target = folder / "hall-copy.sqlite3"
    shutil.copyfile(world.hall_file, target)
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}",
            "PUBLIC_BASE_URL": "http://hall.test",
            "PRINTER": {"backend": "dummy", "width_px": 576},
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


_WORLD: list[World] = []


def shared_world(factory: Any) -> World:
    """The world, built once per test run (its files live in pytest's session temp folder)."""
    if not _WORLD:
        _WORLD.append(build_world(factory.mktemp("session-world")))
    return _WORLD[0]
