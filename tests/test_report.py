"""feedback_nlp.report: figures from a tagged file, the page, the tables, the actions file, the CLI."""

import re

import pandas as pd
import pytest
from openpyxl import load_workbook

import feedback_nlp
from feedback_nlp.cli import main
from feedback_nlp.reporting import figures, quotes
from feedback_nlp.tables import TableWriter
from feedback_nlp.themes import THEME_IDS

PERSONAL = ("Dr Smith", "Smith", "07700 900461", "jo.bloggs@example.com", "943 476 5919")
SAFEGUARDING = "my neighbour hits me and I am scared to go home"


def _write(frame, path):
    writer = TableWriter(path)
    writer.write(frame)
    writer.commit()
    return path


def test_headline_counts_the_latest_period_and_the_one_before(tagged_frame):
    frame = tagged_frame(240, months=12)
    result = feedback_nlp.report(frame, date_column="date")
    december, november = frame[frame["date"].str[5:7] == "12"], frame[frame["date"].str[5:7] == "11"]
    row = result.headline.set_index("theme")
    assert (result.latest, result.previous) == ("Dec 2025", "Nov 2025")
    assert row.loc["all comments", "comments"] == len(december)
    assert row.loc["all comments", "share_negative"] == pytest.approx((december["sentiment"] == "negative").mean())
    has_access = december["themes"].str.contains("access")
    assert row.loc["access", "comments"] == has_access.sum()
    assert row.loc["access", "previous_comments"] == november["themes"].str.contains("access").sum()
    assert row.loc["access", "negative"] == (has_access & (december["sentiment"] == "negative")).sum()


def test_without_dates_the_whole_file_is_one_period(tagged_frame):
    result = feedback_nlp.report(tagged_frame(50))
    assert result.latest == "all comments" and result.previous == ""
    assert result.over_time.empty
    assert result.headline["comments"].iloc[0] == 50


def test_over_time_has_every_period_even_one_without_comments(tagged_frame):
    frame = tagged_frame(120, months=6)
    frame = frame[frame["date"].str[5:7] != "03"]
    result = feedback_nlp.report(frame, date_column="date", period="month")
    periods = result.over_time.query("theme == 'access' and measure == 'comments'")["period"].tolist()
    assert periods == ["Jan 2025", "Feb 2025", "Mar 2025", "Apr 2025", "May 2025", "Jun 2025"]
    quarters = feedback_nlp.report(frame, date_column="date", period="quarter").over_time
    assert quarters["period"].unique().tolist() == ["Jan\u2013Mar 2025", "Apr\u2013Jun 2025"]


def test_counts_and_quotes_do_not_depend_on_the_chunk_size(tagged_frame):
    frame = tagged_frame(300)
    small = figures.tally(frame, by=["site"], date_column="date", chunk_rows=7)
    whole = figures.tally(frame, by=["site"], date_column="date", chunk_rows=10_000)
    pd.testing.assert_frame_equal(small.counts, whole.counts)
    pd.testing.assert_frame_equal(quotes.choose(small.quotes), quotes.choose(whole.quotes))


def test_groups_under_20_comments_are_not_shown(tagged_frame):
    frame = tagged_frame(200)
    frame.loc[:9, "site"] = "Tiny"
    result = feedback_nlp.report(frame, by=["site"])
    tiny = result.groups[result.groups["group"] == "Tiny"]
    assert len(tiny) == len(THEME_IDS) and not tiny["shown"].any()
    assert (tiny["position"] == "").all()


def _planted(tagged_frame):
    """A tagged table with personal data the tagger missed and a safeguarding comment, each the
    comment most clearly about its theme (so the first a quote would take)."""
    frame = tagged_frame(120)
    planted = pd.DataFrame({
        "comment": [f"{PERSONAL[0]} was rude to me, call me on {PERSONAL[2]} or {PERSONAL[3]}, "
                    f"NHS number {PERSONAL[4]}",
                    f"The nurse never asked, {SAFEGUARDING} and nobody listened"],
        "themes": ["confidence_and_trust", "confidence_and_trust"],
        "sentiment": ["negative", "negative"],
        "flags": ["", "safeguarding"],
        "needs_review": [False, True],
    })
    planted = planted.assign(row=[1001, 1002], date="2025-12-20", site="North",
                             **{f"score_{t}": 0.9999 if t == "confidence_and_trust" else 0.01 for t in THEME_IDS},
                             review_reasons=["", "safeguarding"])
    return pd.concat([frame, planted[frame.columns]], ignore_index=True)


def test_personal_data_and_safeguarding_comments_never_reach_the_page_or_the_tables(tagged_frame, tmp_path):
    source = _write(_planted(tagged_frame), tmp_path / "tagged.csv")
    result = feedback_nlp.report(source, tmp_path / "report.html", date_column="date", by=["site"],
                                 tables=tmp_path / "tables.csv")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    tables = (tmp_path / "tables.csv").read_text(encoding="utf-8")
    assert "[NAME] was rude to me" in page  # the comment is quoted, redacted
    for text in (*PERSONAL, SAFEGUARDING, "neighbour"):
        assert text not in page
        assert text not in tables
    assert not result.quotes["quote"].str.contains("neighbour").any()


