"""Training: cross-validated figures first, then the model fitted on every labelled comment."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .corpus import CORPUS_COLUMNS, read_corpus, read_safeguarding_examples
from .embeddings import ENCODERS, check_encoder, encoder_versions
from .exceptions import CorpusError
from .metrics import Scores, score
from .model import RATING_FEATURES, CommentModel, check_model_folder, multilabel_folds, sha256_file
from .ratings import normalise_ratings
from .tagging import Tagger
from .themes import SENTIMENTS, THEME_IDS


@dataclass(frozen=True)
class TrainingConfig:
    """Settings of a training run; the same settings and data always give the same model.

    Parameters
    ----------
    seed : int
        Seed for the folds and the classifiers.
    cv_folds : int
        Folds for the cross-validated figures in the model card; 0 skips them (faster).
    threshold_folds : int
        Folds of the training data on which each theme's threshold is tuned.
    theme_C, sentiment_C : float
        Inverse regularisation strength of the theme and sentiment classifiers.
    max_char_features : int
        Cap on the character n-gram vocabulary.
    embeddings : str, optional
        A sentence encoder whose embeddings join the TF-IDF features (``"minilm"``; needs the
        ``embeddings`` extra, and tags about 200 times slower). None: TF-IDF only.
    rating_features : {"plain", "crossed", "none"}
        How the survey rating joins the features (see :class:`CommentModel`).
    """

    seed: int = 0
    cv_folds: int = 5
    threshold_folds: int = 5
    theme_C: float = 4.0
    sentiment_C: float = 4.0
    max_char_features: int = 150_000
    embeddings: str | None = None
    rating_features: str = "plain"

    def __post_init__(self):
        if self.cv_folds == 1 or self.cv_folds < 0:
            raise ValueError(f"cv_folds must be 0 (no cross-validation) or >= 2; got {self.cv_folds}")
        if self.threshold_folds < 2:
            raise ValueError(f"threshold_folds must be >= 2; got {self.threshold_folds}")
        for name in ("theme_C", "sentiment_C"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0; got {getattr(self, name)}")
        if self.max_char_features < 1:
            raise ValueError(f"max_char_features must be >= 1; got {self.max_char_features}")
        if self.embeddings is not None:
            check_encoder(self.embeddings)
        if self.rating_features not in RATING_FEATURES:
            raise ValueError(f"rating_features must be one of {RATING_FEATURES}; got {self.rating_features!r}")

    def build_model(self) -> CommentModel:
        """An unfitted model with these settings."""
        return CommentModel(
            theme_C=self.theme_C,
            sentiment_C=self.sentiment_C,
            threshold_folds=self.threshold_folds,
            max_char_features=self.max_char_features,
            embeddings=self.embeddings,
            rating_features=self.rating_features,
            random_state=self.seed,
        )


def _source(path, table: pd.DataFrame) -> dict:
    """How the model card names a file it was trained on: path, rows and sha256."""
    return {"path": Path(path).as_posix(), "rows": len(table), "sha256": sha256_file(path)}


def _check_corpus(corpus: pd.DataFrame, folds: int) -> pd.DataFrame:
    """The rows with text, after checking there is enough of every label to learn from."""
    missing = [c for c in CORPUS_COLUMNS if c not in corpus.columns]
    if missing:
        raise CorpusError("corpus", f"missing column(s) {missing}; build it with read_corpus")
    usable = corpus[corpus["text"].fillna("").str.strip() != ""]
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


def cross_validate(
    corpus: pd.DataFrame, config: TrainingConfig = TrainingConfig(), *, progress: bool = False
) -> Scores:
    """Cross-validated theme and sentiment figures of the model ``config`` builds on ``corpus``.

    Every fold tunes its thresholds on its own training part only, so the figures are
    held-out figures. Rows with no text are scored too (they must get no theme).

    Parameters
    ----------
    corpus : pandas.DataFrame
        A table from :func:`read_corpus`.
    config : TrainingConfig
        ``cv_folds`` gives the number of folds (at least 2).
    progress : bool
        Show a progress bar over the folds on stderr.

    Returns
    -------
    Scores
    """
    if config.cv_folds < 2:
        raise ValueError("cross_validate needs config.cv_folds >= 2")
    corpus = corpus.reset_index(drop=True)
    _check_corpus(corpus, config.threshold_folds)
    texts = corpus["text"].to_numpy(dtype=object)
    questions = corpus["question"].to_numpy(dtype=object)
    ratings = normalise_ratings(corpus["rating"])  # a table built by hand may hold numbers
    sentiment = corpus["sentiment"].to_numpy(dtype=object)
    Y = corpus[list(THEME_IDS)].to_numpy()
    predicted_themes = np.zeros_like(Y)
    predicted_sentiment = np.empty(len(corpus), dtype=object)
    folds = multilabel_folds(Y, config.cv_folds, config.seed)
    for train_idx, test_idx in tqdm(folds, desc="cross-validation", unit="fold", disable=not progress):
        usable = train_idx[[bool(t and t.strip()) for t in texts[train_idx]]]
        model = config.build_model().fit(
            # No safeguarding labels: these scores are of themes and sentiment only, and the
            # safeguarding head would cost six more fits a fold.
            texts[usable], Y[usable], sentiment[usable], questions[usable], ratings=ratings[usable]
        )
        predicted_themes[test_idx], predicted_sentiment[test_idx] = model.predict(
            texts[test_idx], questions[test_idx], ratings[test_idx]
        )
    return score(Y, predicted_themes, sentiment, predicted_sentiment)


def train(
    corpus: pd.DataFrame,
    config: TrainingConfig = TrainingConfig(),
    *,
    sources: Sequence[dict] = (),
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
        Seed, folds and model settings.
    sources : sequence of dict
        What the corpus was read from, recorded in the model card (``path``, ``format``,
        ``sha256``, ``rows``); :func:`train_files` fills it in.
    progress : bool
        Show progress on stderr.
    safeguarding_examples : pandas.DataFrame, optional
        Comments labelled for safeguarding only, from :func:`read_safeguarding_examples`, that
        the safeguarding head learns from too (see :meth:`CommentModel.fit`); its ``attrs``
        source is recorded in the model card.

    Returns
    -------
    Tagger
        The fitted model, whose ``card`` holds the cross-validated figures (when
        ``config.cv_folds`` >= 2), the thresholds and the training time.

    Raises
    ------
    CorpusError
        A theme has too few comments with or without it, or sentiment has one class.
    """
    corpus = corpus.reset_index(drop=True)
    usable = _check_corpus(corpus, config.threshold_folds)
    # Before the minutes of cross-validation: a missing encoder fails here, naming the extra.
    embeddings = None if config.embeddings is None else {
        "encoder": config.embeddings,
        "model": ENCODERS[config.embeddings].model,
        "versions": encoder_versions(config.embeddings),
    }
    cv_scores = cross_validate(corpus, config, progress=progress) if config.cv_folds else None
    flagged = _safeguarding(usable)
    start = time.perf_counter()
    model = config.build_model().fit(
        usable["text"],
        usable[list(THEME_IDS)].to_numpy(),
        usable["sentiment"].to_numpy(dtype=object),
        usable["question"],
        flagged,
        normalise_ratings(usable["rating"]),
        safeguarding_examples=None
        if safeguarding_examples is None
        else (safeguarding_examples["text"], safeguarding_examples["safeguarding"]),
    )
    card = {
        "training_data": list(sources),
        "safeguarding_data": None
        if safeguarding_examples is None
        else _source(safeguarding_examples.attrs["source"], safeguarding_examples),
        "training_rows": {
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
        "config": asdict(config),
        "embeddings": embeddings,
        # The ratings the model knows; any other is refused when tagging.
        "rating_scale": list(model.rating_scale_),
        "thresholds": dict(zip(THEME_IDS, map(float, model.thresholds_))),
        # inf: no safeguarding head (too few flagged comments); JSON has no inf, so null.
        "safeguarding_threshold": None
        if model.safeguarding_ is None
        else model.safeguarding_threshold_,
        "fit_seconds": round(time.perf_counter() - start, 1),
        "cv_metrics": None
        if cv_scores is None
        else {"folds": config.cv_folds, "seed": config.seed, **cv_scores.to_dict()},
    }
    return Tagger(model, card)


def train_files(
    paths: Sequence[str | PathLike],
    out: str | PathLike,
    *,
    format: str = "auto",
    config: TrainingConfig = TrainingConfig(),
    progress: bool = False,
    overwrite: bool = False,
    safeguarding_data: str | PathLike | None = None,
) -> Tagger:
    """Read labelled files, train on all of them together, and save the model folder ``out``.

    Each file's path, format, row count and sha256 go into the model card, so that a model can
    be traced to (and checked against) the exact data it was trained on. ``out`` is checked
    before any training: an existing non-empty folder is replaced only with ``overwrite``.
    ``safeguarding_data``, a CSV of comments labelled for safeguarding only (``text``,
    ``safeguarding``), is also learnt by the safeguarding head and recorded in the card.

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
        raise ValueError("give at least one labelled file to train on")
    check_model_folder(out, overwrite=overwrite)
    tables = [read_corpus(path, format=format) for path in paths]
    sources = [
        {"path": Path(path).as_posix(), "format": table.attrs["format"], **_source(path, table)}
        for path, table in zip(paths, tables)
    ]
    examples = None if safeguarding_data is None else read_safeguarding_examples(safeguarding_data)
    tagger = train(
        pd.concat(tables, ignore_index=True), config, sources=sources, progress=progress, safeguarding_examples=examples
    )
    tagger.save(out, overwrite=overwrite)
    return tagger
