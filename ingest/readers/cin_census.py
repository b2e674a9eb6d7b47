"""Reader for the DfE Children in Need census XML (every schema year 2017-2026), parsed safely and streamed.

Safety: the XML is parsed with defusedxml and any DTD is refused, so entity expansion ("billion
laughs") and external references cannot happen. Memory: the file is streamed with iterparse and
each ``Child`` is dropped once read, so a national-scale file costs one child at a time plus the
staged rows.

Each ``Child`` gives its attributes (LAchildID, birth date, sex, ethnicity, disabilities); each
``CINdetails`` gives one referral row and one child-in-need episode row; each ``Assessments`` one
assessment row. Values are gathered per child in Python (unavoidable for XML) in batches, handed
to DuckDB as Arrow tables and normalised there in SQL.

Schema differences handled: ``GenderCurrent`` (1 male, 2 female, 0/9 unknown) up to 2023-24 and
``Sex`` (M/F/U) from 2024-25; ``CINPlanDates``, ``Section47``, ``ChildProtectionPlans`` and later
additions are ignored. Element names are matched without namespace and case. Codes that are not
valid DfE codes are kept as written and flagged ``<column>_invalid``; dates and booleans that do
not parse are flagged ``<column>_unparsed``. A child with no ``PersonBirthDate`` but an
``ExpectedPersonBirthDate`` (unborn) gets the expected date, flagged ``date_of_birth_expected``.

``sheet`` is the element path (``Child[3]/CINdetails[1]/Assessments[2]``); ``row_number`` is the
Child's 1-based position in the file.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import duckdb
import pyarrow as pa
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from ingest.normalise import bool_sql, child_id_sql, clean_text_sql, date_sql
from ingest.readers.base import (
    ExtractError,
    ReadResult,
    create_staged_rejects,
    in_lists_as_written,
    staged_columns,
    staged_ddl,
)
from store.codes import (
    CLOSURE_REASONS,
    DISABILITY_CODES,
    ETHNICITY_ALL,
    GENDER_CURRENT_TO_SEX,
    PRIMARY_NEED,
    REFERRAL_SOURCES,
    SEX_CODES,
)
from store.schema import ENTITIES, SOURCE_FIELDS
from store.sql import scalar

FORMAT = "cin_census"
STAGED_ENTITIES: tuple[str, ...] = ("referrals", "cin_episodes", "assessments")
BATCH_CHILDREN = 20_000  # children gathered in Python before a batch is handed to DuckDB
DTD_REFUSED = "XML with a DTD or entity declarations is refused"

# Assessment factor codes: the union of the enumerations in the CIN census XSDs 2017-2026.
ASSESSMENT_FACTORS: frozenset[str] = frozenset(
    {
        "1A",
        "1B",
        "1C",
        "2A",
        "2B",
        "2C",
        "3A",
        "3B",
        "3C",
        "4A",
        "4B",
        "4C",
        "5A",
        "5B",
        "5C",
        "6A",
        "6B",
        "6C",
        "7A",
        "8B",
        "8C",
        "8D",
        "8E",
        "8F",
        "9A",
        "10A",
        "11A",
        "12A",
        "13A",
        "14A",
        "15A",
        "16A",
        "17A",
        "18A",
        "18B",
        "18C",
        "19A",
        "19B",
        "19C",
        "20",
        "21",
        "22A",
        "23A",
        "24A",
    }
)

_CHILD_FIELDS = ("la_child_id", "person_birth_date", "expected_birth_date", "sex_element", "sex", "ethnicity")
_EPISODE_FIELDS = ("referral_date", "referral_source", "primary_need", "closure_date", "closure_reason", "nfa")
_ASSESSMENT_FIELDS = ("start_date", "authorised_date")

# Element (lower case) -> raw column, per level.
_IDENTIFIERS = {
    "lachildid": "la_child_id",
    "personbirthdate": "person_birth_date",
    "expectedpersonbirthdate": "expected_birth_date",
}
_EPISODE_ELEMENTS = {
    "cinreferraldate": "referral_date",
    "referralsource": "referral_source",
    "primaryneedcode": "primary_need",
    "cinclosuredate": "closure_date",
    "reasonforclosure": "closure_reason",
    "referralnfa": "nfa",
}
_ASSESSMENT_ELEMENTS = {"assessmentactualstartdate": "start_date", "assessmentauthorisationdate": "authorised_date"}
_HEADER_ELEMENTS = {"collection": "Collection", "year": "Year", "referencedate": "ReferenceDate", "lea": "LEA"}


# --- safe streaming ---------------------------------------------------------------------------

_LOCAL_NAMES: dict[str, str] = {}


def local_name(tag: object) -> str:
    """An element's name without namespace, in lower case ('{ns}CINdetails' -> 'cindetails'); memoised."""
    name = _LOCAL_NAMES.get(tag)  # type: ignore[call-overload]
    if name is None:
        name = str(tag).rsplit("}", 1)[-1].lower()
        if len(_LOCAL_NAMES) < 10_000:  # a hostile file cannot grow it without bound
            _LOCAL_NAMES[str(tag)] = name
    return name


