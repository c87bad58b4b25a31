"""Admin pages for the booking rules per area (issue 17): list and form."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from motcua.admin import bp
from motcua.admin.forms import AppointmentRuleForm
from motcua.admin.views import _invalid, _who
from motcua.errors import ValidationFailed
from motcua.services import appointments
from motcua.services.settings import DAY_KEYS


@bp.route("/appointments")
def appointment_rules() -> Any:
    """Every area the hall serves, with its booking rules."""
    return render_template("admin/appointment_rules.html", rules=appointments.booking_rules())


@bp.route("/appointments/<area>", methods=["GET", "POST"])
def appointment_rule_form(area: str) -> Any:
    """An area's booking rules: offered, numbers from home, slot length, capacity, hours."""
    rule = appointments.booking_rule(area)
    if request.method == "POST":
        try:
            who = _who()
            appointments.save_rule(
                area, **AppointmentRuleForm.read().values(), actor_id=who["actor_id"]
            )
        except ValidationFailed as exc:
            return _invalid("admin/appointment_rule_form.html", exc, rule=rule, days=DAY_KEYS)
        flash(_("Đã lưu quy định đặt lịch hẹn."))
        return redirect(url_for("admin.appointment_rules"))
    return render_template(
        "admin/appointment_rule_form.html",
        rule=rule,
        form=rule.form_data(),
        errors={},
        days=DAY_KEYS,
    )
