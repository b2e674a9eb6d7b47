"""Data-quality faults: injected at known counts, detected per file, and listed in truth.json.

Record-level faults change the council's records (so every extract that shows the record shows
the fault); file-level faults change one file only (duplicate rows, rows without a child id,
unparseable or impossible dates, unmappable codes...). The clean truth has none of them, so a
count read back from the files equals the count injected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from store.codes import ETHNICITY_ALL, ETHNICITY_KNOWN, SEX_CODES
from synthetic.calendar import working_days_between
from synthetic.snapshot import Recorded

INVALID_ETHNICITY = ("WBRT", "ASIAN", "XXXX", "W B", "99")
INVALID_SEX = ("X", "7", "Z")
FORTY_WEEKS = pd.Timedelta(days=280)
OPEN_ENDED = pd.Timestamp("2200-01-01")  # the stop of an episode still open


@dataclass
class Fault:
    """One kind of fault: how many, in which files, and the keys of the records concerned."""

    kind: str
    dfe_code: str | None
    description: str
    unit: str
    layer: str  # 'record': in every file showing the record; 'file': in the named file only; 'natural'
    keys: list[dict] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)
    count: int = 0
    seen: set[tuple] = field(default_factory=set)  # keys found in the files (record and natural faults)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "dfe_code": self.dfe_code,
            "description": self.description,
            "unit": self.unit,
            "layer": self.layer,
            "count": self.count,
            "found_in_files": len(self.seen) if self.layer != "file" else self.count,
            "files": dict(sorted(self.files.items())),
            "keys": self.keys,
        }


def _keys(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    out = frame[columns].copy()
    for c in columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out.to_dict("records")


def fault_count(n_children: int, per_thousand: float, minimum: int = 2) -> int:
    return max(minimum, int(round(n_children * per_thousand / 1000)))


# --- record-level injection -----------------------------------------------------------------


def _pick(rng: np.random.Generator, index: pd.Index, k: int) -> pd.Index:
    k = min(k, len(index))
    return index[np.sort(rng.choice(len(index), size=k, replace=False))]


def inject_record_faults(
    truth: Recorded,
    census_window: tuple[pd.Timestamp, pd.Timestamp],
    span_start: pd.Timestamp,
    end: pd.Timestamp,
    rng: np.random.Generator,
) -> tuple[Recorded, list[Fault]]:
    """A copy of the truth with record-level faults, and the list of what was injected."""
    n = len(truth.children)
    kids, eps, recs = truth.children.copy(), truth.episodes.copy(), truth.recordings.copy()
    faults: list[Fault] = []
    used: set[int] = set()

    def free(mask: pd.Series) -> pd.Index:
        return eps.index[mask.to_numpy() & ~eps.index.isin(list(used))]

    c_lo, c_hi = census_window
    authorised = eps["assessment_authorised"].notna() & (eps["assessment_authorised"] <= end - pd.Timedelta(days=14))
    in_span = eps["referral_date"] >= span_start + pd.Timedelta(days=31)

    rows = _pick(rng, free(authorised & in_span), fault_count(n, 4))
    used.update(rows)
    eps.loc[rows, "assessment_authorised"] = eps.loc[rows, "assessment_start"] - pd.to_timedelta(
        rng.integers(1, 30, len(rows)), "D"
    )
    faults.append(
        Fault(
            "assessment_authorised_before_start",
            "8608",
            "assessment authorisation date before its start date",
            "assessment",
            "record",
            _keys(eps.loc[rows], ["child_id", "assessment_start"]),
        )
    )

    in_census = (eps["referral_date"] >= max(c_lo, span_start) + pd.Timedelta(days=31)) & (
        eps["referral_date"] <= c_hi - pd.Timedelta(days=60)
    )
    rows = _pick(rng, free(authorised & in_census & (eps["assessment_authorised"] <= c_hi)), fault_count(n, 3))
    used.update(rows)
    eps.loc[rows, "assessment_start"] = eps.loc[rows, "referral_date"] - pd.to_timedelta(
        rng.integers(1, 20, len(rows)), "D"
    )
    faults.append(
        Fault(
            "assessment_before_referral",
            "1103",
            "assessment starts before the referral of its episode (visible in the CIN census)",
            "assessment",
            "record",
            _keys(eps.loc[rows], ["child_id", "assessment_start", "referral_date"]),
        )
    )

    faults.append(_overlaps(eps, rng, n, used, in_census, c_hi))
    non_nfa = ~eps["nfa"]
    closed = non_nfa & in_span & (eps["closure_date"] >= c_lo) & (eps["closure_date"] <= c_hi - pd.Timedelta(days=7))
    rows = _pick(rng, free(closed), fault_count(n, 3))
    used.update(rows)
    eps.loc[rows, "closure_reason"] = None
    faults.append(
        Fault(
            "closure_date_without_reason",
            "8805",
            "CIN closure date recorded without a reason for closure",
            "episode",
            "record",
            _keys(eps.loc[rows], ["child_id", "referral_date"]),
        )
    )
    open_ = non_nfa & (eps["closure_date"] > end) & in_span
    rows = _pick(rng, free(open_), fault_count(n, 2.5))
    used.update(rows)
    eps.loc[rows, "closure_date"] = pd.NaT
    eps.loc[rows, "closure_reason"] = "RC7"
    faults.append(
        Fault(
            "closure_reason_without_date",
            "8810",
            "reason for closure recorded on an open episode (no closure date)",
            "episode",
            "record",
            _keys(eps.loc[rows], ["child_id", "referral_date"]),
        )
    )

    faults.append(_before_birth(kids, eps, rng, n, in_span))
    faults.extend(_child_codes(kids, eps, rng, n, in_span))
    faults.append(_entered_before_event(recs, rng, n, span_start, end))
    return Recorded(kids, eps, truth.contacts, recs), faults


def _overlaps(
    eps: pd.DataFrame, rng: np.random.Generator, n: int, used: set[int], window: pd.Series, census_end: pd.Timestamp
) -> Fault:
    """Extend an episode's closure past the child's next referral, both in one census year (DfE 8820)."""
    order = eps.sort_values(["child_id", "referral_date"]).index
    nxt = eps.loc[order].groupby("child_id")["referral_date"].shift(-1).reindex(eps.index)
    ok = nxt.notna() & (nxt <= census_end - pd.Timedelta(days=10)) & window & ~eps["nfa"] & ~eps.index.isin(list(used))
    candidates = eps.index[ok.to_numpy()]
    candidates = candidates[~eps.loc[candidates, "child_id"].duplicated().to_numpy()]
    rows = _pick(rng, candidates, fault_count(n, 2.5))
    used.update(rows)
    eps.loc[rows, "closure_date"] = nxt[rows] + pd.to_timedelta(rng.integers(5, 40, len(rows)), "D")
    return Fault(
        "overlapping_episodes",
        "8820",
        "a child's CIN episode closes after the child's next referral (episodes overlap)",
        "child",
        "record",
        _keys(eps.loc[rows], ["child_id", "referral_date", "closure_date"]),
    )


def _before_birth(kids: pd.DataFrame, eps: pd.DataFrame, rng: np.random.Generator, n: int, window: pd.Series) -> Fault:
    """Move the (expected) birth date of children with one referral to more than 40 weeks after it (DfE 8606)."""
    per_child = eps.groupby("child_id")["referral_date"].transform("size")
    single = eps.loc[(per_child == 1) & window]
    rows = _pick(rng, single.index, fault_count(n, 1.5))
    ids = eps.loc[rows, "child_id"]
    new_dob = eps.loc[rows, "referral_date"] + pd.to_timedelta(rng.integers(300, 420, len(rows)), "D")
    kids.loc[kids["child_id"].isin(ids), "date_of_birth"] = kids["child_id"].map(dict(zip(ids, new_dob)))
    return Fault(
        "referral_over_40_weeks_before_birth",
        "8606",
        "referral more than 40 weeks before the (expected) date of birth",
        "referral",
        "record",
        _keys(eps.loc[rows], ["child_id", "referral_date"]),
    )


def _child_codes(
    kids: pd.DataFrame, eps: pd.DataFrame, rng: np.random.Generator, n: int, window: pd.Series
) -> list[Fault]:
    """Sex missing or invalid (4180) and ethnicity invalid (4220) on every record of some children."""
    referred = pd.Index(eps.loc[window, "child_id"].unique())
    pool = kids.index[kids["child_id"].isin(referred).to_numpy() & kids["ethnicity"].isin(ETHNICITY_KNOWN).to_numpy()]
    chosen = _pick(rng, pool, fault_count(n, 2) + fault_count(n, 1.5) + fault_count(n, 2.5))
    k1, k2 = fault_count(n, 2), fault_count(n, 1.5)
    missing, invalid, bad_eth = chosen[:k1], chosen[k1 : k1 + k2], chosen[k1 + k2 :]
    kids.loc[missing, "sex"] = None
    kids.loc[invalid, "sex"] = np.array(INVALID_SEX)[np.arange(len(invalid)) % len(INVALID_SEX)]
    kids.loc[bad_eth, "ethnicity"] = np.array(INVALID_ETHNICITY)[np.arange(len(bad_eth)) % len(INVALID_ETHNICITY)]
    return [
        Fault(
            "sex_missing",
            "4180",
            "sex / gender not recorded",
            "child",
            "record",
            _keys(kids.loc[missing], ["child_id"]),
        ),
        Fault(
            "sex_invalid",
            "4180",
            "sex / gender recorded with a value outside the code list",
            "child",
            "record",
            _keys(kids.loc[invalid], ["child_id", "sex"]),
        ),
        Fault(
            "ethnicity_invalid",
            "4220",
            "ethnicity recorded with a value that is not one of the 20 codes",
            "child",
            "record",
            _keys(kids.loc[bad_eth], ["child_id", "ethnicity"]),
        ),
    ]


def _entered_before_event(
    recs: pd.DataFrame, rng: np.random.Generator, n: int, span_start: pd.Timestamp, end: pd.Timestamp
) -> Fault:
    ok = (
        recs["entered_at"].notna()
        & (recs["event_date"] >= span_start + pd.Timedelta(days=31))
        & (recs["entered_at"] <= end - pd.Timedelta(days=3))
    )
    rows = _pick(rng, recs.index[ok.to_numpy()], fault_count(n, 8))
    back = pd.to_timedelta(rng.integers(1, 15, len(rows)), "D")
    recs.loc[rows, "entered_at"] = (
        recs.loc[rows, "event_date"] - back + pd.to_timedelta(rng.integers(9 * 60, 17 * 60, len(rows)), "m")
    )
    return Fault(
        "recording_entered_before_event",
        None,
        "case recording entered (written up) before the event it records",
        "recording",
        "record",
        _keys(recs.loc[rows], ["record_id"]),
    )


# --- detection in one file's frames (canonical values, only the columns the file carries) -----

Frames = dict[str, pd.DataFrame]


class _FileFrames(dict):
    """One file's frames, with the child attributes the detectors ask for kept once worked out (four detectors ask
    for two columns)."""

    def __init__(self, frames: Frames) -> None:
        super().__init__(frames)
        self.child_attrs: dict[str, pd.DataFrame] = {}


def _child_attr(frames: Frames, column: str) -> pd.DataFrame:
    """(child_id, value) pairs of a child attribute across the file's frames, distinct, the child id known (read only)."""
    kept = getattr(frames, "child_attrs", None)
    if kept is None:
        return _child_attr_of(frames, column)
    if column not in kept:
        kept[column] = _child_attr_of(frames, column)
    return kept[column]


