"""The labelled sets in data/flags/ for the flag detectors and per-theme sentiment: valid and whole."""

import json
import re

import pandas as pd
import pytest

from feedback_nlp.themes import SENTIMENTS, THEME_IDS

from .conftest import REPO

FLAGS_DIR = REPO / "data" / "flags"
PERSONAL_KINDS = {"name", "phone", "email", "nhs_number", "postcode", "date_of_birth", "address"}


def _read(name):
    return pd.read_csv(FLAGS_DIR / name, dtype=str, keep_default_na=False)


def _nhs_check_digit_ok(number: str) -> bool:
    digits = [int(d) for d in re.sub(r"\D", "", number)]
    check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    return len(digits) == 10 and check != 10 and (0 if check == 11 else check) == digits[9]


@pytest.mark.parametrize("name", ["safeguarding.csv", "personal_data.csv", "theme_sentiment.csv"])
def test_texts_are_unique_and_not_empty(name):
    texts = _read(name)["text"]
    assert (texts.str.strip() != "").all()
    assert not texts.str.lower().str.split().str.join(" ").duplicated().any()


def test_safeguarding_set_has_cases_and_hard_negatives():
    counts = _read("safeguarding.csv")["safeguarding"].value_counts()
    assert set(counts.index) == {"0", "1"} and counts["1"] >= 150 and counts["0"] >= 100


def test_personal_data_items_are_in_their_text_and_nhs_numbers_are_valid():
    table = _read("personal_data.csv")
    kinds = {}
    for text, items in zip(table["text"], table["items"]):
        for item in json.loads(items):
            assert item["kind"] in PERSONAL_KINDS and item["text"] in text, (text, item)
            if item["kind"] == "nhs_number":
                assert _nhs_check_digit_ok(item["text"]), item
            kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
    assert set(kinds) == PERSONAL_KINDS
    assert (table["items"] != "[]").sum() >= 200


def test_theme_sentiment_pairs_name_known_themes_and_sentiments():
    for value in _read("theme_sentiment.csv")["theme_sentiment"]:
        pairs = dict(pair.split("=") for pair in value.split(";"))
        assert len(pairs) >= 2 and set(pairs) <= set(THEME_IDS) and set(pairs.values()) <= set(SENTIMENTS)
