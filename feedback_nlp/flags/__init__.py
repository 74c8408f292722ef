"""The two flags: safeguarding (risk of harm to a person) and personal data (something identifying).

Both are rules, one module each: :mod:`.safeguarding` (written in the language of
:mod:`.rule_language`) and :mod:`.personal` (with redaction). :func:`detect_flags` runs both over
a batch: Arrow scans the whole batch in C++ with each detector's prefilter, a regular expression
that cheaply rules out the comments that cannot carry its flag, and only the remaining
candidates reach spaCy (safeguarding) or phonenumbers (phones). spaCy is imported on first use,
so importing the package stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..features import has_text
from ..themes import FLAGS
from .personal import (
    COMMON_WORDS_PATH,
    PERSONAL_GATE,
    PERSONAL_KINDS,
    PersonalItem,
    common_words,
    find_personal_data,
    load_ner,
    redact,
)
from .safeguarding import (
    CATEGORIES,
    CUE_PARTS,
    REASSURANCE_PARTS,
    RULES,
    SETTLED_GATE,
    Assessment,
    SafeguardingMatch,
    SafeguardingRules,
    cue_sentences,
    is_safeguarding,
    settled,
)

__all__ = [
    "CATEGORIES",
    "RULES",
    "COMMON_WORDS_PATH",
    "Assessment",
    "CommentFlags",
    "reassures",
    "reassuring",
    "PERSONAL_KINDS",
    "PersonalItem",
    "SafeguardingMatch",
    "SafeguardingRules",
    "common_words",
    "detect_flags",
    "read_flags",
    "find_personal_data",
    "is_safeguarding",
    "load_ner",
    "redact",
]

# Batches repeat texts ("Nothing", "Very good"); the cache keeps the recent distinct answers.
# Small, because few flag candidates repeat (16% on the benchmark's comments; 10,000 entries
# keep 94% of the hits that 200,000 do) and each entry holds a whole comment: at 200,000 entries
# the cache was still filling at a million rows and grew each worker by about 40 MB by four million.
_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class CommentFlags:
    """The flags of one comment, and what the safeguarding rules read in it.

    Attributes
    ----------
    flags : tuple of str
        The flags the rules raise, in ``FLAGS`` order.
    safeguarding : Assessment
        The safeguarding rules' categories and words (empty for a comment with no cue word).
    """

    flags: tuple[str, ...]
    safeguarding: Assessment


_NOTHING = CommentFlags((), Assessment((), ()))

# Comments the safeguarding head flags repeat about as often as flag candidates do: the parse
# that looks for a reassuring phrase in them is cached the same way.
_holds_reassurance = lru_cache(maxsize=_CACHE_SIZE)(RULES.holds_reassurance)


@lru_cache(maxsize=_CACHE_SIZE)
def _read(text: str, may_safeguard: bool, may_identify: bool, ner: str | None) -> CommentFlags:
    """The flags of one comment that passed (or not) each flag's prefilter."""
    safeguarding = RULES.assess(cue_sentences(text)) if may_safeguard else _NOTHING.safeguarding
    personal = may_identify and bool(find_personal_data(text, ner=ner))
    flags = ("safeguarding",) * bool(safeguarding.categories) + ("personal_data",) * personal
    return CommentFlags(flags, safeguarding)


def _batch_matches(texts: pa.Array, pattern: str) -> np.ndarray:
    """Which texts (an Arrow string array, nulls allowed) the RE2 ``pattern`` matches somewhere."""
    return pc.match_substring_regex(texts, pattern).fill_null(False).to_numpy(zero_copy_only=False)


def read_flags(texts, *, ner: str | None = None) -> list[CommentFlags]:
    """Read both flags on a batch of comments, with the safeguarding rules' categories and words.

    Parameters
    ----------
    texts : sequence of str or None
        The comments (a list, a numpy object array, a pandas column's values); None, NaN and
        ``pd.NA`` are allowed.
    ner : str, optional
        A spaCy model with named entities that the personal-data flag also reads (see
        :func:`find_personal_data`); a model card's ``ner``.

    Returns
    -------
    list of CommentFlags
        One per comment, in input order; no flags for a missing or blank comment.
    """
    texts = [str(t) if said else None for t, said in zip(texts, has_text(texts))]
    column = pa.array(texts, type=pa.string())
    lower = pc.utf8_lower(column)
    may_safeguard = np.logical_or.reduce([_batch_matches(lower, part) for part in CUE_PARTS])
    # A spaCy NER model can find a name anywhere, so with one every comment is searched.
    may_identify = np.ones(len(texts), bool) if ner is not None else _batch_matches(column, PERSONAL_GATE)
    return [
        _read(t, bool(s), bool(p), ner) if t is not None and (s or p) else _NOTHING
        for t, s, p in zip(texts, may_safeguard, may_identify)
    ]


def reassuring(texts, assessments) -> np.ndarray:
    """Which comments reassure, with no safeguarding rule standing in them: a harm they mention
    is negated, idiomatic, hypothetical or settled; they tell of settled history; or they say the
    person felt safe or agreed to a relative's help.

    The safeguarding head reads words, not whether they are negated: this is what lets a
    comment it is unsure of go unflagged (see :func:`feedback_nlp.decide.decide_safeguarding`).

    Parameters
    ----------
    texts : sequence of str
        The comments (none missing).
    assessments : sequence of Assessment
        The rules' reading of each, as :func:`read_flags` gives it.

    Returns
    -------
    ndarray of bool
        One per comment, in input order.
    """
    lower = [t.lower() for t in texts]
    column = pa.array(lower, type=pa.string())
    # RE2 reads a text in ASCII as Python does (see SETTLED_GATE); any other is asked in Python.
    other_script = ~pc.string_is_ascii(column).to_numpy(zero_copy_only=False)
    may_settle = other_script | _batch_matches(column, SETTLED_GATE)
    may_reassure = np.logical_or.reduce([other_script] + [_batch_matches(column, part) for part in REASSURANCE_PARTS])
    return np.array(
        [
            not found.categories
            and (found.cancelled or (s and settled(low)) or (r and _holds_reassurance(text)))
            for text, low, found, s, r in zip(texts, lower, assessments, may_settle, may_reassure, strict=True)
        ],
        dtype=bool,
    )


def reassures(text: str, assessment: Assessment | None = None) -> bool:
    """Whether one comment reassures (see :func:`reassuring`); ``assessment``, the rules'
    reading of it, where the caller has it, spares reading them again.

    Examples
    --------
    >>> reassures("Nobody was ever rough with him."), reassures("He pushed me.")
    (True, False)
    """
    if assessment is None:
        assessment = read_flags([text])[0].safeguarding  # as a batch reads it (RE2's prefilter)
    return bool(reassuring([text], [assessment])[0])


def detect_flags(texts, *, ner: str | None = None) -> list[tuple[str, ...]]:
    """Raise the safeguarding and personal-data flags on a batch of comments (the rules alone).

    Parameters
    ----------
    texts : sequence of str or None, ner : str, optional
        As in :func:`read_flags`.

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
    return [read.flags for read in read_flags(texts, ner=ner)]


assert FLAGS == ("safeguarding", "personal_data")  # the order _read builds
