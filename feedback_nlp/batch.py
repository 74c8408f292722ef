"""Tagging survey exports of any size: read in chunks, tag, write as it goes, every row kept.

CSV, Excel (.xlsx) and Parquet files are read a chunk of rows at a time, so memory stays flat
however large the file. Every input row is written once, in order, with its columns unchanged,
plus the tag columns (and a ``row`` number first when the input has no id column). The output
is written to a temporary file beside its final name and moved into place only when complete:
a failed or interrupted run never leaves half a file under that name.

CSV cells are read as text, exactly as written. CSV files may be UTF-8 (with or without a byte
order mark) or Windows-1252, as Excel saves them; anything else is refused with the offset of the
first byte that cannot be read.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from tqdm.auto import tqdm

from .corpus import decode_error_offset
from .embeddings import limit_threads
from .exceptions import ColumnError, InputFileError
from .routing import Router
from .tagging import Tagger

CSV_SUFFIXES = (".csv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
ENCODINGS = ("utf-8", "cp1252")
CHUNK_ROWS = 5_000
# Column names (lower case, letters and digits only) that usually hold the free-text comment.
TEXT_COLUMN_NAMES = frozenset(
    {"text", "comment", "comments", "fftanswer", "answer", "feedback", "freetext", "response",
     "commenttext", "freetextcomment", "whatcouldwedobetter", "whatwasgood", "fftwhy"}
)


@dataclass(frozen=True)
class BatchSummary:
    """What :func:`tag_file` did: rows written, the comment column, how the input was decoded."""

    rows: int
    column: str
    encoding: str | None
    seconds: float


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    for kind, suffixes in (("csv", CSV_SUFFIXES), ("excel", EXCEL_SUFFIXES), ("parquet", PARQUET_SUFFIXES)):
        if suffix in suffixes:
            return kind
    raise InputFileError(
        f"{path}: unsupported file type {suffix or '(none)'!r}; expected .csv, .xlsx or .parquet"
    )


def detect_encoding(path: str | PathLike) -> str:
    """Return ``"utf-8"`` or ``"cp1252"`` (Excel's Windows CSV), whichever decodes the whole file.

    Raises
    ------
    InputFileError
        The file holds NUL bytes (it is not text), or decodes as neither; the message gives the
        offset of the first byte that is not UTF-8.
    """
    with open(path, "rb") as f:
        if b"\x00" in f.read(1 << 16):
            raise InputFileError(f"{path}: holds NUL bytes; this is not a text table (CSV)")
    offset = decode_error_offset(path)
    if offset < 0:
        return "utf-8"
    try:
        with open(path, encoding="cp1252") as f:
            for _ in iter(lambda: f.read(1 << 20), ""):
                pass
    except UnicodeDecodeError:
        raise InputFileError(
            f"{path}: byte {offset} is not valid UTF-8 and the file is not Windows-1252 either; "
            "save it as 'CSV UTF-8'"
        ) from None
    return "cp1252"


def find_text_column(columns, column: str | None = None) -> str:
    """Return ``column`` if given and present, else the one column whose name says "comment".

    Raises
    ------
    ColumnError
        The named column is absent, or no column or several look like the comment column;
        the message lists the columns so that the user can pass one with ``--column``.
    """
    columns = [str(c) for c in columns]
    if column is not None:
        if column not in columns:
            raise ColumnError(f"no column {column!r}; the columns are {columns}")
        return column
    matches = [c for c in columns if _squash(c) in TEXT_COLUMN_NAMES]
    if len(matches) != 1:
        found = "no column" if not matches else f"several columns ({matches})"
        raise ColumnError(
            f"expected one comment column (named like 'text', 'comment' or 'FFT answer'); found "
            f"{found} among {columns}; pass the column to tag with --column"
        )
    return matches[0]


def _squash(name) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _has_id_column(columns) -> bool:
    return any(_squash(c) == "row" or _squash(c).endswith("id") for c in columns)


class _Reader:
    """Chunks of a table file as DataFrames, with its header and a measure of progress."""

    def __init__(self, path: Path, kind: str, encoding: str | None, chunk_rows: int):
        self.path, self.encoding = path, None
        if not path.is_file():
            raise InputFileError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise InputFileError(f"{path}: the file is empty; expected a header row and comments")
        try:
            getattr(self, f"_open_{kind}")(encoding, chunk_rows)
        except (InputFileError, ColumnError):
            raise
        except Exception as err:  # each library has its own errors for a file that is not a table
            raise InputFileError(f"{path}: not a readable table ({err})") from None

    def _open_csv(self, encoding, chunk_rows):
        self.encoding = encoding or detect_encoding(self.path)
        # utf-8-sig reads UTF-8 with or without Excel's byte order mark.
        codec = "utf-8-sig" if self.encoding == "utf-8" else self.encoding
        options = dict(dtype=str, keep_default_na=False, encoding=codec)
        try:
            self.columns = list(pd.read_csv(self.path, nrows=0, **options).columns)
        except pd.errors.EmptyDataError:
            raise InputFileError(f"{self.path}: no header row; expected a header and comments") from None
        except UnicodeDecodeError:
            raise self._undecodable() from None
        self._file = open(self.path, "rb")
        self.total, self.unit = self.path.stat().st_size, "B"
        self._chunks = pd.read_csv(self._file, chunksize=chunk_rows, **options)

    def _open_excel(self, encoding, chunk_rows):
        from openpyxl import load_workbook

        self._book = load_workbook(self.path, read_only=True, data_only=True)
        sheet = self._book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputFileError(f"{self.path}: the first sheet is empty; expected a header row")
        self.columns = [str(c) if c is not None else "" for c in header]
        self.total, self.unit = (sheet.max_row - 1 if sheet.max_row else None), "rows"
        self._chunks = _frames(rows, self.columns, chunk_rows)

    def _open_parquet(self, encoding, chunk_rows):
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(self.path)
        self.columns = parquet.schema_arrow.names
        self.total, self.unit = parquet.metadata.num_rows, "rows"
        self._chunks = (b.to_pandas() for b in parquet.iter_batches(batch_size=chunk_rows))

    def _undecodable(self) -> InputFileError:
        offset = decode_error_offset(self.path, self.encoding)
        return InputFileError(f"{self.path}: not {self.encoding} text (byte {offset})")

    def position(self, rows_done: int) -> int:
        """How far through the file: bytes read for CSV, rows for the others."""
        return self._file.tell() if self.unit == "B" else rows_done

    def __iter__(self) -> Iterator[pd.DataFrame]:
        try:
            yield from self._chunks
        except UnicodeDecodeError:
            raise self._undecodable() from None
        except pd.errors.ParserError as err:
            raise InputFileError(f"{self.path}: not valid CSV ({err})") from None
        finally:
            if self.unit == "B":
                self._file.close()
            elif hasattr(self, "_book"):
                self._book.close()


def _frames(rows, columns, chunk_rows) -> Iterator[pd.DataFrame]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == chunk_rows:
            yield pd.DataFrame(chunk, columns=columns, dtype=object)
            chunk = []
    if chunk:
        yield pd.DataFrame(chunk, columns=columns, dtype=object)


class _AtomicWriter:
    """Writes chunks to a temporary file and moves it to ``path`` only on :meth:`commit`."""

    def __init__(self, path: Path, kind: str):
        self.path, self.kind = path, kind
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        self._sink = None

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind == "csv":
            first = self._sink is None
            self._sink = self._sink or open(self.tmp, "wb")
            _write_csv(frame, self._sink, header=first)
        elif self.kind == "excel":
            if self._sink is None:
                from openpyxl import Workbook

                self._book = Workbook(write_only=True)
                self._sink = self._book.create_sheet()
                self._sink.append(list(frame.columns))
            for row in frame.itertuples(index=False):
                self._sink.append(list(row))
        else:
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._sink is None:
                self._sink = pq.ParquetWriter(self.tmp, table.schema)
            self._sink.write_table(table.cast(self._sink.schema))

    def commit(self) -> None:
        if self.kind == "excel":
            self._book.save(self.tmp)
        elif self._sink is not None:
            self._sink.close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if self.kind != "excel" and self._sink is not None:
            self._sink.close()
        self.tmp.unlink(missing_ok=True)


def _write_csv(frame: pd.DataFrame, sink, header: bool) -> None:
    """Append ``frame`` to a binary CSV file as UTF-8, with the header row if asked."""
    # pandas formats each cell in Python, about 18 us a row of tagged output; Arrow writes in C++
    # in about 2.5 us. Arrow takes frames of text, numbers and booleans only, and quotes every
    # text, float and boolean (the last two written as text) where pandas quotes only where
    # needed. Other columns (Excel's mixed cells, dates) go to pandas, with Arrow's line ending.
    if all(isinstance(t, pd.StringDtype) or t.kind in "biuf" for t in frame.dtypes):
        arrays = [_arrow_text(frame.iloc[:, i]) for i in range(frame.shape[1])]
        table = pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])
        pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=header))
    else:
        frame.to_csv(sink, header=header, index=False, encoding="utf-8", lineterminator="\n")


def _arrow_text(column: pd.Series):
    """``column`` as an Arrow array, with floats and booleans written as pandas writes them."""
    if column.dtype.kind == "b":  # Arrow would write "true"; a missing value stays empty
        return pc.if_else(pa.array(column), "True", "False")
    if column.dtype.kind != "f":
        return pa.array(column)
    # Arrow writes 0.0 as "0", so scores of 0 and 1 would look like integers; a tiny or huge
    # number may still be written without pandas' exponent ("0.00001"), which reads back the same.
    text = pc.cast(pa.array(column), pa.string())
    return pc.if_else(pc.match_substring_regex(text, r"^-?\d+$"), pc.binary_join_element_wise(text, ".0", ""), text)


@dataclass(frozen=True)
class _Job:
    """What every chunk of one file is tagged with: sent once to each worker process."""

    tagger: Tagger
    column: str
    question_column: str | None
    explain: bool
    router: Router | None

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        tagged = self.tagger.tag_frame(frame, self.column, self.question_column, explain=self.explain)
        return tagged if self.router is None else self.router.route_frame(tagged)


_worker_job: _Job | None = None


def _start_worker(job: _Job) -> None:
    global _worker_job
    _worker_job = job
    if _uses_torch(job):
        limit_threads(1)  # torch would otherwise start a thread a core in every worker


def _uses_torch(job: _Job) -> bool:
    return job.tagger.model.embeddings_ is not None


def _tag_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    return _worker_job(frame)


def _tag_chunks(job: _Job, frames, n_jobs: int) -> Iterator[pd.DataFrame]:
    """Tag chunks in order, in ``n_jobs`` processes, with a bounded number in flight."""
    if n_jobs == 1:
        yield from map(job, frames)
        return
    # A forked child of a process that has used torch hangs in torch's thread pool: a model with
    # a sentence encoder gets newly started workers instead (which, as ever with "spawn", need
    # a calling script's work under `if __name__ == "__main__":`).
    context = multiprocessing.get_context("spawn") if _uses_torch(job) else None
    with ProcessPoolExecutor(n_jobs, mp_context=context, initializer=_start_worker, initargs=(job,)) as pool:
        pending = deque()
        for frame in frames:
            pending.append(pool.submit(_tag_chunk, frame))
            if len(pending) >= 2 * n_jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def tag_file(
    input_path: str | PathLike,
    output_path: str | PathLike,
    tagger: Tagger,
    *,
    column: str | None = None,
    question_column: str | None = None,
    jobs: int = 1,
    encoding: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    explain: bool = False,
    router: Router | None = None,
    progress: bool = False,
) -> BatchSummary:
    """Tag the comment column of a CSV, Excel or Parquet file, writing every row with its tags.

    Parameters
    ----------
    input_path, output_path : path
        ``.csv``, ``.xlsx`` or ``.parquet``; the output's type follows its suffix.
    tagger : Tagger
        The model to tag with (see :func:`feedback_nlp.load`).
    column : str, optional
        The comment column; found by name when not given (see :func:`find_text_column`).
    question_column : str, optional
        A column with the survey question each comment answers; used only when named.
    jobs : int
        Processes to tag in; the output is identical whatever the number.
    encoding : {"utf-8", "cp1252"}, optional
        Encoding of a CSV input; detected when not given.
    chunk_rows : int
        Rows read, tagged and written at a time; bounds memory.
    explain : bool
        Add the ``theme_sentiment`` and ``evidence`` columns (see :meth:`Tagger.tag_frame`).
    router : Router, optional
        Add the ``route`` and ``route_rule`` columns (see :func:`feedback_nlp.load_routes`).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    BatchSummary

    Raises
    ------
    InputFileError, ColumnError
        Before anything is written: the input is missing, empty, not a table, not readable
        text, or has no clear comment column.
    """
    start = time.perf_counter()
    input_path, output_path = Path(input_path), Path(output_path)
    if jobs < 1 or chunk_rows < 1:
        raise ValueError(f"jobs and chunk_rows must be at least 1; got {jobs} and {chunk_rows}")
    if encoding is not None and encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}; got {encoding!r}")
    output_kind = _kind(output_path)
    reader = _Reader(input_path, _kind(input_path), encoding, chunk_rows)
    column = find_text_column(reader.columns, column)
    if question_column is not None and question_column not in reader.columns:
        raise ColumnError(f"no column {question_column!r}; the columns are {reader.columns}")
    number_rows = not _has_id_column(reader.columns)

    def numbered(chunks):
        first_row = 1
        for chunk in chunks:
            if number_rows:
                chunk.insert(0, "row", range(first_row, first_row + len(chunk)))
            first_row += len(chunk)
            yield chunk

    job = _Job(tagger, column, question_column, explain, router)
    writer = _AtomicWriter(output_path, output_kind)
    bar = tqdm(total=reader.total, unit=reader.unit, unit_scale=True, disable=not progress,
               desc=input_path.name, dynamic_ncols=True)
    rows = 0
    try:
        for tagged in _tag_chunks(job, numbered(reader), jobs):
            writer.write(tagged)
            rows += len(tagged)
            if progress:
                bar.update(reader.position(rows) - bar.n)
                rate = rows / max(time.perf_counter() - start, 1e-6)
                bar.set_postfix_str(f"{rows:,} rows, {rate:,.0f} rows/s")
        if rows == 0:
            empty = pd.DataFrame(columns=(["row"] if number_rows else []) + reader.columns)
            writer.write(job(empty))
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    finally:
        bar.close()
    return BatchSummary(rows, column, reader.encoding, time.perf_counter() - start)
