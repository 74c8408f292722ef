"""The safeguarding flag's rules: what counts as a disclosed risk of harm, and what cancels it.

The rules catch explicit, high-risk statements, precisely: a trained classifier beside them in
the model (:meth:`feedback_nlp.model.CommentModel.analyse`) carries recall. They are written in the
language of :mod:`.rule_language`; spaCy is imported on first use and only ``spacy.blank("en")``
is needed, so no trained model is downloaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..features import is_missing
from .rule_language import (
    NEGATORS,
    is_phrase_rule,
    key_words,
    mark_stems,
    phrases_of,
    prefilter,
    rule_patterns,
    stems_of,
)

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




# The prefilter of the safeguarding flag: a text holding no rule's anchor cannot match a rule.
CUES = prefilter(_HARM_RULES + _NEGLECT_RULES)


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
        stems = stems_of(self.harm + self.neglect + self.idioms)
        longest = max(map(len, stems))
        # Matcher's cost grows with its number of patterns at every token; PhraseMatcher's does
        # not, so only the rules with wildcards, negators or optional words go to the Matcher.
        phrases = PhraseMatcher(nlp.vocab, attr="NORM")
        # A doc holding none of a Matcher's rules' key words skips that Matcher (most docs); the
        # rules with a negator go to their own, which a doc without a negator skips too.
        matchers = {negated: (Matcher(nlp.vocab), set()) for negated in (False, True)}
        for kind, rules in (("harm", self.harm), ("neglect", self.neglect), ("idiom", self.idioms)):
            for i, rule in enumerate(rules):
                if is_phrase_rule(rule):
                    docs = [Doc(nlp.vocab, words=words) for words in phrases_of(rule)]
                    for doc in docs:
                        mark_stems(doc, stems, longest, {})
                    phrases.add(f"{kind}:{i}", docs)
                else:
                    matcher, gate = matchers["NEG" in rule.split()]
                    matcher.add(f"{kind}:{i}", rule_patterns(rule, stems))
                    gate |= key_words(rule)
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
        norms = mark_stems(doc, stems, longest, norm_cache)
        found = []
        idioms = []
        hits = list(phrases(doc))
        for matcher, gate, negated in matchers:
            if not gate.isdisjoint(norms) and not (negated and NEGATORS.isdisjoint(norms)):
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
        """Whether ``text`` suggests a risk of harm to a person (no prefilter: see :func:`feedback_nlp.flags.detect_flags`)."""
        return any(m.cancelled_by is None for m in self.matches(text))


def _harm_cancelled(doc, start: int, end: int, idioms) -> str | None:
    """Why a harm match does not stand (idiom, negation, hypothetical, long ago), or None."""
    if any(s < end and start < e for s, e in idioms):
        return "idiom"
    clause_start = start
    while clause_start > 0 and doc[clause_start - 1].lower_ not in _CLAUSE_BREAKS:
        clause_start -= 1
    window = doc[max(clause_start, start - 6):start]
    if any(t.norm_ in NEGATORS or t.lower_ in NEGATORS for t in window):
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


# One instance, shared by every call; its matchers are built on first use.
RULES = SafeguardingRules()


def is_safeguarding(text) -> bool:
    """Whether one comment suggests a risk of harm to a person (abuse, neglect, self-harm, ...).

    Negated or hypothetical mentions ("I never felt unsafe", "they asked if I felt safe at
    home") and figures of speech ("I'd kill for a coffee") do not count.
    """
    if is_missing(text) or not CUES.search(text.lower()):
        return False
    return RULES.flag(cue_sentences(text))


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def cue_sentences(text: str) -> str:
    """The sentences of ``text`` that hold a safeguarding cue, joined.

    The rules and their negation, hypothetical and long-ago checks look within a sentence, so
    the rest of a long comment only costs spaCy time.
    """
    sentences = _SENTENCE_END.split(text)
    if len(sentences) == 1:
        return text
    return " ".join(s for s in sentences if CUES.search(s.lower()))
