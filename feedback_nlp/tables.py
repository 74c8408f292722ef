"""Reading and writing table files (CSV, Excel, Parquet) a chunk at a time, safely for a person.

Reading: CSV cells come as text, exactly as written, from UTF-8 (with or without a byte order
mark) or Windows-1252, comma-, semicolon- or tab-separated; a file whose encoding or shape
cannot be told for sure is refused with the line and byte at fault, never guessed. Excel
workbooks are read from the sheet a person sees (the active visible one) unless one is named.

Writing: a temporary file beside the output, moved into place only when complete, with the
permissions a new file of the user's would have (a replaced file keeps its own). Cells a spreadsheet would run as a formula are
written as text: in ``.xlsx`` always (the value unchanged), in CSV with a leading apostrophe, as
OWASP advises against "CSV injection", unless the caller asks for raw cells. What an ``.xlsx``
cell cannot hold is changed and said in a warning: control characters become U+FFFD, text past
32,767 characters is cut; a carriage return becomes a line feed, as XML reads it anyway.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from .exceptions import ColumnError, InputFileError, OutputFileError

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
ENCODINGS = ("utf-8", "cp1252")
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
SNIFF_ROWS = 20  # rows the delimiter must split evenly
# Column names (lower case, letters and digits only) that usually hold the free-text comment.
TEXT_COLUMN_NAMES = frozenset(
    {"text", "comment", "comments", "fftanswer", "answer", "feedback", "freetext", "response",
     "commenttext", "freetextcomment", "whatcouldwedobetter", "whatwasgood", "fftwhy"}
)
# Names (squashed as above) of the column holding the survey question each comment answers, and
# of the rating it explains (the Friends and Family Test's 1 very good ... 5 very poor).
QUESTION_COLUMN_NAMES = frozenset(
    {"question", "fftquestion", "questiontext", "surveyquestion", "questionasked", "questiontitle"}
)
RATING_COLUMN_NAMES = frozenset(
    {"rating", "fftrating", "fftcategoricalanswer", "categoricalanswer", "fftscore", "fftresponse",
     "ratingscore", "overallrating", "fftrecommend"}
)
# A column holds questions when its cells take at most this many distinct values, most of which
# read as questions (end with "?" or start with a question word).
QUESTION_DISTINCT_MAX = 30
_QUESTION_WORDS = re.compile(
    r"^\s*(what|how|why|was|were|is|are|did|do|does|would|could|can|please|tell|overall|if|thinking)\b",
    re.IGNORECASE,
)
# A cell starting with one of these is run as a formula by Excel, LibreOffice or Google Sheets
# (OWASP, "CSV Injection"); a plain number such as "-2" or "+44" is left as it is.
FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][+-]?[0-9]+)?$"
_FORMULA_START, _PLAIN_NUMBER = re.compile(FORMULA_START), re.compile(PLAIN_NUMBER)
# What an .xlsx cell cannot hold: XML 1.0 has no control characters but tab and line breaks,
# and Excel keeps at most 32,767 characters in a cell.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
EXCEL_CELL_CHARS = 32_767
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def file_kind(path: Path, *, output: bool = False) -> str:
    """``"csv"``, ``"excel"`` or ``"parquet"`` by the file's suffix; refuses any other suffix.

    Outputs are written as .csv (comma-separated), .xlsx or .parquet only: a .tsv, .txt or
    .xlsm name would promise a file that is not what it says.
    """
    suffix = path.suffix.lower()
    kinds = (("csv", (".csv",)), ("excel", (".xlsx",)), ("parquet", PARQUET_SUFFIXES)) if output else (
        ("csv", CSV_SUFFIXES), ("excel", EXCEL_SUFFIXES), ("parquet", PARQUET_SUFFIXES))
    for kind, suffixes in kinds:
        if suffix in suffixes:
            return kind
    expected = ".csv, .xlsx or .parquet" if output else ".csv (.tsv, .txt), .xlsx or .parquet"
    raise InputFileError(f"{path}: unsupported file type {suffix or '(none)'!r}; expected {expected}")


def decode_error_offset(path, encoding: str = "utf-8") -> int:
    """The offset in the file of the first byte ``encoding`` cannot decode (-1 when none)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as err:
                return offset + err.start
            offset += len(block)
    return -1


