"""Choosing the comments whose labels would teach a model most, and writing them as a review sheet.

A team can check a few hundred comments, not thousands. The ones worth a person's time are those
the model is unsure of (a theme score near its threshold, a sentiment it can barely tell), those
that may hold a rare theme (``leading_voice``, ``effectiveness``: few examples, and each counts
as much as a common theme in macro F1), spread over the kinds of comment a survey holds, so that
two hundred labels do not all teach the same thing. Identical texts are chosen once, and texts
already on an earlier sheet never again.

The sheet is a labelled file in the project's format (``text``, ``question``, ``themes``,
``sentiment``, ``flags``), filled in with the model's guesses for the person to correct, with a
``reason`` column and every other column of the chosen rows; :func:`feedback_nlp.read_corpus`
reads it back, as CSV or ``.xlsx``, for :func:`feedback_nlp.adapt`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.preprocessing import normalize

from .batch import CHUNK_ROWS, COLUMN_SAMPLE_ROWS, context_columns
from .corpus import read_corpus
from .exceptions import ColumnError, InputFileError, RatingError, SettingError
from .features import normalise_texts, question_kinds
from .routing import ROUTE_COLUMNS
from .tables import TableReader, TableWriter, file_kind, find_text_column
from .tagging import EXPLAIN_COLUMNS, RESULT_COLUMNS, Tagger, as_text, load
from .themes import SENTIMENTS, THEME_IDS, THEMES

# Themes few comments carry; their uncertainty counts this many times a common theme's. At K = 200
# over 20 seeds (docs/adaptation.md, round 6), 5 rather than 2: theme macro F1 +0.018 for NHFT
# (standard error 0.004), +0.001 for NEAS; 3 gained nothing on seeds it was not first seen on.
RARE_THEMES = ("leading_voice", "effectiveness")
RARE_WEIGHT = 5.0
# Sentiment's uncertainty counts as one theme's. Counted 3 times, review's picks were three
# quarters sentiment-led and theme macro F1 fell to random's (scripts/benchmark_adaptation.py).
SENTIMENT_WEIGHT = 1.0
# The most informative CANDIDATES_PER_PICK x n comments are clustered into n kinds, and the most
# informative of each kind is chosen: unsure comments, but not n of one kind.
CANDIDATES_PER_PICK = 10
SVD_DIMENSIONS = 50


# The sheet's own columns, in order; "question" and "rating" only when the input has them.
SHEET_COLUMNS = ("text", "question", "rating", "themes", "sentiment", "flags", "reason")
# Columns of an already tagged file: the sheet's guesses replace them.
TAG_COLUMNS = (*RESULT_COLUMNS, *EXPLAIN_COLUMNS, *ROUTE_COLUMNS)


@dataclass(frozen=True)
class ReviewSummary:
    """What :func:`review` did: comments written, distinct new comments it chose among, the
    columns it used (and what was said of finding them), and the time it took."""

    rows: int
    candidates: int
    column: str
    question_column: str | None
    rating_column: str | None
    found: tuple[str, ...]
    seconds: float


def review(
    input: str | PathLike,
    output: str | PathLike,
    *,
    model: str | PathLike | None = None,
    column: str | None = None,
    question_column: str | None = "auto",
    rating_column: str | None = "auto",
    n: int = 200,
    exclude: Sequence[str | PathLike] = (),
    sheet: str | None = None,
    seed: int = 0,
) -> ReviewSummary:
    """Choose the ``n`` comments of a table whose labels would teach the model most, and write
    them as a review sheet for a person to correct.

    Parameters
    ----------
    input : str or path-like
        A CSV, ``.xlsx`` or Parquet table of comments, as :func:`feedback_nlp.batch.tag_file`
        reads it; an already tagged file too (its tag columns are replaced by the sheet's).
    output : str or path-like
        The sheet, ``.csv`` or ``.xlsx`` (a drop-down for sentiment, the themes on a second
        sheet, every cell text); never the input.
    model : str or path-like, optional
        The model folder (default: the shipped default model).
    column, question_column, rating_column : str, optional
        As for tagging: the comment column (found by its name when None); the question and
        rating columns, ``"auto"`` to find them, None for none.
    n : int
        How many comments to choose.
    exclude : sequence of str or path-like
        Earlier review sheets: no comment on them is chosen again.
    sheet : str, optional
        The worksheet of an ``.xlsx`` input (default: the one Excel opens on).
    seed : int
        The same input, model and seed give the same sheet.

    Returns
    -------
    ReviewSummary

    Raises
    ------
    InputFileError, ColumnError
        The input cannot be read, has no clear comment column, holds a rating off the model's
        scale (naming the row), or has a column the sheet needs for its own.
    CorpusError
        An excluded sheet cannot be read.
    OutputFileError
        The sheet cannot be written; nothing is left under its name.

    Examples
    --------
    >>> review("export.csv", "review-1.xlsx", n=200)  # doctest: +SKIP
    """
    start = time.perf_counter()
    input, output = Path(input), Path(output)
    if file_kind(output, output=True) == "parquet":
        raise InputFileError(f"{output}: a review sheet is for a person: write .csv or .xlsx")
    if output.exists() and input.exists() and output.samefile(input):
        raise InputFileError(f"{output}: the sheet would replace the input; choose another name")
    tagger = load(model)
    reader = TableReader(input, sheet=sheet, chunk_rows=CHUNK_ROWS)
    frames = list(reader)
    columns = [c for c in reader.columns if c not in TAG_COLUMNS]
    frame = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    column = find_text_column(columns, column)
    question_column, rating_column, found = context_columns(
        columns, column, question_column, rating_column, frame.head(COLUMN_SAMPLE_ROWS), tagger
    )
    used = (column, question_column, rating_column)
    clashes = [c for c in columns if c in SHEET_COLUMNS and c not in used]
    if clashes:
        raise ColumnError(f"{input}: has column(s) {clashes}, which the review sheet needs for its own; "
                          "rename them")
    texts = as_text(frame[column])
    questions = None if question_column is None else as_text(frame[question_column])
    ratings = None
    if rating_column is not None:
        try:
            ratings = tagger._checked_ratings(frame[rating_column], range(1, len(frame) + 1))
        except RatingError as err:
            raise InputFileError(f"{input}, column {rating_column!r}, {err}") from None
    reviewed = [text for path in exclude for text in read_corpus(path)["text"]]
    chosen = select(tagger, texts, questions, ratings, n, exclude=reviewed, seed=seed)
    sheet_frame = _sheet(tagger, frame.iloc[chosen.rows], chosen.reasons, used, texts[chosen.rows],
                         None if questions is None else questions[chosen.rows],
                         None if ratings is None else ratings[chosen.rows])
    writer = TableWriter(
        output,
        choices={"sentiment": SENTIMENTS},
        extra_sheets={"themes": [("theme id", "theme", "a comment belongs here when it is about")]
                      + [(t.id, t.name, t.description) for t in THEMES]},
    )
    try:
        writer.write(sheet_frame)
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    return ReviewSummary(len(sheet_frame), chosen.candidates, column, question_column, rating_column, found,
                         time.perf_counter() - start)


def _sheet(tagger, rows: pd.DataFrame, reasons, used, texts, questions, ratings) -> pd.DataFrame:
    """The review sheet: the project's labelled format with the model's guesses, the reason,
    then the chosen rows' other columns as they were."""
    tags = tagger.tag_many(list(texts), None if questions is None else list(questions),
                           None if ratings is None else list(ratings))
    sheet = pd.DataFrame({"text": texts})
    if questions is not None:
        sheet["question"] = questions
    if ratings is not None:
        sheet["rating"] = ratings
    sheet["themes"] = [";".join(t.themes) for t in tags]
    sheet["sentiment"] = [t.sentiment for t in tags]
    sheet["flags"] = [";".join(t.flags) for t in tags]
    sheet["reason"] = reasons
    others = rows.drop(columns=[c for c in used if c is not None]).reset_index(drop=True)
    return pd.concat([sheet, others], axis=1)


@dataclass(frozen=True)
class Selection:
    """The rows chosen for review, most informative first, why each was chosen, and how many
    distinct comments with words, not reviewed before, they were chosen among."""

    rows: np.ndarray
    reasons: list[str]
    candidates: int


def text_keys(texts) -> np.ndarray:
    """Each text as the model reads it (lower case, one space between words): two comments with
    the same key are the same comment, chosen once."""
    texts = ["" if not isinstance(t, str) else t for t in texts]
    return np.array(normalise_texts(texts), dtype=object)


def select(
    tagger: Tagger,
    texts,
    questions=None,
    ratings=None,
    n: int = 200,
    *,
    exclude=(),
    seed: int = 0,
) -> Selection:
    """Choose up to ``n`` comments whose labels would teach ``tagger``'s model most.

    Parameters
    ----------
    tagger : Tagger
    texts, questions, ratings : sequences
        The comments, the question each answers, and the rating each explains, normalised
        (:func:`feedback_nlp.ratings.normalise_ratings`); a rating off the model's scale is read
        as none (:func:`review` refuses one first, as tagging does).
    n : int
        How many to choose; fewer when fewer distinct comments with words are left.
    exclude : iterable of str
        Texts never to choose (those on earlier review sheets), compared as :func:`text_keys`.
    seed : int
        Seed of the clustering, so the same input gives the same choice.

    Returns
    -------
    Selection
        Row positions into ``texts`` and a reason per row: ``near_threshold:<theme>``,
        ``rare_theme:<theme>`` or ``unsure_sentiment``, then ``kind:<k>`` (which of the ``n``
        kinds of comment it stands for).
    """
    if n < 1:
        raise SettingError("n", ">= 1", n)
    keys = text_keys(texts)
    excluded = set(text_keys(list(exclude)))
    # The first row of each distinct text, with words, not on an earlier sheet.
    _, first = np.unique(keys, return_index=True)
    first = np.sort(first)
    candidates = first[[bool(keys[i]) and keys[i] not in excluded for i in first]]
    if not len(candidates):
        return Selection(np.array([], dtype=np.int64), [], 0)
    texts = np.asarray(texts, dtype=object)[candidates]
    questions = None if questions is None else np.asarray(questions, dtype=object)[candidates]
    ratings = None if ratings is None else np.asarray(ratings, dtype=object)[candidates]
    scores = tagger.model.predict_scores(texts, questions, ratings)
    parts = _informativeness(scores.themes, scores.sentiment, tagger.model.thresholds_)
    value = parts.sum(axis=1)
    # Cluster the most informative, many times n of them: diverse, yet each worth a label.
    pool = np.argsort(-value, kind="stable")[: CANDIDATES_PER_PICK * n]
    chosen, kinds = _spread(tagger, texts[pool], questions if questions is None else questions[pool],
                            value[pool], n, seed)
    chosen = pool[chosen]
    order = np.argsort(-value[chosen], kind="stable")
    chosen, kinds = chosen[order], kinds[order]
    labels = [f"near_threshold:{t}" for t in THEME_IDS] + ["unsure_sentiment"]
    reasons = []
    for i, kind in zip(chosen, kinds):
        top = int(parts[i].argmax())
        reason = labels[top]
        if top < len(THEME_IDS) and THEME_IDS[top] in RARE_THEMES:
            reason = f"rare_theme:{THEME_IDS[top]}"
        reasons.append(f"{reason};kind:{kind + 1}")
    return Selection(candidates[chosen], reasons, len(candidates))


def _informativeness(theme_scores, sentiment_scores, thresholds) -> np.ndarray:
    """How unsure the model is of each decision, per row: a column per theme, then sentiment.

    A theme's part is 1 at its threshold and falls to 0 at a score of 0 or 1 (the margin to the
    threshold, relative to the room on that side), weighted up for a rare theme; sentiment's is
    one minus the margin between its two likeliest classes, weighted by ``SENTIMENT_WEIGHT``.
    """
    room = np.where(theme_scores < thresholds, thresholds, 1 - thresholds)
    themes = 1 - np.abs(theme_scores - thresholds) / room
    themes *= np.array([RARE_WEIGHT if t in RARE_THEMES else 1.0 for t in THEME_IDS])
    top_two = np.sort(sentiment_scores, axis=1)[:, -2:]
    sentiment = SENTIMENT_WEIGHT * (1 - (top_two[:, 1] - top_two[:, 0]))
    return np.column_stack([themes, sentiment])


def _spread(tagger: Tagger, texts, questions, value, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of up to ``n`` of ``texts``, one from each of ``n`` clusters of the model's
    features (the most informative of each), and the cluster of each."""
    if len(texts) <= n:
        return np.arange(len(texts)), np.arange(len(texts))
    features = tagger.model.features_.transform(
        np.column_stack([texts, question_kinds(questions, len(texts))])
    )
    dimensions = min(SVD_DIMENSIONS, features.shape[1] - 1, len(texts) - 1)
    reduced = normalize(TruncatedSVD(dimensions, random_state=seed).fit_transform(features))
    # Weighted by value, centres sit among the comments most worth a label.
    clusters = KMeans(n, n_init=1, random_state=seed).fit_predict(reduced, sample_weight=value + 1e-9)
    best = {}
    for i, cluster in enumerate(clusters):
        if cluster not in best or value[i] > value[best[cluster]]:
            best[cluster] = i
    kinds = np.array(sorted(best), dtype=np.int64)
    return np.array([best[k] for k in kinds], dtype=np.int64), kinds
