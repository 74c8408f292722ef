"""Safeguarding (issue 18): the figures on the independent sets, the categories and words a
flag carries, and what the rules read: clause-scoped negation, exact idioms, reassurance."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_nlp import load
from feedback_nlp.flags import CATEGORIES, RULES, CommentFlags, is_safeguarding, read_flags, reassures, reassuring
from feedback_nlp.flags import safeguarding
from feedback_nlp.flags.rule_language import _most_tokens
from feedback_nlp.decide import MODEL_CATEGORY, SURE_SAFEGUARDING, decide_safeguarding

from .conftest import DEFAULT_MODEL, REPO

EVAL = REPO / "data" / "eval"


@pytest.fixture(scope="module")
def default():
    return load(DEFAULT_MODEL)


# Floors at the figures measured when the change landed, less 0.001 (see docs/safeguarding.md).
# Each set was written by an independent writer. v1 to v9 were tuned on in turn or measured once
# and the safeguarding head now learns them, so theirs are figures on training data, held as
# regressions; v10, written after the head last changed, was measured once after it.
@pytest.mark.parametrize(
    ("name", "recall", "precision"),
    [
        ("safeguarding_eval_v1.csv", 0.999, 0.988),
        ("safeguarding_eval_v2.csv", 0.999, 0.976),
        ("safeguarding_eval_v3.csv", 0.999, 0.898),
        ("safeguarding_eval_v4.csv", 0.999, 0.875),
        ("safeguarding_eval_v5.csv", 0.999, 0.884),
        ("safeguarding_eval_v6.csv", 0.999, 0.889),
        ("safeguarding_eval_v7.csv", 0.999, 0.884),
        ("safeguarding_eval_v8.csv", 0.999, 0.866),
        ("safeguarding_eval_v9.csv", 0.999, 0.880),
        ("safeguarding_eval_v10.csv", 0.975, 0.817),
    ],
)
def test_the_flag_holds_its_figures_on_the_independent_sets(default, name, recall, precision):
    table = pd.read_csv(EVAL / name)
    said = np.array(["safeguarding" in tag.flags for tag in default.tag_many(table["text"].tolist())])
    truth = table["label"].to_numpy() == 1
    assert (said & truth).sum() / truth.sum() >= recall - 1e-9
    assert (said & truth).sum() / said.sum() >= precision - 1e-9


def test_a_flag_names_its_category_and_with_explain_the_words_that_raised_it(default):
    [tag] = default.tag_many(["He reads my texts every night and I'm frightened of him."], explain=True)
    assert "safeguarding" in tag.flags and tag.review_reasons[0] == "safeguarding:domestic_abuse"
    assert "reads my texts" in tag.evidence["safeguarding"]
    frame = default.tag_frame(pd.DataFrame({"comment": ["I keep cutting my arms since the diagnosis."]}), "comment", explain=True)
    assert frame.loc[0, "review_reasons"].startswith("safeguarding:self_harm")
    assert "safeguarding: cutting my arms" in frame.loc[0, "evidence"]


def test_the_head_reads_what_was_said_not_what_was_asked(default):
    # Its examples come without a question: with the question's features it learnt that a
    # comment without one is likely an example, half of them flagged ("Don't know" scored 0.70).
    texts = ["Don't know", "He hits me when he has been drinking", "The parking was awful"]
    asked = default.model.predict_scores(texts, ["What could we do better?"] * 3).safeguarding
    np.testing.assert_allclose(default.model.predict_scores(texts).safeguarding, asked)
    assert "safeguarding" not in default.tag("Don't know").flags


def test_the_head_alone_raises_the_flag_unless_the_comment_reassures_and_the_head_is_unsure():
    texts = ["Everything feels grey and pointless lately.", "I felt completely safe on the ward at night."]
    found = read_flags(texts)
    flags, categories = decide_safeguarding(texts, found, np.array([0.6, 0.6]), 0.5)
    assert flags == [("safeguarding",), ()] and categories == [(MODEL_CATEGORY,), ()]
    # A head this sure is not vetoed: the rules misread negation and settled history more often.
    sure = decide_safeguarding(texts, found, np.array([0.6, SURE_SAFEGUARDING]), 0.5)
    assert sure[1] == [(MODEL_CATEGORY,), (MODEL_CATEGORY,)]
    # Without the head's word nothing is flagged; a standing rule needs no head.
    assert decide_safeguarding(texts, found, np.array([0.4, 0.4]), 0.5)[0] == [(), ()]
    ruled = ["He locked her in the bedroom again."]
    assert decide_safeguarding(ruled, read_flags(ruled), np.array([0.0]), 0.5)[1] == [("physical_abuse",)]


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        # A negator governs its own clause, however far back in it ...
        ("At no point in the whole week did anyone leave my father lying in a soiled bed.", False),
        # ... and not the next clause.
        ("No one came when he fell and he was lying on the floor for an hour.", True),
        # An idiom is matched on its exact words: "killer" no longer cancels every "kill".
        ("He said he would kill me if I told the nurse.", True),
        ("I'd kill for a decent cup of tea on that ward.", False),
        ("The radiotherapy nearly killed me but I am through it now.", False),
        # Settled history is not a current risk.
        ("I self-harmed as a student, long since recovered, and the nurse was kind about my scars.", False),
        # ... read over the next sentence too, and undone by a cue that it goes on or was never settled.
        ("My brother hit me when we were kids. That was all dealt with and we get on well.", False),
        ("He hit me years ago. He still does when he drinks.", True),
        ("Mum got a pressure sore here. It was never dealt with.", True),
        # An idiom of exasperation; a harm word naming a service; "say no" is an answer, not a negator.
        ("The booking line would make anyone want to end it all.", False),
        ("The domestic abuse nurse saw everyone in the clinic, which I thought was good practice.", False),
        ("If I say no to him he threatens me.", True),
        # Round 5: a passive wish as a hope, a place that draws the writer, staff's threat of
        # punishment, a partner keeping staff from the patient alone, consent not understood.
        ("Some mornings I hope I won't wake up at all.", True),
        ("He didn't wake up until the anaesthetic wore off, the nurse said that was normal.", False),
        ("The railway line by my flat looks more tempting every week.", True),
        ("The cakes in the cafe looked very tempting.", False),
        ("The ward sister told my dad she would give him something to cry about.", True),
        ("Her husband never lets the nurses see her alone.", True),
        ("The volunteer's hands wandered when he helped me onto the bed.", True),
        ("I signed a consent form I couldn't read and nobody explained it.", True),
        ("My son smashed my phone so I could not ring the clinic.", True),
        # Round 7: a future not seen is said negated; a question quoted and answered "no" asked
        # about a harm, but a writer's own question about one still tells of it.
        ("I can't really see a future after this.", True),
        ("Has anyone been violent towards you in the past year? No.", False),
        ("Q: Did you feel threatened by anyone? A: No, not at all.", False),
        ("Did anyone notice she was left on the floor for hours? Nobody cared.", True),
        ("Did anyone notice she was left on the floor for hours? No one cared.", True),
        ("Is it normal that my husband hits me? No idea who to ask.", True),
        ("The nurse kept asking how I was and my husband hit me in front of her.", True),
        ("Reception took my documents and lost them.", False),
        ("The ward is ligature free.", False),
        ("No doubt I see a future now.", False),
        ("His family keep my passport and I cannot come alone.", True),
    ],
)
def test_what_the_rules_read(text, flagged):
    assert is_safeguarding(text) is flagged


@pytest.mark.parametrize(
    "text",
    [
        "I didn't really feel safe going home to him.",
        "I didn’t feel safe with him there.",
        "We dont feel safe when he is drinking.",
        "i cannot feel safe in that house",
        "I wouldntve felt safe going home to him",
        "Never once felt safe at home this year.",
        "Some nights I pray I just don't wake up.",
        "Every night I wish I wouldn’t wake up.",
        "I signed a consent form I couldn’t read",
        "He took £ 200 from her purse",
    ],
)
def test_the_prefilter_lets_through_every_way_a_negator_or_apostrophe_is_written(text):
    # Anchors keep a rule's negator as written ("didn't", "dont", "cannot", "wouldntve"), and an
    # apostrophe either way: what the rules read must pass both filters, Python's and Arrow's.
    assert RULES.assess(text).categories
    assert safeguarding.CUES.search(text.lower())
    assert read_flags([text])[0].safeguarding == RULES.assess(text)


@pytest.mark.parametrize(
    ("text", "reassuring"),
    [
        ("Nobody was ever rough with him.", True),
        ("I felt safe on the ward.", True),
        ("He hit me years ago. It was all dealt with and we get on well.", True),
        ("My son has my bank card and takes my pension. It is all above board. I asked him to.", False),
        ("They asked me about it. He hit me.", False),
    ],
)
def test_a_reassurance_read_given_the_batchs_reading_says_what_a_read_afresh_says(text, reassuring):
    assert reassures(text) is reassuring
    assert reassures(text, read_flags([text])[0].safeguarding) is reassuring


def _read_whole(texts) -> tuple[list[bool], list]:
    """Whether each comment reassures, read with no gate (what reassuring must say), and the
    rules' reading of each."""
    found = [read.safeguarding for read in read_flags(texts)]
    return [
        not a.categories and (a.cancelled or safeguarding.settled(t.lower()) or RULES.holds_reassurance(t))
        for t, a in zip(texts, found)
    ], found


