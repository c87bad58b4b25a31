"""The admin pages' forms (WTForms): typed values for the services, Vietnamese errors per field.

A form turns what was typed into ints, bools, dates and lists, and says in Vietnamese which
field could not be read. The hall's rules (ranges, uniqueness, a busy counter) stay in the
services, so the CLI and every other door meets them too; a service's ``ValidationFailed``
comes back to the same template the same way (``errors``: field → message).

CSRF: ``motcua.security`` checks the token of every form post before any view runs, so the
forms do not check it a second time (``Meta.csrf = False``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, StringField
from wtforms.fields import DateField, IntegerField

from motcua.errors import ValidationFailed
from motcua.services.settings import DAY_KEYS

MAX_ROWS = 30
F = TypeVar("F", bound="AdminForm")


class Integer(IntegerField):
    """A whole number; empty is None when the field is ``optional``, else an error."""

    def __init__(self, *args: Any, optional: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.optional = optional

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        if not text and self.optional:
            self.data = None
            return
        try:
            self.data = int(text)
        except ValueError:
            self.data = None
            raise ValueError(str(_l("Hãy nhập một số nguyên."))) from None


class Day(DateField):
    """A date from an <input type=date> (YYYY-MM-DD)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(_l("Chọn ngày."))) from None


class IntList(Field):
    """Every value of a repeated field (checkboxes, multi-selects) as ints."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            self.data = [int(str(v).strip()) for v in valuelist if str(v).strip()]
        except ValueError:
            self.data = []
            raise ValueError(str(_l("Có lựa chọn không hợp lệ."))) from None

    def _value(self) -> str:
        return ""


class TextList(Field):
    """Every value of a repeated field as trimmed, non-empty strings."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = [str(v).strip() for v in valuelist if str(v).strip()]

    def _value(self) -> str:
        return ""


def Text() -> StringField:  # noqa: N802  (reads as a field type, like the others)
    """A text field that is "" when left out, never None."""
    return StringField(default="")


def Flag() -> BooleanField:  # noqa: N802
    """A checkbox: checked unless absent or sent as false/0/off/no."""
    return BooleanField(false_values=("false", "0", "off", "no", ""))


class AdminForm(FlaskForm):  # type: ignore[misc]
    """Base of every admin form: read from the request, refuse with errors per field."""

    class Meta:
        csrf = False  # motcua.security has checked the token already

    def field_errors(self) -> dict[str, str]:
        """The first message of each field that could not be read."""
        return {name: str(messages[0]) for name, messages in self.errors.items() if messages}

    def values(self) -> dict[str, Any]:
        """The typed values, named as the service's arguments."""
        return dict(self.data)

    @classmethod
    def read(cls: type[F], formdata: Mapping[str, Any] | None = None) -> F:
        """The form read from the request (or ``formdata``); ValidationFailed if a field is not."""
        form = cls() if formdata is None else cls(formdata=formdata)
        if not form.validate():
            errors = form.field_errors()
            raise ValidationFailed(
                _l("Chưa lưu: có %(n)s mục chưa hợp lệ.", n=len(errors)), errors=errors
            )
        return form


def rows(formdata: Any, prefix: str, count: int, *names: str) -> list[dict[str, str]]:
    """Numbered rows of a repeated group (``cat_code_0``, ``cat_label_0``, …) as dicts."""
    return [
        {name: str(formdata.get(f"{prefix}_{name}_{i}", "")) for name in names}
        for i in range(min(max(count, 0), MAX_ROWS))
    ]


# --------------------------------------------------------------------------- the hall


class SiteForm(AdminForm):
    """A site: code (new ones), printed name, unit, kind, active, hours per weekday."""

    code = Text()
    name = Text()
    unit_name = Text()
    kind = Text()
    active = Flag()

    def values(self) -> dict[str, Any]:
        """The site's fields, with the hours as {day: "07:30-11:30,…"}."""
        data = dict(self.data)
        data["hours"] = {day: data.pop(f"hours_{day}") or "" for day in DAY_KEYS}
        return data


for _day in DAY_KEYS:
    setattr(SiteForm, f"hours_{_day}", Text())


