import pickle
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from feedback_nlp.features import (
    WORD_TOKEN,
    TextFeatures,
    analyze,
    char_ngrams,
    normalise_text,
    question_kind,
    question_kinds,
)
from feedback_nlp.model import CommentModel


def _crossed(pair):
    text, kind = pair
    return analyze(text, kind)["question"]


def _reference_analyzers():
    """scikit-learn's own analyzers for the word and character blocks, on our normalisation."""
    options = dict(preprocessor=normalise_text)
    words = TfidfVectorizer(token_pattern=WORD_TOKEN, ngram_range=(1, 2), **options).build_analyzer()
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), **options).build_analyzer()
    return words, chars


def test_the_analyzer_states_what_scikit_learn_counts(small_corpus):
    words, chars = _reference_analyzers()
    for text in [*small_corpus["text"].head(300), "Didn’t  EAT\tall day!!  ", "a", "", "Café – ok? 10/10"]:
        terms = analyze(text)
        assert Counter(terms["words"]) == Counter(words(text))
        assert Counter(terms["chars"]) == Counter(chars(text))
        singles = words(text)[: (len(words(text)) + 1) // 2]  # scikit-learn lists 1-grams, then 2-grams
        assert terms["question"] == ["q=none", *(f"none|{w}" for w in singles)]


def test_features_equal_scikit_learns_vectorizers(small_corpus):
    X = np.column_stack([small_corpus["text"].to_numpy(object), question_kinds(small_corpus["question"], len(small_corpus))])
    train, new = X[:600], X[600:]
    ours = TextFeatures(max_char_features=CommentModel().max_char_features).fit(train)
    options = dict(preprocessor=normalise_text, min_df=2, sublinear_tf=True, dtype=np.float32)
    words = TfidfVectorizer(token_pattern=WORD_TOKEN, ngram_range=(1, 2), **options).fit(train[:, 0])
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), **options).fit(train[:, 0])
    crossed = TfidfVectorizer(analyzer=_crossed, min_df=2, sublinear_tf=True, dtype=np.float32)
    crossed.fit(list(map(tuple, train)))
    for block, reference in (("words", words), ("chars", chars), ("question", crossed)):
        assert list(ours.vocabularies_[block]) == sorted(reference.vocabulary_)
    expected = sp.hstack(
        [words.transform(new[:, 0]), chars.transform(new[:, 0]), crossed.transform(list(map(tuple, new)))]
    )
    assert abs(ours.transform(new) - expected).max() < 1e-6


def test_char_ngrams_follow_char_wb():
    assert char_ngrams("ok") == [" ok", "ok ", " ok "]
    assert char_ngrams("a") == [" a "]  # a padded word shorter than n counts once
    assert char_ngrams("pain")[:4] == [" pa", "pai", "ain", "in "]


def test_saved_features_carry_no_cache(small_corpus):
    X = np.column_stack([small_corpus["text"].to_numpy(object), question_kinds(None, len(small_corpus))])
    features = TextFeatures(max_char_features=CommentModel().max_char_features).fit(X)
    before = features.transform(X[:50])
    restored = pickle.loads(pickle.dumps(features))
    assert not {"_piece_words", "_char_columns"} & set(restored.__dict__)
    assert abs(restored.transform(X[:50]) - before).max() == 0


@pytest.mark.parametrize(
    "question, kind",
    [
        ("What was good?", "good"),
        ("What went well?", "good"),
        ("What could we do better?", "improve"),
        ("How could we improve?", "improve"),
        ("FFT Why?", "why"),
        ("Why did you give that rating?", "why"),
        ("Is there anything else you would like to tell us?", "other"),
        ("", "none"),
        (None, "none"),
    ],
)
def test_question_kind(question, kind):
    assert question_kind(question) == kind
