"""axe-core (vendored, tests/browser/vendor/axe.min.js) run inside a page: what fails WCAG AA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")

_RUN = """async (options) => {
  const r = await axe.run(document, options);
  return r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(" "),
                                           summary: (n.failureSummary || "").slice(0, 300)})),
  }));
}"""


def violations(page: Any, *, rules_off: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now that block (serious, critical, or contrast)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    options: dict[str, Any] = {
        "runOnly": {"type": "tag", "values": TAGS},
        "resultTypes": ["violations"],
        "rules": {rule: {"enabled": False} for rule in rules_off},
    }
    found = page.evaluate(_RUN, options)
    return [v for v in found if v["impact"] in BLOCKING or v["id"] == "color-contrast"]


def describe(found: list[dict[str, Any]]) -> str:
    """A readable list of violations for an assertion message."""
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines.extend(f"    {n['target']}: {n['summary']}" for n in v["nodes"])
    return "\n".join(lines)
