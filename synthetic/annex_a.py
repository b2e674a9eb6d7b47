"""Ofsted Annex A extracts: Lists 1, 3, 4 and 6 cut at an extract date, rendered in a council's house style.

Each list covers the six months up to the extract date (so monthly extracts overlap). Styles vary
what real files vary: sheet names, a title row, heading spellings, code spellings with or without
letter prefixes, missing-value tokens, and how dates and child ids are stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from store.codes import CLOSURE_REASONS, PRIMARY_NEED
from synthetic.snapshot import Recorded, age_at, assessments_at, episodes_at, last_seen, referrals_in_last_12_months

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
EXCEL_EPOCH_DAY = np.datetime64("1899-12-30", "D")
LIST_TITLES = {1: "Contacts", 3: "Referrals", 4: "Assessments", 6: "Children in Need"}
LIST_LONG_TITLES = {
    1: "List 1: Contacts",
    3: "List 3: Referral",
    4: "List 4: Assessments",
    6: "List 6: Children in Need",
}
OTHER_LISTS = {
    2: (
        "List 2: Early Help",
        [
            "Child Unique ID",
            "Gender",
            "Ethnicity",
            "Date of Birth",
            "Age of Child (Years)",
            "Assessment start date",
            "Assessment completion date",
            "Organisation completing assessment",
        ],
    ),
    5: (
        "List 5: Section 47 enquiries and Initial Child Protection Conferences",
        [
            "Child Unique ID",
            "Gender",
            "Ethnicity",
            "Date of Birth",
            "Age of Child (Years)",
            "Does the Child have a Disability",
            "Strategy discussion initiating Section 47 Enquiry Start Date",
            "Allocated Team",
            "Allocated Worker",
        ],
    ),
    7: (
        "List 7: Child protection",
        [
            "Child Unique ID",
            "Gender",
            "Ethnicity",
            "Date of Birth",
            "Age of Child (Years)",
            "Child Protection Plan Start Date",
            "Allocated Team",
            "Allocated Worker",
        ],
    ),
}

ETHNICITY_LETTERS = [
    "WBRI",
    "WIRI",
    "WIRT",
    "WOTH",
    "WROM",
    "MWBC",
    "MWBA",
    "MWAS",
    "MOTH",
    "AIND",
    "APKN",
    "ABAN",
    "AOTH",
    "BCRB",
    "BAFR",
    "BOTH",
    "CHNE",
    "OOTH",
    "REFU",
]
SOURCE_ORDER = [
    "1A",
    "1B",
    "1C",
    "1D",
    "2A",
    "2B",
    "3A",
    "3B",
    "3C",
    "3D",
    "3E",
    "3F",
    "4",
    "5A",
    "5B",
    "5C",
    "6",
    "7",
    "8",
    "9",
    "10",
]
SOURCE_GROUP = {
    "1": "Individual",
    "2A": "Schools",
    "2B": "Education services",
    "3": "Health services",
    "4": "Housing",
    "5": "LA services",
    "6": "Police",
    "7": "Other legal agency",
    "8": "Other",
    "9": "Anonymous",
    "10": "Unknown",
}
SOURCE_WORDS = {
    "2A": "Schools",
    "2B": "Education services",
    "4": "Housing",
    "6": "Police",
    "7": "Other legal agency",
    "8": "Other",
    "9": "Anonymous",
    "10": "Unknown",
}
CASE_STATUS = {
    "cin_plan": "c) Child in need plan",
    "open_assessment": "d) Open assessment",
    "closed": "e) Closed episode",
}


def _letter(i: int) -> str:
    return chr(ord("a") + i)


def _source_group(code: str) -> str:
    return SOURCE_GROUP.get(code, SOURCE_GROUP.get(code[0], "Other"))


ETHNICITY_PREFIXED = {c: f"{_letter(i)}) {c}" for i, c in enumerate(ETHNICITY_LETTERS)} | {"NOBT": "s) NOBT"}
SOURCE_PREFIXED = {c: f"{_letter(i)}) {c}: {_source_group(c)}" for i, c in enumerate(SOURCE_ORDER)} | {
    "5D": "5D: LA services"
}
SEX_STYLES = {
    "prefixed": {"M": "a) Male", "F": "b) Female", "U": "c) Not stated/recorded"},
    "bare": {"M": "M", "F": "F", "U": "U"},
    "words": {"M": "Male", "F": "Female", "U": "Unknown"},
}
YES_NO_STYLES = {
    "prefixed": {True: "a) Yes", False: "b) No"},
    "bare": {True: "Yes", False: "No"},
    "words": {True: "yes", False: "no"},
}


@dataclass(frozen=True)
class AnnexAStyle:
    """How one council's Annex A workbook looks."""

    name: str
    sheets: str = "space"  # 'space' List 3 | 'underscore' List_3 | 'titles' Referrals
    title_row: bool = False
    age_heading: str = "Age of Child (Years)"  # or 'Age'
    lower_headings: bool = False
    trailing_spaces: bool = False
    curly_apostrophe: bool = False
    codes: str = "prefixed"  # 'prefixed' | 'bare' | 'words' | 'mixed'
    missing: str = ""  # '' or '#N/A'
    dates: str = "date"  # 'date' | 'serial' | 'text' | 'formula' | 'mixed'
    ids: str = "number"  # 'number' | 'text' | 'mixed'
    nbsp_names: str = "some"  # 'some' (the workers who have one) | 'all' | 'none'
    other_lists: bool = False
    age_float: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


