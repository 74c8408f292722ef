"""Batch tagging of files: formats, encodings, row order and numbering, atomic output, jobs."""

import pandas as pd
import pytest

from feedback_nlp import ColumnError, InputFileError
from feedback_nlp.batch import tag_file
from feedback_nlp.tables import detect_encoding, find_text_column, write_csv
from feedback_nlp.tagging import RESULT_COLUMNS


def _read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture
def survey(small_corpus, tmp_path):
    """A survey export of 1,000 rows with an id, the comment, the question and a score."""
    frame = pd.DataFrame(
        {
            "Respondent ID": [f"R{i:04d}" for i in range(1000)],
            "FFT answer": (small_corpus["text"].tolist() * 2)[:1000],
            "FFT question": (small_corpus["question"].tolist() * 2)[:1000],
            "score": [str(i % 5 + 1) for i in range(1000)],
        }
    )
    frame.loc[[3, 500], "FFT answer"] = ""
    path = tmp_path / "survey.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_every_row_kept_in_order_with_columns_unchanged(tagger, survey, tmp_path):
    path, frame = survey
    out = tmp_path / "out.csv"
    summary = tag_file(path, out, tagger, question_column="FFT question", chunk_rows=300)
    tagged = _read(out)
    assert summary.rows == 1000 and summary.column == "FFT answer"
    assert list(tagged.columns) == [*frame.columns, *RESULT_COLUMNS]  # has an id: no row column
    pd.testing.assert_frame_equal(tagged[frame.columns], frame)
    expected = tagger.tag_frame(frame, "FFT answer", "FFT question")
    assert tagged["themes"].tolist() == expected["themes"].tolist()
    assert tagged["sentiment"].tolist() == expected["sentiment"].tolist()


def test_chunk_size_and_jobs_do_not_change_the_output(tagger, survey, tmp_path):
    path, _ = survey
    tag_file(path, tmp_path / "one.csv", tagger, chunk_rows=1000)
    tag_file(path, tmp_path / "two.csv", tagger, chunk_rows=170, jobs=2)
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()


def test_input_without_an_id_column_gets_row_numbers(tagger, write_csv, tmp_path):
    out = tmp_path / "out.csv"
    tag_file(write_csv("comment\nfirst\nsecond\nthird\n"), out, tagger, chunk_rows=2)
    tagged = _read(out)
    assert tagged.columns[0] == "row" and tagged["row"].tolist() == ["1", "2", "3"]
    assert tagged["comment"].tolist() == ["first", "second", "third"]


def test_quoted_newlines_and_empty_comments_are_kept(tagger, write_csv, tmp_path):
    out = tmp_path / "out.csv"
    tag_file(write_csv('id,comment\n1,"line one\nline two"\n2,\n3,"say ""hi"""\n'), out, tagger)
    tagged = _read(out)
    assert tagged["comment"].tolist() == ["line one\nline two", "", 'say "hi"']
    assert tagged.loc[1, "themes"] == "" and tagged.loc[1, "sentiment"] == "neutral"


@pytest.mark.parametrize("mixed", [None, [1, "two", None, pd.Timestamp("2026-01-05")]])
def test_csv_chunks_read_back_as_pandas_writes_them(tmp_path, mixed):
    frame = pd.DataFrame({
        "text": pd.array(['a, "b"', "line\nbreak", "", "café"], dtype="str"),
        "score": [0.0, 1.0, float("nan"), 0.5236],
        "review": [True, False, True, False],
        "count": [1, 2, 3, -4],
        # Nullable columns, as pandas reads them back from Parquet.
        "consent": pd.array([True, None, False, True], dtype="boolean"),
        "visits": pd.array([1, None, 3, 4], dtype="Int64"),
    })
    if mixed is not None:  # an Excel column of mixed cells
        frame["cell"] = pd.Series(mixed, dtype=object)
    path = tmp_path / "out.csv"
    with open(path, "wb") as sink:
        write_csv(frame.head(2), sink, header=True)
        write_csv(frame.tail(2), sink, header=False)
    frame.to_csv(tmp_path / "pandas.csv", index=False)
    pd.testing.assert_frame_equal(_read(path), _read(tmp_path / "pandas.csv"))


