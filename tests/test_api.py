import feedback_nlp


def test_public_api_changes_only_on_purpose():
    assert sorted(feedback_nlp.__all__) == sorted([
        "FLAGS", "SENTIMENTS", "THEMES", "THEME_IDS",
        "ColumnError", "CommentModel", "CorpusError", "EmptyTextWarning", "FeedbackNLPError", "InputFileError",
        "ModelCard", "ModelError", "OutputFileError", "RatingError", "Report", "ReportError", "Route", "Router", "RoutesError", "Scores", "SettingError", "Tag", "Tagger", "Theme", "TrainingConfig",
        "adapt", "cross_validate", "load", "load_routes", "read_corpus", "redact", "report", "review", "tag", "tag_many", "train",
        "train_files",
    ])
    assert all(hasattr(feedback_nlp, name) for name in feedback_nlp.__all__)


def test_errors_are_value_errors():
    for name in ("ColumnError", "CorpusError", "InputFileError", "ModelError", "RatingError", "ReportError",
                 "RoutesError", "SettingError"):
        assert issubclass(getattr(feedback_nlp, name), ValueError)


def test_output_errors_are_os_errors():
    assert issubclass(feedback_nlp.OutputFileError, OSError)
    assert issubclass(feedback_nlp.OutputFileError, feedback_nlp.FeedbackNLPError)
