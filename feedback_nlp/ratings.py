"""The survey rating a comment explains (the Friends and Family Test's 1 very good ... 5 very poor,
6 don't know): read as text, checked against the scale a model was trained on, and turned into
features.

The rating is a feature, never a label: "Good", then "what could be better: parking", is a
negative comment. A model learns its scale from its training data (the values seen, in
``CommentModel.rating_scale_`` and the card's ``rating_scale``); a rating outside that scale is
refused with its row, never mapped to a nearby value.
"""

from __future__ import annotations

import numbers
import re

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .exceptions import RatingError
from .features import QUESTION_KINDS


# A whole number as a spreadsheet writes it: "3", "3.0" (ASCII digits only).
_WHOLE_NUMBER = re.compile(r"([0-9]+)(?:\.0*)?")


def normalise_ratings(values) -> np.ndarray:
    """Ratings as text, as a spreadsheet shows them: ``1``, ``1.0`` and ``" 1 "`` all become ``"1"``;
    missing and blank cells become ``None``. Other text is kept, stripped, to be checked."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if pd.api.types.is_scalar(value) and pd.isna(value):
            out[i] = None
        elif isinstance(value, numbers.Number) and not isinstance(value, bool) and float(value).is_integer():
            out[i] = str(int(value))
        else:
            text = str(value).strip()
            whole = _WHOLE_NUMBER.fullmatch(text)
            out[i] = None if not text else (str(int(whole.group(1))) if whole else text)
    return out


def scale_of(ratings) -> tuple[str, ...]:
    """The distinct ratings seen, in numeric order where they are numbers."""
    seen = {r for r in ratings if r is not None}
    return tuple(sorted(seen, key=lambda r: (0, float(r), r) if _is_number(r) else (1, 0.0, r)))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_ratings(ratings: np.ndarray, scale: tuple[str, ...], rows=None) -> None:
    """Refuse the first rating not on ``scale``, naming its row (``rows[i]``, else its position).

    Raises
    ------
    RatingError
    """
    allowed = set(scale)
    for i, rating in enumerate(ratings):
        if rating is not None and rating not in allowed:
            where = f"row {rows[i]}" if rows is not None else f"comment {i}"
            if not scale:
                raise RatingError(f"{where}: rating {rating!r} given, but this model was trained without ratings")
            raise RatingError(
                f"{where}: rating {rating!r} is not on the model's scale {list(scale)}; "
                "correct it, leave it blank, or tag without the rating column"
            )


def rating_features(ratings, kinds, scale: tuple[str, ...], crossed: bool) -> sp.csr_matrix:
    """One column per rating on ``scale`` and, when ``crossed``, one per rating and question kind
    ("5" answering "What was good?" is not "5" answering "Why?"); a row without a rating is zeros.
    """
    n, width = len(ratings), len(scale)
    index = {r: i for i, r in enumerate(scale)}
    kind_index = {k: i for i, k in enumerate(QUESTION_KINDS)}
    rows, columns = [], []
    for row, (rating, kind) in enumerate(zip(ratings, kinds)):
        i = index.get(rating)
        if i is None:
            continue
        rows.append(row)
        columns.append(i)
        if crossed:
            rows.append(row)
            columns.append(width + i * len(QUESTION_KINDS) + kind_index[kind])
    shape = (n, width * (1 + len(QUESTION_KINDS)) if crossed else width)
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=shape)
