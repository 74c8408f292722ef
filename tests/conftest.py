"""Shared fixtures: the project's corpus, a small model trained on it, and the real QDC data."""

from pathlib import Path

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