def test_quotes_are_escaped_in_the_page(tagged_frame, tmp_path):
    frame = tagged_frame(60)
    frame.loc[0, ["comment", "themes", "sentiment", "score_access"]] = [
        "<script>alert('x')</script> the car park was full again today", "access", "negative", 0.9999]
    feedback_nlp.report(frame, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;" in page


def test_short_and_long_comments_are_not_quoted(tagged_frame):
    frame = tagged_frame(40)
    frame["comment"] = ["Parking awful"] * 20 + [" ".join(["word"] * 60)] * 20
    assert feedback_nlp.report(frame).quotes.empty


def test_a_comment_is_quoted_once_under_its_first_theme(tagged_frame):
    frame = tagged_frame(30)
    frame["themes"] = "listen_and_learn;access"
    chosen = feedback_nlp.report(frame).quotes
    assert chosen["quote"].is_unique
    assert set(chosen["theme"]) <= {"listen_and_learn", "access"}


def test_the_page_names_no_address_outside_itself(tagged_frame, tmp_path):
    feedback_nlp.report(tagged_frame(200), tmp_path / "report.html", date_column="date", by=["site"])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"(?i)\b(src|href|xlink:href|action)\s*=\s*[\"'](?!#)", page)
    assert not re.search(r"(?i)url\(|@import|https?:|//[a-z0-9.-]+\.[a-z]{2,}", page)
    assert "<script" not in page.lower()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_csv_excel_and_parquet_give_the_same_figures(tagged_frame, tmp_path, suffix):
    frame = tagged_frame(150)
    expected = feedback_nlp.report(frame, date_column="date", by=["site"])
    result = feedback_nlp.report(_write(frame, tmp_path / f"tagged{suffix}"), date_column="date", by=["site"])
    pd.testing.assert_frame_equal(result.headline, expected.headline)
    pd.testing.assert_frame_equal(result.groups, expected.groups)


def test_uk_dates_are_read_day_first(tagged_frame):
    frame = tagged_frame(40, months=2)
    frame["date"] = ["03/02/2025"] * 20 + ["28/02/2025 09:30"] * 20  # 3 February, not 2 March
    result = feedback_nlp.report(frame, date_column="date")
    assert (result.latest, result.first_date) == ("Feb 2025", pd.Timestamp("2025-02-03"))


@pytest.mark.parametrize("change, match", [
    (lambda f: f.drop(columns="flags"), r"no column 'flags': report on a file written by 'feedback-nlp tag'"),
    (lambda f: f.assign(themes=["access"] * 5 + ["parking"] + ["access"] * 4),
     r"row 6, column 'themes': unknown theme in 'parking'"),
    (lambda f: f.assign(sentiment=["positive"] * 3 + ["good"] + ["positive"] * 6), r"row 4, column 'sentiment'"),
    (lambda f: f.assign(date=["2025-01-02"] * 8 + ["13/13/2025", "2025-01-02"]),
     r"row 9, column 'date': '13/13/2025' is not a date"),
])
def test_a_cell_that_cannot_be_read_is_refused_naming_file_row_and_column(tagged_frame, tmp_path, change, match):
    source = _write(change(tagged_frame(10)), tmp_path / "tagged.csv")
    with pytest.raises(feedback_nlp.ReportError, match=rf"tagged\.csv[:,] {match}"):
        feedback_nlp.report(source, date_column="date")


def test_a_missing_by_column_is_named(tagged_frame):
    with pytest.raises(feedback_nlp.ReportError, match=r"no column 'ward' \(given with --by\)"):
        feedback_nlp.report(tagged_frame(10), by=["ward"])


def test_the_page_never_replaces_the_tagged_file(tagged_frame, tmp_path):
    source = _write(tagged_frame(10), tmp_path / "tagged.csv")
    with pytest.raises(feedback_nlp.ReportError, match="would replace the tagged file"):
        feedback_nlp.report(source, tables=source)
    with pytest.raises(feedback_nlp.ReportError, match=r"name it \.html"):
        feedback_nlp.report(source, tmp_path / "report.pdf")


def _actions(tmp_path, rows):
    return _write(pd.DataFrame(rows), tmp_path / "actions.csv")


def test_actions_are_read_by_theme_id_or_name_and_shown_beside_their_theme(tagged_frame, tmp_path):
    path = _actions(tmp_path, {
        "Theme": ["access", "Confidence & trust"], "You said": ["Parking was full", "Staff rushed"],
        "We did": ["Opened a second car park", "Added a night nurse"], "Date": ["2025-10-01", "15/11/2025"],
        "Group": ["North", ""],
    })
    result = feedback_nlp.report(tagged_frame(100), tmp_path / "report.html", actions=path)
    assert result.actions["theme"].tolist() == ["access", "confidence_and_trust"]
    assert result.actions["date"].tolist() == [pd.Timestamp("2025-10-01"), pd.Timestamp("2025-11-15")]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Opened a second car park" in page and "You said (North)" in page


