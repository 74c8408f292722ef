"""A model folder is data, not code: crafted folders are refused before anything in them runs."""

import dataclasses
import json
import pickle
import shutil
from types import SimpleNamespace

import pytest
import skops.io

from feedback_nlp import CommentModel, ModelError, OutputFileError, TrainingConfig, load, train, train_files
from feedback_nlp.flags import personal, read_flags
from feedback_nlp.model_folder import ARTEFACT, CARD, sha256_file

from .conftest import DEFAULT_MODEL

MARKER = "feedback_nlp_test_model_code_ran"


class RunsCodeWhenBuilt:
    """Stands for an attacker's class: building it (unpickling or setting its state) leaves a mark."""

    def __init__(self, marker):
        self.marker = marker

    def __setstate__(self, state):
        open(state["marker"], "w").close()

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def crafted(tmp_path):
    """A copy of the default model folder whose artefact the test replaces, card sha updated."""
    folder = tmp_path / "evil"
    shutil.copytree(DEFAULT_MODEL, folder)

    def with_artefact(write) -> tuple:
        marker = tmp_path / MARKER
        write(folder / ARTEFACT, marker)
        card = json.loads((folder / CARD).read_text())
        card["artefact"]["sha256"] = sha256_file(folder / ARTEFACT)
        (folder / CARD).write_text(json.dumps(card))
        return folder, marker

    return with_artefact


def test_a_pickle_with_a_matching_sha256_is_refused_and_does_not_run(crafted):
    folder, marker = crafted(lambda path, marker: path.write_bytes(pickle.dumps(RunsCodeWhenBuilt(str(marker)))))
    with pytest.raises(ModelError, match="not a model file"):
        load(folder)
    assert not marker.exists()


def test_a_skops_file_holding_an_untrusted_type_is_refused_before_it_is_built(crafted):
    folder, marker = crafted(lambda path, marker: skops.io.dump(RunsCodeWhenBuilt(str(marker)), path))
    with pytest.raises(ModelError, match=r"types this library does not trust.*RunsCodeWhenBuilt"):
        load(folder)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["../default/model.skops", "/etc/passwd", ".", 7, "link.skops"])
def test_the_artefact_must_be_a_file_in_the_folder(tmp_path, name):
    folder = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL, folder)
    (folder / "link.skops").symlink_to(DEFAULT_MODEL / ARTEFACT)  # a link out of the folder
    card = json.loads((folder / CARD).read_text())
    card["artefact"]["file"] = name
    (folder / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="is not a file name in the folder"):
        load(folder)


@pytest.mark.parametrize("text,problem", [("[]", "expected a JSON object"), ("{", "not valid UTF-8 JSON"),
                                          ('{"versions": {}}', "model format None, this library reads"),
                                          ('{"format_version": 7}', r"not a model card of this library \(missing \['params'")])
def test_a_malformed_card_is_one_clear_error(tmp_path, text, problem):
    folder = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL, folder)
    (folder / CARD).write_text(text)
    with pytest.raises(ModelError, match=problem):
        load(folder)


@pytest.mark.parametrize("field,value,problem", [
    ("versions", None, "'versions' should be an object, found None"),
    ("rating_scale", "1-7", "'rating_scale' should be an array"),
    ("ner", 3, "'ner' should be a string or null"),
    ("colour", "blue", r"unknown \['colour'\]"),
    ("artefact", None, "does not match the sha256"),
    ("params", {"theme_C": 4.0}, "'params' should hold the model's parameters"),
])
def test_a_card_field_of_the_wrong_shape_is_named(tmp_path, field, value, problem):
    folder = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL, folder)
    card = json.loads((folder / CARD).read_text())
    (folder / CARD).write_text(json.dumps(card | {field: value}))
    with pytest.raises(ModelError, match=problem):
        load(folder)


def test_a_saved_model_loads_back_with_the_card_it_returned(tagger, tmp_path):
    tagger.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    assert loaded.card == tagger.card  # memory equals disk
    texts = ["Kind staff", "Waited three hours for a bed", None]
    assert [t.theme_scores for t in loaded.tag_many(texts)] == [t.theme_scores for t in tagger.tag_many(texts)]


def test_saving_refuses_a_non_empty_folder_unless_told_and_replaces_only_a_model(tagger, tmp_path):
    folder = tmp_path / "m"
    tagger.save(folder)
    (folder / "notes.txt").write_text("an old note")
    with pytest.raises(OutputFileError, match="exists and is not empty.*--overwrite"):
        tagger.save(folder)
    tagger.save(folder, overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == [CARD, ARTEFACT]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no staging folder left
    work = tmp_path / "work"
    work.mkdir()
    (work / "thesis.tex").write_text("keep me")
    with pytest.raises(OutputFileError, match="not a model folder.*even with --overwrite"):
        tagger.save(work, overwrite=True)
    assert [p.name for p in work.iterdir()] == ["thesis.tex"]


def test_train_files_checks_out_before_reading_or_training(tmp_path, monkeypatch):
    import feedback_nlp.training as training

    monkeypatch.setattr(training, "read_corpus", lambda *a, **k: pytest.fail("read before --out was checked"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputFileError, match="is a file"):
        train_files(["any.csv"], tmp_path / "file")
    with pytest.raises(OutputFileError, match="exists and is not empty"):
        train_files(["any.csv"], DEFAULT_MODEL)


def test_evaluate_warns_when_the_data_is_a_training_file(tmp_path):
    from feedback_nlp import read_corpus

    from .conftest import CORPUS_PATH

    with pytest.warns(UserWarning, match="trained on this very file"):
        load().evaluate(read_corpus(CORPUS_PATH).head(50).assign())


def test_the_card_of_a_training_run_is_the_card_read_back(small_corpus, tmp_path):
    trained = train(small_corpus, TrainingConfig(cv_folds=0), model=CommentModel(theme_C=2.0))
    before = trained.card
    trained.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    assert loaded.card == dataclasses.replace(before, artefact=loaded.card.artefact)
    # The settings recorded are the ones that build the model.
    assert loaded.card.params == loaded.model.get_params() and loaded.card.params["theme_C"] == 2.0
    assert loaded.card.build_model().get_params() == loaded.model.get_params()


def test_a_card_naming_an_ner_model_that_is_not_installed_is_refused(tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL, folder)
    card = json.loads((folder / CARD).read_text())
    (folder / CARD).write_text(json.dumps(card | {"ner": "en_core_web_nonesuch"}))
    with pytest.raises(ModelError, match="spaCy NER model 'en_core_web_nonesuch' is not installed"):
        load(folder)


def test_names_are_found_by_ner_only_when_the_card_asks(monkeypatch):
    asked = []
    monkeypatch.setattr(personal, "load_ner", lambda name: asked.append(name) or (lambda text: SimpleNamespace(ents=())))
    text = "Thanks to the nurse on ward 4 for everything"
    read_flags([text])
    assert asked == []
    read_flags([text], ner="en_core_web_sm")
    assert asked == ["en_core_web_sm"]


def test_a_card_missing_a_field_is_refused_not_filled_in_with_todays_values(tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL, folder)
    card = json.loads((folder / CARD).read_text())
    del card["versions"]
    (folder / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"missing \['versions'\]"):
        load(folder)
