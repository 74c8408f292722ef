"""Adapting a model to corrected review sheets: what it refuses, what its card records, and that it
learns a team's convention the base model did not have."""

import json
import shutil
from itertools import product

import numpy as np
import pandas as pd
import pytest

from feedback_nlp import CorpusError, ModelError, TrainingConfig, adapt, read_corpus, train_files
from feedback_nlp.adapting import DEFAULT_WEIGHT, THRESHOLD_FOLDS
from feedback_nlp.cli import main
from feedback_nlp.model_folder import sha256_file
from feedback_nlp.tables import TableWriter
from feedback_nlp.themes import THEME_IDS

from .conftest import DEFAULT_MODEL

# A convention the project's corpus does not have: this team codes complaints about food as
# access (the corpus gives food no theme), and says so in words the corpus rarely uses.
_FOOD = ["The food", "Hospital meals", "The sandwiches", "Lunch on the ward", "The tea trolley", "Breakfast",
         "The hot drinks", "Supper", "The menu choices", "Dinner"]
_COMPLAINT = ["was cold", "came very late", "was tasteless", "ran out", "was forgotten", "was inedible",
              "never arrived", "was stale"]


def _project_csv(corpus: pd.DataFrame, path):
    """Write a corpus table in the project's labelled format."""
    frame = pd.DataFrame({
        "text": corpus["text"],
        "question": corpus["question"],
        "themes": [";".join(t for t in THEME_IDS if row[t]) for _, row in corpus.iterrows()],
        "sentiment": corpus["sentiment"].fillna(""),
        "flags": corpus["flags"],
    })
    writer = TableWriter(path)
    writer.write(frame)
    writer.commit()
    return path


