"""Turning comments into features: word and character n-gram TF-IDF, and the survey question.

Word n-grams carry the topic ("parking", "not explained"); character n-grams carry what survey
text does to words (misspellings, run-together words, lower case with no punctuation); words
crossed with the kind of question answered carry what a short answer means. The
functions here are module-level so that a fitted model pickles (see STYLE.md, point 2).
"""

from __future__ import annotations

import functools
import itertools
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.utils.validation import check_is_fitted

from .exceptions import SettingError

_APOSTROPHES = "[\u2018\u2019\u02bc`]"
# Words keep inner apostrophes, so "didn't" and "wasn't" stay one token each.
WORD_TOKEN = r"(?u)\b\w[\w']*\b"


def is_missing(value) -> bool:
    """Whether a comment cell holds no value at all: None, NaN or ``pd.NA`` (a blank string is a value)."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def has_text(texts) -> np.ndarray:
    """Which comments say something: neither missing (:func:`is_missing`) nor blank."""
    return np.array([not is_missing(t) and bool(str(t).strip()) for t in texts], dtype=bool)


# Where a sentence ends: after ".", "!" or "?", at the white space that follows.
SENTENCE_END = r"(?<=[.!?])\s+"


def _normalised(texts) -> pa.Array:
    """Texts lower-cased, with apostrophes unified, as an Arrow array: what every feature sees."""
    # Arrow does this in C++ for a whole batch: done text by text in Python, it and the split
    # into pieces were a fifth of tagging. Its lower case differs from Python's for 76 code
    # points (Greek final sigma stays "σ"; "İ" becomes "i", not "i̇"); its white space is Python's.
    lowered = pc.utf8_lower(pa.array(texts, pa.large_string()))
    return pc.replace_substring_regex(lowered, _APOSTROPHES, "'")


def normalise_texts(texts) -> list[str]:
    """:func:`normalise_text` of each of ``texts``, done for the whole batch at once."""
    return [" ".join(t.split()) for t in _normalised(texts).to_pylist()]


def normalise_text(text: str) -> str:
    """Lower-case, unify apostrophes and collapse white space: what every feature sees."""
    return normalise_texts([text])[0]


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


def question_kinds(questions, n: int) -> np.ndarray:
    """The question kind of each of ``n`` comments; ``"none"`` for all when ``questions`` is None."""
    if questions is None:
        return np.full(n, "none", dtype=object)
    questions = pd.Series(questions, dtype=object).fillna("")
    if len(questions) != n:
        raise SettingError("questions", f"one per comment ({n})", len(questions))
    return questions.map({q: question_kind(q) for q in questions.unique()}).to_numpy(dtype=object)



_WORDS = re.compile(WORD_TOKEN)
BLOCKS = ("words", "chars", "question")
# Question-crossed terms: "q=<kind>" for each comment, "<kind>|<word>" for each of its words.
_ANSWERED, _CROSS = "q=", "|"


def text_pieces(text: str) -> list[str]:
    """A comment's white-space separated pieces, normalised: character n-grams are made of these."""
    return normalise_text(text).split()


def piece_words(piece: str) -> list[str]:
    """The words of a piece (or of any normalised text), as :data:`WORD_TOKEN` finds them."""
    return _WORDS.findall(piece)


def analyze(text: str, kind: str = "none") -> dict[str, list[str]]:
    """Every term of one comment, per block, in text order: what :class:`TextFeatures` counts.

    The plain statement of the features' text contract (normalisation, pieces, words, word
    pairs, character n-grams, question-crossed words), as scikit-learn's ``build_analyzer``
    states a vectorizer's. ``TextFeatures`` counts the same terms in bulk; the tests hold both
    to scikit-learn's own analyzers, and :mod:`feedback_nlp.explain` reads comments with these.
    """
    pieces = text_pieces(text)
    words = [w for piece in pieces for w in piece_words(piece)]
    return {
        "words": words + [f"{a} {b}" for a, b in zip(words, words[1:])],
        "chars": [gram for piece in pieces for gram in char_ngrams(piece)],
        "question": [_ANSWERED + kind, *(kind + _CROSS + w for w in words)],
    }


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


