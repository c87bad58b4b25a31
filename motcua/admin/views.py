"""Admin pages: parse the form, call one service, render (errors re-shown, nothing half-saved)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from motcua.admin import bp
from motcua.admin.forms import (
    ActiveForm,
    AnnounceSettingsForm,
    AreaForm,
    AuditFilterForm,
    CounterForm,
    DeviceForm,
    DisplaySettingsForm,
    NewDeviceForm,
    NewStaffForm,
    PasswordForm,
    QueueSettingsForm,
    RatingSettingsForm,
    SiteForm,
    StaffForm,
    TicketSettingsForm,
    rows,
)
from motcua.errors import ValidationFailed
from motcua.security import body_limit
from motcua.services import audit, devices, hall, privacy, scopes, settings, staff
from motcua.services.devices import Pairing
from motcua.timeutil import local

PAIRING_KEY = "admin_pairing"
STATUS_INVALID = 422
#: Pages about what every site shares: province-wide administrators only (roles per site).
PROVINCE_ONLY = frozenset(
    {"admin.areas", "admin.area_form", "admin.audit_page", "admin.privacy_page",
     "admin.privacy_purge"}
)  # fmt: skip


@bp.before_request
def _admins_only() -> Any:
    """Anonymous visitors go to the login form; signed-in non-admins get 403."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if current_user.view.role != "admin":
        abort(403)
    if request.endpoint in PROVINCE_ONLY:
        scopes.require_province(_me())  # a clear 403 page for a site administrator
    return None


def _me() -> int:
    """The signed-in administrator's id: the services show and change only their sites."""
    return int(current_user.view.id)


def _who() -> dict[str, Any]:
    """The acting administrator, for the audit log."""
    return {"actor_id": current_user.view.id, "actor": current_user.view.username}


def _chosen(name: str) -> set[str]:
    """The boxes ticked in the posted form, to tick them again when it is re-shown."""
    return set(request.form.getlist(name))


def _errors(exc: ValidationFailed) -> dict[str, str]:
    return dict(exc.details.get("errors") or {exc.details.get("field", "_"): str(exc.message)})


def _invalid(template: str, exc: ValidationFailed, **context: Any) -> Any:
    """Re-show a form with what was typed and a message per field."""
    return (
        render_template(
            template, form=request.form, errors=_errors(exc), error=str(exc.message), **context
        ),
        STATUS_INVALID,
    )


@bp.route("/")
def index() -> Any:
    """The administration home: what can be set, and the devices' state at a glance."""
    return render_template("admin/index.html", devices=devices.list_devices(actor_id=_me()))


# --------------------------------------------------------------------------- sites


@bp.route("/sites")
def sites() -> Any:
    """Sites (the hall and its reception points)."""
    return render_template("admin/sites.html", sites=hall.list_sites(actor_id=_me()))


@bp.route("/sites/new", methods=["GET", "POST"])
@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
def site_form(site_id: int | None = None) -> Any:
    """Create or edit a site: printed name, unit, kind, hours per weekday."""
    kinds = {k: str(v) for k, v in hall.SITE_KINDS.items()}
    if request.method == "POST":
        try:
            hall.save_site(site_id, **SiteForm.read().values(), **_who())
        except ValidationFailed as exc:
            site = hall.get_site(site_id, actor_id=_me()) if site_id else None
            return _invalid("admin/site_form.html", exc, site=site, kinds=kinds)
        flash(_("Đã lưu điểm tiếp nhận."))
        return redirect(url_for("admin.sites"))
    if site_id is None:
        scopes.require_province(_me())  # creating a site is the province's
    site = hall.get_site(site_id, actor_id=_me()) if site_id else None
    form: dict[str, Any] = {}
    if site:
        form = {**site, **{f"hours_{d}": h for d, h in site["hours"].items()}}
    else:
        defaults = settings.hours_by_day(settings.effective(settings.WORKING_HOURS))
        form = {"active": True, "kind": "point", **{f"hours_{d}": h for d, h in defaults.items()}}
    return render_template("admin/site_form.html", site=site, form=form, errors={}, kinds=kinds)


# --------------------------------------------------------------------------- areas


@bp.route("/areas")
def areas() -> Any:
    """Service areas (lĩnh vực) in kiosk order."""
    return render_template(
        "admin/areas.html", areas=hall.list_areas(actor_id=_me()), counters=hall.list_counters()
    )


