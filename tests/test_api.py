import feedback_nlp


def test_public_api_changes_only_on_purpose():
    assert sorted(feedback_nlp.__all__) == sorted([
        "FLAGS", "SENTIMENTS", "THEMES", "THEME_IDS",
        "ColumnError", "CorpusError", "EmptyTextWarning", "FeedbackNLPError", "InputFileError",
        "ModelError", "Scores", "Tag", "Tagger", "Theme", "TrainingConfig",
        "cross_validate", "load", "read_corpus", "tag", "train", "train_files",
    ])
    assert all(hasattr(feedback_nlp, name) for name in feedback_nlp.__all__)


def test_errors_are_value_errors():
    for name in ("ColumnError", "CorpusError", "InputFileError", "ModelError"):
        assert issubclass(getattr(feedback_nlp, name), ValueError)
