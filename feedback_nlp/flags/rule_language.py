"""The rule language of the safeguarding flag, compiled to spaCy matchers and the regexes that gate them.

A rule is a space-separated token spec for spaCy's Matcher:

    word|word   the lower-cased token is one of these     stem*   it starts with ``stem``
    NEG         a negator (not, n't, never, no, nobody, ...)
    _           any one token                             _{0,3}  up to three tokens
    x?          the token is optional

This module knows the language, not the rules: :mod:`.safeguarding` holds those.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

NEGATORS = frozenset({"not", "never", "no", "nobody", "noone", "nothing", "nowhere", "neither", "nor",
                      "without", "no-one"})
# The second half of a contraction, glued to the word before it in the text ("did|n't").
_GLUED = frozenset({"n't", "nt"})


def stems_of(rules: Iterable[str]) -> frozenset[str]:
    """Every ``stem*`` of the rules, without its star."""
    return frozenset(
        o[:-1] for r in rules for w in r.split() for o in w.rstrip("?").split("|") if o.endswith("*")
    )


def _spec_tokens(word: str, stems: frozenset[str]) -> list[dict]:
    """The Matcher token dicts one word of the rule language stands for (one per attribute used).

    Stems are matched on NORM, which :func:`mark_stems` sets to the longest stem a token starts
    with: one dictionary look-up a token, where a REGEX predicate would cost one regex a token
    and pattern (about thirty times slower over these rules).
    """
    optional = word.endswith("?") and len(word) > 1
    word = word[:-1] if optional else word
    if word == "_":
        tokens = [{}]
    elif word.startswith("_{"):
        return [{"OP": word[1:]}]
    elif word == "NEG":
        tokens = [{"NORM": {"IN": sorted(NEGATORS)}}]
    else:
        options = word.split("|")
        words = [o for o in options if not o.endswith("*") and o not in _GLUED]
        # A token starting with a longer stem is marked with that one: accept those too.
        marked = sorted({m for o in options if o.endswith("*") for m in stems if m.startswith(o[:-1])})
        # "n't" as any apostrophe writes it, and "nt", have the NORM "not" (see stem_norm).
        marked += ["not"] * (not _GLUED.isdisjoint(options))
        tokens = ([{"LOWER": {"IN": words}}] if words else []) + (
            [{"NORM": {"IN": marked}}] if marked else []
        )
    if optional:
        tokens = [{**t, "OP": "?"} for t in tokens]
    return tokens


def rule_patterns(rule: str, stems: frozenset[str]) -> list[list[dict]]:
    """The Matcher patterns of one rule: one per combination of attributes its words need."""
    patterns = [[]]
    for word in rule.split():
        patterns = [p + [t] for p in patterns for t in _spec_tokens(word, stems)]
    return patterns


def stem_norm(lower: str, norm: str, stems: frozenset[str], longest: int) -> str:
    """The NORM a token gets: the longest rule stem it starts with, else its lower case.

    Negators keep the NORM "not" the tokenizer gives "n't" and "nt" ("didnt").
    """
    for n in range(min(len(lower), longest), 2, -1):
        if lower[:n] in stems:
            return lower[:n]
    return "not" if norm == "not" or lower in ("n't", "nt") else lower


def mark_stems(doc, stems: frozenset[str], longest: int, cache: dict) -> list[str]:
    """Set each token's NORM by :func:`stem_norm` and return the norms.

    Works on the doc's arrays of string ids: a Python Token object per token costs more than
    the matching itself. ``cache`` remembers the norm of each (lower case, norm) pair seen.
    """
    from spacy.attrs import LOWER, NORM

    strings = doc.vocab.strings
    norms = []
    for lower, norm in doc.to_array([LOWER, NORM]).tolist():
        if (lower, norm) not in cache:
            cache[(lower, norm)] = stem_norm(strings[lower], strings[norm], stems, longest)
        norms.append(cache[(lower, norm)])
    doc.from_array([NORM], np.array([strings.add(n) for n in norms], dtype=np.uint64).reshape(-1, 1))
    return norms


# Words in so many comments that a rule gated on one would run on most docs that reach spaCy.
_COMMON = frozenset(
    "a an and at be felt feel for given help her him his home in is it left me my not of on sent "
    "the them this to was were with would".split()
)


def _key_word(rule: str) -> tuple[int, list[str]] | None:
    """The position and the options (without stars) of a rule's most selective required word:
    one with no common option (``_COMMON``) before one with any, then the one whose shortest
    option is longest."""
    best = None
    for i, word in enumerate(rule.split()):
        if word == "NEG" or word.startswith("_") or (word.endswith("?") and len(word) > 1):
            continue
        options = [o.rstrip("*") for o in word.split("|")]
        score = (_COMMON.isdisjoint(options), min(map(len, options)))
        if best is None or score > best[0]:
            best = (score, i, options)
    return None if best is None else best[1:]


def key_words(rule: str) -> set[str]:
    """The NORMs of a rule's most selective required word: a doc without one cannot match it."""
    key = _key_word(rule)
    # Norms are lower case, a stem for words starting with one, "not" for n't.
    return {"not" if o in ("n't", "nt") else o for o in key[1]} if key else set()


