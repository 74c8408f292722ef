"""Turning comments into features: word and character n-gram TF-IDF, and the survey question.

Word n-grams carry the topic ("parking", "not explained"); character n-grams carry what survey
text does to words (misspellings, run-together words, lower case with no punctuation); words
crossed with the kind of question answered carry what a short answer means. The
functions here are module-level so that a fitted model pickles (see STYLE.md, point 2).
"""

from __future__ import annotations

import re

import numpy as np

from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

_APOSTROPHES = re.compile(r"[\u2018\u2019\u02bc`]")
_SPACES = re.compile(r"\s+")
# Words keep inner apostrophes, so "didn't" and "wasn't" stay one token each.
WORD_TOKEN = r"(?u)\b\w[\w']*\b"


def normalise_text(text: str) -> str:
    """Lower-case, unify apostrophes and collapse white space: what every feature sees."""
    return _SPACES.sub(" ", _APOSTROPHES.sub("'", text.lower())).strip()


# The kinds of survey question that change what an answer means: "Nothing" answering "What was
# good?" is a complaint, answering "What could we do better?" it is praise.
QUESTION_KINDS = ("good", "improve", "why", "other", "none")


def question_kind(question) -> str:
    """Sort a survey question into one of ``QUESTION_KINDS`` by its wording."""
    if not isinstance(question, str) or not question.strip():
        return "none"
    words = set(re.findall(r"[a-z]+", question.lower()))
    if words & {"better", "improve", "improved", "improvement", "improvements", "change"}:
        return "improve"
    if words & {"good", "best", "liked", "well"}:
        return "good"
    if words & {"why", "rating", "reason", "reasons"}:
        return "why"
    return "other"


_WORDS = re.compile(WORD_TOKEN)


def question_crossed_tokens(pair) -> list[str]:
    """Tokens of a (text, question kind) pair: the kind alone, and each word prefixed by it."""
    text, kind = pair
    return [f"q={kind}", *(f"{kind}|{w}" for w in _WORDS.findall(normalise_text(text)))]


def _pairs(X):
    """Rows of the two-column (text, question kind) input, as pairs for the crossed analyzer."""
    return list(map(tuple, X))


def build_features(*, max_char_features: int = 150_000) -> ColumnTransformer:
    """Return unfitted features of (text, question kind) rows.

    Word 1-2 grams and character 2-5 grams of the text, and the text's words crossed with the
    question kind (see :func:`question_kind`), TF-IDF weighted.

    Parameters
    ----------
    max_char_features : int, default 150_000
        Cap on the character n-gram vocabulary, which bounds the model's size and memory.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Takes an (n, 2) array of texts and question kinds, returns a sparse matrix.
    """
    words = TfidfVectorizer(
        preprocessor=normalise_text,
        token_pattern=WORD_TOKEN,
        ngram_range=(1, 2),
        min_df=2,
        sublinear_tf=True,
        dtype=np.float32,
    )
    chars = TfidfVectorizer(
        preprocessor=normalise_text,
        analyzer="char_wb",
        ngram_range=(2, 5),
        min_df=2,
        sublinear_tf=True,
        max_features=max_char_features,
        dtype=np.float32,
    )
    crossed = make_pipeline(
        FunctionTransformer(_pairs),
        TfidfVectorizer(analyzer=question_crossed_tokens, min_df=2, sublinear_tf=True, dtype=np.float32),
    )
    return ColumnTransformer(
        [("words", words, 0), ("chars", chars, 0), ("question", crossed, [0, 1])],
        sparse_threshold=1.0,
    )
