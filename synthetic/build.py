"""Build a synthetic council's extracts: simulate the truth, inject faults, write every file and truth.json."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic import annex_a, cin_census, file_faults, journeys, population, recording_csv, recordings, truth
from synthetic import faults as fault_kit
from synthetic.params import RATES, TEAMS, Params
from synthetic.snapshot import Recorded, recordings_at

TRUTH_FILE = "truth.json"
GENERATOR_VERSION = 1


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """An independent, reproducible random stream per purpose (changing one leaves the others alone)."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


@dataclass
class Council:
    """The clean truth, the council's (faulty) records, and its workforce."""

    params: Params
    truth: Recorded
    recorded: Recorded
    workers: pd.DataFrame
    faults: list[fault_kit.Fault]


def _plain_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as numpy objects: several times faster than Arrow strings for the many small cuts below."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_string_dtype(out[column]) and not pd.api.types.is_object_dtype(out[column]):
            out[column] = out[column].astype(object)
    return out


def simulate(params: Params) -> Council:
    """The truth (clean journeys) and the recorded version with record-level faults."""
    kids = population.children(params, rng_for(params.seed, "children"))
    staff = population.workers(rng_for(params.seed, "workers"))
    eps = journeys.referrals(params, rng_for(params.seed, "referrals"), kids, staff)
    cons = journeys.contacts(params, rng_for(params.seed, "contacts"), kids, eps)
    recs = recordings.recordings(params, rng_for(params.seed, "recordings"), eps, cons, staff)
    clean = Recorded(*(_plain_strings(f) for f in (kids, eps, cons, recs)))
    years = cin_census.census_years(pd.Timestamp(params.simulation_start), pd.Timestamp(params.end))
    census_window = (years[0].start, years[-1].reference_date)
    recorded, injected = fault_kit.inject_record_faults(
        clean, census_window, pd.Timestamp(params.span_start), pd.Timestamp(params.end), rng_for(params.seed, "faults")
    )
    natural = [
        fault_kit.Fault(
            "ethnicity_missing", "4220", "ethnicity not recorded (part of the true ~5% not known)", "child", "natural"
        ),
        fault_kit.Fault(
            "open_assessment_overdue",
            "8670Q",
            "assessment still open more than 45 working days after it started, at the extract date "
            "(count: the latest Annex A extract)",
            "assessment",
            "natural",
        ),
    ]
    return Council(params, clean, recorded, staff, injected + natural)


def annex_a_dates(params: Params) -> list[pd.Timestamp]:
    """Month ends in the span, and the end date itself."""
    start, end = pd.Timestamp(params.span_start), pd.Timestamp(params.end)
    dates = list(pd.date_range(start, end, freq="ME"))
    if not dates or dates[-1] != end:
        dates.append(end)
    return dates


def annex_a_formats(count: int) -> list[tuple[str, annex_a.AnnexAStyle]]:
    """Format and style of each monthly extract: one legacy .xls, one set of per-list CSVs, the rest .xlsx in turn."""
    out, k = [], 0
    for i in range(count):
        if i == 1:
            out.append(("xls", annex_a.LEGACY_XLS_STYLE))
        elif i == 4:
            out.append(("csv", annex_a.CSV_STYLE))
        else:
            out.append(("xlsx", annex_a.XLSX_STYLES[k % len(annex_a.XLSX_STYLES)]))
            k += 1
    return out


def _at(count: int, fraction: float) -> int:
    return min(count - 1, int(fraction * count))


