"""The two flags: safeguarding (risk of harm to a person) and personal data (something identifying).

Both are rules. The safeguarding rules catch only explicit, high-risk statements, precisely: a
trained classifier beside them in the model carries recall, so generic cues were removed. ``detect_flags`` runs on every comment of a batch,
so each detector has one compiled regular expression that cheaply rules out the comments that
cannot carry its flag (no cue word, digit, ``@`` or title); only the remaining candidates reach
spaCy (safeguarding) or phonenumbers (phones). spaCy is imported on first use, so importing the
package stays fast, and only ``spacy.blank("en")`` is needed: no trained model is downloaded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .exceptions import CorpusError
from .themes import FLAGS

PERSONAL_KINDS: tuple[str, ...] = (
    "name", "phone", "email", "nhs_number", "postcode", "date_of_birth", "address",
)
# When two detections overlap, the earlier kind here wins: an email can hold a name, an NHS
# number looks like a phone number to phonenumbers, a date of birth holds digits.
_PRIORITY = ("email", "nhs_number", "phone", "date_of_birth", "postcode", "address", "name")
# The share of each labelled set kept back, with this seed, for a final check of the rules.
HELD_OUT_SHARE, HELD_OUT_SEED = 0.3, 0


def _is_missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


# --------------------------------------------------------------------------------------------
# Safeguarding rules. A rule is a space-separated token spec for spaCy's Matcher:
#   word|word   the lower-cased token is one of these     stem*   it starts with ``stem``
#   NEG         a negator (not, n't, never, no, nobody, ...)
#   _           any one token                             _{0,3}  up to three tokens
#   x?          the token is optional
# "harm" rules describe harm happening, so a negator or a hypothetical just before them ("no one
# was ever rough", "asked whether I felt unsafe") cancels them. "neglect" rules are themselves
# negated care ("nobody turned him"), so negation is part of their pattern and never cancels.
# --------------------------------------------------------------------------------------------
_HARM_RULES: tuple[str, ...] = (
    # self-harm and suicide
    "suicid*", "self harm*", "self - harm*", "selfharm*", "overdos*", "stockpil*",
    "harm* myself|himself|herself|themselves", "hurt* myself|himself|herself|themselves",
    "kill* myself|himself|herself|themselves", "end* it all", "ending things", "end* my|his|her life",
    "take|taking|took my|his|her|own life", "take|taking|took my|his|her own life",
    "want|wanted|wanting to die", "better off dead", "tired of living", "be|being here anymore",
    "point of|in going on|living|carrying on", "dark thoughts", "giving _? things away",
    "see a future", "make it quick", "engine running", "hearing voices", "on purpose",
    "hiding|hid tablets|pills", "take all _? morphine|tablets|pills", "jump* off|from|in front",
    "feel|felt|feeling hopeless|worthless",
    # abuse, violence, threats, sexual misconduct, exploitation
    "abus*", "assault*", "rape|raped|raping", "sexually", "harass*", "violen*", "grop*",
    "hit|hits|hitting me|her|him", "pushed|shoved|shoving me|her|him", "burn|burns|burned|burnt her|him|me",
    "bruis*", "rough with|when", "roughly", "manhandl*", "pinned|pin|pins me|her|him|them down", "pinned|pin|pins down", "held me|her|him down",
    "grabb* me|her|him|my|his|by", "dragg* me|her|him", "restrain*", "tied to|down", "slap*", "punch*",
    "pinched me|her|him", "threat*", "bully|bullied|bullying", "intimidat*", "controls _? _? money",
    "controlling husband|partner|wife|behaviour", "coerc*", "exploit*", "broke my|her|his phone",
    "takes|took|taking _? purse|pension|benefits", "bank card", "steal*|stole|stolen", "theft",
    "expos* himself|herself", "violated", "touched me|her|him inappropriately|up",
    "inappropriately touch*|touched", "followed me|her home|around", "stalk*", "to hurt me|her|him|us",
    "locked|locking me|her|him in|out", "keep quiet", "keep him|her quiet", "teach her|him|me a lesson",
    "he still has a key", "marks on her|his", "knife", "weapon", "police", "young carer",
    "feel|felt|feeling unsafe", "unsafe at home|around|with",
    "scared|frightened|terrified|afraid of him|her|them",
    "scared|frightened|terrified|afraid of my|his|her husband|wife|partner|son|daughter|carer|carers|"
    "neighbour|boyfriend|girlfriend|father|dad|brother",
    "scared|frightened|terrified|afraid to go|be home|alone",
    # neglect, falls, wandering, left unsafe
    "neglect*", "left unattended|unwashed", "unwashed", "left on|in the|a|her|his|my floor|bedpan|commode",
    "lying|lay|lain|left|found on the floor", "on the floor for", "lay|lain there for", "left lying",
    "left sitting in", "fell out of bed", "found wandering", "wandered off|out",
    "dementia|confused|confusion _{0,10} left alone", "left alone _{0,10} dementia|confused|confusion",
    "in his|her|their|my own mess|urine|faeces|excrement|wee|poo|vomit", "soiled",
    "soaked in|with urine|wee", "wet bed|sheets", "pressure ulcer*|sore*", "bed sore|sores", "bedsore*",
    "out of reach", "untouched", "malnourish*", "split his|her head",
    "discharged|sent home at|after midnight|1am|2am|3am|4am", "discharged|sent home alone at|in the night",
    "discharged|sent home in the middle of the night", "discharged alone at night",
    # medication and treatment errors that harmed, or missed critical doses
    "wrong dose|drug|drugs|chemo|strength|patient|medication|medicine|tablets|insulin", "double dose|dosed",
    "ten times the|my dose", "meant for another patient", "another patient 's medication|tablets|drugs|insulin|meds",
    "someone else 's medication|tablets|drugs|insulin|meds", 
    "allerg* _{0,8} wristband|band", "wristband _{0,8} allerg*", "given _{0,6} allergic to",
    "missed _{0,2} parkinson*|insulin|epilepsy|anticoagul*", "missed doses",
    "oxygen ran out", "oxygen had ran|run out", "oxygen cylinder ran out",
)
_NEGLECT_RULES: tuple[str, ...] = (
    "NEG _? _? turned him|her|me|them|regularly|for", "NEG _? _? fed him|her|me|them|properly|anything|for",
    "NEG _? feel|felt safe", "NEG stop when", "NEG _? given water|food|drink|drinks|fluids",
    "NEG _? given any|a water|food|drink|drinks|fluids", "NEG _? given anything to eat|drink",
)
# Figures of speech with a harm word in them: they cancel a harm match they overlap.
_IDIOMS: tuple[str, ...] = (
    "kill for", "killer", "killing me slowly", "killed me with", "murder on", "murder", "died of shock",
    "death warmed up", "criminal", "nearly died of", "not the end of",
    "threatening|threatened|threatens to discharge", "life _? threat*",
)
_NEGATORS = frozenset({"not", "never", "no", "nobody", "noone", "nothing", "nowhere", "neither", "nor",
                       "without", "no-one"})
# Cues that what follows is asked about, feared or risked, not something that happened.
_HYPOTHETICAL = re.compile(
    r"\b(?:asked (?:me )?(?:if|whether|about|how)|risk of|worried (?:about|i'd|i would|that)|"
    r"dreading|in case|whether|check(?:ed|s)? (?:if|for|my|on)|at risk|how i got)\b"
)
# A sentence placing something long in the past ("years ago", "in 1998") is history, not risk.
_LONG_AGO = re.compile(
    r"\b(?:years ago|last year|in (?:19|20)\d\d|back in|as a child|when i was (?:a )?(?:child|young|little))\b"
)
_CLAUSE_BREAKS = frozenset({".", "!", "?", ";", "but", "though", "although", ",", "-"})


def _stems(rules: Iterable[str]) -> frozenset[str]:
    """Every ``stem*`` of the rules, without its star."""
    return frozenset(
        o[:-1] for r in rules for w in r.split() for o in w.rstrip("?").split("|") if o.endswith("*")
    )


def _spec_tokens(word: str, stems: frozenset[str]) -> list[dict]:
    """The Matcher token dicts one word of the rule language stands for (one per attribute used).

    Stems are matched on NORM, which :func:`_mark_stems` sets to the longest stem a token starts
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
        tokens = [{"NORM": {"IN": sorted(_NEGATORS)}}]
    else:
        options = word.split("|")
        words = [o for o in options if not o.endswith("*")]
        # A token starting with a longer stem is marked with that one: accept those too.
        marked = sorted({m for o in options if o.endswith("*") for m in stems if m.startswith(o[:-1])})
        tokens = ([{"LOWER": {"IN": words}}] if words else []) + (
            [{"NORM": {"IN": marked}}] if marked else []
        )
    if optional:
        tokens = [{**t, "OP": "?"} for t in tokens]
    return tokens


