import pytest
from benchmarking import NHSReference, ProjectModel, TfidfLogistic, Vader, compare, format_table, synthetic_survey

from feedback_nlp.model import CommentModel


@pytest.fixture(scope="module")
def results(small_corpus):
    methods = [NHSReference(), TfidfLogistic(), Vader(), ProjectModel(model=CommentModel(threshold_folds=3))]
    return compare(small_corpus, methods, folds=2, seed=0)


def test_every_method_is_scored_on_every_row(results, small_corpus):
    assert [r.method for r in results][0].startswith("NHS reference")
    assert all(r.scores.rows == len(small_corpus) for r in results)
    assert all(0 <= r.scores.sentiment_macro_f1 <= 1 and r.comments_per_second > 0 for r in results)


def test_project_model_beats_the_plain_baseline_on_rare_themes(results):
    project, plain = results[3].scores, results[1].scores
    assert project.theme_macro_f1 > plain.theme_macro_f1


def test_table_has_a_row_per_method_and_dashes_where_no_themes(results):
    lines = format_table(results).splitlines()
    assert len(lines) == 2 + len(results)
    assert "| VADER (sentiment only) | –" in lines[4]


def test_synthetic_survey_is_reproducible(small_corpus):
    first = synthetic_survey(500, small_corpus, seed=1)
    assert first.equals(synthetic_survey(500, small_corpus, seed=1))
    assert not first.equals(synthetic_survey(500, small_corpus, seed=2))
    assert list(first.columns) == ["respondent_id", "question", "comment"] and len(first) == 500
    assert first["comment"].nunique() > 400
