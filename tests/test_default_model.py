"""The shipped default model: it loads, tags, and was trained on the corpus as it is now."""

import pytest

from feedback_nlp import load, tag
from feedback_nlp.model import sha256_file, read_card

from .conftest import DEFAULT_MODEL, REPO


@pytest.fixture(scope="module")
def card():
    return read_card(DEFAULT_MODEL)


def test_default_model_was_trained_on_the_current_corpus(card):
    # A changed data/ file with a stale model fails here: rebuild with scripts/train_default.py.
    in_repo = [src for src in card["training_data"] if src["path"].startswith("data/")]
    assert "data/corpus.csv" in [src["path"] for src in in_repo]
    for src in in_repo:
        assert sha256_file(REPO / src["path"]) == src["sha256"], (
            f"{src['path']} changed since models/default was trained: "
            "run `python scripts/train_default.py`"
        )


def test_default_model_card_has_cross_validated_figures(card):
    assert card["cv_metrics"]["theme_macro_f1"] > 0.5
    assert card["cv_metrics"]["sentiment_macro_f1"] > 0.5


def test_default_model_loads_and_tags():
    tagger = load()
    tags = tag(["The chemo nurses were wonderful", "Waited four hours for my appointment", ""])
    assert "confidence_and_trust" in tags[0].themes and tags[0].sentiment == "positive"
    assert "access" in tags[1].themes and tags[1].sentiment == "negative"
    assert tags[2].themes == ()
    assert tagger.tag_many(["x"]) == tag(["x"])


def test_question_changes_what_nothing_means():
    better, good = tag(["Nothing", "Nothing"], ["What could we do better?", "What was good?"])
    assert better.sentiment == "positive"
    assert good.sentiment_scores["positive"] < better.sentiment_scores["positive"]
