"""Tagging survey exports of any size: read in chunks, tag, write as it goes, every row kept.

CSV, Excel (.xlsx) and Parquet files are read a chunk of rows at a time (see
:mod:`feedback_nlp.tables`), so memory stays flat however large the file. Every input row is
written once, in order, with its columns unchanged, plus the tag columns (and a ``row`` number
first when the input has no id column). The output is written to a temporary file beside its
final name and moved into place only when complete: a failed or interrupted run never leaves
half a file under that name, nor a temporary file, nor a worker process.
"""

from __future__ import annotations

import itertools
import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from .embeddings import limit_threads
from .exceptions import ColumnError, InputFileError, RatingError, SettingError
from .ratings import normalise_ratings
from .routing import Router
from .tables import ENCODINGS, TableReader, TableWriter, file_kind, find_context_column, find_text_column, squash
from .tagging import EXPLAIN_COLUMNS, RESULT_COLUMNS, Tagger

# Rows read, tagged and written at a time. Arrow compiles the flags' RE2 prefilters afresh for
# every batch it scans, and the safeguarding one builds its DFA anew: over 1,000,000 rows that
# cost 0.69 s per 100,000 in chunks of 5,000 and 0.33 s in chunks of 20,000 (docs/safeguarding.md).
CHUNK_ROWS = 20_000
# The first rows, by whose values the question and rating columns are found: as many as a chunk
# held before chunks grew, so that a file's columns are found as they were.
COLUMN_SAMPLE_ROWS = 5_000


@dataclass(frozen=True)
class BatchSummary:
    """What :func:`tag_file` did: rows written, the comment column, how the input was read.

    ``encoding`` and ``delimiter`` are those of a CSV input, ``sheet`` the worksheet of a
    workbook; None for the other kinds. ``question_column`` and ``rating_column`` are the
    columns used (None: none), and ``found`` says how each was found or why none was taken.
    """

    rows: int
    column: str
    encoding: str | None
    seconds: float
    delimiter: str | None = None
    sheet: str | None = None
    question_column: str | None = None
    rating_column: str | None = None
    found: tuple[str, ...] = ()


def _has_id_column(columns) -> bool:
    return any(squash(c) == "row" or squash(c).endswith("id") for c in columns)


@dataclass(frozen=True)
class _Job:
    """What every chunk of one file is tagged with: sent once to each worker process."""

    tagger: Tagger
    column: str
    question_column: str | None
    rating_column: str | None
    explain: bool
    router: Router | None

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.tagger.tag_frame(
            frame, self.column, self.question_column, self.rating_column, explain=self.explain, router=self.router
        )


_worker_job: _Job | None = None


def _start_worker(job: _Job) -> None:
    global _worker_job
    _worker_job = job
    # Ctrl-C reaches every process of the terminal's group: the main process alone stops the run,
    # and ends the workers itself, so that they print no traceback of their own. A forked worker
    # inherits the command's SIGTERM handler, which would let it finish its chunk: it must die.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
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
    pool = ProcessPoolExecutor(n_jobs, mp_context=context, initializer=_start_worker, initargs=(job,))
    try:
        pending = deque()
        for frame in frames:
            pending.append(pool.submit(_tag_chunk, frame))
            if len(pending) >= 2 * n_jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BaseException:
        _end_workers(pool)
        raise
    pool.shutdown()


