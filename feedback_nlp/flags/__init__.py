"""The two flags: safeguarding (risk of harm to a person) and personal data (something identifying).

Both are rules, one module each: :mod:`.safeguarding` (written in the language of
:mod:`.rule_language`) and :mod:`.personal` (with redaction). :func:`detect_flags` runs both over
a batch: Arrow scans the whole batch in C++ with each detector's prefilter, a regular expression
that cheaply rules out the comments that cannot carry its flag, and only the remaining
candidates reach spaCy (safeguarding) or phonenumbers (phones). spaCy is imported on first use,
so importing the package stays fast.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..features import is_missing
from ..themes import FLAGS
from .personal import (
    COMMON_WORDS_PATH,
    PERSONAL_GATE,
    PERSONAL_KINDS,
    PersonalItem,
    common_words,
    find_personal_data,
    ner,
    redact,
)
from .safeguarding import CUES, RULES, SafeguardingMatch, SafeguardingRules, cue_sentences, is_safeguarding

__all__ = [
    "COMMON_WORDS_PATH",
    "PERSONAL_KINDS",
    "PersonalItem",
    "SafeguardingMatch",
    "SafeguardingRules",
    "common_words",
    "detect_flags",
    "find_personal_data",
    "is_safeguarding",
    "redact",
]

# Batches repeat texts ("Nothing", "Very good"); the cache keeps the recent distinct answers.
# Small, because few flag candidates repeat (16% on the benchmark's comments; 10,000 entries
# keep 94% of the hits that 200,000 do) and each entry holds a whole comment: at 200,000 entries
# the cache was still filling at a million rows and grew each worker by about 40 MB by four million.
_CACHE_SIZE = 10_000


@lru_cache(maxsize=_CACHE_SIZE)
def _flags_of(text: str, may_safeguard: bool, may_identify: bool) -> tuple[str, ...]:
    """The flags of one comment that passed (or not) each flag's prefilter."""
    flags = []
    if may_safeguard and RULES.flag(cue_sentences(text)):
        flags.append("safeguarding")
    if may_identify and find_personal_data(text):
        flags.append("personal_data")
    return tuple(flags)


def _batch_matches(texts: pa.Array, pattern: str) -> np.ndarray:
    """Which texts (an Arrow string array, nulls allowed) the RE2 ``pattern`` matches somewhere."""
    return pc.match_substring_regex(texts, pattern).fill_null(False).to_numpy(zero_copy_only=False)


def detect_flags(texts) -> list[tuple[str, ...]]:
    """Raise the safeguarding and personal-data flags on a batch of comments.

    Parameters
    ----------
    texts : sequence of str or None
        The comments (a list, a numpy object array, a pandas column's values); None, NaN and
        ``pd.NA`` are allowed.

    Returns
    -------
    list of tuple of str
        One tuple per comment, in input order, holding the ids of ``FLAGS`` that apply, in
        ``FLAGS`` order; ``()`` for none and for a missing or blank comment.

    Examples
    --------
    >>> detect_flags(["He pushed me and I'm scared to go home", "Lovely staff", None])
    [('safeguarding',), (), ()]
    """
    texts = [None if is_missing(t) or not str(t).strip() else str(t) for t in texts]
    column = pa.array(texts, type=pa.string())
    may_safeguard = _batch_matches(pc.utf8_lower(column), CUES.pattern)
    # A spaCy NER model can find a name anywhere, so with one every comment is searched.
    may_identify = np.ones(len(texts), bool) if ner() is not None else _batch_matches(column, PERSONAL_GATE)
    return [
        _flags_of(t, bool(s), bool(p)) if t is not None and (s or p) else ()
        for t, s, p in zip(texts, may_safeguard, may_identify)
    ]


assert FLAGS == ("safeguarding", "personal_data")  # the order _flags_of builds
