"""Reading labelled comments into one table, from the project's format or the NHS QDC v6 format.

Both readers return the same table (see :func:`read_corpus`), so training and evaluation never
need to know where a comment came from. Rows are numbered from 1 after the header, as a
spreadsheet user counts data rows, and every error names the file, row and column at fault.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import CorpusError, EmptyTextWarning, InputFileError, SettingError
from .ratings import normalise_ratings
from .tables import EXCEL_SUFFIXES, TableReader, detect_encoding, unguarded
from .themes import (
    FLAGS,
    QDC_CATEGORY_THEMES,
    QDC_PERSONAL_DATA_COLUMN,
    QDC_QUESTION_COLUMN,
    QDC_RATING_COLUMN,
    QDC_SAFEGUARDING_COLUMN,
    QDC_SENTIMENT,
    QDC_SENTIMENT_COLUMN,
    QDC_TEXT_COLUMN,
    SENTIMENTS,
    THEME_IDS,
)

FORMATS = ("auto", "project", "qdc")
PROJECT_REQUIRED = ("text", "themes", "sentiment")
CORPUS_COLUMNS = ("text", "question", "rating", *THEME_IDS, "sentiment", "flags")


def read_corpus(path: str | PathLike, format: str = "auto", *, keep=()) -> pd.DataFrame:
    """Read a file of labelled comments into the corpus table.

    Parameters
    ----------
    path : str or path-like
        A CSV file (or an ``.xlsx`` workbook, read from the sheet Excel opens on, as a review
        sheet is) in the project's format or in the NHS QDC v6 format. A CSV cell that starts
        with an apostrophe before ``=``, ``+``, ``-`` or ``@`` is read without the apostrophe,
        which the project's writers put there so that a spreadsheet shows the cell as text.
    format : {"auto", "project", "qdc"}, default "auto"
        ``"project"``: columns ``text``, ``themes`` (theme ids joined by ``;``), ``sentiment``,
        optional ``flags``, ``question`` and ``rating``. ``"qdc"``: one 0/1 column per QDC
        category, text in ``FFT answer``, the rating in ``FFT categorical answer``, mapped to
        themes as ``THEMES.md`` specifies. ``"auto"`` picks the format
        from the header and refuses a header that fits neither.
    keep : sequence of str
        Other columns of the file to keep, after the corpus columns, as they are (a service or
        site column to group figures by).

    Returns
    -------
    pandas.DataFrame
        One row per input row, in file order, with columns ``text`` (str, ``""`` when missing),
        ``question`` (str, ``""`` when absent), ``rating`` (the survey rating as text, such as
        ``"1"``, or ``None`` when absent; see :func:`feedback_nlp.model.normalise_ratings`), one
        0/1 column per theme id, ``sentiment`` (a
        sentiment class, or ``None`` when the row has none) and ``flags`` (flag ids joined by
        ``;``, ``""`` for none). ``attrs`` holds the ``source`` path and the ``format`` read.

    Raises
    ------
    CorpusError
        The file is missing, not UTF-8 CSV, lacks a required or kept column, or holds an unknown theme,
        sentiment, flag or QDC value; the message names the file, row and column.

    Warns
    -----
    EmptyTextWarning
        Some rows have an empty or missing text. They are kept (no row is dropped) and their
        row numbers are given.

    Examples
    --------
    >>> corpus = read_corpus("data/corpus.csv")  # doctest: +SKIP
    >>> corpus.columns.tolist()[:3]  # doctest: +SKIP
    ['text', 'question', 'leading_voice']
    """
    if format not in FORMATS:
        raise SettingError("format", f"one of {FORMATS}", format)
    raw = _read_table(path)
    if format == "auto":
        format = _detect_format(path, raw)
    table = _from_project(path, raw) if format == "project" else _from_qdc(path, raw)
    _require_columns(path, raw, keep)
    for column in keep:
        if column in table.columns:
            raise CorpusError(path, f"cannot keep column {column!r}: the corpus table has its own", column=column)
        table[column] = raw[column].to_numpy()
    _warn_empty_texts(path, table)
    table.attrs.update(source=str(path), format=format)
    return table


def read_safeguarding_examples(paths: str | PathLike | Sequence[str | PathLike]) -> pd.DataFrame:
    """Read comments labelled for safeguarding only, for the model's safeguarding head.

    Parameters
    ----------
    paths : str or path-like, or a sequence of them
        CSVs with a ``text`` column and a label column, ``safeguarding`` or ``label`` (the name
        the evaluation sets in ``data/eval`` use): ``1`` escalate, ``0`` not. Other columns
        (such as ``category``) are kept and not used.

    Returns
    -------
    pandas.DataFrame
        Every row, file after file, in file order: ``text`` (str) and ``safeguarding`` (bool), the
        rest as read. ``attrs["sources"]`` lists each file's ``path`` and ``rows``.

    Raises
    ------
    CorpusError
        A file cannot be read, lacks a column, has both label columns, or a label is not 0 or 1
        (naming row and column).
    """
    paths = [paths] if isinstance(paths, (str, PathLike)) else list(paths)
    if not paths or len({Path(p).resolve() for p in paths}) < len(paths):
        raise SettingError("paths", "one or more files, each once", [str(p) for p in paths])
    tables = [_read_safeguarding_file(path) for path in paths]
    table = pd.concat(tables, ignore_index=True)
    table.attrs["sources"] = [{"path": Path(p).as_posix(), "rows": len(t)} for p, t in zip(paths, tables)]
    return table


def _read_safeguarding_file(path) -> pd.DataFrame:
    raw = _read_csv(path)
    labels = [c for c in ("safeguarding", "label") if c in raw.columns]
    if "text" not in raw.columns or len(labels) != 1:
        raise CorpusError(
            path, f"expected a 'text' column and one label column, 'safeguarding' or 'label'; found {list(raw.columns)}"
        )
    [label] = labels
    bad = ~raw[label].str.strip().isin(["0", "1"])
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise CorpusError(path, f"{raw[label].iloc[row]!r} is not 0 or 1", row=row + 2, column=label)
    return raw.drop(columns=label).assign(safeguarding=raw[label].str.strip() == "1")


def _read_table(path) -> pd.DataFrame:
    """Every cell of a labelled file as text: CSV as written (without the formula guard's
    apostrophe), a workbook's cells as they show (a number 1 as "1", an empty cell as "")."""
    if Path(path).suffix.lower() in EXCEL_SUFFIXES:
        return _read_excel(path)
    return _read_csv(path).apply(lambda column: column.map(unguarded))


