"""The comment model (features, a yes/no decision per theme, a sentiment head) and its folder.

A model folder holds ``model.skops`` (the fitted :class:`CommentModel`) and ``model.json``, its
model card: labels, creation time, library versions, training files with their sha256, metrics,
and the sha256 of the artefact. Loading checks the card, then reads the artefact with skops,
which builds only the types it is told to trust (scikit-learn's, numpy's, and this library's
:data:`TRUSTED_TYPES`) and refuses any other before creating it: unlike a pickle, a crafted
model file cannot run code. The artefact must lie in the folder itself.

A folder is written whole or not at all: into a temporary folder beside it, moved into place
when complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import scipy.sparse as sp
import skops
import skops.io
import sklearn
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.multiclass import OneVsRestClassifier
from sklearn.utils.validation import check_is_fitted

from .embeddings import ENCODERS, SentenceEmbeddings, encoder_versions
from .exceptions import ModelError, OutputFileError
from .features import QUESTION_KINDS, build_features, question_kind
from .ratings import rating_features, scale_of
from .tables import current_umask
from .themes import EMPTY_SENTIMENT, FLAGS, SENTIMENTS, THEME_IDS

ARTEFACT = "model.skops"
CARD = "model.json"
# Bumped when the artefact's layout changes, so that an old folder is refused, not misread.
# 5: skops instead of a joblib pickle.
FORMAT_VERSION = 5
RATING_FEATURES = ("plain", "crossed", "none")
# This library's own classes in a model file; skops trusts scikit-learn's and numpy's itself.
TRUSTED_TYPES = (
    "feedback_nlp.model.CommentModel",
    "feedback_nlp.features.TextFeatures",
    "feedback_nlp.embeddings.SentenceEmbeddings",
)


# The safeguarding head is trained only when the data has this many flagged comments, and its
# threshold keeps this share of the flagged comments of held-out training folds: a missed risk
# costs far more than a comment a person reads and clears.
MIN_SAFEGUARDING = 20
SAFEGUARDING_RECALL = 0.9


@dataclass(frozen=True)
class ModelScores:
    """What the model says of a batch, row by row: see :meth:`CommentModel.predict_scores`."""

    themes: np.ndarray
    sentiment: np.ndarray
    safeguarding: np.ndarray
    known_terms: np.ndarray


class CommentModel(BaseEstimator):
    """Shared text features, one thresholded yes/no classifier per theme, a sentiment head, and a
    safeguarding head.

    Each theme is a logistic regression whose decision threshold is the one that maximises F1 on
    held-out folds of the training data, because a fixed 0.5 misses rare themes. Sentiment is a
    three-class logistic regression fitted on the rows that have one. Safeguarding, where the
    training data has at least ``MIN_SAFEGUARDING`` flagged comments, is a logistic regression
    whose threshold keeps ``SAFEGUARDING_RECALL`` of the flagged comments of held-out folds; it
    backs up the rules of :mod:`feedback_nlp.flags`.

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
        themes = np.asarray(themes, dtype=np.int8)
        sentiment = np.asarray(sentiment, dtype=object)
        self.features_ = build_features(max_char_features=self.max_char_features)
        self.embeddings_ = None if self.embeddings is None else SentenceEmbeddings(self.embeddings)
        texts = np.asarray(texts, dtype=object)
        kinds = question_kinds(questions, len(texts))
        ratings = _ratings(ratings, len(texts))
        self.rating_scale_ = () if self.rating_features == "none" else scale_of(ratings)
        X = self._joined(self.features_.fit_transform(np.column_stack([texts, kinds])), texts)

        theme_head = OneVsRestClassifier(
            LogisticRegression(
                C=self.theme_C,
                class_weight="balanced",
                solver="liblinear",
                random_state=self.random_state,
            )
        )
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
        self.safeguarding_, self.safeguarding_threshold_ = self._fit_safeguarding(X, safeguarding, groups)
        return self

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
        head = LogisticRegression(
            C=self.theme_C, class_weight="balanced", solver="liblinear", random_state=self.random_state
        )
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
        if said.any():
            X = self._joined(
                self.features_.transform(np.column_stack([key_texts[said], key_kinds[said]])), key_texts[said]
            )
            theme_scores[said] = self.themes_.predict_proba(X)
            with_rating = self._with_rating(X, key_ratings[said], key_kinds[said])
            sentiment_scores[said] = self.sentiment_.predict_proba(with_rating)[:, self.sentiment_order_]
            if self.safeguarding_ is not None:
                safeguarding[said] = self.safeguarding_.predict_proba(X)[:, 1]
            # The word block comes first, so its columns are those below its vocabulary's size.
            in_words = (X.indices < len(self.features_.vocabularies_["words"])).astype(np.int64)
            known_terms[said] = np.add.reduceat(np.append(in_words, 0), X.indptr[:-1]) * (np.diff(X.indptr) > 0)
        return ModelScores(
            theme_scores[codes], sentiment_scores[codes], safeguarding[codes], known_terms[codes]
        )


