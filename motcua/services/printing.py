"""Transitional alias for ``kiosk/events.py`` only; delete at merge.

``services/printing.py`` was split into ``services/kiosk.py`` (issue, reprint, start screen,
public status), ``services/hours.py`` and ``services/print_jobs.py``; the words a status page
shows moved to ``kiosk/screens.py``. ``kiosk/events.py`` is being rewritten on another branch
and still imports this module, so the two names it uses stay here until the merge switches it
to ``kiosk.screens.ticket_snapshot`` and ``motcua.services.kiosk.kiosk_home``.
"""

from __future__ import annotations

from typing import Any

from motcua.services.kiosk import kiosk_home

__all__ = ["kiosk_home", "ticket_snapshot"]


def ticket_snapshot(token: str) -> dict[str, Any]:
    """The status page's snapshot with its words (``kiosk.screens.ticket_snapshot``)."""
    from kiosk import screens  # a surface: only until kiosk/events.py imports it itself

    return screens.ticket_snapshot(token)
