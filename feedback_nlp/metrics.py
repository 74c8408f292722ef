"""Accuracy figures for theme and sentiment predictions, as one frozen result."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from .themes import SENTIMENTS, THEME_IDS


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
