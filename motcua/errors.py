"""Domain errors, each with a stable code, an HTTP status and a Vietnamese message.

Raised by services; translated to HTTP responses and Socket.IO acks in one place:
``failure`` maps a domain error, or a marshmallow ``ValidationError`` from a schema shared by
REST and Socket.IO, to a status and ``{"error", "message"}``; the HTTP handlers registered by
``register_error_handlers`` and the Socket.IO verbs (``motcua.namespaces``) both answer with it.
"""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import Flask, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base class: a rule of the hall was broken by the request, not a bug."""

    code = "domain_error"
    status = 400
    message: Any = _l("Yêu cầu không hợp lệ.")

    def __init__(self, message: Any | None = None, **details: Any) -> None:
        if message is not None:
            self.message = message
        self.details = details
        super().__init__(str(self.message))


class NotFound(DomainError):
    code, status, message = "not_found", 404, _l("Không tìm thấy.")


class ServiceNotFound(DomainError):
    code, status = "service_not_found", 404
    message = _l("Không có lĩnh vực này hoặc lĩnh vực đang tạm ngừng.")


class TicketNotFound(DomainError):
    code, status, message = "ticket_not_found", 404, _l("Không tìm thấy số thứ tự này.")


class CounterNotFound(DomainError):
    code, status, message = "counter_not_found", 404, _l("Không tìm thấy quầy này.")


class CounterNotAssigned(DomainError):
    code, status = "counter_not_assigned", 403
    message = _l(
        "Tài khoản của Ông/Bà được phân công ở quầy khác; xin mở đúng quầy được phân công "
        "hoặc nhờ quản trị viên đổi phân công."
    )


class QueueEmpty(DomainError):
    code, status = "queue_empty", 409
    message = _l("Hiện không có công dân nào đang chờ ở các lĩnh vực của quầy.")


class InvalidTransition(DomainError):
    code, status = "invalid_transition", 409
    message = _l("Thao tác này không thực hiện được với số thứ tự ở trạng thái hiện tại.")


class CounterBusy(DomainError):
    code, status = "counter_busy", 409
    message = _l("Quầy đang phục vụ một số thứ tự khác. Hãy hoàn thành hoặc chuyển số đó trước.")


class CounterPaused(DomainError):
    code, status = "counter_paused", 409
    message = _l("Quầy đang tạm nghỉ. Hãy mở lại quầy trước khi gọi số.")


class NoCurrentTicket(DomainError):
    code, status = "no_current_ticket", 409
    message = _l("Quầy chưa gọi số nào.")


class InvalidPriority(DomainError):
    code, status, message = "invalid_priority", 400, _l("Đối tượng ưu tiên không hợp lệ.")


class InvalidCredentials(DomainError):
    code, status = "invalid_credentials", 401
    message = _l("Tên đăng nhập hoặc mật khẩu không đúng.")


class Unauthorized(DomainError):
    code, status = "unauthorized", 401
    message = _l("Cần đăng nhập để thực hiện thao tác này.")


class Forbidden(DomainError):
    code, status = "forbidden", 403
    message = _l("Tài khoản không có quyền thực hiện thao tác này.")


class ScopeRefused(Forbidden):
    """Refused by the account's sites (roles per site): a page shows it, never an empty list."""

    code = "scope_refused"


class SiteForbidden(ScopeRefused):
    code = "site_forbidden"
    message = _l(
        "Tài khoản của Ông/Bà không được giao điểm tiếp nhận này; chỉ xem và thay đổi được các "
        "điểm tiếp nhận được giao."
    )


class ProvinceOnly(ScopeRefused):
    code = "province_only"
    message = _l(
        "Mục này dùng chung cho mọi điểm tiếp nhận: chỉ quản trị viên cấp tỉnh mới được thay đổi."
    )


class ValidationFailed(DomainError):
    code, status, message = "invalid_request", 422, _l("Dữ liệu gửi lên không hợp lệ.")


class RatingClosed(DomainError):
    code, status = "rating_closed", 409
    message = _l("Lượt giao dịch này chưa hoàn thành hoặc đã hết thời gian đánh giá.")


class AlreadyRated(DomainError):
    code, status = "already_rated", 409
    message = _l("Lượt giao dịch này đã được đánh giá. Xin cảm ơn Ông/Bà!")


class SessionNotFound(DomainError):
    code, status = "session_not_found", 404
    message = _l("Không tìm thấy phiên làm việc này (Thứ Bảy, điểm tiếp nhận hoặc lưu động).")


class KitRefused(DomainError):
    code, status = "kit_refused", 422
    message = _l("Tệp cài đặt phiên không hợp lệ hoặc bị hỏng. Hãy tạo lại tệp tại Trung tâm.")