def _rule_patterns(rule: str, stems: frozenset[str]) -> list[list[dict]]:
    """The Matcher patterns of one rule: one per combination of attributes its words need."""
    patterns = [[]]
    for word in rule.split():
        patterns = [p + [t] for p in patterns for t in _spec_tokens(word, stems)]
    return patterns


def _stem_norm(lower: str, norm: str, stems: frozenset[str], longest: int) -> str:
    """The NORM a token gets: the longest rule stem it starts with, else its lower case.

    Negators keep the NORM "not" the tokenizer gives "n't" and "nt" ("didnt").
    """
    for n in range(min(len(lower), longest), 2, -1):
        if lower[:n] in stems:
            return lower[:n]
    return "not" if norm == "not" or lower in ("n't", "nt") else lower


def _mark_stems(doc, stems: frozenset[str], longest: int, cache: dict) -> list[str]:
    """Set each token's NORM by :func:`_stem_norm` and return the norms.

    Works on the doc's arrays of string ids: a Python Token object per token costs more than
    the matching itself. ``cache`` remembers the norm of each (lower case, norm) pair seen.
    """
    from spacy.attrs import LOWER, NORM

    strings = doc.vocab.strings
    norms = []
    for lower, norm in doc.to_array([LOWER, NORM]).tolist():
        if (lower, norm) not in cache:
            cache[(lower, norm)] = _stem_norm(strings[lower], strings[norm], stems, longest)
        norms.append(cache[(lower, norm)])
    doc.from_array([NORM], np.array([strings.add(n) for n in norms], dtype=np.uint64).reshape(-1, 1))
    return norms


def _key_words(rule: str) -> set[str]:
    """The NORMs of a rule's most selective required word: a doc without one cannot match it."""
    best = None
    for word in rule.split():
        if word == "NEG" or word.startswith("_") or (word.endswith("?") and len(word) > 1):
            continue
        options = [o.rstrip("*") for o in word.split("|")]
        score = min(map(len, options))
        if best is None or score > best[0]:
            best = (score, options)
    # Norms are lower case, a stem for words starting with one, "not" for n't.
    return {"not" if o in ("n't", "nt") else o for o in best[1]} if best else set()


def _is_phrase_rule(rule: str) -> bool:
    """Whether a rule is plain words and stems, so PhraseMatcher (hashing, fast) can take it."""
    return not any(w == "NEG" or w.startswith("_") or (w.endswith("?") and len(w) > 1) for w in rule.split())


def _phrases(rule: str) -> list[list[str]]:
    """Every word sequence a plain rule stands for, stems without their star."""
    phrases = [[]]
    for word in rule.split():
        phrases = [p + [o.rstrip("*")] for p in phrases for o in word.split("|")]
    return phrases


def _option_regex(option: str) -> str:
    return re.escape(option[:-1]) + r"\w*" if option.endswith("*") else re.escape(option) + r"\b"


def _anchor(rule: str) -> str | None:
    """A regex for the most selective part of a rule that every match must contain, or None.

    That part is the longest run of consecutive required words (a phrase such as "left on the
    floor" is far rarer than any of its words), ties going to the run whose shortest option is
    longest. Negators, wildcards and optional words break a run; "n't" cannot start one, since
    it is glued to the word before it in the text ("didn't").
    """
    runs, run = [], []
    for word in rule.split() + ["_"]:
        if word == "NEG" or word.startswith("_") or (word.endswith("?") and len(word) > 1):
            runs.append(run)
            run = []
        elif not run and word in ("n't|nt", "n't", "nt"):
            continue
        else:
            run.append(word.split("|"))
    runs = [r for r in runs if r]
    if not runs:
        return None
    best = max(runs, key=lambda r: (len(r), min(len(o.rstrip("*")) for w in r for o in w)))
    # Tokens next to each other in the text are separated by spaces or nothing ("did|n't").
    return r"\W*".join("(?:" + "|".join(map(_option_regex, options)) + ")" for options in best)


