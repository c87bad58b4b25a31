"""Saturday and mobile sessions: planning, the kit, the offline laptop, records and merge."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import (
    Counter,
    Rating,
    ServiceSession,
    SessionKit,
    Site,
    Ticket,
    TicketEvent,
)
from motcua.errors import BundleRefused, KitRefused, ValidationFailed
from motcua.services import session_records, sessions, tickets, walkin
from tests.conftest import PASSWORD, T0, counter_id
from tests.support.sessions import (
    SAT,
    SAT_DAY,
    World,
    close_app,
    counts,
    hall_copy,
    open_laptop,
    plan_and_kit,
    shared_world,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Made once: a hall that planned a mobile session; its laptop's bundle after the session."""
    return shared_world(tmp_path_factory)


@pytest.fixture
def hall(world: World, tmp_path: Path) -> Iterator[Flask]:
    """A private copy of the world's hall, before any import."""
    app = hall_copy(world, tmp_path)
    yield app
    close_app(app)


# --------------------------------------------------------------------------- planning


def test_mobile_session_gets_a_site_of_its_own_with_counters(ctx: Flask) -> None:
    """Away from the hall: a new site (kind mobile), one counter per officer, all areas offered."""
    view = sessions.plan_session(
        "mobile",
        "  Nhà văn hóa   thôn Đông ",
        SAT_DAY,
        areas=["A", "chungthuc"],
        officers=["canbo1", "CANBO2"],
        hours="7:30 - 11:30",
    )
    assert view.code == "ld-20261128"
    assert view.place == "Nhà văn hóa thôn Đông"
    assert view.hours == "07:30-11:30"
    assert view.areas == ["tuphap", "chungthuc"]
    assert view.officers == ["canbo1", "canbo2"]
    assert view.printer["width_px"] == 384
    site = db.session.scalar(sa.select(Site).where(Site.code == view.code))
    assert site is not None and site.kind == "mobile" and site.name == view.place
    counters = list(db.session.scalars(sa.select(Counter).where(Counter.site_id == site.id)))
    assert sorted(c.number for c in counters) == [1, 2]
    assert all(sorted(a.prefix for a in c.areas) == ["A", "B"] for c in counters)
    # A second session the same day gets the next code, and its own site again.
    again = sessions.plan_session(
        "mobile", "Tổ dân phố 5", SAT_DAY, areas=["A"], officers=["canbo1"], counters=1
    )
    assert again.code == "ld-20261128-2" and again.site_code == "ld-20261128-2"


def test_saturday_at_the_hall_uses_the_hall_site_once_a_day(ctx: Flask) -> None:
    """A Saturday at the hall runs on the hall's own site; one such session per day."""
    view = sessions.plan_session(
        "saturday_hall", "Trung tâm", SAT_DAY, areas=["A", "H"], officers=["canbo1"]
    )
    assert view.site_code == "main" and view.counters == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Site)) == 1
    with pytest.raises(ValidationFailed) as err:
        sessions.plan_session(
            "saturday_hall", "Trung tâm", SAT_DAY, areas=["A"], officers=["canbo2"]
        )
    assert "đã có phiên t7-20261128" in str(err.value.message)


REFUSED_PLANS = [
    ({"areas": ["Z"]}, "areas"),
    ({"areas": []}, "areas"),
    ({"officers": ["khongco"]}, "officers"),
    ({"hours": "11:30-07:30"}, "hours"),
    ({"hours": "sáng"}, "hours"),
    ({"counters": 0}, "counters"),
    ({"code": "Mã Có Dấu"}, "code"),
    ({"code": "main"}, "code"),
]


def test_planning_refuses_what_would_not_work(ctx: Flask) -> None:
    """Unknown areas or officers, bad hours, no counter, a bad or taken code: refused."""
    for change, field in REFUSED_PLANS:
        options = {"areas": ["A"], "officers": ["canbo1"], "hours": "07:30-11:30", **change}
        with pytest.raises(ValidationFailed) as err:
            sessions.plan_session("reception_point", "Điểm tiếp nhận xã cũ", SAT_DAY, **options)
        assert err.value.details["field"] == field, change
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceSession)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Site)) == 1


# --------------------------------------------------------------------------- the kit


