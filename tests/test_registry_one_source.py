"""The metric registry is the one source of each measure's label and good direction, and names the functions pages call.

Pages, ui/ and the metric modules are read with `ast`: no string literal there may be a measure's label or title
(they come from `metrics.registry`), no call may pass a good direction ('up', 'down', 'neither'), and every metric function they
reference must be the very object its registry entry holds, so a rename cannot leave a label behind.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from metrics.registry import GOOD_DIRECTIONS, REGISTRY, definition_of
from ui.headlines import HEADLINES, Measure

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py"), ROOT / "dashboard.py"])
# The metric modules too (a metric that names its own output, as ethnicity_gaps labels its rows): all but the registry.
METRIC_SOURCES = sorted(p for p in (ROOT / "metrics").glob("*.py") if p.name != "registry.py")
# Calls that may pass a direction literal, and why: formatting turns a direction into words, and a move within
# normal variation is worded with no verdict at all ('neither'), whatever the measure's direction.
DIRECTION_LITERALS_ALLOWED = {("ui/formatting.py", "trend_finding", "neither")}


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every string literal with its line; an f-string with '{}' for each value it fills in."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else "{}" for v in node.values]
            yield node.lineno, "".join(str(p) for p in parts)


@functools.cache  # the registry does not change during a run: worked out once, not once per string literal
def _registry_words() -> dict[str, str]:
    """Each label (as shown with the function's defaults, and as written) and title, lower case -> its code."""
    words: dict[str, str] = {}
    for code, definition in REGISTRY.items():
        for text in (definition.title, definition.label, definition.label_for()):
            words[text.strip().lower()] = code
    return words


@functools.cache
def _label_patterns() -> dict[str, re.Pattern[str]]:
    """Each templated label as a pattern, a value being a word or two: 'Recordings written up within 10 working days'
    and 'Re-referrals within 365 days' are still labels."""
    return {
        code: re.compile(re.sub(r"\\\{\w+\\\}", r"\\S+(?: \\S+)?", re.escape(d.label)), re.IGNORECASE)
        for code, d in REGISTRY.items()
        if "{" in d.label
    }


def _label_of(text: str) -> str | None:
    """The code of the measure whose label or title `text` is (None when it is none of them)."""
    words = _registry_words()
    if text.strip().lower() in words:
        return words[text.strip().lower()]
    return next((code for code, p in _label_patterns().items() if p.fullmatch(text.strip())), None)


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _dotted(node: ast.AST) -> str | None:
    """'metrics.re_referrals.re_referral_rate' for that attribute chain (None for anything else)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _metric_references(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every `metrics.<module>.<function>` the source names (pages and ui/ import metric modules whole)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and not isinstance(getattr(node, "parent", None), ast.Attribute):
            dotted = _dotted(node)
            if dotted and dotted.startswith("metrics.") and dotted.count(".") == 2:
                yield node.lineno, dotted


def test_the_sources_are_scanned() -> None:
    """The scan reads the files it means to (a moved folder would otherwise make the checks below pass vacuously)."""
    names = {_name(p) for p in SOURCES}
    assert {"pages/re_referrals_page.py", "pages/timeliness_page.py", "ui/components.py", "dashboard.py"} <= names
    assert len(_registry_words()) >= len(REGISTRY)
    assert _label_of("Recordings written up within 10 working days") == "recording_timeliness"
    assert _label_of("{} with a known ethnicity") == "ethnicity_completeness"  # f"{level} with a known ethnicity"
    assert _label_of("Local target (working days)") is None


@pytest.mark.parametrize("path", SOURCES + METRIC_SOURCES, ids=_name)
def test_no_page_writes_a_measure_label_the_registry_holds(path: Path) -> None:
    found = [
        f"{_name(path)}:{line}: {text!r} is the label of {code}"
        for line, text in _strings(_tree(path))
        if (code := _label_of(text))
    ]
    assert not found, "read the label from the registry entry (ui.headlines.Measure(...).label):\n" + "\n".join(found)


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_no_page_passes_a_good_direction(path: Path) -> None:
    found = []
    for node in ast.walk(_tree(path)):
        if not isinstance(node, ast.Call):
            continue
        arguments = [*node.args, *(k.value for k in node.keywords)]
        literals = [a.value for a in arguments if isinstance(a, ast.Constant) and a.value in GOOD_DIRECTIONS]
        found += [
            f"{_name(path)}:{node.lineno}: {_call_name(node)}(..., {value!r})"
            for value in literals
            if (_name(path), _call_name(node), value) not in DIRECTION_LITERALS_ALLOWED
        ]
        found += [
            f"{_name(path)}:{node.lineno}: {_call_name(node)}({k.arg}=...)"
            for k in node.keywords
            if k.arg in {"good_direction", "direction"} and isinstance(k.value, ast.Constant)
        ]
    assert not found, "a measure's good direction comes from its registry entry:\n" + "\n".join(found)


def test_pages_reach_an_entry_through_the_function_they_call() -> None:
    """No page looks an entry up by its code string (REGISTRY['...'], good_direction('...')): the label it shows
    would not follow the function it calls."""
    found = []
    for path in SOURCES:
        for node in ast.walk(_tree(path)):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Name | ast.Attribute)
                and (_dotted(node.value) or "").endswith("REGISTRY")
            ):
                found.append(f"{_name(path)}:{node.lineno}: REGISTRY[...]")
            if isinstance(node, ast.Call) and _call_name(node) in {"good_direction", "scope_note", "filters_text"}:
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant):
                    found.append(f"{_name(path)}:{node.lineno}: {_call_name(node)}({first.value!r})")
    assert not found, "\n".join(found)


def test_every_registry_function_is_the_one_its_module_exports() -> None:
    """Rename safety, registry side: each entry holds the object its module exports under the function's name."""
    for code, definition in REGISTRY.items():
        function = definition.function
        module = importlib.import_module(function.__module__)
        assert getattr(module, function.__name__, None) is function, f"{code}: {definition.function_name} is stale"
        assert inspect.isfunction(function), code


def test_every_metric_function_a_page_calls_is_the_registry_s() -> None:
    """Rename safety, page side: each metric function pages and ui/ name is the object its registry entry holds,
    so the label, direction and scope they show are the called function's."""
    registered = {d.function_name: d.function for d in REGISTRY.values()}
    called = []
    for path in SOURCES:
        tree = _tree(path)
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                child.parent = node  # type: ignore[attr-defined]
        for line, dotted in _metric_references(tree):
            module_name, _, name = dotted.rpartition(".")
            target = getattr(importlib.import_module(module_name), name, None)
            assert target is not None, f"{_name(path)}:{line}: {dotted} does not exist"
            if dotted in registered:
                assert target is registered[dotted], f"{_name(path)}:{line}: {dotted} is not the registry's function"
                called.append(dotted)
    for measure in (*HEADLINES, Measure(REGISTRY["re_referral_rate"].function)):
        assert definition_of(measure.function).function is measure.function
    assert len(set(called)) >= 15, sorted(set(called))  # the pages call most measures; the scan found them


def test_a_function_the_registry_does_not_hold_has_no_label() -> None:
    def renamed(*args: object, **kwargs: object) -> None:
        return None

    with pytest.raises(LookupError, match="renamed is not a registered measure"):
        Measure(renamed).label  # noqa: B018 (the property is what is tested)


def test_labels_take_the_call_s_parameters_and_the_function_s_defaults() -> None:
    recording = REGISTRY["recording_timeliness"]
    assert recording.label_for() == "Recordings written up within 5 working days"  # the default in its signature
    assert recording.label_for(target_wd=7) == "Recordings written up within 7 working days"
    assert REGISTRY["ethnicity_completeness"].label_for(level="child") == "Children with a known ethnicity"
    assert REGISTRY["re_referral_rate"].label_for(lookback="365_days") == "Re-referrals within 365 days"
    assert REGISTRY["re_referral_rate"].label_for() == "Re-referrals within 12 months"
    assert REGISTRY["closure_to_re_referral"].label_for() == REGISTRY["closure_to_re_referral"].title
    for code, definition in REGISTRY.items():
        assert "{" not in definition.label_for(), f"{code}: a label names a parameter its function does not take"


def test_charts_and_csv_headings_come_from_the_entry() -> None:
    rate = REGISTRY["re_referral_rate"]
    assert rate.value_title == "% of referrals"
    assert rate.headings() == {
        "numerator": "Re-referrals (numerator)",
        "denominator": "Referrals (denominator)",
        "rate": "Rate (%)",
    }
    for code, definition in REGISTRY.items():
        if definition.kind == "rate" and definition.unit == "%":
            assert definition.counted and definition.records, f"{code}: CSV headings need counted and records"


def test_a_measure_csv_is_headed_by_its_registry_entry() -> None:
    import io

    import pandas as pd

    from ui.downloads import csv_bytes, tidy_frame

    measure = Measure(REGISTRY["assessment_timeliness"].function, {"clock": "start"})
    frame = pd.DataFrame({"team": ["North"], "numerator": [9], "denominator": [10], "rate": [90.0]})
    tidy = tidy_frame(frame, measure=measure.label, period="Apr 2024 – Mar 2025")
    back = pd.read_csv(io.StringIO(csv_bytes(tidy, measure.definition.headings()).decode("utf-8-sig")), dtype=str)
    assert list(back.columns) == [
        "Measure",
        "Period",
        "Team",
        "Assessments in time (numerator)",
        "Assessments (denominator)",
        "Rate (%)",
    ]
    assert back["Measure"].iloc[0] == "Assessments within 45 working days"


def test_a_page_whose_function_is_not_the_registry_s_fails(
    monkeypatch: pytest.MonkeyPatch, dashboard_store: Path
) -> None:
    """A metric function swapped for another object (a rename that left an alias behind, a wrapper) has no entry:
    the page that shows it fails its test instead of showing a label that belongs to something else."""
    from test_metrics_by_reference import run_page

    import metrics.front_door

    store = dashboard_store  # the fixture store, built once for the run (conftest.py)
    original = metrics.front_door.repeat_contacts
    at = run_page(monkeypatch, store, "pages/front_door_page.py")
    assert not at.exception
    monkeypatch.setattr(metrics.front_door, "repeat_contacts", lambda *args, **kwargs: original(*args, **kwargs))
    at = run_page(monkeypatch, store, "pages/front_door_page.py")
    assert at.exception
