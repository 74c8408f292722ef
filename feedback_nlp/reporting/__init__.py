"""Reports on tagged comments: "you said, we did" for a patient-experience team and its board.

The flow: :mod:`.figures` counts a tagged file in one streamed pass; :mod:`.spc` turns the counts
into control charts and funnel plots; :mod:`.quotes` picks comments to quote; :mod:`.actions`
reads what the service did; :mod:`.page` (with :mod:`.charts`) writes the HTML page and
:mod:`.workbook` the tables. :func:`report` runs them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import ReportError
from ..themes import THEME_IDS
from . import quotes, spc
from .actions import COLUMNS as ACTION_COLUMNS
from .actions import read_actions
from .figures import ALL, PERIODS, Tallies, tally

# A theme with at least this many negative comments in the latest period and no action recorded
# is listed as such: the threshold below which a group is not shown, for the same reason.
MIN_NEGATIVE_UNACTIONED = spc.MIN_GROUP_COMMENTS
DEFAULT_TITLE = "Patient feedback: you said, we did"


@dataclass(frozen=True)
class Report:
    """The figures of a report, as DataFrames (what ``--tables`` writes), and what they cover.

    Attributes
    ----------
    headline : DataFrame
        One row for all comments and one a theme (``theme``: "all comments" or the id):
        ``comments``, ``share_of_comments``, ``share_positive``, ``share_neutral``,
        ``share_negative`` and the count ``negative`` in the latest period, the same with ``previous_`` for the period
        before, and ``change_`` for the differences (NaN with no earlier period).
    over_time : DataFrame
        Per theme, ``measure`` ("comments": an XmR chart; "share negative": a p'-chart), and
        period: ``period``, ``events``, ``totals``, ``value``, ``centre``, ``lower``, ``upper``,
        ``signal``, ``variation``. Empty without dates.
    groups : DataFrame
        Per ``--by`` column, theme and group: ``comments``, ``negative``, ``share``, ``shown``
        (20 or more comments), the 95% and 99.8% limits, ``position``, and the funnel's
        ``target``, ``phi`` and ``tau2``.
    quotes : DataFrame
        ``theme``, ``sentiment``, ``period``, ``quote`` (redacted).
    actions : DataFrame
        The actions file's rows (``theme``, ``group``, ``you_said``, ``we_did``, ``date``,
        ``owner``); empty without one.
    unactioned : DataFrame
        Themes with many negative comments in the latest period and no action: ``theme``,
        ``negative``, ``share_negative``.
    title, source, period, latest, previous : str
        ``period`` is "month" or "quarter"; ``latest`` and ``previous`` label the periods of the
        headline ("all comments" and "" without dates).
    rows, undated : int
    first_date, last_date : Timestamp or None
    by : tuple of str
    """

    headline: pd.DataFrame
    over_time: pd.DataFrame
    groups: pd.DataFrame
    quotes: pd.DataFrame
    actions: pd.DataFrame
    unactioned: pd.DataFrame
    title: str
    source: str
    period: str
    latest: str
    previous: str
    rows: int
    undated: int
    first_date: pd.Timestamp | None
    last_date: pd.Timestamp | None
    by: tuple[str, ...]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The figures by name, as ``--tables`` writes them (one sheet each)."""
        return {"headline": self.headline, "over_time": self.over_time, "groups": self.groups,
                "quotes": self.quotes, "actions": self.actions, "unactioned": self.unactioned}