@bp.route("/areas/new", methods=["GET", "POST"])
@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
def area_form(area_id: int | None = None) -> Any:
    """Create or edit a service area and the counters that serve it."""
    counters = hall.list_counters()
    if request.method == "POST":
        try:
            hall.save_area(area_id, **AreaForm.read().values(), **_who())
        except ValidationFailed as exc:
            return _invalid(
                "admin/area_form.html",
                exc,
                area_id=area_id,
                counters=counters,
                chosen=_chosen("counter_ids"),
            )
        flash(_("Đã lưu lĩnh vực."))
        return redirect(url_for("admin.areas"))
    area = hall.get_area(area_id, actor_id=_me()) if area_id else None
    form = area or {"active": True, "target_wait_minutes": 15}
    chosen = set(area["counter_ids"]) if area else set()
    return render_template(
        "admin/area_form.html",
        area_id=area_id,
        form=form,
        errors={},
        counters=counters,
        chosen=chosen,
    )


# --------------------------------------------------------------------------- counters


@bp.route("/counters")
def counters() -> Any:
    """Counters (quầy) and the areas each serves."""
    return render_template(
        "admin/counters.html", counters=hall.list_counters(actor_id=_me()), areas=hall.list_areas()
    )


@bp.route("/counters/new", methods=["GET", "POST"])
@bp.route("/counters/<int:counter_id>", methods=["GET", "POST"])
def counter_form(counter_id: int | None = None) -> Any:
    """Create or edit a counter: number, name, order, areas served, active."""
    context = {
        "areas": hall.list_areas(),
        "sites": hall.list_sites(actor_id=_me()),
        "counter_id": counter_id,
    }
    if request.method == "POST":
        try:
            hall.save_counter(counter_id, **CounterForm.read().values(), **_who())
        except ValidationFailed as exc:
            return _invalid("admin/counter_form.html", exc, chosen=_chosen("area_ids"), **context)
        flash(_("Đã lưu quầy."))
        return redirect(url_for("admin.counters"))
    counter = hall.get_counter(counter_id, actor_id=_me()) if counter_id else None
    sites: list[dict[str, Any]] = list(context["sites"])  # type: ignore[arg-type]
    form: Any = counter or {"active": True, "site_id": sites[0]["id"] if sites else None}
    chosen = set(counter["area_ids"]) if counter else set()
    return render_template(
        "admin/counter_form.html", form=form, errors={}, chosen=chosen, **context
    )


# --------------------------------------------------------------------------- users


def _roles() -> dict[str, str]:
    return {k: str(v) for k, v in staff.ROLE_LABELS.items()}


def _account_context(user: Any = None) -> dict[str, Any]:
    """What an account form offers: roles, counters and sites of the administrator's sites."""
    return {
        "user": user,
        "roles": _roles(),
        "counters": hall.list_counters(actor_id=_me()),
        "sites": hall.list_sites(actor_id=_me()),
        "province": current_user.view.province,
    }


def _account_form(user: Any) -> dict[str, Any]:
    return {
        **user.__dict__,
        "default_counter": user.default_counter or "",
        "site_ids": [str(i) for i in user.site_ids],
    }


@bp.route("/users")
def users() -> Any:
    """Accounts: officers, leaders, administrators (never deleted, only deactivated)."""
    return render_template(
        "admin/users.html", users=staff.list_staff(actor_id=_me()), roles=_roles()
    )


@bp.route("/users/new", methods=["GET", "POST"])
def user_new() -> Any:
    """Create an account."""
    context = _account_context()
    if request.method == "POST":
        try:
            user = staff.create_staff(**NewStaffForm.read().values(), **_who())
        except ValidationFailed as exc:
            return _invalid("admin/user_form.html", exc, **context)
        flash(_("Đã tạo tài khoản %(u)s.", u=user.username))
        return redirect(url_for("admin.user_edit", user_id=user.id))
    sites = context["sites"]
    # A site administrator's new account starts at their (first) site.
    form = {"role": "officer", "site_ids": [] if context["province"] else [str(sites[0]["id"])]}
    return render_template("admin/user_form.html", form=form, errors={}, **context)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int) -> Any:
    """Edit an account's name, position, unit, role and default counter."""
    user = staff.get_staff(user_id, actor_id=_me())
    context = {
        **_account_context(user),
        "throttled": staff.throttled_usernames().get(user.username),
    }
    if request.method == "POST":
        try:
            staff.update_staff(user_id, **StaffForm.read().values(), **_who())
        except ValidationFailed as exc:
            return _invalid("admin/user_form.html", exc, **context)
        flash(_("Đã lưu tài khoản."))
        return redirect(url_for("admin.user_edit", user_id=user_id))
    return render_template("admin/user_form.html", form=_account_form(user), errors={}, **context)


