"""The flag detectors: safeguarding rules with negation, personal data, redaction, batch flags."""

import pickle

import numpy as np
import pandas as pd
import pytest

from feedback_nlp.flags import (
    COMMON_WORDS_PATH,
    PERSONAL_KINDS,
    PersonalItem,
    SafeguardingRules,
    common_words,
    detect_flags,
    find_personal_data,
    is_safeguarding,
    redact,
)
from feedback_nlp.metrics import score_flagged, score_flags
from feedback_nlp.themes import FLAGS, QDC_PERSONAL_DATA_COLUMN, QDC_SAFEGUARDING_COLUMN, QDC_TEXT_COLUMN

from .conftest import REPO

FLAGS_DIR = REPO / "data" / "flags"
SAFEGUARDING_CSV, PERSONAL_CSV = FLAGS_DIR / "safeguarding.csv", FLAGS_DIR / "personal_data.csv"


@pytest.fixture(scope="module")
def whole_scores():
    return score_flags(SAFEGUARDING_CSV, PERSONAL_CSV)


@pytest.mark.parametrize(
    "text",
    [
        "She was left on the floor for hours after she fell.",
        "The healthcare assistant was rough with my mother and she had bruises afterwards.",
        "Some nights I think about ending it all.",
        "I've been self-harming again since the diagnosis.",
        "My son threatened to hurt me if I told anyone.",
        "Nobody turned him and he got a pressure sore.",
        "Dad missed his Parkinsons tablets for three days and stopped being able to swallow.",
        "My mum has dementia and was left alone in a corridor all night.",
    ],
)
def test_safeguarding_cases_are_flagged(text):
    assert is_safeguarding(text)


@pytest.mark.parametrize(
    "text",
    [
        "I felt completely safe.",
        "No one was ever rough with my mum.",
        "I'd kill for a decent cup of coffee.",
        "Radiotherapy staff were brilliant, I never felt unsafe.",
        "The nurses were lovely and the food was good.",
        "My husband had a fall at home years ago, which is how they found it.",
    ],
)
def test_hard_negatives_are_not_flagged(text):
    assert not is_safeguarding(text)


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        ("Dr Patel explained everything.", "name", "Dr Patel"),
        ("nurse Jo on the day unit was a star", "name", "Jo"),
        ("Sister Mary Okoro runs the ward well.", "name", "Sister Mary Okoro"),
        ("Mr Hughes the surgeon came to see me.", "name", "Mr Hughes"),
        ("Thanks to Jo on reception for her smile.", "name", "Jo"),
        ("I came with my husband Dave Smith.", "name", "Dave Smith"),
        ("Please call me on 07700 900461.", "phone", "07700 900461"),
        ("Or ring (020) 7946 0321 at home.", "phone", "(020) 7946 0321"),
        ("Email me at sarah.jones@example.com please.", "email", "sarah.jones@example.com"),
        ("My NHS number is 854 255 5031.", "nhs_number", "854 255 5031"),
        ("My NHS number is 9491065491.", "nhs_number", "9491065491"),
        ("The postcode is LS6 1AN.", "postcode", "LS6 1AN"),
        ("DOB 12/03/1956, still waiting.", "date_of_birth", "12/03/1956"),
        ("I was born on 3rd March 1956.", "date_of_birth", "3rd March 1956"),
        ("Send letters to 14 Church Lane please.", "address", "14 Church Lane"),
    ],
)
def test_each_personal_data_kind_is_found(text, kind, found):
    items = find_personal_data(text)
    assert PersonalItem(kind, text.index(found), text.index(found) + len(found), found) in items


def test_every_kind_has_a_case_above():
    kinds = {k for _, k, _ in test_each_personal_data_kind_is_found.pytestmark[0].args[1]}
    assert kinds == set(PERSONAL_KINDS)


def test_nhs_number_with_a_bad_check_digit_is_not_an_nhs_number():
    assert not [i for i in find_personal_data("My NHS number is 854 255 5032.") if i.kind == "nhs_number"]


@pytest.mark.parametrize(
    "text",
    ["Had my first cycle on 12/03/2024.", "Waited 3 hours in bay 4.", "Dr Patel", "Travelled from Leeds."],
)
def test_items_are_in_text_order_and_do_not_overlap(text):
    items = find_personal_data(text)
    assert all(a.end <= b.start for a, b in zip(items, items[1:]))
    assert all(text[i.start:i.end] == i.text for i in items)


@pytest.mark.parametrize(
    "text",
    [
        "Food on the ward was cold.",
        "Nurses on the day unit were lovely but the wait was long.",
        "Having the same nurse who was there at diagnosis helped.",
        "My sister ended up signing the forms.",
    ],
)
def test_common_words_where_capitals_mark_no_name_are_not_names(text):
    assert not [i for i in find_personal_data(text) if i.kind == "name"]


@pytest.mark.parametrize(
    ("text", "found"),
    [("Jo on reception was lovely.", "Jo"), ("the registrar dr khan told me", "dr khan"),
     ("Dr Young was brilliant.", "Dr Young"), ("dr young told me the news", "dr young"),
     ("Thanks to Hope on the chemo unit.", "Hope")],  # a common word, but its capital counts
)
def test_names_where_capitals_mark_none_are_still_found(text, found):
    assert found in [i.text for i in find_personal_data(text) if i.kind == "name"]