def test_kit_holds_what_the_laptop_needs_and_the_hall_keeps_the_key(app: Flask) -> None:
    """Areas offered, officers with hashes, rating texts, 58 mm printer, site; key kept here."""
    _code, data = plan_and_kit(app)
    payload = sessions.read_kit(data)
    assert [a["prefix"] for a in payload["areas"]] == ["A", "B"]
    assert {o["username"] for o in payload["officers"]} == {"canbo1", "canbo2"}
    assert all(o["password_hash"].startswith("pbkdf2:") for o in payload["officers"])
    assert payload["printer"]["width_px"] == 384
    assert payload["site"]["kind"] == "mobile" and len(payload["site"]["uuid"]) == 36
    assert payload["settings"]["RATING_QUESTION"].startswith("Ông/Bà đánh giá")
    assert payload["settings"]["RATING_SCALE"]
    assert [c["number"] for c in payload["counters"]] == [1, 2]
    assert "PUBLIC_BASE_URL" not in payload["settings"]  # the hall's address is not the laptop's
    with app.app_context():
        kit = db.session.scalar(sa.select(SessionKit))
        assert kit is not None and kit.uuid == payload["kit"]
        assert kit.key_hex == payload["key"] and len(bytes.fromhex(kit.key_hex)) == 32
        site = db.session.scalar(sa.select(Site).where(Site.uuid == payload["site"]["uuid"]))
        assert site is not None and site.code == payload["site"]["code"]


