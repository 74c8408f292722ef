import numpy as np
import pytest

import feedback_nlp.training
from feedback_nlp import CommentModel, CorpusError, TrainingConfig, cross_validate, train
from feedback_nlp.model import best_f1_threshold, multilabel_folds
from feedback_nlp.themes import THEME_IDS


def test_same_data_and_seed_give_the_same_model(small_corpus, tagger):
    again = train(small_corpus, TrainingConfig(cv_folds=0))
    texts = small_corpus["text"].head(30).tolist()
    assert again.thresholds == tagger.thresholds
    assert again.tag_many(texts) == tagger.tag_many(texts)


def test_theme_heads_reach_the_primal_solvers_optimum(small_corpus, tagger):
    # The heads use liblinear's dual solver for speed; the problem is the primal's, so the
    # scores must be those the primal solver gives, within its tolerance.
    from sklearn.linear_model import LogisticRegression

    from feedback_nlp.features import question_kinds

    model = tagger.model
    texts = small_corpus["text"].to_numpy(dtype=object)
    X = model.features_.transform(np.column_stack([texts, question_kinds(small_corpus["question"], len(texts))]))
    for j, theme in enumerate(THEME_IDS):
        primal = LogisticRegression(C=model.theme_C, class_weight="balanced", solver="liblinear",
                                    random_state=model.random_state).fit(X, small_corpus[theme])
        dual = model.themes_.estimators_[j].predict_proba(X)[:, 1]
        assert np.abs(dual - primal.predict_proba(X)[:, 1]).max() < 1e-3, theme


def test_thresholds_are_tuned_not_fixed(tagger):
    assert len(set(tagger.thresholds.values())) > 1
    assert all(0 < t < 1 for t in tagger.thresholds.values())


def test_best_f1_threshold_separates_cleanly_separable_scores():
    truth = np.array([0, 0, 0, 1, 1])
    threshold = best_f1_threshold(truth, np.array([0.1, 0.2, 0.3, 0.6, 0.9]))
    assert 0.3 < threshold <= 0.6


def test_folds_spread_the_rarest_theme(small_corpus):
    Y = small_corpus[list(THEME_IDS)].to_numpy()
    rare = Y[:, Y.sum(axis=0).argmin()]
    counts = [rare[test].sum() for _, test in multilabel_folds(Y, 5, 0)]
    assert max(counts) - min(counts) <= 1


def test_cross_validation_gives_held_out_figures(small_corpus):
    scores = cross_validate(small_corpus, TrainingConfig(cv_folds=3))
    assert scores.rows == len(small_corpus)
    assert 0.3 < scores.theme_macro_f1 < 1 and 0.3 < scores.sentiment_macro_f1 < 1


def test_card_records_training(small_corpus):
    card = train(small_corpus.head(400), TrainingConfig(cv_folds=2)).card
    assert card.training_rows["used"] == 400
    assert card.cv_metrics["folds"] == 2
    assert set(card.cv_metrics["themes"]) == set(THEME_IDS)
    assert card.params["random_state"] == 0


def test_too_few_examples_of_a_theme_is_refused(small_corpus):
    without = small_corpus[small_corpus["leading_voice"] == 0]
    with pytest.raises(CorpusError, match="theme 'leading_voice' has 0 comments with it"):
        train(without, TrainingConfig(cv_folds=0))


@pytest.mark.parametrize("value", [1, -1, 2.5])
def test_run_settings_are_validated(value):
    with pytest.raises(ValueError, match=f"cv_folds must be .*; got {value}"):
        TrainingConfig(cv_folds=value)


@pytest.mark.parametrize(
    "params, match",
    [({"threshold_folds": 1}, "threshold_folds"), ({"theme_C": 0}, "theme_C"), ({"rating_features": "x"}, "rating_features"),
     ({"max_char_features": 0}, "max_char_features")],
)
def test_model_settings_are_validated_before_any_work(small_corpus, params, match, monkeypatch):
    def cross_validate(*args, **kwargs):
        raise AssertionError("cross-validation started before the settings were checked")

    monkeypatch.setattr(feedback_nlp.training, "cross_validate", cross_validate)
    with pytest.raises(ValueError, match=match):
        train(small_corpus, model=CommentModel(**params))


def test_copies_of_a_comment_stay_in_one_fold(small_corpus):
    Y = small_corpus[list(THEME_IDS)].to_numpy()
    groups = np.repeat(np.arange(len(Y)), 3)
    for train_rows, test_rows in multilabel_folds(np.repeat(Y, 3, axis=0), 5, 0, groups):
        assert not set(groups[train_rows]) & set(groups[test_rows])


def test_thresholds_tuned_on_every_row_are_the_usual_ones_and_on_some_rows_their_own(small_corpus, tagger):
    config, n = TrainingConfig(cv_folds=0), len(small_corpus)
    assert train(small_corpus, config, threshold_rows=np.ones(n, dtype=bool)).thresholds == tagger.thresholds
    assert train(small_corpus, config, threshold_rows=np.arange(n) < n // 3).thresholds != tagger.thresholds


def test_weights_are_whole_numbers_one_a_row(small_corpus):
    with pytest.raises(ValueError, match="one whole number >= 1 per corpus row"):
        train(small_corpus, TrainingConfig(cv_folds=0), weights=np.full(len(small_corpus), 0.5))