def _gather(arrays, codes, docs, dtype) -> tuple[np.ndarray, np.ndarray]:
    """The items of ``arrays[code]`` for each code in turn, and the document each came from."""
    lengths = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
    items = np.concatenate(arrays) if arrays else np.empty(0, dtype=dtype)
    counts = lengths[codes]
    starts = np.cumsum(lengths) - lengths
    positions = np.repeat(starts[codes] - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    return items[positions], np.repeat(docs, counts)


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
    # Object dtype: pandas' Arrow-backed strings would be converted on every lookup.
    return pd.Index(np.sort(np.asarray(distinct[keep], dtype=object)), dtype=object)


def _indicator(rows, columns, shape) -> sp.csr_matrix:
    """Counts of (row, column) pairs as a sparse matrix."""
    counts = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=shape)
    counts.sum_duplicates()
    return counts


def _columns(vocabulary: pd.Index, terms: np.ndarray) -> np.ndarray:
    """The column of each term in ``vocabulary``, -1 for a term not in it."""
    # Wrapped as an object Index, the terms are not first converted to pandas' Arrow-backed
    # strings and back, which costs twice the lookup itself.
    return vocabulary.get_indexer(pd.Index(terms, dtype=object, copy=False))


def _count_found(columns, docs, shape) -> sp.csr_matrix:
    """Document x term counts of the terms found in the vocabulary (column -1: not found)."""
    found = columns >= 0
    return _indicator(docs[found], columns[found], shape)


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

    def __init__(self, *, max_char_features: int, min_df: int = 2):
        self.min_df = min_df
        self.max_char_features = max_char_features

    def _pieces(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every white-space separated piece of every text, as codes into the distinct pieces,
        and the document each came from.

        Words never span white space, so a comment's words are those of its pieces in turn:
        each distinct piece is split into words, and its n-grams made, once.
        """
        pieces = pc.utf8_split_whitespace(_normalised(X[:, 0]))
        flat, docs = pc.list_flatten(pieces), pc.list_parent_indices(pieces)
        # Arrow, unlike str.split(), gives empty pieces for white space at either end.
        kept = pc.not_equal(pc.binary_length(flat), 0)
        encoded = pc.dictionary_encode(flat.filter(kept))
        codes = encoded.indices.to_numpy()
        return codes, encoded.dictionary.to_numpy(zero_copy_only=False), docs.filter(kept).to_numpy()

    def fit(self, X, y=None):
        """Learn each block's vocabulary and idf from training comments."""
        X = np.asarray(X, dtype=object)
        codes, distinct, piece_docs = self._pieces(X)
        words, word_docs = _gather(
            [np.array(_WORDS.findall(p), dtype=object) for p in distinct], codes, piece_docs, object
        )
        follows = np.flatnonzero(word_docs[1:] == word_docs[:-1])
        kinds = X[:, 1]
        terms = {
            "words": (
                np.concatenate([words, words[follows] + " " + words[follows + 1]]),
                np.concatenate([word_docs, word_docs[follows]]),
            ),
            "question": (
                np.concatenate([_ANSWERED + kinds, kinds[word_docs] + _CROSS + words]),
                np.concatenate([np.arange(len(X)), word_docs]),
            ),
        }
        self.vocabularies_ = {
            block: _vocabulary(*_frequencies(*terms[block]), self.min_df, None) for block in terms
        }
        # Every n-gram any training word has, so the vocabulary can be chosen by frequency.
        all_grams = pd.Index(pd.unique(np.fromiter(
            itertools.chain.from_iterable(map(char_ngrams, distinct)), dtype=object
        )))
        char_counts = self._char_counts(codes, distinct, piece_docs, len(X), _PieceColumns(all_grams, {}, char_ngrams))
        self.vocabularies_["chars"] = _vocabulary(
            all_grams,
            np.asarray((char_counts > 0).sum(axis=0)).ravel(),
            np.asarray(char_counts.sum(axis=0)).ravel(),
            self.min_df,
            self.max_char_features,
        )
        for name in _CACHES:
            self.__dict__.pop(name, None)
        self.tfidf_ = [TfidfTransformer(sublinear_tf=True).fit(c) for c in self._counts(X)]
        return self

    def _char_counts(self, codes, distinct, docs, n_docs: int, columns_of) -> sp.csr_matrix:
        """Document x n-gram counts as (document x piece counts) @ (piece x n-gram counts).

        ``codes`` index each piece occurrence in ``distinct``; ``columns_of(pieces)`` gives their
        n-gram columns and ``columns_of.width`` their number.
        """
        by_document = _indicator(docs, codes, (n_docs, len(distinct)))
        columns = columns_of(distinct)
        lengths = np.fromiter(map(len, columns), dtype=np.int64, count=len(columns))
        by_word = _count_found(
            np.concatenate(columns) if columns else np.empty(0, dtype=np.int64),
            np.repeat(np.arange(len(distinct)), lengths),
            (len(distinct), columns_of.width),
        )
        counts = (by_document @ by_word).tocsr()
        # A product's column order within a row depends on the other rows; sorted, each row sums
        # in the same order whatever batch it came in, so batch and one-by-one results are equal.
        counts.sort_indices()
        return counts

    def _counts(self, X) -> list[sp.csr_matrix]:
        """Per block, the document x term counts of the fitted vocabulary.

        Word pairs and question-crossed words are looked up by the integer columns of their
        words rather than as strings: a pair or crossed term is in its vocabulary only if its
        words are, and making and hashing those strings was the largest cost of tagging.
        """
        codes, distinct, piece_docs = self._pieces(X)
        n_docs, terms = len(X), self._terms
        words = _PieceColumns(self.vocabularies_["words"], _cache(self, "_word_columns"), _WORDS.findall)
        columns, word_docs = _gather(words(distinct), codes, piece_docs, np.int64)
        known = columns >= 0
        follows = np.flatnonzero((word_docs[1:] == word_docs[:-1]) & known[:-1] & known[1:])
        kinds = terms.kind_rows(X[:, 1])
        chars = _PieceColumns(self.vocabularies_["chars"], _cache(self, "_char_columns"), char_ngrams)
        return [
            _count_found(
                np.concatenate([columns, terms.pairs(columns[follows], columns[follows + 1])]),
                np.concatenate([word_docs, word_docs[follows]]),
                (n_docs, len(self.vocabularies_["words"])),
            ),
            self._char_counts(codes, distinct, piece_docs, n_docs, chars),
            _count_found(
                np.concatenate([terms.answered[kinds], terms.crossed[kinds[word_docs[known]], columns[known]]]),
                np.concatenate([np.arange(n_docs), word_docs[known]]),
                (n_docs, len(self.vocabularies_["question"])),
            ),
        ]

    @functools.cached_property
    def _terms(self) -> _TermColumns:
        return _TermColumns(self.vocabularies_["words"], self.vocabularies_["question"])

    def transform(self, X) -> sp.csr_matrix:
        """The (n, n_features) TF-IDF matrix, the three blocks side by side."""
        check_is_fitted(self, "tfidf_")
        X = np.asarray(X, dtype=object)
        features = sp.hstack(
            [t.transform(c) for t, c in zip(self.tfidf_, self._counts(X))], format="csr", dtype=np.float32
        )
        features.sort_indices()
        return features

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Feature names as ``block:term``, in column order."""
        check_is_fitted(self, "tfidf_")
        return np.array([f"{b}:{t}" for b in BLOCKS for t in self.vocabularies_[b]], dtype=object)

    def __getstate__(self):
        # The caches are rebuilt on use; saving them would only bloat saved models.
        state = dict(super().__getstate__())  # a copy: object.__getstate__ gives __dict__ itself
        for name in _CACHES:
            state.pop(name, None)
        if "vocabularies_" in state:
            # Plain arrays of text: a model file (skops) holds numpy arrays, not pandas objects.
            state["vocabularies_"] = {b: np.asarray(v, dtype=str) for b, v in state["vocabularies_"].items()}
        return state

    def __setstate__(self, state):
        if "vocabularies_" in state:
            state = {**state, "vocabularies_": {b: pd.Index(v, dtype=object) for b, v in state["vocabularies_"].items()}}
        super().__setstate__(state)


_CACHES = ("_word_columns", "_char_columns", "_terms")


# Pieces follow Zipf's law: a few hundred thousand hold nearly every occurrence, and a fuller
# cache only costs memory (each worker process holds its own).
CACHE_PIECES = 200_000


def _cache(features, name: str) -> dict:
    """A per-piece cache kept on the fitted features, emptied when it grows past ``CACHE_PIECES``."""
    cache = features.__dict__.setdefault(name, {})
    if len(cache) > CACHE_PIECES:  # bound memory on endless streams of new words
        cache.clear()
    return cache


class _PieceColumns:
    """The columns in ``vocabulary`` of each piece's terms (words or char n-grams, as
    ``terms_of`` makes them), -1 for a term not in it, in order, remembered per piece."""

    def __init__(self, vocabulary: pd.Index, cache: dict, terms_of):
        self.vocabulary, self.cache, self.terms_of, self.width = vocabulary, cache, terms_of, len(vocabulary)

    def __call__(self, pieces) -> list[np.ndarray]:
        new = [p for p in pieces if p not in self.cache]
        if new:
            # One bulk lookup for all new pieces: a lookup per piece costs more than its terms.
            per_piece = [self.terms_of(p) for p in new]
            lengths = np.fromiter(map(len, per_piece), dtype=np.int64, count=len(per_piece))
            terms = np.fromiter(itertools.chain.from_iterable(per_piece), dtype=object, count=int(lengths.sum()))
            self.cache.update(zip(new, np.split(_columns(self.vocabulary, terms), np.cumsum(lengths)[:-1])))
        return [self.cache[p] for p in pieces]


def _split_terms(vocabulary: pd.Index, sep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The column, and the parts before and after ``sep``, of each term holding ``sep``."""
    at = [j for j, term in enumerate(vocabulary) if sep in term]
    before, after = [], []
    for j in at:
        head, _, tail = vocabulary[j].partition(sep)
        before.append(head)
        after.append(tail)
    return np.array(at, dtype=np.int64), np.array(before, dtype=object), np.array(after, dtype=object)