def _end_workers(pool: ProcessPoolExecutor) -> None:
    """Stop a pool's workers now, mid-chunk, rather than wait for the chunks they hold."""
    # Python 3.14 gives the pool terminate_workers(); before it, its process table is the handle.
    for process in list(getattr(pool, "_processes", {}).values()):
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def tag_file(
    input_path: str | PathLike,
    output_path: str | PathLike,
    tagger: Tagger,
    *,
    column: str | None = None,
    question_column: str | None = "auto",
    rating_column: str | None = "auto",
    jobs: int = 1,
    encoding: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    explain: bool = False,
    router: Router | None = None,
    progress: bool = False,
    sheet: str | None = None,
    raw_formulas: bool = False,
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
    question_column : str or None, default "auto"
        The column with the survey question each comment answers; ``"auto"`` finds it by its
        name (``question``, ``FFT question``, ``Question text``) or as the one column whose few
        distinct values read as questions; None uses none. When two columns could be it, none
        is used and ``BatchSummary.found`` says so.
    rating_column : str or None, default "auto"
        The column with the survey rating each comment explains, for a model trained with
        ratings; ``"auto"`` finds it by its name (``rating``, ``FFT categorical answer``); None
        uses none. A rating off the model's scale is refused with its row.
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
    sheet : str, optional
        The worksheet of a workbook to read; by default the one Excel opens on.
    raw_formulas : bool
        Write CSV cells that a spreadsheet would run as formulas (``=``, ``+``, ``-``, ``@``, tab,
        carriage return first) as they are; by default they get a leading apostrophe. ``.xlsx``
        cells are always written as text. See :mod:`feedback_nlp.tables`.

    Returns
    -------
    BatchSummary

    Raises
    ------
    InputFileError, ColumnError
        The input is missing, empty, not a table, not readable text, badly formed, has no clear
        comment column, or is the output itself (all before anything is written); or, found
        while tagging, a rating off the model's scale or a column whose type changes between
        chunks of a Parquet output. Either way nothing is left under the output's name.
    OutputFileError
        The output cannot be written; nothing is left under its name or beside it.
    """
    start = time.perf_counter()
    input_path, output_path = Path(input_path), Path(output_path)
    for name, value in (("jobs", jobs), ("chunk_rows", chunk_rows)):
        if value < 1:
            raise SettingError(name, "at least 1", value)
    if encoding is not None and encoding not in ENCODINGS:
        raise SettingError("encoding", f"one of {ENCODINGS}", encoding)
    file_kind(output_path, output=True)
    if output_path.exists() and input_path.exists() and output_path.samefile(input_path):
        raise InputFileError(f"{output_path}: the output would replace the input; choose another name")
    reader = TableReader(input_path, encoding=encoding, sheet=sheet, chunk_rows=chunk_rows)
    try:
        column = find_text_column(reader.columns, column)
        clashes = [c for c in (*RESULT_COLUMNS, *EXPLAIN_COLUMNS) if c in reader.columns]
        if clashes:
            raise ColumnError(f"{input_path}: already has result column(s) {clashes}: is it a tagged "
                              "file? Tag the export it came from, or rename those columns")
        chunks = iter(reader)
        first = next(chunks, None)  # a look at the values, to find the question column by them
        question_column, rating_column, found = context_columns(
            reader.columns, column, question_column, rating_column,
            None if first is None else first.head(COLUMN_SAMPLE_ROWS), tagger
        )
    except BaseException:
        reader.close()
        raise
    number_rows = not _has_id_column(reader.columns)

    def numbered(chunks):
        first_row = 1
        for chunk in chunks:
            # Data rows counted from 1 after the header, so that an error names the row a person sees.
            chunk.index = pd.RangeIndex(first_row, first_row + len(chunk))
            if number_rows:
                chunk.insert(0, "row", range(first_row, first_row + len(chunk)))
            first_row += len(chunk)
            yield chunk

    job = _Job(tagger, column, question_column, rating_column, explain, router)
    try:
        writer = TableWriter(output_path, raw_formulas=raw_formulas)
    except BaseException:
        reader.close()
        raise
    bar = tqdm(total=reader.total, unit=reader.unit, unit_scale=True, disable=not progress,
               desc=input_path.name, dynamic_ncols=True)
    rows = 0
    try:
        read = itertools.chain([] if first is None else [first], chunks)
        for tagged in _tag_chunks(job, numbered(read), jobs):
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
    except RatingError as err:
        writer.discard()
        reader.close()
        raise InputFileError(f"{input_path}, column {rating_column!r}, {err}") from None
    except BaseException:
        writer.discard()
        reader.close()
        raise
    finally:
        bar.close()
    return BatchSummary(
        rows, column, reader.encoding, time.perf_counter() - start, reader.delimiter, reader.sheet,
        question_column, rating_column, found,
    )


def context_columns(columns, column, question_column, rating_column, sample, tagger):
    """The question and rating columns to use, and what was said of how they were found."""
    sample = sample if sample is not None else pd.DataFrame(columns=columns)
    found = []
    if question_column == "auto":
        question_column, said = find_context_column("question", columns, sample, exclude=(column,))
        found.append(said)
    if rating_column == "auto":
        rating_column, said = find_context_column("rating", columns, sample, exclude=(column, question_column))
        if rating_column is not None and not tagger.rating_scale:
            said, rating_column = f"rating column {rating_column!r} not used: the model was trained without ratings", None
        elif rating_column is not None and rating_column in sample.columns:
            # Found, not named: a column of other ratings ("Very good") is left out, not refused.
            off = sorted({r for r in normalise_ratings(sample[rating_column]) if r is not None} - set(tagger.rating_scale))
            if off:
                said = (f"rating column {rating_column!r} not used: it holds {off[:3]}, not the model's "
                        f"scale {list(tagger.rating_scale)}; name it with --rating-column to be told the row")
                rating_column = None
        found.append(said)
    elif rating_column is not None and not tagger.rating_scale:
        raise ColumnError(f"a rating column ({rating_column!r}) was named, but this model was trained without ratings")
    for name in (question_column, rating_column):
        if name is not None and name not in columns:
            raise ColumnError(f"no column {name!r}; the columns are {list(columns)}")
    return question_column, rating_column, tuple(found)