def test_the_batch_reassurance_read_says_what_reading_every_whole_comment_says(corpus):
    # reassuring rules out most of a batch with RE2 gates before spaCy parses a comment: it
    # must say what the ungated reading says.
    texts = corpus["text"].tolist() + [
        t for name in ("safeguarding.csv", "safeguarding_train.csv", "theme_sentiment.csv")
        for t in pd.read_csv(REPO / "data" / "flags" / name)["text"]
    ]
    whole, found = _read_whole(texts)
    assert sum(whole) > 100
    assert reassuring(texts, found).tolist() == whole


@pytest.mark.parametrize(
    "text",
    [
        # A sentence end spaCy does not see ("St.", "...") must not hide a negator or a question.
        "I have never once at St. Mary's felt safe.",
        "They asked if... I felt safe at home.",
        "Not once was Dr. Smith rude to me.",
        # A reassuring phrase's word inside a token the text writes as one.
        "Seen at 10am happy with that.",
        "My daughter does my shopping, (Mum)'s agreed to it.",
        "Nobody wasnt rude.",
    ],
)
def test_the_reassurance_gates_let_through_what_spacy_reads(text):
    whole, found = _read_whole([text])
    assert reassuring([text], found).tolist() == whole


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["years ago", "in 1998", "in 19\u0665\u0668", "used to", "n't heard from", "a few", "years on",
                             "sorted it", "well now", "apologised", "not for ages"]),
            st.text("aé\u0665ß 1x.'’", max_size=3),
        ),
        max_size=6,
    ).map("".join)
)
def test_the_settled_gate_passes_every_text_python_finds_settled(text):
    # RE2 knows ASCII word characters and digits only; the batch read must still find settled
    # every text Python's regex does, in any script.
    whole, found = _read_whole([text])
    assert reassuring([text], found).tolist() == whole


