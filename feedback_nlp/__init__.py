"""feedback_nlp: tag patient feedback with five commitment themes and sentiment, for routing.

Quick start::

    import feedback_nlp
    tag = feedback_nlp.tag("The nurses were lovely but parking was a nightmare")
    tag.themes      # ('confidence_and_trust', 'access')
    feedback_nlp.tag_many(["Kind staff", "Parking was a nightmare"])  # a list: one Tag each

For control, load a model once with :func:`load` and use the :class:`Tagger`; route tags to
teams with :func:`load_routes`; quote comments safely with :func:`redact`; turn a tagged file
into a board's report with :func:`report`. Teach a model your own comments: :func:`review`
picks the comments worth correcting, :func:`adapt` learns the corrections.
"""

from importlib import metadata as _metadata

try:  # pyproject.toml is the one place the version is written; the installed metadata carries it
    __version__ = _metadata.version("feedback_nlp")
except _metadata.PackageNotFoundError:  # code run from a clone that was never installed
    __version__ = "0+unknown"

from .adapting import adapt
from .corpus import read_corpus
from .exceptions import (
    ColumnError,
    CorpusError,
    EmptyTextWarning,
    FeedbackNLPError,
    InputFileError,
    ModelError,
    OutputFileError,
    RatingError,
    ReportError,
    RoutesError,
    SettingError,
)
from .flags import redact
from .metrics import Scores
from .model import CommentModel
from .model_folder import ModelCard
from .reporting import Report, report
from .reviewing import review
from .routing import Route, Router, load_routes
from .tagging import Tag, Tagger, load, tag, tag_many
from .themes import FLAGS, SENTIMENTS, THEME_IDS, THEMES, Theme
from .training import TrainingConfig, cross_validate, train, train_files

__all__ = [
    "FLAGS",
    "SENTIMENTS",
    "THEMES",
    "THEME_IDS",
    "ColumnError",
    "CommentModel",
    "CorpusError",
    "EmptyTextWarning",
    "FeedbackNLPError",
    "InputFileError",
    "ModelCard",
    "ModelError",
    "OutputFileError",
    "RatingError",
    "Report",
    "ReportError",
    "Route",
    "Router",
    "RoutesError",
    "SettingError",
    "Scores",
    "Tag",
    "Tagger",
    "Theme",
    "TrainingConfig",
    "adapt",
    "cross_validate",
    "load",
    "load_routes",
    "read_corpus",
    "redact",
    "report",
    "review",
    "tag",
    "tag_many",
    "train",
    "train_files",
]