def test_a_damaged_kit_is_refused(app: Flask) -> None:
    """A kit cut short or edited is refused before anything is installed."""
    _code, data = plan_and_kit(app)
    with pytest.raises(KitRefused, match="bị hỏng hoặc không đầy đủ"):
        sessions.read_kit(data[: len(data) // 2])
    envelope = json.loads(data)
    envelope["payload"] = envelope["payload"].replace("canbo1", "hacker")
    with pytest.raises(KitRefused, match="Mã kiểm tra"):
        sessions.read_kit(json.dumps(envelope).encode())


def test_laptop_opens_the_kit_into_a_fresh_database_and_officers_sign_in(
    app: Flask, tmp_path: Path
) -> None:
    """The laptop has the session's site, counters, areas and officers; the usual password works."""
    from motcua.services import accounts

    code, kit = plan_and_kit(app)
    laptop = open_laptop(tmp_path, kit)
    try:
        assert laptop.config["SITE_CODE"] == code
        assert laptop.config["WORKING_HOURS"] == {}
        with laptop.app_context():
            assert accounts.authenticate("canbo2", PASSWORD).full_name == "Trần Văn Hùng"
            services = {s["prefix"]: s["counters"] for s in tickets_services()}
            assert services == {"A": [1, 2], "B": [1, 2]}
            local = db.session.scalar(sa.select(ServiceSession))
            assert local is not None and local.code == code
            with pytest.raises(KitRefused, match="đã có dữ liệu"):
                sessions.install_kit(kit)
        # The ordinary screens work on it: the kiosk's number is the session site's.
        client = laptop.test_client()
        issued = client.post("/api/v1/tickets", json={"service": "B"})
        assert issued.status_code == 201, issued.json
        assert issued.json["code"] == "B001" and issued.json["serving_counters"] == [1, 2]
        with laptop.app_context():
            ticket = db.session.scalar(sa.select(Ticket))
            assert ticket is not None and ticket.site.code == code
        from tests.conftest import login

        assert login(client, "canbo1").status_code == 302
        assert client.get("/counter/1").status_code == 200
    finally:
        close_app(laptop)


def tickets_services() -> list[dict]:
    """What the laptop's kiosk offers."""
    from motcua.services import catalog

    return catalog.list_services(now=SAT)


# --------------------------------------------------------------------------- end to end


def test_session_counts_in_the_hall_once_after_two_imports(hall: Flask, world: World) -> None:
    """Import twice: the hall's figures equal the session's, once; the second changes nothing."""
    app, code, bundle = hall, world.code, world.bundle
    before = counts(app)
    with app.app_context():
        first = session_records.import_records(bundle, now=SAT + dt.timedelta(hours=5))
    assert first.added == {"tickets": 7, "events": 25, "ratings": 4} and not first.refused
    after_one = counts(app)
    with app.app_context():
        second = session_records.import_records(bundle, now=SAT + dt.timedelta(hours=6))
        session = db.session.scalar(sa.select(ServiceSession).where(ServiceSession.code == code))
        assert session is not None
        assert session.last_import_at == SAT + dt.timedelta(hours=5)
    assert second.added == {"tickets": 0, "events": 0, "ratings": 0}
    assert second.unchanged == {"tickets": 7, "events": 25, "ratings": 4}
    assert counts(app) == after_one
    assert after_one["tickets"] - before["tickets"] == 7
    with app.app_context():
        figures = sessions.session_figures(SAT_DAY, SAT_DAY, group="kind")
        by_place = sessions.session_figures(SAT_DAY, SAT_DAY, group="place", kind="mobile")
        walkins = db.session.scalars(sa.select(Ticket).where(Ticket.kiosk == "walkin")).all()
        assert [w.status for w in walkins] == ["finished"]
        # Foreign keys were mapped to the hall's own rows, never the laptop's ids.
        site = db.session.scalar(sa.select(Site).where(Site.code == code))
        assert site is not None
        assert {t.site_id for t in db.session.scalars(sa.select(Ticket))} == {site.id}
        hall_counters = set(
            db.session.scalars(sa.select(Counter.id).where(Counter.site_id == site.id))
        )
        used = set(
            db.session.scalars(sa.select(Ticket.counter_id).where(Ticket.counter_id.is_not(None)))
        )
        assert used <= hall_counters
    assert figures == [
        {
            "key": "mobile",
            "label": "Lưu động",
            "issued": 7,
            "served": 5,
            "no_show": 1,
            "walkins": 1,
            "rated": 4,
        }
    ]
    assert by_place[0]["key"] == "Nhà văn hóa thôn Đông" and by_place[0]["served"] == 5


def test_hall_report_counts_the_session_like_the_laptop(hall: Flask, world: World) -> None:
    """The periodic report (reports service) shows the session's figures, filterable by type."""
    reports = pytest.importorskip("motcua.services.reports")
    app, bundle = hall, world.bundle
    with app.app_context():
        session_records.import_records(bundle)
        session_records.import_records(bundle)
        period = reports.period_for("day", SAT_DAY)
        report = reports.build_report(period, "area")
    assert report.total.issued == 7
    assert report.total.served == 5
    assert report.total.no_show == 1
    assert report.satisfaction_total.levels == {3: 2, 2: 1, 1: 1}


def test_hall_expiring_an_open_ticket_is_not_a_conflict(app: Flask, tmp_path: Path) -> None:
    """Tickets left waiting on the laptop and expired by the hall since still match."""
    _code, kit = plan_and_kit(app)
    laptop = open_laptop(tmp_path, kit)
    try:
        with laptop.app_context():
            tickets.issue_ticket("A", now=SAT)
            bundle = session_records.export_records(now=SAT).data
    finally:
        close_app(laptop)
    with app.app_context():
        assert session_records.import_records(bundle).added["tickets"] == 1
        assert tickets.expire_stale(now=SAT + dt.timedelta(days=2)) == 1
        again = session_records.import_records(bundle)
    assert again.refused == [] and again.unchanged["tickets"] == 1


def test_a_later_bundle_moves_an_open_ticket_on(app: Flask, tmp_path: Path) -> None:
    """Records sent early, then again at the end: the waiting ticket takes its finished state."""
    _code, kit = plan_and_kit(app)
    laptop = open_laptop(tmp_path, kit)
    try:
        with laptop.app_context():
            tickets.issue_ticket("A", now=SAT)
            early = session_records.export_records(now=SAT).data
        from tests.support.sessions import counter_ids

        c1 = counter_ids(laptop)[1]
        with laptop.app_context():
            tickets.call_next(c1, now=SAT + dt.timedelta(minutes=5))
            tickets.finish(c1, now=SAT + dt.timedelta(minutes=9))
            late = session_records.export_records(now=SAT + dt.timedelta(hours=1)).data
    finally:
        close_app(laptop)
    with app.app_context():
        session_records.import_records(early)
        result = session_records.import_records(late)
        ticket = db.session.scalar(sa.select(Ticket))
        assert ticket is not None and ticket.status == "finished"
        assert ticket.finished_at == SAT + dt.timedelta(minutes=9)
    assert result.updated["tickets"] == 1 and result.added["events"] == 3
    assert result.refused == []


# --------------------------------------------------------------------------- refusals


def _resign(app: Flask, bundle: bytes, edit: object) -> bytes:
    """Change the payload and sign it again with the kit's key (a genuine laptop's new data)."""
    envelope = json.loads(bundle)
    payload = json.loads(envelope["payload"])
    edit(payload)  # type: ignore[operator]
    text = sessions.canonical_json(payload)
    with app.app_context():
        key = db.session.scalar(sa.select(SessionKit.key_hex))
    envelope.update(
        payload=text,
        sha256=sessions.sha256_hex(text),
        hmac_sha256=session_records.sign(str(key), text),
        counts={k: len(payload[k]) for k in ("tickets", "events", "ratings")},
    )
    return json.dumps(envelope).encode()


def test_tampered_or_truncated_bundles_are_refused_whole(hall: Flask, world: World) -> None:
    """Cut short, edited without the key (checksum fixed or not), or unknown kit: nothing in."""
    app, bundle = hall, world.bundle
    before = counts(app)
    envelope = json.loads(bundle)
    edited = envelope["payload"].replace('"status":"no_show"', '"status":"finished"')
    assert edited != envelope["payload"]
    cases = {
        "corrupt": bundle[: len(bundle) - 200],
        "checksum": json.dumps({**envelope, "payload": edited}).encode(),
        "signature": json.dumps(
            {**envelope, "payload": edited, "sha256": sessions.sha256_hex(edited)}
        ).encode(),
        "unknown_kit": json.dumps({**envelope, "kit": "00000000-0000-0000-0000-000000000000"})
        .encode(),
    }  # fmt: skip
    messages = {}
    with app.app_context():
        for reason, data in cases.items():
            with pytest.raises(BundleRefused) as err:
                session_records.import_records(data)
            assert err.value.details["reason"] == reason
            messages[reason] = str(err.value.message)
    assert counts(app) == before
    assert "bị hỏng hoặc không đầy đủ" in messages["corrupt"]
    assert "Mã kiểm tra (SHA-256)" in messages["checksum"]
    assert "Chữ ký của tệp không hợp lệ" in messages["signature"]
    assert all("Không có dữ liệu nào được nhập" in m for m in messages.values())


def test_a_conflicting_record_is_refused_and_listed(hall: Flask, world: World) -> None:
    """A UUID already here with other content: that record (and what hangs on it) is refused."""
    app, bundle = hall, world.bundle
    with app.app_context():
        session_records.import_records(bundle)
    before = counts(app)
    target: dict = {}

    def edit(payload: dict) -> None:
        ticket = next(t for t in payload["tickets"] if t["dossier_code"] == "H01.1")
        ticket["dossier_code"] = "H01.999"
        target.update(ticket)
        payload["ratings"].append(
            {**payload["ratings"][0], "uuid": "11111111-1111-1111-1111-111111111111",
             "ticket": ticket["uuid"]}
        )  # fmt: skip

    with app.app_context():
        result = session_records.import_records(_resign(app, bundle, edit))
    assert counts(app) == before
    refused = {(r["kind"], r["reason"]) for r in result.refused}
    assert refused == {("ticket", "conflict"), ("rating", "ticket_refused")}
    conflict = next(r for r in result.refused if r["kind"] == "ticket")
    assert conflict["uuid"] == target["uuid"] and conflict["code"] == target["code"]
    assert conflict["fields"] == ["dossier_code"]
    assert "nội dung khác" in conflict["message"]
    assert result.unchanged["tickets"] == 6


def test_a_number_taken_at_the_same_site_and_day_is_refused(hall: Flask, world: World) -> None:
    """Two laptops on one kit would both issue A001: the second's A001 is refused, listed."""
    app, bundle = hall, world.bundle
    with app.app_context():
        session_records.import_records(bundle)

    def edit(payload: dict) -> None:
        first = payload["tickets"][0]
        first.update(uuid="22222222-2222-2222-2222-222222222222", token="other-token")
        payload["tickets"] = [first]
        payload["events"] = []
        payload["ratings"] = []

    with app.app_context():
        result = session_records.import_records(_resign(app, bundle, edit))
    assert [(r["reason"], r["code"]) for r in result.refused] == [("number_taken", "A001")]


# --------------------------------------------------------------------------- walk-ins, reports


def test_walkin_is_a_finished_ticket_counted_and_rated(ctx: Flask) -> None:
    """A walk-in: issued→started→finished at once, the officer's, with its mã hồ sơ and rating."""
    view = walkin.record_walkin(
        "B", officer="canbo1", dossier_code=" 000.00.01.H01-261123-0001 ", rating=2, now=T0
    )
    assert view.code == "B001" and view.counter_number == 2
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.uuid == view.uuid))
    assert ticket is not None and ticket.status == "finished" and ticket.kiosk == "walkin"
    assert ticket.dossier_code == "000.00.01.H01-261123-0001"
    kinds = db.session.scalars(
        sa.select(TicketEvent.kind)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.id)
    ).all()
    assert kinds == ["issued", "started", "finished"]
    rating = db.session.scalar(sa.select(Rating).where(Rating.ticket_id == ticket.id))
    assert rating is not None and rating.level == 2 and rating.source == "walkin"
    # The queue's numbering goes on after it, gap-free.
    assert tickets.issue_ticket("B", now=T0).code == "B002"
    with pytest.raises(ValidationFailed):
        walkin.record_walkin("B", officer="canbo1", rating=9, now=T0)
    with pytest.raises(ValidationFailed):
        walkin.record_walkin("B", officer="khongco", now=T0)