def _most_tokens(word: str) -> int | None:
    """The most tokens one word of the rule language matches: ``_{0,3}`` three, ``_{2}`` two,
    ``_{1,}`` any number (None); any other word one."""
    if not word.startswith("_{"):
        return 1
    most = word[2:-1].split(",")[-1]
    return int(most) if most else None


def key_word_reach(rule: str, stems: frozenset[str]) -> tuple[frozenset[str], frozenset[str], int, int] | None:
    """Where a match of ``rule`` can lie in a doc: the LOWERs and the NORMs its key word
    (:func:`key_words`) accepts, as its Matcher pattern reads them (a token with one of either
    holds it), and the most tokens a match can hold before that token and after it. None for a
    rule with no required word or with a wildcard of no bound: its matches may lie anywhere."""
    key = _key_word(rule)
    words = rule.split()
    most = [_most_tokens(word) for word in words]
    if key is None or None in most:
        return None
    lowers, norms = set(), set()
    for token in _spec_tokens(words[key[0]], stems):
        (lowers if "LOWER" in token else norms).update(token.get("LOWER", token.get("NORM"))["IN"])
    return frozenset(lowers), frozenset(norms), sum(most[:key[0]]), sum(most[key[0] + 1:])


def is_phrase_rule(rule: str) -> bool:
    """Whether a rule is plain words and stems, so PhraseMatcher (hashing, fast) can take it."""
    return not any(w == "NEG" or w.startswith("_") or (w.endswith("?") and len(w) > 1) for w in rule.split())


def phrases_of(rule: str) -> list[list[str]]:
    """Every word sequence a plain rule stands for, stems without their star."""
    phrases = [[]]
    for word in rule.split():
        phrases = [p + [o.rstrip("*")] for p in phrases for o in word.split("|")]
    return phrases


def _option_regex(option: str, glued: bool = False) -> str:
    """One option of a rule word as a regex, an apostrophe in it written either way; ``glued``
    when the next word may be "n't", which the text writes without a word boundary ("don't" is
    the tokens "do" and "n't"). A word boundary after an option ending in "£" would need a
    letter after it: there is none."""
    if option.endswith("*"):
        return re.escape(option[:-1]).replace("'", "['’]") + r"\w*"
    bounded = not glued and (option[-1].isalnum() or option[-1] == "_")
    return re.escape(option).replace("'", "['’]") + (r"\b" if bounded else "")


# A negator as the text writes it, for anchors that start with NEG: a word of NEGATORS,
# "cannot", or "n't" or "nt" alone or after a word spaCy splits it from ("didn't", "dont"), with
# the "'ve" it splits off too ("wouldn't've", "wouldntve"). The words are spaCy's own list: a
# pattern such as "\w*n't" instead cost Python's regex a scan of every word. Longest first, then
# in alphabetical order: a set's order changes with each process's hash seed, and so did this text.
_NEG_TEXT = (
    "(?:(?:" + "|".join(map(re.escape, sorted(NEGATORS, key=lambda w: (-len(w), w)))) + "|cannot"
    r"|(?:ai|are|ca|could|dare|did|does|do|had|has|have|is|may|might|must|need|ought|sha|should|was|were|wo|would)?"
    r"n['’]?t)(?:['’]?ve)?\b)"
)


def _runs(rule: str) -> list[list]:
    """The runs of consecutive required words of a rule: every match holds each of them.

    A negator may start a run and a one-token wildcard (``_``, ``_?``) may sit inside one, so
    that "NEG _? feel|felt safe" is one run, "didn't (really) feel safe", not the common "feel
    safe". Longer wildcards and optional words break a run; "n't" cannot start one, since it is
    glued to the word before it in the text ("didn't").
    """
    runs, run = [], []
    for word in rule.split() + ["_{0}"]:
        if word == "NEG":
            # The word before may be glued to it ("could|n't"): a marker says so (_word_regexes).
            runs.append(run + ["NEG"])
            run = [[_NEG_TEXT]]
        elif word in ("_", "_?") and run:
            run.append(word)
        elif word.startswith("_") or (word.endswith("?") and len(word) > 1):
            runs.append(run)
            run = []
        elif not run and set(word.split("|")) <= _GLUED:
            continue
        else:
            run.append(word.split("|"))
    return [r for r in runs for r in [_trimmed(r)] if r]


def _run_regex(run: list) -> tuple[list[str], str]:
    """A run as a regex: the alternatives of its first word, and the regex of the rest."""
    words = [_word_regexes(word, after) for word, after in zip(run, run[1:] + [None]) if word != "NEG"]
    return words[0], "".join(r"\W*" + "(?:" + "|".join(w) + ")" for w in words[1:])