def _prefilter(rules: Iterable[str]) -> re.Pattern:
    """One regex matching any rule's anchor, its alternatives grouped under their first letter.

    Python's regex engine tries the alternatives of a group one by one at every word start, so
    factoring out the first letter makes a word cost about one branch rather than one per rule.
    """
    groups: dict[str, set[str]] = {}
    for rule in rules:
        anchor = _anchor(rule)
        if anchor is None:
            continue
        # Split "(?:scared\b|afraid\b)\W*(?:of\b)" into "scared\b\W*(?:of\b)" and "afraid...".
        first, rest = anchor[3:].split(")", 1)
        for option in first.split("|"):
            groups.setdefault(option[0], set()).add(option[1:] + rest)
    return re.compile(
        r"\b(?:" + "|".join(f"{re.escape(c)}(?:{'|'.join(sorted(v))})" for c, v in sorted(groups.items())) + ")"
    )


# The prefilter of the safeguarding flag: a text holding no rule's anchor cannot match a rule.
_SAFEGUARDING_CUES = _prefilter(_HARM_RULES + _NEGLECT_RULES)


@dataclass(frozen=True)
class SafeguardingMatch:
    """One rule that matched: its span in tokens, the matched text and whether it stands."""

    rule: str
    start: int
    end: int
    text: str
    cancelled_by: str | None = None


# Distinct tokens the safeguarding matcher remembers before it starts afresh.
_NORM_CACHE_SIZE = 200_000


class SafeguardingRules:
    """spaCy Matcher rules for the safeguarding flag, built lazily on first use.

    Holds only its rule strings; the spaCy pipeline and matchers are rebuilt after unpickling,
    so the object is cheap to send to worker processes.

    Examples
    --------
    >>> rules = SafeguardingRules()
    >>> rules.flag("He was left on the floor for hours after she fell")  # doctest: +SKIP
    True
    """

    def __init__(self, *, harm=_HARM_RULES, neglect=_NEGLECT_RULES, idioms=_IDIOMS):
        self.harm = tuple(harm)
        self.neglect = tuple(neglect)
        self.idioms = tuple(idioms)
        self._built = None

    def __getstate__(self):
        return {"harm": self.harm, "neglect": self.neglect, "idioms": self.idioms, "_built": None}

    def _build(self):
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.tokens import Doc

        nlp = spacy.blank("en")
        stems = _stems(self.harm + self.neglect + self.idioms)
        longest = max(map(len, stems))
        # Matcher's cost grows with its number of patterns at every token; PhraseMatcher's does
        # not, so only the rules with wildcards, negators or optional words go to the Matcher.
        phrases = PhraseMatcher(nlp.vocab, attr="NORM")
        # A doc holding none of a Matcher's rules' key words skips that Matcher (most docs); the
        # rules with a negator go to their own, which a doc without a negator skips too.
        matchers = {negated: (Matcher(nlp.vocab), set()) for negated in (False, True)}
        for kind, rules in (("harm", self.harm), ("neglect", self.neglect), ("idiom", self.idioms)):
            for i, rule in enumerate(rules):
                if _is_phrase_rule(rule):
                    docs = [Doc(nlp.vocab, words=words) for words in _phrases(rule)]
                    for doc in docs:
                        _mark_stems(doc, stems, longest, {})
                    phrases.add(f"{kind}:{i}", docs)
                else:
                    matcher, gate = matchers["NEG" in rule.split()]
                    matcher.add(f"{kind}:{i}", _rule_patterns(rule, stems))
                    gate |= _key_words(rule)
        gated = [(matcher, frozenset(gate), negated) for negated, (matcher, gate) in matchers.items()]
        self._built = (nlp, gated, phrases, stems, longest, {})
        return self._built

    def matches(self, text: str) -> list[SafeguardingMatch]:
        """Every rule match in ``text``, with ``cancelled_by`` set where negation or context cancels it."""
        nlp, matchers, phrases, stems, longest, norm_cache = self._built or self._build()
        # Every new token adds to spaCy's string store and the norm cache: start afresh now and
        # then, so that memory stays flat over millions of comments.
        if len(norm_cache) > _NORM_CACHE_SIZE:
            nlp, matchers, phrases, stems, longest, norm_cache = self._build()
        doc = nlp.make_doc(text)
        norms = _mark_stems(doc, stems, longest, norm_cache)
        found = []
        idioms = []
        hits = list(phrases(doc))
        for matcher, gate, negated in matchers:
            if not gate.isdisjoint(norms) and not (negated and _NEGATORS.isdisjoint(norms)):
                hits += matcher(doc)
        for match_id, start, end in hits:
            kind, index = nlp.vocab.strings[match_id].split(":")
            if kind == "idiom":
                idioms.append((start, end))
                continue
            rule = (self.harm if kind == "harm" else self.neglect)[int(index)]
            found.append((kind, rule, start, end))
        results = []
        for kind, rule, start, end in found:
            reason = None
            if kind == "harm":
                reason = _harm_cancelled(doc, start, end, idioms)
            results.append(SafeguardingMatch(rule, start, end, doc[start:end].text, reason))
        return results

    def flag(self, text: str) -> bool:
        """Whether ``text`` suggests a risk of harm to a person (no prefilter: see :func:`detect_flags`)."""
        return any(m.cancelled_by is None for m in self.matches(text))


def _harm_cancelled(doc, start: int, end: int, idioms) -> str | None:
    """Why a harm match does not stand (idiom, negation, hypothetical, long ago), or None."""
    if any(s < end and start < e for s, e in idioms):
        return "idiom"
    clause_start = start
    while clause_start > 0 and doc[clause_start - 1].lower_ not in _CLAUSE_BREAKS:
        clause_start -= 1
    window = doc[max(clause_start, start - 6):start]
    if any(t.norm_ in _NEGATORS or t.lower_ in _NEGATORS for t in window):
        return "negation"
    before = doc[max(0, start - 8):start].text.lower()
    if _HYPOTHETICAL.search(before):
        return "hypothetical"
    sent_start = start
    while sent_start > 0 and doc[sent_start - 1].text not in {".", "!", "?"}:
        sent_start -= 1
    sent_end = end
    while sent_end < len(doc) and doc[sent_end].text not in {".", "!", "?"}:
        sent_end += 1
    if _LONG_AGO.search(doc[sent_start:sent_end].text.lower()):
        return "long_ago"
    return None


