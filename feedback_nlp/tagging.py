"""Tagging comments with a trained model: one comment, a list, or a column of a DataFrame."""

from __future__ import annotations

import functools
import html
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .exceptions import ColumnError, CorpusError, ModelError, RatingError, SettingError
from .explain import Explainer, theme_sentiments
from .features import is_missing
from .decide import MODEL_CATEGORY, REVIEW_MARGIN, Decisions, decide
from .flags import load_ner, read_flags
from .metrics import Scores, score_decisions
from .model import CommentModel
from .model_folder import ModelCard, load_model, save_model, sha256_file
from .ratings import check_ratings, normalise_ratings
from .themes import SENTIMENTS, THEME_IDS

if TYPE_CHECKING:
    from .routing import Router

def _default_model_dir() -> Path:
    """Where the shipped default model is: inside the package when installed from a wheel (the
    build maps the top-level models/default to feedback_nlp/_models/default), else the clone's
    models/default (``pip install -e .``, or code run from a clone)."""
    package = Path(__file__).resolve().parent
    packaged = package / "_models" / "default"
    return packaged if packaged.is_dir() else package.parent / "models" / "default"


DEFAULT_MODEL_DIR = _default_model_dir()
RESULT_COLUMNS = (
    "themes", "sentiment", *(f"score_{t}" for t in THEME_IDS), "flags", "needs_review", "review_reasons"
)
EXPLAIN_COLUMNS = ("theme_sentiment", "evidence")
# Tags and comments of HTML or XML pasted from a web form or an email; the text between is kept.
_MARKUP = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]{0,500}>", re.DOTALL)
# A comment of digits and the punctuation around numbers only ("1", "3.5", "10/10") says nothing
# a model can read; it is tagged as an empty comment and marked for review as short.
NUMBERS_ONLY = r"^[0-9\s.,:;/%£$€#+\-()]*[0-9][0-9\s.,:;/%£$€#+\-()]*$"


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
        ``"positive"``, ``"neutral"`` or ``"negative"``: the whole comment (a mixed one is neutral).
    sentiment_scores : dict of str to float
        Probability of every sentiment class.
    flags : tuple of str
        Flags raised (``FLAGS`` order): ``"safeguarding"``, ``"personal_data"``.
    needs_review : bool
        A person should read this comment before it is acted on.
    review_reasons : tuple of str
        Why (decided in :mod:`feedback_nlp.decide`): ``"safeguarding:<category>"`` (the rules'
        category, such as ``self_harm``, or ``model`` when only the model's head raised the
        flag), ``"near_threshold:<theme id>"`` (its score is within the
        review margin of the threshold), ``"unknown_words"`` (no word the model knows),
        ``"not_english"`` (few of its words are English words the model knows: Welsh, another
        language), ``"short"`` (under three words with the sentiment unsure, or numbers only).
    theme_sentiment : dict of str to str or None
        For each assigned theme, the sentiment of the part of the comment about it. None unless
        tagged with ``explain=True``.
    evidence : dict of str to tuple of str, or None
        For each assigned theme, the words or phrases of the comment that raised its score most,
        strongest first. None unless tagged with ``explain=True``.
    """

    themes: tuple[str, ...]
    theme_scores: dict[str, float]
    sentiment: str
    sentiment_scores: dict[str, float]
    flags: tuple[str, ...]
    needs_review: bool
    review_reasons: tuple[str, ...]
    theme_sentiment: dict[str, str] | None = None
    evidence: dict[str, tuple[str, ...]] | None = None


@dataclass(frozen=True, eq=False)
class _Tagged:
    """A batch's decisions and, when asked for, their explanations."""

    decided: Decisions
    theme_sentiment: np.ndarray | None = None
    evidence: list[dict[str, tuple[str, ...]]] | None = None

    def assigned(self, i: int, values) -> dict:
        """Row ``i``'s values (one per theme) for its assigned themes only."""
        return {t: v for t, v, on in zip(THEME_IDS, values, self.decided.themes[i]) if on}