def _annex_a_faults(
    lists: dict[int, pd.DataFrame],
    i: int,
    count: int,
    as_of: pd.Timestamp,
    n: int,
    rng: np.random.Generator,
    book: dict,
    name: str,
) -> dict[int, pd.DataFrame]:
    """The file-level faults planned for the i-th of `count` monthly extracts."""
    k = fault_kit.fault_count(n, 1.5, minimum=2)
    l1, l3, l4, l6 = lists[1], lists[3], lists[4], lists[6]
    if i == _at(count, 0.15):
        l1 = file_faults.missing_child_id(l1, k, rng, book, name, "contact_date")
    if i == _at(count, 0.25):
        l1 = file_faults.duplicate_rows(l1, k, rng, book, name, ["child_id", "contact_date", "contact_source"])
    if i == count - 1:  # in the latest extract, so a loader that takes the latest date as as-of changes no order
        l1 = file_faults.future_date(l1, "contact_date", k, as_of, rng, book, name)
    if i == _at(count, 0.35):
        l3 = file_faults.unparseable_date(l3, "referral_date", k, rng, book, name)
    if i == _at(count, 0.4):
        l3 = file_faults.same_day_referrals(l3, k, rng, book, name)
    if i == _at(count, 0.45):
        l1 = file_faults.unmappable_code(l1, "contact_source", k, rng, book, name)
    if i in (_at(count, 0.5), count - 1):
        l3 = file_faults.wrong_referral_count(l3, k, rng, book, name)
    if i == _at(count, 0.55):
        l6 = file_faults.unmappable_code(l6, "primary_need", k, rng, book, name)
    if i == _at(count, 0.6):
        l3 = file_faults.duplicate_rows(l3, k, rng, book, name, ["child_id", "referral_date"])
    if i == _at(count, 0.65):
        l1 = file_faults.ancient_date(l1, "date_of_birth", k, rng, book, name)
    if i == _at(count, 0.7):
        l4 = file_faults.missing_child_id(l4, k, rng, book, name, "assessment_start")
    if i == _at(count, 0.75):
        l3 = file_faults.ethnicity_differs(l3, k, rng, book, name)
    if i == _at(count, 0.8):
        l6 = file_faults.unparseable_date(l6, "referral_date", k, rng, book, name)
    return {1: l1, 3: l3, 4: l4, 6: l6}


def _annex_a_detect_frames(lists: dict[int, pd.DataFrame]) -> fault_kit.Frames:
    l4 = lists[4]
    return {
        "contacts": lists[1],
        "referrals": lists[3],
        "assessments": l4[
            ["child_id", "assessment_start", "assessment_authorised", "sex", "ethnicity", "date_of_birth"]
        ],
        "cin_episodes": lists[6],
    }


_WORKER_COUNCIL: Council | None = None


def _init_worker(council: Council) -> None:
    global _WORKER_COUNCIL
    _WORKER_COUNCIL = council


@dataclass(frozen=True)
class AnnexATask:
    index: int
    count: int
    as_of: pd.Timestamp
    container: str
    style: annex_a.AnnexAStyle
    out: Path


def _annex_a_task(task: AnnexATask, council: Council | None = None) -> tuple[dict, dict, dict[str, int]]:
    """Cut, fault, render and write one monthly extract; return its inventory entry, faults and observations."""
    council = council or _WORKER_COUNCIL
    assert council is not None
    as_of, seed = task.as_of, council.params.seed
    stem = f"annex_a_{as_of.date()}"
    name = f"{stem}.{task.container}" if task.container != "csv" else f"{stem}_list_*.csv"
    book: dict[str, fault_kit.Fault] = {}
    lists = annex_a.list_frames(council.recorded, as_of)
    lists = _annex_a_faults(
        lists,
        task.index,
        task.count,
        as_of,
        council.params.children,
        rng_for(seed, f"annex_a:{as_of.date()}"),
        book,
        name,
    )
    seen = fault_kit.observations(council.faults, _annex_a_detect_frames(lists), as_of)
    nbsp = frozenset(council.workers.loc[council.workers["nbsp_in_name"], "worker"])
    rng = rng_for(seed, f"annex_a_render:{as_of.date()}")
    rendered = [annex_a.render(n, lists[n], task.style, rng, nbsp) for n in (1, 3, 4, 6)]
    if task.container == "xlsx":
        annex_a.write_xlsx(task.out / name, rendered, task.style, as_of)
        names = [name]
    elif task.container == "xls":
        annex_a.write_xls(task.out / name, rendered, task.style)
        names = [name]
    else:
        names = [p.name for p in annex_a.write_csvs(task.out / stem, rendered)]
    lo, hi = annex_a.window(as_of)
    entry = {
        "files": names,
        "format": "annex_a",
        "container": task.container,
        "as_of": str(as_of.date()),
        "window": {"start": str(lo.date()), "end": str(hi.date())},
        "style": task.style.as_dict(),
        "rows": {f"list_{r.number}": r.rows for r in rendered},
        "sheets": {f"list_{r.number}": r.sheet for r in rendered},
    }
    return entry, book, {name: seen}


