import numpy as np
import pytest
from benchmarking import (
    NHSReference,
    ProjectModel,
    TfidfLogistic,
    Vader,
    adaptation,
    compare,
    format_adaptation,
    format_table,
    synthetic_survey,
)

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


def test_adaptation_draws_the_same_random_comments_whatever_the_other_sizes(small_corpus):
    groups = np.where(np.arange(len(small_corpus)) % 2, "A", "B")

    def run(sizes):
        return adaptation(small_corpus, groups, sizes=sizes, seeds=(0,), ceiling=False)
    alone = {(r.target, r.picked_by): repr(r.scores) for r in run((20,))}
    among = {(r.target, r.picked_by): repr(r.scores) for r in run((10, 20)) if r.labels == 20}
    assert alone.keys() == {(g, by) for g in "AB" for by in ("review", "random")}
    # The same K comments picked either way, so the same figures: a quick run of one size
    # measures what the whole table would.
    assert alone == among
    table = format_adaptation(run((10,)))
    rows = [line for line in table.splitlines() if line.startswith("| ") and "K" not in line]
    assert [row.split(" | ")[0] for row in rows] == ["| review", "| random"] * 2
    assert all(row.endswith("| - | - |") for row in rows)  # no ceiling, no share of it
