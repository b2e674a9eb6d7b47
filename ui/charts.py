"""Pure chart functions: data frame in, plotly figure out, all in one house template with the Okabe–Ito palette.

Each figure is built as plain traces and a layout and made into a `go.Figure` once: plotly validates every property
on each `update_layout`, `update_xaxes` or `add_trace` call, which cost ten times the figure itself."""

from __future__ import annotations

import functools
import textwrap
from html import escape
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from metrics.params import MIN_DENOMINATOR

# Okabe & Ito (2008): distinguishable with the common forms of colour-blindness.
OKABE_ITO: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, YELLOW, BLACK = OKABE_ITO
GREY = "#8C8C8C"
# Chart text colour, set on each figure (not only in the template) so that Streamlit's chart theme, whose grey
# axis labels are #808495 (3.8:1 on white), does not replace it: #1F2933 is 14.7:1 (WCAG 1.4.3).
INK = "#1F2933"
TEMPLATE = "frontdoor"

# SPC signals are marked by a diamond and a word beside it as well as by colour (WCAG 1.4.1).
SIGNAL_WORD = {"above": "above limit", "below": "below limit", "run": "run", "trend": "trend"}
SIGNAL_TEXT = {
    "above": "above the upper control limit",
    "below": "below the lower control limit",
    "run": "part of a run on one side of the centre line",
    "trend": "part of a steady rise or fall",
}


def _register_template() -> None:
    layout = go.Layout(
        colorway=list(OKABE_ITO),
        font=dict(family="Source Sans Pro, Arial, sans-serif", size=13, color="#1F2933"),
        title=dict(font=dict(size=16), x=0, xanchor="left", yref="container", y=1, yanchor="top", pad=dict(t=10)),
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=10, r=10, t=60, b=10),
        xaxis=dict(showgrid=False, linecolor="#B0B7BF", ticks="outside"),
        yaxis=dict(gridcolor="#E6E9EC", zeroline=False),
        legend=dict(orientation="h", yanchor="bottom", y=1.01, x=0, title_text="", traceorder="normal"),
        hoverlabel=dict(bgcolor="white"),
    )
    pio.templates[TEMPLATE] = go.layout.Template(layout=layout)


_register_template()


def plain(text: object) -> str:
    """Text from the data made safe for plotly, which reads a little HTML (<a href>, <b>, <br>) in titles,
    labels, legends and hover text: shown as typed, never as a link or markup."""
    return escape(str(text), quote=False)