def _read_excel(path) -> pd.DataFrame:
    try:
        reader = TableReader(Path(path), chunk_rows=10_000)
    except InputFileError as err:
        raise CorpusError(path, str(err).removeprefix(f"{path}: ")) from None
    frames = list(reader)
    raw = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=reader.columns)
    return raw.apply(lambda column: column.map(_cell_text)).astype(object)


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_csv(path) -> pd.DataFrame:
    try:
        # UTF-8 or Windows-1252, found as tagging finds it, so a file that tags also trains.
        encoding = "utf-8-sig" if detect_encoding(path) == "utf-8" else "cp1252"
        # Everything as text, nothing turned into NaN: validation decides what a value means.
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    except FileNotFoundError:
        raise CorpusError(path, "no such file") from None
    except InputFileError as err:  # not text, or a mix of encodings; the message names the file
        raise CorpusError(path, str(err).removeprefix(f"{path}: ")) from None
    except pd.errors.EmptyDataError:
        raise CorpusError(path, "the file is empty; expected a CSV header and rows") from None
    except pd.errors.ParserError as err:
        raise CorpusError(path, f"not valid CSV: {err}") from None


def _detect_format(path, raw: pd.DataFrame) -> str:
    columns = set(raw.columns)
    if {"text", "themes"} <= columns:
        return "project"
    if QDC_TEXT_COLUMN in columns:
        return "qdc"
    raise CorpusError(
        path,
        "cannot tell the format: expected columns 'text' and 'themes' (project format) or "
        f"{QDC_TEXT_COLUMN!r} (QDC format); found {list(raw.columns)}",
    )


def _require_columns(path, raw: pd.DataFrame, required) -> None:
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise CorpusError(path, f"missing column(s) {missing}; found {list(raw.columns)}")


def _refuse_first_bad(path, bad: pd.Series, column: str, problem) -> None:
    """Raise a CorpusError for the first row marked in ``bad``; ``problem(i)`` describes row i."""
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise CorpusError(path, problem(i), row=i + 1, column=column)


def _split_ids(path, values: pd.Series, allowed, column: str) -> list[list[str]]:
    """Split ``;``-joined ids per row, refusing any id not in ``allowed``."""
    out = []
    for row, value in enumerate(values, start=1):
        ids = [part.strip() for part in value.split(";") if part.strip()]
        unknown = [i for i in ids if i not in allowed]
        if unknown:
            raise CorpusError(
                path,
                f"unknown {column} id {unknown[0]!r}; expected any of {list(allowed)}",
                row=row,
                column=column,
            )
        out.append(ids)
    return out