def test_a_theme_with_many_negative_comments_and_no_action_is_listed(tagged_frame, tmp_path):
    frame = tagged_frame(200)
    frame["themes"], frame["sentiment"] = "access", "negative"
    path = _actions(tmp_path, {"theme": ["effectiveness"], "you_said": ["x y"], "we_did": ["z"],
                               "date": ["2025-01-01"]})
    result = feedback_nlp.report(frame, tmp_path / "report.html", actions=path)
    assert result.unactioned["theme"].tolist() == ["access"]
    assert result.unactioned["negative"].tolist() == [200]
    assert "No action recorded</b> for 200 negative comments" in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize("rows, match", [
    ({"theme": ["access"], "you_said": ["x"], "date": ["2025-01-01"]}, r"no column 'we_did'"),
    ({"theme": ["access", "parking"], "you_said": ["x", "y"], "we_did": ["a", "b"], "date": ["2025-01-01"] * 2},
     r"row 2, column 'theme': 'parking' is not a theme"),
    ({"theme": ["access"], "you_said": ["x"], "we_did": [""], "date": ["2025-01-01"]}, r"row 1, column 'we_did': empty"),
    ({"theme": ["access"], "you_said": ["x"], "we_did": ["y"], "date": [""]}, r"row 1, column 'date': no date"),
])
def test_an_actions_file_that_cannot_be_read_is_refused_naming_row_and_column(tagged_frame, tmp_path, rows, match):
    with pytest.raises(feedback_nlp.ReportError, match=rf"actions\.csv[:,] {match}"):
        feedback_nlp.report(tagged_frame(10), actions=_actions(tmp_path, rows))


def test_tables_workbook_has_a_sheet_a_figure_and_formulas_stay_text(tagged_frame, tmp_path):
    frame = tagged_frame(80)
    frame.loc[0, ["comment", "themes", "sentiment", "score_access"]] = [
        "=HYPERLINK(\"x\") the car park was full again and again", "access", "negative", 0.9999]
    feedback_nlp.report(frame, by=["site"], tables=tmp_path / "tables.xlsx")
    book = load_workbook(tmp_path / "tables.xlsx")
    assert book.sheetnames == ["headline", "over_time", "groups", "quotes", "actions", "unactioned"]
    cells = [c for row in book["quotes"].iter_rows() for c in row if str(c.value).startswith("=HYPERLINK")]
    assert cells and all(c.data_type == "s" for c in cells)


def test_tables_csv_is_one_table_with_a_column_naming_each_figure(tagged_frame, tmp_path):
    feedback_nlp.report(tagged_frame(80), by=["site"], date_column="date", tables=tmp_path / "tables.csv")
    table = pd.read_csv(tmp_path / "tables.csv")
    assert table.columns[0] == "table"
    assert set(table["table"]) >= {"headline", "over_time", "groups", "quotes"}


def test_cli_writes_the_page_and_tables(tagged_frame, tmp_path, capsys):
    source = _write(tagged_frame(100), tmp_path / "tagged.csv")
    code = main(["report", str(source), "-o", str(tmp_path / "r.html"), "--by", "site",
                 "--date-column", "date", "--period", "quarter", "--title", "Board, March",
                 "--tables", str(tmp_path / "r.xlsx")])
    assert code == 0
    assert "<title>Board, March</title>" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert (tmp_path / "r.xlsx").is_file()
    assert "reported on 100 comments" in capsys.readouterr().err


def test_cli_says_what_is_wrong_in_one_line_and_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.csv: no such file" in err
    assert not (tmp_path / "r.html").exists()


def test_the_headline_names_the_latest_periods_signals(tagged_frame, tmp_path):
    frame = tagged_frame(1200, months=12)
    december = frame["date"].str[5:7] == "12"
    frame.loc[december, ["themes", "sentiment"]] = ["access", "negative"]
    result = feedback_nlp.report(frame, tmp_path / "report.html", date_column="date")
    latest = result.over_time.query("theme == 'access' and measure == 'share negative'").iloc[-1]
    assert latest["signal"] == "above the upper limit" and latest["variation"] == "special cause: concern"
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert re.search(r"Signals in Dec 2025</b>[^<]*Access: share negative 100%, above the upper limit \(concern\)", page)


def test_groups_outside_the_limits_are_named_in_words(tagged_frame, tmp_path):
    frame = tagged_frame(800)
    frame.loc[frame["site"] == "North", "sentiment"] = "negative"
    feedback_nlp.report(frame, tmp_path / "report.html", by=["site"])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert re.search(r"Outside the limits:</b>[^<]*North \(Access: above the 99.8% limit", page)