def _user_action(user_id: int, done: str, call: Any) -> Any:
    """Run one account action from the edit page; errors come back on that page."""
    try:
        call()
    except ValidationFailed as exc:
        user = staff.get_staff(user_id, actor_id=_me())
        form = MultiDict(_account_form(user))
        return (
            render_template(
                "admin/user_form.html",
                **_account_context(user),
                form=form,
                errors=_errors(exc),
                error=str(exc.message),
            ),
            STATUS_INVALID,
        )
    flash(done)
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int) -> Any:
    """Set a new password for an account."""
    return _user_action(
        user_id,
        _("Đã đặt mật khẩu mới."),
        lambda: staff.reset_password(user_id, PasswordForm.read().password.data, **_who()),
    )


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def user_active(user_id: int) -> Any:
    """Deactivate or reactivate an account."""
    active = bool(ActiveForm.read().active.data)
    done = _("Đã mở khóa tài khoản.") if active else _("Đã khóa tài khoản.")
    return _user_action(user_id, done, lambda: staff.set_active(user_id, active, **_who()))


@bp.route("/users/<int:user_id>/login-unlock", methods=["POST"])
def user_login_unlock(user_id: int) -> Any:
    """Lift the sign-in delay of an account after wrong passwords (audited)."""
    username = staff.get_staff(user_id, actor_id=_me()).username
    return _user_action(
        user_id,
        _("Đã mở khóa đăng nhập: tài khoản đăng nhập lại được ngay."),
        lambda: staff.lift_login_throttle(username, ip=request.remote_addr, **_who()),
    )


@bp.route("/users/<int:user_id>/photo", methods=["POST"])
@body_limit("PHOTO_UPLOAD_MAX_BYTES")
def user_photo(user_id: int) -> Any:
    """Upload an officer's photo (shown on the rating tablet)."""
    upload = request.files.get("photo")
    data = upload.read() if upload else b""
    return _user_action(
        user_id, _("Đã cập nhật ảnh."), lambda: staff.set_photo(user_id, data, **_who())
    )


# --------------------------------------------------------------------------- hall settings

SECTIONS = ("queue", "ticket", "announce", "display", "rating")


def _section_changes(section: str) -> dict[str, Any]:
    """The settings a section's form sends, typed, as the settings service takes them."""
    f = request.form
    if section == "queue":
        queue = QueueSettingsForm.read()
        return {
            "PRIORITY_POLICY": queue.PRIORITY_POLICY.data,
            "PRIORITY_EVERY_N": queue.PRIORITY_EVERY_N.data,
            "PRIORITY_CATEGORIES": rows(f, "cat", queue.cat_count.data or 0, "code", "label"),
            "NOSHOW_REQUEUE": queue.NOSHOW_REQUEUE.data,
            "NOSHOW_MAX_MISSES": queue.NOSHOW_MAX_MISSES.data,
            "DEFAULT_SERVICE_MINUTES": queue.DEFAULT_SERVICE_MINUTES.data,
        }
    if section == "ticket":
        return TicketSettingsForm.read().values()
    if section == "announce":
        chosen = AnnounceSettingsForm.read().values()
        for key in ("ANNOUNCE_THOUSAND", "ANNOUNCE_LINH"):  # not sent: left as they are
            if not chosen.get(key):
                chosen.pop(key, None)
        return {
            **chosen,
            "VOICE_SOURCES": [f.get(f"voice_{i}", "") for i in range(3)],
        }
    if section == "display":
        return DisplaySettingsForm.read().values()
    rating = RatingSettingsForm.read()
    size = min(rating.rating_size.data or 0, 5)
    return {
        "RATING_SCALE": [f.get(f"rating_label_{i}", "") for i in range(size)],
        "RATING_REASONS": rating.RATING_REASONS.data,
        "RATING_QUESTION": rating.RATING_QUESTION.data,
    }


def _settings_site() -> int | None:
    """The site whose settings the page edits (``?site=<id>``); none: the installation's,
    except for a site administrator, whose page opens on their first site."""
    site_id = request.args.get("site", type=int)
    if site_id is None and not current_user.view.province:
        site_id = current_user.view.site_ids[0]
    return site_id


@bp.route("/settings")
def hall_settings() -> Any:
    """The hall's rules: priority, no-show, ticket, announcements, display, rating."""
    return _settings_page()