def report(source, output=None, *, by=(), date_column: str | None = None, period: str = "month",
           actions=None, title: str = DEFAULT_TITLE, tables=None, column: str | None = None,
           sheet: str | None = None) -> Report:
    """Turn tagged comments into a report's figures; write the page (and tables) when asked.

    Parameters
    ----------
    source : path or DataFrame
        Written by ``feedback-nlp tag`` (CSV, .xlsx or Parquet), read in chunks.
    output : path or None
        The HTML page to write: one self-contained file, nothing loaded from outside it.
    by : sequence of str
        Columns whose groups are compared on funnel plots (site, service, cancer type).
    date_column : str or None
        The comments' dates, for the charts over time and the headline's change; without it the
        whole file is one period.
    period : {"month", "quarter"}
    actions : path or None
        The "you said, we did" file (CSV or .xlsx: ``theme``, ``you_said``, ``we_did``,
        ``date``, optional ``group`` and ``owner``).
    title : str
    tables : path or None
        Also write the figures as a workbook (.xlsx, a sheet each) or one CSV (a ``table`` column
        naming each row's figure).
    column : str or None
        The comment column (default: found by its name).
    sheet : str or None
        The worksheet of an .xlsx source (default: the one Excel opens on).

    Returns
    -------
    Report

    Raises
    ------
    ReportError
        A column missing from the tagged file or the actions file, or a cell that cannot be read.
    OutputFileError
        The page or tables cannot be written (nothing is left half-written).

    Example
    -------
    >>> figures = feedback_nlp.report("tagged.csv", "report.html", by=["site"],
    ...                               date_column="date")  # doctest: +SKIP
    >>> figures.headline[["theme", "comments", "share_negative"]]  # doctest: +SKIP
    """
    by = tuple(by)
    if output is not None and Path(output).suffix.lower() not in (".html", ".htm"):
        raise ReportError(output, "the page is written as HTML: name it .html")
    for name, path in (("output", output), ("tables", tables)):
        if path is not None and isinstance(source, (str, PathLike)) and Path(path).resolve() == Path(source).resolve():
            raise ReportError(source, f"the {name} file would replace the tagged file; name another")
    tallies = tally(source, by=by, date_column=date_column, period=period, column=column, sheet=sheet)
    done = read_actions(actions) if actions is not None else pd.DataFrame(columns=list(ACTION_COLUMNS))
    result = _figures(tallies, done, title=title, period=period, by=by, dated=date_column is not None)
    if tables is not None:
        from .workbook import write_tables

        write_tables(result, Path(tables))
    if output is not None:
        from .page import write_page

        write_page(result, Path(output))
    return result



def _figures(tallies: Tallies, actions: pd.DataFrame, *, title, period, by, dated) -> Report:
    overall = tallies.counts[tallies.counts["by"] == ALL]
    periods = _periods(overall["period"], period) if dated else []
    latest, previous = (periods[-1], periods[-2] if len(periods) > 1 else None) if periods else (None, None)
    headline = _headline(overall, latest, previous)
    themes = headline[headline["theme"] != ALL]
    unactioned = themes[(themes["negative"] >= MIN_NEGATIVE_UNACTIONED) & ~themes["theme"].isin(actions["theme"])]
    return Report(
        headline=headline,
        over_time=_over_time(overall, periods),
        groups=_groups(tallies.counts, by),
        quotes=quotes.choose(tallies.quotes).assign(period=lambda f: f["period"].map(_label)),
        actions=actions,
        unactioned=unactioned[["theme", "negative", "share_negative"]].reset_index(drop=True),
        title=title, source=Path(tallies.source).name if tallies.source != "a DataFrame" else tallies.source,
        period=period,
        latest=_label(latest) if latest is not None else "all comments",
        previous=_label(previous) if previous is not None else "",
        rows=tallies.rows, undated=tallies.undated,
        first_date=tallies.first_date, last_date=tallies.last_date, by=by,
    )


def _periods(values: pd.Series, period: str) -> list[pd.Period]:
    """Every period from the first dated comment's to the last's, those without comments too."""
    known = values.dropna()
    if known.empty:
        return []
    return list(pd.period_range(known.min(), known.max(), freq=PERIODS[period]))


def _label(period) -> str:
    """"Jan 2026" for a month, "Jan-Mar 2026" for a quarter (no financial-year quarter numbers
    that a reader could take either way)."""
    if period is None or pd.isna(period):
        return ""
    if period.freqstr.startswith("Q"):
        return f"{period.start_time:%b}\u2013{period.end_time:%b %Y}"
    return f"{period.start_time:%b %Y}"