# --------------------------------------------------------------------------------------------
# Personal data
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PersonalItem:
    """One piece of personal data found in a comment.

    Attributes
    ----------
    kind : str
        One of ``PERSONAL_KINDS``.
    start, end : int
        Character offsets in the comment: ``text == comment[start:end]``.
    text : str
        The characters found.
    """

    kind: str
    start: int
    end: int
    text: str


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = (
    rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{2}}-\d{{2}}|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?(?: of)? {_MONTH}\.?,? \d{{4}}|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}})"
)
_DOB = re.compile(
    rf"(?i)\b(?:d\.?o\.?b\.?|date of birth|birth ?date|born(?: on)?)\b[\s:,-]*(?:is |was )?({_DATE})(?!\d)"
)
_BARE_DATE = re.compile(rf"(?i)(?<![\d/.-])({_DATE})(?![\d/.-]\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NHS = re.compile(r"(?<![\d+])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\d])")
_POSTCODE = re.compile(r"(?i)\b(?:[a-z]{1,2}\d[a-z\d]?) ?\d[abd-hjlnp-uw-z]{2}\b")
_STREET = (
    r"(?:road|rd|street|st|lane|ln|avenue|ave|drive|dr|terrace|way|court|close|crescent|rise|"
    r"view|cottages|place|grove|gardens|park|hill|row|walk|square|mews|green|parade|vale|"
    r"boulevard|gate|fold|croft|meadows?|wharf)"
)
_ADDRESS = re.compile(
    rf"\b(?:(?i:flat) \d+[a-z]?,? )?\d{{1,4}}[a-z]? (?:[A-Z][a-z'A-Z]+ ){{1,3}}(?i:{_STREET})\b(?!-)"
    rf"|\b\d{{1,4}}[a-z]? [A-Z][a-z]+(?:way|gate|field|fields)\b"
    rf"|\b(?i:flat) \d+[a-z]?, (?:[A-Z][a-z]+ ){{1,3}}(?i:{_STREET})\b",
)
_PHONE_REGEX = re.compile(
    r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|\(?0)\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}(?!\d)"
)

# Names. Honorifics belong to a name ("Dr Patel"); roles only point at one ("nurse Jo" -> "Jo").
_HONORIFIC = r"(?:(?:dr|mr|mrs|ms|mx|prof)\.?|miss|professor|sister|matron)"
_ROLE = (
    r"(?:nurse|nurses|cns|matron|radiographers?|porter|physio|physiotherapist|receptionist|hca|"
    r"healthcare assistant|health care assistant|volunteer|consultant|registrar|surgeon|oncologist|"
    r"psychologist|dietitian|dietician|chaplain|pharmacist|therapist|counsellor|doctor|midwife|"
    r"specialist|driver|cleaner|sister)"
)
_RELATION = (
    r"(?:wife|husband|partner|mum|mother|mam|mom|dad|father|son|daughter|brother|sister|nan|nana|"
    r"gran|grandma|grandad|grandpa|granddad|grandson|granddaughter|aunt|auntie|uncle|niece|nephew|"
    r"cousin|friend|neighbour|carer|mother in law|father in law|mother-in-law|father-in-law|"
    r"sister in law|brother in law|son in law|daughter in law|fiance|fiancee|boyfriend|girlfriend)"
)
# Capitalised words that are not names though they start with a capital mid-sentence.
_NOT_NAMES = frozenset(
    """I I'm I've I'd I'll A An The This That These Those It Its My Our Your Their His Her He She We They
    You Mum Dad Nan Gran Grandad Macmillan Maggie's NHS GP CNS HCA A&E PALS BSL Ward Bay Clinic Unit
    Day Night Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April
    May June July August September October November December Christmas Easter Thank Thanks Please
    Dear Hi Hello Also And But So Then When Why What Who How Where Hospital Hospice Trust Team Cancer
    Centre Oncology Radiotherapy Chemo Chemotherapy Haematology Surgery Reception Pharmacy Doctor
    Nurse Sister Staff Everyone Everybody Nobody Someone Anyone Lovely Brilliant Great Amazing Not
    No Yes Just Very Really Ref Re Complaint Name Address Email Phone Mobile Tel DOB Contact Lady Man
    If Could Can Would Should Did Does Do Is Are Was Has Have Ask Sorry Only Even After Before Since
    Because Although While Once Maybe Perhaps Every Each All Some Most Both Any Had Got Went Came
    Sir Madam Team Dr Mr Mrs Ms Miss Prof Professor Matron Royal General Infirmary Road Street Lane
    Leeds Manchester London Bradford Wales England Scotland Ireland""".split()
)
# Words that are not names wherever capitals give no sign of one: at the start of a comment
# ("Nurses on the day unit ...", "Having the same nurse ...") or written in lower case ("my sister
# ended up ..."). Built from the project's corpus by scripts/build_common_words.py.
COMMON_WORDS_PATH = Path(__file__).with_name("common_words.txt")
_LOWER_RUN = re.compile(r"(?<![\w'])[a-z][a-z'-]+")


def common_words(corpus: pd.DataFrame, min_comments: int = 2) -> list[str]:
    """The words written in lower case in at least ``min_comments`` comments holding no personal data.

    Parameters
    ----------
    corpus : DataFrame
        Labelled comments, as :func:`feedback_nlp.read_corpus` returns them.
    min_comments : int
        How many comments a word must be in; one is not enough to trust a lower-case spelling.

    Returns
    -------
    list of str
        Sorted, lower case.
    """
    clean = corpus.loc[["personal_data" not in flags for flags in corpus["flags"]], "text"]
    counts = pd.Series([w for text in clean for w in set(_LOWER_RUN.findall(text))]).value_counts()
    return sorted(counts.index[counts >= min_comments])


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    return frozenset(COMMON_WORDS_PATH.read_text(encoding="utf-8").split())