def test_report_filters_tell_sessions_from_ordinary_days(app: Flask, make_ticket) -> None:
    """Monday at the hall is "regular"; a Saturday-at-the-hall session is grouped by its type."""
    with app.app_context():
        sessions.plan_session(
            "saturday_hall", "Trung tâm", SAT_DAY, areas=["A"], officers=["canbo1"]
        )
    make_ticket("A", now=T0)
    make_ticket("A", now=SAT)
    make_ticket("B", now=SAT + dt.timedelta(minutes=3))
    with app.app_context():
        by_kind = sessions.session_figures(T0.date(), SAT_DAY)
        saturdays = sessions.session_figures(T0.date(), SAT_DAY, kind="saturday_hall")
        regular = sessions.session_figures(T0.date(), SAT_DAY, kind="regular")
        codes = set(
            db.session.execute(
                sa.select(Ticket.code, Ticket.business_day).where(
                    *sessions.ticket_conditions(kind="saturday_hall")
                )
            ).all()
        )
    assert {r["key"]: r["issued"] for r in by_kind} == {"regular": 1, "saturday_hall": 2}
    assert [r["issued"] for r in saturdays] == [2] and [r["issued"] for r in regular] == [1]
    assert codes == {("A001", SAT_DAY), ("B001", SAT_DAY)}
    assert sessions.kind_label("saturday_hall") == "Thứ Bảy tại Trung tâm"


