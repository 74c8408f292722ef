"""Accuracy figures: themes and sentiment (:class:`Scores`), and the flag detectors on labelled
sets (:class:`FlagScores`, :func:`score_flags`, :func:`score_flagged`)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from os import PathLike

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from tqdm.auto import tqdm

from .corpus import read_safeguarding_examples
from .exceptions import CorpusError, SettingError
from .flags import PERSONAL_KINDS, find_personal_data, is_safeguarding, redact
from .themes import FLAGS, SENTIMENTS, THEME_IDS

# The share of each labelled flag set kept back, with this seed, for a final check of the rules.
HELD_OUT_SHARE, HELD_OUT_SEED = 0.3, 0


@dataclass(frozen=True)
class ThemeScore:
    """Precision, recall and F1 of one theme, with the number of true positives it had."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Scores:
    """Theme and sentiment accuracy on one data set.

    ``sentiment_*`` figures count only the rows that have a known sentiment (``sentiment_rows``).
    From :meth:`Tagger.evaluate`, also the share of rows marked for review and the scores of
    the rows that were not (None otherwise).
    """

    rows: int
    themes: dict[str, ThemeScore]
    theme_macro_f1: float
    theme_micro_f1: float
    sentiment_rows: int
    sentiment_accuracy: float
    sentiment_macro_f1: float
    review_share: float | None = None
    unreviewed: Scores | None = None

    def to_dict(self) -> dict:
        """The scores as plain JSON-ready values."""
        return asdict(self)

    def format(self) -> str:
        """A plain-text table for a terminal."""
        lines = [f"{'theme':<22}{'precision':>10}{'recall':>8}{'f1':>7}{'support':>9}"]
        for theme, s in self.themes.items():
            lines.append(
                f"{theme:<22}{s.precision:>10.3f}{s.recall:>8.3f}{s.f1:>7.3f}{s.support:>9d}"
            )
        lines += [
            f"theme macro F1 {self.theme_macro_f1:.3f}, micro F1 {self.theme_micro_f1:.3f} "
            f"({self.rows} comments)",
            f"sentiment accuracy {self.sentiment_accuracy:.3f}, macro F1 "
            f"{self.sentiment_macro_f1:.3f} ({self.sentiment_rows} comments with a sentiment)",
        ]
        if self.unreviewed is not None:
            rest = self.unreviewed
            lines.append(
                f"marked for review: {self.review_share:.1%} of comments; on the other "
                f"{rest.rows}: theme macro F1 {rest.theme_macro_f1:.3f}, micro F1 "
                f"{rest.theme_micro_f1:.3f}, sentiment accuracy {rest.sentiment_accuracy:.3f}, "
                f"macro F1 {rest.sentiment_macro_f1:.3f}"
            )
        return "\n".join(lines)


def score(true_themes, predicted_themes, true_sentiment, predicted_sentiment) -> Scores:
    """Compare predictions with labels.

    Parameters
    ----------
    true_themes, predicted_themes : array-like of shape (n, 5)
        0/1 theme matrices, columns in ``THEME_IDS`` order.
    true_sentiment : sequence of str or None
        Labelled sentiment; ``None`` (unknown) rows are left out of the sentiment figures.
    predicted_sentiment : sequence of str

    Returns
    -------
    Scores
    """
    Y = np.asarray(true_themes, dtype=int)
    P = np.asarray(predicted_themes, dtype=int)
    precision, recall, f1, support = precision_recall_fscore_support(Y, P, zero_division=0)
    themes = {
        theme: ThemeScore(float(precision[j]), float(recall[j]), float(f1[j]), int(support[j]))
        for j, theme in enumerate(THEME_IDS)
    }
    true_sentiment = np.asarray(true_sentiment, dtype=object)
    known = np.asarray(pd.notna(true_sentiment), dtype=bool)
    s_true = true_sentiment[known].astype(str)
    s_pred = np.asarray(predicted_sentiment, dtype=object)[known].astype(str)
    return Scores(
        rows=len(Y),
        themes=themes,
        theme_macro_f1=float(f1_score(Y, P, average="macro", zero_division=0)),
        theme_micro_f1=float(f1_score(Y, P, average="micro", zero_division=0)),
        sentiment_rows=int(known.sum()),
        sentiment_accuracy=float(accuracy_score(s_true, s_pred)) if known.any() else float("nan"),
        sentiment_macro_f1=float(
            f1_score(s_true, s_pred, labels=list(SENTIMENTS), average="macro", zero_division=0)
        )
        if known.any()
        else float("nan"),
    )


