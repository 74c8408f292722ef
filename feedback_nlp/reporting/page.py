"""The report as one self-contained HTML page (Jinja2 template, inline SVG charts, inline CSS).

Nothing in the page is loaded from elsewhere: no font, script, image or style sheet address, so
it opens the same from a shared drive, an email or a machine with no network. Every text from the
data is escaped by the template (autoescape) or by :mod:`.charts`.
"""

from __future__ import annotations

import math
from pathlib import Path

import jinja2
import pandas as pd

from ..tables import write_text
from ..themes import THEMES
from . import Report, charts, spc
from .figures import ALL

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("feedback_nlp.reporting", "templates"),
    autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
)
THEME_NAMES = {t.id: t.name for t in THEMES}


def write_page(report: Report, path: Path) -> None:
    """Write the report's page to ``path`` (whole or not at all)."""
    write_text(path, render(report))


def render(report: Report) -> str:
    """The report's page as HTML text."""
    return _ENV.get_template("report.html.j2").render(
        report=report, span=_span(report), headline=_headline(report), signals=_signals(report),
        themes=_themes(report),
        groups=_groups(report), quotes=_quotes(report), actions=_actions(report),
        period_word=report.period, min_group=spc.MIN_GROUP_COMMENTS, marker=charts.legend_marker, spc=spc,
    )


def pct(value) -> str:
    """A share as "34%", or an en dash where there is none."""
    return "\u2013" if value is None or pd.isna(value) else f"{value:.0%}"


def points(change) -> str:
    """A change of share in percentage points: "+3 pts", "\u22122 pts", "no change"."""
    if change is None or pd.isna(change):
        return "\u2013"
    rounded = round(change * 100)
    return "no change" if rounded == 0 else f"{rounded:+d} pts".replace("-", "\u2212")


def _span(report: Report) -> str:
    if report.first_date is None:
        return f"{report.rows:,} comments"
    return f"{report.rows:,} comments dated {report.first_date:%d %b %Y} to {report.last_date:%d %b %Y}"


def _headline(report: Report) -> list[dict]:
    rows = []
    for row in report.headline.itertuples():
        change = row.change_comments
        relative = "\u2013" if pd.isna(change) or not row.previous_comments else f"{change / row.previous_comments:+.0%}".replace("-", "\u2212")
        rows.append({
            "name": "All comments" if row.theme == ALL else THEME_NAMES[row.theme],
            "comments": f"{row.comments:,}", "change": relative,
            "share": pct(row.share_of_comments), "share_change": points(row.change_share_of_comments),
            "positive": pct(row.share_positive), "positive_change": points(row.change_share_positive),
            "neutral": pct(row.share_neutral),
            "negative": pct(row.share_negative), "negative_change": _negative_change(row),
        })
    return rows


def _negative_change(row) -> str:
    """The change in a theme's share negative, unless either period had too few comments: a share
    of a handful of comments swings by tens of points on one comment."""
    if min(row.comments, row.previous_comments) >= spc.MIN_GROUP_COMMENTS:
        return points(row.change_share_negative)
    return "\u2013" if pd.isna(row.previous_comments) else "too few to say"


def _signals(report: Report) -> list[str]:
    """The latest period's special causes, a sentence each, for the headline."""
    latest = report.over_time[(report.over_time["period"] == report.latest) & (report.over_time["signal"] != "")]
    return [f"{THEME_NAMES[r.theme].split(':')[0]}: {'share negative' if r.measure == 'share negative' else 'number of comments'} "
            f"{pct(r.value) if r.measure == 'share negative' else f'{r.value:,.0f}'}, {r.signal} "
            f"({r.variation.split(': ')[1]})" for r in latest.itertuples()]


def _themes(report: Report) -> list[dict]:
    if report.over_time.empty:
        return []
    out = []
    for theme, rows in report.over_time.groupby("theme", sort=False):
        name = THEME_NAMES[theme]
        volume = rows[rows["measure"] == "comments"].reset_index(drop=True)
        share = rows[rows["measure"] == "share negative"].reset_index(drop=True)
        summary = _spc_words(share, f"the share of {name} comments that were negative", True)
        volume_words = _spc_words(volume, f"the number of {name} comments", False)
        out.append({
            "id": theme, "name": name, "summary": summary,
            "share_chart": charts.control_chart(share, key=f"spc-{theme}-share", percent=True,
                                                title=f"{name}: share negative per {report.period}",
                                                description=summary),
            "volume_chart": charts.control_chart(volume, key=f"spc-{theme}-count", percent=False,
                                                 title=f"{name}: comments per {report.period}",
                                                 description=volume_words),
            "rows": [{"period": s.period, "comments": f"{v.value:,.0f}", "negative": f"{s.events:,}",
                      "share": pct(s.value), "signal": _signal(s), "count_signal": _signal(v)}
                     for s, v in zip(share.itertuples(), volume.itertuples())],
            "short": len(share) < 15,
        })
    return out


def _signal(point) -> str:
    """A point's special cause in a word or two ("concern", "high"); the rule is in the text."""
    return point.variation.split(": ")[1] if point.signal else ""


