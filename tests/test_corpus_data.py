"""The project's own labelled corpus in data/corpus.csv: schema, cleanliness, and coverage."""

import pandas as pd
import pytest

from feedback_nlp.themes import SENTIMENTS, THEME_IDS

from .conftest import CORPUS_PATH


@pytest.fixture(scope="module")
def raw():
    return pd.read_csv(CORPUS_PATH, dtype=str, keep_default_na=False)


def test_schema(raw):
    assert list(raw.columns) == ["text", "themes", "sentiment", "flags", "question"]


def test_every_row_reads_with_known_labels(corpus, raw):
    # read_corpus refuses unknown theme, sentiment and flag ids, so reading is the check.
    assert len(corpus) == len(raw)
    assert set(corpus["sentiment"]) <= set(SENTIMENTS)


def test_no_empty_texts(raw):
    assert (raw["text"].str.strip() != "").all()


def test_no_duplicate_texts_after_normalising_case_and_spaces(raw):
    key = raw["text"].str.lower().str.split().str.join(" ")
    assert not key.duplicated().any(), raw["text"][key.duplicated()].tolist()[:5]


def test_minimum_counts(corpus):
    assert len(corpus) >= 3000
    per_theme = corpus[list(THEME_IDS)].sum()
    assert (per_theme >= 400).all(), per_theme.to_dict()
    assert (corpus[list(THEME_IDS)].sum(axis=1) == 0).sum() >= 500


def test_sentiment_mix_is_like_real_surveys(corpus):
    share = corpus["sentiment"].value_counts(normalize=True)
    assert share["positive"] > share["negative"]
    assert share["neutral"] >= 0.10


def test_flags_are_present(corpus):
    flags = corpus["flags"].str.split(";").explode().value_counts()
    assert flags["safeguarding"] >= 50 and flags["personal_data"] >= 50
