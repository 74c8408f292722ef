"""The shipped default model: it loads, tags, and was trained on the corpus as it is now."""

import pandas as pd
import pytest

from feedback_nlp import load, tag, tag_many
from feedback_nlp.model_folder import read_card, sha256_file

from .conftest import DEFAULT_MODEL, REPO


@pytest.fixture(scope="module")
def card():
    return read_card(DEFAULT_MODEL)


def test_default_model_was_trained_on_the_current_corpus(card):
    # A changed data/ file with a stale model fails here: rebuild with scripts/train_default.py.
    sources = [*card.training_data, *card.safeguarding_data]
    in_repo = [src for src in sources if src["path"].startswith("data/")]
    assert "data/corpus.csv" in [src["path"] for src in in_repo]
    for src in in_repo:
        assert sha256_file(REPO / src["path"]) == src["sha256"], (
            f"{src['path']} changed since models/default was trained: "
            "run `python scripts/train_default.py`"
        )


def test_default_model_card_has_cross_validated_figures(card):
    assert card.cv_metrics["theme_macro_f1"] > 0.5
    assert card.cv_metrics["sentiment_macro_f1"] > 0.5


CLEAR_COMMENTS = [
    ("The radiotherapy team were brilliant", "confidence_and_trust", "positive"),
    ("Staff were lovely and kind", "confidence_and_trust", "positive"),
    ("Excellent care from everyone", None, "positive"),
    ("My CNS is amazing, she always rings back", "confidence_and_trust", "positive"),
    ("The oncologist explained everything clearly", "listen_and_learn", "positive"),
    ("Very happy with how my treatment went", "effectiveness", "positive"),
    ("Waited four hours for my appointment", "access", "negative"),
    ("Rude receptionist on the desk", "confidence_and_trust", "negative"),
    ("Nobody told me my scan results for weeks", "listen_and_learn", "negative"),
    ("Parking is a disgrace and costs a fortune", "access", "negative"),
    ("My appointment was cancelled three times", "access", "negative"),
    ("No interpreter was booked so my son had to translate", "leading_voice", "negative"),
    ("The ward was filthy", "confidence_and_trust", "negative"),
    ("Ran out of my pain medication and could not get more", "effectiveness", "negative"),
]


def test_default_model_gets_clear_comments_right():
    # Unambiguous comments, written for this test: a floor that a broken or stale model fails.
    tags = tag_many([text for text, _, _ in CLEAR_COMMENTS])
    themes_right = sum(theme in t.themes for (_, theme, _), t in zip(CLEAR_COMMENTS, tags) if theme)
    sentiment_right = sum(t.sentiment == s for (_, _, s), t in zip(CLEAR_COMMENTS, tags))
    assert themes_right >= 10, [(c[0], t.themes) for c, t in zip(CLEAR_COMMENTS, tags)]
    assert sentiment_right >= 11, [(c[0], t.sentiment) for c, t in zip(CLEAR_COMMENTS, tags)]


def test_default_model_loads_and_tags_empty_comments():
    tagger = load()
    assert tag("").themes == () and tag(None).sentiment == "neutral"
    assert tagger.tag_many(["Kind nurses"]) == tag_many(["Kind nurses"]) == [tag("Kind nurses")]
    with pytest.raises(TypeError, match="for a list use tag_many"):
        tag(["Kind nurses"])


def test_question_changes_what_nothing_means():
    better, good = tag_many(["Nothing", "Nothing"], ["What could we do better?", "What was good?"])
    assert better.sentiment == "positive"
    assert good.sentiment_scores["positive"] < better.sentiment_scores["positive"]


def test_default_model_and_rules_catch_safeguarding_on_the_labelled_set():
    # The targets for the flag as tagging raises it (rules or the model's head), on the
    # project's labelled set, which no model is trained on: recall >= 0.95, precision >= 0.6.
    table = pd.read_csv(REPO / "data" / "flags" / "safeguarding.csv")
    labelled = table["safeguarding"] == 1
    flagged = pd.Series(["safeguarding" in t.flags for t in tag_many(table["text"].tolist())])
    assert (flagged & labelled).sum() / labelled.sum() >= 0.95
    assert (flagged & labelled).sum() / flagged.sum() >= 0.6


def test_default_model_reads_the_fft_rating(card):
    # Trained with the QDC file's FFT ratings: 1 very good ... 5 very poor, 6 don't know, and 7.
    assert card.rating_scale == ("1", "2", "3", "4", "5", "6", "7")
    tagger = load()
    good, poor = (tagger.tag("The parking", None, r).sentiment_scores["negative"] for r in (1, 5))
    assert poor > good
