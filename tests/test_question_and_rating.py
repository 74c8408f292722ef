"""The whole export read: the question and the rating found without being named, and used."""

import json

import numpy as np
import pandas as pd
import pytest

from feedback_nlp import ColumnError, InputFileError, RatingError, TrainingConfig, load, read_corpus, train
from feedback_nlp.batch import tag_file
from feedback_nlp.ratings import normalise_ratings
from feedback_nlp.tables import find_context_column

QUESTIONS = ["What was good?", "What could we do better?"]


@pytest.fixture(scope="module")
def rated_tagger(small_corpus):
    """A model trained with ratings 1-5 that follow the sentiment loosely, as FFT ratings do."""
    rng = np.random.default_rng(0)
    base = small_corpus["sentiment"].map({"positive": 1, "neutral": 3, "negative": 5}).fillna(3).to_numpy()
    ratings = np.clip(base + rng.integers(-1, 2, len(base)), 1, 5).astype(int)
    return train(small_corpus.assign(rating=[str(r) for r in ratings]), TrainingConfig(cv_folds=0))


def _export(tmp_path, small_corpus, **columns):
    frame = pd.DataFrame({"id": [f"R{i}" for i in range(60)], "comment": small_corpus["text"].head(60).tolist()})
    for name, values in columns.items():
        frame[name] = values
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    return path, frame


@pytest.mark.parametrize("name", ["question", "FFT question", "Question text", "Survey Question"])
def test_the_question_column_is_found_by_its_name(name):
    column, said = find_context_column("question", ["id", name, "comment"], pd.DataFrame(), exclude=("comment",))
    assert column == name and "found by its name" in said


def test_the_question_column_is_found_by_its_values_and_not_guessed_when_two_could_be_it():
    sample = pd.DataFrame({"comment": ["Why was I kept waiting?", "Kind staff"], "Q1": QUESTIONS,
                           "ward": ["A", "B"]})
    assert find_context_column("question", sample.columns, sample, exclude=("comment",))[0] == "Q1"
    sample["Q2"] = ["How was the food?", "Was the ward clean?"]
    column, said = find_context_column("question", sample.columns, sample, exclude=("comment",))
    assert column is None and "several columns could be the question (['Q1', 'Q2'])" in said


def test_tag_file_finds_the_question_and_tags_as_when_it_is_named(tagger, small_corpus, tmp_path):
    path, frame = _export(tmp_path, small_corpus, **{"Q": [QUESTIONS[i % 2] for i in range(60)]})
    found = tag_file(path, tmp_path / "found.csv", tagger)
    tag_file(path, tmp_path / "named.csv", tagger, question_column="Q")
    tag_file(path, tmp_path / "none.csv", tagger, question_column=None)
    assert found.question_column == "Q" and "values read as questions" in found.found[0]
    assert (tmp_path / "found.csv").read_bytes() == (tmp_path / "named.csv").read_bytes()
    assert (tmp_path / "none.csv").read_bytes() != (tmp_path / "named.csv").read_bytes()


def test_ratings_are_read_as_a_spreadsheet_shows_them():
    assert normalise_ratings([1, 2.0, " 3 ", "4.0", None, float("nan"), np.float32("nan"), "", pd.NA, "Good",
                              "1_0", "\u0661", "1.5"]).tolist() == [
        "1", "2", "3", "4", None, None, None, None, None, "Good", "1_0", "\u0661", "1.5"]


def test_values_that_start_like_questions_are_not_taken_for_the_question():
    sample = pd.DataFrame({"comment": ["Kind", "Slow"], "Contact": ["Please phone me", "Please email me"],
                           "Admission": ["Was admitted", "Was not admitted"]})
    assert find_context_column("question", sample.columns, sample, exclude=("comment",))[0] is None


def test_a_rating_column_found_by_name_with_other_values_is_left_out_not_refused(rated_tagger, small_corpus, tmp_path):
    path, _ = _export(tmp_path, small_corpus, rating=["Very good", "Poor"] * 30)
    summary = tag_file(path, tmp_path / "o.csv", rated_tagger)
    assert summary.rating_column is None and "not used: it holds ['Poor', 'Very good']" in summary.found[-1]