@contextmanager
def _xml_stream(path: Path) -> Iterator[tuple[IO[bytes], int]]:
    """The file opened at its first '<' (stray whitespace before the prolog is tolerated) and the lines skipped."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
        offset = 0
        if not head.startswith((b"\xff\xfe", b"\xfe\xff")):
            start = 3 if head.startswith(b"\xef\xbb\xbf") else 0
            stripped = head[start:].lstrip()
            offset = start + (len(head) - start - len(stripped)) if stripped else 0
        handle.seek(offset)
        yield handle, head[:offset].count(b"\n")


def xml_events(path: Path, events: tuple[str, ...] = ("start", "end")) -> Iterator[tuple[str, ET.Element]]:
    """(event, element) pairs from a safe parse; DTDs, entities and malformed XML raise ExtractError."""
    with _xml_stream(path) as (handle, skipped_lines):
        try:
            yield from iterparse(handle, events=events, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except DefusedXmlException as err:
            raise ExtractError(path, DTD_REFUSED) from err
        except ET.ParseError as err:
            line = (err.position[0] if getattr(err, "position", None) else 0) + skipped_lines
            raise ExtractError(path, f"XML is truncated or malformed (line {line})") from err


def _clip(value: str | None) -> str:
    return " ".join((value or "").split())[:40] or "?"


def check_collection(path: Path, header: dict[str, str]) -> None:
    """Refuse a Message whose header names a collection other than CIN."""
    collection = header.get("Collection")
    if collection is not None and collection.upper() != "CIN":
        raise ExtractError(
            path, f"not a recognised extract: XML collection '{_clip(collection)}' is not the CIN census"
        )


def _check_root(path: Path, stack: list[str], elem: ET.Element) -> None:
    if not stack and local_name(elem.tag) != "message":
        name = _clip(str(elem.tag).rsplit("}", 1)[-1])
        raise ExtractError(path, f"not a recognised extract: XML root is <{name}>, not a CIN census <Message>")


def check_cin_census(path: Path) -> dict[str, str]:
    """Read only the start of an XML file: the root must be Message of the CIN collection; returns the header.

    Stops at the end of the Header (or the start of Children); raises ExtractError when the file is not
    a CIN census or cannot be parsed that far.
    """
    header: dict[str, str] = {}
    stack: list[str] = []
    for event, elem in xml_events(path):
        name = local_name(elem.tag)
        if event == "start":
            _check_root(path, stack, elem)
            stack.append(name)
            if stack == ["message", "children"]:
                break
            continue
        stack.pop()
        if name in _HEADER_ELEMENTS and stack[:2] == ["message", "header"]:
            header[_HEADER_ELEMENTS[name]] = (elem.text or "").strip()
        if stack == ["message"] and name == "header":
            break
    check_collection(path, header)
    return header


# --- gathering values per child --------------------------------------------------------------


def _columns(*names: str) -> dict[str, list]:
    return {name: [] for name in names}


@dataclass
class _Batch:
    """Raw values of a batch of children, column by column."""

    children: dict[str, list] = field(default_factory=lambda: _columns("child_pos", *_CHILD_FIELDS, "disabilities"))
    episodes: dict[str, list] = field(default_factory=lambda: _columns("child_pos", "episode_pos", *_EPISODE_FIELDS))
    assessments: dict[str, list] = field(
        default_factory=lambda: _columns("child_pos", "episode_pos", "assessment_pos", *_ASSESSMENT_FIELDS, "factors")
    )

    def __len__(self) -> int:
        return len(self.children["child_pos"])


def _text(elem: ET.Element) -> str | None:
    text = "".join(elem.itertext())
    return text if text.strip() else None


def _values(parent: ET.Element | None, wanted: dict[str, str]) -> dict[str, str | None]:
    """Text of the first direct child of each wanted name (others ignored)."""
    found: dict[str, str | None] = dict.fromkeys(wanted.values())
    for elem in parent if parent is not None else ():
        column = wanted.get(local_name(elem.tag))
        if column is not None and found[column] is None:
            found[column] = _text(elem)
    return found


def _first(parent: ET.Element, name: str) -> ET.Element | None:
    return next((e for e in parent if local_name(e.tag) == name), None)


def _codes(parent: ET.Element | None, name: str) -> list[str]:
    """Text of every descendant element of that name (e.g. each Disability under Disabilities)."""
    if parent is None:
        return []
    return [t for e in parent.iter() if local_name(e.tag) == name and (t := _text(e)) is not None]


def _add_child(batch: _Batch, child: ET.Element, position: int) -> None:
    identifiers = _first(child, "childidentifiers")
    characteristics = _first(child, "childcharacteristics")
    ids = _values(identifiers, _IDENTIFIERS)
    sex = _values(identifiers, {"sex": "sex", "gendercurrent": "gender_current"})
    element = "sex" if sex["sex"] is not None or sex["gender_current"] is None else "gendercurrent"
    row = {
        **ids,
        "sex_element": element,
        "sex": sex["sex"] if element == "sex" else sex["gender_current"],
        "ethnicity": _values(characteristics, {"ethnicity": "ethnicity"})["ethnicity"],
    }
    batch.children["child_pos"].append(position)
    for column in _CHILD_FIELDS:
        batch.children[column].append(row[column])
    batch.children["disabilities"].append(_codes(characteristics, "disability"))
    episodes = [e for e in child if local_name(e.tag) == "cindetails"]
    for episode_pos, episode in enumerate(episodes, start=1):
        _add_episode(batch, episode, position, episode_pos)


def _add_episode(batch: _Batch, episode: ET.Element, child_pos: int, episode_pos: int) -> None:
    values = _values(episode, _EPISODE_ELEMENTS)
    batch.episodes["child_pos"].append(child_pos)
    batch.episodes["episode_pos"].append(episode_pos)
    for column in _EPISODE_FIELDS:
        batch.episodes[column].append(values[column])
    assessments = [a for a in episode if local_name(a.tag) == "assessments"]
    for assessment_pos, assessment in enumerate(assessments, start=1):
        found = _values(assessment, _ASSESSMENT_ELEMENTS)
        batch.assessments["child_pos"].append(child_pos)
        batch.assessments["episode_pos"].append(episode_pos)
        batch.assessments["assessment_pos"].append(assessment_pos)
        for column in _ASSESSMENT_FIELDS:
            batch.assessments[column].append(found[column])
        batch.assessments["factors"].append(_codes(assessment, "assessmentfactors"))


# --- handing batches to DuckDB ------------------------------------------------------------------

_RAW_TABLES: dict[str, dict[str, pa.DataType]] = {
    "_cin_raw_children": {
        "child_pos": pa.int32(),
        **{c: pa.string() for c in _CHILD_FIELDS},
        "disabilities": pa.list_(pa.string()),
    },
    "_cin_raw_episodes": {
        "child_pos": pa.int32(),
        "episode_pos": pa.int32(),
        **{c: pa.string() for c in _EPISODE_FIELDS},
    },
    "_cin_raw_assessments": {
        "child_pos": pa.int32(),
        "episode_pos": pa.int32(),
        "assessment_pos": pa.int32(),
        **{c: pa.string() for c in _ASSESSMENT_FIELDS},
        "factors": pa.list_(pa.string()),
    },
}
_DUCK_TYPES = {pa.int32(): "INTEGER", pa.string(): "VARCHAR", pa.list_(pa.string()): "VARCHAR[]"}


def _create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table, columns in _RAW_TABLES.items():
        cols = ", ".join(f"{name} {_DUCK_TYPES[type_]}" for name, type_ in columns.items())
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({cols})")


def _flush(con: duckdb.DuckDBPyConnection, batch: _Batch) -> None:
    """Append a batch to the raw TEMP tables and empty it."""
    for table, values in (
        ("_cin_raw_children", batch.children),
        ("_cin_raw_episodes", batch.episodes),
        ("_cin_raw_assessments", batch.assessments),
    ):
        if not values["child_pos"]:
            continue
        schema = pa.schema(list(_RAW_TABLES[table].items()))
        arrow = pa.table(values, schema=schema)
        con.register("_cin_batch", arrow)
        con.execute(f"INSERT INTO {table} SELECT * FROM _cin_batch")
        con.unregister("_cin_batch")
        for column in values.values():
            column.clear()


@dataclass
class _Census:
    """What streaming the file found besides the children."""

    header: dict[str, str] = field(default_factory=dict)
    children: int = 0


def _stream_children(path: Path, con: duckdb.DuckDBPyConnection) -> _Census:
    """Parse the file once, child by child, into the raw TEMP tables.

    Only the top three levels are tracked by name (Message, Children/Header, Child/...); deeper
    elements are looked at when a Child is complete, or when they are Header values.
    """
    census, batch = _Census(), _Batch()
    ancestors: list[str] = []  # names of the open elements, down to depth 3
    depth = 0
    container: ET.Element | None = None
    others: dict[str, int] = {}  # elements under Children that are not Child
    for event, elem in xml_events(path):
        if event == "start":
            depth += 1
            if depth <= 3:
                _check_root(path, ancestors, elem)
                ancestors.append(local_name(elem.tag))
                if ancestors == ["message", "children"]:
                    container = elem
            continue
        depth -= 1
        if depth >= 3:
            if ancestors[1:2] == ["header"] and local_name(elem.tag) in _HEADER_ELEMENTS:
                census.header[_HEADER_ELEMENTS[local_name(elem.tag)]] = (elem.text or "").strip()
            continue
        name = ancestors.pop()
        if name == "child" and ancestors == ["message", "children"]:
            census.children += 1
            _add_child(batch, elem, census.children)
            if container is not None:
                container.clear()  # the child has been read: let it go
            if len(batch) >= BATCH_CHILDREN:
                _flush(con, batch)
        elif name == "header" and ancestors == ["message"]:
            check_collection(path, census.header)  # before reading a large file that is not a CIN census
        elif ancestors == ["message", "children"]:
            others[name] = others.get(name, 0) + 1
    _flush(con, batch)
    if census.children == 0:
        raise _no_children(path, others)
    return census


def _no_children(path: Path, others: dict[str, int]) -> ExtractError:
    """The refusal of a census without Child elements where the schema puts them (Message/Children/Child)."""
    found = ", ".join(f"{n} <{name}>" for name, n in sorted(others.items())[:3])
    hint = f"; found {found} there instead (children wrapped one level too deep?)" if found else ""
    return ExtractError(path, f"no <Child> elements directly under Message/Children{hint}: nothing to load")


# --- normalising in SQL ----------------------------------------------------------------------------

Codes = frozenset[str] | set[str] | dict


def _list_sql(values: Codes) -> str:
    return "[" + ", ".join(f"'{v}'" for v in sorted(values)) + "]"


def valid_sql(clean: str, codes: Codes) -> str:
    """TRUE when clean text is one of the codes (any case)."""
    return f"list_contains({_list_sql(codes)}, upper({clean}))"


def code_sql(clean: str, codes: Codes) -> str:
    """A DfE code in upper case when valid, else the value as written (clean text in, NULL stays NULL)."""
    return f"(CASE WHEN {valid_sql(clean, codes)} THEN upper({clean}) ELSE {clean} END)"


def sex_sql(element: str, clean: str) -> str:
    """Sex as M/F/U: GenderCurrent 1/2/0/9 mapped, M/F/U kept; anything else kept as written."""
    mapped = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in GENDER_CURRENT_TO_SEX.items())
    return (
        f"(CASE WHEN {element} = 'gendercurrent' AND {valid_sql(clean, GENDER_CURRENT_TO_SEX)}"
        f" THEN (CASE {clean} {mapped} END)"
        f" WHEN {valid_sql(clean, SEX_CODES)} THEN upper({clean}) ELSE {clean} END)"
    )


def _flag(condition: str, flag: str) -> str:
    return f"(CASE WHEN {condition} THEN ['{flag}'] ELSE []::VARCHAR[] END)"


def _invalid(column: str, codes: Codes) -> str:
    """['<column>_invalid'] when the clean value <column>_c is present but not a valid code."""
    return _flag(f"{column}_c IS NOT NULL AND NOT {valid_sql(column + '_c', codes)}", f"{column}_invalid")


def _unparsed(column: str, parsed: str, flag_column: str | None = None) -> str:
    """['<column>_unparsed'] when the clean value <column>_c is present but its parsed value is NULL."""
    return _flag(f"{column}_c IS NOT NULL AND {parsed} IS NULL", f"{flag_column or column}_unparsed")


def _cleaned(columns: tuple[str, ...]) -> str:
    return ", ".join(f"{clean_text_sql(c)} AS {c}_c" for c in columns)


def _code_list_sql(raw_list: str, codes: Codes) -> str:
    """A list of codes cleaned (missing ones dropped, valid ones upper-cased); NULL when empty."""
    cleaned = f"list_filter(list_transform({raw_list}, lambda d: {clean_text_sql('d')}), lambda d: d IS NOT NULL)"
    return f"nullif(list_transform({cleaned}, lambda d: {code_sql('d', codes)}), []::VARCHAR[])"


def _any_invalid(codes_list: str, codes: Codes) -> str:
    return f"len(list_filter({codes_list}, lambda d: NOT list_contains({_list_sql(codes)}, d))) > 0"


def _children_sql() -> str:
    """One row per child: normalised attributes and the flags every row of the child carries."""
    disability_ok = _list_sql(DISABILITY_CODES)
    return f"""
        SELECT child_pos, la_child_id, child_id, sex, ethnicity, coalesce(dob, expected) AS date_of_birth, disabilities,
               CASE WHEN len(list_filter(disabilities, lambda d: list_contains({disability_ok}, d))) = 0 THEN NULL
                    ELSE len(list_filter(disabilities, lambda d: list_contains({disability_ok}, d) AND d <> 'NONE')) > 0
               END AS disabled,
               {_flag("sex_c IS NOT NULL AND NOT list_contains(['M', 'F', 'U'], sex)", "sex_invalid")}
                 || {_invalid("ethnicity", ETHNICITY_ALL)}
                 || {_unparsed("person_birth_date", "dob", "date_of_birth")}
                 || {_flag("dob IS NULL AND expected IS NOT NULL", "date_of_birth_expected")} AS child_flags,
               {_flag(_any_invalid("disabilities", DISABILITY_CODES), "disabilities_invalid")} AS disability_flags
        FROM (
            SELECT *, {child_id_sql("la_child_id_c")} AS child_id,
                   {sex_sql("sex_element", "sex_c")} AS sex,
                   {code_sql("ethnicity_c", ETHNICITY_ALL)} AS ethnicity,
                   {date_sql("person_birth_date_c")} AS dob,
                   {date_sql("expected_birth_date_c")} AS expected,
                   {_code_list_sql("disabilities_raw", DISABILITY_CODES)} AS disabilities
            FROM (SELECT child_pos, la_child_id, sex_element, disabilities AS disabilities_raw,
                         {_cleaned(("la_child_id", "person_birth_date", "expected_birth_date", "sex", "ethnicity"))}
                  FROM _cin_raw_children)
        )
    """


def _episodes_sql() -> str:
    """One row per CINdetails with its child's attributes, flags and reject reason."""
    raw = (
        "json_object('LAchildID', c.la_child_id, 'CINreferralDate', e.referral_date, 'ReferralSource', e.referral_source,"
        " 'PrimaryNeedCode', e.primary_need, 'CINclosureDate', e.closure_date, 'ReasonForClosure', e.closure_reason,"
        " 'ReferralNFA', e.nfa)"
    )
    referral_flags = f"{_invalid('referral_source', REFERRAL_SOURCES)} || {_unparsed('nfa', 'nfa_p')}"
    # child_pos, episode_pos and the referral date (as written, clean, parsed) are kept for _assessments_sql.
    return f"""
        SELECT c.child_id, c.sex, c.ethnicity, c.date_of_birth, c.disabilities, c.disabled,
               e.referral_date_p AS referral_date, e.referral_source_p AS referral_source, e.nfa_p AS nfa,
               e.primary_need_p AS primary_need, e.closure_date_p AS closure_date,
               e.closure_reason_p AS closure_reason,
               'Child[' || e.child_pos || ']/CINdetails[' || e.episode_pos || ']' AS sheet,
               e.child_pos AS row_number, e.child_pos, e.episode_pos,
               e.referral_date AS referral_date_raw, e.referral_date_c,
               c.child_flags || e.referral_flags AS referral_flags,
               c.child_flags || c.disability_flags || e.referral_flags
                 || {_invalid("primary_need", PRIMARY_NEED)}
                 || {_unparsed("closure_date", "closure_date_p")}
                 || {_invalid("closure_reason", CLOSURE_REASONS)} AS episode_flags,
               nullif(concat_ws('; ',
                   CASE WHEN c.child_id IS NULL THEN 'no LAchildID' END,
                   CASE WHEN referral_date_c IS NULL THEN 'no CINreferralDate'
                        WHEN referral_date_p IS NULL THEN 'CINreferralDate is not a date' END), '') AS reason,
               {raw} AS raw
        FROM (SELECT *, {referral_flags} AS referral_flags
              FROM (SELECT *, {date_sql("referral_date_c")} AS referral_date_p,
                              {code_sql("referral_source_c", REFERRAL_SOURCES)} AS referral_source_p,
                              {bool_sql("nfa_c")} AS nfa_p,
                              {code_sql("primary_need_c", PRIMARY_NEED)} AS primary_need_p,
                              {date_sql("closure_date_c")} AS closure_date_p,
                              {code_sql("closure_reason_c", CLOSURE_REASONS)} AS closure_reason_p
                    FROM (SELECT *, {_cleaned(_EPISODE_FIELDS)} FROM _cin_raw_episodes))) e
        JOIN _cin_children c USING (child_pos)
    """


