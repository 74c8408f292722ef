"""Deciding a batch's labels from the model's scores and the rules' reading: the one place.

The model only scores (:meth:`feedback_nlp.model.CommentModel.predict_scores`), the flag rules
only read (:func:`feedback_nlp.flags.read_flags`); :func:`decide` turns both into each comment's
themes, sentiment, flags and review reasons, as spaCy splits ``predict`` from
``set_annotations``. :class:`feedback_nlp.Tag`, the frame columns of ``tag_frame`` and the
router all read the :class:`Decisions` it returns; nothing decides again downstream.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .flags import CommentFlags, reassuring
from .model import ModelScores
from .themes import FLAGS, SENTIMENTS, THEME_IDS

# Theme scores are shown (in tables, and to routing rules with their own thresholds) rounded to
# this many decimals, so that a table's route always agrees with the scores it shows.
SCORE_DECIMALS = 4
# A theme score this close to its threshold could have gone either way: a person should look.
REVIEW_MARGIN = 0.05
# A comment of fewer words whose sentiment the model is less sure of than this is too short to tell.
SHORT_WORDS, SURE_SENTIMENT = 3, 0.6
# A comment of at least this many distinct words, of which the model knows fewer than this share,
# is most likely not English (Welsh, Polish): measured on data/corpus.csv and the QDC file, it
# marks 6 of 11,058 English comments (terse lists such as "Presenters, material, explanations")
# and 8 of 9 Welsh ones; the ninth has two words and is marked "unknown_words".
FOREIGN_MIN_WORDS, FOREIGN_KNOWN_SHARE = 3, 0.5
# The safeguarding category of a comment the model's head flags with no rule standing.
MODEL_CATEGORY = "model"
# A safeguarding head at least this sure raises the flag even where the comment seems to
# reassure: the rules misread a disclosure as negated or settled ("I didn't tell her I've been
# saving up my tablets") more often than the head is this sure of a comment that reassures.
# Measured on the head shipped in round 3 (threshold 0.358) on data/eval; it is a probability of
# whatever head a model has, so a retrained model should be measured again (scripts/evaluate_flags.py).
SURE_SAFEGUARDING = 0.9


@dataclass(frozen=True, eq=False)  # arrays: compared with numpy, not ==
class Decisions:
    """A batch's labels, row by row, and the scores they were decided from.

    Attributes
    ----------
    theme_scores : ndarray of shape (n, 5)
        Each theme's probability, columns in ``THEME_IDS`` order.
    sentiment_scores : ndarray of shape (n, 3)
        Each sentiment's probability, columns in ``SENTIMENTS`` order.
    themes : ndarray of shape (n, 5)
        1 where the theme is assigned.
    sentiments : ndarray of shape (n,)
        The sentiment of each comment.
    flags : list of tuple of str
        The flags raised, in ``FLAGS`` order.
    safeguarding : list of tuple of str
        The safeguarding categories of each flagged comment (``MODEL_CATEGORY`` when only the
        model's head raised it), empty for the others.
    review_reasons : list of tuple of str
        Why a person should read the comment (see :class:`feedback_nlp.Tag`); empty: no need.
    """

    theme_scores: np.ndarray
    sentiment_scores: np.ndarray
    themes: np.ndarray
    sentiments: np.ndarray
    flags: list[tuple[str, ...]]
    safeguarding: list[tuple[str, ...]]
    review_reasons: list[tuple[str, ...]]

    @functools.cached_property  # read once per theme by the frame columns and the router
    def shown_scores(self) -> np.ndarray:
        """The theme scores as tables show them (``SCORE_DECIMALS`` decimals)."""
        return self.theme_scores.round(SCORE_DECIMALS)

    def theme_ids(self, i: int) -> tuple[str, ...]:
        """The ids of row ``i``'s themes, in ``THEME_IDS`` order."""
        return tuple(t for t, on in zip(THEME_IDS, self.themes[i]) if on)


def decide_labels(theme_scores, sentiment_scores, thresholds) -> tuple[np.ndarray, np.ndarray]:
    """Themes and sentiments from scores: a theme where its score reaches its threshold, the
    likeliest sentiment. :func:`decide` uses it; so does measuring a model on held-out folds."""
    themes = (np.asarray(theme_scores) >= thresholds).astype(np.int8)
    return themes, np.asarray(SENTIMENTS, dtype=object)[np.asarray(sentiment_scores).argmax(axis=1)]


def decide(
    texts: np.ndarray,
    scores: ModelScores,
    read: list[CommentFlags],
    words: np.ndarray,
    numbers_only: np.ndarray,
    *,
    thresholds: np.ndarray,
    safeguarding_threshold: float,
    review_margin: float,
) -> Decisions:
    """Decide every label of a batch.

    Parameters
    ----------
    texts : ndarray of object
        The comments as the model and the rules read them (strings or missing values).
    scores : ModelScores
        The model's scores of ``texts``.
    read : list of CommentFlags
        The flag rules' reading of ``texts``.
    words : ndarray of int
        Each comment's white-space separated word count (0 for a numbers-only comment).
    numbers_only : ndarray of bool
        Comments of digits and number punctuation only: read as empty, marked ``short``.
    thresholds, safeguarding_threshold :
        The model's theme thresholds and its safeguarding head's.
    review_margin : float
        A theme score this close to its threshold marks the comment for review.
    """
    themes, sentiments = decide_labels(scores.themes, scores.sentiment, thresholds)
    flags, safeguarding = decide_safeguarding(texts, read, scores.safeguarding, safeguarding_threshold)
    near = np.abs(scores.themes - thresholds) < review_margin
    known_terms = scores.known_terms
    unknown = (words > 0) & (known_terms == 0)
    # Distinct words are counted only where the comment's words could be few enough to tell.
    foreign = (words >= FOREIGN_MIN_WORDS) & ~unknown & (known_terms < FOREIGN_KNOWN_SHARE * words)
    for i in np.flatnonzero(foreign):
        distinct = len(set(texts[i].lower().split()))
        foreign[i] = distinct >= FOREIGN_MIN_WORDS and known_terms[i] < FOREIGN_KNOWN_SHARE * distinct
    short = numbers_only | (
        (words > 0) & (words < SHORT_WORDS) & (scores.sentiment.max(axis=1) < SURE_SENTIMENT)
    )
    review_reasons = [
        tuple(f"safeguarding:{c}" for c in kinds)
        + tuple(f"near_threshold:{t}" for t, on in zip(THEME_IDS, near_row) if on)
        + (("unknown_words",) if u else ())
        + (("not_english",) if e else ())
        + (("short",) if s else ())
        for kinds, near_row, u, e, s in zip(safeguarding, near, unknown, foreign, short)
    ]
    return Decisions(scores.themes, scores.sentiment, themes, sentiments, flags, safeguarding, review_reasons)


def decide_safeguarding(texts, read: list[CommentFlags], head: np.ndarray, threshold: float) -> tuple[list, list]:
    """Each comment's flags, the rules' and the head's merged, and its safeguarding categories.

    A rule that stands raises the flag with its categories. The model's safeguarding head, where
    its score ``head`` reaches ``threshold``, raises it alone (category ``MODEL_CATEGORY``),
    unless the comment reassures (see :func:`feedback_nlp.flags.reassuring`; the head reads words,
    not that they are negated) and the head is less sure than ``SURE_SAFEGUARDING``.
    """
    flags = [found.flags for found in read]
    categories = [found.safeguarding.categories for found in read]
    # Only where the head says yes and no rule stands can the rules' reading change; where the
    # head is unsure, the comments are read for reassurance together.
    raised = [i for i in np.flatnonzero(head >= threshold) if not categories[i]]
    unsure = [i for i in raised if head[i] < SURE_SAFEGUARDING]
    reassured = reassuring([texts[i] for i in unsure], [read[i].safeguarding for i in unsure])
    vetoed = {i for i, yes in zip(unsure, reassured) if yes}
    for i in raised:
        if i not in vetoed:
            categories[i] = (MODEL_CATEGORY,)
            flags[i] = tuple(f for f in FLAGS if f == "safeguarding" or f in read[i].flags)
    return flags, categories
