"""Counting a tagged file: comments, themes and sentiment per period and group, in one pass.

A file written by ``feedback-nlp tag`` is read a chunk at a time (:class:`~feedback_nlp.tables.TableReader`);
each chunk is reduced to counts per (grouping column, group, period) and a few quote candidates,
so memory stays flat however many rows the file has.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..exceptions import ColumnError, ReportError, SettingError
from ..tables import TableReader, find_text_column
from ..themes import SENTIMENTS, THEME_IDS
from . import quotes

CHUNK_ROWS = 50_000
PERIODS = {"month": "M", "quarter": "Q"}
TAG_COLUMNS = ("themes", "sentiment", "flags")
ALL = "all comments"  # the ``by`` of the counts over the whole file
BLANK_GROUP = "(blank)"


@dataclass(frozen=True)
class Tallies:
    """What a tagged file holds, counted.

    Attributes
    ----------
    counts : DataFrame
        One row per ``by`` (:data:`ALL`, or a grouping column), ``group`` and ``period`` (a
        pandas Period; NaT when the file has no date column or the row no date): ``comments``,
        ``positive``, ``neutral``, ``negative``, and per theme ``theme_<id>`` (comments with it),
        ``negative_<id>`` and ``positive_<id>``.
    quotes : DataFrame
        Quote candidates (see :mod:`feedback_nlp.reporting.quotes`), not yet redacted.
    rows, undated : int
        Rows read, and rows whose date cell was blank.
    first_date, last_date : Timestamp or None
    source : str
        The file's name, or "a DataFrame".
    """

    counts: pd.DataFrame
    quotes: pd.DataFrame
    rows: int
    undated: int
    first_date: pd.Timestamp | None
    last_date: pd.Timestamp | None
    source: str


def count_columns() -> list[str]:
    """The count columns of :attr:`Tallies.counts`, in order."""
    per_theme = [f"{kind}_{t}" for t in THEME_IDS for kind in ("theme", "negative", "positive")]
    return ["comments", *SENTIMENTS, *per_theme]


def tally(source, *, by=(), date_column: str | None = None, period: str = "month",
          column: str | None = None, sheet: str | None = None,
          chunk_rows: int = CHUNK_ROWS) -> Tallies:
    """Count a tagged table (a path to CSV, Excel or Parquet, or a DataFrame) in one pass.

    Parameters
    ----------
    source : path or DataFrame
        Written by ``feedback-nlp tag``: it must have ``themes``, ``sentiment`` and ``flags``.
    by : sequence of str
        Columns to compare groups by (site, service, cancer type).
    date_column : str or None
        The column with each comment's date; None counts the whole file as one period.
    period : {"month", "quarter"}
    column : str or None
        The comment column (default: found by its name, as ``tag`` finds it).

    Raises
    ------
    ReportError
        A column is missing, or a cell of ``themes``, ``sentiment`` or the date column cannot be
        read; the message names the file, the row (1 = the first row under the header) and column.
    """
    if period not in PERIODS:
        raise SettingError("period", f"one of {sorted(PERIODS)}", period)
    chunks, columns, name = _chunks(source, sheet, chunk_rows)
    text_column = _check_columns(name, columns, by, date_column, column)
    counts, pool = [], quotes.empty()
    rows = undated = 0
    first = last = None
    for chunk in chunks:
        chunk.index = pd.RangeIndex(rows + 1, rows + 1 + len(chunk))  # row numbers, for errors
        rows += len(chunk)
        themes, sentiment = _themes(chunk, name), _sentiment(chunk, name)
        if date_column is None:
            when = pd.Series(pd.NaT, index=chunk.index, dtype=f"period[{PERIODS[period]}]")
        else:
            dates = parse_dates(chunk[date_column], name, date_column)
            undated += int(dates.isna().sum())
            if dates.notna().any():
                first = min(filter(None, (first, dates.min())))
                last = max(filter(None, (last, dates.max())))
            when = dates.dt.to_period(PERIODS[period])
        indicators = _indicators(themes, sentiment)
        groups = [(ALL, pd.Series(ALL, index=chunk.index))] + [(b, _groups(chunk[b])) for b in by]
        for by_name, group in groups:
            summed = indicators.groupby([group.rename("group"), when.rename("period")],
                                        dropna=False, sort=False, observed=True).sum()
            counts.append(summed.reset_index().assign(by=by_name))
        flags = chunk["flags"].fillna("").astype(str)
        found = quotes.candidates(
            chunk[text_column], themes, sentiment, _scores(chunk), flags, _review(chunk), when)
        pool = quotes.merge(pool, found)  # a few rows, however long the file
    if rows == 0:
        raise ReportError(name, "no comments to report on (the file has a header only)")
    total = pd.concat(counts, ignore_index=True).groupby(["by", "group", "period"], dropna=False, sort=False)
    counted = total[count_columns()].sum().reset_index()
    order = {b: i for i, b in enumerate([ALL, *by])}
    counted = counted.sort_values(["by", "group", "period"], key=lambda s: s.map(order) if s.name == "by" else s)
    return Tallies(counted.reset_index(drop=True), pool, rows, undated, first, last, name)


def _chunks(source, sheet, chunk_rows):
    if isinstance(source, pd.DataFrame):
        frames = (source.iloc[i:i + chunk_rows].copy() for i in range(0, len(source), chunk_rows))
        return frames, [str(c) for c in source.columns], "a DataFrame"
    if not isinstance(source, (str, PathLike)):
        raise TypeError(f"expected a path or a DataFrame, got {type(source).__name__}")
    reader = TableReader(Path(source), sheet=sheet, chunk_rows=chunk_rows)
    return reader, reader.columns, str(source)


def _check_columns(name, columns, by, date_column, column) -> str:
    for needed in TAG_COLUMNS:
        if needed not in columns:
            raise ReportError(name, f"no column {needed!r}: report on a file written by "
                              f"'feedback-nlp tag'; the columns are {list(columns)}")
    for wanted, option in [*((b, "--by") for b in by), (date_column, "--date-column")]:
        if wanted is not None and wanted not in columns:
            raise ReportError(name, f"no column {wanted!r} (given with {option}); the columns are "
                              f"{list(columns)}")
    try:
        return find_text_column(columns, column)
    except ColumnError as err:
        raise ReportError(name, str(err)) from None


def _themes(chunk: pd.DataFrame, name: str) -> dict[str, pd.Series]:
    """Each theme id to a boolean Series; an id the label set does not have is refused."""
    # Split once in Arrow and compare ids: five regular expressions a row took twice as long
    cells = pa.array(chunk["themes"].fillna("").astype(str), type=pa.string())
    ids = pc.split_pattern(cells, ";")
    flat, parents = pc.utf8_trim_whitespace(pc.list_flatten(ids)), pc.list_parent_indices(ids).to_numpy()
    unknown = pc.and_(pc.not_equal(flat, ""), pc.invert(pc.is_in(flat, value_set=pa.array(THEME_IDS))))
    if pc.any(unknown).as_py():
        where = parents[np.flatnonzero(unknown.to_numpy(zero_copy_only=False))[0]]
        raise ReportError(name, f"unknown theme in {cells[where].as_py()!r}; the themes are {list(THEME_IDS)}",
                          row=int(chunk.index[where]), column="themes")
    has = {}
    for t in THEME_IDS:
        mask = np.zeros(len(chunk), dtype=bool)
        mask[parents[pc.equal(flat, t).to_numpy(zero_copy_only=False)]] = True
        has[t] = pd.Series(mask, index=chunk.index)
    return has


def _sentiment(chunk: pd.DataFrame, name: str) -> pd.Series:
    sentiment = chunk["sentiment"].fillna("").astype(str)
    wrong = ~sentiment.isin(SENTIMENTS)
    if wrong.any():
        row = wrong.idxmax()
        raise ReportError(name, f"sentiment {sentiment[row]!r} is not one of {list(SENTIMENTS)}",
                          row=row, column="sentiment")
    return sentiment


def _indicators(themes: dict[str, pd.Series], sentiment: pd.Series) -> pd.DataFrame:
    feeling = {s: sentiment == s for s in SENTIMENTS}
    columns = {"comments": pd.Series(1, index=sentiment.index), **feeling}
    for t, has in themes.items():
        columns |= {f"theme_{t}": has, f"negative_{t}": has & feeling["negative"],
                    f"positive_{t}": has & feeling["positive"]}
    return pd.DataFrame(columns).astype("int64")


def _groups(values: pd.Series) -> pd.Series:
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    return text.mask(text == "", BLANK_GROUP)


def _scores(chunk: pd.DataFrame) -> dict[str, pd.Series | None]:
    return {t: chunk[f"score_{t}"] if f"score_{t}" in chunk else None for t in THEME_IDS}


def _review(chunk: pd.DataFrame) -> pd.Series:
    if "needs_review" not in chunk:
        return pd.Series(False, index=chunk.index)
    return chunk["needs_review"].astype(str).str.lower().isin(["true", "1"])


def parse_dates(values: pd.Series, name: str, column: str) -> pd.Series:
    """Dates from a column: date cells (Excel, Parquet), ISO 8601 text, or UK day-first text
    (31/01/2026, with or without a time). Blank cells are NaT.

    Raises
    ------
    ReportError
        A cell that is not blank and reads as no date, naming its row (the Series' index).
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return _naive(values)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if values.dtype == object:  # Excel's cells: dates, text, numbers
        cells = values.where(values.notna(), "")
        dated = cells.map(lambda v: not isinstance(v, str))
        parsed = _naive(pd.to_datetime(cells.where(dated), errors="coerce")) if dated.any() else parsed
        values = cells.map(lambda v: v if isinstance(v, str) else "")
    text = values.fillna("").astype(str).str.strip()
    iso = pd.to_datetime(text.where(text != ""), format="ISO8601", errors="coerce", utc=True)
    parsed = parsed.fillna(_naive(iso))
    missing = parsed.isna() & (text != "")
    if missing.any():
        uk = pd.to_datetime(text[missing].str.split().str[0], format="%d/%m/%Y", errors="coerce")
        parsed[missing] = uk
    wrong = parsed.isna() & (text != "")
    if wrong.any():
        row = wrong.idxmax()
        raise ReportError(name, f"{text[row]!r} is not a date; write dates as 2026-01-31 or "
                          "31/01/2026", row=row, column=column)
    return parsed



def _naive(dates: pd.Series) -> pd.Series:
    dates = pd.to_datetime(dates)
    return dates.dt.tz_convert(None) if dates.dt.tz is not None else dates

