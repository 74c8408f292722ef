"""Tagging survey exports: read a CSV or Excel file, tag its comment column, write every row back.

Cells are read as text, exactly as written, so the output repeats every input column unchanged
and only adds the tag columns. The output is written beside its final name and moved into place
only when complete, so a failed run never leaves half a file under that name.
"""

from __future__ import annotations

import os
import re
import tempfile
from os import PathLike
from pathlib import Path

import pandas as pd

from .corpus import utf8_error_offset
from .exceptions import ColumnError, InputFileError
from .tagging import Tagger

CSV_SUFFIXES = (".csv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# Column names (lower case, letters and digits only) that usually hold the free-text comment.
TEXT_COLUMN_NAMES = frozenset(
    {"text", "comment", "comments", "fftanswer", "answer", "feedback", "freetext", "response",
     "commenttext", "freetextcomment", "whatcouldwedobetter", "whatwasgood", "fftwhy"}
)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + EXCEL_SUFFIXES:
        raise InputFileError(
            f"{path}: unsupported file type {suffix or '(none)'!r}; expected .csv or .xlsx"
        )
    return suffix


def read_table(path: str | PathLike) -> pd.DataFrame:
    """Read a CSV (UTF-8, with or without BOM) or Excel file with every cell as text.

    Raises
    ------
    InputFileError
        The file is missing, empty, of an unsupported type, or not a readable table.
    """
    path = Path(path)
    suffix = _suffix(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    try:
        if suffix in EXCEL_SUFFIXES:
            return pd.read_excel(path, dtype=str, keep_default_na=False)
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(
            f"{path}: not UTF-8 text (byte {utf8_error_offset(path)}); save the file as 'CSV UTF-8'"
        ) from None
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{path}: the file is empty; expected a header row and comments") from None
    except (pd.errors.ParserError, ValueError, OSError) as err:
        raise InputFileError(f"{path}: not a readable table ({err})") from None


def find_text_column(frame: pd.DataFrame, column: str | None = None) -> str:
    """Return ``column`` if given and present, else the one column whose name says "comment".

    Raises
    ------
    ColumnError
        The named column is absent, or no column or several look like the comment column;
        the message lists the columns so that the user can pass one with ``--column``.
    """
    columns = [str(c) for c in frame.columns]
    if column is not None:
        if column not in columns:
            raise ColumnError(f"no column {column!r}; the columns are {columns}")
        return column
    matches = [c for c in columns if re.sub(r"[^a-z0-9]", "", c.lower()) in TEXT_COLUMN_NAMES]
    if len(matches) != 1:
        found = "no column" if not matches else f"several columns ({matches})"
        raise ColumnError(
            f"expected one comment column (named like 'text', 'comment' or 'FFT answer'); found "
            f"{found} among {columns}; pass the column to tag with --column"
        )
    return matches[0]


def write_table(frame: pd.DataFrame, path: str | PathLike) -> None:
    """Write ``frame`` as CSV or Excel (by suffix), atomically: all of it or nothing."""
    path = Path(path)
    suffix = _suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        if suffix in EXCEL_SUFFIXES:
            frame.to_excel(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def tag_file(
    input_path: str | PathLike,
    output_path: str | PathLike,
    tagger: Tagger,
    *,
    column: str | None = None,
    question_column: str | None = None,
) -> pd.DataFrame:
    """Tag the comment column of a CSV or Excel file and write every row, in order, with its tags.

    Parameters
    ----------
    input_path, output_path : path
        ``.csv`` or ``.xlsx``; the output type follows its suffix.
    tagger : Tagger
        The model to tag with (see :func:`feedback_nlp.load`).
    column : str, optional
        The comment column; found by name when not given (see :func:`find_text_column`).
    question_column : str, optional
        A column with the survey question each comment answers; used only when named.

    Returns
    -------
    pandas.DataFrame
        The table written.
    """
    frame = read_table(input_path)
    tagged = tagger.tag_frame(frame, find_text_column(frame, column), question_column)
    write_table(tagged, output_path)
    return tagged
