"""Turning comments into features: word and character n-gram TF-IDF, and the survey question.

Word n-grams carry the topic ("parking", "not explained"); character n-grams carry what survey
text does to words (misspellings, run-together words, lower case with no punctuation); words
crossed with the kind of question answered carry what a short answer means. The
functions here are module-level so that a fitted model pickles (see STYLE.md, point 2).
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.utils.validation import check_is_fitted

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
BLOCKS = ("words", "chars", "question")


def char_ngrams(token: str, ngram_range=(3, 4)) -> list[str]:
    """Character n-grams of one word padded with spaces, as scikit-learn's ``char_wb`` makes them.

    A padded word no longer than n gives itself once, and no longer n-grams.
    """
    padded = f" {token} "
    grams = []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        if len(padded) <= n:
            grams.append(padded)
            break
        grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


def _flatten(token_lists) -> tuple[np.ndarray, np.ndarray]:
    """Tokens of all documents in one array, and the document each came from."""
    lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    tokens = np.fromiter(itertools.chain.from_iterable(token_lists), dtype=object, count=int(lengths.sum()))
    return tokens, np.repeat(np.arange(len(token_lists)), lengths)


def _frequencies(terms, docs) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Distinct terms, with the number of documents and of occurrences of each."""
    codes, distinct = pd.factorize(terms)
    pairs = np.unique(docs.astype(np.int64) * len(distinct) + codes)
    document_frequency = np.bincount(pairs % len(distinct), minlength=len(distinct))
    return pd.Index(distinct), document_frequency, np.bincount(codes, minlength=len(distinct))


def _vocabulary(distinct, document_frequency, frequency, min_df: int, max_features) -> pd.Index:
    """Terms in at least ``min_df`` documents, at most the ``max_features`` most frequent, sorted."""
    keep = np.flatnonzero(document_frequency >= min_df)
    if max_features is not None and len(keep) > max_features:
        keep = keep[np.argsort(-frequency[keep], kind="stable")[:max_features]]
    return pd.Index(np.sort(np.asarray(distinct[keep], dtype=object)))


def _indicator(rows, columns, shape) -> sp.csr_matrix:
    """Counts of (row, column) pairs as a sparse matrix."""
    counts = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=shape)
    counts.sum_duplicates()
    return counts


def _count(vocabulary: pd.Index, terms, docs, n_docs: int) -> sp.csr_matrix:
    columns = vocabulary.get_indexer(terms)
    found = columns >= 0
    return _indicator(docs[found], columns[found], (n_docs, len(vocabulary)))


