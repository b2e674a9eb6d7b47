"""The CIN census file as submitted: every element of each Child, raw and case-sensitive, with its element path.

DfE's rules are checked on the file's own rows, before any normalisation, merge or collapse, so
this stages one row per leaf element (its text exactly as written, NULL when empty) and one row
per group element (``CINdetails``, ``Assessments``, ``CINPlanDates``, ``Section47``,
``ChildProtectionPlans``; ``element`` is NULL) into ``staged_cin_elements``:

    child_pos   the Child's 1-based position in the file (0 for the Header)
    cin_pos     the CINdetails' position within the Child (NULL above it)
    grp         the group the value belongs to: Header, Child, CINdetails, Assessments, ...
    grp_pos     the group's position among same-named siblings (1 for Header and Child)
    path        element path of the group, e.g. ``Child[14]/CINdetails[2]/Assessments[1]``
    parent      the element's direct parent (``ChildIdentifiers``, ``FactorsIdentifiedAtAssessment``, ...)
    element     the element's name as written (namespace removed, case kept)
    seq         document order within the file
    value       the element's text as written

Structure (Message/Children/Child) is found without regard to case, as the main reader does;
element names are kept as written so the rules see exactly what DfE's validator sees.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.readers.cin_census import xml_events

STAGED_TABLE = "staged_cin_elements"
GROUPS: frozenset[str] = frozenset({"CINdetails", "Assessments", "CINPlanDates", "Section47", "ChildProtectionPlans"})
BATCH_ROWS = 200_000
_SCHEMA = pa.schema(
    [
        ("child_pos", pa.int32()),
        ("cin_pos", pa.int32()),
        ("grp", pa.string()),
        ("grp_pos", pa.int32()),
        ("path", pa.string()),
        ("parent", pa.string()),
        ("element", pa.string()),
        ("seq", pa.int64()),
        ("value", pa.string()),
    ]
)


def _name(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


class _Rows:
    """Column lists of staged rows, flushed to DuckDB in batches."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.columns: dict[str, list] = {f.name: [] for f in _SCHEMA}
        self.seq = 0

    def add(
        self,
        child_pos: int,
        cin_pos: int | None,
        grp: str,
        grp_pos: int,
        path: str,
        parent: str | None,
        element: str | None,
        value: str | None,
    ) -> None:
        self.seq += 1
        for name, v in zip(self.columns, (child_pos, cin_pos, grp, grp_pos, path, parent, element, self.seq, value)):
            self.columns[name].append(v)
        if len(self.columns["seq"]) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.columns["seq"]:
            return
        self.con.register("_cin_elements_batch", pa.table(self.columns, schema=_SCHEMA))
        self.con.execute(f"INSERT INTO {STAGED_TABLE} SELECT * FROM _cin_elements_batch")
        self.con.unregister("_cin_elements_batch")
        for values in self.columns.values():
            values.clear()


def _walk(
    rows: _Rows, elem: ET.Element, child_pos: int, cin_pos: int | None, grp: str, grp_pos: int, path: str
) -> None:
    """Rows for the leaves under `elem` (within its group) and for each nested group."""
    seen: dict[str, int] = {}
    for sub in elem:
        name = _name(sub.tag)
        if name in GROUPS:
            seen[name] = seen.get(name, 0) + 1
            position = seen[name]
            sub_path = f"{path}/{name}[{position}]"
            sub_cin = position if name == "CINdetails" else cin_pos
            rows.add(child_pos, sub_cin, name, position, sub_path, _name(elem.tag), None, None)
            _walk(rows, sub, child_pos, sub_cin, name, position, sub_path)
        elif len(sub):
            _walk(rows, sub, child_pos, cin_pos, grp, grp_pos, path)  # a container: ChildIdentifiers, Reviews, ...
        else:
            rows.add(child_pos, cin_pos, grp, grp_pos, path, _name(elem.tag), name, sub.text)


def stage_submitted(path: Path, con: duckdb.DuckDBPyConnection) -> int:
    """Stream the file once more into the TEMP table `staged_cin_elements`; returns the number of rows staged."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} (child_pos INTEGER, cin_pos INTEGER, grp VARCHAR,"
        " grp_pos INTEGER, path VARCHAR, parent VARCHAR, element VARCHAR, seq BIGINT, value VARCHAR)"
    )
    rows = _Rows(con)
    names: list[str] = []
    children = 0
    container: ET.Element | None = None
    for event, elem in xml_events(Path(path)):
        name = _name(elem.tag).lower()
        if event == "start":
            names.append(name)
            if names == ["message", "children"]:
                container = elem
            continue
        names.pop()
        if names == ["message"] and name == "header":
            _walk(rows, elem, 0, None, "Header", 1, "Header")
        elif names == ["message", "children"] and name == "child":
            children += 1
            rows.add(children, None, "Child", 1, f"Child[{children}]", "Children", None, None)
            _walk(rows, elem, children, None, "Child", 1, f"Child[{children}]")
            if container is not None:
                container.clear()
    rows.flush()
    return rows.seq
