"""Evidence for each theme, per-theme sentiment, and marking comments for review."""


import numpy as np
import pandas as pd
import pytest

from feedback_nlp import load
from feedback_nlp.explain import Explainer, clauses, theme_sentiments
from feedback_nlp.features import normalise_text, piece_words, question_kinds, text_pieces
from feedback_nlp.themes import THEME_IDS

from .conftest import DEFAULT_MODEL, REPO


@pytest.fixture(scope="module")
def default():
    return load(DEFAULT_MODEL)


def test_clauses_split_sentences_and_contrasts_but_not_titles():
    assert clauses("Lovely nurses, but waited 3 hrs. Dr. Patel was great - however the parking!") == [
        "Lovely nurses", "waited 3 hrs", "Dr. Patel was great", "the parking"
    ]
    assert clauses("...") == [] and clauses("fine") == ["fine"]


def test_credit_adds_up_to_the_linear_decision(tagger):
    # Evidence must be an exact split of each theme's linear score among the comment's words;
    # only the question-kind feature ("q=none") belongs to no word.
    explainer = Explainer(tagger.model)
    text = "The nurse never explained the scan results, and parking cost me 12 pounds!"
    X = tagger.model.features_.transform(np.column_stack([[text], question_kinds(None, 1)])).tocsr()
    pieces = text_pieces(text)
    words_of_pieces = [piece_words(piece) for piece in pieces]
    unworded = np.array([explainer.term[c].startswith("q=") for c in X.indices])
    for j in range(len(THEME_IDS)):
        contributions = X.data * explainer.weights[j, X.indices]
        credit = explainer.credit(pieces, words_of_pieces, X.indices, contributions)
        assert sum(credit.values()) == pytest.approx(contributions[~unworded].sum())


def test_evidence_names_words_of_the_comment_for_assigned_themes_only(default):
    tags = default.tag_many(
        ["Parking at the hospital was a nightmare", "Nothing", "The consultant explained my results clearly"],
        explain=True,
    )
    parking, nothing, results = tags
    assert set(parking.evidence) == set(parking.themes) and "access" in parking.themes
    assert "parking" in " ".join(parking.evidence["access"])
    assert nothing.evidence == {} and nothing.theme_sentiment == {}
    for tag, text in ((parking, "Parking at the hospital was a nightmare"), (results, "The consultant explained my results clearly")):
        for phrases in tag.evidence.values():
            assert 0 < len(phrases) <= 3 and all(p in normalise_text(text) for p in phrases)
    assert default.tag_many(["Parking was a nightmare"])[0].evidence is None  # explain is off


def test_each_theme_gets_the_sentiment_of_its_own_part(default):
    tag = default.tag("The nurses were lovely but I waited three hours for my chemo", explain=True)
    assert {"confidence_and_trust", "access"} <= set(tag.themes)
    assert tag.theme_sentiment["confidence_and_trust"] == "positive"
    assert tag.theme_sentiment["access"] == "negative"


def test_per_theme_sentiment_accuracy_on_the_projects_multi_theme_set(default):
    # Measured 0.814 on 506 (comment, theme) pairs; the whole comment's sentiment gets 0.536.
    table = pd.read_csv(REPO / "data" / "flags" / "theme_sentiment.csv")
    gold = [dict(pair.split("=") for pair in value.split(";")) for value in table["theme_sentiment"]]
    sentiment_scores = default.model.predict_scores(table["text"]).sentiment
    labels = theme_sentiments(default.model, table["text"].tolist(), None, sentiment_scores)
    right = [labels[i, THEME_IDS.index(t)] == s for i, pairs in enumerate(gold) for t, s in pairs.items()]
    assert len(right) >= 400 and np.mean(right) >= 0.78


def test_review_marks_unknown_words_safeguarding_and_scores_near_thresholds(default):
    unknown, risky = default.tag_many(
        ["zqxv wubbleflorp", "Mum was left on the floor for hours after she fell and nobody came"]
    )
    assert unknown.needs_review and "unknown_words" in unknown.review_reasons
    assert "safeguarding" in risky.flags and risky.review_reasons[0] == "safeguarding:neglect"
    text = "The letter about my appointment came late"
    strict, loose = load(DEFAULT_MODEL, review_margin=0.0), load(DEFAULT_MODEL, review_margin=0.49)
    assert not any(r.startswith("near_threshold") for r in strict.tag(text).review_reasons)
    assert any(r.startswith("near_threshold") for r in loose.tag(text).review_reasons)
    with pytest.raises(ValueError, match="review_margin"):
        load(DEFAULT_MODEL, review_margin=0.7)


def test_evaluate_reports_the_review_share_and_the_rest(default, corpus):
    sample = corpus.sample(300, random_state=1)
    scores = default.evaluate(sample)
    assert 0 < scores.review_share < 1
    assert scores.unreviewed.rows == round(300 * (1 - scores.review_share))
    assert "marked for review" in scores.format()
