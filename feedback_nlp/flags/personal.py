"""The personal-data flag and redaction: names, phones, emails, NHS numbers, postcodes, dates of
birth and addresses found in a comment, and replaced by typed placeholders.

Each detector runs only on comments a cheap test lets through (a digit, an ``@``, a title, a
capital after a role word); :data:`PERSONAL_GATE` is a superset of them all that Arrow runs over a
whole batch in C++.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..exceptions import ModelError, SettingError
from ..features import is_missing

PERSONAL_KINDS: tuple[str, ...] = (
    "name", "phone", "email", "nhs_number", "postcode", "date_of_birth", "address",
)
# When two detections overlap, the earlier kind here wins: an email can hold a name, an NHS
# number looks like a phone number to phonenumbers, a date of birth holds digits.
_PRIORITY = ("email", "nhs_number", "phone", "date_of_birth", "postcode", "address", "name")


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
# "Kev the porter", "Jo on reception"; "- Sheila," (these two are also in PERSONAL_GATE).
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
# A full date with a year in this range is a birth date in patient feedback (the patient is
# about 30 or older), a treatment date is recent; a later year is a birth date only when the
# text says so ("DOB", "born").
BIRTH_YEARS = range(1900, 1996)
_OLD_YEAR = re.compile(r"19\d\d")
_POSTCODE_CUE = re.compile(r"\d[A-Za-z]{2}\b")
_HOUSE_NUMBER = re.compile(r"\d[a-z]?,? [A-Z]")
_DOB_WORDS = frozenset({"dob", "d", "birth", "birthdate", "born"})

# One pattern that every comment holding personal data matches: a cheap superset of all the
# patterns above, in RE2 syntax (no look-arounds), so that pyarrow scans a whole batch with it
# in C++ and only the ~15% of comments that match are searched in Python. A test checks that it
# lets through every comment in which find_personal_data finds something.
PERSONAL_GATE = "|".join((
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


@lru_cache(maxsize=None)
def load_ner(name: str):
    """The spaCy model ``name`` (``"en_core_web_sm"``) with its entity recogniser only, loaded once.

    Names are found with it only when asked (a model card's ``ner``), never because a model
    happens to be installed: the same comments must give the same flags on every machine.

    Raises
    ------
    ModelError
        No spaCy model of that name is installed.
    """
    import importlib.util

    # find_spec, unlike spacy.util.is_package, does not import spaCy when no model is there.
    if not isinstance(name, str) or importlib.util.find_spec(name) is None:
        raise ModelError(
            f"the spaCy NER model {name!r} is not installed (python -m spacy download {name}), "
            "or use a model trained without one"
        )
    import spacy

    return spacy.load(name, disable=["lemmatizer", "parser", "tagger", "attribute_ruler"])


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


def _name_spans(text: str, present: frozenset[str], ner: str | None) -> Iterable[tuple[int, int]]:
    """Spans of names in ``text``, whose lower-case words (see ``_LOWER_WORD``) are ``present``;
    also the people the spaCy model ``ner`` finds, when one is named."""
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
    if ner is not None:
        for ent in load_ner(ner)(text).ents:
            if ent.label_ == "PERSON":
                yield ent.start_char, ent.end_char


def _unmarked(words: list[str], start: int) -> bool:
    """Whether nothing marks the words of a name found at offset ``start`` as a name: no title
    (bar "sister", also a relation) and no capital but the comment's first letter."""
    if any(w.lower() != "sister" and re.fullmatch(_HONORIFIC, w, re.I) for w in words):
        return False
    return not any(w[0].isupper() for w in (words[1:] if start == 0 else words))


def _candidates(text: str, phone_method: str, ner: str | None) -> Iterable[tuple[str, int, int]]:
    words = frozenset(_LOWER_WORD.findall(text.lower()))
    for start, end in _name_spans(text, words, ner):
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
            year = re.findall(r"\d{4}", m.group(1))
            if year and int(year[-1]) in BIRTH_YEARS:
                yield "date_of_birth", *m.span(1)
    if _POSTCODE_CUE.search(text):
        for m in _POSTCODE.finditer(text):
            yield "postcode", m.start(), m.end()
    if _HOUSE_NUMBER.search(text):
        for m in _ADDRESS.finditer(text):
            yield "address", m.start(), m.end()


def find_personal_data(text, *, phone_method: str = "phonenumbers", ner: str | None = None) -> list[PersonalItem]:
    """Find the personal data in one comment: names, phones, emails, NHS numbers, postcodes, ...

    Parameters
    ----------
    text : str or None
        The comment; a missing or empty one has none.
    phone_method : {"phonenumbers", "regex"}
        How phone numbers are found: Google's libphonenumber port (region GB) or a plain regex
        (kept to measure the two against each other).
    ner : str, optional
        A spaCy model with named entities (``"en_core_web_sm"``) that also finds people's
        names; None: this module's rules only.

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
    ModelError
        ``ner`` is not installed.

    Examples
    --------
    >>> [(i.kind, i.text) for i in find_personal_data("Dr Patel rang me on 07700 900461")]
    [('name', 'Dr Patel'), ('phone', '07700 900461')]
    """
    if phone_method not in ("phonenumbers", "regex"):
        raise SettingError("phone_method", "'phonenumbers' or 'regex'", phone_method)
    if is_missing(text) or not text.strip():
        return []
    found = sorted(set(_candidates(text, phone_method, ner)), key=lambda c: (_PRIORITY.index(c[0]), c[1], -c[2]))
    kept: list[tuple[str, int, int]] = []
    for kind, start, end in found:
        if start < end and not any(s < end and start < e for _, s, e in kept):
            kept.append((kind, start, end))
    return [PersonalItem(k, s, e, text[s:e]) for k, s, e in sorted(kept, key=lambda c: c[1])]


def redact(text, *, phone_method: str = "phonenumbers", ner: str | None = None):
    """Replace each piece of personal data with a typed placeholder such as ``[NAME]``.

    Parameters
    ----------
    text : str or None
        The comment; a missing value is returned unchanged.
    phone_method : {"phonenumbers", "regex"}, ner : str, optional
        As in :func:`find_personal_data`. Names are found by NER only when ``ner`` names a
        model: an installed ``en_core_web_*`` is no longer used unasked (before 2026-12-06 it was).

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
    if is_missing(text):
        return text
    # Taking an item out can leave a new one in view (a role word now beside a name), so go
    # again until nothing is found; three passes have always been enough.
    for _ in range(4):
        items = find_personal_data(text, phone_method=phone_method, ner=ner)
        if not items:
            break
        parts, last = [], 0
        for item in items:
            parts += [text[last:item.start], f"[{item.kind.upper()}]"]
            last = item.end
        text = "".join(parts) + text[last:]
    return text