def _line_of(path, offset: int) -> int:
    with open(path, "rb") as f:
        return f.read(offset).count(b"\n") + 1


def detect_encoding(path) -> str:
    """Return ``"utf-8"`` or ``"cp1252"`` (Excel's Windows CSV), whichever decodes the whole file.

    A file with UTF-8 characters in one place and a byte that is not UTF-8 in another is a mix
    of encodings: read as either, some of its comments would come out wrong, so it is refused.

    Raises
    ------
    InputFileError
        The file holds NUL bytes (it is not text), mixes encodings, or decodes as neither; the
        message gives the line and byte offset of the first byte that is not UTF-8.
    """
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputFileError(
            f"{path}: UTF-16 text (Excel's 'Unicode text'); save it as 'CSV UTF-8' instead"
        )
    if b"\x00" in head:
        raise InputFileError(f"{path}: holds NUL bytes; this is not a text table (CSV)")
    offset = decode_error_offset(path)
    if offset < 0:
        return "utf-8"
    where = f"line {_line_of(path, offset)}, byte {offset}"
    with open(path, "rb") as f:
        mixed = any(_UTF8_MULTIBYTE.search(block) for block in iter(lambda: f.read(1 << 20), b""))
    if mixed:
        raise InputFileError(
            f"{path}: mixes encodings: it has UTF-8 characters, but {where} is not UTF-8; "
            "correct that byte, or pass --encoding cp1252 to read it all as Windows-1252"
        )
    if decode_error_offset(path, "cp1252") >= 0:
        raise InputFileError(
            f"{path}: {where} is not valid UTF-8 and the file is not Windows-1252 either; "
            "save it as 'CSV UTF-8'"
        )
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
    matches = [c for c in columns if squash(c) in TEXT_COLUMN_NAMES]
    if len(matches) != 1:
        found = "no column" if not matches else f"several columns ({matches})"
        raise ColumnError(
            f"expected one comment column (named like 'text', 'comment' or 'FFT answer'); found "
            f"{found} among {columns}; pass the column to tag with --column"
        )
    return matches[0]


def find_context_column(kind: str, columns, sample: pd.DataFrame, exclude=()) -> tuple[str | None, str]:
    """The one column that holds the survey question (``kind="question"``) or rating
    (``kind="rating"``), found by its name or, for the question, by its values in ``sample``.

    Returns the column (None when there is none or the choice is not clear) and a sentence saying
    how it was found or why none was taken, for the user to read.
    """
    names = QUESTION_COLUMN_NAMES if kind == "question" else RATING_COLUMN_NAMES
    candidates = [str(c) for c in columns if str(c) not in exclude]
    by_name = [c for c in candidates if squash(c) in names]
    if len(by_name) == 1:
        return by_name[0], f"{kind} column {by_name[0]!r} (found by its name)"
    if len(by_name) > 1:
        return None, (f"several columns could be the {kind} ({by_name}): none used; name one with "
                      f"--{kind}-column")
    if kind == "question":
        by_values = [c for c in candidates if c in sample.columns and _reads_as_questions(sample[c])]
        if len(by_values) == 1:
            return by_values[0], f"question column {by_values[0]!r} (its values read as questions)"
        if len(by_values) > 1:
            return None, (f"several columns could be the question ({by_values}): none used; name "
                          "one with --question-column")
    return None, f"no {kind} column found"


def _reads_as_questions(values: pd.Series) -> bool:
    distinct = {str(v).strip() for v in values if isinstance(v, str) and v.strip()}
    if not distinct or len(distinct) > QUESTION_DISTINCT_MAX:
        return False
    # "Please phone me" and "Was admitted" start like questions: one without a "?" must be long.
    asking = sum(v.endswith("?") or (bool(_QUESTION_WORDS.match(v)) and len(v.split()) >= 5) for v in distinct)
    return asking > len(distinct) / 2


