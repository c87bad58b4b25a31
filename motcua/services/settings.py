"""Hall settings: what administrators change, stored in the database over the app config.

``effective(key)`` is the value in force: a site's own value (scope ``site:<id>``), else the
hall's (scope ""), else the app configuration (defaults, instance config.py, FLASK_* variables).
Reads come from a per-app cache, dropped on every change, in every server process
(services/cluster.py), and otherwise reloaded after a few seconds (the safety net). Every
change is validated whole before anything is written, recorded in the audit log, committed,
then published as ``settings_changed`` so that screens reload.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import string
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from db import db
from db.models import Device, Setting, Site
from motcua import realtime
from motcua.errors import ValidationFailed
from motcua.services import audit, cluster, scopes
from motcua.services.transactions import transactional
from motcua.timeutil import ensure_now

TTL_S = 5.0
EXTENSION_KEY = "motcua_settings_cache"
HALL_SCOPE = ""
WORKING_HOURS = "WORKING_HOURS"
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
POLICIES = ("strict", "interleave", "manual")
VOICE_SOURCE_NAMES = ("clips", "browser", "server")
TEMPLATE_FIELDS = {"so", "quay"}
RATING_SIZES = (3, 4, 5)
MAX_REASONS = 10
SPAN_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$")


def site_scope(site_id: int) -> str:
    """The scope of one site's own settings."""
    return f"site:{site_id}"


# --------------------------------------------------------------------------- reading


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    scopes: dict[str, dict[str, Any]] | None = None
    version: str = ""
    loaded_at: float = 0.0
    generation: int = 0  # bumped by every invalidation


def _cache(app: Flask) -> _Cache:
    cache = app.extensions.get(EXTENSION_KEY)
    if cache is None:
        cache = app.extensions.setdefault(EXTENSION_KEY, _Cache())
    return cache  # type: ignore[no-any-return]


def _rows(statement: Any) -> list[Any]:
    """Run a read without leaving a transaction (and SQLite's write lock) open behind it."""
    session = db.session()
    if session.in_transaction():
        return list(session.connection().execute(statement).all())
    with db.engine.connect() as conn:
        rows = list(conn.execute(statement).all())
        conn.rollback()
    return rows


def _load(app: Flask) -> tuple[dict[str, dict[str, Any]], str]:
    """Every stored setting by scope, plus the printers of paired kiosks; and their version."""
    scopes: dict[str, dict[str, Any]] = {}
    rows = sorted(
        (tuple(row) for row in _rows(sa.select(Setting.scope, Setting.key, Setting.value))),
        key=lambda row: (row[0], row[1]),
    )
    for scope, key, value in rows:
        scopes.setdefault(scope, {})[key] = value
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode("utf-8"))
    printers = {
        name: config["printer"]
        for name, config in _rows(
            sa.select(Device.name, Device.config).where(
                Device.kind == "kiosk", Device.active.is_(True)
            )
        )
        if isinstance(config, dict) and isinstance(config.get("printer"), dict)
    }
    if printers:
        hall = scopes.setdefault(HALL_SCOPE, {})
        base = hall.get("PRINTERS", app.config.get("PRINTERS")) or {}
        hall["PRINTERS"] = {**base, **printers}
    return scopes, digest.hexdigest()[:16]


def _state(app: Flask | None = None) -> tuple[dict[str, dict[str, Any]], str]:
    """The stored settings by scope and their version (cached for TTL_S)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache = _cache(app)
    with cache.lock:
        scopes, generation = cache.scopes, cache.generation
        if scopes is not None and time.monotonic() - cache.loaded_at <= TTL_S:
            return scopes, cache.version
    # Load without holding the lock: the load may wait for SQLite's write lock, which a
    # thread in a transaction holds while it asks for the settings (lock-order inversion).
    scopes, version = _load(app)
    with cache.lock:
        if cache.generation == generation:  # not invalidated meanwhile
            cache.scopes, cache.version = scopes, version
            cache.loaded_at = time.monotonic()
    return scopes, version


def _scopes(app: Flask | None = None) -> dict[str, dict[str, Any]]:
    return _state(app)[0]


def version(app: Flask | None = None) -> str:
    """A short fingerprint of the hall's stored settings; it changes with any of them.

    Every screen's page carries the one it was rendered with; on each (re)connect live.js
    asks for the current one and reloads the page (when idle) if they differ, so a screen
    that was offline or reloading while a setting was saved does not keep the old one.
    """
    return _state(app)[1]


class Layers(Mapping[str, Any]):
    """Mappings looked up in order (a ChainMap without its KeyError cost on the hot path)."""

    __slots__ = ("maps",)

    def __init__(self, maps: list[Mapping[str, Any]]) -> None:
        self.maps = maps

    def __getitem__(self, key: str) -> Any:
        for mapping in self.maps:
            if key in mapping:
                return mapping[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """The first layer's value for the key, else ``default``."""
        for mapping in self.maps:
            if key in mapping:
                return mapping[key]
        return default

    def __contains__(self, key: object) -> bool:
        return any(key in mapping for mapping in self.maps)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for mapping in self.maps:
            for key in mapping:
                if key not in seen:
                    seen.add(key)
                    yield key

    def __len__(self) -> int:
        return len(set().union(*self.maps))