# Lower-case words that follow "dr" or "sister" without being a name ("the sister in charge").
_LOWER_WORDS = (
    "a|an|the|as|in|on|at|and|or|but|was|is|who|said|says|to|of|for|with|had|has|have|came|told|"
    "from|did|does|would|could|should|will|can|that|this|were|are|be|been|not|never|so|very|"
    "when|if|then|there|here|what|which|my|me|i|it|its|they|he|she|we|you|said|asked|about"
)
_CAP = r"(?:[A-Z][a-z]+(?:-[A-Z]?[a-z]+|'[A-Z][a-z]+)?)"
_INITIALS = r"(?:[A-Z]\.? ){1,2}"
_FULL = rf"{_CAP}(?: {_CAP}){{0,2}}"
_NAME_PATTERNS: tuple[re.Pattern, ...] = (
    # Dr Patel, Sister Mary Okoro, Mr K. Okonkwo, Dr F Hussain; lower case too: "dr khan".
    re.compile(rf"\b(?i:{_HONORIFIC}) (?:{_INITIALS})?{_FULL}\b"),
    re.compile(rf"\b(?:dr|mr|mrs|ms|prof|sister)\.? (?!(?:{_LOWER_WORDS})\b)[a-z]+(?:'[a-z]+)?\b"),
    # nurse Jo, CNS Jackie, Radiographers Jess and Tom: the name only (group 1).
    re.compile(rf"(?i:\b{_ROLE}),? ({_FULL})\b(?:,? (?:and|&) ({_CAP})\b)?"),
    # my husband Dave Smith, my mum, Patricia Doyle, Dad (George Ellison)
    re.compile(rf"(?i:\b(?:my|our|his|her) (?:late )?{_RELATION}),? \(?({_FULL})\b"),
    re.compile(rf"(?i:\b{_RELATION}) \(({_FULL})"),
    # Kev the porter, Jo on reception, Femi who sat with me, Grace on the chemo hotline
    re.compile(
        rf"(?:^|(?<=[a-z,;:(] ))({_CAP})(?: and ({_CAP}))? (?:the (?:\w+ )?(?i:{_ROLE}|\w+ist|\w+er)\b|"
        rf"on (?:reception|nights|days|the (?:\w+ ){{0,3}}(?:unit|ward|desk|stand|hotline|line|suite|team))\b|"
        rf"in the (?:\w+ ){{0,2}}(?:suite|unit|team|ward)\b|who (?:sat|was|is|made|held|helped|looked|came))"
    ),
    # thanks to Gill, Trish and Abdul; especially Shaz and Becky; ask for Eileen; contact Simon
    re.compile(
        rf"(?i:\b(?:thanks? (?:you )?to|especially|ask for|contact|call|ring|speak to|thank you,?)) "
        rf"({_CAP})(?:,? ({_CAP}))?(?:,? (?:and|&) ({_CAP}))?\b"
    ),
    # My name is Janet Lowry; I'm Fatima Hussein; Name: Doreen Platt; from Kathleen Moss
    re.compile(rf"(?i:\b(?:my name is|i am|i'm|name:?|names?|thanks from|me,|patient:?|re:?)) ({_FULL})\b"),
    # "Gareth Jenkins here," / "Siobhan Kelly, NHS ..." / "- Sheila," / text-initial full name before contacts
    re.compile(rf"^({_CAP} {_CAP})(?: here\b|,? (?=\S*@|\+?\(?\d|NHS|DOB|D\.O\.B|\d))"),
    re.compile(
        rf"(?:^|[,.;:] )({_CAP} {_CAP})(?=(?:,| -)? (?:\S+@|\+?\(?0\d|NHS\b|nhs\b|DOB\b|born\b|\d+ \w|(?i:date of birth|d\.?o\.?b)))"
    ),
    re.compile(rf"(?:- |, )({_CAP})(?:,|\.)(?= )"),
    re.compile(rf"\b(?:Mrs|Mr|Ms|Miss) (?:{_INITIALS})?{_CAP}\b"),
)


def _words_of(*patterns: str) -> frozenset[str]:
    """The lower-case words a pattern's alternatives spell, with and without a plural "s"."""
    words = {w for p in patterns for w in re.findall(r"[a-z]+", p)}
    return frozenset(words | {w[:-1] for w in words if w.endswith("s")})


# Scanning a comment with each name pattern costs more than the rest of the tagging, so each runs
# only on comments that hold a word it needs (or any word, None) and match a far simpler pattern
# it implies (or None). Most name patterns need a capitalised word after a word, comma or colon.
_HONORIFIC_WORDS = _words_of(_HONORIFIC)
_CAPITAL_AFTER_WORD = re.compile(r"[A-Za-z:,] \(?[A-Z][a-z]")
# "Kev the porter", "Jo on reception"; "- Sheila," (these two are also in _PERSONAL_GATE).
_NAME_BEFORE_WORD = re.compile(r"[A-Z][a-z]+(?: and [A-Z][a-z]+)? (?:the|on|in|who) ")
_SIGNED_NAME = re.compile(r"[,-] [A-Z][a-z]+[,.]")
_NAME_GATES: tuple[tuple[frozenset[str] | None, re.Pattern | None], ...] = (
    (_HONORIFIC_WORDS, None),
    (_HONORIFIC_WORDS, None),
    (_words_of(_ROLE), _CAPITAL_AFTER_WORD),
    (_words_of(_RELATION), _CAPITAL_AFTER_WORD),
    (None, re.compile(r" \([A-Z]")),
    (None, _NAME_BEFORE_WORD),
    (frozenset({"thanks", "thank", "especially", "ask", "contact", "call", "ring", "speak"}), _CAPITAL_AFTER_WORD),
    (frozenset({"name", "names", "am", "m", "thanks", "me", "patient", "re"}), _CAPITAL_AFTER_WORD),
    (None, None),
    # A name before contact details: a digit, an "@", NHS, DOB, born, date of birth.
    (frozenset({"nhs", "dob", "d", "born", "birth", "@", *"0123456789"}), None),
    (None, _SIGNED_NAME),
    (frozenset({"mrs", "mr", "ms", "miss"}), None),
)
_NAME_RULES = tuple(zip(_NAME_PATTERNS, _NAME_GATES, strict=True))
# Lower-case words, and each digit and "@" as a word of its own, for the triggers above.
_LOWER_WORD = re.compile(r"[a-z]+|[\d@]")
_DIGIT = re.compile(r"\d")
# Cheap tests for the digit-bearing kinds: ten digits (a phone or an NHS number), a year of birth
# (a bare date counts only before 1996), a digit before two letters (postcodes), a house number.
_TEN_DIGITS = re.compile(r"\d(?:[\s().-]{0,2}\d){9}")
_OLD_YEAR = re.compile(r"19\d\d")
_POSTCODE_CUE = re.compile(r"\d[A-Za-z]{2}\b")
_HOUSE_NUMBER = re.compile(r"\d[a-z]?,? [A-Z]")
_DOB_WORDS = frozenset({"dob", "d", "birth", "birthdate", "born"})