def squash(name) -> str:
    """A column name in lower case, letters and digits only: how names are compared."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _sniff_csv(path: Path, codec: str) -> str:
    """The delimiter of a CSV file, after checking that its first rows agree with its header.

    The delimiter is the one of comma, semicolon and tab that splits the header into the most
    columns and the first rows into as many (a tie goes to the comma): a semicolon export whose
    header says "Comment, free text" is still semicolon-separated. A first data row with more
    fields than the header would be read with the first column as an index, shifting every
    value: it is refused.
    """
    with open(path, encoding=codec, newline="") as f:
        sample = f.read(1 << 16)
    lines = sample.splitlines(keepends=True)
    # The last line of the sample may be cut short; quoted line breaks may split a record.
    first_rows = lines[: min(len(lines) - 1, SNIFF_ROWS) or 1]

    def fields(d):
        return [len(r) for r in csv.reader(first_rows, delimiter=d)]

    def fit(d):  # splits the header at all, then splits every row alike, then into most columns
        counts = fields(d)
        header = counts[0] if counts else 0
        return (header > 1, len(set(counts)) == 1, header)

    delimiter = max(DELIMITERS, key=fit)
    rows = csv.reader(lines, delimiter=delimiter)
    header, first = next(rows, []), next(rows, None)
    if first is not None and len(first) > len(header):
        raise InputFileError(
            f"{path}: line {rows.line_num} has {len(first)} fields but the header has "
            f"{len(header)}: a {DELIMITERS[delimiter]} inside a comment that is not in quotes? "
            "Quote that comment, or save the file again from Excel"
        )
    return delimiter


class TableReader:
    """Chunks of a table file as DataFrames, with its header and a measure of progress.

    Attributes
    ----------
    columns : list of str
    encoding, delimiter : str or None
        How a CSV file was read (None for the other kinds).
    sheet : str or None
        The worksheet read from a workbook.
    total, unit
        The size of the file for a progress bar: bytes of a CSV file, else rows.
    """

    def __init__(self, path: Path, *, encoding: str | None = None, sheet: str | None = None,
                 chunk_rows: int):
        self.path, self.encoding, self.delimiter, self.sheet = path, None, None, None
        kind = file_kind(path)
        if path.is_dir():
            raise InputFileError(f"{path}: is a folder; expected a table file")
        if not path.is_file():
            raise InputFileError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise InputFileError(f"{path}: the file is empty; expected a header row and comments")
        if sheet is not None and kind != "excel":
            raise InputFileError(f"{path}: a sheet was named ({sheet!r}) but this is not a workbook")
        try:
            getattr(self, f"_open_{kind}")(encoding, sheet, chunk_rows)
        except BaseException as err:
            self._release()
            if isinstance(err, (InputFileError, ColumnError)) or not isinstance(err, Exception):
                raise
            if isinstance(err, OSError):
                raise InputFileError(f"{path}: cannot read it ({err.strerror or err})") from None
            # Each library has its own errors for a file that is not a table.
            raise InputFileError(f"{path}: not a readable table ({err})") from None

    def _open_csv(self, encoding, sheet, chunk_rows):
        self.encoding = encoding or detect_encoding(self.path)
        # utf-8-sig reads UTF-8 with or without Excel's byte order mark.
        codec = "utf-8-sig" if self.encoding == "utf-8" else self.encoding
        try:
            self.delimiter = _sniff_csv(self.path, codec)
        except UnicodeDecodeError:
            raise self._undecodable() from None
        # index_col=False: never take a column as the index, whatever the first row holds.
        options = dict(dtype=str, keep_default_na=False, encoding=codec, sep=self.delimiter, index_col=False)
        try:
            self.columns = list(pd.read_csv(self.path, nrows=0, **options).columns)
        except pd.errors.EmptyDataError:
            raise InputFileError(f"{self.path}: no header row; expected a header and comments") from None
        except UnicodeDecodeError:
            raise self._undecodable() from None
        self._file = open(self.path, "rb")
        self.total, self.unit = self.path.stat().st_size, "B"
        self._chunks = pd.read_csv(self._file, chunksize=chunk_rows, **options)

    def _open_excel(self, encoding, sheet, chunk_rows):
        from openpyxl import load_workbook

        self._book = load_workbook(self.path, read_only=True, data_only=True)
        worksheet = self._worksheet(sheet)
        self.sheet = worksheet.title
        rows = worksheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputFileError(f"{self.path}: sheet {self.sheet!r} is empty; expected a header row")
        self.columns = [str(c) if c is not None else "" for c in header]
        self.total, self.unit = (worksheet.max_row - 1 if worksheet.max_row else None), "rows"
        self._chunks = _frames(rows, self.columns, chunk_rows)

    def _worksheet(self, name: str | None):
        """The sheet named, else the one Excel opens on (the active sheet, or the first visible)."""
        book = self._book
        if name is not None:
            if name not in book.sheetnames:
                raise InputFileError(f"{self.path}: no sheet {name!r}; the sheets are {book.sheetnames}")
            return book[name]
        visible = [s for s in book.worksheets if s.sheet_state == "visible"]
        if not visible:
            raise InputFileError(f"{self.path}: every sheet is hidden; name one with --sheet")
        active = book.active
        return active if active in visible else visible[0]

    def _open_parquet(self, encoding, sheet, chunk_rows):
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(self.path)
        self.columns = parquet.schema_arrow.names
        self.total, self.unit = parquet.metadata.num_rows, "rows"
        self._chunks = (self._with_columns(b.to_pandas()) for b in parquet.iter_batches(batch_size=chunk_rows))

    def _with_columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A Parquet chunk with every column of the file, a pandas index written to it included
        (Dask and pandas store one; pandas would make it the frame's index, out of the output)."""
        return frame if list(frame.columns) == self.columns else frame.reset_index()[self.columns]

    def _undecodable(self) -> InputFileError:
        offset = decode_error_offset(self.path, self.encoding)
        return InputFileError(
            f"{self.path}: not {self.encoding} text (line {_line_of(self.path, offset)}, byte {offset})"
        )

    def position(self, rows_done: int) -> int:
        """How far through the file: bytes read for CSV, rows for the others."""
        if self.unit != "B":
            return rows_done
        # Worker processes may still be tagging after the last chunk was read and the file shut.
        return self.total if self._file.closed else self._file.tell()

    def __iter__(self) -> Iterator[pd.DataFrame]:
        try:
            yield from self._chunks
        except UnicodeDecodeError:
            raise self._undecodable() from None
        except pd.errors.ParserError as err:
            raise InputFileError(f"{self.path}: not valid CSV ({err})") from None
        finally:
            self.close()

    def close(self) -> None:
        """Release the file; iterating closes it at the end too."""
        self._release()

    def _release(self) -> None:
        if hasattr(self, "_chunks") and hasattr(self._chunks, "close"):
            self._chunks.close()  # pandas' reader before its file: it flushes the file it reads
        if hasattr(self, "_file"):
            self._file.close()
        if hasattr(self, "_book"):
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