def effective_config(app: Flask | None = None, *, site_id: int | None = None) -> Mapping[str, Any]:
    """The configuration in force: stored settings over the app's configuration."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    scopes = _scopes(app)
    layers: list[Mapping[str, Any]] = []
    if site_id is not None:
        layers.append(scopes.get(site_scope(site_id), {}))
    layers += [scopes.get(HALL_SCOPE, {}), app.config]
    return Layers(layers)


def effective(key: str, default: Any = None, *, site_id: int | None = None) -> Any:
    """One setting in force (a site's own value first when ``site_id`` is given)."""
    return effective_config(site_id=site_id).get(key, default)


def own_value(scope: str, key: str) -> Any:
    """A value stored for exactly this scope (None when it inherits)."""
    return _scopes().get(scope, {}).get(key)


def invalidate(app: Flask | None = None) -> None:
    """Forget the cached settings here and in every other server process (after a change).

    Inside a transaction the other processes hear it at the commit (services/cluster.py).
    """
    forget(app)
    cluster.announce_invalidation("settings")


def forget(app: Flask | None = None) -> None:
    """Forget this process's cached settings (another process changed them)."""
    cache = _cache(app or current_app._get_current_object())  # type: ignore[attr-defined]
    with cache.lock:
        cache.scopes = None
        cache.generation += 1


# --------------------------------------------------------------------------- validation


def _fail(key: str, message: Any) -> ValidationFailed:
    return ValidationFailed(message, field=key, errors={key: str(message)})


def _int(key: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise _fail(key, _l("Hãy nhập một số nguyên.")) from None
    if not low <= number <= high:
        raise _fail(key, _l("Giá trị phải từ %(low)s đến %(high)s.", low=low, high=high))
    return number


def _bool(_key: str, value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes", "co", "có")
    return bool(value)


def _text(key: str, value: Any, max_len: int, *, required: bool = False) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise _fail(key, _l("Không được để trống."))
    if len(text) > max_len:
        raise _fail(key, _l("Tối đa %(n)s ký tự.", n=max_len))
    return text


def slug(text: str) -> str:
    """A code from Vietnamese text: 'Người cao tuổi' → 'nguoi-cao-tuoi'."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:32]


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _fail(key, _l("Hãy chọn một giá trị trong danh sách."))
    return str(value)


def _assignments(key: str, value: Any) -> dict[str, int]:
    """{username: counter number} (the officer's default counter)."""
    out: dict[str, int] = {}
    for user, number in dict(value or {}).items():
        out[str(user)] = _int(key, number, 1, 999)
    return out


def _categories(key: str, value: Any) -> dict[str, str]:
    """[{"code", "label"}] or {code: label} → {code: label}; blank labels drop a row."""
    items = value.items() if isinstance(value, Mapping) else value
    out: dict[str, str] = {}
    for item in items or []:
        code, label = item if isinstance(item, tuple) else (item.get("code"), item.get("label"))
        label = _text(key, label, 100)
        if not label:
            continue
        code = slug(str(code or "")) or slug(label)
        if not code:
            raise _fail(key, _l("Tên đối tượng ưu tiên không hợp lệ: %(label)s", label=label))
        if code in out:
            raise _fail(key, _l("Đối tượng ưu tiên bị trùng: %(label)s", label=label))
        out[code] = label
    if len(out) > 12:
        raise _fail(key, _l("Tối đa 12 đối tượng ưu tiên."))
    return out


def _template(key: str, value: Any) -> str:
    text = _text(key, value, 300, required=True)
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        raise _fail(key, _l("Mẫu câu có dấu ngoặc { } không đúng.")) from None
    if "so" not in names:
        raise _fail(key, _l("Mẫu câu phải có {so} (số thứ tự được đọc)."))
    if names - TEMPLATE_FIELDS:
        raise _fail(key, _l("Mẫu câu chỉ được dùng {so} và {quay}."))
    return text


def _voice_sources(key: str, value: Any) -> list[str]:
    names = [str(v).strip() for v in (value or []) if str(v).strip()]
    if not names:
        raise _fail(key, _l("Chọn ít nhất một nguồn giọng đọc."))
    if any(n not in VOICE_SOURCE_NAMES for n in names):
        raise _fail(key, _l("Nguồn giọng đọc không hợp lệ."))
    if len(set(names)) != len(names):
        raise _fail(key, _l("Mỗi nguồn giọng đọc chỉ chọn một lần."))
    return names


def _rating_scale(key: str, value: Any) -> list[dict[str, Any]]:
    """Labels best first → [{"level": n, "label"}, …, {"level": 1, …}]."""
    labels = [item.get("label") if isinstance(item, Mapping) else item for item in (value or [])]
    labels = [_text(key, label, 60) for label in labels]
    if len(labels) not in RATING_SIZES or not all(labels):
        raise _fail(key, _l("Thang đánh giá cần 3, 4 hoặc 5 mức, mức nào cũng phải có tên."))
    if len(set(labels)) != len(labels):
        raise _fail(key, _l("Tên các mức đánh giá không được trùng nhau."))
    size = len(labels)
    return [{"level": size - i, "label": label} for i, label in enumerate(labels)]


def _reasons(key: str, value: Any) -> list[str]:
    items = value.splitlines() if isinstance(value, str) else list(value or [])
    reasons = [r for r in (_text(key, item, 100) for item in items) if r]
    if len(reasons) > MAX_REASONS:
        raise _fail(key, _l("Tối đa %(n)s lý do.", n=MAX_REASONS))
    if len(set(reasons)) != len(reasons):
        raise _fail(key, _l("Các lý do không được trùng nhau."))
    return reasons


def parse_spans(text: str) -> list[str]:
    """'7:30-11:30, 13:30–17:00' → ['07:30-11:30', '13:30-17:00'] (sorted, not overlapping)."""
    spans: list[tuple[dt.time, dt.time]] = []
    for part in (p.strip() for p in re.split(r"[,;]", text or "")):
        if not part:
            continue
        match = SPAN_RE.match(part)
        if not match:
            raise ValueError(part)
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = dt.time(h1, m1), dt.time(h2, m2)  # raises ValueError when out of range
        if end <= start:
            raise ValueError(part)
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise ValueError(text)
    return [f"{a:%H:%M}-{b:%H:%M}" for a, b in spans]


def clean_working_hours(value: Mapping[str, Any]) -> dict[str, list[str]]:
    """{day: "07:30-11:30, 13:30-17:00"} for each weekday → WORKING_HOURS (closed days left out)."""
    out: dict[str, list[str]] = {}
    for day in DAY_KEYS:
        raw = value.get(day) or ""
        text = raw if isinstance(raw, str) else ", ".join(raw)
        try:
            spans = parse_spans(text)
        except ValueError:
            raise ValidationFailed(
                _l("Giờ làm việc không đúng dạng, ví dụ 07:30-11:30, 13:30-17:00."),
                field=f"hours_{day}",
                errors={
                    f"hours_{day}": str(
                        _l("Giờ làm việc không đúng dạng, ví dụ 07:30-11:30, 13:30-17:00.")
                    )
                },
            ) from None
        if spans:
            out[day] = spans
    return out


def hours_by_day(spec: Mapping[str, Any] | None) -> dict[str, str]:
    """WORKING_HOURS in any accepted form ('mon-fri', 'sat') → {day: '07:30-11:30, …'}."""
    out = {day: [] for day in DAY_KEYS}  # type: dict[str, list[str]]
    for key, spans in (spec or {}).items():
        key = str(key).strip().lower()
        if key in ("daily", "all", "mon-sun"):
            days = list(DAY_KEYS)
        else:
            days = []
            for part in key.split(","):
                part = part.strip()
                if "-" in part:
                    first, last = (DAY_KEYS.index(p.strip()) for p in part.split("-", 1))
                    days += list(DAY_KEYS[first : last + 1])
                elif part in DAY_KEYS:
                    days.append(part)
        for day in days:
            out[day] += [str(s) for s in spans]
    return {day: ", ".join(sorted(spans)) for day, spans in out.items()}


Cleaner = Callable[[str, Any], Any]

# What the hall settings page may change, with how each value is checked.
EDITABLE: dict[str, Cleaner] = {
    "PRIORITY_POLICY": lambda k, v: _choice(k, v, POLICIES),
    "PRIORITY_EVERY_N": lambda k, v: _int(k, v, 1, 20),
    "PRIORITY_CATEGORIES": _categories,
    "NOSHOW_REQUEUE": _bool,
    "NOSHOW_MAX_MISSES": lambda k, v: _int(k, v, 1, 10),
    "DEFAULT_SERVICE_MINUTES": lambda k, v: _int(k, v, 1, 120),
    "TICKET_HALL_NAME": lambda k, v: _text(k, v, 120),
    "TICKET_FOOTER": lambda k, v: _text(k, v, 120),
    "ANNOUNCE_TEMPLATE": _template,
    "ANNOUNCE_REPEAT": lambda k, v: _int(k, v, 1, 5),
    "ANNOUNCE_THOUSAND": lambda k, v: _choice(k, v, ("nghìn", "ngàn")),
    "ANNOUNCE_LINH": lambda k, v: _choice(k, v, ("linh", "lẻ")),
    "VOICE_SOURCES": _voice_sources,
    "DISPLAY_MESSAGE": lambda k, v: _text(k, v, 1000),
    "RATING_SCALE": _rating_scale,
    "RATING_REASONS": _reasons,
    "RATING_QUESTION": lambda k, v: _text(k, v, 300),
    "COUNTER_ASSIGNMENTS": lambda k, v: _assignments(k, v),
}


def clean(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate every change; raise one ValidationFailed listing each bad field."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in changes.items():
        cleaner = EDITABLE.get(key)
        if cleaner is None:
            errors[key] = str(_l("Cài đặt này không sửa được ở đây."))
            continue
        try:
            cleaned[key] = cleaner(key, value)
        except ValidationFailed as exc:
            errors.update(exc.details.get("errors") or {key: str(exc.message)})
    if errors:
        raise ValidationFailed(
            _l("Chưa lưu: có %(n)s mục chưa hợp lệ.", n=len(errors)), errors=errors
        )
    return cleaned


# --------------------------------------------------------------------------- writing


def put(
    scope: str, key: str, value: Any, *, actor_id: int | None, now: dt.datetime
) -> tuple[Any, bool]:
    """Upsert one stored setting in the current transaction; returns (old value, changed)."""
    row = db.session.get(Setting, (scope, key))
    old = row.value if row is not None else None
    if row is None:
        db.session.add(
            Setting(scope=scope, key=key, value=value, updated_at=now, updated_by=actor_id)
        )
        return old, True
    if row.value == value:
        return old, False
    row.value = value
    row.updated_at = now
    row.updated_by = actor_id
    return old, True


def announce_change(keys: list[str]) -> None:
    """After the commit: forget the cache and tell every site's screens to reload."""
    invalidate()
    site_ids = [row[0] for row in _rows(sa.select(Site.id).where(Site.active.is_(True)))]
    for site_id in site_ids:
        realtime.publish(site_id, "settings_changed", {"keys": sorted(keys)})


def _check_scope(actor_id: int | None, site_id: int | None) -> None:
    """Installation-wide settings are the province's; a site's own, its administrators'."""
    if site_id is None:
        scopes.require_province(actor_id)
    else:
        scopes.check_site(actor_id, site_id)


@transactional
def settings_for(actor_id: int | None, *, site_id: int | None = None) -> Mapping[str, Any]:
    """The settings in force where an administrator edits them: a site (its own values over
    the installation's) or, for a province-wide account, the whole installation."""
    _check_scope(actor_id, site_id)
    return effective_config(site_id=site_id)


@transactional
def update_settings(
    changes: Mapping[str, Any],
    *,
    actor_id: int | None,
    actor: str = "",
    site_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[str]:
    """Validate and store hall settings (all or nothing); return the keys that changed.

    ``site_id``: one site's own values (scope ``site:<id>``); otherwise the installation's,
    which only a province-wide administrator may change.
    """
    _check_scope(actor_id, site_id)
    now = ensure_now(now)
    cleaned = clean(changes)
    before = effective_config(site_id=site_id)
    scope = HALL_SCOPE if site_id is None else site_scope(site_id)
    changed: list[str] = []
    for key, value in cleaned.items():
        if before.get(key) == value:
            continue
        old, did = put(scope, key, value, actor_id=actor_id, now=now)
        if did:
            changed.append(key)
            audit.record(
                "setting_changed",
                actor_id=actor_id,
                actor=actor,
                target=key if site_id is None else f"{scope} {key}",
                details={"old": before.get(key) if old is None else old, "new": value},
                now=now,
            )
    db.session.commit()
    if changed:
        announce_change(changed)
    return changed


@transactional
def reset_setting(
    key: str, *, actor_id: int | None, actor: str = "", now: dt.datetime | None = None
) -> bool:
    """Drop the hall's value of a setting: the configuration's value applies again."""
    now = ensure_now(now)
    row = db.session.get(Setting, (HALL_SCOPE, key))
    if row is None:
        return False
    audit.record(
        "setting_reset", actor_id=actor_id, actor=actor, target=key, details={"old": row.value}
    )
    db.session.delete(row)
    db.session.commit()
    announce_change([key])
    return True
