"""Accessibility check for browser tests: axe-core (bundled in axe-playwright-python) on a Playwright page, failing on serious or critical WCAG 2.2 AA violations not listed in docs/ACCESSIBILITY.md as Streamlit's own."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe

ROOT = Path(__file__).resolve().parent.parent
STATEMENT = ROOT / "docs" / "ACCESSIBILITY.md"
REPORTS = ROOT / "artifacts" / "axe"
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
FAILING_IMPACTS = ("serious", "critical")
# One row of the statement's table of Streamlit's own violations:
# | `rule-id` | `css selector of the Streamlit element` | what it is | https://github.com/streamlit/streamlit/issues/N |
_ROW = re.compile(
    r"^\|\s*`(?P<rule>[a-z0-9-]+)`\s*\|\s*`(?P<selector>[^`]+)`\s*\|[^|]*\|\s*"
    r"(?P<issue>https://github\.com/streamlit/streamlit/(?:issues|pull)/\d+)\s*\|",
    re.M,
)


@dataclass(frozen=True)
class Exemption:
    """A violation that comes from Streamlit's own markup: the axe rule, the Streamlit element it sits in, the upstream issue."""

    rule: str
    selector: str
    issue: str


def streamlit_exemptions(statement: Path = STATEMENT) -> list[Exemption]:
    """The exemptions listed in the accessibility statement (its table of Streamlit's own violations)."""
    text = statement.read_text(encoding="utf-8")
    return [Exemption(m["rule"], m["selector"], m["issue"]) for m in _ROW.finditer(text)]


# For each violating node: is it inside an element the statement lists for that rule?
_INSIDE = """([target, selectors]) => {
    let node = null;
    try { node = document.querySelector(target); } catch (e) { return false; }
    return !!node && selectors.some(s => !!node.closest(s));
}"""


def _node_exempt(page: Any, node: dict[str, Any], selectors: list[str]) -> bool:
    target = node.get("target") or []
    if not selectors or len(target) != 1 or not isinstance(target[0], str):
        return False  # inside an iframe or shadow root: never exempt
    return bool(page.evaluate(_INSIDE, [target[0], selectors]))


def unexempted_violations(page: Any, exemptions: list[Exemption] | None = None) -> list[dict[str, Any]]:
    """axe's serious and critical violations on the page, with the nodes the statement exempts taken out."""
    exemptions = streamlit_exemptions() if exemptions is None else exemptions
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": list(TAGS)}, "resultTypes": ["violations"]})
    failing = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in FAILING_IMPACTS:
            continue
        selectors = [e.selector for e in exemptions if e.rule == violation["id"]]
        nodes = [n for n in violation["nodes"] if not _node_exempt(page, n, selectors)]
        if nodes:
            failing.append({**violation, "nodes": nodes})
    return failing


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and up to three of its elements, for a failing assertion."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} elements): {v['help']}")
        for node in v["nodes"][:3]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


def assert_accessible(page: Any, name: str) -> None:
    """Run axe (WCAG 2.0/2.1/2.2 A and AA) on `page`; fail on serious or critical violations not exempted as Streamlit's own.

    The full list of failing violations is written to artifacts/axe/<name>.json for reading.
    """
    failing = unexempted_violations(page)
    if failing:  # measured mid-layout (a chart still drawing moves its neighbours)? Judge a settled page.
        page.wait_for_timeout(2000)
        failing = unexempted_violations(page)
    REPORTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "page"
    (REPORTS / f"{safe}.json").write_text(json.dumps(failing, indent=1, default=str), encoding="utf-8")
    assert not failing, f"{name}: accessibility violations (WCAG 2.2 AA, axe):\n{describe(failing)}"