def current_umask() -> int:
    """The process's umask, read without changing it (Linux), or by setting it back at once."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _new_file_mode(path: Path) -> int:
    """The permissions the output gets: an existing file's own, else what the umask allows."""
    if path.exists():
        return path.stat().st_mode & 0o777
    return 0o666 & ~current_umask()


def write_text(path: Path, text: str) -> None:
    """Write a UTF-8 text file (a report page) whole or not at all, as :class:`TableWriter`
    writes a table: a temporary file beside it, moved into place when complete.

    Raises
    ------
    OutputFileError
        The file cannot be written; nothing is left under its name or beside it.
    """
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = _new_file_mode(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise OutputFileError(f"{path}: cannot write it ({err.strerror or err}); nothing was written") from None


class TableWriter:
    """Writes chunks to a temporary file and moves it to ``path`` only on :meth:`commit`.

    Parameters
    ----------
    path : Path
        ``.csv``, ``.xlsx`` or ``.parquet``.
    raw_formulas : bool
        Write CSV cells that a spreadsheet would run as formulas as they are (for a program to
        read), instead of with a leading apostrophe. ``.xlsx`` cells are always text.
    choices : dict of str to sequence of str, optional
        In ``.xlsx``, a drop-down list of these values on every data cell of the named columns
        (a review sheet's sentiment). Other kinds have no drop-downs.
    extra_sheets : dict of str to list of rows, optional
        In ``.xlsx``, further worksheets after the data, by title (a review sheet's theme ids
        and their meaning). Other kinds leave them out.

    Every error of the file system (no permission, a full disk, a parent that is a file) is
    raised as :class:`OutputFileError` naming the output, after the temporary file is removed.
    """

    def __init__(self, path: Path, *, raw_formulas: bool = False, choices=None, extra_sheets=None):
        self.path, self.kind, self.raw_formulas = path, file_kind(path, output=True), raw_formulas
        self.choices, self.extra_sheets = dict(choices or {}), dict(extra_sheets or {})
        self.tmp, self._sink, self._row = None, None, 0
        self._cut, self._replaced = [], []  # Excel cells changed to fit, by first row
        with _output_errors(self):
            path.parent.mkdir(parents=True, exist_ok=True)
            mode = _new_file_mode(path)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
            self.tmp = Path(tmp)
            os.close(fd)
            os.chmod(self.tmp, mode)

    def write(self, frame: pd.DataFrame, sheet: str | None = None) -> None:
        """Append ``frame``'s rows (with the header first, on the first call).

        ``sheet``: in a workbook, start a new worksheet of that name, its header first (a report's
        tables, one a sheet); refused for the other kinds.
        """
        if sheet is not None and self.kind != "excel":
            raise OutputFileError(f"{self.path}: only a workbook (.xlsx) has sheets")
        with _output_errors(self):
            if self.kind == "excel":
                self._write_excel(frame, sheet)
            else:
                getattr(self, f"_write_{self.kind}")(frame)
        self._row += len(frame)

    def _write_csv(self, frame: pd.DataFrame) -> None:
        first = self._sink is None
        self._sink = self._sink or open(self.tmp, "wb")
        if not self.raw_formulas:
            frame = _guard_formulas(frame)
        write_csv(frame, self._sink, header=first)

    def _write_excel(self, frame: pd.DataFrame, sheet: str | None = None) -> None:
        if self._sink is None or sheet is not None:
            if self._sink is None:
                from openpyxl import Workbook

                self._book = Workbook(write_only=True)
            self._sink = self._book.create_sheet(sheet)
            self._columns = [str(c) for c in frame.columns]
            self._sink.append([self._excel_cell(c, 0) for c in self._columns])
        for i, row in enumerate(frame.itertuples(index=False), start=self._row + 1):
            self._sink.append([self._excel_cell(v, i) if isinstance(v, str) else v for v in row])

    def _excel_cell(self, value: str, row: int):
        """A text cell as Excel can hold it, written as text even where it starts with "="."""
        from openpyxl.cell import WriteOnlyCell

        if _NOT_IN_XML.search(value):
            self._replaced.append(row)
            value = _NOT_IN_XML.sub("\ufffd", value)
        if "\r" in value:  # XML reads every line break as a line feed: write it so
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        if len(value) > EXCEL_CELL_CHARS:
            self._cut.append(row)
            value = value[:EXCEL_CELL_CHARS]
        if not value.startswith("="):
            return value
        cell = WriteOnlyCell(self._sink, value)
        cell.data_type = "s"  # openpyxl makes any text starting with "=" a formula
        return cell

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow.parquet as pq

        table = pa.Table.from_arrays(
            [_arrow_column(frame.iloc[:, i]) for i in range(frame.shape[1])],
            names=[str(c) for c in frame.columns],
        )
        if self._sink is None:
            self._sink = pq.ParquetWriter(self.tmp, table.schema)
        try:
            self._sink.write_table(_cast_like(table, self._sink.schema, self._row))
        except InputFileError as err:
            raise InputFileError(f"{self.path}: {err}") from None

    def commit(self) -> None:
        """Finish the file and move it into place; warn of Excel cells changed to fit."""
        with _output_errors(self):
            if self.kind == "excel":
                self._finish_book()
                self._book.save(self.tmp)
            elif self._sink is not None:
                self._sink.close()
            os.replace(self.tmp, self.path)
        if self._replaced:
            warnings.warn(
                f"{self.path}: {len(self._replaced)} cell(s) held control characters an .xlsx file "
                f"cannot store, written as \ufffd (first at row {self._replaced[0]}); CSV and "
                "Parquet keep them"
            )
        if self._cut:
            warnings.warn(
                f"{self.path}: {len(self._cut)} cell(s) were longer than Excel's {EXCEL_CELL_CHARS:,} "
                f"characters and were cut there (first at row {self._cut[0]}); CSV and Parquet "
                "keep every character"
            )

    def _finish_book(self) -> None:
        """Add the drop-downs and the extra sheets to the workbook, before it is saved."""
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.datavalidation import DataValidation

        for name, values in self.choices.items():
            if name in self._columns and self._row:
                letter = get_column_letter(self._columns.index(name) + 1)
                listed = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
                listed.add(f"{letter}2:{letter}{self._row + 1}")
                self._sink.data_validations.append(listed)
        for title, rows in self.extra_sheets.items():
            self._sink = self._book.create_sheet(title)
            for row in rows:
                self._sink.append([self._excel_cell(str(v), 0) for v in row])

    def discard(self) -> None:
        """Remove the temporary file (and openpyxl's, holding the rows written so far); the
        output's name is left as it was."""
        if self._sink is not None:
            try:
                self._sink.close()
                if self.kind == "excel":
                    self._sink._writer.cleanup()  # openpyxl keeps a write-only sheet in a temp file
            except Exception:  # the files are removed: what failed in closing them does not matter
                pass
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _output_errors(writer: TableWriter):
    """Turn a file system error while writing into one :class:`OutputFileError` naming the file."""
    try:
        yield
    except OSError as err:
        writer.discard()
        raise OutputFileError(
            f"{writer.path}: cannot write it ({err.strerror or err}); nothing was written"
        ) from None


def _guard_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with an apostrophe before every text cell and column name a spreadsheet would run."""
    out = frame.copy(deep=False)
    out.columns = [_guarded(str(c)) for c in frame.columns]
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if isinstance(column.dtype, pd.StringDtype):
            out.isetitem(i, _guarded_strings(column))
        elif column.dtype == object or isinstance(column.dtype, pd.CategoricalDtype):
            out.isetitem(i, column.astype(object).map(_guarded, na_action="ignore"))
    return out


def _guarded(value):
    # fullmatch, as Arrow's $ matches only at the very end (Python's also before a final newline).
    if isinstance(value, str) and _FORMULA_START.match(value) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def unguarded(value):
    """A cell as it was before :func:`_guarded` put an apostrophe before it (a cell that starts
    with an apostrophe and a formula character, and is not a plain number, loses the apostrophe)."""
    if isinstance(value, str) and value.startswith("'") and _guarded(value[1:]) != value[1:]:
        return value[1:]
    return value


def _guarded_strings(column: pd.Series) -> pd.Series:
    """:func:`_guarded` over a column of strings, in Arrow: a million cells in milliseconds."""
    text = pa.array(column, type=pa.string())
    risky = pc.and_(pc.match_substring_regex(text, FORMULA_START),
                    pc.invert(pc.match_substring_regex(text, PLAIN_NUMBER)))
    if not pc.any(risky).as_py():  # the usual case: nothing to change, nothing to copy
        return column
    guarded = pc.if_else(risky, pc.binary_join_element_wise("'", text, ""), text)
    return pd.Series(guarded.to_numpy(zero_copy_only=False), index=column.index, dtype=column.dtype)


def _arrow_column(column: pd.Series) -> pa.Array:
    """``column`` as Arrow, with cells of mixed or no known type (Excel's) written as text."""
    if column.dtype != object:
        return pa.array(column, from_pandas=True)
    try:
        array = pa.array(column, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = None
    if array is None or pa.types.is_null(array.type):
        array = pa.array([None if pd.isna(v) else str(v) for v in column], type=pa.string())
    return array


def _cast_like(table: pa.Table, schema: pa.Schema, first_row: int) -> pa.Table:
    """``table`` cast to the schema of the file's first chunk, or an error naming the column."""
    columns = []
    for field, column in zip(schema, table.columns):
        try:
            columns.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            if not pa.types.is_string(field.type):
                raise InputFileError(
                    f"column {field.name!r} changes type after row {first_row}: {field.type} "
                    f"before, {column.type} from there; write CSV or .xlsx, or make the column "
                    "one type"
                ) from None
            columns.append(pa.array([None if v is None else str(v) for v in column.to_pylist()],
                                    type=pa.string()))
    return pa.Table.from_arrays(columns, schema=schema)


def write_csv(frame: pd.DataFrame, sink, header: bool) -> None:
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