def write_annex_a(council: Council, out: Path, book: dict, inventory: list[dict], jobs: int = 1) -> None:
    """Every monthly Annex A extract, in `jobs` processes."""
    dates = annex_a_dates(council.params)
    tasks = [
        AnnexATask(i, len(dates), as_of, fmt, style, out)
        for i, (as_of, (fmt, style)) in enumerate(zip(dates, annex_a_formats(len(dates))))
    ]
    if jobs > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(council,)) as pool:
            results = list(pool.map(_annex_a_task, tasks))
    else:
        results = [_annex_a_task(t, council) for t in tasks]
    for entry, file_book, seen in results:
        inventory.append(entry)
        fault_kit.merge_book(book, file_book)
        for name, counts in seen.items():
            fault_kit.record_observations(council.faults, name, counts)


def _census_faults(
    eps: pd.DataFrame, i: int, count: int, n: int, rng: np.random.Generator, book: dict, name: str
) -> pd.DataFrame:
    eps = eps.assign(_missing_id=False, _key_date=eps["referral_date"])
    k = fault_kit.fault_count(n, 1.0, minimum=2)
    if i == 0:
        kids = eps["child_id"].drop_duplicates()
        chosen = kids.iloc[np.sort(rng.choice(len(kids), size=k, replace=False))]
        mask = eps["child_id"].isin(chosen)
        eps.loc[mask, "_missing_id"] = True
        file_faults._log(
            book,
            "missing_child_id",
            None,
            "row without a child id (must end in rejects)",
            "row",
            name,
            int(mask.sum()),
            [
                {"child_element": "LAchildID empty", "referral_date": str(d.date())}
                for d in eps.loc[mask, "referral_date"]
            ],
        )
    if i == min(1, count - 1):
        eps = file_faults.unparseable_date(eps, "referral_date", k, rng, book, name)
    if i == count - 1:
        eps = file_faults.same_day_referrals(eps, k, rng, book, name)
        eps.loc[eps.duplicated(["child_id", "referral_date"]), "_key_date"] = pd.NaT
        eps = file_faults.unmappable_code(eps, "referral_source", k, rng, book, name)
    return eps


def write_census(council: Council, out: Path, book: dict, inventory: list[dict]) -> None:
    p = council.params
    years = cin_census.census_years(pd.Timestamp(p.simulation_start), pd.Timestamp(p.end))
    kids = council.recorded.children
    for i, year in enumerate(years):
        rng = rng_for(p.seed, f"cin:{year.year_end}")
        eps, assessments = cin_census.census_frames(council.recorded, year)
        eps = _census_faults(eps, i, len(years), p.children, rng, book, year.file_name)
        attrs = kids[["child_id", "sex", "ethnicity", "date_of_birth"]]
        shown = eps.loc[~eps["_missing_id"]]
        frames = {
            "referrals": shown.drop(columns=["sex", "ethnicity", "date_of_birth"], errors="ignore").merge(
                attrs, on="child_id"
            ),
            "cin_episodes": shown,
            "assessments": assessments.loc[
                assessments["child_id"].isin(shown["child_id"]),
                ["child_id", "assessment_start", "assessment_authorised", "referral_date"],
            ],
        }
        fault_kit.observe(council.faults, year.file_name, frames, year.reference_date)
        booleans = ("1", "0") if i % 2 == 0 else ("true", "false")
        tree = cin_census.build_xml(council.recorded, year, eps, assessments, p.la_code, booleans, rng)
        cin_census.write(out / year.file_name, tree)
        inventory.append(
            {
                "files": [year.file_name],
                "format": "cin_census",
                "container": "xml",
                "as_of": str(year.reference_date.date()),
                "window": {"start": str(year.start.date()), "end": str(year.reference_date.date())},
                "style": {"sex_element": "Sex" if year.uses_sex else "GenderCurrent", "booleans": "/".join(booleans)},
                "rows": {
                    "children": int(eps["child_id"].nunique()),
                    "cin_details": len(eps),
                    "assessments": len(assessments),
                },
            }
        )