class BundleRefused(DomainError):
    """The whole records bundle is refused: nothing of it was imported."""

    code, status = "bundle_refused", 422
    message = _l("Tệp dữ liệu phiên không hợp lệ. Không có dữ liệu nào được nhập.")


class TooManyAttempts(DomainError):
    """Too many wrong passwords for this username from this address: wait, or ask the admin."""

    code, status = "too_many_attempts", 429
    message = _l(
        "Đăng nhập sai nhiều lần. Vui lòng chờ ít giây rồi thử lại, hoặc nhờ quản trị viên "
        "mở khóa đăng nhập cho tài khoản."
    )

    def __init__(self, retry_after: int | None = None, **details: Any) -> None:
        message = None
        if retry_after is not None:
            details["retry_after"] = retry_after
            message = _l(
                "Đăng nhập sai nhiều lần. Vui lòng thử lại sau %(s)s giây, hoặc nhờ quản trị "
                "viên mở khóa đăng nhập cho tài khoản.",
                s=retry_after,
            )
        super().__init__(message, **details)


class ControlCharacters(DomainError):
    """A NUL or another control character in a text field (PostgreSQL refuses NUL)."""

    code, status = "control_characters", 422
    message = _l(
        "Dữ liệu gửi lên có ký tự điều khiển không hợp lệ (ví dụ ký tự NUL). "
        "Vui lòng nhập lại bằng chữ, số và dấu câu thông thường."
    )


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key already used for a different request (IETF httpapi draft)."""

    code, status = "idempotency_key_reused", 422
    message = _l(
        "Mã chống trùng (Idempotency-Key) này đã được dùng cho một yêu cầu khác. "
        "Mỗi lần lấy số cần một mã mới."
    )


# --------------------------------------------------------------------------- kiosk and printing


class OutsideWorkingHours(DomainError):
    """The hall is closed: no number is given."""

    code, status = "outside_working_hours", 409
    message = _l("Hiện đang ngoài giờ làm việc, ki-ốt tạm ngừng cấp số thứ tự.")


class ReprintNotAllowed(DomainError):
    """A kiosk reprint after the window, too often, or of a closed ticket."""

    code, status = "reprint_not_allowed", 409
    message = _l("Không thể in lại vé tại ki-ốt. Vui lòng liên hệ cán bộ hướng dẫn để được hỗ trợ.")


class InvalidKiosk(DomainError):
    """A kiosk name that is not a short slug."""

    code, status, message = "invalid_kiosk", 422, _l("Tên ki-ốt không hợp lệ.")


# --------------------------------------------------------------------------- appointments


class AppointmentNotFound(DomainError):
    """No booking with this code (or cancel token)."""

    code, status = "appointment_not_found", 404
    message = _l("Không tìm thấy lịch hẹn với mã này. Xin Ông/Bà kiểm tra lại mã đã nhập.")


class AppointmentsNotOffered(DomainError):
    """The area takes no bookings (or no numbers from home) at this site."""

    code, status = "appointments_not_offered", 409
    message = _l("Lĩnh vực này hiện không nhận đặt lịch hẹn trực tuyến.")


class SlotUnavailable(DomainError):
    """The slot is full, past, or not one of the hall's slots."""

    code, status = "slot_unavailable", 409
    message = _l(
        "Khung giờ này đã hết chỗ hoặc không còn nhận đặt. Xin Ông/Bà chọn khung giờ khác."
    )


class TooManyBookings(DomainError):
    """Too many bookings today from one address or one browser."""

    code, status = "too_many_bookings", 429
    message = _l(
        "Ông/Bà đã đặt đủ số lịch hẹn cho phép trong ngày. Xin hủy lịch cũ hoặc quay lại ngày mai."
    )


class AppointmentClosed(DomainError):
    """The booking was cancelled, or ended (no-show, lapsed) before this request."""

    code, status = "appointment_closed", 409
    message = _l("Lịch hẹn này đã bị hủy hoặc đã hết hiệu lực.")


class CheckInRefused(DomainError):
    """A check-in too early or too late: the kiosk offers a normal number (``details.service``)."""

    code, status = "check_in_refused", 409
    message = _l("Chưa thể xác nhận lịch hẹn lúc này.")


# --------------------------------------------------------------------------- devices


class DeviceNotPaired(DomainError):
    """A request that needs a paired device came without a valid device token."""

    code, status = "device_required", 401
    message = _l("Thiết bị chưa được ghép nối hoặc đã bị thu hồi. Vui lòng báo quản trị viên.")