def held_out_labels(
    truth: np.ndarray, folds, fit_and_label, *, progress: bool = False, desc: str = "folds"
) -> tuple[np.ndarray, np.ndarray]:
    """The one fold loop: each row's themes and sentiment from a model that never saw it.

    Parameters
    ----------
    truth : ndarray of shape (n, 5)
        The true theme matrix (its shape and type shape the result).
    folds : list of (train rows, test rows)
        As :func:`feedback_nlp.model.multilabel_folds` gives them.
    fit_and_label : callable
        ``fit_and_label(train_rows, test_rows)`` fits on the first and returns the 0/1 themes
        and the sentiments of the second.
    progress : bool
        Show a progress bar over the folds on stderr, named ``desc``.

    Returns
    -------
    (ndarray, ndarray)
        Held-out themes (n, 5) and sentiments (n,), for :func:`score`.
    """
    themes = np.zeros_like(truth)
    sentiments = np.empty(len(truth), dtype=object)
    for train_rows, test_rows in tqdm(folds, desc=desc, unit="fold", disable=not progress):
        themes[test_rows], sentiments[test_rows] = fit_and_label(train_rows, test_rows)
    return themes, sentiments


def score_decisions(corpus: pd.DataFrame, decided, rows: np.ndarray) -> Scores:
    """The scores of a tagged labelled corpus's ``rows`` (a mask), with the share marked for
    review and the scores of the others: what acting on the tags without reading them gets right.

    ``decided`` holds the corpus's :class:`~feedback_nlp.decide.Decisions`.
    """
    truth = corpus[list(THEME_IDS)].to_numpy()[rows]
    sentiment = corpus["sentiment"].to_numpy(dtype=object)[rows]
    themes, sentiments = decided.themes[rows], decided.sentiments[rows]
    kept = ~np.array([bool(r) for r in decided.review_reasons], dtype=bool)[rows]
    return dataclasses.replace(
        score(truth, themes, sentiment, sentiments),
        review_share=float(1 - kept.mean()) if len(kept) else 0.0,
        unreviewed=score(truth[kept], themes[kept], sentiment[kept], sentiments[kept]),
    )


@dataclass(frozen=True)
class FlagScores:
    """How well the flag detectors do on the labelled sets in ``data/flags``.

    Attributes
    ----------
    part : str
        ``"all"``, ``"dev"`` (the 70% the rules were written on) or ``"held_out"`` (the other
        30%, seed ``HELD_OUT_SEED``).
    safeguarding_recall, safeguarding_precision : float
    safeguarding_counts : dict of str to int
        ``tp``, ``fp``, ``fn``, ``tn`` of comments.
    personal : dict of str to dict of str to float
        Per kind: ``recall`` (share of labelled items overlapped by a found item of that kind),
        ``precision`` (share of found items overlapping a labelled one of that kind),
        ``labelled`` and ``found`` counts.
    redaction_leaks : int
        Comments in which ``find_personal_data`` still finds something after :func:`feedback_nlp.redact`.
    """

    part: str
    safeguarding_recall: float
    safeguarding_precision: float
    safeguarding_counts: dict[str, int]
    personal: dict[str, dict[str, float]] = field(default_factory=dict)
    redaction_leaks: int = 0

    def format(self) -> str:
        """A table for a terminal."""
        c = self.safeguarding_counts
        lines = [
            f"[{self.part}] safeguarding: recall {self.safeguarding_recall:.3f}  precision "
            f"{self.safeguarding_precision:.3f}  (tp {c['tp']} fp {c['fp']} fn {c['fn']} tn {c['tn']})",
            f"[{self.part}] personal data     recall  precision  labelled  found",
        ]
        for kind, s in self.personal.items():
            lines.append(
                f"  {kind:<16}  {s['recall']:6.3f}  {s['precision']:9.3f}  {int(s['labelled']):8d}  {int(s['found']):5d}"
            )
        lines.append(f"[{self.part}] comments with something left after redact: {self.redaction_leaks}")
        return "\n".join(lines)


def _split(frame: pd.DataFrame, part: str) -> pd.DataFrame:
    if part not in ("all", "dev", "held_out"):
        raise SettingError("part", "'all', 'dev' or 'held_out'", part)
    if part == "all":
        return frame
    held = frame.sample(frac=HELD_OUT_SHARE, random_state=HELD_OUT_SEED).index
    return frame.loc[held] if part == "held_out" else frame.drop(held)