def _totals(rows: pd.DataFrame) -> pd.Series:
    return rows.drop(columns=["by", "group", "period"]).sum()


def _headline(overall: pd.DataFrame, latest, previous) -> pd.DataFrame:
    now = _totals(overall if latest is None else overall[overall["period"] == latest])
    before = _totals(overall[overall["period"] == previous]) if previous is not None else None
    rows = []
    for theme in (ALL, *THEME_IDS):
        row = {"theme": theme, "period": _label(latest) if latest is not None else "all comments"}
        for prefix, totals in (("", now), ("previous_", before)):
            row |= {f"{prefix}{k}": v for k, v in _shares(totals, theme).items()}
        rows.append(row)
    frame = pd.DataFrame(rows)
    for measure in ("comments", "share_of_comments", "share_positive", "share_neutral", "share_negative"):
        frame[f"change_{measure}"] = frame[measure] - frame[f"previous_{measure}"]
    frame.insert(frame.columns.get_loc("previous_comments"), "previous_period", _label(previous))
    return frame


def _shares(totals: pd.Series | None, theme: str) -> dict[str, float]:
    if totals is None:
        return dict.fromkeys(("comments", "negative", "share_of_comments", "share_positive", "share_neutral",
                              "share_negative"), np.nan)
    comments = totals["comments"] if theme == ALL else totals[f"theme_{theme}"]
    negative = totals["negative"] if theme == ALL else totals[f"negative_{theme}"]
    positive = totals["positive"] if theme == ALL else totals[f"positive_{theme}"]
    share = (lambda x: x / comments) if comments else (lambda x: np.nan)
    return {"comments": int(comments), "negative": int(negative), "share_of_comments": comments / totals["comments"] if totals["comments"] else np.nan,
            "share_positive": share(positive), "share_neutral": share(comments - positive - negative),
            "share_negative": share(negative)}


def _over_time(overall: pd.DataFrame, periods: list) -> pd.DataFrame:
    if not periods:
        return pd.DataFrame(columns=["theme", "measure", "period", "events", "totals", "value", "centre",
                                     "lower", "upper", "signal", "variation"])
    per_period = overall.groupby("period").sum(numeric_only=True).reindex(periods, fill_value=0)
    labels = [_label(p) for p in periods]
    charts = []
    for theme in THEME_IDS:
        comments, negative = per_period[f"theme_{theme}"], per_period[f"negative_{theme}"]
        volume = spc.xmr_chart(comments.to_numpy()).assign(events=comments.to_numpy(), totals=np.nan)
        share = spc.p_prime_chart(negative.to_numpy(), comments.to_numpy()).drop(columns="sigma_z")
        for measure, chart in (("comments", volume), ("share negative", share)):
            charts.append(chart.assign(theme=theme, measure=measure, period=labels))
    frame = pd.concat(charts, ignore_index=True)
    return frame[["theme", "measure", "period", "events", "totals", "value", "centre", "lower", "upper",
                  "signal", "variation"]]


def _groups(counts: pd.DataFrame, by) -> pd.DataFrame:
    rows = []
    for by_name in by:
        per_group = counts[counts["by"] == by_name].groupby("group").sum(numeric_only=True)
        for theme in THEME_IDS:
            result, points = spc.funnel(per_group[f"negative_{theme}"], per_group[f"theme_{theme}"])
            points.insert(0, "group", per_group.index)
            rows.append(points.rename(columns={"events": "negative", "totals": "comments"}).assign(
                by=by_name, theme=theme, target=result.target, phi=result.phi, tau2=result.tau2))
    columns = ["by", "theme", "group", "comments", "negative", "share", "shown", "lower95", "upper95",
               "lower998", "upper998", "position", "target", "phi", "tau2"]
    return pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)