XLSX_STYLES: tuple[AnnexAStyle, ...] = (
    AnnexAStyle("ofsted_template_2019", sheets="underscore", title_row=True, curly_apostrophe=True, other_lists=True),
    AnnexAStyle("liia_2024", age_heading="Age", nbsp_names="all", age_float=True),
    AnnexAStyle(
        "council_export",
        sheets="titles",
        lower_headings=True,
        trailing_spaces=True,
        codes="bare",
        missing="#N/A",
        dates="text",
        ids="text",
        nbsp_names="none",
    ),
    AnnexAStyle("serial_dates", title_row=True, codes="words", dates="serial", ids="mixed"),
    AnnexAStyle("formula_dates", sheets="underscore", trailing_spaces=True, dates="formula", curly_apostrophe=True),
    AnnexAStyle(
        "mixed_bag", age_heading="Age", codes="mixed", missing="#N/A", dates="mixed", ids="mixed", lower_headings=True
    ),
)
LEGACY_XLS_STYLE = AnnexAStyle("legacy_xls", sheets="underscore", title_row=True, other_lists=True)
CSV_STYLE = AnnexAStyle("per_list_csv", codes="bare", dates="text", ids="text", nbsp_names="none")


# --- the lists, as canonical values ---------------------------------------------------------


def window(as_of: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The six months up to and including the extract date."""
    return as_of - pd.DateOffset(months=6) + pd.Timedelta(days=1), as_of


def _with_child(frame: pd.DataFrame, kids: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The list's rows with their child's attributes (`kids`: sex, ethnicity, date_of_birth, disabled by child_id)."""
    rows = kids.index.get_indexer(frame["child_id"]) if kids.index.is_unique else None
    if rows is not None and (rows >= 0).all():  # a positional take: what the merge gives, cheaper
        attrs = kids.iloc[rows].reset_index(drop=True)
        out = pd.concat([frame.reset_index(drop=True), attrs], axis=1)
    else:
        out = frame.merge(kids.reset_index(), on="child_id", how="left")
    out["age"] = age_at(out["date_of_birth"], as_of)
    return out


def list_frames(rec: Recorded, as_of: pd.Timestamp) -> dict[int, pd.DataFrame]:
    """Lists 1, 3, 4 and 6 as the system shows them on `as_of` (canonical values, one row per list row)."""
    lo, hi = window(as_of)
    kids = rec.children[["child_id", "sex", "ethnicity", "date_of_birth", "disabled"]].set_index("child_id")  # once
    contacts = rec.contacts.loc[
        rec.contacts["contact_date"].between(lo, hi), ["child_id", "contact_date", "contact_source"]
    ]
    l1 = _with_child(contacts.reset_index(drop=True), kids, as_of)

    eps = episodes_at(rec, as_of)
    refs = eps.loc[eps["referral_date"].between(lo, hi)]
    l3 = _with_child(
        refs[["child_id", "referral_date", "referral_source", "nfa", "referral_team", "referral_worker"]]
        .rename(columns={"referral_team": "team", "referral_worker": "worker"})
        .reset_index(drop=True),
        kids,
        as_of,
    )
    counts = referrals_in_last_12_months(rec.episodes, as_of)
    l3["referrals_last_12m"] = l3["child_id"].map(counts).fillna(0).astype(int)

    a = assessments_at(rec, as_of, eps)
    active = (
        a["assessment_start"].between(lo, hi)
        | a["assessment_authorised"].between(lo, hi)
        | a["assessment_authorised"].isna()
    )
    l4 = _with_child(
        a.loc[
            active,
            [
                "child_id",
                "assessment_start",
                "child_seen",
                "assessment_authorised",
                "requires_support",
                "team",
                "worker",
            ],
        ].reset_index(drop=True),
        kids,
        as_of,
    )

    cin = eps.loc[~eps["nfa"] & (eps["closure_date"].isna() | (eps["closure_date"] >= lo))]
    cin = cin.sort_values(["child_id", "referral_date"]).drop_duplicates("child_id", keep="last")
    cin = cin.sort_values(["referral_date", "child_id"]).reset_index(drop=True)
    cin = cin.assign(last_seen=last_seen(rec, cin, as_of))
    l6 = _with_child(
        cin[
            [
                "child_id",
                "referral_date",
                "primary_need",
                "last_seen",
                "closure_date",
                "closure_reason",
                "case_status",
                "team",
                "worker",
            ]
        ],
        kids,
        as_of,
    )
    return {1: l1, 3: l3, 4: l4, 6: l6}


# --- headings -------------------------------------------------------------------------------

COLUMNS: dict[int, list[tuple[str, str, str]]] = {
    # (canonical column, heading, kind)
    1: [("contact_date", "Date of Contact", "date"), ("contact_source", "Contact Source", "source")],
    3: [
        ("referral_date", "Date of Referral", "date"),
        ("referral_source", "Referral Source", "source"),
        ("nfa", "Referral NFA?", "yesno"),
        ("referrals_last_12m", "Number of Referrals in Last 12 Months", "int"),
        ("team", "Allocated Team", "text"),
        ("worker", "Allocated Worker", "name"),
    ],
    4: [
        ("disabled", "Does the Child have a Disability", "yesno"),
        ("assessment_start", "Continuous Assessment Start Date", "date"),
        ("child_seen", "Child Seen During Continuous Assessment", "yesno"),
        ("assessment_authorised", "Continuous Assessment Date of Authorisation", "date"),
        ("requires_support", "Was the child assessed as requiring LA children's social care support?", "yesno"),
        ("team", "Allocated Team", "text"),
        ("worker", "Allocated Worker", "name"),
    ],
    6: [
        ("disabled", "Does the Child have a Disability", "yesno"),
        ("referral_date", "CIN Start Date", "date"),
        ("primary_need", "Primary Need Code", "need"),
        ("last_seen", "Date Child Was Last Seen", "date"),
        ("closure_date", "CIN Closure Date", "date"),
        ("closure_reason", "Reason for Closure", "reason"),
        ("case_status", "Case Status", "status"),
        ("team", "Allocated Team", "text"),
        ("worker", "Allocated Worker", "name"),
    ],
}


def list_columns(number: int, style: AnnexAStyle) -> list[tuple[str, str, str]]:
    child = [
        ("child_id", "Child Unique ID", "id"),
        ("sex", "Gender", "sex"),
        ("ethnicity", "Ethnicity", "ethnicity"),
        ("date_of_birth", "Date of Birth", "date"),
        ("age", style.age_heading, "age"),
    ]
    return child + COLUMNS[number]


def heading(text: str, style: AnnexAStyle, position: int) -> str:
    """A heading as this council spells it."""
    if style.curly_apostrophe:
        text = text.replace("children's", "children’s").rstrip("?")
    if style.lower_headings and position % 2 == 1:
        text = text[0] + text[1:].lower()
    if style.trailing_spaces and position % 3 == 0:
        text = text + " "
    return text


def sheet_name(number: int, style: AnnexAStyle) -> str:
    if style.sheets == "titles":
        return LIST_TITLES[number]
    return f"List_{number}" if style.sheets == "underscore" else f"List {number}"


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """A formula cell with its cached value (an Excel date serial)."""

    formula: str
    value: float


def _objects(values: pd.Series) -> np.ndarray:
    """The values as a numpy object array with None for every missing value."""
    arr = values.astype(object).to_numpy()
    return np.where(pd.isna(arr), None, arr)


def _coded(values: np.ndarray, styles: np.ndarray, tables: dict[str, dict]) -> np.ndarray:
    """Each value through the table of its row's style; values no table knows pass through unchanged."""
    return np.array([tables[s].get(v, v) if v is not None else None for v, s in zip(values, styles)], dtype=object)


def _code_styles(style: AnnexAStyle, n: int, rng: np.random.Generator) -> np.ndarray:
    if style.codes == "mixed":
        return np.array(["prefixed", "bare", "words"], dtype=object)[rng.integers(0, 3, n)]
    return np.full(n, style.codes, dtype=object)


NEED_TABLES = {"prefixed": {k: f"{k} - {v}" for k, v in PRIMARY_NEED.items()}, "bare": {}, "words": {}}
REASON_TABLES = {"prefixed": {k: f"{k} - {v}" for k, v in CLOSURE_REASONS.items()}, "bare": {}, "words": {}}
STATUS_TABLES = {
    "prefixed": CASE_STATUS,
    "bare": {k: v[3:] for k, v in CASE_STATUS.items()},
    "words": {k: v[3:] for k, v in CASE_STATUS.items()},
}
SOURCE_TABLES = {
    "prefixed": SOURCE_PREFIXED,
    "bare": {},
    "words": {c: SOURCE_WORDS.get(c, SOURCE_PREFIXED[c]) for c in SOURCE_PREFIXED},
}
ETHNICITY_TABLES = {"prefixed": ETHNICITY_PREFIXED, "bare": {}, "words": {}}
CODED_KINDS = {
    "sex": SEX_STYLES,
    "ethnicity": ETHNICITY_TABLES,
    "source": SOURCE_TABLES,
    "yesno": YES_NO_STYLES,
    "need": NEED_TABLES,
    "reason": REASON_TABLES,
    "status": STATUS_TABLES,
}


def render_column(
    values: pd.Series, kind: str, style: AnnexAStyle, rng: np.random.Generator, nbsp_workers: frozenset[str]
) -> list[object]:
    """Cell values (str, float, date, Formula or None) for one column in this style."""
    n = len(values)
    codes = _code_styles(style, n, rng)
    if kind == "date":
        return list(_dates(values, style, rng))
    out = _objects(values)
    if kind in CODED_KINDS:
        out = _coded(out, codes, CODED_KINDS[kind])
        if kind == "ethnicity" and style.trailing_spaces:
            out = np.array(
                [v + " " if isinstance(v, str) and i % 7 == 0 else v for i, v in enumerate(out)], dtype=object
            )
    elif kind == "id":
        mixed = rng.random(n) < 0.5
        as_number = style.ids == "number" or style.ids == "mixed"
        out = np.array(
            [
                float(v)
                if as_number and isinstance(v, str) and v.isdigit() and v[0] != "0" and (style.ids == "number" or m)
                else v
                for v, m in zip(out, mixed)
            ],
            dtype=object,
        )
    elif kind == "age":
        frac = rng.random(n) if style.age_float else np.zeros(n)
        out = np.array(
            [None if v is None else float(v) + (f if v >= 0 else 0.0) for v, f in zip(out, frac)], dtype=object
        )
    elif kind == "int":
        out = np.array([None if v is None else float(v) for v in out], dtype=object)
    elif kind == "name" and style.nbsp_names != "none":
        every = style.nbsp_names == "all"
        out = np.array(
            [v.replace(" ", "\xa0", 1) if v is not None and (every or v in nbsp_workers) else v for v in out],
            dtype=object,
        )
    return list(out)


def _dates(values: pd.Series, style: AnnexAStyle, rng: np.random.Generator) -> np.ndarray:
    """Dates as real dates, Excel serials, DD/MM/YYYY text or DATE() formulas; text (a fault) passes through."""
    n = len(values)
    if pd.api.types.is_datetime64_any_dtype(values):
        text = np.zeros(n, dtype=bool)
        stamps = values
    else:
        text = np.array([isinstance(v, str) for v in values.to_numpy()], dtype=bool)
        stamps = pd.to_datetime(values.where(~text), errors="coerce")
    days = np.asarray(pd.DatetimeIndex(stamps)).astype("datetime64[D]")  # numpy, not pandas: a few hundred rows
    modes = (
        np.array(["date", "serial", "text", "formula"], dtype=object)[rng.integers(0, 4, n)]
        if style.dates == "mixed"
        else np.full(n, style.dates, dtype=object)
    )
    ok = ~np.isnat(days) & ~text
    out = np.full(n, None, dtype=object)
    if text.any():  # the fault text as it is (a dates column is never turned into Timestamps only to be dropped)
        out[text] = values.to_numpy(dtype=object)[text]
    if not ok.any():
        return out
    serial = (days - EXCEL_EPOCH_DAY).astype("int64").astype(float)  # meaningful where ok
    for mode in set(modes[ok]):
        pick = ok & (modes == mode)
        picked: list[dt.date] = days[pick].tolist()
        if mode == "date":
            out[pick] = picked
        elif mode == "serial":
            out[pick] = serial[pick]
        elif mode == "text":
            out[pick] = [d.strftime("%d/%m/%Y") for d in picked]
        else:
            out[pick] = [Formula(f"=DATE({d.year},{d.month},{d.day})", v) for d, v in zip(picked, serial[pick])]
    return out


@dataclass
class RenderedList:
    number: int
    sheet: str
    title: str | None
    headings: list[str]
    columns: list[list[object]]

    @property
    def rows(self) -> int:
        return len(self.columns[0]) if self.columns else 0


def render(
    number: int, frame: pd.DataFrame, style: AnnexAStyle, rng: np.random.Generator, nbsp_workers: frozenset[str]
) -> RenderedList:
    spec = list_columns(number, style)
    headings = [heading(h, style, i) for i, (_, h, _) in enumerate(spec)]
    columns = [
        render_column(frame[col].reset_index(drop=True), kind, style, rng, nbsp_workers) for col, _, kind in spec
    ]
    if "_duplicate" in frame.columns:  # a duplicated row is a copy of the rendered row above it
        for i in np.flatnonzero(frame["_duplicate"].to_numpy(dtype=bool)):
            for values in columns:
                values[i] = values[i - 1]
    if style.missing:
        columns = [[style.missing if v is None else v for v in c] for c in columns]
    title = LIST_LONG_TITLES[number] if style.title_row else None
    return RenderedList(number, sheet_name(number, style), title, headings, columns)


# --- writers --------------------------------------------------------------------------------


def write_xlsx(path: Path, lists: list[RenderedList], style: AnnexAStyle, as_of: pd.Timestamp) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "in_memory": True,  # the parts zipped from memory: no temporary file per part to write, read and remove
        },
    )
    wb.set_properties(
        {
            "title": "Annex A - Child level data",
            "author": "Synthetic council",
            "created": dt.datetime(as_of.year, as_of.month, as_of.day, 9, 0),
        }
    )
    date_format = wb.add_format({"num_format": "dd/mm/yyyy"})
    if style.other_lists:
        front = wb.add_worksheet("Front_Sheet")
        front.write_string(0, 0, "Annex A - Child level data")
        front.write_string(2, 0, f"Extract date: {as_of:%d/%m/%Y}")
    sheets = {r.number: r for r in lists}
    numbers = sorted(set(sheets) | (set(OTHER_LISTS) if style.other_lists else set()))
    for number in numbers:
        if number in sheets:
            _xlsx_sheet(wb, sheets[number], date_format)
        else:
            title, heads = OTHER_LISTS[number]
            ws = wb.add_worksheet(f"List_{number}" if style.sheets == "underscore" else f"List {number}")
            ws.write_string(0, 0, title)
            for c, h in enumerate(heads):
                ws.write_string(1, c, h)
    wb.close()


