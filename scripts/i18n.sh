#!/usr/bin/env bash
# The English catalogue of the citizen's surfaces, in one command (README: "Languages"):
#   extract the strings of the files babel.cfg lists -> update the .po (new strings appear
#   with an empty msgstr, strings gone are dropped) -> compile the .mo that is committed.
# Then translate what is new in motcua/translations/en/LC_MESSAGES/messages.po and run it again
# (the compile step); tests/unit/test_i18n.py checks that nothing is left untranslated and that
# the committed .mo matches the .po.
#   scripts/i18n.sh            extract, update, compile
#   scripts/i18n.sh compile    compile only (after editing the .po)
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
DIR=motcua/translations
POT="$(mktemp --suffix=.pot)"
trap 'rm -f "$POT"' EXIT
if [ "${1:-}" != "compile" ]; then
  # Keywords: motcua.i18n.EXTRA_KEYWORDS (_l, ngettext_forms; N_ is one of babel's own).
  "$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k ngettext_forms:1,2 \
    --add-location=file --sort-by-file --no-wrap --omit-header \
    --project=motcua -o "$POT" .
  if [ -f "$DIR/en/LC_MESSAGES/messages.po" ]; then
    "$PYBABEL" update -i "$POT" -d "$DIR" -l en --no-fuzzy-matching --ignore-obsolete \
      --no-wrap
  else
    "$PYBABEL" init -i "$POT" -d "$DIR" -l en --no-wrap
  fi
fi
"$PYBABEL" compile -d "$DIR" --statistics
