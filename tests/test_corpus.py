import numpy as np
import pytest

from feedback_nlp import CorpusError, EmptyTextWarning, read_corpus
from feedback_nlp.themes import QDC_CATEGORY_THEMES, THEME_IDS

PROJECT_HEADER = "text,themes,sentiment,flags,question\n"


def test_project_format_reads_labels(write_csv):
    path = write_csv(
        PROJECT_HEADER
        + '"Kind nurses, long wait",confidence_and_trust;access,neutral,,Why did you give that rating?\n'
        + "Nothing,,positive,,What could we do better?\n"
        + "Dr Rao ignored my dad,confidence_and_trust,,personal_data;safeguarding,\n"
    )
    table = read_corpus(path)
    assert table["text"].tolist()[1] == "Nothing"
    assert table[list(THEME_IDS)].to_numpy().tolist() == [
        [0, 0, 1, 1, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 1, 0, 0],
    ]
    assert table["sentiment"].tolist() == ["neutral", "positive", None]
    assert table["flags"].tolist() == ["", "", "safeguarding;personal_data"]
    assert table["question"].tolist()[0] == "Why did you give that rating?"
    assert table.attrs["format"] == "project"


def test_optional_columns_may_be_absent(write_csv):
    table = read_corpus(write_csv("text,themes,sentiment\nGreat,,positive\n"))
    assert table["flags"].tolist() == [""] and table["question"].tolist() == [""]


@pytest.mark.parametrize(
    "body, match",
    [
        ("ok,,positive,,\nbad,access;parking,negative,,\n", r"row 2, column 'themes': unknown themes id 'parking'"),
        ("ok,,positive,,\nbad,,angry,,\n", r"row 2, column 'sentiment': unknown sentiment 'angry'"),
        ("bad,,positive,urgent,\n", r"row 1, column 'flags': unknown flags id 'urgent'"),
    ],
)
def test_unknown_label_names_file_row_and_column(write_csv, body, match):
    path = write_csv(PROJECT_HEADER + body)
    with pytest.raises(CorpusError, match=match) as err:
        read_corpus(path)
    assert str(path) in str(err.value)


def test_missing_text_column_lists_the_columns(write_csv):
    with pytest.raises(CorpusError, match=r"missing column\(s\) \['text'\]; found \['comment'"):
        read_corpus(write_csv("comment,themes,sentiment\nhi,,positive\n"), format="project")


def test_unknown_header_is_refused_in_auto_format(write_csv):
    with pytest.raises(CorpusError, match="cannot tell the format"):
        read_corpus(write_csv("a,b\n1,2\n"))


def test_invalid_csv_is_refused(write_csv):
    with pytest.raises(CorpusError, match="not valid CSV"):
        read_corpus(write_csv(PROJECT_HEADER + 'a,,positive,,\n"unclosed,,positive,,\n'))


def test_windows_1252_file_is_read_as_tagging_reads_it(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(PROJECT_HEADER.encode() + "caf\xe9 \u2013 \xa35,,positive,,\n".encode("cp1252"))
    assert read_corpus(path)["text"].tolist() == ["caf\xe9 \u2013 \xa35"]


def test_a_file_mixing_utf8_and_another_encoding_is_refused_with_its_line(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        PROJECT_HEADER.encode() + "caf\xe9,,positive,,\n".encode() + "bad \xe9,,positive,,\n".encode("cp1252")
    )
    with pytest.raises(CorpusError, match=r"mixed.csv: mixes encodings.*line 3, byte \d+"):
        read_corpus(path)


def test_missing_and_empty_files_are_refused(tmp_path, write_csv):
    with pytest.raises(CorpusError, match="no such file"):
        read_corpus(tmp_path / "absent.csv")
    with pytest.raises(CorpusError, match="empty"):
        read_corpus(write_csv(""))


def test_empty_texts_are_kept_and_reported(write_csv):
    path = write_csv(PROJECT_HEADER + "fine,,positive,,\n,,,,\n   ,,neutral,,\n")
    with pytest.warns(EmptyTextWarning, match=r"2 row\(s\) have no text \(rows 2, 3\)"):
        table = read_corpus(path)
    assert len(table) == 3


def _qdc_file(write_csv, rows):
    """A QDC v6 file with every mapped category, a text, sentiment and flag column."""
    columns = ["FFT question", "FFT answer", "Person identifiable info?", "Comment sentiment",
               *QDC_CATEGORY_THEMES, "Safeguarding concerns?", "Positive experience & gratitude"]
    lines = [",".join(f'"{c}"' for c in columns)]
    for row in rows:
        lines.append(",".join(f'"{row.get(c, "")}"' for c in columns))
    return write_csv("\n".join(lines) + "\n", "qdc.csv")


@pytest.mark.parametrize("category, theme", sorted(QDC_CATEGORY_THEMES.items()))
def test_qdc_category_maps_to_its_theme(write_csv, category, theme):
    table = read_corpus(_qdc_file(write_csv, [{"FFT answer": "x", category: "1.0"}]), format="qdc")
    assert table[list(THEME_IDS)].iloc[0].to_dict() == {t: int(t == theme) for t in THEME_IDS}


def test_qdc_sentiment_flags_and_unmapped_categories(write_csv):
    rows = [
        {"FFT answer": "a", "Comment sentiment": "1.0", "Positive experience & gratitude": "1"},
        {"FFT answer": "b", "Comment sentiment": "3", "Person identifiable info?": "name"},
        {"FFT answer": "c", "Comment sentiment": "5.0", "Safeguarding concerns?": "1"},
        {"FFT answer": "d", "FFT question": "What was good?"},
    ]
    table = read_corpus(_qdc_file(write_csv, rows))
    assert table.attrs["format"] == "qdc"
    assert table["sentiment"].tolist() == ["positive", "neutral", "negative", None]
    assert table["flags"].tolist() == ["", "personal_data", "safeguarding", ""]
    assert table[list(THEME_IDS)].to_numpy().sum() == 0  # gratitude maps to no theme
    assert table["question"].tolist()[3] == "What was good?"


@pytest.mark.parametrize(
    "row, column",
    [
        ({"FFT answer": "a", "Comment sentiment": "7"}, "Comment sentiment"),
        ({"FFT answer": "a", "Parking": "yes"}, "Parking"),
    ],
)
def test_qdc_bad_value_names_row_and_column(write_csv, row, column):
    with pytest.raises(CorpusError, match=rf"row 1, column '{column}'"):
        read_corpus(_qdc_file(write_csv, [row]), format="qdc")


def test_qdc_missing_category_column_is_named(write_csv):
    with pytest.raises(CorpusError, match=r"missing column\(s\) \['Comment sentiment'"):
        read_corpus(write_csv('"FFT answer"\nhello\n'), format="qdc")


def test_real_qdc_file_reads_every_row(qdc_path):
    with pytest.warns(EmptyTextWarning):
        table = read_corpus(qdc_path)
    assert len(table) == 4663
    assert table.attrs["format"] == "qdc"
    assert np.all(table[list(THEME_IDS)].sum() > 50)
    assert set(table["sentiment"].dropna()) == {"positive", "neutral", "negative"}
