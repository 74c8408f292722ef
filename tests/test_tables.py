"""Real exports as people save them: formulas, delimiters, ragged rows, encodings, sheets, limits."""

import errno
import os
import zipfile

import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook, load_workbook

from feedback_nlp import InputFileError, OutputFileError
from feedback_nlp.batch import tag_file
from feedback_nlp.tables import EXCEL_CELL_CHARS, TableWriter

FORMULAS = ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\t=1+1",
            "=cmd|' /C notepad'!'A1'"]


def _read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture
def formulas_csv(tmp_path):
    path = tmp_path / "f.csv"
    pd.DataFrame({"id": [f"C{i}" for i in range(len(FORMULAS) + 2)],
                  "comment": [*FORMULAS, "-2", "Kind staff"]}).to_csv(path, index=False)
    return path


def test_xlsx_output_writes_formula_like_comments_as_text(tagger, formulas_csv, tmp_path):
    out = tmp_path / "o.xlsx"
    tag_file(formulas_csv, out, tagger)
    sheet_xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    comments = [row[1] for row in load_workbook(out).active.iter_rows(min_row=2, values_only=True)]
    assert comments == [*FORMULAS, "-2", "Kind staff"]


def test_csv_output_neutralises_formulas_unless_asked_for_raw_cells(tagger, formulas_csv, tmp_path):
    guarded, raw = tmp_path / "guarded.csv", tmp_path / "raw.csv"
    tag_file(formulas_csv, guarded, tagger)
    tag_file(formulas_csv, raw, tagger, raw_formulas=True)
    assert _read(guarded)["comment"].tolist() == [*("'" + f for f in FORMULAS), "-2", "Kind staff"]
    assert _read(raw)["comment"].tolist() == [*FORMULAS, "-2", "Kind staff"]


def test_a_ragged_first_row_is_refused_not_shifted(tagger, write_csv, tmp_path):
    path = write_csv("id,comment\nR1,Good care, but slow\nR2,Fine\n")
    with pytest.raises(InputFileError, match=r"line 2 has 3 fields but the header has 2.*comma"):
        tag_file(path, tmp_path / "o.csv", tagger)
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("delimiter,name", [(";", "semicolon"), ("\t", "tab")])
def test_semicolon_and_tab_separated_files_are_read_and_said(tagger, write_csv, tmp_path, delimiter, name):
    rows = ["id;question;comment", "1;What was good?;Kind, caring nurses", "2;What could be better?;£5 parking"]
    path = write_csv("\n".join(r.replace(";", delimiter) for r in rows) + "\n")
    summary = tag_file(path, tmp_path / "o.csv", tagger, question_column="question")
    tagged = _read(tmp_path / "o.csv")
    assert summary.delimiter == delimiter
    assert tagged[["id", "question", "comment"]].values.tolist() == [
        ["1", "What was good?", "Kind, caring nurses"], ["2", "What could be better?", "£5 parking"]
    ]