def _anchor(rule: str) -> tuple[list[str], str] | None:
    """A regex for the most selective run of a rule (see _runs), or None, as the alternatives
    of its first word and the regex of the rest.

    The most selective is the longest (a phrase such as "left on the floor" is far rarer than
    any of its words), ties going to the run whose shortest option is longest.
    """
    runs = _runs(rule)
    if not runs:
        return None
    return _run_regex(max(runs, key=lambda r: (
        sum(isinstance(w, list) for w in r),
        min(len(o.rstrip("*")) for w in r if isinstance(w, list) for o in w),
    )))


def rule_regexes(rules: Iterable[str]) -> list[str]:
    """One regex per rule, for Arrow's RE2, that a text in lower case (and ASCII) matches
    wherever the rule can: every run of the rule's words (see _runs), in order. Tighter than
    :func:`prefilter_parts`, which asks for one run of any rule.

    It holds no word boundary: spaCy splits tokens the text writes as one ("10am", "couldve",
    "mum's"), so a rule's word need not start or end a word of the text. Anything may come
    between two runs (``.*``), which Python's engine could take quadratic time over, RE2
    linear; in one alternation of all the rules, RE2 ran 50 times slower.
    """
    return [
        "(?s:.*)".join("(?:" + "|".join(first) + ")" + rest for first, rest in map(_run_regex, _runs(rule)))
        .replace(r"\b", "")
        for rule in rules
    ]


def _word_regexes(word: str | list[str], after: str | list[str] | None) -> list[str]:
    """The regex alternatives of one word of an anchor's run, given what comes after it (a
    word, a wildcard, "NEG" for a negator ending the run, or None)."""
    if word in ("_", "_?"):
        return [r"\S+\W*" + ("" if word == "_" else "|")]
    if word == [_NEG_TEXT]:
        return word
    # Tokens next to each other in the text are separated by spaces or nothing ("did|n't").
    glued = after == "NEG" or (isinstance(after, list) and not _GLUED.isdisjoint(after))
    return [_option_regex(o, glued) for o in word]


def _trimmed(run: list) -> list:
    """A run without the wildcards at its end (nor the marker of a negator after them), or
    empty when no word or only a negator is left."""
    before_negator = bool(run) and run[-1] == "NEG"
    run = run[:-1] if before_negator else run
    while run and run[-1] in ("_", "_?"):
        run, before_negator = run[:-1], False
    if not run or run == [[_NEG_TEXT]]:
        return []
    return run + ["NEG"] if before_negator else run


# The most characters of one of the prefilter's parts for Arrow: RE2 keeps a pattern as a
# DFA only within a memory budget, and past it falls back to matching 30 times slower (a 22,000
# character prefilter took 0.85 s on 50,000 comments; the same in three parts, 0.07 s).
RE2_PART_CHARS = 12_000


def _anchor_groups(rules: Iterable[str]) -> dict[str, set[str]]:
    """Every rule's anchor, its alternatives grouped under their first letter."""
    groups: dict[str, set[str]] = {}
    for rule in rules:
        anchor = _anchor(rule)
        if anchor is None:
            continue
        # "(?:scared\b|afraid\b)\W*(?:of\b)" goes in as "cared\b\W*(?:of\b)" under "s" and
        # "fraid..." under "a"; one starting with a negator, its rest under the negator's regex.
        first, rest = anchor
        for option in first:
            if option == _NEG_TEXT:
                groups.setdefault(_NEG_TEXT, set()).add(rest)
            else:
                groups.setdefault(option[0], set()).add(option[1:] + rest)
    return groups


def _alternation(groups: dict[str, set[str]]) -> str:
    heads = {c: c if c == _NEG_TEXT else re.escape(c) for c in groups}
    return r"\b(?:" + "|".join(f"{heads[c]}(?:{'|'.join(sorted(v))})" for c, v in sorted(groups.items())) + ")"


def prefilter(rules: Iterable[str]) -> re.Pattern:
    """One regex matching any rule's anchor, its alternatives grouped under their first letter.

    Python's regex engine tries the alternatives of a group one by one at every word start, so
    factoring out the first letter makes a word cost about one branch rather than one per rule.
    """
    return re.compile(_alternation(_anchor_groups(rules)))


def prefilter_parts(rules: Iterable[str]) -> list[str]:
    """The regex of :func:`prefilter` cut into parts of at most about ``RE2_PART_CHARS``
    characters (by first letter), which a text matches somewhere if it matches one of them."""
    parts: list[dict[str, set[str]]] = [{}]
    for letter, tails in sorted(_anchor_groups(rules).items()):
        if parts[-1] and len(_alternation({**parts[-1], letter: tails})) > RE2_PART_CHARS:
            parts.append({})
        parts[-1][letter] = tails
    return [_alternation(part) for part in parts]
