"""The actions file of "you said, we did": what a service did about what patients said.

A CSV or Excel table with ``theme``, ``you_said``, ``we_did`` and ``date``, and optionally
``group`` and ``owner``. Column names are matched ignoring case, spaces and punctuation ("You
said" is ``you_said``); a theme may be written as its id (``access``), its full name or the part
before the colon ("Access").
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..exceptions import ReportError
from ..tables import TableReader, squash
from ..themes import THEMES
from .figures import parse_dates

REQUIRED = ("theme", "you_said", "we_did", "date")
OPTIONAL = ("group", "owner")
COLUMNS = (*REQUIRED, *OPTIONAL)
_THEME_NAMES = {squash(name): t.id for t in THEMES for name in (t.id, t.name, t.name.split(":")[0])}


def read_actions(path) -> pd.DataFrame:
    """Read an actions file into ``theme`` (id), ``group``, ``you_said``, ``we_did``, ``date``
    and ``owner`` (blank text where a cell or an optional column is empty), in file order.

    Raises
    ------
    ReportError
        A required column is missing, a theme is not one of the five, a ``you_said`` or
        ``we_did`` cell is empty, or a date cannot be read; the message names file, row, column.
    """
    path = Path(path)
    reader = TableReader(path, chunk_rows=10_000)
    found = {squash(c): c for c in reader.columns}
    missing = [c for c in REQUIRED if squash(c) not in found]
    if missing:
        reader.close()
        raise ReportError(path, f"no column {missing[0]!r}; an actions file has {list(REQUIRED)} "
                          f"and may have {list(OPTIONAL)}; the columns are {reader.columns}")
    frames = list(reader)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=reader.columns)
    table.index = pd.RangeIndex(1, len(table) + 1)
    actions = pd.DataFrame(index=table.index)
    for column in COLUMNS:
        cells = table[found[squash(column)]] if squash(column) in found else pd.Series("", index=table.index)
        if column != "date":
            cells = cells.astype(object).where(cells.notna(), "").astype(str).str.strip()
        actions[column] = cells
    for column in ("you_said", "we_did"):
        blank = actions[column] == ""
        if blank.any():
            raise ReportError(path, "empty; every action says what was said and what was done",
                              row=blank.idxmax(), column=found[squash(column)])
    themes = actions["theme"].map(lambda v: _THEME_NAMES.get(squash(v)))
    if themes.isna().any():
        row = themes.isna().idxmax()
        raise ReportError(path, f"{actions['theme'][row]!r} is not a theme; write one of "
                          f"{[t.id for t in THEMES]}", row=row, column=found["theme"])
    dates = parse_dates(actions["date"], str(path), found["date"])
    if dates.isna().any():
        raise ReportError(path, "no date; every action has the date it was done",
                          row=dates.isna().idxmax(), column=found["date"])
    return actions.assign(theme=themes, date=dates)[list(COLUMNS)].reset_index(drop=True)
