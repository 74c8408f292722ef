"""The package's exceptions: each message names what was expected, what was found, and where."""

from __future__ import annotations


class FeedbackNLPError(Exception):
    """Base class of every error this package raises on purpose."""


class _CellError(FeedbackNLPError, ValueError):
    """An error in one file, and where known one row and column of it, named in the message."""

    def __init__(self, path, problem: str, *, row: int | None = None, column: str | None = None):
        self.path, self.row, self.column = str(path), row, column
        where = [self.path]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {problem}")


class CorpusError(_CellError):
    """A labelled data file cannot be read: bad format, unknown label, missing column."""


class ReportError(_CellError):
    """A tagged file or an actions file cannot be reported on: a missing column, an unknown
    theme or sentiment, a date that cannot be read; the message names the file, row and column."""


class ColumnError(FeedbackNLPError, ValueError):
    """The text column of a table to tag is missing or ambiguous."""


class InputFileError(FeedbackNLPError, ValueError):
    """A file to tag cannot be read as a table."""


class OutputFileError(FeedbackNLPError, OSError):
    """An output file or folder cannot be written: no permission, a full disk, a bad path."""


class ModelError(FeedbackNLPError, ValueError):
    """A model folder is missing, incomplete, or does not match its model card."""


class SettingError(FeedbackNLPError, ValueError):
    """An argument or setting is outside what it can be (a fold count, a weight, a name)."""

    def __init__(self, name: str, expected: str, value):
        self.name, self.expected, self.value = name, expected, value
        super().__init__(f"{name} must be {expected}; got {value!r}")


class RatingError(FeedbackNLPError, ValueError):
    """A survey rating is not on the scale the model was trained on; the message names its row."""


class RoutesError(FeedbackNLPError, ValueError):
    """A routing rules file cannot be used: missing, not TOML, or a key or value that is wrong."""

    def __init__(self, path, problem: str, *, line: int | None = None):
        self.path, self.line = str(path), line
        where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {problem}")


class EmptyTextWarning(UserWarning):
    """Some labelled rows have no text; they are kept and reported, never dropped in silence."""
