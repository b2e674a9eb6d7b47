"""Which columns of each canonical table are the dates of events (for as-of, coverage and checks)."""

from __future__ import annotations

# The date that places a row in time (first) and any other event dates it carries.
EVENT_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "contacts": ("contact_date",),
    "referrals": ("referral_date",),
    "assessments": ("start_date", "authorised_date"),
    "cin_episodes": ("start_date", "closure_date"),
    "recordings": ("event_date",),
}

PRIMARY_DATE: dict[str, str] = {entity: cols[0] for entity, cols in EVENT_DATE_COLUMNS.items()}
