"""DfE code lists the whole product shares: ethnicity, sex, referral source, need, closure, disability, age bands."""

from __future__ import annotations

# --- Ethnicity (CIN census / Annex A): 18 known codes, plus REFU and NOBT -------------------
ETHNICITY_GROUPS: dict[str, str] = {
    "WBRI": "White",
    "WIRI": "White",
    "WIRT": "White",
    "WOTH": "White",
    "WROM": "White",
    "MWBC": "Mixed",
    "MWBA": "Mixed",
    "MWAS": "Mixed",
    "MOTH": "Mixed",
    "AIND": "Asian",
    "APKN": "Asian",
    "ABAN": "Asian",
    "AOTH": "Asian",
    "BCRB": "Black",
    "BAFR": "Black",
    "BOTH": "Black",
    "CHNE": "Other",
    "OOTH": "Other",
}
ETHNICITY_NAMES: dict[str, str] = {
    "WBRI": "White British",
    "WIRI": "White Irish",
    "WIRT": "Traveller of Irish heritage",
    "WOTH": "Any other White background",
    "WROM": "Gypsy/Roma",
    "MWBC": "White and Black Caribbean",
    "MWBA": "White and Black African",
    "MWAS": "White and Asian",
    "MOTH": "Any other Mixed background",
    "AIND": "Indian",
    "APKN": "Pakistani",
    "ABAN": "Bangladeshi",
    "AOTH": "Any other Asian background",
    "BCRB": "Caribbean",
    "BAFR": "African",
    "BOTH": "Any other Black background",
    "CHNE": "Chinese",
    "OOTH": "Any other ethnic group",
    "REFU": "Refused",
    "NOBT": "Information not yet obtained",
}
ETHNICITY_KNOWN: frozenset[str] = frozenset(ETHNICITY_GROUPS)
ETHNICITY_NOT_KNOWN: frozenset[str] = frozenset({"REFU", "NOBT"})
ETHNICITY_ALL: frozenset[str] = ETHNICITY_KNOWN | ETHNICITY_NOT_KNOWN

# --- Sex: canonical M / F / U (CIN GenderCurrent 1/2/0,9; CIN Sex M/F/U; Annex A Gender) ------
SEX_CODES: frozenset[str] = frozenset({"M", "F", "U"})
GENDER_CURRENT_TO_SEX: dict[str, str] = {"1": "M", "2": "F", "0": "U", "9": "U"}

# --- Referral / contact source ------------------------------------------------------------
REFERRAL_SOURCES: dict[str, str] = {
    "1A": "Individual: family member, relative or carer",
    "1B": "Individual: acquaintance",
    "1C": "Individual: self",
    "1D": "Individual: other",
    "2A": "Schools",
    "2B": "Education services",
    "3A": "Health services: GP",
    "3B": "Health services: health visitor",
    "3C": "Health services: school nurse",
    "3D": "Health services: other primary health services",
    "3E": "Health services: A&E",
    "3F": "Health services: other",
    "4": "Housing",
    "5A": "LA services: social care",
    "5B": "LA services: other internal",
    "5C": "LA services: external",
    "5D": "LA services: early help",
    "6": "Police",
    "7": "Other legal agency",
    "8": "Other",
    "9": "Anonymous",
    "10": "Unknown",
}

# --- CIN primary need ----------------------------------------------------------------------
PRIMARY_NEED: dict[str, str] = {
    "N0": "Not stated",
    "N1": "Abuse or neglect",
    "N2": "Child's disability",
    "N3": "Parental illness or disability",
    "N4": "Family in acute stress",
    "N5": "Family dysfunction",
    "N6": "Socially unacceptable behaviour",
    "N7": "Low income",
    "N8": "Absent parenting",
    "N9": "Cases other than children in need",
}

# --- CIN reason for closure ------------------------------------------------------------------
CLOSURE_REASONS: dict[str, str] = {
    "RC1": "Adopted",
    "RC2": "Died",
    "RC3": "Child arrangements order",
    "RC4": "Special guardianship order",
    "RC5": "Transferred to services of another local authority",
    "RC6": "Transferred to adult social care",
    "RC7": "Services ceased for any other reason, including child no longer in need",
    "RC8": "Case closed after assessment, no further action",
    "RC9": "Case closed after assessment, referred to early help",
}

# --- Disability (CIN census) -----------------------------------------------------------------
DISABILITY_CODES: dict[str, str] = {
    "NONE": "No disability",
    "MOB": "Mobility",
    "HAND": "Hand function",
    "PC": "Personal care",
    "INC": "Incontinence",
    "COMM": "Communication",
    "LD": "Learning",
    "HEAR": "Hearing",
    "VIS": "Vision",
    "BEH": "Behaviour",
    "CON": "Consciousness",
    "AUT": "Autism or Asperger syndrome",
    "DDA": "Other disability under the Disability Discrimination Act",
}

# --- Age bands (as DfE publishes children-in-need figures), age at the event ---------------
AGE_BANDS: tuple[tuple[str, int | None, int | None], ...] = (
    # (label, lower age inclusive, upper age exclusive); None = open
    ("Unborn", None, 0),
    ("Under 1", 0, 1),
    ("1 to 4", 1, 5),
    ("5 to 9", 5, 10),
    ("10 to 15", 10, 16),
    ("16 and over", 16, None),
)
AGE_BAND_UNKNOWN = "Unknown"

# --- Case-recording record types (the project's own extract) ------------------------------
RECORD_TYPES: dict[str, str] = {
    "case_note": "Case note",
    "visit": "Home or statutory visit",
    "assessment": "Assessment write-up",
    "supervision": "Supervision",
    "chronology": "Chronology entry",
    "meeting": "Meeting or strategy discussion",
    "contact": "Contact record",
}