@pytest.mark.parametrize(
    "raw, encoding",
    [
        ("comment\ncafé “nice”\n".encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + "comment\ncafé “nice”\n".encode("utf-8"), "utf-8"),
        ("comment\ncafé “nice”\n".encode("cp1252"), "cp1252"),
    ],
)
def test_utf8_bom_and_windows_1252_are_read_correctly(tagger, tmp_path, raw, encoding):
    path = tmp_path / "in.csv"
    path.write_bytes(raw)
    assert detect_encoding(path) == encoding
    summary = tag_file(path, tmp_path / "out.csv", tagger)
    assert summary.encoding == encoding
    assert _read(tmp_path / "out.csv")["comment"].tolist() == ["café “nice”"]


@pytest.mark.parametrize(
    "raw, match",
    [
        (b"comment\nok\n\x81\x8d\n", r"byte 11 is not valid UTF-8 and the file is not Windows-1252"),
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL bytes; this is not a text table"),
    ],
)
def test_unreadable_inputs_are_refused_and_nothing_is_written(tagger, tmp_path, raw, match):
    path = tmp_path / "in.csv"
    path.write_bytes(raw)
    with pytest.raises(InputFileError, match=match):
        tag_file(path, tmp_path / "out.csv", tagger)
    assert list(tmp_path.iterdir()) == [path]


def test_missing_text_column_is_refused_before_writing(tagger, write_csv, tmp_path):
    with pytest.raises(ColumnError, match=r"found no column among \['id', 'score'\]"):
        tag_file(write_csv("id,score\n1,5\n"), tmp_path / "out.csv", tagger)
    assert not (tmp_path / "out.csv").exists()


def test_a_failure_midway_leaves_no_output_and_no_temporary_file(tagger, survey, tmp_path, monkeypatch):
    path, _ = survey
    out = tmp_path / "out.csv"
    out.write_text("the previous run's output\n")
    calls = []

    def fail_on_third_chunk(frame, *args, **options):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return type(tagger).tag_frame(tagger, frame, *args, **options)

    monkeypatch.setattr(tagger, "tag_frame", fail_on_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        tag_file(path, out, tagger, chunk_rows=100)
    assert out.read_text() == "the previous run's output\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "survey.csv"]


def test_excel_and_parquet_in_and_out(tagger, survey, tmp_path):
    path, frame = survey
    small = frame.head(50)
    small.to_excel(tmp_path / "in.xlsx", index=False)
    small.to_parquet(tmp_path / "in.parquet", index=False)
    tag_file(tmp_path / "in.xlsx", tmp_path / "out.parquet", tagger, chunk_rows=20)
    tag_file(tmp_path / "in.parquet", tmp_path / "out.xlsx", tagger, chunk_rows=20)
    from_excel = pd.read_parquet(tmp_path / "out.parquet")
    from_parquet = pd.read_excel(tmp_path / "out.xlsx", dtype=str, keep_default_na=False)
    expected = tagger.tag_frame(small, "FFT answer", "FFT question")  # found by its name
    for tagged in (from_excel, from_parquet):
        assert len(tagged) == 50
        assert tagged["Respondent ID"].tolist() == small["Respondent ID"].tolist()
        assert tagged["themes"].fillna("").tolist() == expected["themes"].tolist()


@pytest.mark.parametrize(
    "columns, expected",
    [(["id", "Comment"], "Comment"), (["FFT answer", "score"], "FFT answer"), (["free_text"], "free_text")],
)
def test_comment_column_is_found_by_name(columns, expected):
    assert find_text_column(columns) == expected