def _rule_words():
    """Every word the rules name (a stem with an ending), the negators, and some filler, with
    negations glued as the text writes them."""
    words = {"and", "the", "he", "me", ".", ",", "?", "x", "n't", "n’t", "won’t", "didnt", "can't"}
    for pairs in RULES._entries().values():
        for _, rule in pairs:
            for word in rule.split():
                if word == "NEG" or word.startswith("_"):
                    continue
                words |= {o[:-1] + "ing" if o.endswith("*") else o for o in word.rstrip("?").split("|")}
    return sorted(words | safeguarding.NEGATORS)


def _read_both_ways(rules, text):
    """Each rule's matches in ``text`` read around its key words, and read over the whole doc."""
    nlp, _, gated, stems, longest, cache, _ = rules._built or rules._build()
    doc = nlp.make_doc(text)
    norms = safeguarding.mark_stems(doc, stems, longest, cache)
    lowers = [nlp.vocab.strings.add(t.lower_) for t in doc]
    gates = {id(g): g for group in gated.values() for gates in group.values() for g in gates}.values()
    return [g.matches(doc, lowers, norms) for g in gates], [g.matcher(doc) for g in gates]


_RULE_STRINGS = sorted({rule for pairs in RULES._entries().values() for _, rule in pairs})
_STEMS = sorted(safeguarding.stems_of(_RULE_STRINGS))


@st.composite
def _said(draw, words=st.sampled_from(_rule_words())):
    """A rule said in words: each word one of its options, each wildcard as many words as it takes."""
    said = []
    for word in draw(st.sampled_from(_RULE_STRINGS)).split():
        if word.startswith("_{"):
            said += draw(st.lists(words, max_size=_most_tokens(word)))
        elif word == "_" or word == "_?":
            said += draw(st.lists(words, min_size=word == "_", max_size=1))
        elif word == "NEG":
            said.append(draw(st.sampled_from(sorted(safeguarding.NEGATORS))))
        elif not word.endswith("?") or draw(st.booleans()):
            option = draw(st.sampled_from(word.rstrip("?").split("|")))
            if option.endswith("*"):  # a word starting with the stem, or with a longer one
                option = draw(st.sampled_from([m for m in _STEMS if m.startswith(option[:-1])])) + "ing"
            said.append(option)
    return said


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_said(), st.lists(st.sampled_from(_rule_words()), max_size=3)), max_size=6))
def test_a_rule_read_around_its_key_words_finds_what_it_finds_in_the_whole_comment(parts):
    # Each rule's Matcher reads only the tokens within reach of its key word; over rules said
    # among other rules' words, every rule must find what a read of the whole comment does.
    around, whole = _read_both_ways(RULES, " ".join(word for part in parts for word in part))
    assert around == whole


@pytest.mark.parametrize("text", ["he wo n’t say . he won’t let me go", "they all hurt me", "he hit me in the face",
                                  "the physiotherapist then pushed me"])
