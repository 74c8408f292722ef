"""The safeguarding flag's rules: what counts as a disclosed risk of harm, and what cancels it.

The rules catch explicit, high-risk statements, precisely: a trained classifier beside them in
the model (:meth:`feedback_nlp.model.CommentModel.predict_scores`) carries recall. They are written in the
language of :mod:`.rule_language`; spaCy is imported on first use and only ``spacy.blank("en")``
is needed, so no trained model is downloaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from ..features import SENTENCE_END, is_missing
from .rule_language import (
    NEGATORS,
    is_phrase_rule,
    key_word_reach,
    key_words,
    mark_stems,
    phrases_of,
    prefilter,
    prefilter_parts,
    rule_patterns,
    rule_regexes,
    stem_norm,
    stems_of,
)

# Each category's rules, in the words a patient or relative writes. The categories follow the
# types of abuse and neglect in the Care Act 2014 statutory guidance (section 14.17), with
# self-harm and a child at risk beside them, so that the review reason tells the urgent team
# which kind of risk to triage. Where a published instrument lists the signs, the rules were
# written from its items (in our own words): for self-harm and suicide the Columbia Suicide
# Severity Rating Scale (Posner et al., 2011: wish to be dead, thoughts with method, intent,
# plan, preparatory acts) and NICE guideline NG225 (2022); for domestic abuse the SafeLives
# DASH risk checklist (2009) and the Home Office statutory guidance on controlling or coercive
# behaviour (2023: isolation, monitoring, control of money, of appointments, of what a person
# says); for discrimination the Equality Act 2010's protected characteristics.
#
# "Harm" rules describe harm happening, so a negator earlier in their clause or a hypothetical
# just before them ("no one was ever rough", "asked whether I felt unsafe") cancels them.
HARM_RULES: dict[str, tuple[str, ...]] = {
    "self_harm": (
        "suicid*", "self harm*", "self - harm*", "selfharm*", "overdos*", "stockpil*",
        "harm* myself|himself|herself|themselves", "hurt* myself|himself|herself|themselves",
        "kill* myself|himself|herself|themselves", "end* it all", "ending things", "end* my|his|her life",
        "take|taking|took my|his|her|own life", "take|taking|took my|his|her own life",
        "want|wanted|wanting to die", "better off dead", "better off without me|him|her", "tired of living",
        "be|being here anymore", "point of|in going on|living|carrying on", "dark thoughts", "dark place",
        "giving|gave|given _{0,2} things|stuff|belongings|possessions away", "giving away my|his|her",
        "make it quick", "engine running", "hearing voices", "on purpose",
        "hiding|hid tablets|pills", "take all _? morphine|tablets|pills", "jump* off|from|in front",
        "feel|felt|feeling hopeless|worthless",
        # the plan, the means, the preparations (C-SSRS items 4 to 6)
        "saved|saving up _{0,2} tablets|pills|painkillers|morphine|meds|medication|insulin",
        "hoard* _{0,2} tablets|pills|painkillers|morphine|meds|medication|insulin",
        "how many _{0,3} it would take", "how many _{0,3} would kill", "how many _{0,3} i need|needed",
        "how much _{0,3} would be too much",
        "goodbye note|notes|letter|letters", "letters|notes for|to my kids|children|family|husband|wife",
        # written out in full so that the prefilter's anchor stays rare ("letters to" is common)
        "letters|notes for|to each|all|both of my|the kids|children",
        "be seeing me again", "let nature take its course", "walk into the sea",
        "in front of a|the train|bus|lorry|car", "under a|the train|bus|lorry", "off a|the bridge|cliff|roof", "thinking about|of jumping|ending",
        "thought|thoughts about|of jumping|dying|killing|ending", "rope",
        "how i 'll|ill|would|will|'d do it", "cut|cuts|cutting|burn|burning|burnt|scratch*|scald* myself",
        "cut|cuts|cutting|burning|scratch*|scald* my arms|arm|wrists|wrist|legs|skin|thighs",
        "cutting|harming again", "started cutting",
        # a ligature (NICE NG225: method), and a wish to be dead said of what is left to live for
        "ligature*", "tied|tie|ties|tying _{0,3} round|around his|her|my|their neck",
        "nothing|nobody|noone to live for", "nothing|nobody|noone to go home to|for", "no one to live for",
        "no reason to live", "no reason to go on", "why _{0,2} bother|bothered saving|patching|reviving|resuscitating me",
        "took|taken|swallowed _{0,2} box|boxes|packet|packets|bottle|handful of paracetamol|pills|tablets|painkillers", "end of it all", "wish|wished|wishing i was|were dead|gone",
        # a place to die from, said to draw the writer ("the bridge looks inviting some days")
        "bridge|bridges|railway|tracks|cliff|cliffs|river|canal|motorway|platform _{0,8} inviting|tempting",
    ),
    "domestic_abuse": (
        "controls _? _? money", "controlling husband|partner|wife|behaviour", "coerc*",
        "broke|breaks|smashed|smashes|smash my|her|his phone|mobile",
        "he still has a key", "keep quiet", "keep him|her quiet", "teach her|him|me a lesson",
        "scared|frightened|terrified|afraid of him|her|them",
        "scared|frightened|terrified|afraid of my|his|her husband|wife|partner|son|daughter|carer|carers|"
        "neighbour|boyfriend|girlfriend|father|dad|brother|ex",
        "scared|frightened|terrified|afraid to go|be home|alone",
        "feel|felt|feeling unsafe", "unsafe at home|around|with",
        # monitoring and isolation
        "goes|go|going|went through my|her|his phone|mobile|messages|texts|post|bag|purse",
        "opens|opened|opening my|her post|mail|letters", "reads|read|reading my|her messages|texts|emails",
        "tracks|tracking|tracked|tracker my|her location|phone|movements|car", "location on my|her phone",
        "checks|checked|check who i|I|she _? spoken|speak|talk|talked|seen|see",
        "times how long", "keep|keeps|kept|keeping|hide|hides|hid|hidden my|her passport|passports|visa",
        "goes|go|going|went through who called|rang|phoned|texted|messaged|i|she", "i|she pay|pays for it when|later", "walk* on eggshells",
        "decides|controls|chooses _{0,2} what i|she eat|eats|wear|wears", "decides|controls|chooses who i|she see|sees",
        "answers|answering all|every _? question|questions for|before", "only get|gets _{0,2} money if|when",
        "he|she gets|goes|got|went angry|mad|nasty|violent",
        "throws|threw|throwing things|stuff|plates|cups", "he|she shouts _{0,2} throws",
        "he 'd|would know why",
        "walked|walk|walks into a|the door", "black eye", "cut|split lip",
        "molestation order", "injunction", "restraining order", "refuge", "idva",
        "he|she NEG let|lets|allow|allows me|her|him go|see|speak|talk|have|leave|out|keep|attend|come",
    ),
    "sexual_harm": (
        "rape|raped|raping", "sexually", "grop*", "expos* himself|herself", "violated",
        "touched me|her|him inappropriately|up", "inappropriately touch*|touched",
        "touch*|touched my|her|his thigh|thighs|breast|breasts|bottom|bum|groin",
        "hand|hands on my|her|his thigh|thighs|breast|breasts|bottom|bum|groin",
        "comments about my|her body|breasts|bum|figure|weight", "have sex with his|her friends|men|others|strangers",
        "explicit|naked|nude|dirty pictures|photos|photo|images|messages", "naked|nude",
        "take|took|taking everything off", "locked the door", "chaperone left|refused|went",
        "messag* _{0,4} instagram|facebook|snapchat|whatsapp|tiktok|social media|privately",
        "private message|messages", "meet up", "his|her personal mobile|number", "keep it secret", "keep it a|our secret",
        "secret games|game", "our little secret", "hands wander|wanders|wandered|wandering", "wandering hands",
    ),
    "physical_abuse": (
        "abus*", "assault*", "harass*", "violen*",
        "hit|hits|hitting me|her|him", "pushed|shoved|shoving me|her|him", "burn|burns|burned|burnt her|him|me",
        "bruis*", "rough with|when", "roughly", "manhandl*", "pinned|pin|pins me|her|him|them down",
        "pinned|pin|pins down", "held me|her|him down", "pinned me|her|him against",
        "grabb* me|her|him|my|his|by|at", "dragg* me|her|him", "restrain*", "tied to|down", "slap*", "punch*",
        "pinched me|her|him", "yank*", "rammed|ramming", "by my|her|his neck|throat", "strangl*", "throttl*",
        "chok* me|her|him", "suffocat*", "kick* me|her|him", "laid|lay|put a finger|hand on me|her|him",
        "he|she _{0,2} hurting|hurts|hurt me|her|him", "tied my|his|her hands|arms", "locked|locking me|her|him in|out",
        "locked|locks|locking in his|her|their|my|a room|bedroom|cupboard|shed", "locked _? up",
        "tipped|poured|threw _? soup|food|water|tea|drink down|over", "take|took|taking advantage",
    ),
    "threats_violence": (
        "threat*", "bully|bullied|bullying", "intimidat*", "followed me|her home|around", "stalk*",
        "to hurt me|her|him|us", "knife", "knives", "machete", "gun", "weapon", "police", "stab|stabbed|stabbing|stabs", "slash|slashed|slashing", "glassed",
        "he|she|they 'll|will|would|'d|gonna kill|hurt|batter|stab|burn|smash", "kill|kills|killing|killed me|him|her|us",
        "finish the job", "break my|his|her legs|arm|arms|neck", "burn _{0,3} house|home|flat down",
        "kicked|kick|kicks _? door in|down", "keep my|your|her|his mouth shut",
        "been following|keeps following|kept following", "attacked|attacking me|her|him|us", "was|were|been attacked",
        "hit|hits|hitting|punched|kicked|slapped _{0,2} lady|man|patient|patients|woman|nurse|staff",
        "threw|throwing|throws things|stuff|cups|plates|food|water|it|them at", "on the head with",
        "hit|punched|kicked|slapped|attacked|bitten by another|a|the resident|patient|residents|patients",
    ),
    "psychological_abuse": (
        "mock*", "mimic*", "taunt*", "ridiculed|ridiculing|ridicule", "humiliat*", "belittl*", "degrad*",
        "laughed|laughing|laughs at me|him|her|us", "laughed it off", "made|making fun of",
        "called me|him|her stupid|fat|lazy|dirty|disgusting|pathetic|useless|thick|names|spaz|retard|moaner",
        "called me|him|her|my|mum|dad a|an _? stupid|fat|lazy|dirty|disgusting|pathetic|useless|thick|baby|moaner|nuisance",
        "name calling", "name - calling", "are you stupid", "stop being a baby", "sign saying",
        "punish*", "shouted|shouting|screamed|screaming|yelled|yelling at me|him|her|my|mum|dad",
        "slammed the door", "like a piece of meat", "too much hassle to hoist|move|help|turn|wash|lift",
        "you 'll wear it", "get me|her|him sectioned", "something to cry|scream|moan|whinge about",
    ),
    "financial_abuse": (
        "takes|took|taking|keeps|kept|keeping|taken my|her|his card|cards|pin|purse|pension|benefits|phone",
        "takes|took|taking|keeps|kept|keeping|taken my|her|his bank card|cards",
        "uses|used|using my|her|his bank card|cards", "uses|used|using my|her|his card|cards|pin _{0,3} for everything|himself|herself",
        "steal*|stole|stolen", "theft",
        "card and pin",
        "taking|taken|took|takes money|cash|savings out|from", "taking|taken|took|takes|stole £ _ from|off|out", "money out of her|his|my account",
        "savings _? gone|disappeared|missing|emptied", "signed _{0,3} house|home|property|flat over",
        "change|changed|changing his|her|their will", 
        "hand|hands|handed over my|her|his pip|pension|benefits|money|wages", "paid into her|his account",
        "scam*", "conned", "fraud*", "keep|keeps giving him|her money",
    ),
    "discrimination": (
        "racis*", "racial*", "homophob*", "transphob*", "islamophob*", "antisemit*", "sexist", "discriminat*",
        "because of my|his|her|their colour|race|religion|headscarf|hijab|turban|skin|accent|disability|sexuality|english",
        "because she|he|i 's|'m|is|am black|gay|trans|muslim|disabled|deaf|foreign|asian|jewish|gypsy",
        "go back to where|your", "foreigner|foreigners", "gypsy|gypsies|traveller|travellers",
        "no blacks", "queer", "spaz", "retard*", "paki",
        "refus* to get|book|provide|call an interpreter", "without an interpreter", "just nod",
        "do not resuscitate _{0,12} without",
    ),
    "neglect": (
        "neglect*", "left unattended|unwashed", "unwashed", "left on|in the|a|her|his|my floor|bedpan|commode",
        "lying|lay|lain|left|found on the floor", "on the floor for", "lay|lain there for", "left lying",
        "left sitting in", "fell out of bed", "found wandering", "wandered off|out",
        "dementia|confused|confusion _{0,10} left alone", "left alone _{0,10} dementia|confused|confusion",
        "in his|her|their|my own mess|urine|faeces|excrement|wee|poo|vomit", "soiled",
        "soaked in|with urine|wee", "wet bed|sheets", "pressure ulcer*|sore*", "bed sore|sores", "bedsore*",
        "out of reach", "untouched", "uneaten", "malnourish*", "split his|her head",
        "catheter|bag _{0,3} overflowing", "same pad|nappy|pads", "left in a|the|her|his|my pad|pads|nappy|nappies",
        "left in my|his|her|their chair|bed|wheelchair for|all", "wet myself|himself|herself",
        "calling out for", "left without water|food|drink|fluids|help|pain",
        "smok* _{0,8} oxygen", "oxygen _{0,8} smok*|fire",
        # medication and treatment errors that harmed, or missed critical doses
        "wrong dose|drug|drugs|chemo|strength|patient|medication|medicine|tablets|insulin", "double dose|dosed",
        "ten times the|my dose", "meant for another patient",
        "another patient|patients 's? medication|tablets|drugs|insulin|meds",
        "someone else 's medication|tablets|drugs|insulin|meds", "someone elses medication|tablets|drugs|insulin|meds",
        "allerg* _{0,8} wristband|band", "wristband _{0,8} allerg*", "given _{0,6} allergic to",
        "missed _{0,2} parkinson*|insulin|epilepsy|anticoagul*", "missed doses",
        "oxygen ran out", "oxygen had ran|run out", "oxygen cylinder ran out",
    ),
    "unsafe_discharge": (
        "discharged|sent home at|after midnight|1am|2am|3am|4am", "discharged|sent home alone at|in the night",
        "discharged|sent home in the middle of the night", "discharged alone at night",
        "discharged|sent home alone|unlocked", "sent home alone|unlocked", "no carers|care arranged|package|organised",
        "sent back _{0,6} with bruising|injuries|bruises",
    ),
    "child_at_risk": (
        "young carer", "year|yr|years old _{0,6} looking|caring after|for me", "year|yr|years old _{0,6} doing|does all|my personal",
        "year|yr|years old _{0,6} personal care",
        "hardly|barely|stopped goes|going|go to school",
        "left her|his|their|the baby|child|kids|toddler|children _{0,3} in the car",
        "left her|his|their|the baby|child|kids|toddler|children _{0,2} alone",
        "drop off parcels", "thought it|they was|were sweets|sweeties", "county lines", "groom*", "marks on her|his", "belt buckle",
        
    ),
}
# Rules that are themselves negated care or control ("nobody turned him", "he won't let me"):
# negation is part of their pattern and never cancels them.
NEGATED_RULES: dict[str, tuple[str, ...]] = {
    "neglect": (
        "NEG _? _? turned him|her|me|them|regularly|for", "NEG _? _? fed him|her|me|them|properly|anything|for",
        "NEG stop when", "NEG _? given water|food|drink|drinks|fluids",
        "NEG _? given any|a water|food|drink|drinks|fluids", "NEG _? given anything to eat|drink",
        "NEG _? helped|help|helping him|her|dad|mum eat|feed|drink|wash|once|to",
        "NEG been changed|washed|turned|checked in|for _{0,2} days|weeks",
    ),
    "domestic_abuse": (
        "NEG _? feel|felt safe", "NEG _{0,4} with him|her there|watching|sat|sitting|listening",
        # a partner who keeps staff from seeing the patient on their own (Home Office: isolation)
        "NEG _{0,5} speak|speaks|talk|talks to|with her|him alone|separately|privately",
        "NEG _{0,5} see|sees|seeing her|him alone|separately|privately",
    ),
    "self_harm": (
        "NEG want|wanting to wake up", "NEG to wake up", "never wake up", "NEG be needing them|it|these",
        "NEG _? see|seeing a|any future", "NEG doing|do this anymore", "NEG doing|do this any more", "NEG go on anymore", "NEG go on like this",
        # the passive wish of C-SSRS item 1, in the words of a prayer or a hope
        "pray|prays|praying|hope|hoping|wish|wishing _{0,3} do|does|did|would|will|wo|could n't|nt|not wake up", "go|goes|went to sleep and NEG wake up",
    ),
    "sexual_harm": ("told|tells|telling|asked|asks|made|makes|warned|said|says _? NEG to tell anyone|anybody|mum|dad|your|my|his|her",),
    "discrimination": (
        "NEG given|provided|offered|booked|get|got an interpreter",
        # consent given without understanding: no valid consent (Mental Capacity Act 2005, s.3)
        "consent form|forms i|we|she|he did|could|do n't|nt|not understand|understood|read",
    ),
}
# Figures of speech and expected effects of treatment with a harm word in them: they cancel a
# harm match they overlap ("I'd kill for a coffee", "I bruise easily on warfarin").
BENIGN: tuple[str, ...] = (
    "kill for", "killer", "killing me slowly", "killed me with", "murder on", "murder", "died of shock",
    "death warmed up", "criminal", "nearly died of", "not the end of",
    "threatening|threatened|threatens to discharge|leave|charge|cancel|report|complain|move|ground", "life _? threat*",
    "was|is|were|are killing me|us", "'d|would happily|gladly throttle|strangle|kill|murder|slap",
    "looked|look|looks like _{0,3} assaulted|attacked|beaten|mugged|punched",
    "neglected to _? send|say|tell|inform|mention|call|ring|book|include|update|reply|respond|answer|chase|sort", "nearly|almost killed me", "heart|panic|asthma attack*",
    "like being stabbed|hit|punched|attacked|kicked", "stabbing pain|pains", "bruis* easily",
    "bruis* _{0,8} blood|injection|injections|cannula|jab|jabs|drip|biopsy|op|operation|surgery|procedure|"
    "warfarin|thinners|needle|needles|site|tests|test|chemo|port|platelets|haemophilia|skin|football",
    "injection|injections|cannula|biopsy|port|chemo|warfarin|thinners|platelets|surgery|op|operation|procedure _{0,6} bruis*",
    "overdose risk", "risk of overdose", "police officer|officers", "abused the system",
    "make|makes|made you|me want to _? jump*|kill*|strangl*|die|punch*", "looked like _{0,2} wanted to strangl*|kill*",
    "kill me for", "kill me now", "ligature free|safe|point|points|risk|risks|cutter|cutters|audit", "assault on the|my|your eyes|ears|senses|nose", "looked|look|looks like _{0,3} in a fight",
    # what would make anyone despair, said of a service; the writer's own exasperation
    "make|makes|made|making|drive|drives you|me|anyone|anybody|someone|one|people want to _? jump*|kill*|strangl*|die|end",
    "unusual punishment", "i|we _? could have|'ve|ve|of throttled|strangled|murdered",
    "i|we _? was|were ready to throttle|strangle|murder|kill",
    "strangle|throttle|murder|kill me if i do|did n't|nt|not mention|fill|write|rate|praise|thank",
    # an illness that "steals" a person; a harm word naming a service or a support
    "dementia|alzheimer*|cancer|disease|illness|stroke|parkinson* _{0,3} steal*|stole|stolen|robb*",
    "abus*|violen*|suicid*|harm nurse|nurses|advocate|advocates|service|services|team|worker|workers|helpline|charity|"
    "officer|support|specialist|lead|champion|awareness|training|prevention|liaison|counsellor|counselling",
    # innocent causes and ordinary effects of care
    "bruis* _{0,8} rugby|sport|sports|netball|hockey|playground|trampoline|bike",
    "black eye _{0,8} rugby|football|sport|sports|netball|hockey|playground|trampoline|bike",
    "kill* myself|himself|herself _{0,3} joke|joking|kidding",
    "rugby|football|sport|sports|netball|hockey|playground|trampoline _{0,6} bruis*", "bread|butter knife",
    "physio*|physiotherap* _{0,3} push*", "machine|machines|meter|atm _{0,4} took|takes|kept|keeps|ate my card|cards",
    "kept|keeps|keeping|keep my|her|his purse|card|cards|money|valuables|pin _? safe|safely|secure|locked",
)
# What a writer says to reassure: feeling safe, a relative's help given with consent, a harm
# denied. A comment with one and no rule that stands is not flagged on the model's word alone:
# the model reads words ("husband", "safe", "bruises") and cannot read that they are reassuring.
REASSURANCE: tuple[str, ...] = (
    "feel|felt|feeling|feels _{0,2} safe|safer|protected|secure|reassured", "safe as houses", "safe hands",
    "kept _? safe", "knowing _{0,2} was|were|is safe", "at my|her|his request", "my choice", "with my|her|his permission|consent",
    "checked with me", "i set it up", "i wanted her|him|them there", "gave permission",
    "NEG _{0,4} rude|rough|aggressive|unkind|nasty|abusive|pressured|judged|neglected|judgemental|mistreated|"
    "harmed|abused|harm",
    # a relative's help the patient asked for or agreed to
    "my|his|her|our|their own? idea|wish|wishes|decision", "mum|dad|nan|grandad 's? own? idea|wish|wishes|decision",
    "all|is|was|been|'s agreed", "above board", "given|gave|signed|written consent", "written|full|my|his|her consent",
    "i 've|have? asked|ask her|him|them|my _? to be|come|do|fill|handle|help|manage|look|set|sort|speak|deal|read|"
    "collect|check|stay|answer|because|so", "i 've|have? asked|ask for my|her|him|them _? to be|come|have|stay|help",
    "am|'m|is|was|are|were very|really|quite? happy|glad|pleased with|for that|this|it|him|her|them",
    "NEG manage|cope without him|her|them", "works|worked for both? of? us",
    "check|checks|checked|bank|banking|statements|receipts _{0,4} together",
    "check|checks|checked|bank|banking|statements|receipts _{0,4} with me|her|him",
    "trust|trusted them", "trust|trusted the staff|nurses|team", "no worries|concerns at all|about",
    # expected effects of illness or treatment, said by those treating it
    "nurse|nurses|doctor|doctors|consultant|team|midwife|staff|they|gp|physio|pharmacist said|say|says|told|explained "
    "_{0,4} normal|expected|natural|common", "to be expected", "known|common|usual side effect|effects",
    "back to his|her|my|their usual|normal|old self", "herself|himself|myself again",
)
# Cues that what follows is asked about, feared or risked, not something that happened; they
# count within this many tokens before a match.
_HYPOTHETICAL = re.compile(
    r"\b(?:ask(?:s|ed|ing) (?:\w+ ){0,2}(?:if|whether|about|how)|risk of|worried (?:about|i'd|i would|that)|"
    r"worr(?:y|ies) (?:about|that)|(?:afraid|scared|fear) of being|horror stories|"
    r"dreading|in case|whether|check(?:ed|s|ing)? (?:(?:me|him|her|my \w+|his \w+|her \w+) )?(?:if|for|whether)|"
    r"at risk|how i got|(?:can|may|might|could) (?:cause|lead to|trigger|bring on)|side effects?)\b"
)
_HYPOTHETICAL_TOKENS = 8
# ... and not past the end of a sentence, nor past an "and" or "but" that starts a clause of its
# own: "the nurse kept asking how I was and my husband hit me" tells of the hitting, where "can
# cause low mood and suicidal thoughts" is still a risk.
_CLAUSE_STARTS = frozenset({"i", "he", "she", "they", "we", "you", "my", "his", "her", "their", "our", "then"})
# A sentence that is a bare "no": the answer to a question before it ("Has anyone been violent
# towards you? No."), which asked about the harm, not told of it ...
_ANSWERED_NO = re.compile(r"^\W*(?:a\W+)?(?:no|never|nope|not at all)\s*(?:[.,!;]|$)")
# ... a question put to the reader, as a survey's is; not the writer's own ("Who will stop him
# hitting me? No one."), nor a rhetorical one answered with more ("No idea who to ask.").
_SURVEY_QUESTION = re.compile(r"\b(?:has|have|had|did|do|does|were|was|are|is)\s+(?:anyone|anybody|someone|somebody|you)\b")
# A sentence placing something in the past and settled ("years ago", "in 1998", "long since
# recovered", "all behind me"), or followed by one saying it is settled ("She's well now"), is
# history, not a current risk; unless either says it goes on (_CURRENT).
_RESOLVED = re.compile(
    r"\b(?:years ago|last year|in (?:19|20)\d\d|back in the day|as a child|as a teenager|"
    r"when i was (?:a )?(?:child|young|little|teenager|\d+)|in my (?:teens|\d0s|twenties|thirties)|"
    r"long since|years back|behind (?:me|us|her|him) now|all behind|used to|no longer|recovered|in recovery|"
    r"years into recovery|sober|divorced|(?:was|were|been|all) (?:looked into|dealt with|sorted|explained|resolved|closed)|"
    r"sorted (?:it|this|that)|closed years|(?:a )?long time ago|ancient history|an apology|(?:moved|lives|living) abroad|"
    r"(?:have|has|had)n't heard from|healed|previously|in the (?:19)?[5-9]0s|as a young person|when i lived|"
    r"back then|far behind|(?:much )?better place|doing (?:really |very )?well|thriving|got the man|"
    r"removed and reported|(?:is|are|am|'s|'m) now (?:well|fine|stable|safe|at|in|studying|training)|"
    r"(?:well|fine|stable|safe) now|now (?:run|volunteer|work)|"
    # what was done about it: reported, investigated, dealt with, put right
    r"(?:was|were|been|got|is|it's|has been) (?:investigated|reported|spotted|caught|arrested|banned|removed|sacked|"
    r"dismissed|struck off|refunded|shut down)|dealt with (?:it|this|that|him|her|them)|apologi[sz]ed|refunded|"
    r"(?:security|police) (?:removed|escorted|took away) (?:him|her|them)|banned from|"
    r"no (?:contact|trouble|problems?|issues?) since|(?:ever )?since then|(?:a few|several|many|some|\w+) years on|"
    r"(?:n't|not) (?:\w+ )?(?:for|in) (?:a long time|years|ages|months))\b"
)
_CURRENT = re.compile(
    r"\b(?:again|still|keeps?|every (?:day|night|week|time)|last (?:night|week)|yesterday|this (?:week|morning)|"
    r"at the moment|currently|ongoing|(?:i'm|i am|i feel|she's|he's|they're) (?:so |really |very )?(?:frightened|scared|terrified|afraid)|nothing (?:was |has been |got |is being )?done|nothing happened|ignor(?:ed|ing))\b"
)
# Recovery and gratitude, not harm, going on: "working again", "still grateful".
_NOT_CURRENT = re.compile(
    r"\b(?:(?:working|walking|driving|eating|sleeping|smiling|laughing|myself|himself|herself) again|"
    r"still (?:so |very |really )?(?:grateful|thankful))\b"
)
# A cue of either kind right after a negator says the opposite: "hasn't fallen again" is settled,
# "it was never dealt with" is not.
_NEGATED_BEFORE = re.compile(
    r"(?:\b(?:not|never|no|nobody|nothing|without|cannot|(?:do|does|did|is|was|are|were|has|have|had|could|would|"
    r"should|ca|wo)nt)|n['’]t)\W+(?:\w+\W+){0,2}$"
)


def _said(pattern: re.Pattern, text: str) -> bool:
    """Whether ``pattern`` occurs in ``text`` (lower case) other than right after a negator."""
    return any(not _NEGATED_BEFORE.search(text[max(0, m.start() - 40):m.start()]) for m in pattern.finditer(text))


def settled(text: str) -> bool:
    """Whether ``text`` (lower case) tells of settled history and nothing in it goes on."""
    return _said(_RESOLVED, text) and not _said(_CURRENT, _NOT_CURRENT.sub(" ", text))

# A relative's control of letters, phones or money that the patient asked for is help, not abuse.
_CONSENT = re.compile(
    r"\b(?:at my request|i ask(?:ed)? (?:him|her|them) to|my choice|i trust (?:him|her|them)|"
    r"with my (?:permission|consent|agreement)|i set (?:it|this) up|i'm happy for|i am happy for)\b"
)
_CONSENTED = frozenset({"domestic_abuse", "financial_abuse"})
# Rules naming the response to a harm, not the harm: "won't tell the police" denies the telling,
# so a cancelled match of one says nothing reassuring (see Assessment.cancelled).
_RESPONSES = frozenset({"police", "injunction", "restraining order", "molestation order", "refuge", "idva"})
_SENTENCE_ENDS = frozenset({".", "!", "?"})
# "If I say no he threatens me": a "no" said is an answer, not a negator ("said no to" still is).
_ANSWERING = frozenset({"say", "says", "said", "saying", "tell", "told", "answer", "answered"})
_PERSONS = frozenset({"him", "her", "them", "me", "us"})
# Words that end the clause a negator governs: "no one came and he lay on the floor" negates
# the coming, not the lying.
_CLAUSE_BREAKS = frozenset(
    {".", "!", "?", ";", ",", "-", "but", "though", "although", "and", "so", "because", "when", "then",
     "until", "while", "after", "since", "if", "whether"}
)


CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys([*HARM_RULES, *NEGATED_RULES]))
# The prefilter of the safeguarding flag: a text holding no rule's anchor cannot match a rule.
_RULE_STRINGS = [r for rules in (*HARM_RULES.values(), *NEGATED_RULES.values()) for r in rules]
CUES = prefilter(_RULE_STRINGS)
# A run of spaces and punctuation is cut to three characters before Python's regex engine reads
# a text: a wildcard ("\S+\W*") and the gaps around it can split a long run in exponentially
# many ways ("No" and 40 "!" took 2 s, 50 took 9 s). An anchor matches a run of three wherever
# it matches a longer one, but for a wildcard standing for a punctuation token: "took £ — from"
# becomes "took £ from" and is missed (Arrow's prefilter reads the text uncut and finds it).
_PUNCTUATION_RUN = re.compile(r"(\W{3})\W+")
# The same, in parts small enough for Arrow's RE2 to scan a batch fast.
CUE_PARTS = prefilter_parts(_RULE_STRINGS)
# A comment matching none of these cannot hold a reassuring phrase, nor one not matching this
# be settled: the gates Arrow's RE2 scans a batch with (see feedback_nlp.flags.reassuring). RE2's
# \b, \w and \d know ASCII only, Python's every script: they are right for a text in ASCII
# only, and reassuring sends any other to Python.
REASSURANCE_PARTS = rule_regexes(REASSURANCE)
SETTLED_GATE = _RESOLVED.pattern


def _searchable(lower: str) -> str:
    """``lower`` with its runs of spaces and punctuation cut, for a prefilter (_PUNCTUATION_RUN)."""
    return _PUNCTUATION_RUN.sub(r"\1", lower)


def has_cue(lower: str) -> bool:
    """Whether ``lower`` (a text in lower case) holds the anchor of a safeguarding rule (CUES)."""
    return CUES.search(_searchable(lower)) is not None


@dataclass(frozen=True)
class SafeguardingMatch:
    """One rule that matched: its category, its span in tokens, the matched text and whether it stands."""

    rule: str
    category: str
    start: int
    end: int
    text: str
    cancelled_by: str | None = None


@dataclass(frozen=True)
class Assessment:
    """What the rules read in one comment: the categories (of ``CATEGORIES``) and the words of
    the rules that stand, in the order found, both empty when none does; and whether a rule
    matched that its context cancelled (a harm negated, idiomatic, hypothetical or settled)."""

    categories: tuple[str, ...]
    words: tuple[str, ...]
    cancelled: bool = False


# Distinct tokens the safeguarding matcher remembers before it starts afresh.
_NORM_CACHE_SIZE = 200_000


class _Gate(NamedTuple):
    """The Matcher of one rule, and where in a doc its matches can lie (see key_word_reach)."""

    matcher: object  # a spacy.matcher.Matcher, imported only when the rules are built
    negated: bool  # the rule holds NEG, so only a doc with a negator can match it
    lowers: frozenset  # the hash ids of the LOWERs its key word accepts
    norms: frozenset  # the NORMs it accepts
    before: int | None  # the most tokens a match holds before its key word; None: read every token
    after: int | None  # and after it

    def matches(self, doc, lowers: list[int], norms: list[str]) -> list[tuple[int, int, int]]:
        """The Matcher's (key, start, end) matches in ``doc``, whose tokens' LOWER ids and NORMs
        are ``lowers`` and ``norms``: found in the windows around the key word's tokens only.

        The Matcher makes a Python Token of every token it reads, and most of a comment is out of
        reach of a rule's few words: on the comments of 100,000 synthetic rows that reach spaCy,
        the rules' read took a fifth less time so.
        """
        if self.before is None:
            return self.matcher(doc)
        windows = []
        for i, (lower, norm) in enumerate(zip(lowers, norms)):
            if lower in self.lowers or norm in self.norms:
                start, end = max(0, i - self.before), min(len(norms), i + self.after + 1)
                if windows and start <= windows[-1][1]:
                    windows[-1][1] = end
                else:
                    windows.append([start, end])
        return [(key, a + start, a + end) for a, b in windows for key, start, end in self.matcher(doc[a:b])]


class SafeguardingRules:
    """spaCy Matcher rules for the safeguarding flag, built lazily on first use.

    Holds only its rule strings; the spaCy pipeline and matchers are rebuilt after unpickling,
    so the object is cheap to send to worker processes.

    Examples
    --------
    >>> rules = SafeguardingRules()
    >>> rules.assess("He was left on the floor for hours after she fell").categories  # doctest: +SKIP
    ('neglect',)
    """

    def __init__(self, *, harm=HARM_RULES, negated=NEGATED_RULES, benign=BENIGN, reassurance=REASSURANCE):
        self.harm = {category: tuple(rules) for category, rules in harm.items()}
        self.negated = {category: tuple(rules) for category, rules in negated.items()}
        self.benign = tuple(benign)
        self.reassurance = tuple(reassurance)
        self._built = None

    def __getstate__(self):
        return {**self.__dict__, "_built": None}

    def _entries(self) -> dict[str, list[tuple[str | None, str]]]:
        """Each kind's (category, rule) pairs; a matcher key is the kind and an index into them."""
        return {
            "harm": [(c, r) for c, rules in self.harm.items() for r in rules],
            "negated": [(c, r) for c, rules in self.negated.items() for r in rules],
            "benign": [(None, r) for r in self.benign],
            "reassurance": [(None, r) for r in self.reassurance],
        }

    def _build(self):
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.tokens import Doc

        nlp = spacy.blank("en")
        entries = self._entries()
        stems = stems_of(rule for pairs in entries.values() for _, rule in pairs)
        longest = max(map(len, stems))
        # Matcher's cost grows with its number of patterns at every token; PhraseMatcher's does
        # not, so only the rules with wildcards, negators or optional words go to a Matcher.
        phrases = PhraseMatcher(nlp.vocab, attr="NORM")
        # Each of those has a Matcher of its own, run only on a doc holding the NORM of one of
        # its key words (see key_words), and a negated rule only on a doc holding a negator:
        # most docs run none or one, where one Matcher of all of them cost four times the rest
        # of the flags. The phrases that cancel (benign) are looked for only in a comment with a
        # harm match, and those that reassure only when asked whether a comment reassures. They
        # always take a Matcher, as they must match their words exactly: PhraseMatcher compares
        # NORMs, where "killer" is the stem "kill".
        gated = {"core": {}, "benign": {}, "reassurance": {}}
        for kind, pairs in entries.items():
            group = kind if kind in ("benign", "reassurance") else "core"
            for i, (_, rule) in enumerate(pairs):
                key = f"{kind}:{i}"
                if group == "core" and is_phrase_rule(rule):
                    docs = [Doc(nlp.vocab, words=words) for words in phrases_of(rule)]
                    for doc in docs:
                        mark_stems(doc, stems, longest, {})
                    phrases.add(key, docs)
                    continue
                matcher = Matcher(nlp.vocab)
                matcher.add(key, rule_patterns(rule, stems))
                lowers, norms, before, after = key_word_reach(rule, stems) or ((), (), None, None)
                gate = _Gate(matcher, "NEG" in rule.split(), frozenset(map(nlp.vocab.strings.add, lowers)),
                             frozenset(norms), before, after)
                for word in key_words(rule):
                    gated[group].setdefault(stem_norm(word, word, stems, longest), []).append(gate)
        self._built = (nlp, phrases, gated, stems, longest, {}, entries)
        return self._built

    def _read(self, text: str, *, rules: bool = True, reassurance: bool = False) -> tuple[list[SafeguardingMatch], bool]:
        """The harm and negated-care matches of ``text`` (none unless ``rules``) and, when asked,
        whether it holds a reassuring phrase."""
        from spacy.attrs import LOWER

        nlp, phrases, gated, stems, longest, norm_cache, entries = self._built or self._build()
        # Every new token adds to spaCy's string store and the norm cache: start afresh now and
        # then, so that memory stays flat over millions of comments.
        if len(norm_cache) > _NORM_CACHE_SIZE:
            nlp, phrases, gated, stems, longest, norm_cache, entries = self._build()
        doc = nlp.make_doc(text)
        norms = mark_stems(doc, stems, longest, norm_cache)
        lowers = doc.to_array(LOWER).tolist()
        present = set(norms)
        negated = not NEGATORS.isdisjoint(present)

        def run(group):
            # Each rule once, though a doc holds several of its key words.
            gates = {id(g): g for n in present for g in gated[group].get(n, ()) if negated or not g.negated}
            found = [hit for gate in gates.values() for hit in gate.matches(doc, lowers, norms)]
            return [(*nlp.vocab.strings[key].split(":"), start, end) for key, start, end in found]

        hits = []
        if rules:
            hits = [(*nlp.vocab.strings[key].split(":"), start, end) for key, start, end in phrases(doc)] + run("core")
            if any(kind == "harm" for kind, *_ in hits):
                hits += run("benign")
        if reassurance:
            hits += run("reassurance")
        benign = [(start, end) for kind, _, start, end in hits if kind == "benign"]
        consent = _CONSENT.search(text.lower()) is not None
        matches = []
        for kind, index, start, end in sorted(hits, key=lambda h: h[2]):
            if kind not in ("harm", "negated"):
                continue
            category, rule = entries[kind][int(index)]
            cancelled = (
                "consent" if consent and category in _CONSENTED
                else _harm_cancelled(doc, start, end, benign) if kind == "harm" else None
            )
            matches.append(SafeguardingMatch(rule, category, start, end, doc[start:end].text, cancelled))
        reassuring = any(
            kind == "reassurance" and _reassurance_stands(doc, start, end, entries[kind][int(index)][1])
            for kind, index, start, end in hits
        )
        return matches, reassuring

    def matches(self, text: str) -> list[SafeguardingMatch]:
        """Every rule match in ``text``, with ``cancelled_by`` set where negation or context cancels it."""
        return self._read(text)[0]

    def assess(self, text: str) -> Assessment:
        """The categories and words of the rules that stand in ``text``."""
        matches = self.matches(text)
        standing = [m for m in matches if m.cancelled_by is None]
        return Assessment(
            categories=tuple(dict.fromkeys(m.category for m in standing)),
            words=tuple(dict.fromkeys(m.text for m in standing)),
            cancelled=any(m.cancelled_by is not None and m.rule not in _RESPONSES for m in matches),
        )

    def holds_reassurance(self, text: str) -> bool:
        """Whether ``text`` holds a reassuring phrase (``REASSURANCE``) that says what it seems
        to: not negated in its clause, not asked about ("asked if I felt safe"). No prefilter:
        see :func:`feedback_nlp.flags.reassuring`."""
        return self._read(text, rules=False, reassurance=True)[1]

    def flag(self, text: str) -> bool:
        """Whether ``text`` suggests a risk of harm to a person (no prefilter: see :func:`feedback_nlp.flags.detect_flags`)."""
        return any(m.cancelled_by is None for m in self.matches(text))


