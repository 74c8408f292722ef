"""Representative comments to quote: chosen the same way every time, never a safeguarding one.

For each theme and for negative and positive comments, the candidates are comments with the theme
and that sentiment, of 6 to 50 words, not flagged ``safeguarding``. The best are those not marked
for review, without personal data, most clearly about the theme (highest theme score), with ties
broken by a fixed hash of the text: the choice depends on the comments only, not on their order
or the chunk size. The latest period is quoted first, and a comment is quoted once, under the
first theme it is chosen for. Chosen comments are redacted before they leave this module.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..flags import redact
from ..themes import THEME_IDS

MIN_WORDS = 6  # "Parking." or "All good" says nothing a board can act on
MAX_WORDS = 50  # a longer one is not quoted rather than cut: cutting can change what was said
PER_SENTIMENT = 2
QUOTE_SENTIMENTS = ("negative", "positive")
_KEY = ["personal_data", "needs_review", "score", "order"]
_ASCENDING = [True, True, False, True]


def candidates(text: pd.Series, themes: dict[str, pd.Series], sentiment: pd.Series,
               scores: dict[str, pd.Series], flags: pd.Series, needs_review: pd.Series,
               period: pd.Series) -> pd.DataFrame:
    """The best comments of one chunk for each theme, sentiment and period (a few rows).

    ``themes`` maps each theme id to a boolean Series (the comment has the theme), ``scores``
    each theme id to its score column as the file holds it (text or numbers; None where the file
    has none); ``flags`` is the tagged file's flags column as text.
    """
    text = text.fillna("").astype(str).str.strip()
    # Counted in Arrow: a Python regex a row took a fifth of the report's time on a large file
    words = pd.Series(pc.count_substring_regex(pa.array(text, type=pa.string()), r"\S+").to_numpy(),
                      index=text.index)
    safeguarding = flags.str.contains("safeguarding", regex=False)
    eligible = ~safeguarding & words.between(MIN_WORDS, MAX_WORDS)
    if not eligible.any():
        return empty()
    personal = flags.str.contains("personal_data", regex=False)
    parts = []
    for theme in THEME_IDS:
        for feeling in QUOTE_SENTIMENTS:
            chosen = eligible & themes[theme] & (sentiment == feeling)
            if chosen.any():
                score = scores[theme]
                parts.append(pd.DataFrame({
                    "theme": theme, "sentiment": feeling, "period": period[chosen],
                    "text": text[chosen],
                    "score": float("nan") if score is None else pd.to_numeric(score[chosen], errors="coerce"),
                    "personal_data": personal[chosen], "needs_review": needs_review[chosen],
                    # ties broken by the text itself, not by where it is in the file
                    "order": pd.util.hash_pandas_object(text[chosen], index=False),
                }))
    return best(pd.concat(parts, ignore_index=True)) if parts else empty()


def merge(pool: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """The best of two sets of candidates (the pool so far and a chunk's)."""
    if found.empty:
        return pool
    return found if pool.empty else best(pd.concat([pool, found], ignore_index=True))


def best(pool: pd.DataFrame, per: int = PER_SENTIMENT) -> pd.DataFrame:
    """The ``per`` best distinct comments of each theme, sentiment and period in ``pool``."""
    ranked = pool.sort_values(["theme", "sentiment", "period", *_KEY],
                              ascending=[True, True, True, *_ASCENDING], kind="stable")
    ranked = ranked.drop_duplicates(["theme", "sentiment", "period", "text"])
    return ranked.groupby(["theme", "sentiment", "period"], dropna=False, sort=False).head(per)


def choose(pool: pd.DataFrame, per: int = PER_SENTIMENT) -> pd.DataFrame:
    """The quotes of the report: ``per`` a theme and sentiment, latest period first, redacted.

    Returns a DataFrame with ``theme``, ``sentiment``, ``period`` and ``quote`` (the comment
    with personal data replaced by ``[NAME]``, ``[PHONE]``, ...), in theme order.
    """
    ranked = pool.sort_values(["period", *_KEY], ascending=[False, *_ASCENDING],
                              na_position="last", kind="stable")
    picked, used = [], set()
    for theme in THEME_IDS:  # a comment with several themes is quoted once, under the first
        for feeling in QUOTE_SENTIMENTS:
            options = ranked[(ranked["theme"] == theme) & (ranked["sentiment"] == feeling)
                             & ~ranked["text"].isin(used)].drop_duplicates("text").head(per)
            used.update(options["text"])
            picked.append(options)
    chosen = pd.concat(picked, ignore_index=True)
    chosen = chosen.assign(
        theme=pd.Categorical(chosen["theme"], THEME_IDS, ordered=True),
        sentiment=pd.Categorical(chosen["sentiment"], QUOTE_SENTIMENTS, ordered=True),
        quote=chosen["text"].map(redact),
    ).sort_values(["theme", "sentiment"], kind="stable")
    return chosen.assign(theme=chosen["theme"].astype(str), sentiment=chosen["sentiment"].astype(str))[
        ["theme", "sentiment", "period", "quote"]].reset_index(drop=True)


def empty() -> pd.DataFrame:
    """A pool with no candidates."""
    return pd.DataFrame(columns=["theme", "sentiment", "period", "text", *_KEY])
