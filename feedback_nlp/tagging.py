"""Tagging comments with a trained model: one comment, a list, or a column of a DataFrame."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import ColumnError, ModelError
from .metrics import Scores, score
from .model import CommentModel, decide, load_model, save_model
from .themes import SENTIMENTS, THEME_IDS

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "default"
RESULT_COLUMNS = ("themes", "sentiment", *(f"score_{t}" for t in THEME_IDS))


@dataclass(frozen=True)
class Tag:
    """The tags of one comment.

    Attributes
    ----------
    themes : tuple of str
        Theme ids assigned, in ``THEME_IDS`` order; empty when none applies.
    theme_scores : dict of str to float
        Probability of every theme, keyed by theme id.
    sentiment : str
        ``"positive"``, ``"neutral"`` or ``"negative"``.
    sentiment_scores : dict of str to float
        Probability of every sentiment class.
    """

    themes: tuple[str, ...]
    theme_scores: dict[str, float]
    sentiment: str
    sentiment_scores: dict[str, float]


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def _check_texts(texts, what: str) -> list:
    if isinstance(texts, str):
        raise TypeError(f"expected a list of {what}s, got one string; use Tagger.tag for one")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not (isinstance(text, str) or _is_missing(text)):
            raise TypeError(f"{what} {i}: expected a string or a missing value, got {text!r}")
    return texts


def _as_text(values: pd.Series) -> np.ndarray:
    """A column's cells as strings or missing values; a number in a cell is tagged as its text."""
    return np.array(
        [c if isinstance(c, str) or _is_missing(c) else str(c) for c in values.to_numpy(dtype=object)],
        dtype=object,
    )


class Tagger:
    """A trained model held in memory, ready to tag comments.

    Get one with :func:`load` (a model folder) or :func:`feedback_nlp.train`. Empty, blank or
    missing comments get no themes and sentiment ``"neutral"``; they never raise mid-batch.

    Examples
    --------
    >>> tagger = load()  # doctest: +SKIP
    >>> tagger.tag("Lovely nurses but I waited three hours").themes  # doctest: +SKIP
    ('confidence_and_trust', 'access')
    """

    def __init__(self, model: CommentModel, card: dict):
        self.model = model
        self.card = card

    @property
    def thresholds(self) -> dict[str, float]:
        """The score each theme must reach to be assigned, keyed by theme id."""
        return dict(zip(THEME_IDS, map(float, self.model.thresholds_)))

    def tag(self, text: str | None, question: str | None = None) -> Tag:
        """Tag one comment, optionally with the survey question it answers.

        The same result as its entry in :meth:`tag_many`.
        """
        return self.tag_many([text], None if question is None else [question])[0]

    def tag_many(
        self, texts: Iterable[str | None], questions: Iterable[str | None] | None = None
    ) -> list[Tag]:
        """Tag a list of comments in one vectorised pass, returning one :class:`Tag` each, in order.

        Parameters
        ----------
        texts : iterable of str or None
            The comments; None, NaN, empty and blank ones get no themes and ``neutral``.
        questions : iterable of str or None, optional
            The survey question each comment answers ("What could we do better?"), which
            changes what a short answer such as "Nothing" means. Omit when unknown.

        Raises
        ------
        TypeError
            An item is neither a string nor missing (None, NaN); the message gives its index.
        ValueError
            ``questions`` is not as long as ``texts``.
        """
        texts = _check_texts(texts, "comment")
        if questions is not None:
            questions = _check_texts(questions, "question")
        theme_scores, sentiment_scores = self.model.predict_scores(texts, questions)
        themes, sentiments = decide(theme_scores, sentiment_scores, self.model.thresholds_)
        ids = np.array(THEME_IDS, dtype=object)
        return [
            Tag(
                themes=tuple(ids[row_themes.astype(bool)]),
                theme_scores=dict(zip(THEME_IDS, map(float, row_theme_scores))),
                sentiment=sentiment,
                sentiment_scores=dict(zip(SENTIMENTS, map(float, row_sentiment_scores))),
            )
            for row_themes, row_theme_scores, sentiment, row_sentiment_scores in zip(
                themes, theme_scores, sentiments, sentiment_scores
            )
        ]

    def tag_frame(
        self, frame: pd.DataFrame, column: str, question_column: str | None = None
    ) -> pd.DataFrame:
        """Return a copy of ``frame`` with the tag columns added, every row kept in order.

        Added columns: ``themes`` (ids joined by ``;``, empty when none), ``sentiment`` and
        ``score_<theme id>`` for each theme. Cells that are numbers are tagged as their text.

        Parameters
        ----------
        frame : pandas.DataFrame
        column : str
            The column of comments.
        question_column : str, optional
            A column holding the survey question each comment answers.

        Raises
        ------
        ColumnError
            A named column is not in the frame, or the frame already has a result column.
        """
        for name in (column, question_column):
            if name is not None and name not in frame.columns:
                raise ColumnError(f"no column {name!r}; the columns are {list(frame.columns)}")
        clashes = [c for c in RESULT_COLUMNS if c in frame.columns]
        if clashes:
            raise ColumnError(
                f"the frame already has result column(s) {clashes}; rename or drop them first"
            )
        questions = None if question_column is None else _as_text(frame[question_column])
        theme_scores, sentiment_scores = self.model.predict_scores(
            _as_text(frame[column]), questions
        )
        themes, sentiments = decide(theme_scores, sentiment_scores, self.model.thresholds_)
        out = frame.copy()
        out["themes"] = [";".join(t for t, on in zip(THEME_IDS, row) if on) for row in themes]
        out["sentiment"] = sentiments
        for j, theme in enumerate(THEME_IDS):
            out[f"score_{theme}"] = theme_scores[:, j].round(4)
        return out

    def evaluate(self, corpus: pd.DataFrame) -> Scores:
        """Score this model's tags against a labelled corpus from :func:`read_corpus`."""
        themes, sentiments = self.model.predict(
            corpus["text"].to_numpy(dtype=object), corpus["question"].to_numpy(dtype=object)
        )
        return score(corpus[list(THEME_IDS)], themes, corpus["sentiment"], sentiments)

    def save(self, directory: str | PathLike) -> Path:
        """Save the model and its card into ``directory``; :func:`load` reads it back."""
        return save_model(self.model, self.card, directory)


def load(model_dir: str | PathLike | None = None) -> Tagger:
    """Load a model folder into a :class:`Tagger`; the shipped default model when none is given.

    joblib artefacts are pickles: load only model folders from a source you trust.

    Raises
    ------
    ModelError
        The folder is missing, or does not match its model card (labels, versions, hash).
    """
    directory = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    if not directory.is_dir():
        hint = (
            " (the default model lives in the repository's models/default: install the "
            "package from a clone with `pip install -e .`, or pass a model folder)"
            if model_dir is None
            else ""
        )
        raise ModelError(f"no model folder at {directory}{hint}")
    model, card = load_model(directory)
    return Tagger(model, card)


@functools.lru_cache(maxsize=1)
def _default_tagger() -> Tagger:
    return load()


def tag(
    texts: Iterable[str | None], questions: Iterable[str | None] | None = None
) -> list[Tag]:
    """Tag a list of comments with the default model, loaded once and kept.

    The arguments are those of :meth:`Tagger.tag_many`.

    Examples
    --------
    >>> [t.sentiment for t in tag(["Kind staff", "Parking was a nightmare"])]  # doctest: +SKIP
    ['positive', 'negative']
    """
    return _default_tagger().tag_many(texts, questions)