def _assemble(text, question, rating, theme_matrix, sentiment, flag_lists) -> pd.DataFrame:
    table = pd.DataFrame({"text": text, "question": question})
    ratings = normalise_ratings(rating) if rating is not None else [None] * len(table)
    table["rating"] = pd.Series(ratings, index=table.index, dtype=object)  # None, not NaN, when absent
    for j, theme in enumerate(THEME_IDS):
        table[theme] = theme_matrix[:, j].astype(np.int8)
    table["sentiment"] = pd.Series(sentiment, dtype=object)
    table["flags"] = [";".join(f for f in FLAGS if f in flags) for flags in flag_lists]
    return table


def _from_project(path, raw: pd.DataFrame) -> pd.DataFrame:
    _require_columns(path, raw, PROJECT_REQUIRED)
    theme_lists = _split_ids(path, raw["themes"], THEME_IDS, "themes")
    matrix = np.array([[t in ids for t in THEME_IDS] for ids in theme_lists], dtype=bool)
    matrix = matrix.reshape(len(raw), len(THEME_IDS))
    sentiment = raw["sentiment"].str.strip()
    _refuse_first_bad(
        path,
        ~sentiment.isin(SENTIMENTS) & (sentiment != ""),
        "sentiment",
        lambda i: f"unknown sentiment {sentiment.iloc[i]!r}; expected one of {list(SENTIMENTS)} or empty",
    )
    flags = raw["flags"] if "flags" in raw.columns else pd.Series("", index=raw.index)
    question = raw["question"] if "question" in raw.columns else ""
    return _assemble(
        raw["text"],
        question,
        raw["rating"] if "rating" in raw.columns else None,
        matrix,
        [value or None for value in sentiment],
        _split_ids(path, flags, FLAGS, "flags"),
    )


def _qdc_indicator(path, raw: pd.DataFrame, column: str) -> np.ndarray:
    """A QDC category column as booleans; its cells must be empty, 0 or 1."""
    values = raw[column].str.strip()
    numbers = pd.to_numeric(values.where(values != "", "0"), errors="coerce")
    _refuse_first_bad(
        path, ~numbers.isin([0, 1]), column, lambda i: f"expected 0, 1 or empty; found {values.iloc[i]!r}"
    )
    return numbers.to_numpy() == 1


def _from_qdc(path, raw: pd.DataFrame) -> pd.DataFrame:
    _require_columns(
        path,
        raw,
        [QDC_TEXT_COLUMN, QDC_SENTIMENT_COLUMN, QDC_SAFEGUARDING_COLUMN, *QDC_CATEGORY_THEMES],
    )
    matrix = np.zeros((len(raw), len(THEME_IDS)), dtype=bool)
    for category, theme in QDC_CATEGORY_THEMES.items():
        matrix[:, THEME_IDS.index(theme)] |= _qdc_indicator(path, raw, category)

    values = raw[QDC_SENTIMENT_COLUMN].str.strip()
    codes = pd.to_numeric(values.where(values != "", None), errors="coerce")
    _refuse_first_bad(
        path,
        (values != "") & ~codes.isin(list(QDC_SENTIMENT)),
        QDC_SENTIMENT_COLUMN,
        lambda i: f"expected a sentiment code 1-5 or empty; found {values.iloc[i]!r}",
    )
    sentiment = [QDC_SENTIMENT[int(c)] if c == c else None for c in codes]

    safeguarding = _qdc_indicator(path, raw, QDC_SAFEGUARDING_COLUMN)
    personal = (
        raw[QDC_PERSONAL_DATA_COLUMN].str.strip() != ""
        if QDC_PERSONAL_DATA_COLUMN in raw.columns
        else np.zeros(len(raw), dtype=bool)
    )
    flag_lists = [
        [f for f, on in zip(FLAGS, pair) if on] for pair in zip(safeguarding, personal)
    ]
    question = raw[QDC_QUESTION_COLUMN] if QDC_QUESTION_COLUMN in raw.columns else ""
    rating = raw[QDC_RATING_COLUMN] if QDC_RATING_COLUMN in raw.columns else None
    return _assemble(raw[QDC_TEXT_COLUMN], question, rating, matrix, sentiment, flag_lists)


def _warn_empty_texts(path, table: pd.DataFrame) -> None:
    empty = np.flatnonzero(table["text"].str.strip() == "") + 1
    if len(empty):
        shown = ", ".join(map(str, empty[:10])) + (", ..." if len(empty) > 10 else "")
        warnings.warn(
            f"{path}: {len(empty)} row(s) have no text (rows {shown}); they are kept, and a "
            "comment with no text is expected to get no theme",
            EmptyTextWarning,
            stacklevel=3,
        )