def _assessments_sql() -> str:
    """One row per Assessments with its episode's referral date, child attributes, flags and reject reason.

    The episode's referral date comes from _cin_episodes (cleaned and parsed once there)."""
    raw = (
        "json_object('LAchildID', c.la_child_id, 'CINreferralDate', e.referral_date_raw,"
        " 'AssessmentActualStartDate', a.start_date, 'AssessmentAuthorisationDate', a.authorised_date,"
        " 'AssessmentFactors', a.factors)"
    )
    return f"""
        SELECT c.child_id, c.sex, c.ethnicity, c.date_of_birth, c.disabled,
               a.start_date_p AS start_date, a.authorised_date_p AS authorised_date,
               e.referral_date, a.factors_p AS factors,
               'Child[' || a.child_pos || ']/CINdetails[' || a.episode_pos || ']/Assessments[' || a.assessment_pos || ']'
                   AS sheet,
               a.child_pos AS row_number,
               c.child_flags || c.disability_flags
                 || {_unparsed("authorised_date", "authorised_date_p")}
                 || {_flag("e.referral_date_c IS NOT NULL AND e.referral_date IS NULL", "referral_date_unparsed")}
                 || {_flag(_any_invalid("factors_p", ASSESSMENT_FACTORS), "factors_invalid")} AS flags,
               nullif(concat_ws('; ',
                   CASE WHEN c.child_id IS NULL THEN 'no LAchildID' END,
                   CASE WHEN start_date_c IS NULL THEN 'no AssessmentActualStartDate'
                        WHEN start_date_p IS NULL THEN 'AssessmentActualStartDate is not a date' END), '') AS reason,
               {raw} AS raw
        FROM (SELECT *, {date_sql("start_date_c")} AS start_date_p, {date_sql("authorised_date_c")} AS authorised_date_p,
                        {_code_list_sql("factors", ASSESSMENT_FACTORS)} AS factors_p
              FROM (SELECT *, {_cleaned(_ASSESSMENT_FIELDS)} FROM _cin_raw_assessments)) a
        JOIN (SELECT child_pos, episode_pos, referral_date, referral_date_c, referral_date_raw FROM _cin_episodes) e
          USING (child_pos, episode_pos)
        JOIN _cin_children c USING (child_pos)
    """


