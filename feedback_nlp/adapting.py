"""Teaching a model a team's own comments: retrain on what it knew plus the corrected review sheets.

Every trust words its comments and codes them in its own way, and a model trained on one loses
much on another's. :func:`adapt` takes a model folder and the review sheets a person corrected
(see :mod:`feedback_nlp.reviewing`), and trains a new model on the base model's own training data
(read from the paths in its card, checked by sha256) together with the sheets, each sheet row
counting ``weight`` times: the team's conventions win where they differ, and what the base
model learned from thousands of comments is kept where the sheets say nothing.

The figures it gives are held out: before, the base model on every sheet row (it never saw
them); after, cross-validated over folds of the sheets, each fold scored by a model trained on
the base data and the other folds only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from .corpus import read_corpus, read_safeguarding_examples
from .exceptions import CorpusError, ModelError, SettingError
from .metrics import Scores
from .model import CommentModel
from .model_folder import ModelCard, check_model_folder, sha256_file
from .tagging import DEFAULT_MODEL_DIR, Tagger, load
from .training import TrainingConfig, cross_validate, train

# How many times a sheet row counts against a base row, and which rows tune the thresholds.
# Measured by scripts/benchmark_adaptation.py on the QDC file (README, "Teach it your comments"):
# with 200 reviewed comments, theme macro F1 0.503 / 0.554 (NEAS / NHFT) at weight 1, 0.501 /
# 0.559 at 3, 0.514 / 0.566 at 6 and 0.518 / 0.560 at 10, sentiment macro F1 within 0.01.
# Choosing it per team by cross-validation on the sheets (3, 6 or 10) gained nothing (0.527 /
# 0.527 against 0.527 / 0.529) for twelve more fits (docs/adaptation.md, round 5).
DEFAULT_WEIGHT = 6
THRESHOLDS = ("sheets", "all")
# Tuned on the sheets alone, K=200 review theme macro F1 was 0.498 and 0.549 against 0.501 and
# 0.559 tuned on every row, with theme micro F1 lower too: within noise at best, so not the default.
DEFAULT_THRESHOLDS = "all"
# Folds of the training rows on which an adapted model tunes its thresholds (the shipped model
# uses 5). Four cut the five fits of each fold's theme heads to four on three quarters of the rows; theme macro F1 with K = 200 over six seeds was 0.505 / 0.577
# (NEAS / NHFT) against 0.501 / 0.572 with five; three cost NHFT 0.012 to 0.016 (leading_voice).
THRESHOLD_FOLDS = 4


def adapt(
    model: str | PathLike | None,
    data: Sequence[str | PathLike],
    out: str | PathLike,
    *,
    weight: int = DEFAULT_WEIGHT,
    thresholds: str = DEFAULT_THRESHOLDS,
    cv_folds: int = TrainingConfig().cv_folds,
    overwrite: bool = False,
    progress: bool = False,
) -> Tagger:
    """Adapt a model to corrected review sheets and save the adapted model folder ``out``.

    Parameters
    ----------
    model : str or path-like, optional
        The base model folder; None for the shipped default model. Its training files, listed
        in its card, must be where they were (relative paths are looked for from the current
        folder and from the folders above the model's).
    data : sequence of str or path-like
        Corrected review sheets (CSV or ``.xlsx``, the project's labelled format: see
        :func:`feedback_nlp.read_corpus`); give every round's sheets.
    out : str or path-like
        The model folder to write (a new or empty folder, unless ``overwrite``).
    weight : int
        How many times each sheet row counts against a row of the base training data.
    thresholds : {"sheets", "all"}
        Tune each theme's threshold on the held-out scores of the sheet rows only (the team's
        own comments and conventions), or of every row.
    cv_folds : int
        Folds of the sheets for the after-figures (at least 2), or 0 to skip them (faster).
    overwrite : bool
        Replace an existing model folder at ``out``.
    progress : bool
        Show progress on stderr.

    Returns
    -------
    Tagger
        The adapted model, saved in ``out``. Its card's ``adaptation`` holds the base model
        (path and sha256 of its artefact), each sheet (path, rows, sha256), the settings, and
        the figures ``before`` and ``after`` (dicts of :class:`Scores`; ``after`` is None
        without cross-validation).

    Raises
    ------
    OutputFileError
        ``out`` cannot be written, or exists and is not empty (without ``overwrite``).
    CorpusError
        A sheet cannot be read, or holds an unknown theme, sentiment or flag (the message names
        its row and column), or the sheets are too few to cross-validate.
    ModelError
        The base model cannot be loaded, is itself adapted, or one of its training files is
        missing or changed (the message names it).

    Examples
    --------
    >>> tagger = adapt(None, ["review-1.csv"], "models/ours")  # doctest: +SKIP
    >>> tagger.card.adaptation["after"]["theme_macro_f1"]  # doctest: +SKIP
    0.58
    """
    if not data:
        raise SettingError("data", "at least one corrected review sheet (--data)", data)
    if weight < 1 or int(weight) != weight:
        raise SettingError("weight", "a whole number >= 1", weight)
    if thresholds not in THRESHOLDS:
        raise SettingError("thresholds", f"one of {THRESHOLDS}", thresholds)
    run = TrainingConfig(cv_folds=cv_folds)  # checked before any work
    check_model_folder(out, overwrite=overwrite)
    model_dir = Path(model) if model is not None else DEFAULT_MODEL_DIR
    base = load(model_dir)
    if base.card.adaptation:
        raise ModelError(
            f"{model_dir}: this model is itself adapted (from "
            f"{base.card.adaptation['base_model']['path']}); adapt that base model with every "
            "round's sheets instead"
        )
    settings = _adapting(base.card.build_model())
    base_corpus, base_sources = _base_training_data(base.card, model_dir)
    # The comments the base model's safeguarding head also learnt from, when it had any.
    examples = None if not base.card.safeguarding_data else read_safeguarding_examples(
        [_find_training_file(entry, model_dir) for entry in base.card.safeguarding_data]
    )
    sheets, sheet_sources = _read_sheets(data)
    if cv_folds and len(sheets) < 2 * cv_folds:
        raise CorpusError(
            sheet_sources[0]["path"],
            f"the sheets hold {len(sheets)} comments; at least {2 * cv_folds} are needed for "
            f"{cv_folds} folds of figures (pass cv_folds=0, --cv-folds 0, to skip them)",
        )
    before = base.evaluate(sheets)
    after = None
    if cv_folds:
        after = cross_validate(
            sheets, run, model=settings, extra=base_corpus, weights=np.full(len(sheets), weight),
            thresholds_on_corpus=thresholds == "sheets", progress=progress,
        )
    tagger = learn(base_corpus, sheets, settings, weight=weight, thresholds=thresholds, ner=base.card.ner,
                   sources=[*base_sources, *sheet_sources], safeguarding_examples=examples)
    tagger.card = dataclasses.replace(tagger.card, adaptation={
        "base_model": {"path": model_dir.as_posix(), "sha256": base.card.artefact["sha256"]},
        "sheets": sheet_sources,
        "settings": {"weight": int(weight), "thresholds": thresholds, "threshold_folds": settings.threshold_folds,
                     "cv_folds": cv_folds, "seed": settings.random_state},
        "before": _figures(before),
        "after": None if after is None else {"folds": cv_folds, **_figures(after)},
    })
    tagger.save(out, overwrite=overwrite)
    return tagger


def learn(
    base: pd.DataFrame,
    sheets: pd.DataFrame,
    model: CommentModel,
    *,
    weight: int = DEFAULT_WEIGHT,
    thresholds: str = DEFAULT_THRESHOLDS,
    sources=(),
    safeguarding_examples: pd.DataFrame | None = None,
    ner: str | None = None,
) -> Tagger:
    """A model trained on corpus tables ``base`` and ``sheets``, each sheet row counting
    ``weight`` times, thresholds tuned on the sheet rows (``"sheets"``) or every row (``"all"``),
    over ``THRESHOLD_FOLDS`` folds:
    what :func:`adapt` saves, without the figures (the adaptation benchmark calls it too).
    ``model`` (unfitted) gives the settings; ``safeguarding_examples`` go to the safeguarding
    head only and ``ner`` to the card, as in :func:`train`."""
    rows = pd.concat([base, sheets], ignore_index=True)
    on_sheets = np.arange(len(rows)) >= len(base)
    return train(
        rows,
        TrainingConfig(cv_folds=0),
        model=_adapting(model),
        ner=ner,
        sources=sources,
        weights=np.where(on_sheets, weight, 1),
        threshold_rows=on_sheets if thresholds == "sheets" else None,
        safeguarding_examples=safeguarding_examples,
    )


def _adapting(model: CommentModel) -> CommentModel:
    """An unfitted copy of ``model`` with the settings adapting changes (``THRESHOLD_FOLDS``)."""
    return clone(model).set_params(threshold_folds=THRESHOLD_FOLDS)


def _figures(scores: Scores) -> dict:
    """A Scores as the card records it, without the review figures that only `evaluate` has."""
    figures = scores.to_dict()
    for key in ("review_share", "unreviewed"):
        figures.pop(key)
    return figures


def _read_sheets(paths) -> tuple[pd.DataFrame, list[dict]]:
    """The corrected sheets as one corpus table, and each sheet's path, rows and sha256."""
    tables, sources = [], []
    for path in paths:
        table = read_corpus(path, format="project")
        tables.append(table)
        sources.append({"path": Path(path).as_posix(), "format": "project", "rows": len(table),
                        "sha256": sha256_file(path)})
    return pd.concat(tables, ignore_index=True), sources


