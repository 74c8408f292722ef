"""The model folder: the fitted model and its card, described by one type, :class:`ModelCard`.

A model folder holds ``model.skops`` (the fitted :class:`~feedback_nlp.model.CommentModel`) and
``model.json``, its card: the settings that build the model (its ``get_params()``), labels,
creation time, library versions, training files with their sha256, metrics, and the sha256 of
the artefact. :func:`save_model` is the one writer and :func:`read_card` / :func:`load_model`
the one reader; the card a training run returns is the card written and read back.

Loading checks the card, then reads the artefact with skops, which builds only the types it is
told to trust (scikit-learn's, numpy's, and this library's :data:`TRUSTED_TYPES`) and refuses
any other before creating it: unlike a pickle, a crafted model file cannot run code. The
artefact must lie in the folder itself. A folder is written whole or not at all: into a
temporary folder beside it, moved into place when complete.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path

import numpy as np
import scipy
import skops
import skops.io
import sklearn

from .embeddings import ENCODERS, encoder_versions
from .exceptions import ModelError, OutputFileError
from .model import CommentModel
from .tables import current_umask
from .themes import FLAGS, SENTIMENTS, THEME_IDS

ARTEFACT = "model.skops"
CARD = "model.json"
# Bumped when the artefact's or the card's layout changes, so that an old folder is refused,
# not misread. 5: skops instead of a joblib pickle. 6: the card records the model's own
# settings (``params``) and the NER model of the personal-data flag (``ner``). 7: the card lists
# every file of safeguarding examples, and the safeguarding head reads no question features.
FORMAT_VERSION = 7
# This library's own classes in a model file; skops trusts scikit-learn's and numpy's itself.
TRUSTED_TYPES = (
    "feedback_nlp.model.CommentModel",
    "feedback_nlp.features.TextFeatures",
    "feedback_nlp.embeddings.SentenceEmbeddings",
)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ModelCard:
    """What a model is and what it was made from: ``model.json``, field for field.

    Values are kept as JSON carries them (lists as tuples at the top level), so the card a
    training run returns equals the card :func:`read_card` reads back from its folder. Frozen at
    the top level only: its dict fields are plain dicts, not to be changed in place (use
    ``dataclasses.replace``); so it cannot be hashed.

    Attributes
    ----------
    params : dict
        The model's ``get_params()``: :meth:`build_model` builds the same model from it.
    thresholds : dict of str to float
        The score each theme must reach, keyed by theme id.
    safeguarding_threshold : float or None
        The safeguarding head's threshold; None when the model has no head.
    rating_scale : tuple of str
        The survey ratings the model knows; any other is refused when tagging.
    training_data : tuple of dict
        Each labelled file trained on: ``path``, ``format``, ``rows``, ``sha256``.
    safeguarding_data : tuple of dict
        Each file of safeguarding-only examples the head learnt from (``path``, ``rows``, ``sha256``).
    training_rows : dict
        Counts of the rows trained on, per theme and label.
    embeddings : dict or None
        The sentence encoder and the versions of its packages, when the model has one.
    ner : str or None
        The spaCy model whose named entities the personal-data flag also reads (for example
        ``"en_core_web_sm"``); None: the flag's own rules only. Never "whatever is installed".
    fit_seconds : float or None
        How long the final fit took.
    cv_metrics : dict or None
        Cross-validated figures (``folds``, ``seed`` and the scores), when they were measured.
    adaptation : dict or None
        For a model adapted to review sheets: the base model, the sheets, settings and figures.
    format_version, labels, versions, created :
        The folder's format, the label set, the library versions and the creation time.
    artefact : dict or None
        The artefact's ``file`` and ``sha256``; set when the folder is saved.
    """

    params: dict
    thresholds: dict
    safeguarding_threshold: float | None
    rating_scale: tuple[str, ...]
    training_data: tuple[dict, ...] = ()
    safeguarding_data: tuple[dict, ...] = ()
    training_rows: dict = field(default_factory=dict)
    embeddings: dict | None = None
    ner: str | None = None
    fit_seconds: float | None = None
    cv_metrics: dict | None = None
    adaptation: dict | None = None
    format_version: int = FORMAT_VERSION
    labels: dict = field(default_factory=lambda: label_set())
    versions: dict = field(default_factory=lambda: library_versions())
    created: str = field(default_factory=_now)
    artefact: dict | None = None

    def __post_init__(self):
        # As JSON carries it: numpy numbers become plain ones, tuples lists (tuples at the top).
        for name, value in dataclasses.asdict(self).items():
            value = json.loads(json.dumps(value, default=_plain))
            object.__setattr__(self, name, tuple(value) if isinstance(value, list) else value)

    def build_model(self) -> CommentModel:
        """An unfitted model with this card's settings."""
        return CommentModel(**self.params)

    def to_json(self) -> str:
        """The card as ``model.json`` holds it."""
        return json.dumps(dataclasses.asdict(self), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict, where: str) -> ModelCard:
        """A card from the object of a ``model.json`` at ``where``, refusing one of another shape.

        Every field the writer writes must be there: none is filled in with today's values, which
        would let a card without ``versions`` pass the checks that read them.

        Raises
        ------
        ModelError
            A field is missing, unknown, or of the wrong JSON type, or ``params`` are not the
            model's parameters.
        """
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if n not in data]
        unknown = [k for k in data if k not in names]
        if missing or unknown:
            raise ModelError(f"{where}: not a model card of this library (missing {missing}, unknown {unknown})")
        for name, kinds in _JSON_KINDS.items():
            if not isinstance(data[name], kinds):
                raise ModelError(f"{where}: {name!r} should be {_KIND_NAMES[kinds]}, found {data[name]!r}")
        expected = sorted(CommentModel().get_params())
        if sorted(data["params"]) != expected:
            raise ModelError(f"{where}: 'params' should hold the model's parameters {expected}, found {sorted(data['params'])}")
        return cls(**data)


