"""Model folders: the card written beside the artefact, and the checks made when loading."""

import json

import numpy as np
import pandas as pd
import pytest

from feedback_nlp import ModelError, load
from feedback_nlp import model as model_module
from feedback_nlp.model_folder import ARTEFACT, CARD, sha256_file


@pytest.fixture
def saved(tagger, tmp_path):
    return tagger.save(tmp_path / "model")


def _edit_card(folder, change):
    card = json.loads((folder / CARD).read_text())
    change(card)
    (folder / CARD).write_text(json.dumps(card))


def test_card_holds_labels_versions_and_artefact_hash(saved):
    card = json.loads((saved / CARD).read_text())
    assert card["labels"]["themes"][0] == "leading_voice"
    assert {"scikit-learn", "numpy", "python", "feedback_nlp"} <= set(card["versions"])
    assert card["artefact"]["sha256"] == sha256_file(saved / ARTEFACT)
    assert card["created"].endswith("+00:00")


def test_tampered_artefact_is_refused(saved):
    with open(saved / ARTEFACT, "ab") as f:
        f.write(b"tampered")
    with pytest.raises(ModelError, match="does not match the sha256"):
        load(saved)


def test_other_labels_are_refused(saved):
    _edit_card(saved, lambda card: card["labels"]["themes"].pop())
    with pytest.raises(ModelError, match="labels .* differ"):
        load(saved)


def test_other_scikit_learn_is_refused(saved):
    _edit_card(saved, lambda card: card["versions"].update({"scikit-learn": "0.24.0"}))
    with pytest.raises(ModelError, match="built with scikit-learn 0.24.0"):
        load(saved)


def test_missing_folder_or_card_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no model folder"):
        load(tmp_path / "absent")
    with pytest.raises(ModelError, match="no model card"):
        load(tmp_path)


def test_safeguarding_head_keeps_its_recall_on_training_folds_and_needs_enough_flags(corpus, small_corpus):
    from feedback_nlp.model import MIN_SAFEGUARDING, SAFEGUARDING_RECALL, CommentModel
    from feedback_nlp.themes import THEME_IDS

    def safeguarding(table):
        return table["flags"].str.split(";").map(lambda flags: "safeguarding" in flags).to_numpy(dtype=bool)

    # The sample plus every comment the corpus flags, so that the head has its real labels to
    # learn from whichever comments the sample drew.
    data = pd.concat([small_corpus, corpus[safeguarding(corpus)]]).drop_duplicates("text").reset_index(drop=True)
    texts, themes = data["text"], data[list(THEME_IDS)].to_numpy()
    sentiment = data["sentiment"].to_numpy(dtype=object)
    flagged = safeguarding(data)
    assert flagged.sum() >= MIN_SAFEGUARDING
    model = CommentModel().fit(texts, themes, sentiment, None, flagged)
    scores = model.predict_scores(texts).safeguarding
    # On its own training data the head keeps at least the recall its threshold was chosen for.
    assert (scores[flagged] >= model.safeguarding_threshold_).mean() >= SAFEGUARDING_RECALL
    few = flagged & (np.cumsum(flagged) < MIN_SAFEGUARDING)
    without = CommentModel().fit(texts, themes, sentiment, None, few)
    assert without.safeguarding_ is None and not without.predict_scores(texts).safeguarding.any()


def test_scores_are_the_same_whatever_the_block_of_comments_scored_at_once(tagger, small_corpus, monkeypatch):
    # Distinct comments are scored SCORING_BLOCK at a time; each row's scores must land on its row.
    texts = np.concatenate([small_corpus["text"].to_numpy(dtype=object), ["", None, "Nothing", "Nothing"]])
    whole = tagger.model.predict_scores(texts)
    monkeypatch.setattr(model_module, "SCORING_BLOCK", 7)
    blocks = tagger.model.predict_scores(texts)
    for field in ("themes", "sentiment", "safeguarding", "known_terms"):
        np.testing.assert_array_equal(getattr(blocks, field), getattr(whole, field))