def _base_training_data(card: ModelCard, model_dir: Path) -> tuple[pd.DataFrame, list[dict]]:
    """The base model's training files, read and checked against the sha256 in its card."""
    entries = card.training_data
    if not entries:
        raise ModelError(f"{model_dir}: its card lists no training files, so it cannot be adapted")
    tables = []
    for entry in entries:
        path = _find_training_file(entry, model_dir)
        tables.append(read_corpus(path, format=entry.get("format", "auto")))
    return pd.concat(tables, ignore_index=True), list(entries)


def _find_training_file(entry: dict, model_dir: Path) -> Path:
    """Where a training file of the card is now: its path as recorded, from the current folder
    or from a folder above the model's (a clone's models/default records data/corpus.csv)."""
    recorded = Path(entry["path"])
    places = [recorded] if recorded.is_absolute() else [
        recorded, *(parent / recorded for parent in model_dir.absolute().parents)
    ]
    changed = []
    for place in places:
        if place.is_file():
            if sha256_file(place) == entry.get("sha256"):
                return place
            changed.append(place)
    if changed:
        raise ModelError(
            f"{model_dir}: training file {changed[0]} has changed since the model was trained (its "
            f"sha256 is not the card's {entry.get('sha256')}); restore that version of it"
        )
    raise ModelError(
        f"{model_dir}: adapting needs the base model's training file {entry['path']} "
        f"(sha256 {entry.get('sha256')}), which is missing: looked in {places[0].absolute().parent} "
        f"and the folders above {model_dir}; put it back there"
    )