def _food_sheet(path, comments):
    pd.DataFrame({"text": comments, "question": "What could we do better?", "themes": "access",
                  "sentiment": "negative", "flags": ""}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def base_model(tmp_path_factory, small_corpus):
    """A model trained on a file in a folder of its own, its card naming that file."""
    folder = tmp_path_factory.mktemp("base")
    data = _project_csv(small_corpus, folder / "coded.csv")
    train_files([data], folder / "model", config=TrainingConfig(cv_folds=0))
    return folder / "model"


@pytest.fixture(scope="module")
def food_comments():
    comments = [f"{food} {complaint}." for food, complaint in product(_FOOD, _COMPLAINT)]
    return np.random.default_rng(0).permutation(comments).tolist()


@pytest.fixture(scope="module")
def adapted(base_model, food_comments, tmp_path_factory):
    folder = tmp_path_factory.mktemp("adapted")
    sheet = _food_sheet(folder / "review-1.csv", food_comments[:50])
    return adapt(base_model, [sheet], folder / "model", cv_folds=2), sheet


def test_adapting_learns_the_teams_convention(base_model, adapted, food_comments):
    from feedback_nlp import load

    held_out = food_comments[50:]
    before = np.mean(["access" in t.themes for t in load(base_model).tag_many(held_out)])
    after = np.mean(["access" in t.themes for t in adapted[0].tag_many(held_out)])
    assert after > before + 0.3 and after > 0.8


def test_card_records_the_base_model_the_sheets_and_the_settings(base_model, adapted):
    tagger, sheet = adapted
    record = tagger.card.adaptation
    base_card = json.loads((base_model / "model.json").read_text())
    assert record["base_model"] == {"path": base_model.as_posix(), "sha256": base_card["artefact"]["sha256"]}
    assert record["sheets"] == [{"path": sheet.as_posix(), "format": "project", "rows": 50,
                                 "sha256": sha256_file(sheet)}]
    assert record["settings"] == {"weight": DEFAULT_WEIGHT, "thresholds": "all", "cv_folds": 2, "seed": 0,
                                  "threshold_folds": THRESHOLD_FOLDS}
    assert tagger.card.params["threshold_folds"] == record["settings"]["threshold_folds"]
    assert record["before"]["rows"] == record["after"]["rows"] == 50
    assert record["after"]["theme_macro_f1"] >= record["before"]["theme_macro_f1"]
    # The base data and the sheet, as train records its files.
    assert [d["path"] for d in tagger.card.training_data] == [
        *(d["path"] for d in base_card["training_data"]), sheet.as_posix()
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_unknown_label_is_refused_naming_its_row_and_column(base_model, tmp_path, suffix):
    frame = pd.DataFrame({"text": ["Kind staff", "Parking", "Food was cold"],
                          "themes": ["confidence_and_trust", "access", "acess"],
                          "sentiment": ["positive", "negative", "negative"], "flags": ""})
    sheet = tmp_path / f"sheet{suffix}"
    writer = TableWriter(sheet)
    writer.write(frame)
    writer.commit()
    with pytest.raises(CorpusError, match=r"row 3, column 'themes': unknown themes id 'acess'"):
        adapt(base_model, [sheet], tmp_path / "out", cv_folds=0)
    assert not (tmp_path / "out").exists()


def test_a_missing_base_training_file_is_named(base_model, tmp_path, food_comments):
    copy = tmp_path / "elsewhere" / "model"
    shutil.copytree(base_model, copy)
    card = json.loads((copy / "model.json").read_text())
    card["training_data"][0]["path"] = "data/coded.csv"  # trained in a clone that is not here
    (copy / "model.json").write_text(json.dumps(card))
    sheet = _food_sheet(tmp_path / "sheet.csv", food_comments[:20])
    with pytest.raises(ModelError, match="training file data/coded.csv .*missing"):
        adapt(copy, [sheet], tmp_path / "out", cv_folds=0)


def test_an_adapted_model_is_not_adapted_again(adapted, tmp_path, food_comments):
    tagger, sheet = adapted
    folder = tmp_path / "adapted"
    tagger.save(folder)
    with pytest.raises(ModelError, match="itself adapted.*every round's sheets"):
        adapt(folder, [sheet], tmp_path / "out", cv_folds=0)


def test_too_few_reviewed_comments_for_the_folds_is_said(base_model, tmp_path, food_comments):
    sheet = _food_sheet(tmp_path / "sheet.csv", food_comments[:6])
    with pytest.raises(CorpusError, match="6 comments; at least 10 are needed for 5 folds"):
        adapt(base_model, [sheet], tmp_path / "out")


def test_cli_adapt_prints_before_and_after(base_model, tmp_path, food_comments, capsys):
    sheets = [_food_sheet(tmp_path / f"round{i}.csv", food_comments[i * 20:(i + 1) * 20]) for i in range(2)]
    args = ["adapt", "--model", str(base_model), "--out", str(tmp_path / "out"), "--cv-folds", "2"]
    assert main([*args, *(a for s in sheets for a in ("--data", str(s)))]) == 0
    out = capsys.readouterr().out
    assert "on the 40 reviewed comments of 2 sheet(s)" in out
    assert "before theme macro F1" in out and "after  theme macro F1" in out


def test_cli_evaluate_by_gives_figures_per_group(write_csv, capsys):
    path = write_csv(
        "text,themes,sentiment,service\n"
        "Kind nurses,confidence_and_trust,positive,ward 1\n"
        "Parking was awful,access,negative,ward 2\n"
        "Waited three hours,access,negative,ward 2\n"
    )
    assert main(["evaluate", "--data", str(path), "--by", "service", "--model", str(DEFAULT_MODEL)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("service") and [line.split()[:3] for line in lines[1:]] == [
        ["ward", "1", "1"], ["ward", "2", "2"]
    ]


def test_evaluate_by_an_absent_column_lists_the_columns(write_csv, capsys):
    path = write_csv("text,themes,sentiment\nKind nurses,confidence_and_trust,positive\n")
    assert main(["evaluate", "--data", str(path), "--by", "site"]) == 2
    assert "missing column(s) ['site']" in capsys.readouterr().err


@pytest.mark.slow
def test_the_shipped_default_model_adapts_from_a_clone(qdc_path, tmp_path, food_comments):
    sheet = _food_sheet(tmp_path / "sheet.csv", food_comments[:40])
    tagger = adapt(None, [sheet], tmp_path / "ours", cv_folds=0)
    assert [d["path"] for d in tagger.card.training_data][:2] == ["data/corpus.csv", "../shared/data/qdc_v6_dev.csv"]
    assert read_corpus(sheet)["text"].tolist()[:1] == food_comments[:1]