@bp.route("/settings/<section>", methods=["POST"])
def settings_save(section: str) -> Any:
    """Save one section of the hall settings (all of it or nothing)."""
    if section not in SECTIONS:
        abort(404)
    site_id = _settings_site()
    try:
        changed = settings.update_settings(_section_changes(section), site_id=site_id, **_who())
    except ValidationFailed as exc:
        return _settings_page(section, _errors(exc), str(exc.message))
    flash(_("Đã lưu. Màn hình và ki-ốt sẽ tự cập nhật.") if changed else _("Không có gì thay đổi."))
    return redirect(url_for("admin.hall_settings", site=site_id, _anchor=section))


def _settings_page(
    section: str | None = None, errors: dict[str, str] | None = None, error: str | None = None
) -> Any:
    site_id = _settings_site()
    return (
        render_template(
            "admin/settings.html",
            config=settings.settings_for(_me(), site_id=site_id),
            settings_site=site_id,
            settings_sites=scopes.visible_sites(_me()),
            posted=request.form if section else None,
            section=section,
            errors=errors or {},
            section_error=error,  # shown in the section, by the fields it is about
        ),
        STATUS_INVALID if errors else 200,
    )


# --------------------------------------------------------------------------- devices


def _remember_pairing(pairing: Pairing) -> None:
    """Keep a fresh code for one showing on the device page (it is never stored in clear)."""
    session[PAIRING_KEY] = {
        "device_id": pairing.device.id,
        "code": pairing.code,
        "expires_at": pairing.expires_at.isoformat(),
    }


def _device_context() -> dict[str, Any]:
    return {
        "kinds": {k: str(v) for k, v in devices.KINDS.items()},
        "sites": hall.list_sites(actor_id=_me()),
        "counters": hall.list_counters(actor_id=_me()),
    }


@bp.route("/devices")
def devices_page() -> Any:
    """Kiosks, displays and rating tablets: paired, online, printer state."""
    return render_template("admin/devices.html", devices=devices.list_devices(actor_id=_me()))


@bp.route("/devices/new", methods=["GET", "POST"])
def device_new() -> Any:
    """Register a device and get its pairing code."""
    context = _device_context()
    if request.method == "POST":
        try:
            pairing = devices.create_device(**NewDeviceForm.read().values(), **_who())
        except ValidationFailed as exc:
            return _invalid("admin/device_new.html", exc, **context)
        _remember_pairing(pairing)
        return redirect(url_for("admin.device_page", device_id=pairing.device.id))
    sites = context["sites"]
    form = {"kind": "kiosk", "site_id": sites[0]["id"] if sites else None}
    return render_template("admin/device_new.html", form=form, errors={}, **context)


def _render_device(
    device_id: int, *, status: int = 200, errors: dict[str, str] | None = None, **extra: Any
) -> Any:
    device = devices.get_device(device_id, actor_id=_me())
    pending = session.pop(PAIRING_KEY, None)
    pairing = None
    if pending and pending.get("device_id") == device_id and device.pairing_pending:
        pairing = {**pending, "expires_at": dt.datetime.fromisoformat(pending["expires_at"])}
        pairing["link"] = url_for("device.pair", code=pending["code"], _external=True)
        from printer.svg import qr_svg  # loads the QR encoder only when a code is shown

        pairing["qr_svg"] = qr_svg(pairing["link"])
    extra.setdefault(
        "form",
        {
            "name": device.name,
            "note": device.note,
            "site_id": device.site_id,
            "counter_id": device.counter_id,
        },
    )
    extra.setdefault("printer_form", device.printer or {"backend": "file", "width_px": 576})
    return (
        render_template(
            "admin/device.html",
            device=device,
            pairing=pairing,
            errors=errors or {},
            backends=devices.printer_backends(),
            **_device_context(),
            **extra,
        ),
        status,
    )


@bp.route("/devices/<int:device_id>", methods=["GET", "POST"])
def device_page(device_id: int) -> Any:
    """One device: rename/move, pairing code, printer settings, test print, revoke."""
    if request.method == "POST":
        try:
            devices.update_device(device_id, **DeviceForm.read().values(), **_who())
        except ValidationFailed as exc:
            return _render_device(
                device_id,
                status=STATUS_INVALID,
                errors=_errors(exc),
                error=str(exc.message),
                form=request.form,
            )
        flash(_("Đã lưu thiết bị."))
        return redirect(url_for("admin.device_page", device_id=device_id))
    return _render_device(device_id)


@bp.route("/devices/<int:device_id>/pair", methods=["POST"])
def device_pair(device_id: int) -> Any:
    """A new pairing code (the device's current token stops working)."""
    _remember_pairing(devices.start_pairing(device_id, **_who()))
    return redirect(url_for("admin.device_page", device_id=device_id))


