"""A session's records: the signed bundle the laptop writes, and its merge into the hall.

The bundle is one JSON file::

    {"format": "motcua-session-records", "version": 1, "session": <uuid>, "kit": <uuid>,
     "created_at": …, "counts": {"tickets": n, "events": n, "ratings": n},
     "sha256": <hex>, "hmac_sha256": <hex>, "payload": "<canonical JSON text>"}

``sha256`` is the checksum of the payload's UTF-8 bytes (a truncated or damaged copy fails
it) and ``hmac_sha256`` its HMAC under the kit's key, which the hall kept when it made the
kit (a bundle edited by hand fails it, even with a recomputed checksum). Records refer to one
another by UUID and to the hall's catalogue by natural keys (site UUID, area code, counter
number at the session's site, username), never by the laptop's row ids.

The import is one transaction. A bundle that fails any check is refused whole. Otherwise
each record is added if its UUID is new, skipped if it is already there with the same
content (importing twice changes nothing), and refused (and listed) if its UUID is there with
different content, if its ticket number is taken by another ticket, or if it depends on a
refused record. Two narrow exceptions keep honest repeats from looking like conflicts: a ticket
the hall has expired since (it was still open on the laptop) matches its open self, and a
ticket an earlier bundle brought in still open, which the hall has not touched since (every
event the hall has for it is in the new bundle), takes the later state ("updated").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from db import db
from db.models import (
    OPEN_STATUSES,
    Counter,
    Rating,
    ServiceArea,
    ServiceSession,
    SessionKit,
    Site,
    Ticket,
    TicketEvent,
    TicketSequence,
    TicketStatus,
    User,
)
from motcua import realtime
from motcua.errors import BundleRefused, SessionNotFound
from motcua.inputs import load_json
from motcua.services import scopes
from motcua.services.common import bump_seq, transactional
from motcua.services.sessions import (
    SATURDAY_HALL,
    _audit,
    canonical_json,
    sha256_hex,
)
from motcua.timeutil import ensure_now

log = logging.getLogger(__name__)
T = TypeVar("T")

TICKETS = cast(sa.Table, Ticket.__table__)
EVENTS = cast(sa.Table, TicketEvent.__table__)
RATINGS = cast(sa.Table, Rating.__table__)

RECORDS_FORMAT = "motcua-session-records"
FORMAT_VERSION = 1
CHUNK = 500

TICKET_FIELDS = (
    "uuid", "token", "code", "number", "business_day", "issue_area", "area", "status",
    "priority", "idempotency_key", "issued_at", "queued_at", "first_called_at", "called_at",
    "started_at", "finished_at", "counter", "target_counter", "officer", "call_count", "misses",
    "dossier_code", "kiosk",
)  # fmt: skip
EVENT_FIELDS = ("uuid", "ticket", "kind", "at", "actor", "counter", "area", "detail")
RATING_FIELDS = (
    "uuid", "ticket", "area", "counter", "officer", "level", "scale", "reasons", "comment",
    "source", "rated_at",
)  # fmt: skip


@dataclass(frozen=True)
class BundleFile:
    """A bundle ready to be written: its bytes, counts and a suggested file name."""

    data: bytes
    session_code: str
    counts: dict[str, int]
    file_name: str


@dataclass
class ImportResult:
    """What an import did: added and unchanged counts, and every refused record with why."""

    session_code: str
    place: str
    added: dict[str, int] = field(default_factory=lambda: _zero())
    unchanged: dict[str, int] = field(default_factory=lambda: _zero())
    updated: dict[str, int] = field(default_factory=lambda: _zero())
    refused: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        """True when the import added anything."""
        return any(self.added.values()) or any(self.updated.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return {
            "session": self.session_code,
            "place": self.place,
            "added": dict(self.added),
            "unchanged": dict(self.unchanged),
            "updated": dict(self.updated),
            "refused": list(self.refused),
            "dry_run": self.dry_run,
        }


def _zero() -> dict[str, int]:
    return {"tickets": 0, "events": 0, "ratings": 0}


def _chunks(values: list[T]) -> Iterable[list[T]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    """UTC ISO text of a time (seconds and microseconds kept), or an ISO date."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat()


