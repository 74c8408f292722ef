import json
import re
import subprocess
import sys

import pandas as pd
import pytest

import feedback_nlp.cli
from feedback_nlp.cli import main
from feedback_nlp.tagging import RESULT_COLUMNS
from feedback_nlp.themes import THEME_IDS

from .conftest import EXAMPLES_PATH, REPO


@pytest.fixture(scope="module")
def model_dir(tagger, tmp_path_factory):
    return tagger.save(tmp_path_factory.mktemp("cli") / "model")


@pytest.fixture(scope="module")
def labelled_file(small_corpus, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "labelled.csv"
    table = small_corpus.head(300).copy()
    table["themes"] = [";".join(t for t in THEME_IDS if row[t]) for _, row in table.iterrows()]
    table[["text", "themes", "sentiment", "flags", "question"]].to_csv(path, index=False)
    return path


def test_tag_keeps_every_row_and_column_and_adds_tags(model_dir, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert main(["tag", str(EXAMPLES_PATH), "-o", str(out), "--model", str(model_dir),
                 "--question-column", "question"]) == 0
    source = pd.read_csv(EXAMPLES_PATH, dtype=str, keep_default_na=False)
    tagged = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(tagged.columns) == [*source.columns, *RESULT_COLUMNS]
    pd.testing.assert_frame_equal(tagged[source.columns], source)
    assert set(tagged["sentiment"]) <= {"positive", "neutral", "negative"}
    assert "tagged 20 rows of column 'comment'" in capsys.readouterr().err


def test_tag_writes_excel(model_dir, tmp_path):
    out = tmp_path / "out.xlsx"
    assert main(["tag", str(EXAMPLES_PATH), "-o", str(out), "--model", str(model_dir), "-q"]) == 0
    assert len(pd.read_excel(out)) == 20


@pytest.mark.parametrize(
    "header, match",
    [
        ("id,answer_text\n1,hi\n", r"found no column among \['id', 'answer_text'\]"),
        ("comment,text\nhi,hi\n", r"several columns \(\['comment', 'text'\]\)"),
    ],
)
def test_tag_without_a_clear_comment_column_lists_the_columns(model_dir, write_csv, tmp_path, capsys, header, match):
    out = tmp_path / "out.csv"
    assert main(["tag", str(write_csv(header)), "-o", str(out), "--model", str(model_dir)]) == 2
    err = capsys.readouterr().err
    assert "--column" in err
    assert re.search(match, err)
    assert not out.exists()


def test_tag_refuses_unreadable_input(model_dir, tmp_path, capsys):
    bad = tmp_path / "in.csv"
    bad.write_bytes(b"comment\nok\n\x81\n")
    assert main(["tag", str(bad), "-o", str(tmp_path / "o.csv"), "--model", str(model_dir)]) == 2
    assert "byte 11 is not valid UTF-8" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_train_then_evaluate(labelled_file, tmp_path, capsys):
    model = tmp_path / "m"
    assert main(["train", "--data", str(labelled_file), "--out", str(model), "--cv-folds", "2"]) == 0
    assert "cross-validated (2 folds)" in capsys.readouterr().out
    card = json.loads((model / "model.json").read_text())
    assert card["training_data"][0]["format"] == "project"
    assert main(["evaluate", "--data", str(labelled_file), "--model", str(model), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["rows"] == 300
    assert set(scores) >= {"themes", "theme_macro_f1", "theme_micro_f1", "sentiment_accuracy",
                           "sentiment_macro_f1"}


def test_evaluate_prints_a_table(labelled_file, model_dir, capsys):
    assert main(["evaluate", "--data", str(labelled_file), "--model", str(model_dir)]) == 0
    out = capsys.readouterr().out
    assert "leading_voice" in out and "theme macro F1" in out


@pytest.mark.parametrize("script", ["train.py", "evaluate.py"])
def test_scripts_are_thin_wrappers_of_the_cli(script):
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / script), "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "--data" in result.stdout


def test_a_setting_out_of_range_is_one_line_and_a_bug_keeps_its_traceback(tmp_path, capsys, monkeypatch):
    train = ["train", "--data", str(REPO / "data" / "corpus.csv"), "--out", str(tmp_path / "m")]
    assert main([*train, "--cv-folds", "1"]) == 2
    assert capsys.readouterr().err == (
        "feedback-nlp: error: cv_folds must be 0 (no cross-validation) or a whole number >= 2; got 1\n"
    )
    # Only the package's own errors become a message: anything else is a bug, and shows as one.
    def broken(*args, **kwargs):
        raise ValueError("a bug in the library")

    monkeypatch.setattr(feedback_nlp.cli, "train_files", broken)
    with pytest.raises(ValueError, match="a bug in the library"):
        main(train)


@pytest.mark.parametrize(("option", "message"), [
    (["--seed", "-1"], "random_state (the seed) must be a whole number from 0 to 2**32 - 1; got -1"),
    (["--cv-folds", "100000"], "at least 100000 of each are needed"),
])
def test_a_training_setting_the_data_cannot_take_is_one_line(tmp_path, capsys, option, message):
    assert main(["train", "--data", str(REPO / "data" / "corpus.csv"), "--out", str(tmp_path / "m"), *option]) == 2
    err = capsys.readouterr().err
    assert err.startswith("feedback-nlp: error: ") and message in err and err.count("\n") == 1
