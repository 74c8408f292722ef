"""Shared fixtures: the project's corpus, a small model trained on it, and the real QDC data."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feedback_nlp import TrainingConfig, read_corpus, train

REPO = Path(__file__).resolve().parents[1]
CORPUS_PATH = REPO / "data" / "corpus.csv"
EXAMPLES_PATH = REPO / "data" / "examples" / "comments.csv"
DEFAULT_MODEL = REPO / "models" / "default"
QDC_PATH = REPO.parent / "shared" / "data" / "qdc_v6_dev.csv"


@pytest.fixture(scope="session")
def corpus() -> pd.DataFrame:
    return read_corpus(CORPUS_PATH)


@pytest.fixture(scope="session")
def small_corpus(corpus) -> pd.DataFrame:
    """800 comments of the project's corpus: enough to learn every theme, quick to train on."""
    return corpus.sample(800, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="session")
def tagger(small_corpus):
    return train(small_corpus, TrainingConfig(cv_folds=0))


@pytest.fixture(scope="session")
def qdc_path() -> Path:
    if not QDC_PATH.is_file():
        pytest.skip(f"the real QDC data is not at {QDC_PATH} (shared/ is not beside the repo)")
    return QDC_PATH


@pytest.fixture
def write_csv(tmp_path):
    """Write text to a CSV file in a temporary folder and return its path."""

    def write(text: str, name: str = "data.csv") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def tagged_frame():
    """A table as ``feedback-nlp tag`` writes it, made up: dated comments at four sites.

    ``tagged_frame(rows, months=12, seed=0)``; every comment has 8 words or more, so any can be
    quoted, and none is flagged.
    """
    from feedback_nlp.themes import THEME_IDS

    def make(rows: int = 400, months: int = 12, seed: int = 0) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        themes = [";".join(t for t in THEME_IDS if rng.random() < 0.3) for _ in range(rows)]
        frame = pd.DataFrame({
            "row": range(1, rows + 1),
            "comment": [f"Made up comment number {i} about the care I had here" for i in range(rows)],
            "date": [f"2025-{1 + i % months:02d}-{1 + i % 28:02d}" for i in range(rows)],
            "site": rng.choice(["North", "South", "East", "West"], rows, p=[0.4, 0.3, 0.2, 0.1]),
            "themes": themes,
            "sentiment": rng.choice(["positive", "neutral", "negative"], rows),
        })
        for t in THEME_IDS:
            frame[f"score_{t}"] = [round(rng.uniform(0.5, 0.99) if t in ts.split(";") else rng.uniform(0, 0.4), 4)
                                   for ts in themes]
        frame["flags"] = ""
        frame["needs_review"] = False
        frame["review_reasons"] = ""
        return frame

    return make