def _time(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("naive time in bundle")
    return parsed.astimezone(dt.UTC)


# --------------------------------------------------------------------------- natural keys


@dataclass
class _Keys:
    """Row ids ↔ natural keys of the catalogue, for one site."""

    site_id: int
    area_code: dict[int, str]
    area_id: dict[str, int]
    counter_number: dict[int, int]
    counter_id: dict[int, int]
    username: dict[int, str]
    user_id: dict[str, int]

    @classmethod
    def load(cls, site_id: int) -> _Keys:
        """Read the areas, the site's counters and the users."""
        areas = db.session.execute(sa.select(ServiceArea.id, ServiceArea.code)).all()
        counters = db.session.execute(
            sa.select(Counter.id, Counter.number).where(Counter.site_id == site_id)
        ).all()
        users = db.session.execute(sa.select(User.id, User.username)).all()
        return cls(
            site_id=site_id,
            area_code={i: c for i, c in areas},
            area_id={c: i for i, c in areas},
            counter_number={i: n for i, n in counters},
            counter_id={n: i for i, n in counters},
            username={i: u for i, u in users},
            user_id={u: i for i, u in users},
        )

    def detail_out(self, detail: dict[str, Any] | None) -> dict[str, Any] | None:
        """An event's detail with row ids (``*_area_id``, ``*_counter_id``) as natural keys."""
        if not detail:
            return detail
        out = dict(detail)
        for key, value in detail.items():
            if key.endswith("area_id") and isinstance(value, int):
                out[key] = self.area_code.get(value, value)
            elif key.endswith("counter_id") and isinstance(value, int):
                out[key] = self.counter_number.get(value, value)
        return out

    def detail_in(self, detail: dict[str, Any] | None) -> dict[str, Any] | None:
        """The reverse of ``detail_out`` (natural keys back to this database's ids)."""
        if not detail:
            return detail
        out = dict(detail)
        for key, value in detail.items():
            if key.endswith("area_id") and isinstance(value, str):
                out[key] = self.area_id[value]
            elif key.endswith("counter_id") and isinstance(value, int):
                out[key] = self.counter_id[value]
        return out


def _ticket_record(t: Ticket, keys: _Keys) -> dict[str, Any]:
    def counter(cid: int | None) -> int | None:
        return keys.counter_number.get(cid) if cid is not None else None

    return {
        "uuid": t.uuid,
        "token": t.token,
        "code": t.code,
        "number": t.number,
        "business_day": _iso(t.business_day),
        "issue_area": keys.area_code.get(t.issue_area_id),
        "area": keys.area_code.get(t.area_id),
        "status": t.status,
        "priority": t.priority,
        "idempotency_key": t.idempotency_key,
        "issued_at": _iso(t.issued_at),
        "queued_at": _iso(t.queued_at),
        "first_called_at": _iso(t.first_called_at),
        "called_at": _iso(t.called_at),
        "started_at": _iso(t.started_at),
        "finished_at": _iso(t.finished_at),
        "counter": counter(t.counter_id),
        "target_counter": counter(t.target_counter_id),
        "officer": keys.username.get(t.officer_id) if t.officer_id else None,
        "call_count": t.call_count,
        "misses": t.misses,
        "dossier_code": t.dossier_code,
        "kiosk": t.kiosk,
    }


def _event_record(e: TicketEvent, ticket_uuid: str, keys: _Keys) -> dict[str, Any]:
    return {
        "uuid": e.uuid,
        "ticket": ticket_uuid,
        "kind": e.kind,
        "at": _iso(e.at),
        "actor": keys.username.get(e.actor_id) if e.actor_id else None,
        "counter": keys.counter_number.get(e.counter_id) if e.counter_id else None,
        "area": keys.area_code.get(e.area_id) if e.area_id else None,
        "detail": keys.detail_out(e.detail),
    }


def _rating_record(r: Rating, ticket_uuid: str, keys: _Keys) -> dict[str, Any]:
    return {
        "uuid": r.uuid,
        "ticket": ticket_uuid,
        "area": keys.area_code.get(r.area_id),
        "counter": keys.counter_number.get(r.counter_id) if r.counter_id else None,
        "officer": keys.username.get(r.officer_id) if r.officer_id else None,
        "level": r.level,
        "scale": r.scale,
        "reasons": r.reasons,
        "comment": r.comment,
        "source": r.source,
        "rated_at": _iso(r.rated_at),
    }


# --------------------------------------------------------------------------- export (laptop)


def _session_tickets(session: ServiceSession) -> sa.Select[Any]:
    stmt = sa.select(Ticket).where(Ticket.site_id == session.site_id)
    if session.kind == SATURDAY_HALL:
        stmt = stmt.where(Ticket.business_day == session.date)
    return stmt.order_by(Ticket.id)


def _local_session(code: str | None) -> tuple[ServiceSession, SessionKit]:
    """The session this laptop was set up for (by code, else the only one) and its kit."""
    stmt = sa.select(ServiceSession).join(SessionKit, SessionKit.session_id == ServiceSession.id)
    if code:
        stmt = stmt.where(ServiceSession.code == code.strip().lower())
    sessions = list(db.session.scalars(stmt.distinct()))
    if len(sessions) != 1:
        raise SessionNotFound(
            _l("Không xác định được phiên trên máy này; hãy ghi rõ mã phiên.")
            if len(sessions) > 1
            else None,
            session=code,
        )
    session = sessions[0]
    kit = db.session.scalar(
        sa.select(SessionKit)
        .where(SessionKit.session_id == session.id)
        .order_by(SessionKit.id.desc())
        .limit(1)
    )
    assert kit is not None
    return session, kit


@transactional
def export_records(code: str | None = None, *, now: dt.datetime | None = None) -> BundleFile:
    """The signed bundle of everything the session produced on this machine."""
    now = ensure_now(now)
    session, kit = _local_session(code or current_app.config.get("SESSION_CODE"))
    keys = _Keys.load(session.site_id)
    tickets = list(db.session.scalars(_session_tickets(session)))
    uuid_of = {t.id: t.uuid for t in tickets}
    ids = list(uuid_of)
    events: list[dict[str, Any]] = []
    ratings: list[dict[str, Any]] = []
    for i in range(0, len(ids), CHUNK):
        part = ids[i : i + CHUNK]
        for e in db.session.scalars(
            sa.select(TicketEvent).where(TicketEvent.ticket_id.in_(part)).order_by(TicketEvent.id)
        ):
            events.append(_event_record(e, uuid_of[e.ticket_id], keys))
        for r in db.session.scalars(
            sa.select(Rating).where(Rating.ticket_id.in_(part)).order_by(Rating.id)
        ):
            ratings.append(_rating_record(r, uuid_of[r.ticket_id], keys))
    site = db.session.get(Site, session.site_id)
    assert site is not None
    payload = {
        "format": RECORDS_FORMAT,
        "version": FORMAT_VERSION,
        "session": {"uuid": session.uuid, "code": session.code, "kind": session.kind},
        "kit": kit.uuid,
        "site": {"uuid": site.uuid, "code": site.code},
        "created_at": now.isoformat(),
        "tickets": [_ticket_record(t, keys) for t in tickets],
        "events": events,
        "ratings": ratings,
    }
    counts = {"tickets": len(tickets), "events": len(events), "ratings": len(ratings)}
    text = canonical_json(payload)
    envelope = {
        "format": RECORDS_FORMAT,
        "version": FORMAT_VERSION,
        "session": session.uuid,
        "kit": kit.uuid,
        "created_at": now.isoformat(),
        "counts": counts,
        "sha256": sha256_hex(text),
        "hmac_sha256": sign(kit.key_hex, text),
        "payload": text,
    }
    stamp = now.strftime("%Y%m%d-%H%M%S")
    return BundleFile(
        data=json.dumps(envelope, ensure_ascii=False, indent=1).encode("utf-8"),
        session_code=session.code,
        counts=counts,
        file_name=f"du-lieu-{session.code}-{stamp}.json",
    )


def sign(key_hex: str, text: str) -> str:
    """HMAC-SHA256 of a text's UTF-8 bytes under a hex key, in hex."""
    return hmac.new(bytes.fromhex(key_hex), text.encode("utf-8"), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- import (hall)

_CORRUPT = _l(
    "Tệp dữ liệu phiên bị hỏng hoặc không đầy đủ (có thể do chép bị gián đoạn). Không có dữ liệu "
    "nào được nhập. Hãy chép lại tệp từ máy tính của phiên."
)
_CHECKSUM = _l(
    "Mã kiểm tra (SHA-256) của tệp không khớp: tệp đã bị thay đổi hoặc không đầy đủ. Không có "
    "dữ liệu nào được nhập."
)
_SIGNATURE = _l(
    "Chữ ký của tệp không hợp lệ: tệp đã bị sửa hoặc không do máy tính của phiên này tạo ra. "
    "Không có dữ liệu nào được nhập."
)
_UNKNOWN = _l(
    "Máy chủ của Trung tâm không có phiên hoặc bộ cài đặt của tệp này. Không có dữ liệu nào "
    "được nhập."
)
_CONTENT = _l("Nội dung tệp dữ liệu phiên không hợp lệ. Không có dữ liệu nào được nhập.")


def verify_bundle(data: bytes) -> tuple[dict[str, Any], ServiceSession, SessionKit]:
    """Check the bundle whole (format, checksum, kit, signature, shape); BundleRefused if not."""
    try:
        envelope = load_json(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleRefused(_CORRUPT, reason="corrupt") from exc
    if not isinstance(envelope, dict) or envelope.get("format") != RECORDS_FORMAT:
        raise BundleRefused(
            _l("Đây không phải tệp dữ liệu phiên của motcua. Không có dữ liệu nào được nhập."),
            reason="format",
        )
    if envelope.get("version") != FORMAT_VERSION:
        raise BundleRefused(
            _l("Phiên bản tệp dữ liệu không được hỗ trợ; hãy cập nhật motcua."), reason="version"
        )
    text = envelope.get("payload")
    if not isinstance(text, str):
        raise BundleRefused(_CORRUPT, reason="corrupt")
    if not hmac.compare_digest(sha256_hex(text), str(envelope.get("sha256", ""))):
        raise BundleRefused(_CHECKSUM, reason="checksum")
    kit = db.session.scalar(sa.select(SessionKit).where(SessionKit.uuid == envelope.get("kit")))
    session = db.session.get(ServiceSession, kit.session_id) if kit is not None else None
    if kit is None or session is None or session.uuid != envelope.get("session"):
        raise BundleRefused(_UNKNOWN, reason="unknown_kit")
    if not hmac.compare_digest(sign(kit.key_hex, text), str(envelope.get("hmac_sha256", ""))):
        raise BundleRefused(_SIGNATURE, reason="signature")
    try:
        payload = load_json(text)
        ok = (
            payload["format"] == RECORDS_FORMAT
            and payload["kit"] == kit.uuid
            and payload["session"]["uuid"] == session.uuid
            and payload["site"]["uuid"] == session.site.uuid
            and all(isinstance(payload[k], list) for k in ("tickets", "events", "ratings"))
            and all(
                isinstance(r, dict) and set(r) == set(names)
                for k, names in (
                    ("tickets", TICKET_FIELDS),
                    ("events", EVENT_FIELDS),
                    ("ratings", RATING_FIELDS),
                )
                for r in payload[k]
            )
            and envelope.get("counts")
            == {k: len(payload[k]) for k in ("tickets", "events", "ratings")}
        )
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise BundleRefused(_CONTENT, reason="content")
    return payload, session, kit


def _same_ticket(existing: dict[str, Any], incoming: dict[str, Any]) -> list[str]:
    """Fields that differ; a ticket the hall has expired since still matches its open self."""
    diff = [k for k in TICKET_FIELDS if existing.get(k) != incoming.get(k)]
    if (
        existing.get("status") == TicketStatus.EXPIRED
        and incoming.get("status") in OPEN_STATUSES
        and set(diff) <= {"status", "finished_at"}
    ):
        return []
    return diff


# What a ticket's later state may change when it moved on after an earlier bundle.
PROGRESS_COLUMNS = (
    "area_id", "status", "queued_at", "first_called_at", "called_at", "started_at",
    "finished_at", "counter_id", "target_counter_id", "officer_id", "call_count", "misses",
    "dossier_code",
)  # fmt: skip
IDENTITY_FIELDS = (
    "uuid", "token", "code", "number", "business_day", "issue_area", "priority",
    "idempotency_key", "issued_at", "kiosk",
)  # fmt: skip


def _moved_on(
    found: Ticket, mine: dict[str, Any], rec: dict[str, Any], bundle_events: dict[str, set[str]]
) -> bool:
    """True when the bundle holds a later state of a ticket an earlier bundle brought open.

    Safe to take over only if the hall never touched it: it is still open here, its identity
    is the same, and every event the hall has for it is in this bundle too.
    """
    if mine["status"] not in OPEN_STATUSES:
        return False
    if any(mine[k] != rec[k] for k in IDENTITY_FIELDS):
        return False
    here = set(
        db.session.scalars(sa.select(TicketEvent.uuid).where(TicketEvent.ticket_id == found.id))
    )
    return here <= bundle_events.get(rec["uuid"], set())


def _ticket_uuids(ids: list[int]) -> dict[int, str]:
    """Ticket id → UUID for some tickets of this database."""
    out: dict[int, str] = {}
    for part in _chunks(sorted(set(ids))):
        rows = db.session.execute(sa.select(Ticket.id, Ticket.uuid).where(Ticket.id.in_(part)))
        out.update({int(i): str(u) for i, u in rows})
    return out


def _existing(model: Any, uuids: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for part in _chunks(uuids):
        for row in db.session.scalars(sa.select(model).where(model.uuid.in_(part))):
            found[row.uuid] = row
    return found


def _refuse(
    result: ImportResult, kind: str, record: dict[str, Any], reason: str, **extra: Any
) -> None:
    messages = {
        "conflict": _l("Mã UUID đã có trên máy chủ với nội dung khác"),
        "number_taken": _l("Số thứ tự này đã được cấp cho một lượt khác tại cùng điểm, cùng ngày"),
        "duplicate_rating": _l("Lượt giao dịch này đã có đánh giá khác trên máy chủ"),
        "ticket_refused": _l("Thuộc một số thứ tự không được nhập"),
        "unknown_ticket": _l("Không có số thứ tự tương ứng"),
        "unknown_reference": _l("Tham chiếu tới lĩnh vực, quầy hoặc cán bộ không có trên máy chủ"),
    }
    result.refused.append(
        {
            "kind": kind,
            "uuid": record.get("uuid"),
            "code": record.get("code"),
            "reason": reason,
            "message": str(messages[reason]),
            **extra,
        }
    )


def _ticket_row(rec: dict[str, Any], keys: _Keys) -> dict[str, Any]:
    """Column values of a new ticket (KeyError on an unknown natural key)."""

    def counter(number: int | None) -> int | None:
        return keys.counter_id[number] if number is not None else None

    return {
        "uuid": rec["uuid"],
        "token": rec["token"],
        "site_id": keys.site_id,
        "issue_area_id": keys.area_id[rec["issue_area"]],
        "area_id": keys.area_id[rec["area"]],
        "business_day": dt.date.fromisoformat(rec["business_day"]),
        "number": int(rec["number"]),
        "code": rec["code"],
        "status": rec["status"],
        "priority": rec["priority"],
        "idempotency_key": rec["idempotency_key"],
        "issued_at": _time(rec["issued_at"]),
        "queued_at": _time(rec["queued_at"]),
        "first_called_at": _time(rec["first_called_at"]),
        "called_at": _time(rec["called_at"]),
        "started_at": _time(rec["started_at"]),
        "finished_at": _time(rec["finished_at"]),
        "counter_id": counter(rec["counter"]),
        "target_counter_id": counter(rec["target_counter"]),
        "officer_id": keys.user_id[rec["officer"]] if rec["officer"] else None,
        "call_count": int(rec["call_count"]),
        "misses": int(rec["misses"]),
        "dossier_code": rec["dossier_code"],
        "kiosk": rec["kiosk"],
    }


@transactional
def import_records(
    data: bytes,
    *,
    dry_run: bool = False,
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> ImportResult:
    """Merge a session's bundle into this database (the hall); see the module's rules."""
    now = ensure_now(now)
    payload, session, kit = verify_bundle(data)
    scopes.check_site(actor_id, session.site_id)
    keys = _Keys.load(session.site_id)
    result = ImportResult(session_code=session.code, place=session.place, dry_run=dry_run)
    tickets_in: list[dict[str, Any]] = payload["tickets"]
    known_ids: dict[str, int] = {}  # ticket uuid → id here, for tickets added or matching
    refused_tickets: set[str] = set()
    try:
        # Tickets.
        have = _existing(Ticket, [r["uuid"] for r in tickets_in])
        numbers = {
            (area, day, number): uuid
            for area, day, number, uuid in db.session.execute(
                sa.select(
                    Ticket.issue_area_id, Ticket.business_day, Ticket.number, Ticket.uuid
                ).where(Ticket.site_id == session.site_id)
            )
        }
        keys_taken = {
            key: uuid
            for key, uuid in db.session.execute(
                sa.select(Ticket.idempotency_key, Ticket.uuid).where(
                    Ticket.site_id == session.site_id, Ticket.idempotency_key.is_not(None)
                )
            )
        }
        bundle_events: dict[str, set[str]] = {}
        for ev in payload["events"]:
            bundle_events.setdefault(ev["ticket"], set()).add(ev["uuid"])
        new_rows: list[dict[str, Any]] = []
        for rec in tickets_in:
            found = have.get(rec["uuid"])
            if found is not None:
                mine = _ticket_record(found, keys)
                diff = ["site"] if found.site_id != session.site_id else _same_ticket(mine, rec)
                if not diff:
                    known_ids[rec["uuid"]] = found.id
                    result.unchanged["tickets"] += 1
                elif diff != ["site"] and _moved_on(found, mine, rec, bundle_events):
                    try:
                        row = _ticket_row(rec, keys)
                    except KeyError:
                        _refuse(result, "ticket", rec, "unknown_reference")
                        refused_tickets.add(rec["uuid"])
                        continue
                    for column in PROGRESS_COLUMNS:
                        setattr(found, column, row[column])
                    known_ids[rec["uuid"]] = found.id
                    result.updated["tickets"] += 1
                else:
                    _refuse(result, "ticket", rec, "conflict", fields=diff)
                    refused_tickets.add(rec["uuid"])
                continue
            try:
                row = _ticket_row(rec, keys)
            except KeyError:
                _refuse(result, "ticket", rec, "unknown_reference")
                refused_tickets.add(rec["uuid"])
                continue
            slot = (row["issue_area_id"], row["business_day"], row["number"])
            key = row["idempotency_key"]
            if slot in numbers or (key is not None and key in keys_taken):
                _refuse(result, "ticket", rec, "number_taken", other=numbers.get(slot))
                refused_tickets.add(rec["uuid"])
                continue
            numbers[slot] = rec["uuid"]
            if key is not None:
                keys_taken[key] = rec["uuid"]
            new_rows.append(row)
        conn = db.session.connection()
        for row in new_rows:
            known_ids[row["uuid"]] = conn.execute(
                sa.insert(TICKETS).returning(TICKETS.c.id), row
            ).scalar_one()
        result.added["tickets"] = len(new_rows)

        # Events: append-only, so an existing one must match exactly.
        events_in: list[dict[str, Any]] = payload["events"]
        have_events = _existing(TicketEvent, [r["uuid"] for r in events_in])
        db.session.flush()
        ticket_uuid_of = _ticket_uuids([e.ticket_id for e in have_events.values()])
        new_events: list[dict[str, Any]] = []
        for rec in events_in:
            found = have_events.get(rec["uuid"])
            if found is not None:
                mine = _event_record(found, ticket_uuid_of.get(found.ticket_id, "?"), keys)
                diff = [k for k in EVENT_FIELDS if mine.get(k) != rec.get(k)]
                if diff:
                    _refuse(result, "event", rec, "conflict", fields=diff)
                else:
                    result.unchanged["events"] += 1
                continue
            if rec["ticket"] in refused_tickets:
                _refuse(result, "event", rec, "ticket_refused", ticket=rec["ticket"])
                continue
            ticket_id = known_ids.get(rec["ticket"])
            if ticket_id is None:
                _refuse(result, "event", rec, "unknown_ticket", ticket=rec["ticket"])
                continue
            try:
                new_events.append(
                    {
                        "uuid": rec["uuid"],
                        "ticket_id": ticket_id,
                        "site_id": session.site_id,
                        "kind": rec["kind"],
                        "at": _time(rec["at"]),
                        "actor_id": keys.user_id[rec["actor"]] if rec["actor"] else None,
                        "counter_id": keys.counter_id[rec["counter"]]
                        if rec["counter"] is not None
                        else None,
                        "area_id": keys.area_id[rec["area"]] if rec["area"] else None,
                        "detail": keys.detail_in(rec["detail"]),
                    }
                )
            except KeyError:
                _refuse(result, "event", rec, "unknown_reference")
        if new_events:
            conn.execute(sa.insert(EVENTS), new_events)
        result.added["events"] = len(new_events)

        # Ratings: one per ticket.
        ratings_in: list[dict[str, Any]] = payload["ratings"]
        have_ratings = _existing(Rating, [r["uuid"] for r in ratings_in])
        ticket_uuid_of.update(_ticket_uuids([r.ticket_id for r in have_ratings.values()]))
        rated = {
            ticket_id: uuid
            for part in _chunks(list(known_ids.values()))
            for ticket_id, uuid in db.session.execute(
                sa.select(Rating.ticket_id, Rating.uuid).where(Rating.ticket_id.in_(part))
            )
        }
        new_ratings: list[dict[str, Any]] = []
        for rec in ratings_in:
            found = have_ratings.get(rec["uuid"])
            if found is not None:
                mine = _rating_record(found, ticket_uuid_of.get(found.ticket_id, "?"), keys)
                diff = [k for k in RATING_FIELDS if mine.get(k) != rec.get(k)]
                if diff:
                    _refuse(result, "rating", rec, "conflict", fields=diff)
                else:
                    result.unchanged["ratings"] += 1
                continue
            if rec["ticket"] in refused_tickets:
                _refuse(result, "rating", rec, "ticket_refused", ticket=rec["ticket"])
                continue
            ticket_id = known_ids.get(rec["ticket"])
            if ticket_id is None:
                _refuse(result, "rating", rec, "unknown_ticket", ticket=rec["ticket"])
                continue
            if ticket_id in rated:
                _refuse(result, "rating", rec, "duplicate_rating", other=rated[ticket_id])
                continue
            try:
                new_ratings.append(
                    {
                        "uuid": rec["uuid"],
                        "ticket_id": ticket_id,
                        "site_id": session.site_id,
                        "area_id": keys.area_id[rec["area"]],
                        "counter_id": keys.counter_id[rec["counter"]]
                        if rec["counter"] is not None
                        else None,
                        "officer_id": keys.user_id[rec["officer"]] if rec["officer"] else None,
                        "level": int(rec["level"]),
                        "scale": int(rec["scale"]),
                        "reasons": rec["reasons"],
                        "comment": rec["comment"],
                        "source": rec["source"],
                        "rated_at": _time(rec["rated_at"]),
                    }
                )
            except KeyError:
                _refuse(result, "rating", rec, "unknown_reference")
                continue
            rated[ticket_id] = rec["uuid"]
        if new_ratings:
            conn.execute(sa.insert(RATINGS), new_ratings)
        result.added["ratings"] = len(new_ratings)
    except (TypeError, ValueError) as exc:
        db.session.rollback()
        log.warning("session %s: bundle content refused", session.code, exc_info=True)
        raise BundleRefused(_CONTENT, reason="content") from exc

    if dry_run:
        db.session.rollback()
        return result
    if not result.changed:
        # Nothing new: leave the database exactly as it was.
        db.session.rollback()
        _log_result(result)
        return result
    _raise_sequences(session.site_id, new_rows)
    session.last_import_at = now
    session.last_import = {**result.as_dict(), "kit": kit.uuid, "refused": len(result.refused)}
    _audit(
        "session_import",
        actor_id=actor_id,
        actor=actor,
        target=session.code,
        details={"added": result.added, "refused": len(result.refused)},
        now=now,
    )
    seq = bump_seq(session.site_id)
    site_id = session.site_id
    db.session.commit()
    realtime.publish(site_id, "board_changed", {"seq": seq})
    _log_result(result)
    return result


def _raise_sequences(site_id: int, rows: list[dict[str, Any]]) -> None:
    """Keep the hall's numbering ahead of the imported numbers (same site, area and day)."""
    highest: dict[tuple[int, dt.date], int] = {}
    for row in rows:
        slot = (row["issue_area_id"], row["business_day"])
        highest[slot] = max(highest.get(slot, 0), row["number"])
    for (area_id, day), number in highest.items():
        seq = db.session.get(TicketSequence, (site_id, area_id, day))
        if seq is None:
            db.session.add(
                TicketSequence(
                    site_id=site_id, area_id=area_id, business_day=day, last_number=number
                )
            )
        elif seq.last_number < number:
            seq.last_number = number


def _log_result(result: ImportResult) -> None:
    log.info(
        "session %s import: added %s, unchanged %s, refused %d",
        result.session_code,
        result.added,
        result.unchanged,
        len(result.refused),
    )
