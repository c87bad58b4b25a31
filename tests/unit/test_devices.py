"""Devices: registration, pairing codes, tokens (hashes only), revocation, printers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import AuditEntry, Counter, Device, Site
from motcua.errors import (
    DeviceForbidden,
    DeviceNotPaired,
    PairingFailed,
    PairingThrottled,
    ValidationFailed,
)
from motcua.services import devices, print_jobs
from tests.conftest import T0


def site_id() -> int:
    """The main site's id."""
    return int(db.session.scalar(sa.select(Site.id)))


def counter(number: int) -> int:
    """A counter's id by number."""
    return int(db.session.scalar(sa.select(Counter.id).where(Counter.number == number)))


def test_pairing_exchanges_a_short_code_once_for_a_token(ctx: Flask) -> None:
    """Code shape, single use, only hashes stored, the token identifies the device."""
    pairing = devices.create_device("kiosk", "sanh-1", site_id=site_id(), now=T0)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", pairing.code)
    assert pairing.expires_at == T0 + dt.timedelta(minutes=15)
    assert pairing.device.pairing_pending and not pairing.device.paired
    device, token = devices.pair(pairing.code.lower().replace("-", " "), ip="10.0.0.5", now=T0)
    assert device.name == "sanh-1" and device.paired and len(token) >= 40
    row = db.session.scalar(sa.select(Device))
    assert token not in (row.token_hash or "") and pairing.code not in str(row.pairing_hash)
    assert row.pairing_hash is None  # single use
    with pytest.raises(PairingFailed):
        devices.pair(pairing.code, ip="10.0.0.5", now=T0)
    seen = devices.device_from_token(token, now=T0 + dt.timedelta(minutes=1))
    assert (seen.name, seen.kind, seen.online) == ("sanh-1", "kiosk", True)
    later = devices.get_device(seen.id, now=T0 + dt.timedelta(hours=1))
    assert not later.online and later.last_seen_at == T0 + dt.timedelta(minutes=1)
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["device_created", "device_paired", "device_pair_failed"]


def test_expired_codes_fail_and_wrong_codes_are_throttled(ctx: Flask) -> None:
    """A code is void after DEVICE_PAIRING_MINUTES; 10 wrong codes from an IP block it."""
    pairing = devices.create_device("display", "man-hinh-1", site_id=site_id(), now=T0)
    with pytest.raises(PairingFailed):
        devices.pair(pairing.code, now=T0 + dt.timedelta(minutes=16))
    fresh = devices.start_pairing(pairing.device.id, now=T0)
    for _ in range(devices.MAX_PAIR_FAILURES):
        with pytest.raises(PairingFailed):
            devices.pair("AAAA-AAAA", ip="10.0.0.9", now=T0)
    with pytest.raises(PairingThrottled) as err:
        devices.pair(fresh.code, ip="10.0.0.9", now=T0)
    assert err.value.status == 429 and "15 phút" in str(err.value.message)
    assert devices.pair(fresh.code, ip="10.0.0.10", now=T0)[0].name == "man-hinh-1"


def test_revoke_and_repair_end_the_old_token(ctx: Flask) -> None:
    """Revoked: the token is refused. Re-paired: the old token stops at once."""
    pairing = devices.create_device("kiosk", "sanh-2", site_id=site_id(), now=T0)
    _, token = devices.pair(pairing.code, now=T0)
    again = devices.start_pairing(pairing.device.id, now=T0)
    with pytest.raises(DeviceNotPaired):
        devices.device_from_token(token)
    _, token2 = devices.pair(again.code, now=T0)
    assert devices.device_from_token(token2).name == "sanh-2"
    revoked = devices.revoke_device(pairing.device.id, now=T0)
    assert not revoked.active and not revoked.paired
    with pytest.raises(DeviceNotPaired):
        devices.device_from_token(token2)
    with pytest.raises(DeviceNotPaired):
        devices.device_from_token("")


def test_a_device_only_does_its_own_job(ctx: Flask) -> None:
    """require() refuses another kind of device."""
    pairing = devices.create_device(
        "rating", "danh-gia-1", site_id=site_id(), counter_id=counter(1), now=T0
    )
    device = pairing.device
    assert device.require("rating").counter_number == 1
    with pytest.raises(DeviceForbidden) as err:
        device.require("kiosk")
    assert err.value.status == 403


def test_registration_is_validated_whole(ctx: Flask) -> None:
    """Bad name, duplicate name, tablet without counter: one error each, nothing saved."""
    devices.create_device("kiosk", "sanh-1", site_id=site_id(), now=T0)
    with pytest.raises(ValidationFailed) as err:
        devices.create_device("rating", "Sảnh 1", site_id=None, now=T0)
    assert set(err.value.details["errors"]) == {"name", "site_id", "counter_id"}
    assert "không dấu" in err.value.details["errors"]["name"]
    with pytest.raises(ValidationFailed) as dup:
        devices.create_device("display", "SANH-1", site_id=site_id(), now=T0)
    assert dup.value.details["errors"] == {"name": "Đã có thiết bị tên này."}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == 1


def test_a_kiosk_prints_on_its_own_printer(ctx: Flask) -> None:
    """The kiosk's printer settings become PRINTERS[name]; a test page prints on it."""
    device = devices.create_device("kiosk", "sanh-3", site_id=site_id(), now=T0).device
    with pytest.raises(ValidationFailed) as err:
        devices.set_printer(device.id, {"backend": "network", "host": "máy in", "port": "99999"})
    assert set(err.value.details["errors"]) == {"host", "port"}
    assert print_jobs.printer_config("sanh-3")["backend"] == "file"  # the default it got
    devices.set_printer(
        device.id, {"backend": "dummy", "width_px": "384", "cut": "on"}, actor_id=None
    )
    cfg = print_jobs.printer_config("sanh-3")
    assert (cfg["backend"], cfg["width_px"], cfg["cut"]) == ("dummy", 384, True)
    assert print_jobs.printer_config(None)["backend"] == "dummy"  # PRINTER of the test config
    result = devices.test_print(device.id)
    assert result["ok"] and result["message"] == "Đã in trang thử."
    assert devices.printer_status(device.id)["state"] == "online"
    display = devices.create_device("display", "man-hinh-2", site_id=site_id(), now=T0).device
    with pytest.raises(ValidationFailed):
        devices.set_printer(display.id, {"backend": "dummy"})