def _plain(value):
    """JSON for the numpy numbers a card may be given."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"a model card holds JSON values only; got {type(value).__name__}")


_JSON_KINDS = {
    "params": dict, "thresholds": dict, "rating_scale": list, "training_data": list,
    "training_rows": dict, "labels": dict, "versions": dict, "format_version": int, "created": str,
    "safeguarding_data": list, "embeddings": (dict, type(None)), "ner": (str, type(None)),
    "cv_metrics": (dict, type(None)), "adaptation": (dict, type(None)), "artefact": (dict, type(None)),
    "safeguarding_threshold": (float, int, type(None)), "fit_seconds": (float, int, type(None)),
}
_KIND_NAMES = {
    dict: "an object", list: "an array", int: "a whole number", str: "a string",
    (dict, type(None)): "an object or null", (str, type(None)): "a string or null",
    (float, int, type(None)): "a number or null",
}


def sha256_file(path: str | PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions that decide whether a saved model loads and behaves the same."""
    from . import __version__

    return {
        "feedback_nlp": __version__,
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "skops": skops.__version__,
    }


def label_set() -> dict[str, list[str]]:
    """The labels a model is built for, as recorded in its card."""
    return {"themes": list(THEME_IDS), "sentiments": list(SENTIMENTS), "flags": list(FLAGS)}