def test_utf8_with_one_stray_windows_byte_is_refused_naming_line_and_byte(tagger, tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes("id,comment\n1,café\n".encode() + b"2,bad \xe9\n")
    with pytest.raises(InputFileError, match=r"mixes encodings.*line 3, byte 25.*--encoding cp1252"):
        tag_file(path, tmp_path / "o.csv", tagger)
    tag_file(path, tmp_path / "o.csv", tagger, encoding="cp1252")  # read as the user asks
    assert _read(tmp_path / "o.csv")["comment"].tolist() == ["cafÃ©", "bad é"]


def test_utf16_text_is_refused_with_what_to_do(tagger, tmp_path):
    path = tmp_path / "unicode.csv"
    path.write_bytes("id\tcomment\n1\tfine\n".encode("utf-16"))
    with pytest.raises(InputFileError, match="UTF-16.*CSV UTF-8"):
        tag_file(path, tmp_path / "o.csv", tagger)


def _workbook(path, sheets, active=None, hidden=()):
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if title in hidden:
            sheet.sheet_state = "hidden"
    if active is not None:
        book.active = book.sheetnames.index(active)
    book.save(path)
    return path


def test_the_sheet_excel_opens_on_is_read_not_a_hidden_first_one(tagger, tmp_path):
    path = _workbook(tmp_path / "w.xlsx", {
        "lookup": [["comment"], ["hidden lookup value"]],
        "Responses": [["id", "comment"], [1, "Kind staff"], [2, "Long wait"]],
        "Notes": [["comment"], ["a note"]],
    }, active="Responses", hidden=("lookup",))
    summary = tag_file(path, tmp_path / "o.csv", tagger)
    assert summary.sheet == "Responses"
    assert _read(tmp_path / "o.csv")["comment"].tolist() == ["Kind staff", "Long wait"]
    tag_file(path, tmp_path / "n.csv", tagger, sheet="Notes")
    assert _read(tmp_path / "n.csv")["comment"].tolist() == ["a note"]
    with pytest.raises(InputFileError, match=r"no sheet 'Nope'; the sheets are \['lookup', 'Responses', 'Notes'\]"):
        tag_file(path, tmp_path / "x.csv", tagger, sheet="Nope")


def test_blank_comments_in_whole_chunks_of_a_workbook_or_parquet_are_tagged_neutral(tagger, tmp_path):
    rows = [["id", "comment"]] + [[i, None] for i in range(12)] + [[12, "Kind staff"]]
    book = _workbook(tmp_path / "blanks.xlsx", {"Sheet": rows})
    tag_file(book, tmp_path / "o.csv", tagger, chunk_rows=5)
    tagged = _read(tmp_path / "o.csv")
    assert len(tagged) == 13 and set(tagged["sentiment"][:12]) == {"neutral"}
    assert set(tagged["themes"][:12]) == {""}
    frame = pd.DataFrame({"id": range(4), "comment": pd.Series([None] * 4, dtype=object)})
    frame.to_parquet(tmp_path / "nulls.parquet")
    tag_file(tmp_path / "nulls.parquet", tmp_path / "p.csv", tagger)
    assert _read(tmp_path / "p.csv")["sentiment"].tolist() == ["neutral"] * 4


def test_parquet_output_holds_columns_blank_or_mixed_in_the_first_chunk(tagger, tmp_path):
    rows = [["id", "comment", "ward"]] + [[f"R{i}" if i % 2 else i, "Kind staff", None if i < 6 else 7] for i in range(9)]
    book = _workbook(tmp_path / "drift.xlsx", {"Sheet": rows})
    tag_file(book, tmp_path / "o.parquet", tagger, chunk_rows=5)
    table = pq.read_table(tmp_path / "o.parquet")
    assert table.column("id").to_pylist() == ["0", "R1", "2", "R3", "4", "R5", "6", "R7", "8"]
    assert table.column("ward").to_pylist() == [None] * 6 + ["7"] * 3


def test_xlsx_output_replaces_control_characters_and_cuts_long_cells_with_a_warning(tagger, write_csv, tmp_path):
    long = "word " * (EXCEL_CELL_CHARS // 5 + 10)
    path = tmp_path / "c.csv"
    pd.DataFrame({"id": ["1", "2", "3"], "comment": ["a\x0bb\x07", long, "fine"]}).to_csv(path, index=False)
    with pytest.warns(UserWarning) as caught:
        tag_file(path, tmp_path / "o.xlsx", tagger)
    said = " ".join(str(w.message) for w in caught)
    assert "1 cell(s) held control characters" in said and "first at row 1" in said
    assert f"longer than Excel's {EXCEL_CELL_CHARS:,}" in said and "first at row 2" in said
    comments = [r[1] for r in load_workbook(tmp_path / "o.xlsx").active.iter_rows(min_row=2, values_only=True)]
    assert comments == ["a\ufffdb\ufffd", long[:EXCEL_CELL_CHARS], "fine"]


def test_the_output_never_replaces_the_input(tagger, write_csv):
    path = write_csv("id,comment\n1,Kind staff\n")
    before = path.read_bytes()
    with pytest.raises(InputFileError, match="would replace the input"):
        tag_file(path, path, tagger)
    assert path.read_bytes() == before


def test_the_output_gets_the_permissions_the_umask_allows(tagger, write_csv, tmp_path):
    old = os.umask(0o022)
    try:
        tag_file(write_csv("id,comment\n1,Kind staff\n"), tmp_path / "o.csv", tagger)
    finally:
        os.umask(old)
    assert (tmp_path / "o.csv").stat().st_mode & 0o777 == 0o644


def test_an_output_under_a_file_is_one_clear_error(tagger, write_csv, tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputFileError, match="afile"):
        tag_file(write_csv("id,comment\n1,Kind staff\n"), tmp_path / "afile" / "o.csv", tagger)


def test_a_full_disk_leaves_nothing_behind(tagger, write_csv, tmp_path, monkeypatch):
    source = write_csv("id,comment\n1,Kind staff\n2,Long wait\n")

    def full(self, frame):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(TableWriter, "_write_csv", full)
    with pytest.raises(OutputFileError, match=r"o.csv: cannot write it \(No space left on device\)"):
        tag_file(source, tmp_path / "o.csv", tagger)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_no_permission_to_write_is_one_clear_error(tagger, write_csv, tmp_path, monkeypatch):
    import tempfile

    def refused(*args, **kwargs):  # as mkstemp fails in a folder the user cannot write to
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(OutputFileError, match=r"out.csv: cannot write it \(Permission denied\)"):
        tag_file(write_csv("id,comment\n1,Kind staff\n"), tmp_path / "out.csv", tagger)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_a_parquet_files_stored_index_column_is_kept(tagger, tmp_path):
    frame = pd.DataFrame({"patient_id": ["P1", "P2"], "comment": ["Kind staff", "Long wait"]})
    frame.set_index("patient_id").to_parquet(tmp_path / "i.parquet")  # as pandas and Dask write it
    tag_file(tmp_path / "i.parquet", tmp_path / "o.csv", tagger)
    tagged = _read(tmp_path / "o.csv")
    assert tagged["patient_id"].tolist() == ["P1", "P2"] and tagged["comment"].tolist() == ["Kind staff", "Long wait"]


def test_categorical_and_object_columns_are_guarded_too(tagger, tmp_path):
    frame = pd.DataFrame({"comment": ["fine", "ok"], "ward": pd.Categorical(['=HYPERLINK("http://x","c")', "@SUM(1)"]),
                          "note": ["+cmd", "-3"]})
    frame.to_parquet(tmp_path / "c.parquet")
    tag_file(tmp_path / "c.parquet", tmp_path / "o.csv", tagger)
    tagged = _read(tmp_path / "o.csv")
    assert tagged["ward"].tolist() == ["'=HYPERLINK(\"http://x\",\"c\")", "'@SUM(1)"]
    assert tagged["note"].tolist() == ["'+cmd", "-3"]


@pytest.mark.parametrize("name", ["o.tsv", "o.txt", "o.xlsm"])
def test_outputs_are_only_written_as_what_their_name_says(tagger, write_csv, tmp_path, name):
    with pytest.raises(InputFileError, match="expected .csv, .xlsx or .parquet"):
        tag_file(write_csv("id,comment\n1,Kind staff\n"), tmp_path / name, tagger)


def test_a_failed_xlsx_run_leaves_no_temporary_file_of_openpyxls(tagger, write_csv, tmp_path, monkeypatch):
    import glob
    import tempfile as tempfile_module

    before = set(glob.glob(os.path.join(tempfile_module.gettempdir(), "openpyxl.*")))
    calls = []

    def fail_on_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return type(tagger).tag_frame(tagger, *args, **kwargs)

    monkeypatch.setattr(tagger, "tag_frame", fail_on_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        tag_file(write_csv("id,comment\n1,a\n2,b\n3,c\n"), tmp_path / "o.xlsx", tagger, chunk_rows=1)
    assert set(glob.glob(os.path.join(tempfile_module.gettempdir(), "openpyxl.*"))) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_a_semicolon_file_whose_header_holds_a_comma_is_read_by_semicolons(tagger, write_csv, tmp_path):
    path = write_csv("ID;Comment, free text;Ward\n1;Kind staff;A\n2;Long wait, rude;B\n")
    summary = tag_file(path, tmp_path / "o.csv", tagger, column="Comment, free text")
    assert summary.delimiter == ";"
    assert _read(tmp_path / "o.csv")[["ID", "Ward"]].values.tolist() == [["1", "A"], ["2", "B"]]
