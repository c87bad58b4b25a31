"""The English catalogue: complete for every string of the citizen's surfaces, and the committed
.mo is the .po compiled (a new kiosk string without English fails here)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from motcua.i18n import TRANSLATIONS_DIR, asked_locale

ROOT = Path(__file__).resolve().parents[2]
PO = TRANSLATIONS_DIR / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
FIX = "run scripts/i18n.sh, translate the new entries of messages.po, run it again"


def script_keywords() -> dict[str, object]:
    """Babel's keywords plus the ``-k`` ones scripts/i18n.sh passes (one list, the script's)."""
    script = (ROOT / "scripts" / "i18n.sh").read_text(encoding="utf-8")
    extra = re.findall(r"-k (\S+)", script)
    assert "_l" in extra and "ngettext_forms:1,2" in extra
    from babel.messages.extract import DEFAULT_KEYWORDS

    return {**DEFAULT_KEYWORDS, **parse_keywords(extra)}


def extracted() -> dict[str | tuple[str, ...], set[str]]:
    """Every msgid of the files babel.cfg lists, with the files it comes from."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str | tuple[str, ...], set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=script_keywords()
    ):
        key = message if isinstance(message, str) else tuple(m for m in message if m)
        found.setdefault(key, set()).add(filename)
    return found


def entries(catalog: Catalog) -> dict[object, object]:
    """A catalogue's translations: msgid (a tuple for plurals) → msgstr (likewise)."""
    return {
        (m.id if isinstance(m.id, str) else tuple(m.id)): (
            m.string if isinstance(m.string, str) else tuple(m.string)
        )
        for m in catalog
        if m.id
    }


def placeholders(text: str) -> set[str]:
    """The %(name)s and {name} slots of a message."""
    return set(re.findall(r"%\(\w+\)s|\{\w+\}", text))


def test_every_citizen_string_has_english() -> None:
    """Each string the kiosk, ticket and phone pages can show is in the .po and translated,
    with the same placeholders as the Vietnamese."""
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    source = extracted()
    assert len(source) > 150 and any("kiosk.html" in f for files in source.values() for f in files)
    missing, untranslated, slots = [], [], []
    for key, files in source.items():
        entry = catalog.get(key)
        if entry is None:
            missing.append((key, sorted(files)))
            continue
        ids = [key] if isinstance(key, str) else list(key)
        strings = [entry.string] if isinstance(entry.string, str) else list(entry.string)
        if entry.fuzzy or not all(strings):
            untranslated.append(key)
        elif any(placeholders(s) != placeholders(ids[-1]) for s in strings):
            slots.append(key)
    assert not missing, f"not in messages.po ({FIX}): {missing}"
    assert not untranslated, f"no English yet ({FIX}): {untranslated}"
    assert not slots, f"placeholders differ from the Vietnamese: {slots}"


def test_committed_mo_is_the_po_compiled() -> None:
    """The .mo the app loads (committed, so a fresh clone needs no build step) says what the
    .po says."""
    with PO.open("rb") as f:
        po = entries(read_po(f))
    with MO.open("rb") as f:
        mo = entries(read_mo(f))
    assert len(po) > 150 and mo == po, "messages.mo is stale: scripts/i18n.sh compile"


def test_lang_values() -> None:
    """?lang= takes the supported languages in any case or region; anything else is ignored."""
    assert [asked_locale(v) for v in ("en", "EN", "en-US", "en_GB", "vi")] == [
        "en",
        "en",
        "en",
        "en",
        "vi",
    ]
    assert [asked_locale(v) for v in ("", None, "fr", "../en", "english")] == [None] * 5
