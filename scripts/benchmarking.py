"""What the benchmark scripts share (kept out of the installed package: users never need it).

Comparing tagging methods on the same cross-validation folds of one labelled data set
(``benchmark_accuracy.py``), the synthetic files of the speed benchmarks (``benchmark_speed.py``,
``benchmark_report.py``) and the adaptation benchmark (``benchmark_adaptation.py``).

Each method learns from the training part of a fold and tags the held-out part; every method
sees the same seeded folds, and nothing is tuned on held-out rows. The methods are: the NHS
reference approach (pxtextmining's TF-IDF and RBF SVC per label), a plain TF-IDF and logistic
regression baseline, VADER (a sentiment lexicon, no themes), and this project's model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from tqdm.auto import tqdm

from feedback_nlp.adapting import DEFAULT_THRESHOLDS, DEFAULT_WEIGHT, learn
from feedback_nlp.decide import decide_labels
from feedback_nlp.features import SENTENCE_END
from feedback_nlp.metrics import Scores, held_out_labels, score
from feedback_nlp.model import CommentModel, multilabel_folds
from feedback_nlp.ratings import normalise_ratings
from feedback_nlp.reviewing import select
from feedback_nlp.themes import THEME_IDS
from feedback_nlp.training import TrainingConfig, train


class _SklearnBaseline:
    """A TF-IDF pipeline per task: one multi-label theme pipeline and one sentiment pipeline."""

    predicts_themes = True

    def _pipelines(self):
        raise NotImplementedError

    def fit(self, texts, questions, themes, sentiment, ratings=None):
        self.themes_, self.sentiment_ = self._pipelines()
        self.themes_.fit(texts, themes)
        known = pd.notna(sentiment)
        self.sentiment_.fit(texts[known], sentiment[known])
        return self

    def predict(self, texts, questions, ratings=None):
        return self.themes_.predict(texts), self.sentiment_.predict(texts)


class NHSReference(_SklearnBaseline):
    """pxtextmining's approach: default TF-IDF, one RBF ``SVC(C=15, class_weight="balanced")`` a label."""

    name = "NHS reference: TF-IDF + RBF SVC per label"

    def _pipelines(self):
        svc = SVC(C=15, class_weight="balanced", kernel="rbf")
        return (
            make_pipeline(TfidfVectorizer(), MultiOutputClassifier(svc)),
            make_pipeline(TfidfVectorizer(), svc),
        )


class TfidfLogistic(_SklearnBaseline):
    """Default TF-IDF and logistic regression, one a theme, decisions at probability 0.5."""

    name = "TF-IDF + logistic regression"

    def _pipelines(self):
        logistic = LogisticRegression(max_iter=2000)
        return (
            make_pipeline(TfidfVectorizer(), OneVsRestClassifier(logistic)),
            make_pipeline(TfidfVectorizer(), logistic),
        )


class Vader:
    """VADER's compound score with its authors' cut-offs (>= 0.05 positive, <= -0.05 negative)."""

    name = "VADER (sentiment only)"
    predicts_themes = False

    def fit(self, texts, questions, themes, sentiment, ratings=None):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.analyser_ = SentimentIntensityAnalyzer()
        return self

    def predict(self, texts, questions, ratings=None):
        compound = np.array([self.analyser_.polarity_scores(t)["compound"] for t in texts])
        sentiment = np.where(compound >= 0.05, "positive", np.where(compound <= -0.05, "negative", "neutral"))
        return np.zeros((len(texts), len(THEME_IDS)), dtype=int), sentiment.astype(object)


@dataclass
class ProjectModel:
    """This project's model, optionally also trained on extra labelled rows in every fold."""

    name: str = "feedback_nlp"
    model: CommentModel = field(default_factory=CommentModel)
    extra: pd.DataFrame | None = None
    predicts_themes = True

    def fit(self, texts, questions, themes, sentiment, ratings=None):
        if self.extra is not None:
            extra = self.extra[self.extra["text"].str.strip() != ""]
            texts = np.concatenate([texts, extra["text"].to_numpy(dtype=object)])
            questions = np.concatenate([questions, extra["question"].to_numpy(dtype=object)])
            themes = np.vstack([themes, extra[list(THEME_IDS)].to_numpy()])
            sentiment = np.concatenate([sentiment, extra["sentiment"].to_numpy(dtype=object)])
            if ratings is not None:
                ratings = np.concatenate([ratings, extra["rating"].to_numpy(dtype=object)])
        self.model_ = clone(self.model).fit(texts, themes, sentiment, questions, ratings=ratings)
        return self

    def predict(self, texts, questions, ratings=None):
        scores = self.model_.predict_scores(texts, questions, ratings)
        return decide_labels(scores.themes, scores.sentiment, self.model_.thresholds_)