def _answers(doc, i: int) -> bool:
    """Whether the "no" at ``i``, after a verb of saying, is an answer ("say no", "say no to him"),
    not a negation of what follows ("said no to feeling hopeless")."""
    after = doc[i + 1:i + 3]
    return not (len(after) and after[0].lower_ == "to") or (len(after) == 2 and after[1].lower_ in _PERSONS)


def _reassurance_stands(doc, start: int, end: int, rule: str) -> bool:
    """Whether a reassuring phrase says what it seems to: not negated in its clause ("I didn't
    feel safe"), not asked about ("asked if I felt safe"); a phrase that holds its own negator
    ("nobody was rough") must not run over a clause break ("no one came and he fell")."""
    if "NEG" in rule.split():
        return not any(t.lower_ in _CLAUSE_BREAKS for t in doc[start + 1:end])
    clause_start = start
    while clause_start > 0 and doc[clause_start - 1].lower_ not in _CLAUSE_BREAKS:
        clause_start -= 1
    if any(t.norm_ in NEGATORS or t.lower_ in NEGATORS for t in doc[clause_start:start]):
        return False
    return not _hypothetical(doc, start)


def _hypothetical(doc, start: int) -> bool:
    """Whether a cue that what starts at ``start`` is asked about, feared or risked comes
    shortly before it (``_HYPOTHETICAL``), in its clause."""
    first = start
    while first > max(0, start - _HYPOTHETICAL_TOKENS):
        word = doc[first - 1].lower_
        if word in _SENTENCE_ENDS or word == ";" or (word in ("and", "but") and doc[first].lower_ in _CLAUSE_STARTS):
            break
        first -= 1
    return bool(_HYPOTHETICAL.search(doc[first:start].text.lower()))