class AppointmentRuleForm(AdminForm):
    """An area's booking rules at a site: offered, numbers from home, slots, hours, days ahead."""

    offered = Flag()
    remote = Flag()
    slot_minutes = Integer()
    capacity = Integer()
    days_ahead = Integer()

    def values(self) -> dict[str, Any]:
        """The rule's fields, with the hours as {day: "08:00-11:00,…"} (all empty: None)."""
        data = dict(self.data)
        per_day = {day: data.pop(f"hours_{day}") or "" for day in DAY_KEYS}
        data["hours_spec"] = per_day if any(per_day.values()) else None
        return data


for _day in DAY_KEYS:
    setattr(AppointmentRuleForm, f"hours_{_day}", Text())


class AreaForm(AdminForm):
    """A service area and the counters that serve it."""

    code = Text()
    prefix = Text()
    name = Text()
    description = Text()
    sort_order = Integer(optional=True)
    target_wait_minutes = Integer()
    active = Flag()
    counter_ids = IntList()


class CounterForm(AdminForm):
    """A counter: its site, number, name, order (empty: its number), areas, active."""

    site_id = Integer()
    number = Integer()
    name = Text()
    sort_order = Integer(optional=True)
    active = Flag()
    area_ids = IntList()


# --------------------------------------------------------------------------- accounts


class StaffForm(AdminForm):
    """An account's profile: name, role, position, unit, default counter (number) and the
    sites it works at (none ticked: province-wide)."""

    full_name = Text()
    role = Text()
    position = Text()
    unit = Text()
    default_counter = Integer(optional=True)
    site_ids = IntList()


class NewStaffForm(StaffForm):
    """A new account: the profile plus its username and first password."""

    username = Text()
    password = Text()


class PasswordForm(AdminForm):
    """A new password for an account."""

    password = Text()


class ActiveForm(AdminForm):
    """Lock (unchecked) or unlock (checked) an account."""

    active = Flag()


# --------------------------------------------------------------------------- hall settings


class QueueSettingsForm(AdminForm):
    """Priority, no-show and service-time rules."""

    PRIORITY_POLICY = Text()
    PRIORITY_EVERY_N = Integer()
    cat_count = Integer(optional=True)
    NOSHOW_REQUEUE = Flag()
    NOSHOW_MAX_MISSES = Integer()
    DEFAULT_SERVICE_MINUTES = Integer()


class TicketSettingsForm(AdminForm):
    """The printed ticket's hall name and footer."""

    TICKET_HALL_NAME = Text()
    TICKET_FOOTER = Text()


class AnnounceSettingsForm(AdminForm):
    """The call phrase, how often it is said, and the voices in order."""

    ANNOUNCE_TEMPLATE = Text()
    ANNOUNCE_REPEAT = Integer()
    ANNOUNCE_THOUSAND = Text()
    ANNOUNCE_LINH = Text()


class DisplaySettingsForm(AdminForm):
    """The lobby board's running message."""

    DISPLAY_MESSAGE = Text()


class RatingSettingsForm(AdminForm):
    """The rating question, its scale and the reasons offered on a low score."""

    rating_size = Integer(optional=True)
    RATING_REASONS = Text()
    RATING_QUESTION = Text()


# --------------------------------------------------------------------------- devices


class DeviceForm(AdminForm):
    """A device's name, note, site and counter (ids; empty: none)."""

    name = Text()
    note = Text()
    site_id = Integer(optional=True)
    counter_id = Integer(optional=True)


class NewDeviceForm(DeviceForm):
    """A device to register: its kind too."""

    kind = Text()


# --------------------------------------------------------------------------- sessions, audit


class SessionPlanForm(AdminForm):
    """A Saturday or mobile session: kind, place, day, areas, officers, hours, counters."""

    kind = Text()
    place = Text()
    date = Day()
    areas = TextList()
    officers = TextList()
    hours = Text()
    counters = Integer(optional=True)
    note = Text()


class AuditFilterForm(AdminForm):
    """The audit page's filters (from the query string): who, what, which days."""

    actor = Integer(optional=True)
    action = Text()
    since = Day()
    until = Day()

    def filters(self) -> dict[str, Any]:
        """The filters that could be read; one that could not is left out, not refused."""
        self.validate()
        data: dict[str, Any] = {
            name: None if self[name].errors else self[name].data
            for name in ("actor", "action", "since", "until")
        }
        data["action"] = data["action"] or None
        return data