def test_shipped_common_words_are_built_from_the_shipped_corpus(corpus):
    shipped = COMMON_WORDS_PATH.read_text(encoding="utf-8").split()
    assert shipped == common_words(corpus), "rebuild with: python scripts/build_common_words.py"


def test_treatment_date_is_not_a_date_of_birth():
    assert not find_personal_data("Had my first cycle on 12/03/2024 and it went well.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call me on 07700 900461, thanks.", "Call me on [PHONE], thanks."),
        ("Dr Patel was kind.", "[NAME] was kind."),
        ("NHS 854 255 5031, LS6 1AN.", "NHS [NHS_NUMBER], [POSTCODE]."),
        ("DOB 12/03/1956 at 14 Church Lane", "DOB [DATE_OF_BIRTH] at [ADDRESS]"),
        ("mail a.b@example.com", "mail [EMAIL]"),
        ("Nothing personal here.", "Nothing personal here."),
    ],
)
def test_redact_replaces_items_and_keeps_the_rest(text, expected):
    assert redact(text) == expected


def test_redact_leaves_nothing_detectable_in_the_labelled_set():
    texts = pd.read_csv(PERSONAL_CSV, dtype=str, keep_default_na=False)["text"]
    assert [t for t in texts if find_personal_data(redact(t))] == []


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, "", "   "])
def test_missing_or_empty_texts_have_no_flags_and_no_items(missing):
    assert detect_flags([missing]) == [()]
    assert find_personal_data(missing) == []


def test_redact_returns_a_missing_value_unchanged():
    assert redact(None) is None


def test_detect_flags_takes_a_numpy_object_array_and_keeps_order():
    texts = np.array(["Call Dr Patel on 07700 900461, he pushed me and I'm scared", None, "Lovely"], dtype=object)
    assert detect_flags(texts) == [FLAGS, (), ()]


def test_batch_flags_equal_one_by_one_flags():
    texts = pd.read_csv(SAFEGUARDING_CSV, dtype=str, keep_default_na=False)["text"].tolist()[:40]
    assert detect_flags(texts) == [detect_flags([t])[0] for t in texts]


def test_safeguarding_rules_pickle_and_give_the_same_answers():
    rules = SafeguardingRules()
    text = "He was left on the floor for hours after he fell."
    assert rules.flag(text)
    loaded = pickle.loads(pickle.dumps(rules))
    assert loaded.flag(text) and not loaded.flag("I felt completely safe.")


def test_score_flags_rejects_an_unknown_part():
    with pytest.raises(ValueError, match="part must be"):
        score_flags(SAFEGUARDING_CSV, PERSONAL_CSV, part="test")


def test_find_personal_data_rejects_an_unknown_phone_method():
    with pytest.raises(ValueError, match="phone_method must be"):
        find_personal_data("07700 900461", phone_method="guess")


def test_score_flags_names_the_missing_column(write_csv):
    bad = write_csv("comment,label\nhello,0\n")
    with pytest.raises(ValueError, match=r"expected a 'text' column and one label column, 'safeguarding' or 'label'; found \['comment', 'label'\]"):
        score_flags(bad, PERSONAL_CSV)


def test_safeguarding_rules_reach_their_measured_recall(whole_scores):
    # The rules now catch only explicit, high-risk statements; the trained classifier beside
    # them carries the rest (the combined 0.95 target is tested with the model). Measured on
    # the whole set: recall 0.400, precision 0.973.
    assert whole_scores.safeguarding_recall >= 0.37


def test_safeguarding_meets_precision_target(whole_scores):
    assert whole_scores.safeguarding_precision >= 0.8


@pytest.mark.parametrize(("kind", "target"), [("phone", 0.98), ("email", 0.98), ("nhs_number", 0.98),
                                              ("postcode", 0.98), ("name", 0.85)])
def test_personal_data_meets_recall_target(whole_scores, kind, target):
    assert whole_scores.personal[kind]["recall"] >= target


def test_redaction_leaks_nothing_on_the_whole_set(whole_scores):
    assert whole_scores.redaction_leaks == 0


def test_score_flagged_rejects_an_unknown_flag():
    with pytest.raises(ValueError, match="a flag must be one of .*; got .urgent."):
        score_flagged([()], {"urgent": [True]})


@pytest.mark.slow
def test_qdc_flags_can_be_scored_without_error(qdc_path):
    qdc = pd.read_csv(qdc_path)
    texts = [t if isinstance(t, str) else None for t in qdc[QDC_TEXT_COLUMN]]
    truth = {
        "safeguarding": qdc[QDC_SAFEGUARDING_COLUMN].fillna(0).astype(int) == 1,
        "personal_data": qdc[QDC_PERSONAL_DATA_COLUMN].notna(),
    }
    scores = score_flagged(detect_flags(texts), truth)
    assert set(scores) == set(FLAGS)
    assert scores["safeguarding"]["recall"] >= 0.5


def test_batch_prefilters_let_through_every_comment_with_a_flag(corpus):
    # detect_flags scans a batch with RE2 supersets of the rules before searching in Python:
    # it must give exactly what the one-comment functions give.
    texts = corpus["text"].tolist() + [
        t for name in ("personal_data.csv", "safeguarding.csv", "theme_sentiment.csv")
        for t in pd.read_csv(REPO / "data" / "flags" / name)["text"]
    ]
    flagged = detect_flags(texts)
    assert [bool(find_personal_data(t)) for t in texts] == ["personal_data" in f for f in flagged]
    assert [is_safeguarding(t) for t in texts] == ["safeguarding" in f for f in flagged]