def test_rules_of_the_users_own_read_around_their_key_words_as_over_the_whole_comment(text):
    # Their own rules may use any wildcard spaCy knows ("_{2}", "_{1,}"), glue a curly "n’t"
    # (whose NORM is "not", where its LOWER is what the rule names), or require no word at all
    # (such a rule is never run, as before: nothing gates it).
    rules = safeguarding.SafeguardingRules(
        harm={"threats": ("he wo n’t _? let me",), "physical_abuse": ("_{2} hurt* me", "hit _{1,} face", "physio* _ push*")},
        negated={"neglect": ("NEG? _ _",)}, benign=(), reassurance=(),
    )
    around, whole = _read_both_ways(rules, text)
    assert around == whole and any(whole)


def test_the_prefilter_is_the_same_text_in_every_process():
    # Sets iterate in an order that changes with each process's hash seed; the prefilter built
    # from them must not, so that every process (a batch's workers too) scans with the same regex.
    script = "import hashlib; from feedback_nlp.flags import CUE_PARTS; print(hashlib.sha256(repr(CUE_PARTS).encode()).hexdigest())"
    texts = {
        subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed},
                       capture_output=True, text=True, check=True).stdout
        for seed in ("1", "2")
    }
    assert len(texts) == 1


def test_a_long_run_of_punctuation_is_read_at_once():
    # Python's regex engine could split a run of "!" among a rule's wildcards in exponentially
    # many ways: "No" and 50 of them took 9 s.
    text = "No" + "!" * 200 + " he hit me" + " !" * 300
    assert safeguarding.has_cue(text.lower()) and is_safeguarding(text)
    assert read_flags([text])[0].safeguarding.categories


def test_every_category_is_one_the_review_reason_can_name():
    text = "My son takes my pension and my bank card, and he hit me last week."
    assessment = RULES.assess(text)
    assert set(assessment.categories) <= set(CATEGORIES) and {"financial_abuse", "physical_abuse"} <= set(assessment.categories)
    assert "hit me" in assessment.words and not reassures(text)
    assert reassures("Nobody was ever rough with him.") and reassures("I felt safe on the ward.")
    # Help asked for or agreed to, and expected effects, reassure; a reassurance negated or asked about does not.
    assert reassures("My son does my banking. It was my idea and we check the statements together.")
    assert reassures("The nurse said the drowsiness is normal with the new patch.")
    assert not reassures("The nurse asked if I felt safe at home and I said yes because he was there.")
    assert not reassures("I never felt safe on that ward at night.")
    assert not reassures("No one came and he hurt himself.")
    assert isinstance(read_flags([None])[0], CommentFlags) and read_flags([None])[0].flags == ()


def test_the_head_learns_from_examples_labelled_for_safeguarding_only(tmp_path, small_corpus):
    from feedback_nlp import TrainingConfig, train
    from feedback_nlp.corpus import read_safeguarding_examples
    from feedback_nlp.exceptions import CorpusError, SettingError

    path = tmp_path / "examples.csv"
    disclosures = [f"he {verb} me again last night and I am scared to go home" for verb in ("hit", "kicked", "choked")]
    calm = [f"the {thing} was lovely and the staff were kind" for thing in ("ward", "clinic", "food")]
    pd.DataFrame({"text": disclosures * 10 + calm * 10, "safeguarding": [1] * 30 + [0] * 30}).to_csv(path, index=False)
    examples = read_safeguarding_examples(path)
    config = TrainingConfig(cv_folds=0)
    without = train(small_corpus, config)
    with_examples = train(small_corpus, config, safeguarding_examples=examples)
    # Themes and sentiment never see the examples; the head does, and the card names the file.
    probe = ["Waited four hours for my appointment", "The nurses were kind"]
    np.testing.assert_array_equal(without.model.predict_scores(probe).themes, with_examples.model.predict_scores(probe).themes)
    assert [s["rows"] for s in with_examples.card.safeguarding_data] == [60]
    assert with_examples.card.training_rows["safeguarding_examples"] == {"flagged": 30, "not_flagged": 30}
    assert with_examples.model.safeguarding_ is not None

    # The card must name the files: a table that lost its attrs (pandas.concat drops them) is refused.
    with pytest.raises(SettingError, match="safeguarding_examples"):
        train(small_corpus, config, safeguarding_examples=pd.DataFrame(examples))
    with pytest.raises(SettingError, match="each once"):
        read_safeguarding_examples([path, path])

    pd.DataFrame({"text": ["a", "b"], "safeguarding": ["1", "yes"]}).to_csv(path, index=False)
    with pytest.raises(CorpusError, match=r"row 3, column 'safeguarding': 'yes' is not 0 or 1"):
        read_safeguarding_examples(path)