def _spc_words(chart: pd.DataFrame, what: str, percent: bool) -> str:
    """A chart's text alternative: the centre, the latest point and the special causes."""
    fmt = pct if percent else (lambda v: f"{v:,.0f}")
    last = chart.iloc[-1]
    words = (f"From {chart['period'].iloc[0]} to {last['period']}, {what} averaged "
             f"{fmt(last['centre'])}, with process limits of {fmt(last['lower'])} to {fmt(last['upper'])} "
             f"in {last['period']}; in {last['period']} it was {fmt(last['value'])}. ")
    spans = []  # consecutive points breaking the same rule, said once: "Feb 2024 to Aug 2024: ..."
    for row in chart.itertuples():
        if spans and spans[-1][2] == row.signal and spans[-1][3] == row.Index - 1:
            spans[-1][1:4:2] = [row.period, row.Index]
        elif row.signal:
            spans.append([row.period, row.period, row.signal, row.Index, row.variation])
    if not spans:
        return words + "Only common-cause variation: no signal of change."
    said = "; ".join(f"{first if first == last else f'{first} to {last}'}: {signal} "
                     f"({variation.split(': ')[1]})" for first, last, signal, _, variation in spans)
    return words + f"Special-cause variation: {said}."


def _groups(report: Report) -> list[dict]:
    out = []
    for by, frame in report.groups.groupby("by", sort=False):
        figures = []
        for theme, points_ in frame.groupby("theme", sort=False):
            name = THEME_NAMES[theme]
            first = points_.iloc[0]
            funnel = spc.Funnel(first["target"], first["phi"], first["tau2"], int(points_["shown"].sum()))
            shown = points_[points_["shown"]].rename(columns={"negative": "events", "comments": "totals"})
            words = _funnel_words(shown, by, name, funnel)
            figures.append({
                "id": theme, "name": name, "words": words, "target": pct(funnel.target),
                "chart": charts.funnel_chart(shown, funnel, key=f"funnel-{_slug(by)}-{theme}",
                                             title=f"{name}: share negative by {by}", description=words)
                if not shown.empty else None,
                "rows": [{"group": r.group, "comments": f"{r.totals:,}", "negative": f"{r.events:,}",
                          "share": pct(r.share), "position": r.position}
                         for r in shown.sort_values("share", ascending=False).itertuples()],
                "hidden": int((~points_["shown"]).sum()),
                "overdispersion": _overdispersion(funnel),
            })
        outside = frame[frame["shown"] & (frame["position"] != "within")]
        summary = [f"{r.group} ({THEME_NAMES[r.theme].split(':')[0]}: {r.position.split()[0]} the "
                   f"{r.position.split()[1]} limit, {pct(r.share)} negative)" for r in outside.itertuples()]
        out.append({"by": by, "figures": figures, "outside": summary})
    return out


def _overdispersion(funnel: spc.Funnel) -> str:
    if funnel.groups < spc.MIN_GROUPS_OVERDISPERSION:
        return (f"with {funnel.groups} groups (fewer than {spc.MIN_GROUPS_OVERDISPERSION}) it cannot be "
                "estimated safely, so the limits are the plain ones")
    if funnel.tau2 > 0:
        return (f"the groups differ more than chance explains (\u03c6 = {funnel.phi:.2f}), so the limits "
                f"are widened by \u03c4 = {math.sqrt(funnel.tau2):.1%}")
    return f"the groups differ no more than chance explains (\u03c6 = {funnel.phi:.2f}): no widening"


def _funnel_words(shown: pd.DataFrame, by: str, name: str, funnel: spc.Funnel) -> str:
    words = (f"Share of {name} comments that were negative for each {by} with {spc.MIN_GROUP_COMMENTS} "
             f"or more of them ({len(shown)} groups), against {pct(funnel.target)} overall. ")
    said = []
    for position, meaning in (("above 99.8%", "above the 99.8% limit, more negative than chance explains"),
                              ("above 95%", "above the 95% limit"),
                              ("below 99.8%", "below the 99.8% limit, less negative than chance explains"),
                              ("below 95%", "below the 95% limit")):
        names = shown.loc[shown["position"] == position, "group"].tolist()
        if names:
            said.append(f"{_join(names)} {'is' if len(names) == 1 else 'are'} {meaning}")
    return words + ("; ".join(said) + "." if said else "Every group is within the limits.")


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())


def _quotes(report: Report) -> list[dict]:
    return [{"name": THEME_NAMES[t.id],
             "negative": report.quotes.query("theme == @t.id and sentiment == 'negative'").to_dict("records"),
             "positive": report.quotes.query("theme == @t.id and sentiment == 'positive'").to_dict("records")}
            for t in THEMES]


def _actions(report: Report) -> list[dict]:
    headline = report.headline.set_index("theme")
    out = []
    for t in THEMES:
        done = report.actions[report.actions["theme"] == t.id].sort_values("date", ascending=False)
        row = headline.loc[t.id]
        out.append({
            "name": t.name, "comments": f"{row['comments']:,}", "negative": pct(row["share_negative"]),
            "change": _negative_change(row),
            "actions": [{"group": a.group, "you_said": a.you_said, "we_did": a.we_did,
                         "date": f"{a.date:%d %b %Y}", "owner": a.owner} for a in done.itertuples()],
            "unactioned": t.id in set(report.unactioned["theme"]),
            "negative_count": f"{int(row['negative']):,}",
        })
    return out