@dataclass(frozen=True)
class Result:
    """One method's cross-validated scores, mean fit time a fold, and tagging speed."""

    method: str
    predicts_themes: bool
    scores: Scores
    fit_seconds: float
    comments_per_second: float


def compare(corpus: pd.DataFrame, methods, *, folds: int = 5, seed: int = 0, progress: bool = False):
    """Cross-validate each method on the same seeded folds of ``corpus``.

    Rows with no text are left out (every method would give them no theme). Folds are
    stratified on each comment's rarest theme (see :func:`feedback_nlp.model.multilabel_folds`).

    Returns
    -------
    list of Result
        In the order of ``methods``.
    """
    corpus = corpus[corpus["text"].str.strip() != ""].reset_index(drop=True)
    texts = corpus["text"].to_numpy(dtype=object)
    questions = corpus["question"].to_numpy(dtype=object)
    ratings = corpus["rating"].to_numpy(dtype=object)
    sentiment = corpus["sentiment"].to_numpy(dtype=object)
    Y = corpus[list(THEME_IDS)].to_numpy()
    splits = multilabel_folds(Y, folds, seed)
    results = []
    for method in methods:
        seconds = {"fit": 0.0, "predict": 0.0}

        def fit_and_label(fitted, held):
            start = time.perf_counter()
            method.fit(texts[fitted], questions[fitted], Y[fitted], sentiment[fitted], ratings[fitted])
            seconds["fit"] += time.perf_counter() - start
            start = time.perf_counter()
            labels = method.predict(texts[held], questions[held], ratings[held])
            seconds["predict"] += time.perf_counter() - start
            return labels

        predicted, predicted_sentiment = held_out_labels(Y, splits, fit_and_label, progress=progress, desc=method.name)
        fit_seconds, predict_seconds = seconds["fit"], seconds["predict"]
        results.append(
            Result(
                method=method.name,
                predicts_themes=method.predicts_themes,
                scores=score(Y, predicted, sentiment, predicted_sentiment),
                fit_seconds=fit_seconds / folds,
                comments_per_second=len(corpus) / predict_seconds,
            )
        )
    return results


