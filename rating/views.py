"""Rating views: the tablet page, officer photos, and the phone rating of a ticket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, current_app, render_template, request, send_from_directory
from flask_babel import gettext as _

from motcua import i18n
from motcua.api.schemas import RatingSchema
from motcua.errors import DeviceForbidden, DeviceNotPaired, ValidationFailed
from motcua.services import ratings
from motcua.services.devices import RATING
from motcua.sites import request_site_code, unpaired_page
from rating import bp
from rating.events import PHOTO_URL_PREFIXES, counter_number_arg, paired_counter


def tablet_messages() -> dict[str, str]:
    """The tablet's words, in Vietnamese."""
    return {
        "counter": _("QUẦY %(n)s", n="{n}"),
        "ticket": _("Số thứ tự"),
        "officer_none": _("Chưa có cán bộ tại quầy"),
        "reasons_title": _("Xin cho biết lý do (có thể chọn nhiều):"),
        "comment": _("Góp ý thêm (không bắt buộc)"),
        "send": _("Gửi đánh giá"),
        "back": _("‹ Chọn lại mức đánh giá"),
        "thanks": _("Cảm ơn Ông/Bà đã đánh giá!"),
        "thanks_detail": _("Ý kiến của Ông/Bà giúp chúng tôi phục vụ tốt hơn."),
        "thanks_other": _("Lượt giao dịch này đã được đánh giá qua điện thoại. Xin cảm ơn!"),
        "idle_hint": _("Sau khi hoàn thành hồ sơ, xin Ông/Bà đánh giá thái độ phục vụ tại đây."),
        "offline": _("Mất kết nối – đang kết nối lại…"),
        "timeout": _("Máy chủ chưa phản hồi, vui lòng thử lại."),
        "error": _("Chưa gửi được đánh giá, vui lòng thử lại."),
        "setup_title": _("Cài đặt máy đánh giá"),
        "setup_help": _("Chọn quầy đặt máy đánh giá này. Lựa chọn được lưu trên thiết bị."),
        "refused": _("Không kết nối được: %(reason)s", reason="{reason}"),
        "anonymous": _("Đánh giá không ghi nhận thông tin cá nhân của Ông/Bà."),
    }


@bp.route("/")
def index() -> Any:
    """The tablet page: bound to ?counter=N (or to the pairing, or to the set-up choice)."""
    try:
        paired = paired_counter()
    except (DeviceNotPaired, DeviceForbidden) as exc:
        return unpaired_page(RATING, exc)
    number: int | None = None
    site: str | None = request_site_code(named=request.args.get("site") or None)
    if paired is not None:
        number, site = paired
    elif request.args.get("counter"):
        try:
            number = counter_number_arg(request.args.get("counter"))
        except ValidationFailed:
            abort(404)
    page = ratings.tablet_page(site)
    if number is not None and number not in {c["number"] for c in page["counters"]}:
        abort(404)
    settings = {
        "counter": number,
        "site": site,
        "paired": paired is not None,
        "setup": request.args.get("setup") == "1",
        "timing": page["timing"],
    }
    return render_template(
        "rating/tablet.html",
        choices=page,
        settings=settings,
        messages=tablet_messages(),
        scale=page["scale"],
    )


@bp.route("/photo/<int:user_id>")
def officer_photo(user_id: int) -> Any:
    """An officer's photo kept as a file name under the instance folder's ``photos/``."""
    photo = ratings.officer_photo(user_id)
    if not photo or photo.startswith(PHOTO_URL_PREFIXES) or "/" in photo or "\\" in photo:
        abort(404)
    folder = Path(current_app.instance_path) / "photos"
    return send_from_directory(folder, photo, max_age=3600)


def phone_messages() -> dict[str, str]:
    """The phone rating's words, in Vietnamese."""
    return {
        "title": _("Đánh giá mức độ hài lòng"),
        "reasons_title": _("Xin cho biết lý do (có thể chọn nhiều):"),
        "comment": _("Góp ý thêm (không bắt buộc)"),
        "send": _("Gửi đánh giá"),
        "back": _("‹ Chọn lại mức đánh giá"),
        "thanks": _("Cảm ơn Ông/Bà đã đánh giá!"),
        "rated": _(
            "Lượt giao dịch này đã được đánh giá: %(label)s. Xin cảm ơn Ông/Bà!", label="{label}"
        ),
        "closed": _("Đã hết thời gian đánh giá lượt giao dịch này."),
        "anonymous": _("Đánh giá không ghi nhận thông tin cá nhân của Ông/Bà."),
        "error": _("Chưa gửi được đánh giá, vui lòng thử lại."),
    }


def localized_scale(state: dict[str, Any]) -> dict[str, Any]:
    """The phone's rating state with the hall's question, levels and reasons in the page's
    language where they are motcua's defaults (``i18n.data_text``). Reasons keep their
    Vietnamese value, the one the service checks; ``reason_labels`` is what the buttons say."""
    scale = state["scale"]
    rated = state.get("rated")
    return {
        **state,
        "rated": {**rated, "label": i18n.data_text(rated["label"])} if rated else rated,
        "scale": {
            **scale,
            "question": i18n.data_text(scale["question"]),
            "levels": [{**lv, "label": i18n.data_text(lv["label"])} for lv in scale["levels"]],
            "reason_labels": [i18n.data_text(r) for r in scale["reasons"]],
        },
    }


@bp.route("/t/<token>")
def phone_state(token: str) -> Any:
    """May this ticket be rated from the phone now? (the status page's rating slot)"""
    return {**localized_scale(ratings.phone_state(token)), "texts": phone_messages()}


@bp.route("/t/<token>", methods=["POST"])
def phone_rate(token: str) -> Any:
    """Rate a finished ticket from its status page: {"level": n, "reasons": [], "comment": ""}."""
    body = RatingSchema().load(request.get_json(silent=True) or {})
    view = ratings.rate_by_token(
        token, body["level"], reasons=body["reasons"], comment=body["comment"]
    )
    return {"ok": True, "rating": view.as_dict()}, 201