def test_periodic_report_groups_and_filters_by_session(any_app: Flask) -> None:
    """The report groups by session type and place and keeps one type (SQLite, PostgreSQL)."""
    reports = pytest.importorskip("motcua.services.reports")
    if "session_kind" not in reports.GROUPS:
        pytest.skip("reports service without session groupings")
    app = any_app
    with app.app_context():
        sessions.plan_session(
            "saturday_hall", "Trung tâm", SAT_DAY, areas=["A"], officers=["canbo1"]
        )
        point = sessions.plan_session(
            "reception_point", "Điểm Phú Thượng", SAT_DAY, areas=["B"], officers=["canbo2"]
        )
        tickets.issue_ticket("A", now=T0)
        tickets.issue_ticket("A", now=SAT)
        tickets.issue_ticket("B", site_code=point.site_code, now=SAT)
        walkin.record_walkin("B", officer="canbo2", site_code=point.site_code, rating=3, now=SAT)
        period = reports.period_for("month", SAT_DAY)
        by_kind = reports.build_report(period, "session_kind")
        by_place = reports.build_report(period, "session_place")
        points = reports.build_report(period, "area", session_kind="reception_point")
        saturdays = reports.build_report(period, "area", session_kind="saturday_hall")
        csv_text = "".join(reports.iter_ticket_csv(period, session_kind="regular"))
    assert [(r.label, r.issued, r.served) for r in by_kind.rows] == [
        ("Ngày làm việc thường", 1, 0),
        ("Thứ Bảy tại Trung tâm", 1, 0),
        ("Điểm tiếp nhận", 2, 1),
    ]
    assert [r.rated for r in by_kind.rows] == [0, 0, 1]
    assert [(r.label, r.issued) for r in by_place.rows] == [
        ("Trung tâm (ngày làm việc thường)", 1),
        ("Trung tâm", 1),
        ("Điểm Phú Thượng", 2),
    ]
    assert points.total.issued == 2 and points.satisfaction_total.levels == {3: 1}
    assert saturdays.total.issued == 1
    assert csv_text.count("\n") == 2  # the header and Monday's A001