def wrap_title(title: str, width: int = 90) -> str:
    """A long finding broken onto lines of about `width` characters (plotly titles do not wrap), its text shown as typed."""
    return "<br>".join(plain(line) for line in textwrap.wrap(title, width)) if title else title


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` merged into `base`, nested settings key by key (as plotly's `update_layout` merges them)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def _layout(title: str, height: int = 360) -> dict[str, Any]:
    """The house layout of a figure titled `title`, its text in INK on the axes too."""
    wrapped = wrap_title(title)
    lines = wrapped.count("<br>") + 1 if wrapped else 0
    ink = {"tickfont": {"color": INK}, "title": {"font": {"color": INK}}}
    # Room at the top for the title's lines and, under them, a one-line legend.
    return {
        "template": TEMPLATE,
        "title": {"text": wrapped, "font": {"color": INK}},
        "height": height + 22 * max(lines - 1, 0),
        "margin": {"t": 36 + 22 * lines},
        "font": {"color": INK},
        "legend": {"font": {"color": INK}},
        "xaxis": ink,
        "yaxis": {"tickfont": {"color": INK}, "title": {"font": {"color": INK}}},
    }


def _retitle(layout: dict[str, Any], title: str) -> None:
    """Give `layout` the title `title` once its figures are known, with the room at the top `_layout` makes for it."""
    titled = _layout(title)
    for key in ("title", "height", "margin"):
        layout[key] = titled[key]


@functools.cache
def _template() -> dict[str, Any]:
    """The house template as the figure's JSON carries it (what plotly's validation makes of its name)."""
    return pio.templates[TEMPLATE].to_plotly_json()


def _figure(layout: dict[str, Any], traces: list[dict[str, Any]] | None = None, **axes: dict[str, Any]) -> go.Figure:
    """The figure of `traces` (plain dicts with their `type`) on `layout`, `xaxis=`/`yaxis=` settings merged in.

    Not validated property by property here (four fifths of a figure's cost, again on every rerun of a page):
    `tests/test_dashboard_figures.py` validates every chart function's figure, and the JSON sent is the same."""
    for axis, settings in axes.items():
        _merge(layout[axis], settings)
    if layout.get("template") == TEMPLATE:
        layout["template"] = _template()
    if not _VALIDATE:  # columns as plotly's checks leave them: arrays, not pandas objects
        traces = [{k: _array(v) for k, v in trace.items()} for trace in traces or []]
    return go.Figure(data=traces or [], layout=layout, _validate=_VALIDATE)


def _array(value: Any) -> Any:
    return value.to_numpy() if isinstance(value, pd.Series | pd.Index) else value


_VALIDATE = False  # True: plotly checks each property as it builds the figure (tests compare the two)


def _band(layout: dict[str, Any], x0: object, x1: object, colour: str, opacity: float, text: str, **more: Any) -> None:
    """A shaded band across the plot from `x0` to `x1`, labelled at its top left (plotly's `add_vrect`)."""
    layout.setdefault("shapes", []).append(
        {
            "type": "rect",
            "xref": "x",
            "yref": "y domain",
            "x0": x0,
            "x1": x1,
            "y0": 0,
            "y1": 1,
            "fillcolor": colour,
            "opacity": opacity,
            "line": {"width": 0},
        }
    )
    layout.setdefault("annotations", []).append(
        {
            "text": text,
            "showarrow": False,
            "x": x0,
            "xref": "x",
            "y": 1,
            "yref": "y domain",
            "xanchor": "left",
            "yanchor": "top",
            **more,
        }
    )


def _counts(frame: pd.DataFrame) -> list[list[object]]:
    num = frame["numerator"] if "numerator" in frame else pd.Series([None] * len(frame), index=frame.index)
    den = frame["denominator"] if "denominator" in frame else pd.Series([None] * len(frame), index=frame.index)
    return [[_int(n), _int(d)] for n, d in zip(num, den)]


def _int(value: Any) -> object:
    try:
        return int(value)
    except (TypeError, ValueError):
        return "–"


RATE_TITLE = "Rate (%)"  # the value axis when no measure says what its rate is of


def rate_hover(of: str = "", *, axis: str = "y", more: str = "") -> str:
    """The hover of a rate on `axis`: the rate and its counts, 'of' what the measure counts (its registry `records`),
    then `more` (another line of hover text)."""
    noun = f" {plain(of)}" if of else ""
    return f"%{{{axis}:.1f}}%<br>%{{customdata[0]:,}} of %{{customdata[1]:,}}{noun}{more}<extra></extra>"


RATE_HOVER = rate_hover()


def trend_chart(
    frame: pd.DataFrame,
    title: str,
    *,
    y_title: str = RATE_TITLE,
    of: str = "",
    height: int = 360,
    signal_words: bool = True,
) -> go.Figure:
    """A monthly rate with numerator and denominator ('of' what) on hover, and SPC limits and signals when present."""
    return _figure(*_trend(frame, title, y_title=y_title, of=of, height=height, signal_words=signal_words))


def _trend(
    frame: pd.DataFrame, title: str, *, y_title: str, of: str, height: int, signal_words: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The layout and traces of `trend_chart`."""
    layout = _layout(title, height)
    if frame.empty:
        return layout, []
    x = pd.to_datetime(frame["month"])
    limit = dict(type="scatter", x=x, mode="lines", line=dict(color=GREY, dash="dot", width=1), hoverinfo="skip")
    traces: list[dict[str, Any]] = []
    if {"lcl", "ucl"} <= set(frame.columns):
        traces.append({**limit, "y": frame["ucl"], "name": "Control limits"})
        traces.append({**limit, "y": frame["lcl"], "name": "Lower limit", "showlegend": False})
    if "centre" in frame.columns:
        traces.append(
            dict(
                type="scatter",
                x=x,
                y=frame["centre"],
                name="Centre line",
                mode="lines",
                line=dict(color=GREY, width=1),
                hoverinfo="skip",
            )
        )
    provisional = _flag(frame, "provisional")
    traces.append(
        dict(
            type="scatter",
            x=x,
            y=frame["rate"].where(~provisional),
            name="Rate",
            mode="lines+markers",
            line=dict(color=BLUE, width=2),
            customdata=_counts(frame),
            hovertemplate="%{x|%b %Y}: " + rate_hover(of),
        )
    )
    _mark_incomplete(layout, traces, frame, provisional, of)
    if "signal" in frame.columns:
        flagged = frame[frame["signal"].notna()]
        if not flagged.empty:
            traces.append(
                dict(
                    type="scatter",
                    x=pd.to_datetime(flagged["month"]),
                    y=flagged["rate"],
                    name="SPC signal",
                    mode="markers+text" if signal_words else "markers",
                    text=[SIGNAL_WORD.get(str(s), str(s)) for s in flagged["signal"]],
                    textposition="top center",
                    textfont=dict(color=BLACK, size=11),
                    marker=dict(color=VERMILION, size=11, symbol="diamond", line=dict(color="white", width=1)),
                    customdata=[
                        [*c, SIGNAL_TEXT.get(str(s), str(s))] for c, s in zip(_counts(flagged), flagged["signal"])
                    ],
                    hovertemplate="%{x|%b %Y}: " + rate_hover(of, more="<br>Signal: %{customdata[2]}"),
                )
            )
    _merge(layout["yaxis"], {"title": {"text": y_title}, "rangemode": "tozero", "ticksuffix": "%"})
    _merge(layout["xaxis"], {"dtick": "M1", "tickformat": "%b\n%Y"})
    return layout, traces


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    """A boolean column of the frame (all False when absent)."""
    if column not in frame:
        return pd.Series(False, index=frame.index)
    return frame[column].fillna(False).astype(bool)


def _month_end(month: object) -> pd.Timestamp:
    return pd.Timestamp(month) + pd.offsets.MonthBegin(1)


def _mark_incomplete(
    layout: dict[str, Any], traces: list[dict[str, Any]], frame: pd.DataFrame, provisional: pd.Series, of: str = ""
) -> None:
    """Provisional months as hollow markers on a shaded band; months mostly not recorded as a labelled band, no point."""
    if provisional.any():
        part = frame[provisional]
        traces.append(
            dict(
                type="scatter",
                x=pd.to_datetime(part["month"]),
                y=part["rate"],
                name="Provisional (not yet due)",
                mode="markers",
                marker=dict(color=BLUE, size=10, symbol="circle-open", line=dict(color=BLUE, width=2)),
                customdata=_counts(part),
                hovertemplate="%{x|%b %Y} (provisional): " + rate_hover(of),
            )
        )
        _band(
            layout,
            pd.Timestamp(part["month"].iloc[0]) - pd.Timedelta(days=15),
            _month_end(part["month"].iloc[-1]) - pd.Timedelta(days=15),
            GREY,
            0.12,
            "provisional",
        )
    unrecorded = _flag(frame, "mostly_not_recorded")
    for month in frame.loc[unrecorded, "month"]:
        _band(
            layout,
            pd.Timestamp(month) - pd.Timedelta(days=15),
            _month_end(month) - pd.Timedelta(days=15),
            ORANGE,
            0.15,
            "mostly not recorded",
            textangle=-90,
        )


def sparkline(frame: pd.DataFrame, title: str = "") -> go.Figure:
    """A small monthly trend for a headline tile, SPC signals marked, hover with the counts."""
    layout, traces = _trend(frame, title, y_title=RATE_TITLE, of="", height=120, signal_words=False)
    _merge(
        layout,
        {"showlegend": False, "margin": dict(l=0, r=0, t=24 if title else 4, b=0), "title": {"font": {"size": 12}}},
    )
    return _figure(layout, traces, xaxis={"visible": False}, yaxis={"visible": False, "rangemode": "normal"})


def bar_labels(frame: pd.DataFrame, min_denominator: int = MIN_DENOMINATOR) -> list[str]:
    """Each bar's text: the rate and its n; a group under `min_denominator` says it is too few to rank."""
    out = []
    for rate, den in zip(frame["rate"], frame["denominator"] if "denominator" in frame else [None] * len(frame)):
        n = _int(den)
        text = f"{rate:.1f}% (n={n})" if pd.notna(rate) else f"n={n}"
        out.append(text + (" too few to rank" if isinstance(n, int) and n < min_denominator else ""))
    return out


def _inside_when_long(rates: pd.Series) -> list[str]:
    """Text inside the longest bars (so it is not cut off at the right edge), outside the others."""
    top = float(rates.max()) if rates.notna().any() else 0.0
    return ["inside" if pd.notna(r) and top and r > 0.6 * top else "outside" for r in rates]


def breakdown_bar(
    frame: pd.DataFrame,
    dimension: str,
    title: str,
    *,
    overall: float | None = None,
    labels: dict[str, str] | None = None,
    min_denominator: int = MIN_DENOMINATOR,
    value_title: str = RATE_TITLE,
    of: str = "",
) -> go.Figure:
    """Rate by team, worker, source...: horizontal bars with the rate and n on each, the overall rate as a line.

    Groups under `min_denominator` are grey and say they are too few to rank."""
    rows = max(len(frame), 1)
    layout = _layout(title, height=max(220, 60 + 28 * rows))
    if frame.empty:
        return _figure(layout)
    data = frame.sort_values("rate", na_position="first")
    names = [plain(labels.get(str(v), str(v)) if labels else v) for v in data[dimension].fillna("Not recorded")]
    small = (
        data["denominator"].fillna(0) < min_denominator if "denominator" in data else pd.Series(False, index=data.index)
    )
    bars = dict(
        type="bar",
        x=data["rate"],
        y=names,
        orientation="h",
        customdata=_counts(data),
        marker=dict(color=[GREY if s else BLUE for s in small]),
        text=bar_labels(data, min_denominator),
        cliponaxis=False,
        textposition=_inside_when_long(data["rate"]),
        insidetextfont=dict(color="white"),
        hovertemplate="%{y}: " + rate_hover(of, axis="x"),
    )
    if overall is not None and pd.notna(overall):
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "x",
                "yref": "y domain",
                "x0": overall,
                "x1": overall,
                "y0": 0,
                "y1": 1,
                "line": dict(color=ORANGE, dash="dash", width=2),
            }
        ]
        layout["annotations"] = [
            {
                "text": f"All: {overall:.1f}%",
                "showarrow": False,
                "x": overall,
                "xref": "x",
                "y": 1,
                "yref": "y domain",
                "xanchor": "center",
                "yanchor": "bottom",
                "font": {"color": INK},
            }
        ]
    return _figure(
        layout,
        [bars],
        xaxis={"title": {"text": value_title}, "ticksuffix": "%", "rangemode": "tozero"},
        yaxis={"type": "category"},
    )


def benchmark_chart(frame: pd.DataFrame, title: str, *, highlight: str | None = None) -> go.Figure:
    """Published rate by year for the authority, England, the region and the statistical neighbours."""
    layout = _layout(title)
    if frame.empty:
        return _figure(layout)
    traces = []
    for i, (area, rows) in enumerate(frame.sort_values("year").groupby("area", sort=False)):
        strong = area == highlight
        custom = [
            [_int(n), _int(d)]
            for n, d in zip(rows.get("re_referrals", rows["rate"] * 0), rows.get("referrals", rows["rate"] * 0))
        ]
        traces.append(
            dict(
                type="scatter",
                x=[f"{y - 1}-{y % 100:02d}" for y in rows["year"].astype(int)],
                y=rows["rate"],
                name=plain(area),
                mode="lines+markers",
                line=dict(width=4 if strong else 2, color=OKABE_ITO[i % len(OKABE_ITO)]),
                customdata=custom,
                hovertemplate=f"{plain(area)} %{{x}}: " + RATE_HOVER,
            )
        )
    return _figure(
        layout,
        traces,
        yaxis={"title": {"text": RATE_TITLE}, "ticksuffix": "%", "rangemode": "tozero"},
        xaxis={"type": "category", "title": {"text": "Year ending 31 March"}},
    )


def count_bar(
    frame: pd.DataFrame,
    category: str,
    value: str,
    title: str,
    *,
    share: str | None = None,
    labels: dict[str, str] | None = None,
) -> go.Figure:
    """Counts by band or category, in the frame's order, with the share on hover when given."""
    layout = _layout(title)
    if frame.empty:
        return _figure(layout)
    names = [plain(labels.get(str(v), str(v)) if labels else v) for v in frame[category]]
    custom = list(frame[share]) if share else [None] * len(frame)
    hover = "%{x}: %{y:,}" + ("<br>%{customdata:.1f}% of all" if share else "") + "<extra></extra>"
    bars = dict(type="bar", x=names, y=frame[value], marker=dict(color=BLUE), customdata=custom, hovertemplate=hover)
    return _figure(layout, [bars], xaxis={"type": "category"}, yaxis={"title": {"text": "Count"}})


COMPLETENESS_PARTS: tuple[tuple[str, str, str], ...] = (
    ("numerator", "Known code", BLUE),
    ("refused", "Refused", ORANGE),
    ("not_obtained", "Not yet obtained", SKY),
    ("missing", "Missing", VERMILION),
    ("invalid", "Invalid", PURPLE),
)


def completeness_bar(frame: pd.DataFrame, dimension: str, title: str) -> go.Figure:
    """Ethnicity recording by group: known, refused, not obtained, missing and invalid as stacked shares."""
    layout = _layout(title, height=max(260, 80 + 30 * len(frame)))
    if frame.empty:
        return _figure(layout)
    names = [
        f"{plain(v) if pd.notna(v) else 'Not recorded'} (n={_int(d)})"
        for v, d in zip(frame[dimension], frame["denominator"])
    ]
    den = frame["denominator"].replace(0, pd.NA)
    traces = []
    for column, label, colour in COMPLETENESS_PARTS:
        if column not in frame:
            continue
        share = (frame[column] / den * 100).astype(float)
        traces.append(
            dict(
                type="bar",
                y=names,
                x=share,
                name=label,
                orientation="h",
                marker=dict(color=colour),
                customdata=[[_int(n), _int(d)] for n, d in zip(frame[column], frame["denominator"])],
                hovertemplate=f"%{{y}} — {label}: "
                + "%{x:.1f}%<br>%{customdata[0]:,} of %{customdata[1]:,}<extra></extra>",
            )
        )
    layout["barmode"] = "stack"
    return _figure(
        layout,
        traces,
        xaxis={"title": {"text": "Share of records (%)"}, "ticksuffix": "%", "range": [0, 100]},
        yaxis={"type": "category"},
    )


def makeup_chart(frame: pd.DataFrame, title: str) -> go.Figure:
    """Ethnic make-up of referred children beside the child population, group by group."""
    layout = _layout(title)
    if frame.empty:
        return _figure(layout)
    groups = frame["ethnicity_group"].map(plain)
    traces = [
        dict(
            type="bar",
            x=groups,
            y=frame["share"],
            name="Referred children",
            marker=dict(color=BLUE),
            customdata=frame["referred_children"],
            hovertemplate="%{x}: %{y:.1f}% of referred children (%{customdata:,})<extra></extra>",
        )
    ]
    if "population_share" in frame and frame["population_share"].notna().any():
        traces.append(
            dict(
                type="bar",
                x=groups,
                y=frame["population_share"],
                name="Child population",
                marker=dict(color=ORANGE),
                hovertemplate="%{x}: %{y:.1f}% of the child population<extra></extra>",
            )
        )
    layout["barmode"] = "group"
    return _figure(layout, traces, yaxis={"title": {"text": "Share (%)"}, "ticksuffix": "%"})


def coverage_chart(frame: pd.DataFrame, *, table: str = "table", month: str = "month", rows: str = "rows") -> go.Figure:
    """Rows per list per month as a heat map: a gap in the history shows as a white cell."""
    lists = sorted(frame[table].astype(str).unique()) if not frame.empty else []
    gaps = _coverage_gaps(frame, table, month, rows)
    title = "Rows loaded per list and month" + (f": {gaps}" if gaps else ": no gaps between the first and last month")
    layout = _layout(title, height=max(220, 90 + 36 * len(lists)))
    if frame.empty:
        return _figure(layout)
    pivot = frame.assign(**{table: frame[table].astype(str), month: pd.to_datetime(frame[month])}).pivot_table(
        index=table, columns=month, values=rows, aggfunc="sum"
    )
    months = pd.date_range(pivot.columns.min(), pivot.columns.max(), freq="MS")
    pivot = pivot.reindex(columns=months)
    heatmap = dict(
        type="heatmap",
        z=pivot.values,
        x=months,
        y=[plain(i) for i in pivot.index],
        colorscale=[[0, "#DCEBF7"], [1, BLUE]],
        xgap=1,
        ygap=2,
        hovertemplate="%{y}, %{x|%b %Y}: %{z:,} rows<extra></extra>",
        colorbar=dict(title=dict(text="Rows")),
    )
    return _figure(layout, [heatmap], xaxis={"dtick": "M3", "tickformat": "%b\n%Y"}, yaxis={"type": "category"})


def _coverage_gaps(frame: pd.DataFrame, table: str, month: str, rows: str) -> str:
    if frame.empty:
        return ""
    notes = []
    for name, part in frame.groupby(table):
        present = pd.to_datetime(part.loc[part[rows] > 0, month])
        if present.empty:
            continue
        expected = pd.date_range(present.min(), present.max(), freq="MS")
        missing = len(set(expected) - set(present))
        if missing:
            notes.append(f"{name} has {missing} empty month{'s' if missing > 1 else ''}")
    return "; ".join(notes)


def dq_trend_chart(
    frame: pd.DataFrame, *, x: str = "load_id", y: str = "failed", group: str | None = "severity"
) -> go.Figure:
    """Failing expectations per load (by severity when given): is the data getting cleaner?"""
    layout = _layout("")  # titled by _retitle once the figures are known
    if frame.empty:
        _retitle(layout, "Failing expectations per load: no loads checked yet")
        return _figure(layout)
    order = "load_id" if "load_id" in frame else x  # loads in the order they were made, whatever the label
    frame = frame.sort_values([order, x])
    groups = frame.groupby(group, sort=True) if group and group in frame else [("Failing", frame)]
    traces = [
        dict(
            type="scatter",
            x=part[x].astype(str),
            y=part[y],
            name=plain(name),
            mode="lines+markers",
            line=dict(color=(VERMILION, ORANGE, BLUE)[i % 3]),
            hovertemplate=f"{plain(name)}, load %{{x}}: %{{y:,}}<extra></extra>",
        )
        for i, (name, part) in enumerate(groups)
    ]
    totals = frame.groupby(order, sort=True)[y].sum()
    first, last = totals.iloc[0], totals.iloc[-1]
    verb = "down" if last < first else ("up" if last > first else "unchanged")
    _retitle(
        layout,
        f"Failing expectations per load: {int(last):,} on the latest load ({verb} from {int(first):,} on the first)",
    )
    return _figure(
        layout,
        traces,
        xaxis={"type": "category", "title": {"text": "Load"}},
        yaxis={"title": {"text": "Failing expectations"}, "rangemode": "tozero"},
    )


def funnel_chart(
    frame: pd.DataFrame,
    curve: pd.DataFrame,
    dimension: str,
    title: str,
    target: float,
    *,
    value_title: str = RATE_TITLE,
    of: str = "",
) -> go.Figure:
    """Rate against denominator for each unit, with the target and the 95% and 99.8% limits narrowing as n grows."""
    layout = _layout(title, height=420)
    if frame.empty:
        return _figure(layout)
    traces = [
        dict(
            type="scatter",
            x=curve["n"],
            y=curve[f"{side}_{level}"],
            mode="lines",
            name=f"{level}% limits",
            legendgroup=level,
            showlegend=side == "upper",
            hoverinfo="skip",
            line=dict(color=GREY, dash=dash, width=1),
        )
        for level, dash in (("99.8", "dot"), ("95", "dash"))
        for side in ("upper", "lower")
        if f"{side}_{level}" in curve
    ]
    layout["shapes"] = [
        {
            "type": "line",
            "xref": "x domain",
            "yref": "y",
            "x0": 0,
            "x1": 1,
            "y0": target,
            "y1": target,
            "line": dict(color=ORANGE, width=2),
        }
    ]
    layout["annotations"] = [
        {
            "text": f"Authority: {target:.1f}%",
            "showarrow": False,
            "x": 0,
            "xref": "x domain",
            "y": target,
            "yref": "y",
            "xanchor": "left",
            "yanchor": "top",
        }
    ]
    small = frame["position"] == "too few to compare"
    outside = frame["position"].str.startswith(("above", "below"))
    names = frame[dimension].fillna("Not recorded").map(plain)
    colours = [GREY if s else (VERMILION if o else BLUE) for s, o in zip(small, outside)]
    order = frame["denominator"].rank(method="first").fillna(0).astype(int)
    traces.append(
        dict(
            type="scatter",
            x=frame["denominator"],
            y=frame["rate"],
            mode="markers+text",
            name=dimension.replace("_", " ").capitalize(),
            text=names,
            textposition=[
                "top center" if i % 2 or r < 5 else "bottom center" for i, r in zip(order, frame["rate"].fillna(0))
            ],
            marker=dict(color=colours, size=10, line=dict(color="white", width=1)),
            customdata=[[*c, p] for c, p in zip(_counts(frame), frame["position"])],
            hovertemplate="%{text}: " + rate_hover(of, more="<br>%{customdata[2]}"),
        )
    )
    return _figure(
        layout,
        traces,
        xaxis={"title": {"text": f"Number of {plain(of or 'records')} (n)"}, "rangemode": "tozero"},
        yaxis={"title": {"text": value_title}, "ticksuffix": "%", "range": _funnel_range(frame, target)},
    )


def _funnel_range(frame: pd.DataFrame, target: float) -> list[float]:
    """The y range: every unit's rate and the limits at the compared units' sizes (not the wide mouth at n=1)."""
    compared = frame[frame["position"] != "too few to compare"]
    values = [target, *frame["rate"].dropna()]
    for column in ("lower_99.8", "upper_99.8"):
        if column in compared:
            values += list(compared[column].dropna())
    low, high = min(values), max(values)
    pad = max(2.0, (high - low) * 0.12)
    return [max(0.0, low - pad), min(100.0, high + pad) + (2.0 if high + pad >= 100 else 0.0)]


def gaps_chart(frame: pd.DataFrame, title: str) -> go.Figure:
    """Each ethnic group's rate with its Wilson interval beside the rest's, one panel row per measure and group."""
    layout = _layout(title, height=max(260, 80 + 26 * len(frame)))
    if frame.empty:
        return _figure(layout)
    rows = [f"{plain(m)} — {plain(g)}" for m, g in zip(frame["label"], frame["ethnicity_group"])]
    small = frame["verdict"].str.startswith(("too few", "not read"))
    traces = []
    for name, rate, low, high, colour in (
        ("Group", "rate", "rate_lower", "rate_upper", BLUE),
        ("Everyone else", "rest_rate", "rest_lower", "rest_upper", ORANGE),
    ):
        traces.append(
            dict(
                type="scatter",
                x=frame[rate],
                y=rows,
                mode="markers",
                name=name,
                marker=dict(
                    color=[GREY if s and name == "Group" else colour for s in small],
                    size=9,
                    symbol="circle" if name == "Group" else "diamond",
                ),
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=frame[high] - frame[rate],
                    arrayminus=frame[rate] - frame[low],
                    color=colour,
                    thickness=1.5,
                ),
                customdata=[
                    [_int(n), _int(d), v]
                    for n, d, v in zip(
                        frame["numerator" if name == "Group" else "rest_numerator"],
                        frame["denominator" if name == "Group" else "rest_denominator"],
                        frame["verdict"],
                    )
                ],
                hovertemplate="%{y}: %{x:.1f}%<br>%{customdata[0]:,} of %{customdata[1]:,}<br>%{customdata[2]}"
                "<extra>" + name + "</extra>",
            )
        )
    return _figure(
        layout,
        traces,
        xaxis={"title": {"text": "Rate (%) with 95% interval"}, "ticksuffix": "%", "range": [0, 100]},
        yaxis={"type": "category", "autorange": "reversed"},
    )


RULE_TYPE_PLURAL = {"error": "errors", "query": "queries"}  # a DfE rule type as the legend names its findings


def readiness_trend_chart(frame: pd.DataFrame) -> go.Figure:
    """DfE errors and queries per CIN census file, by load date and file name: is the return getting cleaner?"""
    layout = _layout("")  # titled by _retitle once the figures are known
    if frame.empty:
        _retitle(layout, "DfE errors and queries per CIN file: no CIN census file loaded yet")
        return _figure(layout)
    traces = [
        dict(
            type="scatter",
            x=part["file"].map(plain),
            y=part["findings"],
            name=RULE_TYPE_PLURAL.get(name, name),
            mode="lines+markers",
            line=dict(color=(VERMILION, BLUE)[i % 2]),
            hovertemplate=f"{RULE_TYPE_PLURAL.get(name, name)}, %{{x}}: %{{y:,}}<extra></extra>",
        )
        for i, (name, part) in enumerate(frame.groupby("rule_type", sort=True))
    ]
    errors = frame[frame["rule_type"] == "error"]["findings"]
    latest = int(errors.iloc[-1]) if len(errors) else 0
    _retitle(
        layout, f"DfE errors and queries per CIN file: {latest:,} error{'' if latest == 1 else 's'} in the latest file"
    )
    return _figure(
        layout,
        traces,
        xaxis={"type": "category", "title": {"text": "Loaded on, file"}},
        yaxis={"title": {"text": "Findings"}, "rangemode": "tozero"},
    )
