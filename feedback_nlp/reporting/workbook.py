"""The report's figures as tables for board papers and Power BI: a workbook or one CSV file.

A workbook has one sheet a figure (``headline``, ``over_time``, ``groups``, ``quotes``,
``actions``, ``unactioned``); a CSV file has them one under another, in one table whose first
column, ``table``, names each row's figure, as Power BI and pandas read a single table. Both
are written by :class:`~feedback_nlp.tables.TableWriter`: whole or not at all, and with no
cell a spreadsheet would run as a formula (a quote can start with "=").
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..exceptions import OutputFileError
from ..tables import TableWriter, file_kind
from . import Report


def write_tables(report: Report, path: Path) -> None:
    """Write ``report.tables()`` to ``path`` (.xlsx: a sheet each; .csv: one long table)."""
    kind = file_kind(path, output=True)
    if kind == "parquet":
        raise OutputFileError(f"{path}: tables are written as .xlsx or .csv, not Parquet")
    writer = TableWriter(path)
    try:
        if kind == "excel":
            for name, frame in report.tables().items():
                writer.write(_cells(frame), sheet=name)
        else:
            long = [_cells(frame).assign(table=name) for name, frame in report.tables().items()]
            table = pd.concat([f for f in long if not f.empty], ignore_index=True)
            writer.write(table[["table", *[c for c in table.columns if c != "table"]]])
        writer.commit()
    except BaseException:
        writer.discard()
        raise


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with dates as ISO text (2026-01-31), read alike by Excel, Power BI and pandas."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    return out
