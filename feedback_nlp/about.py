"""What is installed: the package version and the default model's id (``feedback-nlp --version``)."""

from __future__ import annotations

import argparse
from os import PathLike
from pathlib import Path

from . import __version__, tagging
from .exceptions import ModelError
from .model_folder import read_card

ID_DIGITS = 12


def model_id(directory: str | PathLike) -> str:
    """A model folder's id from its card alone (the model is not loaded): the first 12 hex digits
    of its artefact's sha256 and its creation date, as in ``724cebcd9805 created 2026-12-01``.

    Raises
    ------
    ModelError
        The folder has no readable card.
    """
    card = read_card(directory)
    sha256 = (card.artefact or {}).get("sha256") or "unknown"
    created = card.created[:10]
    return f"{sha256[:ID_DIGITS]} created {created}"


def version_line() -> str:
    """``feedback-nlp <version> (default model <id>)``; says so, rather than failing, when this
    installation has no default model or its card cannot be read."""
    directory = Path(tagging.DEFAULT_MODEL_DIR)
    if not directory.is_dir():
        return f"feedback-nlp {__version__} (no default model: no folder at {directory})"
    try:
        return f"feedback-nlp {__version__} (default model {model_id(directory)})"
    except ModelError as err:
        return f"feedback-nlp {__version__} (default model unreadable: {err})"


class VersionAction(argparse.Action):
    """``--version``: print :func:`version_line` and exit; the card is read only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_line())
        parser.exit()
