"""Counter console views: choose a counter, then the live console page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from counter import bp
from counter.events import COUNTER_ROLES
from motcua.services import board, tickets
from motcua.sites import address_prefix

P = ParamSpec("P")
R = TypeVar("R")


def officer_required(fn: Callable[P, R]) -> Callable[P, Any]:
    """Send anonymous visitors to the login page; refuse non-officers."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not current_user.view.has_role(*COUNTER_ROLES):
            abort(403)
        return fn(*args, **kwargs)

    return wrapper


def _site_arg() -> dict[str, Any]:
    """``?site=`` kept across a redirect (a /s/<code>/ prefix stays by itself)."""
    site = request.args.get("site")
    return {"site": site} if site else {}


def _asked_site() -> str | None:
    """The site the console's address names: its /s/<code>/ prefix, else ``?site=``."""
    return address_prefix() or request.args.get("site") or None


@bp.route("/")
@officer_required
def index() -> Any:
    """Choose the counter to sit at (or go straight to the one the site's settings fix)."""
    snapshot = board.console_snapshot(current_user.view.id, site_code=_asked_site())
    fixed = tickets.assigned_counter(current_user.view.username, snapshot["site"]["id"])
    if fixed is not None:
        return redirect(url_for("counter.console", number=fixed, **_site_arg()))
    return render_template("counter/choose.html", snapshot=snapshot)


@bp.route("/<int:number>")
@officer_required
def console(number: int) -> Any:
    """The console of one counter: current ticket, queue and actions, live over Socket.IO."""
    # Numbers are per site: the site asked for (checked against the officer's), else theirs.
    snapshot = board.console_snapshot(current_user.view.id, site_code=_asked_site())
    fixed = tickets.assigned_counter(current_user.view.username, snapshot["site"]["id"])
    if fixed is not None and fixed != number:
        return redirect(url_for("counter.console", number=fixed, **_site_arg()))
    counter = next((c for c in snapshot["counters"] if c["number"] == number), None)
    if counter is None:
        abort(404)
    messages = {
        "called": _("Đã gọi số %(code)s đến quầy %(counter)s.", code="{code}", counter="{counter}"),
        "recalled": _("Đã gọi lại số %(code)s.", code="{code}"),
        "no_show": _("Số %(code)s vắng mặt.", code="{code}"),
        "no_show_requeued": _("Số %(code)s vắng mặt, đã đưa về cuối hàng chờ.", code="{code}"),
        "started": _("Bắt đầu phục vụ số %(code)s.", code="{code}"),
        "finished": _("Đã hoàn thành số %(code)s. Mời công dân đánh giá.", code="{code}"),
        "transferred": _("Đã chuyển số %(code)s sang %(area)s.", code="{code}", area="{area}"),
        "paused": _("Quầy đang tạm nghỉ: không nhận số mới."),
        "resumed": _("Quầy đã mở lại."),
        "offline": _("Mất kết nối tới máy chủ. Thao tác chưa được gửi, vui lòng thử lại."),
        "timeout": _("Máy chủ chưa phản hồi. Hãy kiểm tra lại trạng thái trước khi thao tác."),
        "refused": _("Không kết nối được quầy: %(reason)s", reason="{reason}"),
        "code_required": _("Nhập số thứ tự cần gọi, ví dụ A012."),
        "transfer_target": _("Chọn lĩnh vực hoặc quầy để chuyển đến."),
        "status_called": _("Đã gọi – chờ công dân đến"),
        "status_serving": _("Đang phục vụ"),
        "status_none": _("Chưa gọi số"),
        "minutes": _("%(n)s phút", n="{n}"),
        "empty_queue": _("Không có ai đang chờ."),
        "pause": _("Tạm nghỉ"),
        "resume": _("Mở lại quầy"),
        "call": _("Gọi"),
        "counter_short": _("Quầy %(n)s", n="{n}"),
        "finish_first": _(
            "Số %(code)s đang ở quầy: hãy hoàn thành hoặc chuyển số này trước khi gọi số khác.",
            code="{code}",
        ),
        "key_unavailable": _("Phím %(key)s chưa dùng được lúc này.", key="{key}"),
        "scanned": _("Đã nhận mã hồ sơ %(code)s. Bấm Enter để hoàn thành.", code="{code}"),
        "scan_no_ticket": _(
            "Đã quét mã %(code)s nhưng quầy chưa có số nào đang phục vụ.", code="{code}"
        ),
    }
    return render_template(
        "counter/console.html",
        counter=counter,
        areas=snapshot["areas"],
        counters=[c for c in snapshot["counters"] if c["number"] != number],
        site=snapshot["site"],
        fixed=fixed is not None,
        messages=messages,
    )