def _check_texts(texts, what: str) -> list:
    if isinstance(texts, str):
        raise TypeError(f"expected a list of {what}s, got one string; use tag for one")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not (isinstance(text, str) or is_missing(text)):
            raise TypeError(f"{what} {i}: expected a string or a missing value, got {text!r}")
    return texts


def _readable(texts: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """``texts`` without HTML markup (tags removed, entities decoded), as given and in Arrow."""
    column = pa.array(texts, type=pa.large_string(), from_pandas=True)
    marked = np.flatnonzero(pc.fill_null(pc.match_substring(column, "<"), False).to_numpy(zero_copy_only=False))
    changed = [i for i in marked if _MARKUP.search(texts[i])]
    if not changed:
        return texts, column
    texts = texts.copy()
    for i in changed:
        texts[i] = html.unescape(_MARKUP.sub(" ", texts[i]))
    return texts, pa.array(texts, type=pa.large_string(), from_pandas=True)


def _word_counts(column: pa.Array) -> np.ndarray:
    """How many white-space separated words each text has (0 when missing), in Arrow."""
    trimmed = pc.utf8_trim_whitespace(column)
    counts = pc.list_value_length(pc.utf8_split_whitespace(trimmed))
    empty = pc.equal(pc.binary_length(trimmed), 0)
    return pc.fill_null(pc.if_else(empty, 0, counts), 0).to_numpy(zero_copy_only=False)


def as_text(values: pd.Series) -> np.ndarray:
    """A column's cells as strings or missing values; a number in a cell is tagged as its text."""
    return np.array(
        [c if isinstance(c, str) or is_missing(c) else str(c) for c in values.to_numpy(dtype=object)],
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

    def __init__(self, model: CommentModel, card: ModelCard, *, review_margin: float = REVIEW_MARGIN):
        if not 0 <= review_margin < 0.5:
            raise SettingError("review_margin", "in [0, 0.5)", review_margin)
        if card.ner is not None:
            load_ner(card.ner)  # a missing NER model is said now, not at the first comment
        self.model = model
        self.card = card
        self.review_margin = review_margin

    @property
    def rating_scale(self) -> tuple[str, ...]:
        """The survey ratings this model was trained with (``()`` for a model without ratings)."""
        return tuple(getattr(self.model, "rating_scale_", ()))

    @property
    def thresholds(self) -> dict[str, float]:
        """The score each theme must reach to be assigned, keyed by theme id."""
        return dict(zip(THEME_IDS, map(float, self.model.thresholds_)))

    def tag(
        self, text: str | None, question: str | None = None, rating=None, *, explain: bool = False
    ) -> Tag:
        """Tag one comment, optionally with the survey question it answers and the rating it explains.

        The same result as its entry in :meth:`tag_many` with the same arguments (for a model
        with sentence embeddings, scores to about 1e-6: see :mod:`feedback_nlp.embeddings`).

        Raises
        ------
        TypeError
            ``text`` is not a string or a missing value (a list: use :meth:`tag_many`).
        """
        if not (isinstance(text, str) or is_missing(text)):
            raise TypeError(f"expected one comment (a string), got {type(text).__name__}; for a list use tag_many")
        return self.tag_many(
            [text], None if question is None else [question], None if rating is None else [rating], explain=explain
        )[0]

    def tag_many(
        self,
        texts: Iterable[str | None],
        questions: Iterable[str | None] | None = None,
        ratings: Iterable | None = None,
        *,
        explain: bool = False,
    ) -> list[Tag]:
        """Tag a list of comments in one vectorised pass, returning one :class:`Tag` each, in order.

        Parameters
        ----------
        texts : iterable of str or None
            The comments; None, NaN, empty and blank ones get no themes and ``neutral``.
        questions : iterable of str or None, optional
            The survey question each comment answers ("What could we do better?"), which
            changes what a short answer such as "Nothing" means. Omit when unknown.
        ratings : iterable of str, int or None, optional
            The survey rating each comment explains (Friends and Family Test: 1 very good ...
            5 very poor, 6 don't know), for a model trained with ratings (its card's
            ``rating_scale``); None or blank for none. Omit when unknown.
        explain : bool
            Also give each assigned theme its evidence and its own sentiment
            (``Tag.evidence``, ``Tag.theme_sentiment``); this is slow: on 5,000 comments
            of the corpus, 7.6 s against 0.2 s plain (30 to 40 times, 2 cores).

        Raises
        ------
        TypeError
            An item is neither a string nor missing (None, NaN); the message gives its index.
        SettingError
            ``questions`` or ``ratings`` is not as long as ``texts``.
        RatingError
            A rating is not on the model's scale; the message gives its index.
        """
        texts = _check_texts(texts, "comment")
        if questions is not None:
            questions = _check_texts(questions, "question")
        if ratings is not None:
            ratings = self._checked_ratings(list(ratings))
            if len(ratings) != len(texts):
                raise SettingError("ratings", f"one per comment ({len(texts)})", len(ratings))
        tagged = self._tag(np.array(texts, dtype=object), questions, ratings, explain)
        decided = tagged.decided
        return [
            Tag(
                themes=decided.theme_ids(i),
                theme_scores=dict(zip(THEME_IDS, map(float, decided.theme_scores[i]))),
                sentiment=decided.sentiments[i],
                sentiment_scores=dict(zip(SENTIMENTS, map(float, decided.sentiment_scores[i]))),
                flags=decided.flags[i],
                needs_review=bool(decided.review_reasons[i]),
                review_reasons=decided.review_reasons[i],
                theme_sentiment=None if not explain else tagged.assigned(i, tagged.theme_sentiment[i]),
                evidence=None if not explain else tagged.evidence[i],
            )
            for i in range(len(texts))
        ]

    def tag_frame(
        self,
        frame: pd.DataFrame,
        column: str,
        question_column: str | None = None,
        rating_column: str | None = None,
        *,
        explain: bool = False,
        router: Router | None = None,
    ) -> pd.DataFrame:
        """Return a copy of ``frame`` with the tag columns added, every row kept in order.

        Added columns: ``themes`` (ids joined by ``;``, empty when none), ``sentiment``,
        ``score_<theme id>`` for each theme, ``flags`` (joined by ``;``), ``needs_review`` and
        ``review_reasons`` (joined by ``;``); with ``explain``, also ``theme_sentiment``
        (``theme=sentiment`` pairs joined by ``;``) and ``evidence`` (``theme: words, words``
        joined by `` | ``). Cells that are numbers are tagged as their text.

        Parameters
        ----------
        frame : pandas.DataFrame
        column : str
            The column of comments.
        question_column : str, optional
            A column holding the survey question each comment answers.
        rating_column : str, optional
            A column holding the survey rating each comment explains (see :meth:`tag_many`).
        explain : bool
            Add the evidence and per-theme sentiment columns (30 to 40 times slower: see
            :meth:`tag_many`).
        router : Router, optional
            Also add the ``route`` and ``route_rule`` columns, routed from the same decisions
            (see :meth:`Router.route_frame`).

        Raises
        ------
        ColumnError
            A named column is not in the frame, or the frame already has a result column.
        RatingError
            A rating is not on the model's scale; the message gives its row's index label.
        """
        for name in (column, question_column, rating_column):
            if name is not None and name not in frame.columns:
                raise ColumnError(f"no column {name!r}; the columns are {list(frame.columns)}")
        added = (*RESULT_COLUMNS, *EXPLAIN_COLUMNS, *(() if router is None else router.columns))
        clashes = [c for c in added if c in frame.columns]
        if clashes:
            raise ColumnError(
                f"the frame already has result column(s) {clashes}; rename or drop them first"
            )
        questions = None if question_column is None else as_text(frame[question_column])
        ratings = None if rating_column is None else self._checked_ratings(frame[rating_column], frame.index)
        tagged = self._tag(as_text(frame[column]), questions, ratings, explain)
        decided = tagged.decided
        out = frame.copy()
        out["themes"] = [";".join(decided.theme_ids(i)) for i in range(len(frame))]
        out["sentiment"] = decided.sentiments
        for j, theme in enumerate(THEME_IDS):
            out[f"score_{theme}"] = decided.shown_scores[:, j]
        out["flags"] = [";".join(f) for f in decided.flags]
        out["needs_review"] = [bool(r) for r in decided.review_reasons]
        out["review_reasons"] = [";".join(r) for r in decided.review_reasons]
        if explain:
            out["theme_sentiment"] = [
                ";".join(f"{t}={s}" for t, s in tagged.assigned(i, row).items())
                for i, row in enumerate(tagged.theme_sentiment)
            ]
            out["evidence"] = [
                " | ".join(f"{t}: {', '.join(words)}" for t, words in found.items())
                for found in tagged.evidence
            ]
        if router is not None:
            out["route"], out["route_rule"] = router.route_decisions(decided)
        return out

    @functools.cached_property
    def _explainer(self) -> Explainer:
        return Explainer(self.model)

    def _checked_ratings(self, values, rows=None) -> np.ndarray:
        """``values`` as normalised ratings, each on this model's scale (else a RatingError)."""
        ratings = normalise_ratings(list(values))
        check_ratings(ratings, self.rating_scale, rows)
        return ratings

    def _tag(self, texts: np.ndarray, questions, ratings, explain: bool) -> _Tagged:
        """Score, decide, flag and mark for review one batch of checked texts."""
        # Done for the whole batch in Arrow: row by row in Python, these were a quarter of tagging.
        texts, column = _readable(np.asarray(texts, dtype=object))
        numbers_only = pc.fill_null(pc.match_substring_regex(column, NUMBERS_ONLY), False).to_numpy(zero_copy_only=False)
        # The model reads a numbers-only comment as empty; the flags still see it (a phone number).
        scores = self.model.predict_scores(np.where(numbers_only, "", texts), questions, ratings)
        read = read_flags(texts, ner=self.card.ner)
        decided = decide(
            texts, scores, read, np.where(numbers_only, 0, _word_counts(column)), numbers_only,
            thresholds=self.model.thresholds_,
            safeguarding_threshold=self.model.safeguarding_threshold_,
            review_margin=self.review_margin,
        )
        if not explain:
            return _Tagged(decided)
        theme_sentiment = theme_sentiments(self.model, texts, questions, decided.sentiment_scores)
        by_model = [kinds == (MODEL_CATEGORY,) for kinds in decided.safeguarding]
        evidence = self._explainer.evidence(texts, questions, np.column_stack([decided.themes, by_model]))
        # A rule that stands is its own evidence: the words it matched.
        for found, kinds, words in zip(read, decided.safeguarding, evidence):
            if kinds and kinds != (MODEL_CATEGORY,):
                words["safeguarding"] = found.safeguarding.words
        return _Tagged(decided, theme_sentiment, evidence)

    def evaluate(self, corpus: pd.DataFrame) -> Scores:
        """Score this model's tags against a labelled corpus from :func:`read_corpus`.

        The scores also give the share of comments marked for review and the scores of the
        others (``Scores.review_share``, ``Scores.unreviewed``): what acting on the tags
        without reading them would get right.
        """
        return score_decisions(corpus, self._tag_corpus(corpus).decided, np.ones(len(corpus), dtype=bool))

    def evaluate_by(self, corpus: pd.DataFrame, column: str) -> dict[str, Scores]:
        """:meth:`evaluate` for each group of rows sharing a value of ``column`` (a service, a
        site, a survey: read it with ``read_corpus(path, keep=[column])``), in the order the
        groups first appear; a blank value is the group ``""``.

        Raises
        ------
        ColumnError
            ``column`` is not in the corpus table.
        """
        if column not in corpus.columns:
            raise ColumnError(f"no column {column!r} to group by; the columns are {list(corpus.columns)}")
        decided = self._tag_corpus(corpus).decided
        groups = corpus[column].fillna("").astype(str).str.strip().to_numpy()
        return {group: score_decisions(corpus, decided, groups == group) for group in pd.unique(groups)}

    def _tag_corpus(self, corpus: pd.DataFrame) -> _Tagged:
        """Tag a labelled corpus's comments, with their ratings when the model knows ratings."""
        self._warn_if_trained_on(corpus.attrs.get("source"))
        # A model trained without ratings is scored without them, whatever the file holds.
        ratings = None
        if self.rating_scale and "rating" in corpus.columns:
            try:
                ratings = self._checked_ratings(corpus["rating"], range(1, len(corpus) + 1))
            except RatingError as err:
                raise CorpusError(corpus.attrs.get("source", "corpus"), f"column 'rating', {err}") from None
        return self._tag(
            corpus["text"].to_numpy(dtype=object), corpus["question"].to_numpy(dtype=object), ratings, False
        )

    def _warn_if_trained_on(self, source) -> None:
        """Warn when ``source`` is one of the files this model was trained on (by sha256)."""
        trained_on = {d.get("sha256") for d in self.card.training_data if isinstance(d, dict)}
        if source and Path(source).is_file() and sha256_file(source) in trained_on:
            warnings.warn(
                f"{source}: this model was trained on this very file (its sha256 is in the model "
                "card), so these figures say how well it learned it, not how well it tags new comments"
            )

    def save(self, directory: str | PathLike, *, overwrite: bool = False) -> Path:
        """Save the model and its card into the folder ``directory``; :func:`load` reads it back.

        The folder is written whole or not at all; an existing non-empty one is replaced only
        with ``overwrite``. ``card`` becomes the card as saved (with the artefact's sha256).
        """
        self.card = save_model(self.model, self.card, directory, overwrite=overwrite)
        return Path(directory)


def load(model_dir: str | PathLike | None = None, *, review_margin: float = REVIEW_MARGIN) -> Tagger:
    """Load a model folder into a :class:`Tagger`; the shipped default model when none is given.

    ``review_margin``: a comment with a theme score this close to the theme's threshold is
    marked for review. The model file is read with skops, which refuses any type this library
    does not trust (see :mod:`feedback_nlp.model_folder`).

    Raises
    ------
    ModelError
        The folder is missing, or does not match its model card (labels, versions, hash), or
        its model file holds a type that is not trusted.
    """
    directory = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    if not directory.is_dir():
        hint = (
            " (this installation has no default model: install the package from a wheel or "
            "sdist built with `python -m build`, or from a clone with `pip install -e .`, or "
            "pass a model folder)"
            if model_dir is None
            else ""
        )
        raise ModelError(f"no model folder at {directory}{hint}")
    model, card = load_model(directory)
    return Tagger(model, card, review_margin=review_margin)


@functools.lru_cache(maxsize=1)
def _default_tagger() -> Tagger:
    return load()


def tag(text: str | None, question: str | None = None, rating=None, *, explain: bool = False) -> Tag:
    """Tag one comment with the default model, loaded once and kept.

    The arguments are those of :meth:`Tagger.tag`; for a list, use :func:`tag_many`.

    Examples
    --------
    >>> tag("Parking was a nightmare").sentiment  # doctest: +SKIP
    'negative'
    """
    return _default_tagger().tag(text, question, rating, explain=explain)


def tag_many(
    texts: Iterable[str | None],
    questions: Iterable[str | None] | None = None,
    ratings: Iterable | None = None,
    *,
    explain: bool = False,
) -> list[Tag]:
    """Tag a list of comments with the default model, loaded once and kept.

    The arguments are those of :meth:`Tagger.tag_many`.

    Examples
    --------
    >>> [t.sentiment for t in tag_many(["Kind staff", "Parking was a nightmare"])]  # doctest: +SKIP
    ['positive', 'negative']
    """
    return _default_tagger().tag_many(texts, questions, ratings, explain=explain)