# --------------------------------------------------------------------------- the commands


def test_commands_plan_kit_open_records_import(app: Flask, tmp_path: Path) -> None:
    """The officers' path through `motcua session …`, hall and laptop, end to end."""
    runner = app.test_cli_runner()
    planned = runner.invoke(
        args=["session", "plan", "--kind", "reception_point", "--place",
              "Điểm tiếp nhận Phú Thượng", "--date", "28/11/2026", "--areas", "A,C",
              "--officers", "canbo1", "--counters", "1"]
    )  # fmt: skip
    assert planned.exit_code == 0, planned.output
    assert "dtn-20261128" in planned.output and "Đất đai" in planned.output
    listed = runner.invoke(args=["session", "list"])
    assert "Điểm tiếp nhận Phú Thượng" in listed.output
    kit_path = tmp_path / "kit.json"
    made = runner.invoke(args=["session", "kit", "dtn-20261128", "-o", str(kit_path)])
    assert made.exit_code == 0, made.output
    assert kit_path.stat().st_mode & 0o777 == 0o600
    db_path, config_path = tmp_path / "phien.sqlite3", tmp_path / "laptop" / "config.py"
    opened = runner.invoke(
        args=["session", "open", str(kit_path), "--database", str(db_path),
              "--config", str(config_path), "--public-url", "http://192.168.1.20:5000/"]
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    config: dict = {}
    exec(config_path.read_text(encoding="utf-8"), config)  # noqa: S102 - our own file
    assert config["SITE_CODE"] == "dtn-20261128"
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{db_path.resolve()}"
    assert config["PRINTER"]["width_px"] == 384
    assert config["PUBLIC_BASE_URL"] == "http://192.168.1.20:5000"  # the laptop's, not the hall's
    from motcua import create_app

    laptop = create_app(
        {
            "TESTING": True,
            **{k: v for k, v in config.items() if k.isupper()},
            "PRINTER": {"backend": "dummy", "width_px": 384},
        }
    )
    try:
        lr = laptop.test_cli_runner()
        with laptop.app_context():
            tickets.issue_ticket("C", now=SAT)
        walked = lr.invoke(
            args=["session", "walkin", "--area", "A", "--officer", "canbo1", "--rating", "3"]
        )
        assert walked.exit_code == 0, walked.output
        assert "A001" in walked.output
        bundle_path = tmp_path / "records.json"
        written = lr.invoke(args=["session", "records", "-o", str(bundle_path)])
        assert written.exit_code == 0, written.output
        assert "2 số thứ tự" in written.output and "1 đánh giá" in written.output
    finally:
        close_app(laptop)
    refused_open = runner.invoke(
        args=["session", "open", str(kit_path), "--database", str(db_path), "--config",
              str(tmp_path / "other.py"), "--yes", "--public-url", "http://192.168.1.20:5000"]
    )  # fmt: skip
    assert refused_open.exit_code != 0 and "đã có dữ liệu" in refused_open.output
    imported = runner.invoke(args=["session", "import", str(bundle_path)])
    assert imported.exit_code == 0, imported.output
    assert "2 số thứ tự" in imported.output
    again = runner.invoke(args=["session", "import", str(bundle_path)])
    assert "0 số thứ tự" in again.output and "Đã có sẵn, bỏ qua: 2 số thứ tự" in again.output
    bundle_path.write_bytes(bundle_path.read_bytes()[:-500])
    broken = runner.invoke(args=["session", "import", str(bundle_path)])
    assert broken.exit_code != 0 and "bị hỏng hoặc không đầy đủ" in broken.output
    with app.app_context():
        assert counter_id(app, 1)  # the hall's own counters are untouched