# One pattern that every comment holding personal data matches: a cheap superset of all the
# patterns above, in RE2 syntax (no look-arounds), so that pyarrow scans a whole batch with it
# in C++ and only the ~15% of comments that match are searched in Python. A test checks that it
# lets through every comment in which find_personal_data finds something.
_PERSONAL_GATE = "|".join((
    r"@",
    _TEN_DIGITS.pattern,
    _OLD_YEAR.pattern,
    r"(?i:\b(?:dob|d\.o\.b|born|birth))",
    "(?i:" + _POSTCODE.pattern.removeprefix("(?i)") + ")",
    _HOUSE_NUMBER.pattern,
    rf"(?i:\b(?:{_HONORIFIC}))\.? [A-Za-z]",
    rf"(?i:\b{_ROLE}),? \(?[A-Z][a-z]",
    rf"(?i:\b{_RELATION}),? \(?[A-Z][a-z]",
    _NAME_BEFORE_WORD.pattern,
    r"(?i:\b(?:thanks?|especially|ask|contact|call|ring|speak)\b)[^.!?]{0,12}[A-Z][a-z]",
    r"(?i:\b(?:my name is|i am|i'm|names?:?|thanks from|me,|patient:?|re:?)) \(?[A-Z][a-z]",
    r"^[A-Z][a-z]+ [A-Z][a-z]+",
    r"[,.;:] [A-Z][a-z]+ [A-Z][a-z]+",
    _SIGNED_NAME.pattern,
))


@lru_cache(maxsize=1)
def _ner():
    """The installed spaCy English model with NER, if any; None when only spaCy itself is there."""
    import importlib.util

    # find_spec, unlike spacy.util.is_package, does not import spaCy when no model is there.
    for name in ("en_core_web_sm", "en_core_web_md", "en_core_web_lg"):
        if importlib.util.find_spec(name) is not None:
            import spacy

            return spacy.load(name, disable=["lemmatizer", "parser", "tagger", "attribute_ruler"])
    return None


def _nhs_valid(digits: str) -> bool:
    """Whether ten digits carry a valid NHS-number modulus-11 check digit."""
    if len(digits) != 10:
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    return check != 10 and (0 if check == 11 else check) == int(digits[9])


def _phones(text: str, method: str) -> Iterable[tuple[int, int]]:
    if method == "regex":
        for m in _PHONE_REGEX.finditer(text):
            if len(re.sub(r"\D", "", m.group())) >= 10:
                yield m.start(), m.end()
        return
    import phonenumbers

    for m in phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.POSSIBLE):
        raw = m.raw_string
        # A ten-digit run without a trunk 0 or +44 is how NHS numbers are written, not UK phones.
        if raw.startswith(("0", "+44", "(0", "0044")) and len(re.sub(r"\D", "", raw)) >= 10:
            # "(07700900441)": the matcher keeps an opening bracket whose close it dropped.
            unpaired = raw.startswith("(") and ")" not in raw
            yield m.start + unpaired, m.end


def _name_spans(text: str, present: frozenset[str]) -> Iterable[tuple[int, int]]:
    """Spans of names in ``text``, whose lower-case words (see ``_LOWER_WORD``) are ``present``."""
    cue_found = {}
    for rule, (words, cue) in _NAME_RULES:
        if words is not None and words.isdisjoint(present):
            continue
        if cue is not None and not cue_found.setdefault(cue, cue.search(text) is not None):
            continue
        for m in rule.finditer(text):
            groups = [i for i in range(1, (rule.groups or 0) + 1) if m.group(i)]
            spans = [m.span(i) for i in groups] if rule.groups else [m.span()]
            for start, end in spans:
                words = text[start:end].split()
                while words and words[-1] in _NOT_NAMES:
                    end -= len(words.pop()) + 1
                while words and words[0] in _NOT_NAMES and len(words) > 1 and rule.groups:
                    start += len(words.pop(0)) + 1
                names = [w for w in words if w not in _NOT_NAMES and not re.fullmatch(_HONORIFIC, w, re.I)]
                if names and not (_unmarked(words, start) and all(w.lower() in _common_words() for w in names)):
                    yield start, end
    nlp = _ner()
    if nlp is not None:
        for ent in nlp(text).ents:
            if ent.label_ == "PERSON":
                yield ent.start_char, ent.end_char


def _unmarked(words: list[str], start: int) -> bool:
    """Whether nothing marks the words of a name found at offset ``start`` as a name: no title
    (bar "sister", also a relation) and no capital but the comment's first letter."""
    if any(w.lower() != "sister" and re.fullmatch(_HONORIFIC, w, re.I) for w in words):
        return False
    return not any(w[0].isupper() for w in (words[1:] if start == 0 else words))


def _candidates(text: str, phone_method: str) -> Iterable[tuple[str, int, int]]:
    words = frozenset(_LOWER_WORD.findall(text.lower()))
    for start, end in _name_spans(text, words):
        yield "name", start, end
    if "@" in text:
        for m in _EMAIL.finditer(text):
            yield "email", m.start(), m.end()
    if not _DIGIT.search(text):
        return
    # NHS numbers and phones (phonenumbers costs ~50 us a text) have ten digits in a row, with
    # spaces, brackets, dots or dashes between.
    if _TEN_DIGITS.search(text):
        for m in _NHS.finditer(text):
            if _nhs_valid(m.group(1) + m.group(3) + m.group(4)):
                yield "nhs_number", m.start(), m.end()
        for start, end in _phones(text, phone_method):
            yield "phone", start, end
    if not words.isdisjoint(_DOB_WORDS):
        for m in _DOB.finditer(text):
            yield "date_of_birth", *m.span(1)
    if _OLD_YEAR.search(text):
        for m in _BARE_DATE.finditer(text):
            # A full date with a year this long ago is a birth date in patient feedback; a
            # treatment date is recent.
            year = re.findall(r"\d{4}", m.group(1))
            if year and 1900 <= int(year[-1]) <= 1995:
                yield "date_of_birth", *m.span(1)
    if _POSTCODE_CUE.search(text):
        for m in _POSTCODE.finditer(text):
            yield "postcode", m.start(), m.end()
    if _HOUSE_NUMBER.search(text):
        for m in _ADDRESS.finditer(text):
            yield "address", m.start(), m.end()


