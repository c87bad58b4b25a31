"""Printer config fields: what a backend's config holds, typed, labelled and checked.

``Field.clean`` turns what an administrator typed into the stored value; ``Field.read`` takes
the typed value from a config at print time. Labels and errors are Vietnamese (like
``printer.status.MESSAGES``); the admin templates pass them through gettext.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from printer.status import MESSAGES, PrinterError

DEFAULT_PORT = 9100
DEFAULT_TIMEOUT = 3.0
DEFAULT_STATUS_TIMEOUT = 1.0

Kind = Literal["text", "int", "float", "hex", "bool", "choice"]


@dataclass(frozen=True)
class Field:
    """One config key of a backend: its type, Vietnamese label, default and rule.

    ``clean`` turns what an administrator typed into the stored value (ValueError with the
    field's ``error`` when it breaks the rule); ``read`` takes the typed value from a config
    at print time (PrinterError "config" when it cannot).
    """

    key: str
    label: str
    kind: Kind = "text"
    default: Any = None
    required: bool = False
    pattern: str | None = None  # text and hex: the whole value must match
    check: Callable[[str], bool] | None = None  # text: an extra rule
    low: float | None = None
    high: float | None = None
    max_length: int = 300  # text: longer input is cut, not refused
    choices: tuple[tuple[Any, str], ...] = ()
    error: str = MESSAGES["config"]
    placeholder: str = ""
    help: str = ""
    short: bool = False  # a narrow input in the form
    in_form: bool = True  # False: config files only (timeouts, endpoints)

    def _number(self, value: Any) -> int | float:
        if self.kind == "hex":
            return int(value, 16) if isinstance(value, str) else int(value)
        if self.kind == "float":
            return float(value)
        if isinstance(value, str):
            return int(value, 16) if value.lower().startswith("0x") else int(value)
        return int(value)

    def clean(self, raw: Any) -> Any:
        """The stored value of a form input (None: leave the key out); ValueError if invalid."""
        if self.kind == "bool":
            return str(raw or "").lower() in ("1", "on", "true", "yes")
        text = str(raw if raw is not None else "").strip()
        if not text:
            if self.required and self.default is None:
                raise ValueError(self.error)
            if self.default is None or self.kind in ("text", "hex"):
                return self.default
            text = str(self.default)
        if self.kind == "choice":
            for value, _label in self.choices:
                if str(value) == text:
                    return value
            raise ValueError(self.error)
        if self.kind == "text":
            if (self.pattern and not re.fullmatch(self.pattern, text)) or (
                self.check and not self.check(text)
            ):
                raise ValueError(self.error)
            return text[: self.max_length]
        if self.kind == "hex":  # kept as typed ("0x04b8"): the config shape people write
            if not re.fullmatch(self.pattern or r"(0x)?[0-9A-Fa-f]{1,4}", text):
                raise ValueError(self.error)
            return text
        try:
            number = self._number(text)
        except (TypeError, ValueError) as exc:
            raise ValueError(self.error) from exc
        if (self.low is not None and number < self.low) or (
            self.high is not None and number > self.high
        ):
            raise ValueError(self.error)
        return number

    def read(self, config: Mapping[str, Any]) -> Any:
        """The typed value in a printer config (default when absent); PrinterError if unusable."""
        value = config.get(self.key, self.default)
        if self.kind in ("text", "choice", "bool"):
            if value is None and self.required:
                raise PrinterError("error", f"{MESSAGES['config']}: thiếu {self.key}")
            return value
        if value is None:
            raise PrinterError("error", f"{MESSAGES['config']}: thiếu {self.key}")
        try:
            return self._number(value)
        except (TypeError, ValueError) as exc:
            raise PrinterError("error", f"{MESSAGES['config']}: {self.key}") from exc


COMMON_FIELDS = (
    Field(
        "width_px",
        "Khổ giấy",
        "choice",
        default=576,
        choices=((576, "80 mm"), (384, "58 mm")),
        error="Khổ giấy là 80 mm (576 điểm) hoặc 58 mm (384 điểm).",
    ),
    Field("cut", "Cắt giấy sau mỗi vé", "bool", default=True),
)
PROFILE = Field(
    "profile",
    "Hồ sơ máy in (python-escpos)",
    max_length=40,
    help="Để trống nếu không rõ.",
)
TIMEOUT = Field("timeout", "Thời gian chờ (giây)", "float", DEFAULT_TIMEOUT, in_form=False)
STATUS_TIMEOUT = Field(
    "status_timeout",
    "Chờ trả lời trạng thái (giây)",
    "float",
    DEFAULT_STATUS_TIMEOUT,
    in_form=False,
)
CHECK_STATUS = Field("check_status", "Hỏi trạng thái trước khi in", "bool", True, in_form=False)
# How the printer confirms that it processed a job (printer.job): the kinds of ESC/POS link.
CONFIRM = Field(
    "confirm",
    "Xác nhận đã in",
    "choice",
    default="process_id",
    choices=(
        ("process_id", "Mã xác nhận GS ( H – máy Epson TM"),
        ("status", "Trạng thái tuần tự GS r – Xprinter, máy ESC/POS khác"),
        ("none", "Máy in không xác nhận được (ghi là “đã gửi”)"),
    ),
    error="Chọn cách máy in xác nhận đã in.",
    help="Máy không xác nhận được: vé chỉ được ghi là “đã gửi”, không phải “đã in”.",
)
CONFIRM_TIMEOUT = Field(
    "confirm_timeout",
    "Chờ xác nhận đã in (giây, 0 = theo tốc độ máy in)",
    "float",
    0.0,
    low=0,
    high=120,
    in_form=False,
)
