"""Deep links on a server's first session: every URL path of the dashboard has its hand-over file in pages/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def router_url_paths() -> set[str]:
    """The url paths of the pages dashboard.py routes to (its ("pages/..._page.py", title, url, icon) tuples)."""
    tree = ast.parse((ROOT / "dashboard.py").read_text(encoding="utf-8"))
    return {
        node.elts[2].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple)
        and len(node.elts) == 4
        and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)
        and node.elts[0].value.startswith("pages/")
    }


def hand_over_files() -> dict[str, str]:
    return {
        p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "pages").glob("*.py") if not p.stem.endswith("_page")
    }


def test_every_url_path_has_a_hand_over_file_and_nothing_else_does() -> None:
    paths = router_url_paths()
    assert {"overview", "re-referrals", "about-the-data", "audit"} <= paths
    assert set(hand_over_files()) == paths


def test_each_hand_over_file_only_runs_the_router() -> None:
    for stem, text in hand_over_files().items():
        body = [n for n in ast.parse(text).body if not isinstance(n, ast.Expr) or not isinstance(n.value, ast.Constant)]
        assert ast.unparse(ast.Module(body=body, type_ignores=[])) == (
            "from ui.first_session import hand_over\nhand_over()"
        ), stem
