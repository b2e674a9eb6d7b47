"""How tests/data/dfe_cin_expected.json was made: the DfE CIN validator (pip csc-validator-be-cin==0.1.13, numpy<2, in its own venv) run on the eight sample files; not run by the tests."""
import importlib, json, sys, re
import xml.etree.ElementTree as ET
from pathlib import Path
from cin_validator import cin_validator

def ruleset_for(year: int) -> str:
    start = max(year - 1, 2022)
    return f"cin{start}_{(start + 1) % 100:02d}"

out = {}
for path in sorted(Path("/work/shared/samples/cin_census").glob("*.xml")):
    root = ET.parse(path).getroot()
    year = int(root.find("Header/CollectionDetails/Year").text)
    rs = ruleset_for(year)
    data = cin_validator.process_data(cin_validator.convert_data(root))
    reg = importlib.import_module(f"cin_validator.rules.{rs}").registry
    v = cin_validator.CinValidator(data, reg)
    df = v.full_issue_df
    per = {}
    for code, g in df.groupby("rule_code"):
        per[str(code)] = sorted({str(c) for c in g["child_id"].dropna()})
        if str(code) == "100":
            per["100"] = ["Header"]
    out[path.name] = {"ruleset": rs, "rules": per}
    print(path.name, rs, {k: len(v) for k, v in per.items()}, file=sys.stderr)
import cin_validator as cv, importlib.metadata as md
out = {"_provenance": f"csc-validator-be-cin {md.version('csc-validator-be-cin')} (CinValidator, full_issue_df child_id per rule_code; rule 100 as Header), ruleset by header Year: max(Year-1, 2022)_(Year)", **out}
json.dump(out, open("/tmp/dfe/dfe_results.json", "w"), indent=1)
# The JSON keeps, per file, only the codes in expectations/dfe_cin/registry.py (the rule 100 line above is moot:
# header-level issues never reach full_issue_df; rule 100 is derived by hand in tests/test_dfe_cin_samples.py).
