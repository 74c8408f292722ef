"""Generated tables through the file reader, the tagger and every writer: what holds for any input.

For any table of text cells (any Unicode but NUL and lone surrogates: quotes, line breaks, blanks,
formula-like text, control characters, long cells), tagging a CSV export writes as many rows as
it read, in order, with every input cell unchanged but for what the writers document: a CSV cell
a spreadsheet would run gets a leading apostrophe; an .xlsx cell holds no control character
(U+FFFD instead), line feeds for carriage returns, and at most 32,767 characters; Parquet keeps
every cell exactly.
"""

import csv
import re
import tempfile
import warnings
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from feedback_nlp.batch import tag_file
from feedback_nlp.tables import EXCEL_CELL_CHARS, FORMULA_START, PLAIN_NUMBER

# Text as exports hold it: any character but NUL (a CSV with one is refused as not text) and
# surrogates (not encodable); with formula starts, line breaks and control characters made likely.
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_cell = st.one_of(
    st.text(_chars, max_size=40),
    st.sampled_from(["", " ", "=1+1", "+44 7700", "-2", "@SUM(A1)", "\t=x", "\r\n", '"', "a,b", "\x0b",
                     "Kind staff", "Nothing", "1"]),
    st.builds(lambda a, b: a + b, st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\"", "\n"]), st.text(_chars, max_size=20)),
)
_tables = st.lists(st.tuples(_cell, _cell), min_size=1, max_size=12)


def _expected_csv_cell(value: str) -> str:
    return "'" + value if re.match(FORMULA_START, value) and not re.fullmatch(PLAIN_NUMBER, value) else value


def _runnable(cell: str) -> bool:
    """Written independently of the module: would a spreadsheet run this cell as a formula?"""
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") and re.fullmatch(r"[+-]?[0-9.,]+([eE][+-]?[0-9]+)?", cell) is None


def _expected_xlsx_cell(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "\ufffd", value)[:EXCEL_CELL_CHARS]


def _export(rows, folder: str) -> tuple[Path, pd.DataFrame]:
    folder = Path(folder)
    frame = pd.DataFrame({"id": [f"R{i}" for i in range(len(rows))],
                          "question": [r[0] for r in rows], "comment": [r[1] for r in rows]})
    path = folder / "export.csv"
    # Python's csv module quotes as Excel does (pandas leaves a lone carriage return unquoted).
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\r\n").writerows([list(frame.columns), *frame.values.tolist()])
    return path, frame


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_tables, jobs=st.sampled_from([1, 1, 1, 2]))
def test_csv_output_keeps_every_row_and_cell(tagger, rows, jobs):
    with tempfile.TemporaryDirectory() as folder:
        _check_csv(tagger, rows, jobs, folder)


def _check_csv(tagger, rows, jobs, folder):
    path, frame = _export(rows, folder)
    out = path.with_name("out.csv")
    summary = tag_file(path, out, tagger, question_column="question", jobs=jobs, chunk_rows=5)
    tagged = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert summary.rows == len(frame) == len(tagged)
    for column in frame.columns:
        assert tagged[column].tolist() == [_expected_csv_cell(v) for v in frame[column]]
    assert not [cell for cell in tagged.to_numpy().ravel() if isinstance(cell, str) and _runnable(cell)]
    assert set(tagged["sentiment"]) <= {"positive", "neutral", "negative"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_tables)
def test_xlsx_output_keeps_every_row_and_cell_as_text(tagger, rows):
    with tempfile.TemporaryDirectory() as folder:
        _check_xlsx(tagger, rows, folder)


def _check_xlsx(tagger, rows, folder):
    path, frame = _export(rows, folder)
    out = path.with_name("out.xlsx")
    with warnings.catch_warnings():  # the documented warnings of cells changed to fit .xlsx
        warnings.simplefilter("ignore", UserWarning)
        tag_file(path, out, tagger, question_column="question", chunk_rows=5)
    book = load_workbook(out, read_only=True)
    header, *body = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    assert len(body) == len(frame)
    for j, column in enumerate(frame.columns):
        got = [("" if r[header.index(column)] is None else r[header.index(column)]) for r in body]
        assert got == [_expected_xlsx_cell(v) for v in frame[column]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_tables)
def test_parquet_output_keeps_every_cell_exactly(tagger, rows):
    with tempfile.TemporaryDirectory() as folder:
        _check_parquet(tagger, rows, folder)


def _check_parquet(tagger, rows, folder):
    path, frame = _export(rows, folder)
    out = path.with_name("out.parquet")
    tag_file(path, out, tagger, question_column="question", chunk_rows=5)
    table = pq.read_table(out)
    for column in frame.columns:
        assert table.column(column).to_pylist() == frame[column].tolist()


@settings(max_examples=80, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.text(_chars, max_size=60)), max_size=8))
def test_the_api_tags_any_text_in_order(tagger, texts):
    tags = tagger.tag_many(texts)
    assert len(tags) == len(texts)
    assert tags == [tagger.tag(t) for t in texts]
    for text, tag in zip(texts, tags):
        if text is None or not text.strip():
            assert tag.themes == () and tag.sentiment == "neutral"