def synthetic_survey(rows: int, corpus: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """A reproducible survey export of realistic comments, for speed benchmarks.

    Each comment joins one to four sentences drawn from ``corpus`` comments; about 4% are empty,
    as in real exports. Columns: ``respondent_id``, ``question``, ``comment``.
    """
    rng = np.random.default_rng(seed)
    sentences = (
        corpus["text"].str.split(SENTENCE_END, regex=True).explode().str.strip().loc[lambda s: s != ""]
    ).to_numpy(dtype=object)
    questions = corpus["question"].unique()
    lengths = rng.choice([1, 2, 3, 4], size=rows, p=[0.35, 0.35, 0.2, 0.1])
    picks = rng.integers(0, len(sentences), size=int(lengths.sum()))
    ends = np.cumsum(lengths)
    comments = [" ".join(sentences[picks[end - n:end]]) for n, end in zip(lengths, ends)]
    comments = np.where(rng.random(rows) < 0.04, "", np.array(comments, dtype=object))
    return pd.DataFrame(
        {
            "respondent_id": [f"R{i:07d}" for i in range(rows)],
            "question": rng.choice(questions, size=rows),
            "comment": comments,
        }
    )


def synthetic_tagged(rows: int, corpus: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """A reproducible file as ``feedback-nlp tag`` writes it, for the report's speed benchmark.

    Each row is a ``corpus`` comment with its labels as the tags (scores above 0.5 for its
    themes), a date in 2024-2025, and one of eight sites and five services (unequal sizes).
    """
    rng = np.random.default_rng(seed)
    picks = corpus.iloc[rng.integers(0, len(corpus), size=rows)].reset_index(drop=True)
    has = picks[list(THEME_IDS)].to_numpy(dtype=bool)
    days = pd.date_range("2024-01-01", "2025-12-31").strftime("%Y-%m-%d").to_numpy()
    sites = [f"Site {chr(65 + i)}" for i in range(8)]
    frame = pd.DataFrame({
        "respondent_id": [f"R{i:07d}" for i in range(rows)],
        "date": days[rng.integers(0, len(days), size=rows)],
        "site": rng.choice(sites, size=rows, p=np.array([8, 7, 6, 5, 4, 3, 2, 1]) / 36),
        "service": rng.choice(["Chemotherapy", "Radiotherapy", "Surgery", "Outpatients", "Palliative care"],
                              size=rows),
        "question": picks["question"], "comment": picks["text"],
        "themes": [";".join(t for t, on in zip(THEME_IDS, row) if on) for row in has],
        "sentiment": picks["sentiment"],
    })
    scores = np.where(has, rng.uniform(0.5, 1, has.shape), rng.uniform(0, 0.5, has.shape)).round(4)
    for i, theme in enumerate(THEME_IDS):
        frame[f"score_{theme}"] = scores[:, i]
    frame["flags"] = picks["flags"].fillna("")
    frame["needs_review"] = frame["flags"].str.contains("safeguarding")
    frame["review_reasons"] = np.where(frame["needs_review"], "safeguarding", "")
    return frame


def run_measured(command: list[str], *, poll_seconds: float = 1.0) -> tuple[float, int]:
    """Run a command; return its wall time and the peak memory of its process tree.

    Memory is the proportional set size (PSS) summed over the process and all its children,
    sampled every ``poll_seconds``: pages that forked workers share with their parent count
    once, so the sum is the memory the command took from the machine (Linux only).
    """
    # Reading PSS makes the kernel walk each process's pages: about 50 ms for a tagging run's
    # three processes. Polled every 0.1 s, that took a third of a core from the run it measured;
    # batch tagging's memory is flat once it runs, so a sample a second finds its steady peak
    # (a spike shorter than a second, such as forking the workers, can be missed).
    import subprocess

    import psutil

    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_full_info().pss for p in tree))
        except psutil.Error:
            pass  # a worker ended between listing and reading it
        try:
            process.wait(timeout=poll_seconds)  # returns as soon as the command ends
        except psutil.TimeoutExpired:
            pass
    seconds = time.perf_counter() - start
    if process.returncode:
        raise RuntimeError(f"{command[0]} exited with code {process.returncode}")
    return seconds, peak