def find_personal_data(text, *, phone_method: str = "phonenumbers") -> list[PersonalItem]:
    """Find the personal data in one comment: names, phones, emails, NHS numbers, postcodes, ...

    Parameters
    ----------
    text : str or None
        The comment; a missing or empty one has none.
    phone_method : {"phonenumbers", "regex"}
        How phone numbers are found: Google's libphonenumber port (region GB) or a plain regex
        (kept to measure the two against each other).

    Returns
    -------
    list of PersonalItem
        Non-overlapping items in text order. An NHS number is taken only with a valid check
        digit; a date only as a date of birth when the text says so ("DOB", "born") or its year
        is 1995 or earlier.

    Raises
    ------
    ValueError
        ``phone_method`` is not one of the two.

    Examples
    --------
    >>> [(i.kind, i.text) for i in find_personal_data("Dr Patel rang me on 07700 900461")]
    [('name', 'Dr Patel'), ('phone', '07700 900461')]
    """
    if phone_method not in ("phonenumbers", "regex"):
        raise ValueError(f"phone_method must be 'phonenumbers' or 'regex'; got {phone_method!r}")
    if _is_missing(text) or not text.strip():
        return []
    found = sorted(set(_candidates(text, phone_method)), key=lambda c: (_PRIORITY.index(c[0]), c[1], -c[2]))
    kept: list[tuple[str, int, int]] = []
    for kind, start, end in found:
        if start < end and not any(s < end and start < e for _, s, e in kept):
            kept.append((kind, start, end))
    return [PersonalItem(k, s, e, text[s:e]) for k, s, e in sorted(kept, key=lambda c: c[1])]


def redact(text, *, phone_method: str = "phonenumbers"):
    """Replace each piece of personal data with a typed placeholder such as ``[NAME]``.

    Parameters
    ----------
    text : str or None
        The comment; a missing value is returned unchanged.
    phone_method : {"phonenumbers", "regex"}
        As in :func:`find_personal_data`.

    Returns
    -------
    str or None
        The comment with ``[NAME]``, ``[PHONE]``, ``[EMAIL]``, ``[NHS_NUMBER]``, ``[POSTCODE]``,
        ``[DATE_OF_BIRTH]`` or ``[ADDRESS]`` in place of each item; the rest unchanged.
        ``find_personal_data`` finds nothing in the result.

    Examples
    --------
    >>> redact("Call me on 07700 900461, NHS number 854 255 5031")
    'Call me on [PHONE], NHS number [NHS_NUMBER]'
    """
    if _is_missing(text):
        return text
    # Taking an item out can leave a new one in view (a role word now beside a name), so go
    # again until nothing is found; three passes have always been enough.
    for _ in range(4):
        items = find_personal_data(text, phone_method=phone_method)
        if not items:
            break
        parts, last = [], 0
        for item in items:
            parts += [text[last:item.start], f"[{item.kind.upper()}]"]
            last = item.end
        text = "".join(parts) + text[last:]
    return text


# --------------------------------------------------------------------------------------------
# Both flags, batch
# --------------------------------------------------------------------------------------------
_RULES = SafeguardingRules()
# Batches repeat texts ("Nothing", "Very good"); the cache keeps the recent distinct answers.
# Small, because few flag candidates repeat (16% on the benchmark's comments; 10,000 entries
# keep 94% of the hits that 200,000 do) and each entry holds a whole comment: at 200,000 entries
# the cache was still filling at a million rows and grew each worker by about 40 MB by four million.
_CACHE_SIZE = 10_000


def is_safeguarding(text) -> bool:
    """Whether one comment suggests a risk of harm to a person (abuse, neglect, self-harm, ...).

    Negated or hypothetical mentions ("I never felt unsafe", "they asked if I felt safe at
    home") and figures of speech ("I'd kill for a coffee") do not count.
    """
    if _is_missing(text) or not _SAFEGUARDING_CUES.search(text.lower()):
        return False
    return _RULES.flag(_cue_sentences(text))


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _cue_sentences(text: str) -> str:
    """The sentences of ``text`` that hold a safeguarding cue, joined.

    The rules and their negation, hypothetical and long-ago checks look within a sentence, so
    the rest of a long comment only costs spaCy time.
    """
    sentences = _SENTENCE_END.split(text)
    if len(sentences) == 1:
        return text
    return " ".join(s for s in sentences if _SAFEGUARDING_CUES.search(s.lower()))


@lru_cache(maxsize=_CACHE_SIZE)
def _flags_of(text: str, may_safeguard: bool, may_identify: bool) -> tuple[str, ...]:
    """The flags of one comment that passed (or not) each flag's prefilter."""
    flags = []
    if may_safeguard and _RULES.flag(_cue_sentences(text)):
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
    texts = [None if _is_missing(t) or not str(t).strip() else str(t) for t in texts]
    column = pa.array(texts, type=pa.string())
    may_safeguard = _batch_matches(pc.utf8_lower(column), _SAFEGUARDING_CUES.pattern)
    # A spaCy NER model can find a name anywhere, so with one every comment is searched.
    may_identify = np.ones(len(texts), bool) if _ner() is not None else _batch_matches(column, _PERSONAL_GATE)
    return [
        _flags_of(t, bool(s), bool(p)) if t is not None and (s or p) else ()
        for t, s, p in zip(texts, may_safeguard, may_identify)
    ]


assert FLAGS == ("safeguarding", "personal_data")  # the order _flags_of builds


# --------------------------------------------------------------------------------------------
# Measuring the detectors on the labelled sets
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlagScores:
    """How well the flag detectors do on the labelled sets in ``data/flags``.

    Attributes
    ----------
    part : str
        ``"all"``, ``"dev"`` (the 70% the rules were written on) or ``"held_out"`` (the other
        30%, seed ``HELD_OUT_SEED``).
    safeguarding_recall, safeguarding_precision : float
    safeguarding_counts : dict of str to int
        ``tp``, ``fp``, ``fn``, ``tn`` of comments.
    personal : dict of str to dict of str to float
        Per kind: ``recall`` (share of labelled items overlapped by a found item of that kind),
        ``precision`` (share of found items overlapping a labelled one of that kind),
        ``labelled`` and ``found`` counts.
    redaction_leaks : int
        Comments in which ``find_personal_data`` still finds something after :func:`redact`.
    """

    part: str
    safeguarding_recall: float
    safeguarding_precision: float
    safeguarding_counts: dict[str, int]
    personal: dict[str, dict[str, float]] = field(default_factory=dict)
    redaction_leaks: int = 0

    def format(self) -> str:
        """A table for a terminal."""
        c = self.safeguarding_counts
        lines = [
            f"[{self.part}] safeguarding: recall {self.safeguarding_recall:.3f}  precision "
            f"{self.safeguarding_precision:.3f}  (tp {c['tp']} fp {c['fp']} fn {c['fn']} tn {c['tn']})",
            f"[{self.part}] personal data     recall  precision  labelled  found",
        ]
        for kind, s in self.personal.items():
            lines.append(
                f"  {kind:<16}  {s['recall']:6.3f}  {s['precision']:9.3f}  {int(s['labelled']):8d}  {int(s['found']):5d}"
            )
        lines.append(f"[{self.part}] comments with something left after redact: {self.redaction_leaks}")
        return "\n".join(lines)


