"""docs/ARCHITECTURE.md against the code: every module it names exists, and its import rules hold."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
PROJECT_PACKAGES = {"store", "ingest", "expectations", "metrics", "ui", "synthetic", "pages"}
EXTERNAL_WATCHED = {"streamlit", "duckdb"}


def named_paths() -> list[str]:
    """Every `path/to/file.py` or `folder/` the doc names in backticks."""
    return sorted({m for m in re.findall(r"`([a-z_]+/[a-z_/]*(?:\.py|\.md)?)`", DOC)})


def import_table() -> dict[str, set[str]]:
    """Package -> what the doc says it never imports (the 'Who may import whom' table)."""
    section = DOC.split("## Who may import whom", 1)[1].split("\n## ", 1)[0]
    never: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        package = cells[0].strip("`")
        never[package] = {
            name for name in re.findall(r"`?([a-z_]+)`?", cells[2]) if name in PROJECT_PACKAGES | EXTERNAL_WATCHED
        }
        if "SQL" in cells[2]:
            never[package].add("duckdb")
    return never


def imported_packages(folder: Path) -> dict[str, set[str]]:
    """Top-level names each module of a folder imports (at any depth of the module, lazy imports included)."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("name", named_paths())
def test_every_named_path_exists(name: str) -> None:
    assert (ROOT / name).exists(), f"docs/ARCHITECTURE.md names {name}, which does not exist"


def test_the_doc_names_the_layers_it_describes() -> None:
    assert len(named_paths()) >= 15
    assert set(import_table()) >= {"store", "ingest", "expectations", "metrics", "ui", "pages"}


@pytest.mark.parametrize("package", sorted(import_table()))
def test_import_rules_hold(package: str) -> None:
    never = import_table()[package]
    broken = {
        module: sorted(names & never) for module, names in imported_packages(ROOT / package).items() if names & never
    }
    assert not broken, f"{package} imports what docs/ARCHITECTURE.md says it never imports: {broken}"