def format_table(results) -> str:
    """The results as a Markdown table: per-theme F1, macro and micro F1, sentiment, time, speed."""
    header = [
        "method", *(f"F1 {t}" for t in THEME_IDS), "theme macro F1", "theme micro F1",
        "sentiment accuracy", "sentiment macro F1", "fit s/fold", "comments/s",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        s = r.scores
        themes = (
            [f"{s.themes[t].f1:.3f}" for t in THEME_IDS] + [f"{s.theme_macro_f1:.3f}", f"{s.theme_micro_f1:.3f}"]
            if r.predicts_themes
            else ["–"] * (len(THEME_IDS) + 2)
        )
        cells = [
            r.method, *themes, f"{s.sentiment_accuracy:.3f}", f"{s.sentiment_macro_f1:.3f}",
            f"{r.fit_seconds:.1f}", f"{r.comments_per_second:,.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)



@dataclass(frozen=True)
class AdaptationResult:
    """One arm of the adaptation benchmark: a target, how its labels were picked, how many, a seed."""

    target: str
    picked_by: str
    labels: int
    seed: int
    scores: Scores


def adaptation(
    corpus: pd.DataFrame,
    groups,
    *,
    sizes=(0, 50, 100, 200, 400),
    seeds=(0, 1, 2),
    test_share: float = 0.25,
    weight: int = DEFAULT_WEIGHT,
    thresholds: str = DEFAULT_THRESHOLDS,
    model: CommentModel | None = None,
    ceiling: bool = True,
    progress: bool = False,
) -> list[AdaptationResult]:
    """Measure adaptation to each group (a trust) of a labelled file, as a team would do it.

    For each group as the target and each seed: a base model trained on the other groups; the
    target's comments with text split (seeded) into a pool and a test part; K comments of the
    pool picked by :func:`feedback_nlp.reviewing.select` (``picked_by="review"``) or at random
    (``"random"``), labelled by a perfect reviewer (the file's own labels), and learned as
    :func:`feedback_nlp.adapt` learns them (:func:`feedback_nlp.adapting.learn`, with ``weight``
    and ``thresholds``); and the whole pool learned the same way and plainly, as ``train`` would
    (``"ceiling"`` and ``"ceiling, plain"``; ``ceiling=False`` skips them, for a quick look at
    a change of choosing). Every arm is scored on the test part. K = 0 is the base model.
    ``model`` (unfitted) gives the settings, its seed replaced by each seed. The random K
    comments of a seed depend on that seed and K only, so a run with fewer sizes draws the same ones.
    """
    corpus = corpus.reset_index(drop=True)
    groups = np.asarray(groups, dtype=object)
    has_text = corpus["text"].str.strip().to_numpy() != ""
    results = []
    arms = [(g, seed) for g in pd.unique(groups) for seed in seeds]
    for target, seed in tqdm(arms, desc="targets x seeds", disable=not progress):
        base = corpus[(groups != target) & has_text]
        own = corpus[(groups == target) & has_text].reset_index(drop=True)
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(own))
        test, pool = own.iloc[order[: int(len(own) * test_share)]], own.iloc[order[int(len(own) * test_share):]]
        pool = pool.reset_index(drop=True)
        seeded = clone(CommentModel() if model is None else model).set_params(random_state=seed)
        no_cv = TrainingConfig(cv_folds=0)

        def scored(picked_by, labels, tagger):
            scores = tagger.model.predict_scores(
                test["text"].to_numpy(dtype=object), test["question"].to_numpy(dtype=object),
                normalise_ratings(test["rating"]),
            )
            themes, sentiment = decide_labels(scores.themes, scores.sentiment, tagger.model.thresholds_)
            truth = test[list(THEME_IDS)].to_numpy()
            results.append(AdaptationResult(
                target, picked_by, labels, seed, score(truth, themes, test["sentiment"].to_numpy(dtype=object), sentiment)
            ))

        def learned(rows):
            return learn(base, rows, seeded, weight=weight, thresholds=thresholds)

        base_model = train(base, no_cv, model=seeded)
        texts, questions = pool["text"].to_numpy(dtype=object), pool["question"].to_numpy(dtype=object)
        for k in sizes:
            if k == 0:
                scored("review", 0, base_model)
                scored("random", 0, base_model)
                continue
            reviewed = select(base_model, texts, questions, normalise_ratings(pool["rating"]), k, seed=seed).rows
            scored("review", k, learned(pool.iloc[reviewed]))
            drawn = np.random.default_rng([seed, k]).choice(len(pool), k, replace=False)
            scored("random", k, learned(pool.iloc[drawn]))
        if ceiling:
            scored("ceiling", len(pool), learned(pool))
            scored("ceiling, plain", len(pool), train(pd.concat([base, pool], ignore_index=True), no_cv, model=seeded))
    return results


def format_adaptation(results) -> str:
    """The adaptation results as a Markdown table per target: means over seeds (and their
    spread, the standard deviation), and each as a share of the ceiling."""
    frame = pd.DataFrame(
        [
            {
                "target": r.target, "picked by": r.picked_by, "K": r.labels, "seed": r.seed,
                "theme macro F1": r.scores.theme_macro_f1, "theme micro F1": r.scores.theme_micro_f1,
                "sentiment macro F1": r.scores.sentiment_macro_f1,
            }
            for r in results
        ]
    )
    figures = ["theme macro F1", "theme micro F1", "sentiment macro F1"]
    lines = []
    for target, rows in frame.groupby("target", sort=False):
        ceilings = rows[rows["picked by"].str.startswith("ceiling")].groupby("picked by")[figures].mean()
        ceiling = ceilings.max()  # the better of weighted and plain, per figure
        lines += [
            f"\n**Target {target}** (ceiling: the better of the whole pool adapted and plain, per figure)\n",
            "| picked by | K | " + " | ".join(figures) + " | theme macro / ceiling | sentiment macro / ceiling |",
            "|---|---|" + "---|" * (len(figures) + 2),
        ]
        for (picked_by, k), arm in rows.groupby(["picked by", "K"], sort=False):
            mean, spread = arm[figures].mean(), arm[figures].std(ddof=0)
            cells = [f"{mean[f]:.3f} ± {spread[f]:.3f}" for f in figures]
            shares = ["-" if pd.isna(ceiling[f]) else f"{mean[f] / ceiling[f]:.0%}"
                      for f in ("theme macro F1", "sentiment macro F1")]
            lines.append(f"| {picked_by} | {k} | " + " | ".join(cells + shares) + " |")
    return "\n".join(lines).lstrip("\n")