def _answered_no(doc, start: int, end: int) -> bool:
    """Whether the sentence holding a match from ``start`` to ``end`` is a survey's question
    that the next sentence answers with a bare "no"."""
    while end < len(doc) and doc[end].text not in _SENTENCE_ENDS:
        end += 1
    if not (end < len(doc) and doc[end].text == "?" and _ANSWERED_NO.search(doc[end + 1:end + 5].text.lower())):
        return False
    while start > 0 and doc[start - 1].text not in _SENTENCE_ENDS:
        start -= 1
    return bool(_SURVEY_QUESTION.search(doc[start:end].text.lower()))


def _harm_cancelled(doc, start: int, end: int, benign) -> str | None:
    """Why a harm match does not stand (idiom, negation, hypothetical, settled history), or None."""
    if any(s < end and start < e for s, e in benign):
        return "idiom"
    clause_start = start
    while clause_start > 0 and doc[clause_start - 1].lower_ not in _CLAUSE_BREAKS:
        clause_start -= 1
    if any(
        (t.norm_ in NEGATORS or t.lower_ in NEGATORS)
        and not (0 < t.i and doc[t.i - 1].lower_ in _ANSWERING and _answers(doc, t.i))
        for t in doc[clause_start:start]
    ):
        return "negation"
    if _hypothetical(doc, start) or _answered_no(doc, start, end):
        return "hypothetical"
    sent_start = start
    while sent_start > 0 and doc[sent_start - 1].text not in _SENTENCE_ENDS:
        sent_start -= 1
    # This sentence and the next: "He was bullied and self-harmed. He's thriving now."
    sent_end, ends = end, 0
    while sent_end < len(doc) and ends < 2:
        ends += doc[sent_end].text in _SENTENCE_ENDS
        sent_end += 1
    if settled(doc[sent_start:sent_end].text.lower()):
        return "long_ago"
    return None


