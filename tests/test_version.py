"""The version, where the default model is found, and `feedback-nlp --version`."""

import json
from importlib import metadata

import pytest

import feedback_nlp
from feedback_nlp import about, tagging
from feedback_nlp.cli import main
from feedback_nlp.model_folder import library_versions, read_card

from .conftest import DEFAULT_MODEL, REPO


def test_version_is_the_installed_metadata_and_goes_into_model_cards():
    assert feedback_nlp.__version__ == metadata.version("feedback_nlp")
    assert library_versions()["feedback_nlp"] == feedback_nlp.__version__


def test_default_model_of_a_clone_is_its_models_default():
    # In a wheel the build puts it at feedback_nlp/_models/default (tests/test_wheel.py checks).
    assert not (REPO / "feedback_nlp" / "_models").exists(), "models/default is the one copy"
    assert tagging.DEFAULT_MODEL_DIR == DEFAULT_MODEL


def test_version_names_the_package_and_the_default_model_from_its_card(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    card = read_card(DEFAULT_MODEL)
    sha256, created = card.artefact["sha256"][:12], card.created[:10]
    assert capsys.readouterr().out == (
        f"feedback-nlp {feedback_nlp.__version__} (default model {sha256} created {created})\n"
    )


def test_version_reads_the_card_only(tmp_path, monkeypatch):
    # No artefact at all: the line still comes from the card, so the model is never loaded.
    card = json.loads((DEFAULT_MODEL / "model.json").read_text(encoding="utf-8"))
    card |= {"created": "2027-01-02T03:04:05+00:00", "artefact": {"file": "model.skops", "sha256": "ab" * 32}}
    (tmp_path / "model.json").write_text(json.dumps(card), encoding="utf-8")
    monkeypatch.setattr(tagging, "DEFAULT_MODEL_DIR", tmp_path)
    assert about.version_line().endswith("(default model abababababab created 2027-01-02)")


def test_version_says_when_there_is_no_default_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tagging, "DEFAULT_MODEL_DIR", tmp_path / "missing")
    with pytest.raises(SystemExit):
        main(["--version"])
    out = capsys.readouterr().out
    assert out.startswith(f"feedback-nlp {feedback_nlp.__version__} (no default model: no folder at ")
    monkeypatch.setattr(tagging, "DEFAULT_MODEL_DIR", tmp_path)  # a folder without a card
    assert "(default model unreadable: " in about.version_line()
