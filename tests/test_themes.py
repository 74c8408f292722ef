import re

import pytest

from feedback_nlp.themes import (
    FLAGS,
    QDC_CATEGORY_THEMES,
    QDC_SENTIMENT,
    SENTIMENTS,
    THEME_IDS,
    THEMES,
)

from .conftest import REPO

THEMES_MD = REPO.parent / "shared" / "THEMES.md"


def test_theme_ids_are_the_five_in_specification_order():
    assert THEME_IDS == (
        "leading_voice",
        "listen_and_learn",
        "confidence_and_trust",
        "access",
        "effectiveness",
    )
    assert all(theme.name and theme.description for theme in THEMES)


def test_sentiments_and_flags():
    assert SENTIMENTS == ("positive", "neutral", "negative")
    assert FLAGS == ("safeguarding", "personal_data")


def test_qdc_mapping_targets_only_known_themes():
    assert set(QDC_CATEGORY_THEMES.values()) == set(THEME_IDS)


def test_qdc_sentiment_codes():
    assert [QDC_SENTIMENT[c] for c in range(1, 6)] == [
        "positive", "positive", "neutral", "negative", "negative"
    ]


def test_qdc_mapping_equals_the_table_in_themes_md():
    if not THEMES_MD.is_file():
        pytest.skip(f"the label specification is not at {THEMES_MD}")
    table = re.findall(r"^\| (.+?) \| `?([a-z_ ]+?)`?(?:;.*)? \|$", THEMES_MD.read_text(), re.M)
    spec = {category: theme for category, theme in table if theme in THEME_IDS}
    assert spec == QDC_CATEGORY_THEMES
