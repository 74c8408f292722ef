"""Choosing comments for review and the review sheet: never a text twice, never one reviewed
before, and a sheet that read_corpus reads back as it was written, in CSV and .xlsx."""

import tempfile
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from feedback_nlp import ColumnError, InputFileError, read_corpus, review
from feedback_nlp.batch import tag_file
from feedback_nlp.cli import main
from feedback_nlp.reviewing import select, text_keys
from feedback_nlp.tables import TableWriter
from feedback_nlp.tagging import load
from feedback_nlp.themes import SENTIMENTS, THEME_IDS

from .conftest import EXAMPLES_PATH


@pytest.fixture(scope="module")
def default_tagger():
    return load()


def test_selection_never_repeats_a_text_nor_chooses_an_excluded_one(tagger, small_corpus):
    texts = small_corpus["text"].head(120).tolist()
    # The same comments again, in other case and spacing: the same comment for a reviewer.
    texts += [f"  {t.upper()} " for t in texts[:40]]
    excluded = texts[40:60]
    chosen = select(tagger, texts, n=60, exclude=[t.lower() for t in excluded])
    keys = text_keys([texts[i] for i in chosen.rows])
    assert len(chosen.rows) == 60
    assert len(set(keys)) == len(keys)
    assert not set(keys) & set(text_keys(excluded))
    assert all(reason.split(";")[0].split(":")[0] in ("near_threshold", "rare_theme", "unsure_sentiment")
               for reason in chosen.reasons)


def test_selection_takes_every_new_comment_when_there_are_fewer_than_asked(tagger):
    texts = ["Kind nurses", "kind  nurses", "Parking was awful", "", None, "Waited three hours"]
    chosen = select(tagger, texts, n=10)
    assert sorted(text_keys([texts[i] for i in chosen.rows])) == ["kind nurses", "parking was awful",
                                                                  "waited three hours"]


def test_selection_is_the_same_for_the_same_seed(tagger, small_corpus):
    texts = small_corpus["text"].tolist()
    assert list(select(tagger, texts, n=30).rows) == list(select(tagger, texts, n=30).rows)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_sheet_is_a_labelled_file_that_read_corpus_reads_back(tmp_path, suffix):
    sheet = tmp_path / f"review{suffix}"
    summary = review(EXAMPLES_PATH, sheet, n=8)
    assert summary.rows == 8 and summary.question_column == "question"
    back = read_corpus(sheet, keep=["reason", "respondent_id"])
    source = pd.read_csv(EXAMPLES_PATH, dtype=str, keep_default_na=False).set_index("respondent_id")
    # Every chosen row is its input row: the text, the question and the id unchanged.
    assert back["text"].tolist() == source.loc[back["respondent_id"], "comment"].tolist()
    assert back["question"].tolist() == source.loc[back["respondent_id"], "question"].tolist()
    assert back["reason"].str.contains("kind:").all()
    assert set(back["sentiment"]) <= set(SENTIMENTS)


def test_xlsx_sheet_has_a_sentiment_drop_down_and_the_themes_on_a_second_sheet(tmp_path):
    sheet = tmp_path / "review.xlsx"
    review(EXAMPLES_PATH, sheet, n=5)
    book = load_workbook(sheet)
    first, themes = book.worksheets
    header = [c.value for c in first[1]]
    assert header[:6] == ["text", "question", "themes", "sentiment", "flags", "reason"]
    [drop_down] = first.data_validations.dataValidation
    assert str(drop_down.sqref) == "D2:D6" and drop_down.formula1 == '"positive,neutral,negative"'
    assert [row[0] for row in themes.iter_rows(min_row=2, values_only=True)] == list(THEME_IDS)
    assert all(c.data_type == "s" for row in first.iter_rows(min_row=2) for c in row if c.value is not None)


def test_a_second_round_never_chooses_a_comment_of_the_first(tmp_path):
    first, second = tmp_path / "round1.csv", tmp_path / "round2.xlsx"
    review(EXAMPLES_PATH, first, n=8)
    review(EXAMPLES_PATH, second, n=8, exclude=[first])
    assert not set(text_keys(read_corpus(first)["text"])) & set(text_keys(read_corpus(second)["text"]))


def test_an_already_tagged_file_is_reviewed_with_fresh_guesses(tmp_path, default_tagger):
    tagged = tmp_path / "tagged.csv"
    tag_file(EXAMPLES_PATH, tagged, default_tagger, jobs=1)
    sheet = tmp_path / "review.csv"
    review(tagged, sheet, n=5)
    columns = pd.read_csv(sheet, nrows=0).columns.tolist()
    assert columns == ["text", "question", "themes", "sentiment", "flags", "reason", "respondent_id"]


def test_an_input_column_the_sheet_needs_is_refused(write_csv, tmp_path):
    path = write_csv("comment,reason\nKind staff,x\nParking,y\n")
    with pytest.raises(ColumnError, match=r"\['reason'\].*rename"):
        review(path, tmp_path / "sheet.csv", n=2)


def test_a_parquet_sheet_is_refused(tmp_path):
    with pytest.raises(InputFileError, match="for a person"):
        review(EXAMPLES_PATH, tmp_path / "sheet.parquet", n=2)


def test_cli_review_writes_the_sheet_and_says_what_it_chose(tmp_path, capsys):
    sheet = tmp_path / "sheet.csv"
    assert main(["review", str(EXAMPLES_PATH), "-o", str(sheet), "-n", "4"]) == 0
    assert "chose 4 of 19 distinct new comments" in capsys.readouterr().err
    assert len(read_corpus(sheet)) == 4


# Text with formula starts and line breaks made likely; no NUL (not text), no lone surrogates,
# and not an apostrophe before a formula character, which reads back as the formula guard's.
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_text = st.one_of(
    st.text(_chars, max_size=30),
    st.builds(lambda a, b: a + b, st.sampled_from(["=", "+", "-", "@", "\n", '"', ","]), st.text(_chars, max_size=15)),
).filter(lambda t: not (t.startswith("'") and t[1:2] in ("=", "+", "-", "@", "\t", "\r")))
_row = st.tuples(_text, st.sets(st.sampled_from(THEME_IDS)), st.sampled_from(SENTIMENTS + ("",)))


def _as_excel_keeps(text: str) -> str:
    """What an .xlsx cell holds of a text (TableWriter's documented changes)."""
    import re

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "\ufffd", text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, min_size=1, max_size=8), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_any_sheet_reads_back_as_written(rows, suffix):
    frame = pd.DataFrame({
        "text": [r[0] for r in rows],
        "themes": [";".join(t for t in THEME_IDS if t in r[1]) for r in rows],
        "sentiment": [r[2] for r in rows],
        "flags": "",
        "reason": "unsure_sentiment;kind:1",
    })
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"sheet{suffix}"
        writer = TableWriter(path, choices={"sentiment": SENTIMENTS})
        writer.write(frame)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # control characters said by the writer; empty texts
            writer.commit()
            back = read_corpus(path)
    expected = frame["text"] if suffix == ".csv" else frame["text"].map(_as_excel_keeps)
    assert back["text"].tolist() == expected.tolist()
    for theme in THEME_IDS:
        assert back[theme].tolist() == [int(theme in r[1]) for r in rows]
    assert back["sentiment"].tolist() == [r[2] or None for r in rows]