def _split(frame: pd.DataFrame, part: str) -> pd.DataFrame:
    if part not in ("all", "dev", "held_out"):
        raise ValueError(f"part must be 'all', 'dev' or 'held_out'; got {part!r}")
    if part == "all":
        return frame
    held = frame.sample(frac=HELD_OUT_SHARE, random_state=HELD_OUT_SEED).index
    return frame.loc[held] if part == "held_out" else frame.drop(held)


def _read_labelled(path, columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CorpusError(path, f"expected columns {list(columns)}; found {list(frame.columns)}")
    return frame


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def score_flags(
    safeguarding_csv: str | PathLike,
    personal_data_csv: str | PathLike,
    *,
    part: str = "all",
    phone_method: str = "phonenumbers",
) -> FlagScores:
    """Measure the safeguarding and personal-data detectors on the labelled sets.

    Parameters
    ----------
    safeguarding_csv : path
        CSV with columns ``text`` and ``safeguarding`` (0/1).
    personal_data_csv : path
        CSV with columns ``text`` and ``items`` (a JSON list of ``{"kind", "text"}``).
    part : {"all", "dev", "held_out"}
        Which part of each set to score: the held-out 30% was kept back while writing the rules.
    phone_method : {"phonenumbers", "regex"}
        As in :func:`find_personal_data`.

    Returns
    -------
    FlagScores

    Raises
    ------
    CorpusError
        A file lacks a needed column, or an ``items`` cell is not a JSON list.
    ValueError
        ``part`` or ``phone_method`` is not one of the allowed values.

    Examples
    --------
    >>> print(score_flags("data/flags/safeguarding.csv", "data/flags/personal_data.csv").format())  # doctest: +SKIP
    """
    safe = _split(_read_labelled(safeguarding_csv, ("text", "safeguarding")), part)
    truth = safe["safeguarding"].astype(int).to_numpy().astype(bool)
    said = [is_safeguarding(t) for t in safe["text"]]
    tp = int(sum(p and t for p, t in zip(said, truth)))
    fp = int(sum(p and not t for p, t in zip(said, truth)))
    fn = int(sum(t and not p for p, t in zip(said, truth)))
    counts = {"tp": tp, "fp": fp, "fn": fn, "tn": len(truth) - tp - fp - fn}

    personal = _split(_read_labelled(personal_data_csv, ("text", "items")), part)
    tallies = {k: {"hit": 0, "labelled": 0, "right": 0, "found": 0} for k in PERSONAL_KINDS}
    leaks = 0
    for row, (text, cell) in enumerate(zip(personal["text"], personal["items"]), start=2):
        try:
            labels = json.loads(cell)
        except json.JSONDecodeError as error:
            raise CorpusError(personal_data_csv, f"items is not JSON ({error})", row=row, column="items")
        spans, cursor = [], {}
        for item in labels:
            # The same text can be labelled twice ("16 Mill Lane" ... "61 Mill Lane" aside): take
            # each next occurrence.
            at = text.find(item["text"], cursor.get(item["text"], 0))
            cursor[item["text"]] = at + 1
            spans.append((item["kind"], at, at + len(item["text"])))
        found = find_personal_data(text, phone_method=phone_method)
        for kind, start, end in spans:
            tallies[kind]["labelled"] += 1
            tallies[kind]["hit"] += any(f.kind == kind and f.start < end and start < f.end for f in found)
        for f in found:
            tallies[f.kind]["found"] += 1
            tallies[f.kind]["right"] += any(k == f.kind and s < f.end and f.start < e for k, s, e in spans)
        leaks += bool(find_personal_data(redact(text, phone_method=phone_method), phone_method=phone_method))
    return FlagScores(
        part=part,
        safeguarding_recall=_ratio(tp, tp + fn),
        safeguarding_precision=_ratio(tp, tp + fp),
        safeguarding_counts=counts,
        personal={
            k: {
                "recall": _ratio(t["hit"], t["labelled"]),
                "precision": _ratio(t["right"], t["found"]),
                "labelled": t["labelled"],
                "found": t["found"],
            }
            for k, t in tallies.items()
        },
        redaction_leaks=leaks,
    )


def score_flagged(flagged: Sequence[tuple[str, ...]], truth: dict[str, Sequence[bool]]) -> dict[str, dict[str, float]]:
    """Recall and precision of raised flags for each flag of ``truth``.

    Parameters
    ----------
    flagged : sequence of tuple of str
        The flags raised on each text: from :func:`detect_flags` (the rules alone) or the
        ``flags`` of :meth:`feedback_nlp.Tagger.tag_many` (rules and the model's safeguarding head).
    truth : dict of str to sequence of bool
        For each flag id, whether each text carries it (as long as ``flagged``).

    Returns
    -------
    dict of str to dict of str to float
        Per flag: ``recall``, ``precision``, ``labelled`` and ``flagged`` counts.

    Raises
    ------
    ValueError
        A flag is not in ``FLAGS``, or its truth is not as long as ``flagged``.
    """
    flagged = list(flagged)
    out = {}
    for flag, labels in truth.items():
        labels = [bool(v) for v in labels]
        if flag not in FLAGS:
            raise ValueError(f"unknown flag {flag!r}; expected one of {FLAGS}")
        if len(labels) != len(flagged):
            raise ValueError(f"{flag}: {len(labels)} labels for {len(flagged)} texts")
        said = [flag in f for f in flagged]
        tp = sum(s and t for s, t in zip(said, labels))
        out[flag] = {
            "recall": _ratio(tp, sum(labels)),
            "precision": _ratio(tp, sum(said)),
            "labelled": sum(labels),
            "flagged": sum(said),
        }
    return out