class TextFeatures(TransformerMixin, BaseEstimator):
    """TF-IDF of word 1-2 grams, character 3-4 grams within words, and question-crossed words.

    The features scikit-learn's ``TfidfVectorizer`` gives with ``analyzer="word"`` and
    ``analyzer="char_wb"`` (sublinear tf, smoothed idf, l2 norm per block), counted with array
    operations rather than a Python loop per n-gram: terms are looked up in bulk, and since a
    comment's ``char_wb`` n-grams are the sum of its words', each distinct word's n-grams are
    made once and reused: about four times faster than the vectorizers on the project corpus.

    Parameters
    ----------
    min_df : int
        A term must appear in at least this many training comments.
    max_char_features : int
        Cap on the character n-gram vocabulary (the most frequent are kept).

    Input is an (n, 2) array of comment texts and question kinds (see :func:`question_kind`).
    """

    def __init__(self, *, min_df: int = 2, max_char_features: int = 150_000):
        self.min_df = min_df
        self.max_char_features = max_char_features

    @staticmethod
    def _terms(X) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per block, every term occurrence and its document; for chars, every word and its document."""
        texts = [normalise_text(t) for t in X[:, 0]]
        words, word_docs = _flatten([_WORDS.findall(t) for t in texts])
        follows = np.flatnonzero(word_docs[1:] == word_docs[:-1])
        kinds = X[:, 1]
        return {
            "words": (
                np.concatenate([words, words[follows] + " " + words[follows + 1]]),
                np.concatenate([word_docs, word_docs[follows]]),
            ),
            "chars": _flatten([t.split() for t in texts]),
            "question": (
                np.concatenate(["q=" + kinds, kinds[word_docs] + "|" + words]),
                np.concatenate([np.arange(len(texts)), word_docs]),
            ),
        }

    def _char_counts(self, words, docs, n_docs: int, columns_of) -> sp.csr_matrix:
        """Document x n-gram counts as (document x word counts) @ (word x n-gram counts).

        ``columns_of(word)`` gives the n-gram columns of a word; ``columns_of.width`` their number.
        """
        codes, distinct = pd.factorize(words)
        by_document = _indicator(docs, codes, (n_docs, len(distinct)))
        columns = [columns_of(w) for w in distinct]
        lengths = np.fromiter(map(len, columns), dtype=np.int64, count=len(columns))
        by_word = _indicator(
            np.repeat(np.arange(len(distinct)), lengths),
            np.concatenate(columns) if columns else np.empty(0, dtype=np.int64),
            (len(distinct), columns_of.width),
        )
        counts = (by_document @ by_word).tocsr()
        # A product's column order within a row depends on the other rows; sorted, each row sums
        # in the same order whatever batch it came in, so batch and one-by-one results are equal.
        counts.sort_indices()
        return counts

    def fit(self, X, y=None):
        """Learn each block's vocabulary and idf from training comments."""
        X = np.asarray(X, dtype=object)
        terms = self._terms(X)
        # Every n-gram any training word has, so the vocabulary can be chosen by frequency.
        distinct_words = pd.unique(terms["chars"][0])
        all_grams = pd.Index(pd.unique(np.fromiter(
            itertools.chain.from_iterable(map(char_ngrams, distinct_words)), dtype=object
        )))
        every_gram = _WordColumns(all_grams, cache={})
        char_counts = self._char_counts(*terms["chars"], len(X), every_gram)
        self.vocabularies_ = {
            block: _vocabulary(*_frequencies(*terms[block]), self.min_df, None)
            for block in ("words", "question")
        }
        self.vocabularies_["chars"] = _vocabulary(
            all_grams,
            np.asarray((char_counts > 0).sum(axis=0)).ravel(),
            np.asarray(char_counts.sum(axis=0)).ravel(),
            self.min_df,
            self.max_char_features,
        )
        self.__dict__.pop("_word_columns", None)
        self.tfidf_ = [TfidfTransformer(sublinear_tf=True).fit(c) for c in self._counts(terms, len(X))]
        return self

    def _counts(self, terms, n_docs: int) -> list[sp.csr_matrix]:
        word_columns = self.__dict__.setdefault("_word_columns", _WordColumns(self.vocabularies_["chars"], {}))
        return [
            self._char_counts(*terms["chars"], n_docs, word_columns)
            if block == "chars"
            else _count(self.vocabularies_[block], *terms[block], n_docs)
            for block in BLOCKS
        ]

    def transform(self, X) -> sp.csr_matrix:
        """The (n, n_features) TF-IDF matrix, the three blocks side by side."""
        check_is_fitted(self, "tfidf_")
        X = np.asarray(X, dtype=object)
        counts = self._counts(self._terms(X), len(X))
        features = sp.hstack(
            [t.transform(c) for t, c in zip(self.tfidf_, counts)], format="csr", dtype=np.float32
        )
        features.sort_indices()
        return features

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Feature names as ``block:term``, in column order."""
        check_is_fitted(self, "tfidf_")
        return np.array([f"{b}:{t}" for b in BLOCKS for t in self.vocabularies_[b]], dtype=object)

    def __getstate__(self):
        # The per-word cache is rebuilt on use; pickling it would only bloat saved models.
        state = super().__getstate__()
        state.pop("_word_columns", None)
        return state


class _WordColumns:
    """The columns of a word's char n-grams in ``vocabulary``, remembered per word."""

    def __init__(self, vocabulary: pd.Index, cache: dict):
        self.vocabulary, self.cache, self.width = vocabulary, cache, len(vocabulary)

    def __call__(self, word: str) -> np.ndarray:
        columns = self.cache.get(word)
        if columns is None:
            if len(self.cache) > 1_000_000:  # bound memory on endless streams of new words
                self.cache.clear()
            columns = self.vocabulary.get_indexer(char_ngrams(word))
            columns = self.cache[word] = columns[columns >= 0]
        return columns


def build_features(*, max_char_features: int = 150_000) -> TextFeatures:
    """Return the unfitted features of (text, question kind) rows: see :class:`TextFeatures`."""
    return TextFeatures(max_char_features=max_char_features)