class _TermColumns:
    """The columns of word pairs and question-crossed words, found from their words' columns.

    A pair or crossed term is counted in as many comments as its words at most, so every term
    of these vocabularies is made of words in the word vocabulary.
    """

    def __init__(self, words: pd.Index, question: pd.Index):
        self._width = len(words)
        self._pair_columns, firsts, seconds = _split_terms(words, " ")
        self._pair_keys = pd.Index(_columns(words, firsts) * self._width + _columns(words, seconds))

        crossed_at, crossed_kinds, crossed_words = _split_terms(question, _CROSS)
        answered = {term.removeprefix(_ANSWERED): j for j, term in enumerate(question) if _CROSS not in term}
        self._kinds = pd.Index(sorted(answered.keys() | set(crossed_kinds)), dtype=object)
        # A row per kind seen in training, and a last row of -1 for any other kind.
        self.answered = np.full(len(self._kinds) + 1, -1, dtype=np.int64)
        self.answered[self._kinds.get_indexer(list(answered))] = list(answered.values())
        self.crossed = np.full((len(self._kinds) + 1, self._width), -1, dtype=np.int32)
        self.crossed[self._kinds.get_indexer(crossed_kinds), _columns(words, crossed_words)] = crossed_at

    def kind_rows(self, kinds) -> np.ndarray:
        """The row of ``answered`` and ``crossed`` for each question kind."""
        rows = self._kinds.get_indexer(pd.Index(kinds, dtype=object, copy=False))
        return np.where(rows >= 0, rows, len(self._kinds))

    def pairs(self, firsts, seconds) -> np.ndarray:
        """The column of each pair of word columns, -1 for a pair not in the vocabulary."""
        at = self._pair_keys.get_indexer(firsts * self._width + seconds)
        return np.where(at >= 0, self._pair_columns[at], -1)