@bp.route("/devices/<int:device_id>/revoke", methods=["POST"])
def device_revoke(device_id: int) -> Any:
    """Withdraw a device."""
    device = devices.revoke_device(device_id, **_who())
    flash(_("Đã thu hồi thiết bị %(name)s.", name=device.name))
    return redirect(url_for("admin.device_page", device_id=device_id))


@bp.route("/devices/<int:device_id>/printer", methods=["POST"])
def device_printer(device_id: int) -> Any:
    """Save a kiosk's own printer settings."""
    try:
        devices.set_printer(device_id, request.form, **_who())
    except ValidationFailed as exc:
        return _render_device(
            device_id,
            status=STATUS_INVALID,
            errors=_errors(exc),
            error=str(exc.message),
            printer_form=request.form,
        )
    flash(_("Đã lưu cài đặt máy in."))
    return redirect(url_for("admin.device_page", device_id=device_id, _anchor="printer"))


@bp.route("/devices/<int:device_id>/test-print", methods=["POST"])
def device_test_print(device_id: int) -> Any:
    """Print the test page on the kiosk's printer now."""
    result = devices.test_print(device_id, **_who())
    if result["ok"]:
        flash(_("Đã in trang thử."))
    else:
        flash(_("In thử không được: %(m)s", m=result["message"]))
    return redirect(url_for("admin.device_page", device_id=device_id, _anchor="printer"))


@bp.route("/devices/<int:device_id>/print-alerts/<alert_id>/dismiss", methods=["POST"])
def device_print_alert_dismiss(device_id: int, alert_id: str) -> Any:
    """Mark a kiosk's unprinted ticket as handled (the alert closes; audited)."""
    done = devices.dismiss_print_alert(device_id, alert_id, **_who())
    flash(_("Đã đánh dấu xử lý vé chưa in số %(code)s.", code=done["ticket"]["code"]))
    return redirect(url_for("admin.device_page", device_id=device_id, _anchor="print-alerts"))


@bp.route("/devices/<int:device_id>/printer-status", methods=["POST"])
def device_printer_status(device_id: int) -> Any:
    """Read the kiosk printer's state now."""
    state = devices.printer_status(device_id, actor_id=_me())
    flash(_("Máy in: %(m)s", m=state.get("message") or state.get("state")))
    return redirect(url_for("admin.device_page", device_id=device_id, _anchor="printer"))


# --------------------------------------------------------------------------- audit


@bp.route("/privacy")
def privacy_page() -> Any:
    """Dữ liệu cá nhân: what is kept, for how long, and what the database holds now."""
    policy = privacy.retention_policy()
    last = local(policy.last_purge).strftime("%H:%M %d/%m/%Y") if policy.last_purge else None
    return render_template(
        "admin/privacy.html",
        policy=policy,
        kept=privacy.what_is_kept(policy.days),
        last_purge=last,
    )


@bp.route("/privacy/purge", methods=["POST"])
def privacy_purge() -> Any:
    """Erase now what is older than the retention (the housekeeping does it every 10 minutes)."""
    result = privacy.purge(**_who())  # province-wide administrators only (PROVINCE_ONLY)
    flash(
        _(
            "Đã xóa dữ liệu cá nhân trước ngày %(d)s: %(t)s số thứ tự, %(e)s ghi chú, %(r)s góp ý.",
            d=result.kept_from.strftime("%d/%m/%Y"),
            t=result.tickets,
            e=result.events,
            r=result.ratings,
        )
    )
    return redirect(url_for("admin.privacy_page"))


@bp.route("/audit")
def audit_page() -> Any:
    """Who did what, when: filters by person, action and days."""
    args = request.args
    wanted = AuditFilterForm(formdata=args).filters()
    entries = audit.list_entries(
        actor_id=wanted["actor"],
        action=wanted["action"],
        since=wanted["since"],
        until=wanted["until"],
    )
    return render_template(
        "admin/audit.html",
        rows=entries,
        users=staff.list_staff(),
        actions=audit.filter_choices()["actions"],
        args=args,
    )


@bp.app_template_filter("hall_time")
def hall_time(value: dt.datetime | None) -> str:
    """An instant as hall time, e.g. 08:15 23/11/2026."""
    if value is None:
        return ""
    return local(value).strftime("%H:%M %d/%m/%Y")


@bp.app_template_filter("plain")
def plain(value: Any) -> str:
    """An audit detail as readable text (Vietnamese letters as they are, yes/no for flags)."""
    if isinstance(value, bool):
        return _("có") if value else _("không")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