def _child_attr_of(frames: Frames, column: str) -> pd.DataFrame:
    parts = [f for f in frames.values() if column in f.columns and "child_id" in f.columns]
    if not parts:
        return pd.DataFrame(columns=["child_id", column])
    out = pd.DataFrame(  # numpy objects joined, as pd.concat of the two columns gives, without its overheads
        {name: np.concatenate([f[name].to_numpy(dtype=object) for f in parts]) for name in ("child_id", column)},
        dtype=object,
    )
    return _child_known(out).drop_duplicates()


def _child_known(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows whose child id is known (the frame itself when every one is: no copy)."""
    known = frame["child_id"].notna()
    return frame if known.all() else frame.loc[known]


def _dated(values: pd.Series) -> pd.Series:
    """Dates of a column that may hold fault text (which counts as no date)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    text = np.array([isinstance(v, str) for v in values.to_numpy()], dtype=bool)
    return pd.to_datetime(values.where(~text), errors="coerce")


def _detect_overlaps(frames: Frames, as_of: pd.Timestamp) -> pd.DataFrame:
    e = frames.get("cin_episodes")
    if e is None or e.empty:
        return pd.DataFrame(columns=["child_id"])
    child = e["child_id"].to_numpy(dtype=object)  # numpy throughout: a few hundred episodes, 17 files
    start, stop = _dated(e["referral_date"]).to_numpy(), _dated(e["closure_date"]).to_numpy()
    keep = ~pd.isna(child) & ~np.isnat(start)
    order = np.lexsort((start[keep], child[keep]))  # by child, then start; stable: a repeated episode's first leads
    child, start, stop = child[keep][order], start[keep][order], stop[keep][order]
    first = ~(_same_as_previous(child) & _same_as_previous(start))  # each (child, start) once, its first row
    child, start, stop = child[first], start[first], stop[first]
    prev_stop = np.roll(stop, 1)  # the child's previous episode is the row above when the child is the same
    prev_stop = np.where(np.isnat(prev_stop), np.datetime64(OPEN_ENDED), prev_stop)
    bad = _same_as_previous(child) & (prev_stop > start)
    return pd.DataFrame({"child_id": child[bad]}, dtype=object)  # made distinct by observations()


def _same_as_previous(values: np.ndarray) -> np.ndarray:
    same = np.zeros(len(values), dtype=bool)
    same[1:] = values[1:] == values[:-1]
    return same


def _detect_open_overdue(frames: Frames, as_of: pd.Timestamp) -> pd.DataFrame:
    a = frames.get("assessments")
    if a is None or a.empty:
        return pd.DataFrame(columns=["child_id"])
    start = _dated(a["assessment_start"])
    a = a.loc[a["assessment_authorised"].isna() & start.notna() & a["child_id"].notna()]
    days = working_days_between(
        _dated(a["assessment_start"]).to_numpy().astype("datetime64[D]"), np.full(len(a), np.datetime64(as_of.date()))
    )
    return a.loc[days > 45, ["child_id", "assessment_start"]]


def _where(
    entity: str, columns: list[str], test: Callable[[pd.DataFrame], pd.Series]
) -> Callable[[Frames, pd.Timestamp], pd.DataFrame]:
    def detect(frames: Frames, as_of: pd.Timestamp) -> pd.DataFrame:
        f = frames.get(entity)
        if f is None or f.empty or not set(columns) <= set(f.columns):
            return pd.DataFrame(columns=["child_id"])
        known = _child_known(f)
        return known.loc[test(known).fillna(False).astype(bool)]

    return detect


def _sex_test(kind: str) -> Callable[[Frames, pd.Timestamp], pd.DataFrame]:
    def detect(frames: Frames, as_of: pd.Timestamp) -> pd.DataFrame:
        s = _child_attr(frames, "sex")
        bad = s["sex"].isna() if kind == "missing" else (s["sex"].notna() & ~s["sex"].isin(SEX_CODES))
        return s.loc[bad, ["child_id"]]  # made distinct by observations()

    return detect


def _ethnicity_test(kind: str) -> Callable[[Frames, pd.Timestamp], pd.DataFrame]:
    def detect(frames: Frames, as_of: pd.Timestamp) -> pd.DataFrame:
        s = _child_attr(frames, "ethnicity")
        bad = (
            s["ethnicity"].isna()
            if kind == "missing"
            else (s["ethnicity"].notna() & ~s["ethnicity"].isin(ETHNICITY_ALL))
        )
        return s.loc[bad, ["child_id"]]  # made distinct by observations()

    return detect


DETECTORS: dict[str, Callable[[Frames, pd.Timestamp], pd.DataFrame]] = {
    "assessment_authorised_before_start": _where(
        "assessments",
        ["assessment_start", "assessment_authorised"],
        lambda f: _dated(f["assessment_authorised"]) < _dated(f["assessment_start"]),
    ),
    "assessment_before_referral": _where(
        "assessments",
        ["assessment_start", "referral_date"],
        lambda f: _dated(f["assessment_start"]) < _dated(f["referral_date"]),
    ),
    "overlapping_episodes": _detect_overlaps,
    "closure_date_without_reason": _where(
        "cin_episodes",
        ["closure_date", "closure_reason"],
        lambda f: f["closure_date"].notna() & f["closure_reason"].isna(),
    ),
    "closure_reason_without_date": _where(
        "cin_episodes",
        ["closure_date", "closure_reason"],
        lambda f: f["closure_date"].isna() & f["closure_reason"].notna(),
    ),
    "referral_over_40_weeks_before_birth": _where(
        "referrals",
        ["referral_date", "date_of_birth"],
        lambda f: (_dated(f["date_of_birth"]) - _dated(f["referral_date"])) > FORTY_WEEKS,
    ),
    "sex_missing": _sex_test("missing"),
    "sex_invalid": _sex_test("invalid"),
    "ethnicity_invalid": _ethnicity_test("invalid"),
    "ethnicity_missing": _ethnicity_test("missing"),
    "recording_entered_before_event": _where(
        "recordings",
        ["event_date", "entered_at"],
        lambda f: pd.to_datetime(f["entered_at"], errors="coerce").dt.normalize() < _dated(f["event_date"]),
    ),
    "open_assessment_overdue": _detect_open_overdue,
}


DETECTOR_KEYS: dict[str, list[str]] = {
    "assessment_authorised_before_start": ["child_id", "assessment_start"],
    "assessment_before_referral": ["child_id", "assessment_start"],
    "closure_date_without_reason": ["child_id", "referral_date"],
    "closure_reason_without_date": ["child_id", "referral_date"],
    "referral_over_40_weeks_before_birth": ["child_id", "referral_date"],
    "recording_entered_before_event": ["record_id"],
    "open_assessment_overdue": ["child_id", "assessment_start"],
}


def observations(faults: list[Fault], frames: Frames, as_of: pd.Timestamp) -> dict[str, list[tuple]]:
    """The keys of each record-level or natural fault that one file's frames show."""
    out: dict[str, list[tuple]] = {}
    frames = _FileFrames(frames)
    for fault in faults:
        if fault.layer == "file":
            continue
        found = DETECTORS[fault.kind](frames, as_of)
        if found.empty:
            continue
        out[fault.kind] = _distinct_keys(found, DETECTOR_KEYS.get(fault.kind, ["child_id"]))
    return out


_NAN = object()  # every float NaN, as one key


def _distinct_keys(found: pd.DataFrame, keys: list[str]) -> list[tuple]:
    """The rows' distinct keys as text, in order of first appearance (pandas' drop_duplicates: NaN equals NaN)."""
    distinct: dict[tuple, tuple] = {}
    for row in zip(*(found[k].tolist() for k in keys)):  # a few rows: Python beats a pandas drop_duplicates
        same = tuple(_NAN if isinstance(v, float) and v != v else v for v in row)
        if same not in distinct:
            distinct[same] = tuple(str(v) for v in row)
    return list(distinct.values())


def record_observations(faults: list[Fault], file_name: str, seen: dict[str, list[tuple]]) -> None:
    for fault in faults:
        if fault.kind in seen:
            fault.files[file_name] = len(seen[fault.kind])
            fault.seen.update(seen[fault.kind])


def observe(faults: list[Fault], file_name: str, frames: Frames, as_of: pd.Timestamp) -> None:
    """Count, in one file's frames, each record-level or natural fault that the file shows."""
    record_observations(faults, file_name, observations(faults, frames, as_of))


def merge_book(book: dict[str, Fault], other: dict[str, Fault]) -> None:
    """Add one file's file-level faults to the book."""
    for kind, fault in other.items():
        mine = book.setdefault(kind, Fault(fault.kind, fault.dfe_code, fault.description, fault.unit, "file"))
        for name, n in fault.files.items():
            mine.files[name] = mine.files.get(name, 0) + n
        mine.keys.extend(fault.keys)


def finish(faults: list[Fault]) -> None:
    """Set each fault's count: the keys injected (record and file faults)."""
    for fault in faults:
        if fault.layer == "file":
            fault.count = sum(fault.files.values())
        elif fault.layer == "record":
            fault.count = len(fault.keys)
        else:
            fault.count = len({k[0] for k in fault.seen}) if fault.unit == "child" else len(fault.seen)