def _read_labelled(path, columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CorpusError(path, f"expected columns {list(columns)}; found {list(frame.columns)}")
    return frame


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def score_flags(
    safeguarding_csv: str | PathLike,
    personal_data_csv: str | PathLike,
    *,
    part: str = "all",
    phone_method: str = "phonenumbers",
) -> FlagScores:
    """Measure the safeguarding and personal-data detectors on the labelled sets.

    Parameters
    ----------
    safeguarding_csv : path
        CSV with columns ``text`` and ``safeguarding`` (0/1).
    personal_data_csv : path
        CSV with columns ``text`` and ``items`` (a JSON list of ``{"kind", "text"}``).
    part : {"all", "dev", "held_out"}
        Which part of each set to score: the held-out 30% was kept back while writing the rules.
    phone_method : {"phonenumbers", "regex"}
        As in :func:`find_personal_data`.

    Returns
    -------
    FlagScores

    Raises
    ------
    CorpusError
        A file lacks a needed column, or an ``items`` cell is not a JSON list.
    SettingError
        ``part`` or ``phone_method`` is not one of the allowed values.

    Examples
    --------
    >>> print(score_flags("data/flags/safeguarding.csv", "data/flags/personal_data.csv").format())  # doctest: +SKIP
    """
    safe = _split(read_safeguarding_examples(safeguarding_csv), part)
    truth = safe["safeguarding"].to_numpy(dtype=bool)
    said = [is_safeguarding(t) for t in safe["text"]]
    tp = int(sum(p and t for p, t in zip(said, truth)))
    fp = int(sum(p and not t for p, t in zip(said, truth)))
    fn = int(sum(t and not p for p, t in zip(said, truth)))
    counts = {"tp": tp, "fp": fp, "fn": fn, "tn": len(truth) - tp - fp - fn}

    personal = _split(_read_labelled(personal_data_csv, ("text", "items")), part)
    tallies = {k: {"hit": 0, "labelled": 0, "right": 0, "found": 0} for k in PERSONAL_KINDS}
    leaks = 0
    for row, (text, cell) in enumerate(zip(personal["text"], personal["items"]), start=2):
        try:
            labels = json.loads(cell)
        except json.JSONDecodeError as error:
            raise CorpusError(personal_data_csv, f"items is not JSON ({error})", row=row, column="items")
        spans, cursor = [], {}
        for item in labels:
            # The same text can be labelled twice ("16 Mill Lane" ... "61 Mill Lane" aside): take
            # each next occurrence.
            at = text.find(item["text"], cursor.get(item["text"], 0))
            cursor[item["text"]] = at + 1
            spans.append((item["kind"], at, at + len(item["text"])))
        found = find_personal_data(text, phone_method=phone_method)
        for kind, start, end in spans:
            tallies[kind]["labelled"] += 1
            tallies[kind]["hit"] += any(f.kind == kind and f.start < end and start < f.end for f in found)
        for f in found:
            tallies[f.kind]["found"] += 1
            tallies[f.kind]["right"] += any(k == f.kind and s < f.end and f.start < e for k, s, e in spans)
        leaks += bool(find_personal_data(redact(text, phone_method=phone_method), phone_method=phone_method))
    return FlagScores(
        part=part,
        safeguarding_recall=_ratio(tp, tp + fn),
        safeguarding_precision=_ratio(tp, tp + fp),
        safeguarding_counts=counts,
        personal={
            k: {
                "recall": _ratio(t["hit"], t["labelled"]),
                "precision": _ratio(t["right"], t["found"]),
                "labelled": t["labelled"],
                "found": t["found"],
            }
            for k, t in tallies.items()
        },
        redaction_leaks=leaks,
    )


def score_flagged(flagged: Sequence[tuple[str, ...]], truth: dict[str, Sequence[bool]]) -> dict[str, dict[str, float]]:
    """Recall and precision of raised flags for each flag of ``truth``.

    Parameters
    ----------
    flagged : sequence of tuple of str
        The flags raised on each text: from :func:`detect_flags` (the rules alone) or the
        ``flags`` of :meth:`feedback_nlp.Tagger.tag_many` (rules and the model's safeguarding head).
    truth : dict of str to sequence of bool
        For each flag id, whether each text carries it (as long as ``flagged``).

    Returns
    -------
    dict of str to dict of str to float
        Per flag: ``recall``, ``precision``, ``labelled`` and ``flagged`` counts.

    Raises
    ------
    SettingError
        A flag is not in ``FLAGS``, or its truth is not as long as ``flagged``.
    """
    flagged = list(flagged)
    out = {}
    for flag, labels in truth.items():
        labels = [bool(v) for v in labels]
        if flag not in FLAGS:
            raise SettingError("a flag", f"one of {FLAGS}", flag)
        if len(labels) != len(flagged):
            raise SettingError(f"the {flag} labels", f"one per text ({len(flagged)})", len(labels))
        said = [flag in f for f in flagged]
        tp = sum(s and t for s, t in zip(said, labels))
        out[flag] = {
            "recall": _ratio(tp, sum(labels)),
            "precision": _ratio(tp, sum(said)),
            "labelled": sum(labels),
            "flagged": sum(said),
        }
    return out