class DeviceForbidden(DomainError):
    """A paired device asked for another device's job."""

    code, status = "device_forbidden", 403
    message = _l("Thiết bị này không được phép thực hiện thao tác này.")


class PairingFailed(DomainError):
    """A wrong or expired pairing code."""

    code, status = "pairing_failed", 400
    message = _l("Mã ghép nối không đúng hoặc đã hết hạn. Hãy xin quản trị viên mã mới.")


class PairingThrottled(DomainError):
    """Too many wrong codes from one address."""

    code, status = "too_many_attempts", 429
    message = _l("Nhập sai mã quá nhiều lần. Vui lòng thử lại sau 15 phút.")


HTTP_MESSAGES: dict[int, Any] = {
    400: _l("Yêu cầu không hợp lệ."),
    401: _l("Cần đăng nhập để thực hiện thao tác này."),
    403: _l("Tài khoản không có quyền thực hiện thao tác này."),
    404: _l("Không tìm thấy trang hoặc dữ liệu yêu cầu."),
    405: _l("Phương thức không được hỗ trợ."),
    409: _l("Xung đột dữ liệu, vui lòng thử lại."),
    413: _l("Dữ liệu gửi lên quá lớn."),
    415: _l("Định dạng dữ liệu không được hỗ trợ; hãy gửi JSON."),
    422: _l("Dữ liệu gửi lên không hợp lệ."),
    429: _l("Quá nhiều yêu cầu, vui lòng thử lại sau ít phút."),
    500: _l("Hệ thống gặp sự cố. Vui lòng thử lại hoặc báo cán bộ hỗ trợ."),
    503: _l("Cơ sở dữ liệu tạm thời không truy cập được. Vui lòng thử lại sau ít phút."),
}


def database_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached (restarting, network down): a 503, not a bug."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.OperationalError | sa_exc.TimeoutError):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


def error_payload(exc: DomainError) -> dict[str, Any]:
    """The JSON body (and Socket.IO ack) for a domain error."""
    body: dict[str, Any] = {"error": exc.code, "message": str(exc.message)}
    if exc.details:
        body["details"] = exc.details
    return body


def failure(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """The HTTP status and the body (the ack's error part) for any failure of a request."""
    if isinstance(exc, DomainError):
        return exc.status, error_payload(exc)
    if isinstance(exc, ma.ValidationError):
        return 422, http_error_payload(422, exc.normalized_messages())
    if database_unavailable(exc):
        return 503, http_error_payload(503)
    return 500, http_error_payload(500)


def http_error_payload(status: int, errors: Any = None) -> dict[str, Any]:
    """The JSON body for a plain HTTP error (no domain meaning)."""
    codes = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        415: "unsupported_media_type",
        422: "invalid_request",
        429: "too_many_requests",
        503: "database_unavailable",
    }
    body: dict[str, Any] = {
        "error": codes.get(status, "server_error" if status >= 500 else "error"),
        "message": str(HTTP_MESSAGES.get(status, HTTP_MESSAGES[400 if status < 500 else 500])),
    }
    if errors:
        body["details"] = errors
    return body


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    """Translate domain and HTTP errors; never show a stack trace to a citizen."""

    @app.errorhandler(DomainError)
    @app.errorhandler(ma.ValidationError)
    def _refused(exc: DomainError | ma.ValidationError) -> Any:
        status, body = failure(exc)
        if isinstance(exc, ScopeRefused) and not (_wants_json() or request.is_json):
            from flask import render_template  # a page: the refusal in words, not JSON

            return render_template("error.html", status=status, message=body["message"]), status
        retry = exc.details.get("retry_after") if isinstance(exc, DomainError) else None
        return jsonify(body), status, ({"Retry-After": str(retry)} if retry else {})

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        # Keep the exception's own headers (405's Allow, 401's WWW-Authenticate, ...).
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        if _wants_json():
            errors = getattr(exc, "data", {}).get("messages") if hasattr(exc, "data") else None
            return jsonify(http_error_payload(status, errors)), status, headers
        from flask import render_template

        return (
            render_template(
                "error.html", status=status, message=http_error_payload(status)["message"]
            ),
            status,
            headers,
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        status = 500
        if database_unavailable(exc):
            status = 503
            log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
        else:
            log.exception("unhandled error on %s %s", request.method, request.path)
        headers = {"Retry-After": "5"} if status == 503 else {}
        if _wants_json():
            return jsonify(http_error_payload(status)), status, headers
        from flask import render_template

        return (
            render_template(
                "error.html", status=status, message=http_error_payload(status)["message"]
            ),
            status,
            headers,
        )
