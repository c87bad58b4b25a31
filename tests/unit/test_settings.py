"""Hall settings: stored over the configuration, validated whole, live, audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import AuditEntry, Setting, Site
from motcua import realtime
from motcua.config import DEFAULTS
from motcua.errors import ValidationFailed
from motcua.services import common, hours, print_jobs, settings
from tests.conftest import T0


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str, dict[str, Any]]]:
    """Facts published through motcua.realtime during the test."""
    seen: list[tuple[int, str, dict[str, Any]]] = []
    monkeypatch.setattr(realtime, "publish", lambda *args: seen.append(args))
    return seen


def stored(key: str) -> Any:
    """The hall-scope row of a setting (None when not stored)."""
    row = db.session.get(Setting, ("", key))
    return row.value if row else None


def test_defaults_come_from_the_configuration(ctx: Flask) -> None:
    """Nothing stored: effective() is app.config, including the rating defaults."""
    assert settings.effective("PRIORITY_POLICY") == "strict"
    assert settings.effective("RATING_SCALE") == [
        {"level": 3, "label": "Rất hài lòng"},
        {"level": 2, "label": "Hài lòng"},
        {"level": 1, "label": "Không hài lòng"},
    ]
    assert "Chờ lâu" in settings.effective("RATING_REASONS")
    assert settings.effective("NO_SUCH_KEY", 7) == 7


def test_a_change_overrides_the_configuration_live(ctx: Flask, published: list[Any]) -> None:
    """Stored, cached value dropped, the policy follows, screens are told, audit written."""
    assert common.current_policy().priority_policy == "strict"
    changed = settings.update_settings(
        {"PRIORITY_POLICY": "interleave", "PRIORITY_EVERY_N": "4"}, actor_id=None, actor="t", now=T0
    )
    assert sorted(changed) == ["PRIORITY_EVERY_N", "PRIORITY_POLICY"]
    policy = common.current_policy()
    assert (policy.priority_policy, policy.priority_every_n) == ("interleave", 4)
    assert ctx.config["PRIORITY_POLICY"] == "strict"  # the configuration itself is untouched
    site_id = db.session.scalar(sa.select(Site.id))
    assert (site_id, "settings_changed") == published[-1][:2]
    assert published[-1][2]["keys"] == ["PRIORITY_EVERY_N", "PRIORITY_POLICY"]
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target) for e in entries] == [
        ("setting_changed", "PRIORITY_POLICY"),
        ("setting_changed", "PRIORITY_EVERY_N"),
    ]
    assert entries[0].details == {"old": "strict", "new": "interleave"}


def test_unchanged_values_are_not_stored_or_announced(ctx: Flask, published: list[Any]) -> None:
    """Saving the value already in force changes nothing."""
    assert settings.update_settings({"PRIORITY_POLICY": "strict"}, actor_id=None) == []
    assert stored("PRIORITY_POLICY") is None and published == []


def test_one_bad_value_saves_nothing(ctx: Flask) -> None:
    """All or nothing, with a Vietnamese message per bad field."""
    with pytest.raises(ValidationFailed) as err:
        settings.update_settings(
            {
                "TICKET_FOOTER": "Xin cảm ơn!",
                "ANNOUNCE_TEMPLATE": "Mời số {ten} đến quầy",
                "ANNOUNCE_REPEAT": "9",
                "VOICE_SOURCES": ["browser", "browser"],
                "RATING_SCALE": ["Tốt", "", "Kém"],
                "PRIORITY_EVERY_N": "ba",
            },
            actor_id=None,
        )
    errors = err.value.details["errors"]
    assert set(errors) == {
        "ANNOUNCE_TEMPLATE",
        "ANNOUNCE_REPEAT",
        "VOICE_SOURCES",
        "RATING_SCALE",
        "PRIORITY_EVERY_N",
    }
    assert "{so}" in errors["ANNOUNCE_TEMPLATE"]
    assert errors["ANNOUNCE_REPEAT"] == "Giá trị phải từ 1 đến 5."
    assert errors["PRIORITY_EVERY_N"] == "Hãy nhập một số nguyên."
    assert "Chưa lưu" in str(err.value.message)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Setting)) == 0
    assert settings.effective("TICKET_FOOTER") == "Cảm ơn Quý khách!"


def test_rating_scale_of_five_levels_and_reasons(ctx: Flask) -> None:
    """Labels best first become levels 5..1; reasons one per line, blanks dropped."""
    labels = ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng", "Rất không hài lòng"]
    settings.update_settings(
        {
            "RATING_SCALE": labels,
            "RATING_REASONS": "Chờ lâu\n\n  Phải đi lại nhiều lần  \n",
        },
        actor_id=None,
    )
    scale = settings.effective("RATING_SCALE")
    assert [s["level"] for s in scale] == [5, 4, 3, 2, 1]
    assert scale[2] == {"level": 3, "label": "Bình thường"}
    assert settings.effective("RATING_REASONS") == ["Chờ lâu", "Phải đi lại nhiều lần"]


def test_priority_categories_get_codes_from_their_names(ctx: Flask) -> None:
    """A new category's code is its name without diacritics; existing codes are kept."""
    settings.update_settings(
        {
            "PRIORITY_CATEGORIES": [
                {"code": "elderly", "label": "Người cao tuổi (từ 75)"},
                {"code": "", "label": "Người đi cùng trẻ dưới 6 tuổi"},
                {"code": "disabled", "label": ""},  # emptied: dropped
            ]
        },
        actor_id=None,
    )
    assert settings.effective("PRIORITY_CATEGORIES") == {
        "elderly": "Người cao tuổi (từ 75)",
        "nguoi-di-cung-tre-duoi-6-tuoi": "Người đi cùng trẻ dưới 6 tuổi",
    }
    assert common.current_policy().priority_categories["elderly"] == "Người cao tuổi (từ 75)"