def test_a_model_trained_with_ratings_records_its_scale_and_uses_them(rated_tagger, tmp_path):
    assert rated_tagger.rating_scale == ("1", "2", "3", "4", "5")
    rated_tagger.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "model.json").read_text())["rating_scale"] == ["1", "2", "3", "4", "5"]
    text = "The parking"
    good, poor, none = (rated_tagger.tag(text, None, r).sentiment_scores["negative"] for r in (1, 5, None))
    assert poor > none > good  # the rating moves the sentiment; absent, the text alone decides
    assert rated_tagger.tag_many([text, text], ratings=["1", 1.0]) == [rated_tagger.tag(text, None, 1)] * 2


def test_a_rating_off_the_scale_is_refused_with_its_row(rated_tagger, tagger):
    with pytest.raises(RatingError, match=r"comment 1: rating '9' is not on the model's scale \['1', '2', '3', '4', '5'\]"):
        rated_tagger.tag_many(["a", "b"], ratings=[1, 9])
    frame = pd.DataFrame({"c": ["a", "b"], "r": ["1", "Good"]}, index=[10, 11])
    with pytest.raises(RatingError, match="row 11: rating 'Good'"):
        rated_tagger.tag_frame(frame, "c", rating_column="r")
    with pytest.raises(RatingError, match="trained without ratings"):
        tagger.tag("a", None, 3)


def test_tag_file_finds_and_uses_the_rating_and_refuses_one_off_the_scale(rated_tagger, small_corpus, tmp_path):
    ratings = [str(i % 5 + 1) for i in range(60)]
    path, frame = _export(tmp_path, small_corpus, **{"FFT rating": ratings})
    summary = tag_file(path, tmp_path / "found.csv", rated_tagger)
    tag_file(path, tmp_path / "named.csv", rated_tagger, rating_column="FFT rating", question_column=None)
    assert summary.rating_column == "FFT rating"
    assert (tmp_path / "found.csv").read_bytes() == (tmp_path / "named.csv").read_bytes()
    expected = rated_tagger.tag_many(frame["comment"].tolist(), ratings=ratings)
    assert pd.read_csv(tmp_path / "found.csv")["sentiment"].tolist() == [t.sentiment for t in expected]
    ratings[41] = "8"
    path, _ = _export(tmp_path, small_corpus, **{"FFT rating": ratings})
    with pytest.raises(InputFileError, match=r"export.csv, column 'FFT rating', row 42: rating '8'"):
        tag_file(path, tmp_path / "bad.csv", rated_tagger, chunk_rows=25, jobs=2)
    assert not (tmp_path / "bad.csv").exists()


def test_a_rating_column_is_not_used_with_a_model_trained_without_ratings(tagger, small_corpus, tmp_path):
    path, _ = _export(tmp_path, small_corpus, rating=["1"] * 60)
    summary = tag_file(path, tmp_path / "o.csv", tagger)
    assert summary.rating_column is None and "trained without ratings" in summary.found[-1]
    with pytest.raises(ColumnError, match="trained without ratings"):
        tag_file(path, tmp_path / "o.csv", tagger, rating_column="rating")


def test_the_project_format_reads_an_optional_rating(write_csv):
    table = read_corpus(write_csv("text,themes,sentiment,rating\nKind,,positive,1\nSlow,access,negative,\n"))
    assert table["rating"].tolist() == ["1", None]
    assert read_corpus(write_csv("text,themes,sentiment\nKind,,positive\n"))["rating"].tolist() == [None]


def test_real_comments_score_the_same_found_as_named(qdc_path, tmp_path):
    """The must of the issue: a real export tagged with no column named, as with all named."""
    real = pd.read_csv(qdc_path, dtype=str, keep_default_na=False).sample(400, random_state=0)
    export = real[["Comment ID", "Trust", "Service type 1", "FFT categorical answer", "FFT question", "FFT answer"]]
    path = tmp_path / "export.csv"
    export.to_csv(path, index=False)
    default = load()
    found = tag_file(path, tmp_path / "found.csv", default)
    tag_file(path, tmp_path / "named.csv", default, column="FFT answer", question_column="FFT question",
             rating_column="FFT categorical answer" if default.rating_scale else None)
    assert found.column == "FFT answer" and found.question_column == "FFT question"
    assert found.rating_column == ("FFT categorical answer" if default.rating_scale else None)
    assert (tmp_path / "found.csv").read_bytes() == (tmp_path / "named.csv").read_bytes()
