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
from motcua.services.sites import actor_site_code, install_site_code


def _site() -> str:
    """The site whose rules are shown: ``?site=`` (one of the administrator's), else theirs."""
    return actor_site_code(_who()["actor_id"], request.args.get("site") or None)


@bp.route("/appointments")
def appointment_rules() -> Any:
    """Every area the site serves, with its booking rules."""
    site = _site()
    booking_url = url_for("kiosk.booking_home", _external=True)
    if site != install_site_code():  # another ward's citizens book at its own address
        booking_url = f"{request.host_url}s/{site}/booking/"
    return render_template(
        "admin/appointment_rules.html",
        rules=appointments.booking_rules(site_code=site),
        site=site,
        booking_url=booking_url,
    )


@bp.route("/appointments/<area>", methods=["GET", "POST"])
def appointment_rule_form(area: str) -> Any:
    """An area's booking rules: offered, numbers from home, slot length, capacity, hours."""
    site = _site()
    rule = appointments.booking_rule(area, site_code=site)
    if request.method == "POST":
        try:
            who = _who()
            appointments.save_rule(
                area,
                **AppointmentRuleForm.read().values(),
                site_code=site,
                actor_id=who["actor_id"],
            )
        except ValidationFailed as exc:
            return _invalid(
                "admin/appointment_rule_form.html", exc, rule=rule, days=DAY_KEYS, site=site
            )
        flash(_("Đã lưu quy định đặt lịch hẹn."))
        return redirect(url_for("admin.appointment_rules", site=site))
    return render_template(
        "admin/appointment_rule_form.html",
        site=site,
        rule=rule,
        form=rule.form_data(),
        errors={},
        days=DAY_KEYS,
    )
