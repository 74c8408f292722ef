"""Training: cross-validated figures first, then the model fitted on every labelled comment."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from .corpus import CORPUS_COLUMNS, read_corpus, read_safeguarding_examples
from .decide import decide_labels
from .features import has_text
from .embeddings import ENCODERS, encoder_versions
from .exceptions import CorpusError, SettingError
from .metrics import Scores, held_out_labels, score
from .flags import load_ner
from .model import CommentModel, multilabel_folds
from .model_folder import ModelCard, check_model_folder, sha256_file
from .ratings import normalise_ratings
from .tagging import Tagger
from .themes import SENTIMENTS, THEME_IDS


@dataclass(frozen=True)
class TrainingConfig:
    """How a training run measures what it trains. The model's own settings are the parameters
    of :class:`~feedback_nlp.model.CommentModel` (its card records them as ``params``).

    Parameters
    ----------
    cv_folds : int
        Folds for the cross-validated figures in the model card; 0 skips them (faster).
    """

    cv_folds: int = 5

    def __post_init__(self):
        if not isinstance(self.cv_folds, int) or self.cv_folds == 1 or self.cv_folds < 0:
            raise SettingError("cv_folds", "0 (no cross-validation) or a whole number >= 2", self.cv_folds)


def _source(path, table: pd.DataFrame) -> dict:
    """How the model card names a file it was trained on: path, rows and sha256."""
    return {"path": Path(path).as_posix(), "rows": len(table), "sha256": sha256_file(path)}


def _check_corpus(corpus: pd.DataFrame, folds: int) -> pd.DataFrame:
    """The rows with text, after checking there is enough of every label to learn from."""
    missing = [c for c in CORPUS_COLUMNS if c not in corpus.columns]
    if missing:
        raise CorpusError("corpus", f"missing column(s) {missing}; build it with read_corpus")
    usable = _with_text(corpus)
    for theme in THEME_IDS:
        positives = int(usable[theme].sum())
        negatives = len(usable) - positives
        if min(positives, negatives) < folds:
            raise CorpusError(
                "corpus",
                f"theme {theme!r} has {positives} comments with it and {negatives} without; "
                f"at least {folds} of each are needed to train and tune its threshold",
            )
    classes = set(usable["sentiment"].dropna())
    if len(classes) < 2:
        raise CorpusError("corpus", f"sentiment needs at least two classes; found {sorted(classes)}")
    return usable


def _safeguarding(corpus: pd.DataFrame) -> np.ndarray:
    """Whether each row of a corpus table carries the safeguarding flag."""
    return corpus["flags"].str.split(";").map(lambda flags: "safeguarding" in flags).to_numpy(dtype=bool)


def _weights(corpus: pd.DataFrame, weights) -> np.ndarray:
    """``weights`` checked against ``corpus``: a whole number >= 1 per row (all 1 when None)."""
    if weights is None:
        return np.ones(len(corpus), dtype=np.int64)
    weights = np.asarray(weights)
    if weights.shape != (len(corpus),) or weights.dtype.kind not in "iu" or (weights < 1).any():
        raise SettingError("weights", f"one whole number >= 1 per corpus row ({len(corpus)} rows)", weights)
    return weights.astype(np.int64)


def _fit(
    model: CommentModel,
    rows: pd.DataFrame,
    weights: np.ndarray | None,
    flagged=None,
    threshold_rows=None,
    safeguarding_examples: pd.DataFrame | None = None,
) -> CommentModel:
    """A copy of ``model`` fitted on ``rows`` (all with text), each repeated as many times as its weight.

    Repeating a row is what a weight means to a logistic regression's loss; the copies of one
    row share a group, so that threshold tuning never scores a copy with a classifier that
    learned another. Without weights the rows are fitted as they are. ``safeguarding_examples``
    (from :func:`read_safeguarding_examples`) go to the safeguarding head only.
    """
    repeat = None if weights is None or (weights == 1).all() else np.repeat(np.arange(len(rows)), weights)
    if repeat is not None:
        rows = rows.iloc[repeat]
        flagged = None if flagged is None else flagged[repeat]
        threshold_rows = None if threshold_rows is None else np.asarray(threshold_rows)[repeat]
    return clone(model).fit(
        rows["text"].to_numpy(dtype=object),
        rows[list(THEME_IDS)].to_numpy(),
        rows["sentiment"].to_numpy(dtype=object),
        rows["question"].to_numpy(dtype=object),
        flagged,
        normalise_ratings(rows["rating"]),  # a table built by hand may hold numbers
        groups=repeat,
        threshold_rows=threshold_rows,
        safeguarding_examples=None
        if safeguarding_examples is None
        else (safeguarding_examples["text"], safeguarding_examples["safeguarding"]),
    )


def cross_validate(
    corpus: pd.DataFrame,
    config: TrainingConfig = TrainingConfig(),
    *,
    model: CommentModel | None = None,
    extra: pd.DataFrame | None = None,
    weights=None,
    thresholds_on_corpus: bool = False,
    progress: bool = False,
) -> Scores:
    """Cross-validated theme and sentiment figures of the model ``config`` builds on ``corpus``.

    Every fold tunes its thresholds on its own training part only, so the figures are
    held-out figures. Rows with no text are scored too (they must get no theme).

    Parameters
    ----------
    corpus : pandas.DataFrame
        A table from :func:`read_corpus`; its rows are split into folds and scored.
    config : TrainingConfig
        ``cv_folds`` gives the number of folds (at least 2).
    model : CommentModel, optional
        The unfitted model whose settings are measured (``CommentModel()`` when omitted); its
        ``random_state`` also seeds the folds.
    extra : pandas.DataFrame, optional
        Labelled rows added to the training part of every fold and never scored: the base
        model's training data when measuring an adaptation (see :mod:`feedback_nlp.adapting`).
    weights : sequence of int, optional
        How many times each row of ``corpus`` counts in training (rows of ``extra`` count once).
    thresholds_on_corpus : bool
        Tune each fold's thresholds on its ``corpus`` rows only, not on ``extra`` (see
        ``threshold_rows`` of :func:`train`).
    progress : bool
        Show a progress bar over the folds on stderr.

    Returns
    -------
    Scores
    """
    if config.cv_folds < 2:
        raise SettingError("config.cv_folds", ">= 2 to cross-validate", config.cv_folds)
    model = (CommentModel() if model is None else model).check_params()
    corpus = corpus.reset_index(drop=True)
    weights = _weights(corpus, weights)
    _check_corpus(corpus if extra is None else pd.concat([extra, corpus]), model.threshold_folds)
    extra = None if extra is None else _with_text(extra)
    Y = corpus[list(THEME_IDS)].to_numpy()
    said = has_text(corpus["text"])

    def fit_and_label(train_idx, test_idx):
        usable = train_idx[said[train_idx]]
        rows, row_weights = corpus.iloc[usable], weights[usable]
        tune = None
        if extra is not None:
            rows = pd.concat([extra, rows], ignore_index=True)
            row_weights = np.concatenate([np.ones(len(extra), dtype=np.int64), row_weights])
            tune = np.arange(len(rows)) >= len(extra) if thresholds_on_corpus else None
        # No safeguarding labels: these scores are of themes and sentiment only, and the
        # safeguarding head would cost six more fits a fold.
        fitted = _fit(model, rows, None if (row_weights == 1).all() else row_weights, threshold_rows=tune)
        test = corpus.iloc[test_idx]
        scores = fitted.predict_scores(
            test["text"].to_numpy(dtype=object),
            test["question"].to_numpy(dtype=object),
            normalise_ratings(test["rating"]),
        )
        return decide_labels(scores.themes, scores.sentiment, fitted.thresholds_)

    folds = multilabel_folds(Y, config.cv_folds, model.random_state)
    themes, sentiments = held_out_labels(Y, folds, fit_and_label, progress=progress, desc="cross-validation")
    return score(Y, themes, corpus["sentiment"].to_numpy(dtype=object), sentiments)


def _with_text(corpus: pd.DataFrame) -> pd.DataFrame:
    """The rows of a corpus table that have text."""
    return corpus[has_text(corpus["text"])]


def train(
    corpus: pd.DataFrame,
    config: TrainingConfig = TrainingConfig(),
    *,
    model: CommentModel | None = None,
    ner: str | None = None,
    sources: Sequence[dict] = (),
    weights=None,
    threshold_rows=None,
    progress: bool = False,
    safeguarding_examples: pd.DataFrame | None = None,
) -> Tagger:
    """Train the theme and sentiment model on a labelled corpus.

    Parameters
    ----------
    corpus : pandas.DataFrame
        A table from :func:`read_corpus` (several may be joined with ``pandas.concat``). Rows
        with no text are left out of fitting; rows with no sentiment are left out of the
        sentiment model only.
    config : TrainingConfig
        How the run measures the model (cross-validation folds).
    model : CommentModel, optional
        The unfitted model, whose parameters are its settings (``CommentModel()`` when
        omitted); the card records its ``get_params()``.
    ner : str, optional
        A spaCy model with named entities (``"en_core_web_sm"``) that the personal-data flag
        also reads, recorded in the card; it must be installed. None: the flag's rules only.
    sources : sequence of dict
        What the corpus was read from, recorded in the model card (``path``, ``format``,
        ``sha256``, ``rows``); :func:`train_files` fills it in.
    weights : sequence of int, optional
        How many times each corpus row counts (a whole number >= 1 a row; all 1 when omitted):
        :func:`feedback_nlp.adapt` weights a team's corrected comments this way.
    threshold_rows : sequence of bool, optional
        The corpus rows whose held-out scores tune the thresholds (all when omitted); a theme
        none of them has is tuned on all rows. Not used by the cross-validated figures.
    progress : bool
        Show progress on stderr.
    safeguarding_examples : pandas.DataFrame, optional
        Comments labelled for safeguarding only, from :func:`read_safeguarding_examples`, that
        the safeguarding head learns from too (see :meth:`CommentModel.fit`); the files its
        ``attrs["sources"]`` names are recorded in the model card.

    Returns
    -------
    Tagger
        The fitted model, whose ``card`` holds the cross-validated figures (when
        ``config.cv_folds`` >= 2), the thresholds and the training time.

    Raises
    ------
    CorpusError
        A theme has too few comments with or without it, or sentiment has one class.
    SettingError
        A setting of ``model`` is out of its range, or ``safeguarding_examples`` does not name
        its files.
    ModelError
        ``ner`` or the model's sentence encoder is not installed.
    """
    model = (CommentModel() if model is None else model).check_params()
    if safeguarding_examples is not None and "sources" not in safeguarding_examples.attrs:
        # The card must say what the head learnt from; pandas drops attrs on concat.
        raise SettingError(
            "safeguarding_examples", "a table from read_safeguarding_examples, whose attrs name its files",
            "a table without attrs['sources']",
        )
    corpus = corpus.reset_index(drop=True)
    weights = _weights(corpus, weights)
    # Every theme needs a comment with it and one without in each fold of either kind.
    usable = _check_corpus(corpus, max(model.threshold_folds, config.cv_folds))
    # Before the minutes of cross-validation: a missing encoder or NER model fails here.
    embeddings = None if model.embeddings is None else {
        "encoder": model.embeddings,
        "model": ENCODERS[model.embeddings].model,
        "versions": encoder_versions(model.embeddings),
    }
    if ner is not None:
        load_ner(ner)
    cv_scores = cross_validate(corpus, config, model=model, weights=weights, progress=progress) if config.cv_folds else None
    flagged = _safeguarding(usable)
    start = time.perf_counter()
    kept = corpus.index.isin(usable.index)
    tune = None if threshold_rows is None else np.asarray(threshold_rows, dtype=bool)[kept]
    fitted = _fit(model, usable, weights[kept], flagged, tune, safeguarding_examples)
    card = ModelCard(
        params=model.get_params(),
        training_data=tuple(sources),
        safeguarding_data=()
        if safeguarding_examples is None
        else tuple({**s, "sha256": sha256_file(s["path"])} for s in safeguarding_examples.attrs["sources"]),
        training_rows={
            "total": len(corpus),
            "used": len(usable),
            "no_text": len(corpus) - len(usable),
            "with_sentiment": int(usable["sentiment"].isin(SENTIMENTS).sum()),
            "per_theme": {t: int(usable[t].sum()) for t in THEME_IDS},
            "safeguarding": int(flagged.sum()),
            "safeguarding_examples": None
            if safeguarding_examples is None
            else {
                "flagged": int(safeguarding_examples["safeguarding"].sum()),
                "not_flagged": int((~safeguarding_examples["safeguarding"]).sum()),
            },
        },
        embeddings=embeddings,
        ner=ner,
        rating_scale=tuple(fitted.rating_scale_),
        thresholds=dict(zip(THEME_IDS, map(float, fitted.thresholds_))),
        # inf: no safeguarding head (too few flagged comments); JSON has no inf, so null.
        safeguarding_threshold=None if fitted.safeguarding_ is None else fitted.safeguarding_threshold_,
        fit_seconds=round(time.perf_counter() - start, 1),
        cv_metrics=None
        if cv_scores is None
        else {"folds": config.cv_folds, "seed": model.random_state, **cv_scores.to_dict()},
    )
    return Tagger(fitted, card)


def train_files(
    paths: Sequence[str | PathLike],
    out: str | PathLike,
    *,
    format: str = "auto",
    config: TrainingConfig = TrainingConfig(),
    model: CommentModel | None = None,
    ner: str | None = None,
    progress: bool = False,
    overwrite: bool = False,
    safeguarding_data: str | PathLike | Sequence[str | PathLike] = (),
) -> Tagger:
    """Read labelled files, train on all of them together, and save the model folder ``out``.

    Each file's path, format, row count and sha256 go into the model card, so that a model can
    be traced to (and checked against) the exact data it was trained on. ``out`` is checked
    before any training: an existing non-empty folder is replaced only with ``overwrite``.
    ``safeguarding_data``, CSVs of comments labelled for safeguarding only (see
    :func:`read_safeguarding_examples`), are also learnt by the safeguarding head and recorded
    in the card.
    ``config``, ``model`` and ``ner`` are those of :func:`train`.

    Returns
    -------
    Tagger
        The trained model, already saved in ``out``.

    Raises
    ------
    OutputFileError
        ``out`` cannot be written, or exists and is not empty (without ``overwrite``).
    CorpusError
        A file cannot be read or its labels are wrong (see :func:`read_corpus`).
    """
    if not paths:
        raise SettingError("paths", "at least one labelled file to train on", paths)
    check_model_folder(out, overwrite=overwrite)
    tables = [read_corpus(path, format=format) for path in paths]
    sources = [
        {"path": Path(path).as_posix(), "format": table.attrs["format"], **_source(path, table)}
        for path, table in zip(paths, tables)
    ]
    examples = read_safeguarding_examples(safeguarding_data) if safeguarding_data else None
    tagger = train(
        pd.concat(tables, ignore_index=True), config, model=model, ner=ner, sources=sources, progress=progress,
        safeguarding_examples=examples,
    )
    tagger.save(out, overwrite=overwrite)
    return tagger