def _xlsx_sheet(wb, rendered: RenderedList, date_format) -> None:
    ws = wb.add_worksheet(rendered.sheet)
    top = 0
    if rendered.title:
        ws.write_string(0, 0, rendered.title)
        top = 1
    for c, h in enumerate(rendered.headings):
        ws.write_string(top, c, h)
    for c, values in enumerate(rendered.columns):
        for r, v in enumerate(values, start=top + 1):
            if v is None:
                continue
            if isinstance(v, str):
                ws.write_string(r, c, v)
            elif isinstance(v, float):
                ws.write_number(r, c, v)
            elif isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), date_format)
            elif isinstance(v, Formula):
                ws.write_formula(r, c, v.formula, date_format, v.value)
            else:
                ws.write(r, c, v)


def write_xls(path: Path, lists: list[RenderedList], style: AnnexAStyle) -> None:
    """The legacy Excel 97-2003 format, as older systems still produce it."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for rendered in lists:
        ws = wb.add_sheet(rendered.sheet)
        top = 0
        if rendered.title:
            ws.write(0, 0, rendered.title)
            top = 1
        for c, h in enumerate(rendered.headings):
            ws.write(top, c, h)
        for c, values in enumerate(rendered.columns):
            for r, v in enumerate(values, start=top + 1):
                if v is None:
                    continue
                if isinstance(v, dt.date):
                    ws.write(r, c, v, date_style)
                elif isinstance(v, Formula):
                    ws.write(r, c, v.value, date_style)
                else:
                    ws.write(r, c, v)
    for number, (title, heads) in OTHER_LISTS.items():
        if style.other_lists:
            ws = wb.add_sheet(f"List_{number}")
            ws.write(0, 0, title)
            for c, h in enumerate(heads):
                ws.write(1, c, h)
    wb.save(str(path))


def write_csvs(stem: Path, lists: list[RenderedList]) -> list[Path]:
    """One CSV per list (`<stem>_list_<n>.csv`), as some councils send Annex A."""
    paths = []
    for rendered in lists:
        frame = pd.DataFrame(
            {h: [_csv_text(v) for v in col] for h, col in zip(rendered.headings, rendered.columns)},
            columns=rendered.headings,
        )
        path = stem.with_name(f"{stem.name}_list_{rendered.number}.csv")
        frame.to_csv(path, index=False, lineterminator="\r\n")
        paths.append(path)
    return paths


def _csv_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, dt.date):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, Formula):
        return (EXCEL_EPOCH + pd.Timedelta(days=v.value)).strftime("%d/%m/%Y")
    return str(v)