def write_recordings(council: Council, out: Path, book: dict, inventory: list[dict]) -> None:
    p = council.params
    windows = recording_csv.quarters(pd.Timestamp(p.span_start), pd.Timestamp(p.end))
    k = fault_kit.fault_count(p.children, 2.0, minimum=2)
    for i, (lo, as_of) in enumerate(windows):
        rng = rng_for(p.seed, f"recordings:{as_of.date()}")
        style = recording_csv.STYLES[i % len(recording_csv.STYLES)]
        name = recording_csv.file_name(as_of)
        frame = recordings_at(council.recorded, as_of)
        frame = frame.loc[frame["event_date"] >= lo].reset_index(drop=True)
        slot = i % 4
        if slot == 0:
            frame = file_faults.missing_child_id(frame, k, rng, book, name, "record_id")
        elif slot == 1:
            frame = file_faults.unparseable_date(frame, "event_date", k, rng, book, name)
        elif slot == 2:
            frame = file_faults.ancient_date(frame, "event_date", k, rng, book, name)
        else:
            frame = file_faults.duplicate_rows(frame, k, rng, book, name, ["record_id"])
        fault_kit.observe(council.faults, name, {"recordings": frame}, as_of)
        recording_csv.write(out / name, recording_csv.render(frame, style), style)
        inventory.append(
            {
                "files": [name],
                "format": "case_recording",
                "container": "csv",
                "as_of": str(as_of.date()),
                "window": {"start": str(lo.date()), "end": str(as_of.date())},
                "style": style.as_dict(),
                "rows": {"recordings": len(frame)},
            }
        )


def extracts(params: Params, out: Path, jobs: int = 1) -> dict:
    """Write every extract of the council into `out` with truth.json; return the truth."""
    out.mkdir(parents=True, exist_ok=True)
    council = simulate(params)
    book: dict[str, fault_kit.Fault] = {}
    inventory: list[dict] = []
    write_annex_a(council, out, book, inventory, jobs)
    write_census(council, out, book, inventory)
    write_recordings(council, out, book, inventory)
    faults = council.faults + list(book.values())
    fault_kit.finish(faults)
    latest = [f for f in inventory if f["format"] == "annex_a"][-1]["files"]
    overdue = next(f for f in faults if f.kind == "open_assessment_overdue")
    overdue.count = sum(v for k, v in overdue.files.items() if k in latest)
    document = _truth_document(council, faults, inventory)
    (out / TRUTH_FILE).write_text(json.dumps(document, indent=1, default=str) + "\n", encoding="utf-8")
    return document


def _truth_document(council: Council, faults: list[fault_kit.Fault], inventory: list[dict]) -> dict:
    t, p = council.truth, council.params
    end = pd.Timestamp(p.end)
    return {
        "generator": {"name": "synthetic", "version": GENERATOR_VERSION, "docs": "docs/SYNTHETIC.md"},
        "parameters": p.as_dict(),
        "seed": p.seed,
        "targets": RATES.targets,
        "rates": truth.true_rates(t.children, t.episodes, t.recordings, p.end),
        "by_year": truth.yearly_rates(t.contacts, t.episodes, p.end, p.years),
        "counts": {
            "children": len(t.children),
            "children_referred": int(t.episodes["child_id"].nunique()),
            "contacts": len(t.contacts),
            "referrals": int((t.episodes["referral_date"] <= end).sum()),
            "assessments": int((t.episodes["assessment_start"] <= end).sum()),
            "cin_episodes": int((t.episodes["referral_date"] <= end).sum()),
            "recordings": len(t.recordings),
        },
        "teams": [
            {
                "team": tm.name,
                "role": tm.role,
                "workers": sorted(council.workers.loc[council.workers["team"] == tm.name, "worker"]),
            }
            for tm in TEAMS
        ],
        "files": inventory,
        "faults": [f.as_dict() for f in faults],
    }