# One instance, shared by every call; its matchers are built on first use.
RULES = SafeguardingRules()


def is_safeguarding(text) -> bool:
    """Whether one comment suggests a risk of harm to a person (abuse, neglect, self-harm, ...).

    Negated or hypothetical mentions ("I never felt unsafe", "they asked if I felt safe at
    home") and figures of speech ("I'd kill for a coffee") do not count.
    """
    if is_missing(text) or not has_cue(text.lower()):
        return False
    return RULES.flag(cue_sentences(text))


_SENTENCE_END = re.compile(SENTENCE_END)


def cue_sentences(text: str) -> str:
    """The sentences of ``text`` that hold a safeguarding cue, each with the sentence after it
    when that one says something is settled, goes on or was asked for ("I ask him to."), joined.

    The rules and their negation and hypothetical checks look within a sentence, and the
    long-ago check within it and the next ("It was investigated and has healed."), so the rest
    of a long comment only costs spaCy time.
    """
    sentences = _SENTENCE_END.split(text)
    if len(sentences) == 1:
        return text
    cued = [has_cue(s.lower()) for s in sentences]
    # The next sentence only where it can tell the long-ago check something.
    return " ".join(
        s for i, s in enumerate(sentences)
        if cued[i] or (i and cued[i - 1] and any(p.search(s.lower()) for p in (_RESOLVED, _CURRENT, _CONSENT, _ANSWERED_NO)))
    )
