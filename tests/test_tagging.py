import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from feedback_nlp import ColumnError, Tag, load
from feedback_nlp.tagging import RESULT_COLUMNS
from feedback_nlp.themes import SENTIMENTS, THEME_IDS


def test_trained_model_learns_clear_comments(tagger):
    # The spaCy "overfitting" check: plain comments of the kind the corpus is full of.
    assert "access" in tagger.tag("Waited three hours past my appointment time in clinic").themes
    assert "confidence_and_trust" in tagger.tag("The nurses were so kind and caring to me").themes
    assert tagger.tag("The nurses were so kind and caring to me").sentiment == "positive"
    assert tagger.tag("Rude receptionist and a four hour wait, appalling").sentiment == "negative"


def test_save_and_load_give_the_same_tags(tagger, small_corpus, tmp_path):
    texts = small_corpus["text"].head(50).tolist()
    before = tagger.tag_many(texts)
    tagger.save(tmp_path / "model")
    assert load(tmp_path / "model").tag_many(texts) == before


def test_batch_equals_one_by_one(tagger, small_corpus):
    texts = small_corpus["text"].head(20).tolist()
    questions = small_corpus["question"].head(20).tolist()
    for explain in (False, True):
        assert tagger.tag_many(texts, questions, explain=explain) == [
            tagger.tag(t, q, explain=explain) for t, q in zip(texts, questions)
        ]


def test_result_shape(tagger):
    tag = tagger.tag("Parking was impossible and the staff were rude")
    assert isinstance(tag, Tag)
    assert list(tag.theme_scores) == list(THEME_IDS)
    assert list(tag.sentiment_scores) == list(SENTIMENTS)
    assert tag.themes == tuple(t for t in THEME_IDS if t in tag.themes)  # THEMES order
    assert all(tag.theme_scores[t] >= tagger.thresholds[t] for t in tag.themes)
    assert math.isclose(sum(tag.sentiment_scores.values()), 1.0, rel_tol=1e-6)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tag.sentiment = "negative"


@pytest.mark.parametrize("empty", ["", "   ", "\n", None, float("nan"), pd.NA])
def test_empty_comment_gets_no_theme_and_neutral(tagger, empty):
    tags = tagger.tag_many(["Lovely staff", empty, "Lovely staff"])
    assert tags[1].themes == () and tags[1].sentiment == "neutral"
    assert tags[0] == tags[2]


def test_bad_input_is_refused(tagger):
    with pytest.raises(TypeError, match="got one string"):
        tagger.tag_many("a comment")
    with pytest.raises(TypeError, match="comment 1: expected a string"):
        tagger.tag_many(["fine", 42])
    with pytest.raises(ValueError, match=r"questions must be one per comment \(2\); got 1"):
        tagger.tag_many(["a", "b"], ["What was good?"])


def test_tag_frame_keeps_every_row_column_and_index(tagger):
    frame = pd.DataFrame(
        {"id": [30, 10, 20, 40], "comment": ["Great nurses", None, "Parking awful", 7]},
        index=["d", "a", "c", "b"],
    )
    out = tagger.tag_frame(frame, "comment")
    assert list(out.index) == ["d", "a", "c", "b"]
    assert list(out.columns) == ["id", "comment", *RESULT_COLUMNS]
    pd.testing.assert_frame_equal(out[["id", "comment"]], frame)
    tags = tagger.tag_many(["Great nurses", None, "Parking awful", "7"])
    assert out["themes"].tolist() == [";".join(t.themes) for t in tags]
    assert out["sentiment"].tolist() == [t.sentiment for t in tags]
    assert np.allclose(out["score_access"], [round(t.theme_scores["access"], 4) for t in tags])


def test_tag_frame_names_missing_and_clashing_columns(tagger):
    frame = pd.DataFrame({"comment": ["x"], "sentiment": ["mine"]})
    with pytest.raises(ColumnError, match=r"no column 'text'; the columns are \['comment', 'sentiment'\]"):
        tagger.tag_frame(frame, "text")
    with pytest.raises(ColumnError, match=r"already has result column\(s\) \['sentiment'\]"):
        tagger.tag_frame(frame, "comment")


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, "", "   "])
def test_a_missing_or_blank_comment_alone_is_neutral_with_no_theme(missing):
    tag = load().tag(missing)
    assert (tag.themes, tag.sentiment, tag.flags, tag.needs_review) == ((), "neutral", (), False)


def test_a_frame_whose_comments_are_all_missing_is_tagged(tagger):
    frame = pd.DataFrame({"c": [None, float("nan"), None]})
    assert tagger.tag_frame(frame, "c")["sentiment"].tolist() == ["neutral"] * 3


@pytest.mark.parametrize("text", ["1", "2", "3.5", "10/10", " 42 ", "-5"])
def test_numbers_only_are_neutral_with_no_theme_and_marked_short(text):
    tag = load().tag(text)
    assert (tag.themes, tag.sentiment, tag.review_reasons) == ((), "neutral", ("short",))


def test_markup_is_read_as_the_text_it_wraps():
    tagger = load()
    plain = tagger.tag("Great staff, lovely nurses")
    marked = tagger.tag("<p><b>Great</b> staff, <i>lovely</i> nurses</p><script>x()</script>")
    assert marked.themes == plain.themes and marked.sentiment == plain.sentiment == "positive"


@pytest.mark.parametrize("text", [
    "Diolch yn fawr i'r staff i gyd am eu gofal",
    "Roedd y nyrsys yn garedig iawn ac roedd y gofal yn wych",
])
def test_welsh_comments_are_marked_for_review(text):
    tag = load().tag(text)
    assert tag.needs_review and {"not_english", "unknown_words"} & set(tag.review_reasons)


def test_few_english_comments_of_the_corpus_are_marked_not_english(corpus):
    tags = load().tag_many(corpus["text"].head(2000).tolist())
    assert sum("not_english" in t.review_reasons for t in tags) <= 2