def _not_carried(entity: str) -> frozenset[str]:
    """The columns the CIN census does not carry (NULL), as store.schema.SOURCE_FIELDS declares."""
    return frozenset(ENTITIES[entity].column_names) - SOURCE_FIELDS[FORMAT][entity]


# Per staged table: the work table it comes from, staged column -> source column where they differ,
# and the columns the CIN census does not carry (NULL).
_STAGED_FROM: dict[str, tuple[str, dict[str, str], frozenset[str]]] = {
    "referrals": ("_cin_episodes", {"flags": "referral_flags"}, _not_carried("referrals")),
    "cin_episodes": (
        "_cin_episodes",
        {"start_date": "referral_date", "flags": "episode_flags"},
        _not_carried("cin_episodes"),
    ),
    "assessments": ("_cin_assessments", {}, _not_carried("assessments")),
}


def _insert_staged(con: duckdb.DuckDBPyConnection, entity: str) -> None:
    source, renames, absent = _STAGED_FROM[entity]
    exprs = [f"NULL AS {c}" if c in absent else f"{renames.get(c, c)} AS {c}" for c in staged_columns(entity)]
    con.execute(staged_ddl(entity))
    con.execute(f"INSERT INTO staged_{entity} SELECT {', '.join(exprs)} FROM {source} WHERE reason IS NULL")


def _stage(con: duckdb.DuckDBPyConnection) -> None:
    with in_lists_as_written(con):  # ingest.readers.base: half these statements' time for a small file
        con.execute(f"CREATE OR REPLACE TEMP TABLE _cin_children AS {_children_sql()}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _cin_episodes AS {_episodes_sql()}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _cin_assessments AS {_assessments_sql()}")
    create_staged_rejects(con)
    for entity, (source, _renames, _absent) in _STAGED_FROM.items():
        _insert_staged(con, entity)
        con.execute(
            f"INSERT INTO staged_rejects SELECT sheet, row_number, '{entity}', raw, reason"
            f" FROM {source} WHERE reason IS NOT NULL"
        )


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(scalar(con, sql))


def _notices(con: duckdb.DuckDBPyConnection, census: _Census) -> list[str]:
    h = census.header
    episodes = _count(con, "SELECT count(*) FROM _cin_raw_episodes")
    assessments = _count(con, "SELECT count(*) FROM _cin_raw_assessments")
    styles = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT sex_element FROM _cin_raw_children WHERE sex IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    sex_style = {"gendercurrent": "GenderCurrent", "sex": "Sex"}
    notices = [
        f"CIN census: Collection {_clip(h.get('Collection'))}, Year {_clip(h.get('Year'))},"
        f" ReferenceDate {_clip(h.get('ReferenceDate'))}, LEA {_clip(h.get('LEA'))};"
        f" {census.children} children, {episodes} CINdetails, {assessments} assessments;"
        f" sex coded as {' and '.join(sex_style[s] for s in styles) or 'nothing'}"
    ]
    reference = h.get("ReferenceDate") or ""
    if reference and not reference.endswith("-03-31"):
        notices.append(f"header ReferenceDate {_clip(reference)} is not 31 March, the end of a census year")
    no_episode = _count(
        con,
        "SELECT count(*) FROM _cin_raw_children c WHERE NOT EXISTS"
        " (SELECT 1 FROM _cin_raw_episodes e WHERE e.child_pos = c.child_pos)",
    )
    if no_episode:
        notices.append(f"{no_episode} child(ren) with no CINdetails: nothing to load for them")
    no_id = _count(con, "SELECT count(*) FROM _cin_children WHERE child_id IS NULL")
    if no_id:
        notices.append(f"{no_id} child(ren) without LAchildID: their rows are rejected")
    return notices


def _drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the work tables; after a failed statement the transaction is aborted and its rollback drops them."""
    try:
        for table in (*_RAW_TABLES, "_cin_children", "_cin_episodes", "_cin_assessments"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    except duckdb.TransactionException:
        pass


def read_cin_census(path: Path, con: duckdb.DuckDBPyConnection) -> ReadResult:
    """Stage a CIN census XML file as staged_referrals, staged_cin_episodes, staged_assessments (+ rejects)."""
    path = Path(path)
    try:
        _create_raw_tables(con)
        census = _stream_children(path, con)
        _stage(con)
        rows_read = _count(
            con, "SELECT 2 * (SELECT count(*) FROM _cin_raw_episodes) + (SELECT count(*) FROM _cin_raw_assessments)"
        )
        notices = _notices(con, census)
    finally:
        _drop_work_tables(con)
    return ReadResult(
        format=FORMAT,
        entities=list(STAGED_ENTITIES),
        rows_read=rows_read,
        notices=notices,
        as_of=reference_date(census.header),
    )


def reference_date(header: dict[str, str]) -> dt.date | None:
    """The census header's ReferenceDate (YYYY-MM-DD), the as-of date of a census file; None when absent or not a date."""
    try:
        return dt.date.fromisoformat((header.get("ReferenceDate") or "").strip()[:10])
    except ValueError:
        return None