def test_ticket_footer_and_printed_name_reach_the_receipt(ctx: Flask) -> None:
    """The printed hall name and footer come from the settings."""
    from motcua.services import tickets

    view = tickets.issue_ticket("A", now=T0)
    settings.update_settings(
        {"TICKET_FOOTER": "Hẹn gặp lại!", "TICKET_HALL_NAME": "UBND PHƯỜNG BA ĐÌNH"}, actor_id=None
    )
    receipt = print_jobs.build_receipt(view, "TRUNG TÂM", "PHƯỜNG")
    assert (receipt.hall_name, receipt.footer) == ("UBND PHƯỜNG BA ĐÌNH", "Hẹn gặp lại!")


def test_reset_brings_back_the_configuration(ctx: Flask) -> None:
    """Dropping the stored value: the configuration applies again."""
    settings.update_settings({"DISPLAY_MESSAGE": "Chào mừng"}, actor_id=None)
    assert settings.effective("DISPLAY_MESSAGE") == "Chào mừng"
    assert settings.reset_setting("DISPLAY_MESSAGE", actor_id=None)
    assert settings.effective("DISPLAY_MESSAGE") == ctx.config["DISPLAY_MESSAGE"]
    assert not settings.reset_setting("DISPLAY_MESSAGE", actor_id=None)


def test_version_follows_every_change_and_every_page_carries_it(ctx: Flask) -> None:
    """/settings/version changes with a save and a reset, and back; pages are rendered with it."""
    client = ctx.test_client()
    first = settings.version()
    assert len(first) == 16
    assert client.get("/settings/version").get_json() == {"version": first}
    assert f'data-settings-version="{first}"' in client.get("/display/").get_data(as_text=True)
    settings.update_settings({"DISPLAY_MESSAGE": "Chào mừng"}, actor_id=None)
    second = settings.version()
    assert second != first
    assert client.get("/settings/version").get_json() == {"version": second}
    assert f'data-settings-version="{second}"' in client.get("/display/").get_data(as_text=True)
    settings.update_settings({"DISPLAY_MESSAGE": "Chào mừng"}, actor_id=None)  # unchanged
    assert settings.version() == second
    settings.reset_setting("DISPLAY_MESSAGE", actor_id=None)
    assert settings.version() == first


def test_unknown_keys_are_refused(ctx: Flask) -> None:
    """Only the settings the admin page offers can be changed."""
    with pytest.raises(ValidationFailed) as err:
        settings.update_settings({"SECRET_KEY": "x"}, actor_id=None)
    assert "SECRET_KEY" in err.value.details["errors"]


def test_site_hours_override_the_hall_hours(ctx: Flask) -> None:
    """A site's own WORKING_HOURS (scope site:<id>) decides when its kiosks issue numbers."""
    ctx.config["WORKING_HOURS"] = DEFAULTS["WORKING_HOURS"]
    site_id = db.session.scalar(sa.select(Site.id))
    saturday_9 = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)  # Sat 09:00 in Hà Nội
    sunday_9 = saturday_9 + dt.timedelta(days=1)
    assert hours.is_open(saturday_9, site_id) and not hours.is_open(sunday_9, site_id)
    settings.put(
        settings.site_scope(site_id),
        settings.WORKING_HOURS,
        {"sun": ["07:30-11:30"]},
        actor_id=None,
        now=T0,
    )
    db.session.commit()
    settings.invalidate()
    assert hours.is_open(sunday_9, site_id) and not hours.is_open(saturday_9, site_id)
    assert hours.is_open(saturday_9)  # the hall's own hours are unchanged
    assert hours.hours_text(site_id) == "Chủ nhật: 07:30–11:30"


def test_working_hours_parsing() -> None:
    """Spans are normalised and checked; overlaps and nonsense are refused."""
    assert settings.parse_spans("7:30-11:30, 13:30–17:00") == ["07:30-11:30", "13:30-17:00"]
    assert settings.parse_spans("") == []
    for bad in ("8h-11h", "11:30-07:30", "07:30-11:30, 11:00-12:00", "25:00-26:00"):
        with pytest.raises(ValueError):
            settings.parse_spans(bad)
    assert settings.hours_by_day({"mon-fri": ["07:30-11:30"], "sat": ["07:30-11:30"]})["fri"] == (
        "07:30-11:30"
    )
    with pytest.raises(ValidationFailed) as err:
        settings.clean_working_hours({"sat": "sáng thứ bảy"})
    assert "hours_sat" in err.value.details["errors"]


def test_another_process_change_is_seen_after_the_ttl(
    ctx: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row written elsewhere (e.g. a CLI) is picked up once the cache is older than TTL_S."""
    assert settings.effective("TICKET_FOOTER") == "Cảm ơn Quý khách!"
    db.session.add(Setting(scope="", key="TICKET_FOOTER", value="Khác", updated_at=T0))
    db.session.commit()
    assert settings.effective("TICKET_FOOTER") == "Cảm ơn Quý khách!"  # cached
    monkeypatch.setattr(settings, "TTL_S", -1.0)
    assert settings.effective("TICKET_FOOTER") == "Khác"