def check_model_folder(directory: str | PathLike, *, overwrite: bool = False) -> Path:
    """Refuse, before any work, a model folder that cannot be written or would replace another.

    Raises
    ------
    OutputFileError
        ``directory`` is a file, a folder that is not empty (unless ``overwrite``, and then only
        a model folder, with a card), or its parent cannot be created or written to.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputFileError(f"{directory}: is a file, not a model folder")
    if directory.is_dir() and any(directory.iterdir()):
        if not overwrite:
            raise OutputFileError(
                f"{directory}: the folder exists and is not empty; choose a new folder, or pass "
                "--overwrite (overwrite=True) to replace the model in it"
            )
        if not (directory / CARD).is_file():  # --overwrite replaces a model, never other work
            raise OutputFileError(
                f"{directory}: not a model folder (no {CARD}); refusing to replace it, even with --overwrite"
            )
    parent = directory.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputFileError(f"{parent}: cannot create it ({err.strerror or err})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputFileError(f"{parent}: no permission to write a model folder here")
    return directory


def save_model(model: CommentModel, card: ModelCard, directory: str | PathLike, *, overwrite: bool = False) -> ModelCard:
    """Write ``model.skops`` and ``model.json`` into the folder ``directory``, whole or not at all.

    Returns the card as written: ``card`` with the artefact's file name and sha256, which
    :func:`load_model` checks. An existing non-empty folder is replaced only with ``overwrite``.

    Raises
    ------
    OutputFileError
        See :func:`check_model_folder`; or the disk filled or failed while writing, in which
        case nothing is left behind and an existing folder is unchanged.
    """
    directory = check_model_folder(directory, overwrite=overwrite)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.absolute().parent))
    try:
        artefact = staging / ARTEFACT
        skops.io.dump(model, artefact, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        card = dataclasses.replace(card, artefact={"file": ARTEFACT, "sha256": sha256_file(artefact)})
        (staging / CARD).write_text(card.to_json(), encoding="utf-8")
        os.chmod(staging, 0o777 & ~current_umask())
        if directory.exists():
            # Out of the way first, removed only once the new folder is in place, put back if not.
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=staging.parent))
            os.replace(directory, old / directory.name)
            try:
                os.replace(staging, directory)
            except BaseException:
                os.replace(old / directory.name, directory)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, directory)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputFileError(f"{directory}: cannot write the model ({err.strerror or err}); nothing was written") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return card


def read_card(directory: str | PathLike) -> ModelCard:
    """Read a model folder's card, refusing a missing, unreadable or other-format one.

    Raises
    ------
    ModelError
        No card, not UTF-8 JSON, another format version (retrain), or not of this shape.
    """
    path = Path(directory) / CARD
    if not path.is_file():
        raise ModelError(f"{directory}: no model card {CARD}; is this a feedback_nlp model folder?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelError(f"{path}: not valid UTF-8 JSON ({err})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path}: expected a JSON object (a model card), found {type(data).__name__}")
    if data.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{directory}: refusing to load: model format {data.get('format_version')!r}, this "
            f"library reads {FORMAT_VERSION}: retrain it"
        )
    return ModelCard.from_dict(data, str(path))


def _encoder_problems(embeddings: dict | None) -> list[str]:
    """Why the sentence encoder a card names cannot be used as it was trained, if it cannot."""
    if not embeddings:
        return []
    name = embeddings.get("encoder")
    try:
        installed = encoder_versions(name)
    except ValueError as err:  # ModelError too: a package is missing
        return [str(err)]
    # Other weights would give other vectors, which the trained heads would misread.
    distribution = ENCODERS[name].distribution
    trained = embeddings.get("versions", {}).get(distribution)
    if trained != installed[distribution]:
        running = installed[distribution]
        return [f"trained with {distribution} {trained}, running {running}: install that version or retrain"]
    return []


def load_model(directory: str | PathLike) -> tuple[CommentModel, ModelCard]:
    """Check a model folder against its card, then load it.

    Raises
    ------
    ModelError
        The card is missing, was made for other labels, another format or another
        scikit-learn, needs a sentence encoder that is not installed, or the artefact's sha256
        differs from the card's.
    """
    directory = Path(directory)
    card = read_card(directory)
    problems = []
    if card.labels != label_set():
        problems.append(f"labels {card.labels} differ from this library's {label_set()}")
    built_with = card.versions.get("scikit-learn")
    if built_with != sklearn.__version__:
        problems.append(
            f"built with scikit-learn {built_with}, running {sklearn.__version__}: "
            "install that version or retrain"
        )
    problems.extend(_encoder_problems(card.embeddings))
    name = (card.artefact or {}).get("file", ARTEFACT)
    artefact = directory / str(name)
    if not isinstance(name, str) or Path(name).name != name or name in (".", "..") or artefact.is_symlink():
        problems.append(f"artefact {name!r} is not a file name in the folder (nor a link out of it)")
    elif not artefact.is_file():
        problems.append(f"artefact {artefact.name} is missing")
    elif sha256_file(artefact) != (card.artefact or {}).get("sha256"):
        problems.append(f"{artefact.name} does not match the sha256 in {CARD}")
    if problems:
        raise ModelError(f"{directory}: refusing to load: " + "; ".join(problems))
    untrusted = [t for t in _types_in(artefact) if t not in TRUSTED_TYPES]
    if untrusted:
        raise ModelError(
            f"{artefact}: refusing to load: it holds types this library does not trust, which could "
            f"run code: {untrusted}"
        )
    try:
        return skops.io.load(artefact, trusted=list(TRUSTED_TYPES)), card
    except Exception as err:  # skops raises many kinds for a file that is not what it says
        raise ModelError(f"{artefact}: cannot read the model ({type(err).__name__}: {err})") from None


def _types_in(artefact: Path) -> list[str]:
    """The types in a skops file that skops does not trust by itself, read without building any."""
    try:
        return skops.io.get_untrusted_types(file=artefact)
    except Exception as err:  # not a zip, no schema: not a skops file
        raise ModelError(f"{artefact}: not a model file ({type(err).__name__}: {err})") from None
