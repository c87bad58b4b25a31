"""Languages: Vietnamese everywhere; English on the citizen's own surfaces.

The citizen's surfaces are the kiosk (the language button), the printed ticket, the phone
status page with its rating, and the booking page. Officer, leader and administration screens
stay Vietnamese whatever the browser asks: their strings are not translated, and a mix of
English errors in a Vietnamese console would confuse more than help.

How a request's language is chosen (``select_locale``, Flask-Babel's locale selector):

- kiosk endpoints: ``?lang=en`` only. A kiosk is a shared machine whose browser language says
  nothing about the citizen at it; the page adds ``lang`` to every call while a citizen is
  in English, and drops it at the idle reset.
- phone endpoints (what the ticket's QR opens, the booking page): ``?lang=`` first (the page's
  toggle, the QR of an English ticket), then the phone's Accept-Language, then Vietnamese.
- everything else: Vietnamese.

The catalogue lives in ``motcua/translations`` (``scripts/i18n.sh`` extracts, updates and
compiles it; the compiled ``.mo`` is committed and a test checks it matches the ``.po``).
"""

from __future__ import annotations

from pathlib import Path

from flask import has_request_context, request
from flask_babel import get_locale, gettext

DEFAULT_LOCALE = "vi"
LOCALES = ("vi", "en")
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

#: Kiosk endpoints: English only when the page asks (?lang=en), never from the browser.
KIOSK_ENDPOINTS = frozenset(
    {
        "kiosk.kiosk_page",
        "kiosk.kiosk_state",
        "kiosk.kiosk_issue",
        "kiosk.kiosk_reprint",
        "kiosk.kiosk_print_state",
        "kiosk.kiosk_check_in",
    }
)
#: Phone endpoints: ?lang=, then Accept-Language. The booking page's endpoints join here.
PHONE_ENDPOINTS = frozenset(
    {
        "kiosk.ticket_page",
        "kiosk.ticket_state",
        "rating.phone_state",
        "rating.phone_rate",
        "kiosk.booking_home",
        "kiosk.booking_area",
        "kiosk.booking_book",
        "kiosk.booking_holder",
        "kiosk.booking_cancel",
    }
)


def gettext_noop(text: str) -> str:
    """Mark a string for the catalogue without translating it (data defaults, constants)."""
    return text


def asked_locale(value: str | None) -> str | None:
    """A supported language code from a ``lang`` value ("en", "EN", "en-US"), else None."""
    code = (value or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LOCALES else None


def select_locale() -> str:
    """Flask-Babel's locale selector: see the module's docstring for the rules."""
    if not has_request_context():
        return DEFAULT_LOCALE
    endpoint = request.endpoint or ""
    if endpoint in KIOSK_ENDPOINTS:
        return asked_locale(request.args.get("lang")) or DEFAULT_LOCALE
    if endpoint in PHONE_ENDPOINTS:
        return (
            asked_locale(request.args.get("lang"))
            or request.accept_languages.best_match(LOCALES)
            or DEFAULT_LOCALE
        )
    return DEFAULT_LOCALE


def current_locale() -> str:
    """The language of what is being rendered now ("vi" or "en")."""
    locale = get_locale()
    return asked_locale(locale.language if locale is not None else None) or DEFAULT_LOCALE


def lang_param() -> str | None:
    """The ``lang`` query value that keeps the current language in a link, None for the default."""
    locale = current_locale()
    return None if locale == DEFAULT_LOCALE else locale


def data_text(value: str | None) -> str | None:
    """A hall's data in the current language: the defaults motcua ships (area names, priority
    categories, the ticket's footer, marked with ``N_``) are in the catalogue; whatever a hall
    typed itself is shown as typed. No column per language, so no migration."""
    if not value or current_locale() == DEFAULT_LOCALE:
        return value
    return gettext(value)  # no arguments: a "%" in the data is never formatted