def _ratings(ratings, n: int) -> np.ndarray:
    """``ratings`` (already normalised and checked by the callers at the edges), or all None."""
    if ratings is None:
        return np.full(n, None, dtype=object)
    ratings = np.asarray(ratings, dtype=object)
    if len(ratings) != n:
        raise ValueError(f"got {n} comments but {len(ratings)} ratings")
    return ratings


QUESTION_KINDS_SORTED = np.array(sorted(QUESTION_KINDS), dtype=object)


def question_kinds(questions, n: int) -> np.ndarray:
    """The question kind of each of ``n`` comments; ``"none"`` for all when ``questions`` is None."""
    if questions is None:
        return np.full(n, "none", dtype=object)
    questions = pd.Series(questions, dtype=object).fillna("")
    if len(questions) != n:
        raise ValueError(f"got {n} comments but {len(questions)} questions")
    return questions.map({q: question_kind(q) for q in questions.unique()}).to_numpy(dtype=object)


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


def sha256_file(path: str | PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions that decide whether a pickled model loads and behaves the same."""
    from . import __version__

    return {
        "feedback_nlp": __version__,
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "skops": skops.__version__,
    }


def label_set() -> dict[str, list[str]]:
    """The labels a model is built for, as recorded in its card."""
    return {"themes": list(THEME_IDS), "sentiments": list(SENTIMENTS), "flags": list(FLAGS)}


def check_model_folder(directory: str | PathLike, *, overwrite: bool = False) -> Path:
    """Refuse, before any work, a model folder that cannot be written or would replace another.

    Raises
    ------
    OutputFileError
        ``directory`` is a file, a folder that is not empty (unless ``overwrite``, and then only
        a model folder, with a card), or its parent cannot be created or written to.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputFileError(f"{directory}: is a file, not a model folder")
    if directory.is_dir() and any(directory.iterdir()):
        if not overwrite:
            raise OutputFileError(
                f"{directory}: the folder exists and is not empty; choose a new folder, or pass "
                "--overwrite (overwrite=True) to replace the model in it"
            )
        if not (directory / CARD).is_file():  # --overwrite replaces a model, never other work
            raise OutputFileError(
                f"{directory}: not a model folder (no {CARD}); refusing to replace it, even with --overwrite"
            )
    parent = directory.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputFileError(f"{parent}: cannot create it ({err.strerror or err})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputFileError(f"{parent}: no permission to write a model folder here")
    return directory


def save_model(model: CommentModel, card: dict, directory: str | PathLike, *, overwrite: bool = False) -> dict:
    """Write ``model.skops`` and ``model.json`` into the folder ``directory``, whole or not at all.

    The card is completed with the format version, labels, versions, creation time and the
    artefact's sha256, which :func:`load_model` checks; the completed card is returned.
    An existing non-empty folder is replaced only with ``overwrite``.

    Raises
    ------
    OutputFileError
        See :func:`check_model_folder`; or the disk filled or failed while writing, in which
        case nothing is left behind and an existing folder is unchanged.
    """
    directory = check_model_folder(directory, overwrite=overwrite)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.absolute().parent))
    try:
        artefact = staging / ARTEFACT
        skops.io.dump(model, artefact, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        card = {
            "format_version": FORMAT_VERSION,
            "labels": label_set(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": library_versions(),
            **card,
            "artefact": {"file": ARTEFACT, "sha256": sha256_file(artefact)},
        }
        (staging / CARD).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        os.chmod(staging, 0o777 & ~current_umask())
        if directory.exists():
            # Out of the way first, removed only once the new folder is in place, put back if not.
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=staging.parent))
            os.replace(directory, old / directory.name)
            try:
                os.replace(staging, directory)
            except BaseException:
                os.replace(old / directory.name, directory)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, directory)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputFileError(f"{directory}: cannot write the model ({err.strerror or err}); nothing was written") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return card


