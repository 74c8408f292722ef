"""The comment model: shared text features, a yes/no classifier per theme, a sentiment head and a
safeguarding head. It scores; :mod:`feedback_nlp.decide` turns scores into labels, and
:mod:`feedback_nlp.model_folder` saves and loads it with its card.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.multiclass import OneVsRestClassifier
from sklearn.utils.validation import check_is_fitted

from .embeddings import SentenceEmbeddings, check_encoder
from .exceptions import SettingError
from .features import BLOCKS, QUESTION_KINDS, TextFeatures, question_kinds
from .ratings import rating_features, scale_of
from .themes import EMPTY_SENTIMENT, SENTIMENTS, THEME_IDS

RATING_FEATURES = ("plain", "crossed", "none")

# The safeguarding head is trained only when the data has this many flagged comments, and its
# threshold keeps this share of the flagged comments of held-out training folds: a missed risk
# costs far more than a comment a person reads and clears. Chosen with the head learning the
# independent evaluation sets v1-v9, each held out in turn (docs/safeguarding.md, round 8):
# 0.96 kept at least 0.971 of every set's disclosures, 0.97 at least 0.976 at precision 0.830
# or more (0.867 on average), 0.98 at least 0.982 at precision 0.805 or more.
MIN_SAFEGUARDING = 20
SAFEGUARDING_RECALL = 0.97


@dataclass(frozen=True, eq=False)  # arrays: compared with numpy, not ==
class ModelScores:
    """What the model says of a batch, row by row: see :meth:`CommentModel.predict_scores`."""

    themes: np.ndarray
    sentiment: np.ndarray
    safeguarding: np.ndarray
    known_terms: np.ndarray


# Distinct comments (text, question kind, rating) scored at a time. The features of 20,000
# comments (a batch's chunk) take over 100 MiB, more than glibc keeps for reuse once freed
# (32 MiB at most): mapped afresh for every chunk, their pages were zeroed anew, 11-12 s of
# system time over 1,000,000 rows against 5-6 s in blocks of 5,000 (docs/safeguarding.md).
# Scores do not depend on the block, except a sentence encoder's, by about 1e-7 (see
# SentenceEmbeddings).
SCORING_BLOCK = 5_000


class CommentModel(BaseEstimator):
    """Shared text features, one thresholded yes/no classifier per theme, a sentiment head, and a
    safeguarding head.

    Each theme is a logistic regression whose decision threshold is the one that maximises F1 on
    held-out folds of the training data, because a fixed 0.5 misses rare themes. Sentiment is a
    three-class logistic regression fitted on the rows that have one. Safeguarding, where the
    training data has at least ``MIN_SAFEGUARDING`` flagged comments, is a logistic regression
    on the comment's words and characters (not its question) whose threshold keeps
    ``SAFEGUARDING_RECALL`` of the flagged comments of held-out folds; it backs up the rules of
    :mod:`feedback_nlp.flags`.

    Parameters
    ----------
    theme_C, sentiment_C : float
        Inverse regularisation strength of the theme and sentiment classifiers.
    threshold_folds : int
        Folds of the training data on which each theme's threshold is chosen.
    max_char_features : int
        Cap on the character n-gram vocabulary.
    embeddings : str, optional
        A sentence encoder (a key of :data:`feedback_nlp.embeddings.ENCODERS`) whose embeddings
        join the TF-IDF features; needs the ``embeddings`` extra. None: TF-IDF only.
    rating_features : {"plain", "crossed", "none"}
        How the survey rating joins the sentiment head's features (see :mod:`feedback_nlp.ratings`):
        one column per rating (``"plain"``; sentiment macro F1 0.706 -> 0.724 on the QDC file's
        5 folds, as shipped); also one per rating and question kind (``"crossed"``, 0.716); or
        not at all. Training data without ratings gives no rating columns.
    random_state : int
        Seed for every random choice, so the same data gives the same model.
    """

    def __init__(
        self,
        *,
        theme_C: float = 4.0,
        sentiment_C: float = 4.0,
        threshold_folds: int = 5,
        max_char_features: int = 150_000,
        embeddings: str | None = None,
        rating_features: str = "plain",
        random_state: int = 0,
    ):
        self.theme_C = theme_C
        self.sentiment_C = sentiment_C
        self.threshold_folds = threshold_folds
        self.max_char_features = max_char_features
        self.embeddings = embeddings
        self.rating_features = rating_features
        self.random_state = random_state

    def check_params(self) -> CommentModel:
        """Refuse settings it cannot be fitted with, before any work; ``fit`` calls it first.

        Raises
        ------
        SettingError
            A setting is out of its range or ``embeddings`` names no known encoder; the
            message names the setting and the value given.
        """
        if not (isinstance(self.threshold_folds, int) and self.threshold_folds >= 2):
            raise SettingError("threshold_folds", "a whole number >= 2", self.threshold_folds)
        for name in ("theme_C", "sentiment_C"):
            if not getattr(self, name) > 0:
                raise SettingError(name, "> 0", getattr(self, name))
        if not (isinstance(self.max_char_features, int) and self.max_char_features >= 1):
            raise SettingError("max_char_features", "a whole number >= 1", self.max_char_features)
        if self.embeddings is not None:
            check_encoder(self.embeddings)
        if not (isinstance(self.random_state, int) and 0 <= self.random_state < 2**32):
            raise SettingError("random_state (the seed)", "a whole number from 0 to 2**32 - 1", self.random_state)
        if self.rating_features not in RATING_FEATURES:
            raise SettingError("rating_features", f"one of {RATING_FEATURES}", self.rating_features)
        return self

    def fit(
        self, texts, themes, sentiment, questions=None, safeguarding=None, ratings=None, groups=None,
        threshold_rows=None, safeguarding_examples=None,
    ):
        """Fit the features and the heads.

        Parameters
        ----------
        texts : sequence of str
            Comments, none of them empty.
        themes : array-like of shape (n, 5)
            0/1 theme matrix, columns in ``THEME_IDS`` order.
        sentiment : sequence of str or None
            Sentiment per comment; ``None`` rows are left out of the sentiment head.
        questions : sequence of str, optional
            The survey question each comment answers (empty or missing when unknown).
        safeguarding : sequence of bool, optional
            Whether each comment carries the safeguarding flag; without it, or with too few
            flagged comments, there is no safeguarding head (the rules still flag).
        safeguarding_examples : (sequence of str, sequence of bool), optional
            More comments, labelled for safeguarding only (varied disclosures and hard
            negatives), that the safeguarding head learns from beside ``safeguarding``. The
            features are fitted without them and the theme and sentiment heads never see them.
        ratings : sequence of str or None, optional
            The survey rating each comment explains, normalised as
            :func:`feedback_nlp.ratings.normalise_ratings` gives it (``read_corpus`` does); the
            values seen become the model's ``rating_scale_``.
        groups : sequence of int, optional
            Rows with the same group are copies of one comment (a comment weighted by repeating
            it, see :mod:`feedback_nlp.adapting`); they stay in one fold when thresholds are tuned,
            so that no copy is scored by a classifier that learned another.
        threshold_rows : sequence of bool, optional
            The rows whose held-out scores tune each theme's threshold (all when None): a
            team's own comments, when adapting to its conventions. A theme none of these rows
            has is tuned on all rows.

        Returns
        -------
        self
        """
        self.check_params()
        themes = np.asarray(themes, dtype=np.int8)
        sentiment = np.asarray(sentiment, dtype=object)
        self.features_ = TextFeatures(max_char_features=self.max_char_features)
        self.embeddings_ = None if self.embeddings is None else SentenceEmbeddings(self.embeddings)
        texts = np.asarray(texts, dtype=object)
        kinds = question_kinds(questions, len(texts))
        ratings = _ratings(ratings, len(texts))
        self.rating_scale_ = () if self.rating_features == "none" else scale_of(ratings)
        X = self._joined(self.features_.fit_transform(np.column_stack([texts, kinds])), texts)

        theme_head = OneVsRestClassifier(self._yes_no())
        held_out = cross_val_predict(
            theme_head,
            X,
            themes,
            cv=multilabel_folds(themes, self.threshold_folds, self.random_state, groups),
            method="predict_proba",
        )
        tune = np.ones(len(texts), dtype=bool) if threshold_rows is None else np.asarray(threshold_rows, dtype=bool)
        self.thresholds_ = np.array([
            best_f1_threshold(themes[rows, j], held_out[rows, j])
            for j in range(themes.shape[1])
            for rows in [tune if themes[tune, j].any() else slice(None)]
        ])
        self.themes_ = theme_head.fit(X, themes)

        known = pd.notna(sentiment)
        self.sentiment_ = LogisticRegression(
            C=self.sentiment_C, class_weight="balanced", max_iter=2000
        ).fit(self._with_rating(X, ratings, kinds)[known], sentiment[known])
        # Columns of predict_proba in SENTIMENTS order, whatever order the classifier sorted.
        self.sentiment_order_ = np.array(
            [list(self.sentiment_.classes_).index(s) for s in SENTIMENTS]
        )
        if safeguarding_examples is not None:
            extra_texts, extra_flagged = (np.asarray(v, dtype=object) for v in safeguarding_examples)
            extra = self.features_.transform(np.column_stack([extra_texts, question_kinds(None, len(extra_texts))]))
            flagged = np.zeros(len(texts), bool) if safeguarding is None else np.asarray(safeguarding, dtype=bool)
            X = sp.vstack([X, self._joined(extra, extra_texts)], format="csr")
            safeguarding = np.concatenate([flagged, extra_flagged.astype(bool)])
            # Each example is a group of its own, after the corpus rows' groups.
            if groups is not None:
                groups = np.concatenate([groups, np.max(groups, initial=-1) + 1 + np.arange(len(extra_texts))])
        self.safeguarding_, self.safeguarding_threshold_ = self._fit_safeguarding(
            self._without_question(X), safeguarding, groups
        )
        return self

    def _without_question(self, X) -> sp.csr_matrix:
        """``X`` with its question block emptied, to fit the safeguarding head on: its examples
        come with no question, so the question's features would tell the head which rows are
        examples, the half of them flagged (a "Don't know" tagged without its question scored
        0.70). Fitted so, the head's weights there are 0, and it scores ``X`` as it is."""
        start, end = self._question_columns()
        X = X.copy()
        X.data[(X.indices >= start) & (X.indices < end)] = 0
        X.eliminate_zeros()
        return X

    def _question_columns(self) -> tuple[int, int]:
        """Where the question block's columns start and end in the model's features."""
        sizes = [len(self.features_.vocabularies_[block]) for block in BLOCKS]
        start = sum(sizes[: BLOCKS.index("question")])
        return start, start + sizes[BLOCKS.index("question")]

    def _yes_no(self) -> LogisticRegression:
        """The classifier of one theme, and of safeguarding: a balanced logistic regression.

        liblinear's dual solver: the problem and its optimum are the primal's, but with far more
        features than comments it gets there much faster (a theme on the shipped model's 11,058
        comments and 46,641 features: 0.3 s against 4.2 s, probabilities within 6e-5 of the
        primal's)."""
        return LogisticRegression(
            C=self.theme_C, class_weight="balanced", solver="liblinear", dual=True, random_state=self.random_state
        )

    def _joined(self, X, texts) -> sp.csr_matrix:
        """The TF-IDF features ``X`` of ``texts``, with their sentence embeddings after them when
        the model has an encoder (after, so that the word block's columns stay the first)."""
        if self.embeddings_ is None:
            return X
        return sp.hstack([X, self.embeddings_.transform(texts)], format="csr")

    def _with_rating(self, X, ratings, kinds) -> sp.csr_matrix:
        """``X`` with the rating's columns after it, for the sentiment head only: a rating says
        how the patient felt, not what about (as theme features it cost theme macro F1 0.016 to
        0.024 on the QDC file's folds)."""
        if not getattr(self, "rating_scale_", ()):
            return X
        block = rating_features(ratings, kinds, self.rating_scale_, self.rating_features == "crossed")
        return sp.hstack([X, block], format="csr")

    def _fit_safeguarding(self, X, flagged, groups=None):
        """The safeguarding head and its threshold, or (None, inf) without enough flagged rows."""
        flagged = np.zeros(X.shape[0], dtype=bool) if flagged is None else np.asarray(flagged, dtype=bool)
        if flagged.sum() < max(MIN_SAFEGUARDING, self.threshold_folds):
            return None, float("inf")
        head = self._yes_no()
        folds = StratifiedKFold(self.threshold_folds, shuffle=True, random_state=self.random_state)
        folds = list(folds.split(X, flagged)) if groups is None else _by_group(
            groups, lambda first: list(folds.split(first, flagged[first]))  # copies in one fold
        )
        held_out = cross_val_predict(head, X, flagged, cv=folds, method="predict_proba")[:, 1]
        threshold = float(np.quantile(held_out[flagged], 1 - SAFEGUARDING_RECALL, method="lower"))
        return head.fit(X, flagged), threshold

    def predict_scores(self, texts, questions=None, ratings=None) -> ModelScores:
        """Score comments; labels are decided from these by :mod:`feedback_nlp.decide`.

        ``texts`` holds strings or missing values (None, NaN); ``questions``, when given, the
        survey question each answers; ``ratings``, the survey rating each explains (checked
        against ``rating_scale_`` by the caller). Returned, row by row: theme probabilities
        (n, 5), sentiment probabilities (n, 3, ``SENTIMENTS`` order), the safeguarding
        probability (0 without a safeguarding head), and how many distinct words and word pairs
        of each comment the model knows: 0 for one none of whose words was seen in training
        (another language, a typo, "asdfgh"), whose scores say little. An empty, blank or
        missing text says nothing: theme scores 0 and sentiment ``neutral`` with probability 1.
        Each distinct (text, question kind, rating) is scored once, which pays off on survey
        exports full of "Nothing".
        """
        check_is_fitted(self, "themes_")
        text_codes, distinct_texts = pd.factorize(pd.Series(texts, dtype=object))
        kind_codes = np.searchsorted(QUESTION_KINDS_SORTED, question_kinds(questions, len(text_codes)))
        # Ratings off the model's scale count as none: the callers have refused them already.
        rating_codes, distinct_ratings = pd.factorize(pd.Series(_ratings(ratings, len(text_codes)), dtype=object))
        n_kinds, n_ratings = len(QUESTION_KINDS_SORTED), len(distinct_ratings) + 1
        key_codes = (text_codes * n_kinds + kind_codes) * n_ratings + rating_codes + 1
        # Missing texts have text code -1, so negative codes: all get the empty answer.
        distinct_keys, codes = np.unique(np.where(text_codes < 0, -1, key_codes), return_inverse=True)
        known = distinct_keys >= 0
        text_kind = np.where(known, distinct_keys // n_ratings, -1)
        # Missing texts index the "" appended last, which also serves a batch with no text at all.
        texts_and_blank = np.append(np.asarray(distinct_texts, dtype=object), "")
        key_texts = texts_and_blank[np.where(known, text_kind // n_kinds, -1)]
        key_kinds = QUESTION_KINDS_SORTED[text_kind % n_kinds]
        ratings_and_none = np.append([None], np.asarray(distinct_ratings, dtype=object))
        key_ratings = ratings_and_none[np.where(known, distinct_keys % n_ratings, 0)]
        said = known & np.array([bool(t.strip()) for t in key_texts], dtype=bool)

        theme_scores = np.zeros((len(distinct_keys), len(THEME_IDS)))
        sentiment_scores = np.zeros((len(distinct_keys), len(SENTIMENTS)))
        sentiment_scores[:, SENTIMENTS.index(EMPTY_SENTIMENT)] = 1.0
        known_terms = np.zeros(len(distinct_keys), dtype=np.int64)
        safeguarding = np.zeros(len(distinct_keys))
        rows = np.flatnonzero(said)
        for start in range(0, len(rows), SCORING_BLOCK):
            block = rows[start:start + SCORING_BLOCK]
            X = self._joined(
                self.features_.transform(np.column_stack([key_texts[block], key_kinds[block]])), key_texts[block]
            )
            theme_scores[block] = self.themes_.predict_proba(X)
            with_rating = self._with_rating(X, key_ratings[block], key_kinds[block])
            sentiment_scores[block] = self.sentiment_.predict_proba(with_rating)[:, self.sentiment_order_]
            if self.safeguarding_ is not None:
                safeguarding[block] = self.safeguarding_.predict_proba(X)[:, 1]
            # The word block comes first, so its columns are those below its vocabulary's size.
            in_words = (X.indices < len(self.features_.vocabularies_["words"])).astype(np.int64)
            known_terms[block] = np.add.reduceat(np.append(in_words, 0), X.indptr[:-1]) * (np.diff(X.indptr) > 0)
        return ModelScores(
            theme_scores[codes], sentiment_scores[codes], safeguarding[codes], known_terms[codes]
        )


def _ratings(ratings, n: int) -> np.ndarray:
    """``ratings`` (already normalised and checked by the callers at the edges), or all None."""
    if ratings is None:
        return np.full(n, None, dtype=object)
    ratings = np.asarray(ratings, dtype=object)
    if len(ratings) != n:
        raise SettingError("ratings", f"one per comment ({n})", len(ratings))
    return ratings


# Question kinds as codes, for scoring each distinct (text, kind, rating) once.
QUESTION_KINDS_SORTED = np.array(sorted(QUESTION_KINDS), dtype=object)


def multilabel_folds(themes, n_folds: int, seed: int, groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded folds of a 0/1 theme matrix, stratified on each row's rarest theme (or none).

    Multi-label data has no single class to stratify on; the rarest theme present matters most,
    so that rare themes such as leading_voice land in every fold. Rows sharing a value of
    ``groups`` (copies of one comment, so with the same labels) land in the same fold: the
    folds are made over the first row of each group and carry its copies with it.
    """
    themes = np.asarray(themes, dtype=bool)
    if groups is not None:
        return _by_group(groups, lambda first: multilabel_folds(themes[first], n_folds, seed))
    key = np.full(len(themes), -1)
    for j in np.argsort(themes.sum(axis=0), kind="stable")[::-1]:
        key[themes[:, j]] = j
    splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(themes)), key))


def _by_group(groups, make_folds) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds that ``make_folds`` makes over the first row of each group (given their positions),
    each carrying every row of the group with its first."""
    codes = pd.factorize(pd.Series(groups))[0]
    _, first = np.unique(codes, return_index=True)  # position p in first is group code p
    return [(np.flatnonzero(np.isin(codes, train)), np.flatnonzero(np.isin(codes, test)))
            for train, test in make_folds(first)]


def best_f1_threshold(truth, scores) -> float:
    """The score threshold that maximises F1 of ``scores >= threshold`` against ``truth``.

    It is placed halfway between the best cut-off score and the next lower score seen, so that
    new comments scoring just under the cut-off are treated as the training data suggests.
    """
    precision, recall, thresholds = precision_recall_curve(truth, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))[:-1]
    best = int(np.argmax(f1))
    lower = thresholds[best - 1] if best > 0 else 0.0
    return float((thresholds[best] + lower) / 2)
