"""The public booking page (/booking/, made for a phone, no account): areas, free slots, book,
the holder's page with the code and its QR, cancel. Parse, call one service, render."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import make_response, redirect, render_template, request, url_for

from kiosk import bp
from motcua.errors import DomainError, ValidationFailed
from motcua.i18n import lang_param
from motcua.services import appointments
from motcua.sites import request_site_code

#: A random id per browser, only to count its bookings per day (stored as a keyed hash).
BROWSER_COOKIE = "motcua_booking"


def _browser_id() -> str:
    """This browser's random id (made on its first visit)."""
    return request.cookies.get(BROWSER_COOKIE) or ""


def _with_browser_cookie(response: Any) -> Any:
    """Give the browser its random id if it has none (one year, this site only)."""
    response = make_response(response)
    if not request.cookies.get(BROWSER_COOKIE):
        response.set_cookie(
            BROWSER_COOKIE,
            secrets.token_urlsafe(16),
            max_age=365 * 86400,
            httponly=True,
            samesite="Lax",
        )
    return response


def _days(slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slots grouped by their day, in order: ``{"day" (ISO), "text", "short", "slots"}``."""
    days: dict[str, dict[str, Any]] = {}
    for slot in slots:
        entry = days.setdefault(
            slot["day"],
            {
                "day": slot["day"],
                "text": slot["date_text"],
                "short": slot["date_text"].rsplit("/", 1)[0],  # "Thứ Hai, 07/12"
            },
        )
        entry.setdefault("slots", []).append(slot)
    return list(days.values())


def _one_day(days: list[dict[str, Any]], asked: str | None) -> dict[str, Any] | None:
    """The day whose slots the page lists (``?day=``, else the first with a free place): a
    week of 15-minute slots at once is a phone screen scrolled for minutes."""
    return next((d for d in days if d["day"] == asked), days[0] if days else None)


@bp.route("/booking/")
def booking_home() -> Any:
    """The areas that take bookings or numbers from home."""
    areas = appointments.bookable_areas(site_code=request_site_code())
    return _with_browser_cookie(
        render_template(
            "kiosk/booking_home.html",
            areas=areas,
            hall=appointments.hall_names(site_code=request_site_code()),
        )
    )


def _area_page(area: str, error: str | None = None, status: int = 200) -> Any:
    """An area's free slots (and the number-from-home button), with an error if any."""
    page = appointments.booking_page(area, site_code=request_site_code())
    days = _days(page["slots"])
    body = render_template(
        "kiosk/booking_area.html",
        page=page,
        days=days,
        shown=_one_day(days, request.values.get("day")),
        error=error,
    )
    return _with_browser_cookie((body, status))


@bp.route("/booking/<area>/")
def booking_area(area: str) -> Any:
    """The area's free slots."""
    try:
        return _area_page(area)
    except DomainError as exc:
        return render_template("kiosk/booking_error.html", message=str(exc.message)), exc.status


@bp.route("/booking/<area>/", methods=["POST"])
def booking_book(area: str) -> Any:
    """Book the chosen slot (or take a number from home); then the holder's page."""
    address, browser = request.remote_addr, _browser_id() or None
    try:
        if request.form.get("remote"):
            made = appointments.take_remote(
                area, address=address, browser=browser, site_code=request_site_code()
            )
        else:
            try:
                starts_at = dt.datetime.fromisoformat(request.form.get("starts_at") or "")
            except ValueError as exc:
                raise ValidationFailed(field="starts_at") from exc
            if starts_at.tzinfo is None:
                raise ValidationFailed(field="starts_at")
            made = appointments.book(
                area, starts_at, address=address, browser=browser, site_code=request_site_code()
            )
    except DomainError as exc:
        try:
            return _area_page(area, error=str(exc.message), status=exc.status)
        except DomainError:
            return render_template("kiosk/booking_error.html", message=str(exc.message)), 404
    return redirect(
        url_for("kiosk.booking_holder", token=made["token"], lang=lang_param()), code=303
    )


@bp.route("/booking/b/<token>")
def booking_holder(token: str) -> Any:
    """The holder's page: the code, its QR (the kiosk reads it), the time, cancel."""
    from printer.svg import qr_svg

    try:
        booking = appointments.booking_by_token(token)
    except DomainError as exc:
        return render_template("kiosk/booking_error.html", message=str(exc.message)), 404
    return render_template(
        "kiosk/booking_holder.html",
        booking=booking,
        token=token,
        qr_svg=qr_svg(booking["code"]),
        hall=appointments.hall_names(site_code=request_site_code()),
    )


@bp.route("/booking/b/<token>/cancel", methods=["POST"])
def booking_cancel(token: str) -> Any:
    """Cancel by the holder; back to the holder's page, which says so."""
    try:
        appointments.cancel(token)
    except DomainError as exc:
        return render_template("kiosk/booking_error.html", message=str(exc.message)), exc.status
    return redirect(url_for("kiosk.booking_holder", token=token, lang=lang_param()), code=303)