def read_card(directory: str | PathLike) -> dict:
    """Read and return a model folder's card, refusing a missing or unreadable one."""
    path = Path(directory) / CARD
    if not path.is_file():
        raise ModelError(f"{directory}: no model card {CARD}; is this a feedback_nlp model folder?")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelError(f"{path}: not valid UTF-8 JSON ({err})") from None
    if not isinstance(card, dict):
        raise ModelError(f"{path}: expected a JSON object (a model card), found {type(card).__name__}")
    for key in ("versions", "artefact"):
        if not isinstance(card.get(key, {}), dict):
            raise ModelError(f"{path}: {key!r} should be an object, found {card[key]!r}")
    return card


def _encoder_problems(embeddings: dict | None) -> list[str]:
    """Why the sentence encoder a card names cannot be used as it was trained, if it cannot."""
    if not embeddings:
        return []
    name = embeddings.get("encoder")
    try:
        installed = encoder_versions(name)
    except ValueError as err:  # ModelError too: a package is missing
        return [str(err)]
    # Other weights would give other vectors, which the trained heads would misread.
    distribution = ENCODERS[name].distribution
    trained = embeddings.get("versions", {}).get(distribution)
    if trained != installed[distribution]:
        running = installed[distribution]
        return [f"trained with {distribution} {trained}, running {running}: install that version or retrain"]
    return []


def load_model(directory: str | PathLike) -> tuple[CommentModel, dict]:
    """Check a model folder against its card, then load it.

    Raises
    ------
    ModelError
        The card is missing, was made for other labels, another format or another
        scikit-learn, needs a sentence encoder that is not installed, or the artefact's sha256
        differs from the card's.
    """
    directory = Path(directory)
    card = read_card(directory)
    problems = []
    if card.get("format_version") != FORMAT_VERSION:
        problems.append(
            f"model format {card.get('format_version')!r}, this library reads {FORMAT_VERSION}: retrain it"
        )
    if card.get("labels") != label_set():
        problems.append(f"labels {card.get('labels')} differ from this library's {label_set()}")
    built_with = card.get("versions", {}).get("scikit-learn")
    if built_with != sklearn.__version__:
        problems.append(
            f"built with scikit-learn {built_with}, running {sklearn.__version__}: "
            "install that version or retrain"
        )
    problems.extend(_encoder_problems(card.get("embeddings")))
    name = card.get("artefact", {}).get("file", ARTEFACT)
    artefact = directory / str(name)
    if not isinstance(name, str) or Path(name).name != name or name in (".", "..") or artefact.is_symlink():
        problems.append(f"artefact {name!r} is not a file name in the folder (nor a link out of it)")
    elif not artefact.is_file():
        problems.append(f"artefact {artefact.name} is missing")
    elif sha256_file(artefact) != card.get("artefact", {}).get("sha256"):
        problems.append(f"{artefact.name} does not match the sha256 in {CARD}")
    if problems:
        raise ModelError(f"{directory}: refusing to load: " + "; ".join(problems))
    untrusted = [t for t in _types_in(artefact) if t not in TRUSTED_TYPES]
    if untrusted:
        raise ModelError(
            f"{artefact}: refusing to load: it holds types this library does not trust, which could "
            f"run code: {untrusted}"
        )
    try:
        return skops.io.load(artefact, trusted=list(TRUSTED_TYPES)), card
    except Exception as err:  # skops raises many kinds for a file that is not what it says
        raise ModelError(f"{artefact}: cannot read the model ({type(err).__name__}: {err})") from None


def _types_in(artefact: Path) -> list[str]:
    """The types in a skops file that skops does not trust by itself, read without building any."""
    try:
        return skops.io.get_untrusted_types(file=artefact)
    except Exception as err:  # not a zip, no schema: not a skops file
        raise ModelError(f"{artefact}: not a model file ({type(err).__name__}: {err})") from None
