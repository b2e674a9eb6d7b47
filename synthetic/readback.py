"""An independent reader of the generated files (for tests): rows back as tidy frames, without the ingest package.

It knows only what the generator may write, and keeps what it cannot parse visible (a raw text
column beside each date), so tests can count every injected fault in the files themselves.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from synthetic.annex_a import COLUMNS, EXCEL_EPOCH, LIST_TITLES, SOURCE_PREFIXED, SOURCE_WORDS
from synthetic.recording_csv import STANDARD_HEADINGS, VARIANT_HEADINGS
from synthetic.recordings import RECORD_TYPE_LABELS

MISSING = {"", "#N/A"}
SEX_WORDS = {
    "a) male": "M",
    "b) female": "F",
    "c) not stated/recorded": "U",
    "m": "M",
    "f": "F",
    "u": "U",
    "male": "M",
    "female": "F",
    "unknown": "U",
}
GENDER_CURRENT = {"1": "M", "2": "F", "0": "U", "9": "U"}
YES_NO = {"a) yes": True, "b) no": False, "yes": True, "no": False}
SOURCE_TEXT = {v.lower(): k for k, v in SOURCE_PREFIXED.items()} | {v.lower(): k for k, v in SOURCE_WORDS.items()}


def key(text: object) -> str:
    """A heading reduced for matching."""
    s = str(text or "").replace("\xa0", " ").replace("’", "'").lower().strip().rstrip("?")
    return re.sub(r"\s+", " ", s)


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and v.strip() in MISSING) or (isinstance(v, float) and pd.isna(v))


def child_id(v: object) -> str | None:
    if _blank(v):
        return None
    if isinstance(v, float):
        return str(int(v))
    s = str(v).strip()
    return s[:-2] if re.fullmatch(r"[0-9]+\.0", s) else s


def parse_date(v: object) -> pd.Timestamp | None:
    """Real dates, Excel serials, DD/MM/YYYY or ISO text; None when blank or not a date."""
    if _blank(v):
        return None
    if isinstance(v, dt.datetime | dt.date):
        return pd.Timestamp(v).normalize()
    if isinstance(v, int | float):
        return EXCEL_EPOCH + pd.Timedelta(days=int(v))
    s = str(v).strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"):
        try:
            return pd.Timestamp(dt.datetime.strptime(s, fmt))
        except ValueError:
            continue
    return None


def code(v: object, kind: str) -> str | None:
    """A coded value back to its code; unknown spellings come back verbatim (stripped)."""
    if _blank(v):
        return None
    s = str(v).strip()
    low = s.lower()
    if kind == "sex":
        return SEX_WORDS.get(low, s)
    if kind == "ethnicity":
        return re.sub(r"^[a-z]\) ", "", s)
    if kind == "source":
        return SOURCE_TEXT.get(low, s)
    if kind in ("need", "reason"):
        return s.split(" - ")[0]
    if kind == "status":
        return re.sub(r"^[a-z]\) ", "", s).lower()
    return s


def yes_no(v: object) -> bool | None:
    return None if _blank(v) else YES_NO.get(str(v).strip().lower())


# --- Annex A --------------------------------------------------------------------------------


def _list_number(sheet: str) -> int | None:
    m = re.fullmatch(r"List[ _](\d+)", sheet)
    if m:
        return int(m.group(1))
    titles = {v: k for k, v in LIST_TITLES.items()}
    return titles.get(sheet)


def _header_index(rows: list[list[object]]) -> int:
    return next(i for i, r in enumerate(rows[:5]) if r and key(r[0]) == "child unique id")


def _spec(number: int) -> dict[str, tuple[str, str]]:
    """heading key -> (column, kind), both age headings accepted."""
    child = [
        ("child_id", "Child Unique ID", "id"),
        ("sex", "Gender", "sex"),
        ("ethnicity", "Ethnicity", "ethnicity"),
        ("date_of_birth", "Date of Birth", "date"),
        ("age", "Age of Child (Years)", "age"),
        ("age", "Age", "age"),
    ]
    out = {key(h): (c, k) for c, h, k in child + COLUMNS[number]}
    out[key("Was the child assessed as requiring LA children’s social care support")] = ("requires_support", "yesno")
    return out


def _tidy(
    number: int, headings: list[object], rows: list[list[object]], file: str, sheet: str, first_row: int
) -> pd.DataFrame:
    spec = _spec(number)
    columns = [spec.get(key(h)) for h in headings]
    records = []
    for offset, row in enumerate(rows):
        rec: dict[str, object] = {"file": file, "sheet": sheet, "row": first_row + offset}
        for (col, kind), value in ((c, v) for c, v in zip(columns, row) if c is not None):
            rec[f"{col}_raw"] = value
            if kind == "id":
                rec[col] = child_id(value)
            elif kind == "date":
                rec[col] = parse_date(value)
            elif kind == "yesno":
                rec[col] = yes_no(value)
            elif kind in ("age", "int"):
                rec[col] = None if _blank(value) else float(value)
            elif kind in ("text", "name"):
                rec[col] = None if _blank(value) else str(value).replace("\xa0", " ").strip()
            else:
                rec[col] = code(value, kind)
        records.append(rec)
    return pd.DataFrame.from_records(records)


def _extract_date(name: str) -> pd.Timestamp:
    return pd.Timestamp(re.search(r"(\d{4}-\d{2}-\d{2})", name).group(1))


def read_annex_a(folder: Path) -> dict[int, pd.DataFrame]:
    """Lists 1, 3, 4 and 6 of every Annex A file (workbook or per-list CSV), tidy, with file and row."""
    from python_calamine import CalamineWorkbook

    parts: dict[int, list[pd.DataFrame]] = {1: [], 3: [], 4: [], 6: []}
    for path in sorted(folder.glob("annex_a_*")):
        if path.suffix in (".xlsx", ".xls"):
            wb = CalamineWorkbook.from_path(str(path))
            for sheet in wb.sheet_names:
                number = _list_number(sheet)
                if number not in parts:
                    continue
                rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
                h = _header_index(rows)
                frame = _tidy(number, rows[h], rows[h + 1 :], path.name, sheet, h + 2)
                parts[number].append(frame.assign(as_of=_extract_date(path.name)))
        elif path.suffix == ".csv":
            number = int(re.search(r"_list_(\d+)\.csv$", path.name).group(1))
            rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
            frame = _tidy(number, rows[0], rows[1:], path.name, f"List {number}", 2)
            parts[number].append(frame.assign(as_of=_extract_date(path.name)))
    return {n: pd.concat(p, ignore_index=True) for n, p in parts.items() if p}


# --- CIN census -----------------------------------------------------------------------------


def _t(el: ET.Element | None, tag: str) -> str | None:
    found = el.find(tag) if el is not None else None
    return None if found is None or found.text is None or not found.text.strip() else found.text.strip()


def read_census(folder: Path) -> dict[str, pd.DataFrame]:
    """Children, CIN details and assessments of every census file."""
    children, details, assessments = [], [], []
    for path in sorted(folder.glob("cin_census_*.xml")):
        root = ET.parse(path).getroot()
        reference = pd.Timestamp(_t(root.find("Header/CollectionDetails"), "ReferenceDate"))
        for position, child in enumerate(root.iter("Child"), start=1):
            ids = child.find("ChildIdentifiers")
            cid = _t(ids, "LAchildID")
            sex_raw = _t(ids, "Sex") if ids.find("Sex") is not None or ids.find("GenderCurrent") is None else None
            gender = _t(ids, "GenderCurrent")
            sex = sex_raw if sex_raw is not None else (GENDER_CURRENT.get(gender, gender) if gender else None)
            dob = _t(ids, "PersonBirthDate") or _t(ids, "ExpectedPersonBirthDate")
            chars = child.find("ChildCharacteristics")
            children.append(
                {
                    "file": path.name,
                    "as_of": reference,
                    "position": position,
                    "child_id": cid,
                    "sex": sex,
                    "ethnicity": _t(chars, "Ethnicity"),
                    "date_of_birth": parse_date(dob),
                }
            )
            for d in child.findall("CINdetails"):
                raw = _t(d, "CINreferralDate")
                details.append(
                    {
                        "file": path.name,
                        "as_of": reference,
                        "position": position,
                        "child_id": cid,
                        "referral_date_raw": raw,
                        "referral_date": parse_date(raw),
                        "referral_source": _t(d, "ReferralSource"),
                        "primary_need": _t(d, "PrimaryNeedCode"),
                        "closure_date": parse_date(_t(d, "CINclosureDate")),
                        "closure_reason": _t(d, "ReasonForClosure"),
                        "nfa": _t(d, "ReferralNFA"),
                    }
                )
                for a in d.findall("Assessments"):
                    assessments.append(
                        {
                            "file": path.name,
                            "as_of": reference,
                            "child_id": cid,
                            "referral_date": parse_date(raw),
                            "assessment_start": parse_date(_t(a, "AssessmentActualStartDate")),
                            "assessment_authorised": parse_date(_t(a, "AssessmentAuthorisationDate")),
                        }
                    )
    return {
        "children": pd.DataFrame(children),
        "details": pd.DataFrame(details),
        "assessments": pd.DataFrame(assessments),
    }


# --- case recordings ------------------------------------------------------------------------


def read_recordings(folder: Path) -> pd.DataFrame:
    """Every row of every recording CSV, with the file it came from."""
    headings = {key(v): k for k, v in STANDARD_HEADINGS.items()} | {key(v): k for k, v in VARIANT_HEADINGS.items()}
    types = {v.lower(): k for k, v in RECORD_TYPE_LABELS.items()} | {k: k for k in RECORD_TYPE_LABELS}
    frames = []
    for path in sorted(folder.glob("case_recordings_*.csv")):
        text = path.read_bytes().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        columns = [headings[key(h)] for h in rows[0]]
        frame = pd.DataFrame(rows[1:], columns=columns)
        frame["file"] = path.name
        frame["row"] = range(2, len(frame) + 2)
        frame["child_id"] = frame["child_id"].map(child_id)
        frame["record_type"] = frame["record_type"].str.lower().map(types)
        frame["event_date_raw"] = frame["event_date"]
        frame["event_date"] = frame["event_date"].map(parse_date)
        frame["entered_at"] = frame["entered_at"].map(lambda v: parse_date(v) if v else None)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# --- a generated set shared by test processes -----------------------------------------------


def small_params() -> object:
    """The small council the tests read back: 300 children, one year to 2025-09-30, seed 7."""
    from synthetic.params import Params

    return Params(children=300, years=1, seed=7, end=dt.date(2025, 9, 30))


def shared_root(basetemp: Path) -> Path:
    """A folder this test session's processes share: the session's temp root under pytest-xdist, else its own."""
    import os

    return (basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp) / "synthetic_sets"


def generated(params: object, root: Path) -> Path:
    """The extracts for `params` under `root`, built once even when several test processes ask (a lock file)."""
    import fcntl

    from synthetic.build import TRUTH_FILE, extracts

    p = params  # a synthetic.params.Params
    folder = root / f"synthetic_{p.children}_{p.years}_{p.seed}_{p.end}"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (folder / TRUTH_FILE).exists():
                extracts(p, folder, jobs=1)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder
