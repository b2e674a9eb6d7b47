"""Faster SQL twins of ingest.normalise expressions, for readers that must stage millions of rows a second.

Each function gives the same result as its counterpart in ``ingest.normalise`` (tests hold them
to it over awkward values) but takes a cheap path for the common case — a value that needs no
whitespace repair, an ISO or DD/MM/YYYY date, a plain 'Yes' — and leaves the full expression to
the rest. DuckDB's ``coalesce`` and ``CASE`` evaluate a later branch only for the rows that reach
it, but its common-subexpression pass would hoist a repeated part of the slow branch out and
compute it for every row; ``lazy_sql`` wraps the slow branch in a lambda, where it is not hoisted.
"""

from __future__ import annotations

import re

from ingest.normalise import MISSING_TOKENS, bool_sql, child_id_sql, clean_text_sql, date_sql, timestamp_sql


_NEEDS_SQUEEZE = r"^ | $|[\t\n\f\r\xa0]|  "  # what clean_text_sql would change (RE2 \s is [\t\n\f\r ])


def squeeze_sql(expr: str) -> str:
    """Trimmed text with runs of whitespace and non-breaking spaces made one space, as clean_text_sql does.

    Text that needs none of it (nearly all) is passed through untouched, without a copy.
    """
    return (f"(CASE WHEN regexp_matches({expr}, '{_NEEDS_SQUEEZE}')"
            f" THEN trim(regexp_replace(replace({expr}, chr(160), ' '), '\\s+', ' ', 'g')) ELSE {expr} END)")


def missing_to_null_sql(squeezed: str) -> str:
    """NULL for blank text and for the missing tokens of ingest.normalise ('#N/A', 'NULL'... any case); else the text."""
    tokens = "|".join(re.escape(token) for token in MISSING_TOKENS if token)
    return (f"(CASE WHEN {squeezed} = '' OR regexp_full_match({squeezed}, '(?i)({tokens})')"
            f" THEN NULL ELSE {squeezed} END)")


def fast_child_id_sql(clean: str) -> str:
    """child_id_sql, run only on ids that contain a '.' (the only ones it changes)."""
    return f"(CASE WHEN contains({clean}, '.') THEN {child_id_sql(clean)} ELSE {clean} END)"


# Exact shapes the fast path casts (anything else takes the full path).
_ISO_SHAPE = {"DATE": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
              "TIMESTAMP": r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?"}
_DMY_SHAPE = {"DATE": r"[0-9]{2}/[0-9]{2}/[0-9]{4}",
              "TIMESTAMP": r"[0-9]{2}/[0-9]{2}/[0-9]{4}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?"}


def _fast_cast(text: str, type_: str) -> str:
    """A parse of text of exactly the shape 'YYYY-MM-DD[ HH:MM[:SS]]' or 'DD/MM/YYYY[ HH:MM[:SS]]', else NULL.

    The exact shape matters: DuckDB's cast is lenient elsewhere (it would read '10:00 PM' as 10:00,
    taking 'PM' for a time zone). One anchored regular expression per shape is cheap; ISO text is
    cast, DD/MM/YYYY text parsed with the one strptime format its length implies.
    """
    if type_ == "DATE":
        dmy = f"CAST(try_strptime({text}, '%d/%m/%Y') AS DATE)"
    else:
        dmy = (f"(CASE length({text}) WHEN 10 THEN try_strptime({text}, '%d/%m/%Y')"
               f" WHEN 16 THEN try_strptime({text}, '%d/%m/%Y %H:%M') ELSE try_strptime({text}, '%d/%m/%Y %H:%M:%S') END)")
    return (f"CASE WHEN regexp_full_match({text}, '{_ISO_SHAPE[type_]}') THEN TRY_CAST({text} AS {type_})"
            f" WHEN regexp_full_match({text}, '{_DMY_SHAPE[type_]}') THEN {dmy} END")


def lazy_sql(arg: str, body: str) -> str:
    """`body` (an expression of `v`) applied to `arg` inside a lambda, so that it is computed only where reached."""
    return f"list_transform([{arg}], lambda v: {body})[1]"


def _slow(raw: str, body: str) -> str:
    """The full path for a raw value, skipped for NULL (DuckDB reads an empty CSV field as NULL)."""
    return f"(CASE WHEN {raw} IS NOT NULL THEN {lazy_sql(raw, body)} END)"


def raw_date_sql(raw: str) -> str:
    """date_sql(clean_text_sql(raw)): a cast for a raw 'YYYY-MM-DD' or 'DD/MM/YYYY', the full path for the rest."""
    return f"coalesce({_fast_cast(raw, 'DATE')}, {_slow(raw, date_sql(clean_text_sql('v')))})"


def raw_timestamp_sql(raw: str) -> str:
    """timestamp_sql(clean_text_sql(raw)): a cast for a raw ISO or 'DD/MM/YYYY HH:MM[:SS]', the full path for the rest."""
    return f"coalesce({_fast_cast(raw, 'TIMESTAMP')}, {_slow(raw, timestamp_sql(clean_text_sql('v')))})"


_BOOLEANS = {"yes": True, "y": True, "true": True, "t": True, "1": True,
             "no": False, "n": False, "false": False, "f": False, "0": False}


def raw_bool_sql(raw: str) -> str:
    """bool_sql(clean_text_sql(raw)): a lookup for a raw 'Yes'/'No'/'1'/'0'..., the full path for the rest."""
    known = "MAP {" + ", ".join(f"'{k}': {str(v).lower()}" for k, v in _BOOLEANS.items()) + "}"
    return f"coalesce(map_extract_value({known}, lower({raw})), {_slow(raw, bool_sql(clean_text_sql('v')))})"


def raw_present_sql(raw: str) -> str:
    """clean_text_sql(raw) IS NOT NULL, computed only where reached (for the reasons of rows that failed)."""
    present = clean_text_sql("v") + " IS NOT NULL"
    return f"coalesce({_slow(raw, present)}, FALSE)"
