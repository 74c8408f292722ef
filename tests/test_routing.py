"""Routing rules: precedence, thresholds, default and urgent destinations, frames, and every error."""

import itertools
import pickle
import re
import textwrap

import numpy as np
import pandas as pd
import pytest

from feedback_nlp.exceptions import ColumnError, RoutesError
from feedback_nlp.routing import Destination, Route, Router, key_lines, line_of, load_routes
from feedback_nlp.decide import SCORE_DECIMALS
from feedback_nlp.tagging import Tag
from feedback_nlp.themes import FLAGS, SENTIMENTS, THEME_IDS

from .conftest import REPO

EXAMPLE = REPO / "data" / "routing.example.toml"

HEAD = """\
default = "pet"
urgent = "safe"

[destinations.pet]
team = "Patient Experience"
address = "pet@example.org"

[destinations.access]
team = "Access"
address = "access@example.org"

[destinations.comms]
team = "Communications"
address = "comms@example.org"

[destinations.safe]
team = "Safeguarding"
address = "safe@example.org"

"""
# HEAD is 19 lines; whatever a test adds starts on line 20.


def write(tmp_path, text: str, name: str = "routes.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def routes(tmp_path, rules: str = "") -> Router:
    return load_routes(write(tmp_path, HEAD + textwrap.dedent(rules)))


def make_tag(themes=(), sentiment="neutral", flags=(), scores=None, needs_review=False) -> Tag:
    """A Tag as the tagger would give it: assigned themes score 0.8, the others 0.2."""
    scores = {t: (0.8 if t in themes else 0.2) for t in THEME_IDS} | (scores or {})
    return Tag(
        themes=tuple(t for t in THEME_IDS if t in themes),
        theme_scores=scores,
        sentiment=sentiment,
        sentiment_scores={s: float(s == sentiment) for s in SENTIMENTS},
        flags=tuple(f for f in FLAGS if f in flags),
        needs_review=needs_review or "safeguarding" in flags,
        review_reasons=("safeguarding:neglect",) if "safeguarding" in flags else (),
    )


def as_frame(tags) -> pd.DataFrame:
    """The columns Tagger.tag_frame gives for these tags."""
    return pd.DataFrame(
        {
            "comment": [f"comment {i}" for i in range(len(tags))],
            "themes": [";".join(t.themes) for t in tags],
            "sentiment": [t.sentiment for t in tags],
            **{f"score_{th}": [float(np.round(t.theme_scores[th], SCORE_DECIMALS)) for t in tags] for th in THEME_IDS},
            "flags": [";".join(t.flags) for t in tags],
            "needs_review": [t.needs_review for t in tags],
            "review_reasons": [";".join(t.review_reasons) for t in tags],
        }
    )


def keys(route: Route) -> list[str]:
    return [d.key for d in route.destinations]


RULES = """\
[[rule]]
name = "access complaints"
destination = "access"
themes = ["access"]
sentiment = ["negative"]

[[rule]]
name = "information"
destination = "comms"
themes = ["listen_and_learn"]

[[rule]]
name = "all negative"
destination = "pet"
sentiment = ["negative"]
"""


def test_every_matching_rule_adds_its_destination_in_file_order(tmp_path):
    route = routes(tmp_path, RULES).route(make_tag(("listen_and_learn", "access"), "negative"))
    assert keys(route) == ["access", "comms", "pet"]
    assert route.rules == ("access complaints", "information", "all negative")
    assert route.destinations[0] == Destination("access", "Access", "access@example.org")


def test_all_conditions_of_a_rule_must_hold(tmp_path):
    route = routes(tmp_path, RULES).route(make_tag(("access",), "positive"))
    assert keys(route) == ["pet"] and route.rules == ("default",)


def test_a_destination_is_given_once_by_its_first_rule(tmp_path):
    again = '[[rule]]\nname = "again"\ndestination = "access"\nthemes = ["access"]\n'
    router = routes(tmp_path, RULES + again)
    route = router.route(make_tag(("access",), "negative"))
    assert keys(route) == ["access", "pet"]
    assert route.rules == ("access complaints", "all negative")


def test_stop_ends_the_rules_only_when_its_rule_matches(tmp_path):
    stop_first = RULES.replace('sentiment = ["negative"]\n\n', 'sentiment = ["negative"]\nstop = true\n\n', 1)
    router = routes(tmp_path, stop_first)
    assert keys(router.route(make_tag(("listen_and_learn", "access"), "negative"))) == ["access"]
    assert keys(router.route(make_tag(("listen_and_learn",), "negative"))) == ["comms", "pet"]


def test_a_rule_without_conditions_matches_every_comment(tmp_path):
    router = routes(tmp_path, '[[rule]]\nname = "everything"\ndestination = "comms"\n')
    assert router.route(make_tag()).rules == ("everything",)


def test_no_matching_rule_goes_to_the_default(tmp_path):
    route = routes(tmp_path, RULES).route(make_tag(("effectiveness",), "positive"))
    assert keys(route) == ["pet"] and route.rules == ("default",) and not route.needs_review


def test_a_file_without_rules_sends_everything_to_the_default(tmp_path):
    assert keys(routes(tmp_path).route(make_tag(("access",), "negative"))) == ["pet"]


@pytest.mark.parametrize("rules", ["", RULES])
def test_safeguarding_goes_first_to_urgent_and_to_review(tmp_path, rules):
    route = routes(tmp_path, rules).route(make_tag(("access",), "negative", flags=("safeguarding",)))
    assert keys(route)[0] == "safe" and route.rules[0] == "urgent: safeguarding"
    assert route.needs_review


def test_safeguarding_goes_to_review_even_if_the_tag_says_not(tmp_path):
    tag = make_tag(flags=("safeguarding",))
    tag = Tag(**{**tag.__dict__, "needs_review": False, "review_reasons": ()})
    assert routes(tmp_path).route(tag).needs_review


def test_a_stopping_rule_cannot_keep_safeguarding_from_urgent(tmp_path):
    router = routes(tmp_path, '[[rule]]\nname = "all"\ndestination = "comms"\nstop = true\n')
    route = router.route(make_tag(flags=("safeguarding",)))
    assert keys(route) == ["safe", "comms"]


def test_the_route_follows_the_tags_review_mark(tmp_path):
    assert routes(tmp_path).route(make_tag(needs_review=True)).needs_review


THRESHOLD = """\
[thresholds]
access = 0.3

[[rule]]
name = "access"
destination = "access"
themes = ["access"]
"""


def test_a_lower_threshold_adds_a_theme_the_model_left_out(tmp_path):
    tag = make_tag((), scores={"access": 0.35})
    assert "access" not in tag.themes
    assert keys(routes(tmp_path, THRESHOLD).route(tag)) == ["access"]


def test_a_higher_threshold_drops_a_theme_the_model_assigned(tmp_path):
    tag = make_tag(("access",), scores={"access": 0.6})
    assert keys(routes(tmp_path, THRESHOLD.replace("0.3", "0.7")).route(tag)) == ["pet"]


def test_a_score_equal_to_the_threshold_counts(tmp_path):
    assert keys(routes(tmp_path, THRESHOLD).route(make_tag(scores={"access": 0.3}))) == ["access"]


def test_a_score_shown_as_the_threshold_counts_in_route_and_route_frame(tmp_path):
    router = routes(tmp_path, THRESHOLD)
    tag = make_tag(scores={"access": 0.29996})  # tables show it as 0.3
    assert keys(router.route(tag)) == ["access"]
    assert list(router.route_frame(as_frame([tag]))["route"]) == ["access"]


def test_themes_without_a_threshold_keep_the_models_decision(tmp_path):
    info = '[[rule]]\nname = "info"\ndestination = "comms"\nthemes = ["listen_and_learn"]\n'
    router = routes(tmp_path, THRESHOLD + info)
    assert keys(router.route(make_tag(("listen_and_learn",), scores={"listen_and_learn": 0.1}))) == ["comms"]


def all_tags() -> list[Tag]:
    """Every combination of themes, sentiment and flags, with scores either side of 0.3 and 0.7."""
    rng = np.random.default_rng(0)
    tags = []
    for n_themes, sentiment, flags in itertools.product(range(32), SENTIMENTS, range(4)):
        themes = tuple(t for j, t in enumerate(THEME_IDS) if n_themes >> j & 1)
        scores = {t: float(rng.choice([0.1, 0.3, 0.5, 0.7, 0.9])) for t in THEME_IDS}
        flag_ids = tuple(f for j, f in enumerate(FLAGS) if flags >> j & 1)
        tags.append(make_tag(themes, sentiment, flag_ids, scores, needs_review=bool(rng.integers(2))))
    return tags


FRAME_RULES = (
    "[thresholds]\naccess = 0.5\neffectiveness = 0.7\n\n"
    + RULES.replace('name = "information"', 'name = "information"\nstop = true')
    + '[[rule]]\nname = "named"\ndestination = "comms"\nflags = ["personal_data"]\n'
)


def test_route_frame_equals_route_row_by_row(tmp_path):
    router = routes(tmp_path, FRAME_RULES)
    tags = all_tags()
    frame = as_frame(tags).set_axis(range(len(tags), 0, -1))
    routed = router.route_frame(frame)
    expected = [router.route(t) for t in tags]
    assert list(routed["route"]) == [";".join(keys(r)) for r in expected]
    assert list(routed["route_rule"]) == [";".join(r.rules) for r in expected]
    pd.testing.assert_frame_equal(routed.drop(columns=["route", "route_rule"]), frame)
    assert len(set(routed["route"])) > 5  # the rules do tell these tags apart


def test_route_frame_of_no_rows_adds_the_columns(tmp_path):
    routed = routes(tmp_path, FRAME_RULES).route_frame(as_frame([]))
    assert list(routed.columns[-2:]) == ["route", "route_rule"] and len(routed) == 0


def test_route_frame_reads_missing_cells_as_nothing(tmp_path):
    frame = as_frame([make_tag()]).assign(themes=[np.nan], flags=[None])
    assert list(routes(tmp_path, RULES).route_frame(frame)["route"]) == ["pet"]


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda f: f.drop(columns=["themes"]), r"missing \['themes'\]"),
        (lambda f: f.drop(columns=["score_access"]), r"missing \['score_access'\]"),
        (lambda f: f.assign(route=""), r"already has route column\(s\) \['route'\]"),
    ],
)
def test_route_frame_needs_the_tag_columns(tmp_path, change, match):
    with pytest.raises(ColumnError, match=match):
        routes(tmp_path, THRESHOLD).route_frame(change(as_frame([make_tag()])))


def test_the_router_pickles(tmp_path):
    router = routes(tmp_path, FRAME_RULES)
    copy = pickle.loads(pickle.dumps(router))
    assert copy == router
    tags = all_tags()
    pd.testing.assert_frame_equal(copy.route_frame(as_frame(tags)), router.route_frame(as_frame(tags)))


def test_the_example_file_routes_sensibly():
    router = load_routes(EXAMPLE)
    assert {router.default, router.urgent} == {"patient_experience", "safeguarding"}
    assert keys(router.route(make_tag(("access",), "negative", scores={"access": 0.9}))) == ["access_booking"]
    unsure = make_tag(("access",), "negative", scores={"access": 0.55})
    assert keys(router.route(unsure)) == ["patient_experience"]
    assert keys(router.route(make_tag((), "negative", scores={"leading_voice": 0.4}))) == ["inclusion"]
    assert keys(router.route(make_tag(("confidence_and_trust",), "positive"))) == ["patient_experience"]
    harmed = router.route(make_tag(("confidence_and_trust",), "negative", flags=("safeguarding",)))
    assert keys(harmed) == ["safeguarding", "nursing"] and harmed.needs_review
    named = router.route(make_tag(("listen_and_learn",), "negative", flags=("personal_data",)))
    assert keys(named) == ["patient_experience"] and named.rules == ("personal data",)
    assert router.route(make_tag()).rules == ("default",)


def test_key_lines_finds_headers_keys_and_array_tables():
    text = textwrap.dedent(
        """\
        # a comment = not a key
        top = 1
        [a.b]
        c = 2
        "d.e" = 3
        f.g = 4

        [[rule]]
        name = "x"
        [[rule]]
          name = "y"
          themes = [
            "access",
          ]
        """
    )
    assert key_lines(text) == {
        ("top",): 2, ("a", "b"): 3, ("a", "b", "c"): 4, ("a", "b", "d.e"): 5, ("a", "b", "f", "g"): 6,
        ("rule", 0): 8, ("rule", 0, "name"): 9, ("rule", 1): 10, ("rule", 1, "name"): 11,
        ("rule", 1, "themes"): 12,
    }


@pytest.mark.parametrize(
    "path, line",
    [(("a", "b", "c"), 4), (("a", "b", "zzz"), 3), (("a",), 3), (("rule", 1, "stop"), 10), (("missing",), 1)],
)
def test_line_of_falls_back_to_the_enclosing_table(path, line):
    lines = {("a", "b"): 3, ("a", "b", "c"): 4, ("rule", 0): 8, ("rule", 1): 10, ("rule", 1, "name"): 11}
    assert line_of(lines, path) == line


RULE = '[[rule]]\nname = "r"\ndestination = "access"\n'  # lines 20-22 after HEAD
DESTINATION_A = '[destinations.a]\nteam = "T"\naddress = "x"\n'

# (text after HEAD, or a whole file when it starts with "!"; the line at fault; the message after it)
BAD_FILES = [
    # TOML syntax, passed on from tomllib
    ('[[rule]]\nname = "r\n', 21, r"expected valid TOML; found an error: .* at column"),
    ("colour = \n", 20, r"expected valid TOML; found an error: Invalid value at column 10"),
    ('[[rule]]\nname = "r"\nthemes = [\n  "access",\n', 23,
     r"expected valid TOML; found an error: Invalid value$"),
    ("[thresholds]\naccess = 0.5\naccess = 0.6\n", 22,
     r"expected valid TOML; found an error: Cannot overwrite"),
    # unknown keys, anywhere
    ('!colour = "blue"\n', 1, r"unknown key 'colour' in the top level of the file"),
    ('colour = "blue"\n', 20, r"unknown key 'colour' in the \[destinations.safe\] table"),
    ('[destinations.x]\nteam = "T"\naddress = "a"\nphone = "1"\n', 23, r"unknown key 'phone'"),
    ("[thresholds]\nacess = 0.5\n", 21, r"unknown key 'acess' in a \[thresholds\] table"),
    (RULE + 'theme = ["access"]\n', 23, r"unknown key 'theme' in \[\[rule\]\] number 1"),
    ('[destination.x]\nteam = "T"\n', 20, r"unknown key 'destination' in the top level"),
    # unknown theme, sentiment, flag
    (RULE + 'themes = ["access", "parking"]\n', 23,
     r"expected theme ids from \[.*\]; found a string 'parking'"),
    (RULE + 'sentiment = ["angry"]\n', 23, r"expected sentiments from .*; found a string 'angry'"),
    (RULE + 'flags = ["urgent"]\n', 23, r"expected flags from .*; found a string 'urgent'"),
    # destinations, default and urgent
    (RULE.replace('"access"', '"acces"'), 22,
     r"expected one of the destinations .*; found 'acces'; define it"),
    ('!default = "nobody"\nurgent = "a"\n' + DESTINATION_A, 1,
     r"expected one of the destinations \['a'\]; found 'nobody'"),
    ('!urgent = "a"\n' + DESTINATION_A, 1,
     r"expected a key 'default' in the top level of the file; found none"),
    ('!default = "a"\n' + DESTINATION_A, 1,
     r"expected a key 'urgent' in the top level of the file; found none"),
    ('!default = "a"\nurgent = "a"\n', 1,
     r"expected a key 'destinations' in the top level of the file; found none"),
    ('!default = "a"\nurgent = "a"\ndestinations = {}\n', 3,
     r"expected at least one \[destinations.<key>\] table"),
    ('[destinations.x]\nteam = "T"\n', 20,
     r"expected a key 'address' in the \[destinations.x\] table; found none"),
    ('[destinations.x]\nteam = ""\naddress = "a"\n', 21,
     r"expected a team \(a non-empty string\); found a string ''"),
    ('[destinations."x;y"]\nteam = "T"\naddress = "a"\n', 20,
     r"expected a destination key without ';' .*; found 'x;y'"),
    # thresholds
    ("[thresholds]\naccess = 1.5\n", 21, r"expected a score from 0 to 1 for access; found a number 1.5"),
    ("[thresholds]\naccess = -0.1\n", 21, r"expected a score from 0 to 1 for access; found a number -0.1"),
    ("[thresholds]\naccess = nan\n", 21, r"expected a score from 0 to 1 for access; found a number nan"),
    ('[thresholds]\naccess = "high"\n', 21,
     r"expected a score from 0 to 1 for access; found a string 'high'"),
    ("[thresholds]\naccess = true\n", 21, r"expected a score from 0 to 1 for access; found a boolean True"),
    ('!thresholds = 0.5\ndefault = "a"\nurgent = "a"\n' + DESTINATION_A, 1,
     r"expected a \[thresholds\] table of theme ids; found a number 0.5"),
    # bad types and shapes in rules
    (RULE + 'themes = "access"\n', 23,
     r"expected a non-empty array of theme ids .*; found a string 'access'"),
    (RULE + "themes = []\n", 23,
     r"expected a non-empty array of theme ids \(leave the key out to match any\)"),
    (RULE + 'stop = "yes"\n', 23, r"expected stop = true or false; found a string 'yes'"),
    (RULE + "sentiment = [1]\n", 23, r"expected sentiments from .*; found an integer 1"),
    ('[[rule]]\nname = "r"\n', 20, r"expected a key 'destination' in \[\[rule\]\] number 1; found none"),
    ('[[rule]]\ndestination = "pet"\n', 20, r"expected a key 'name'"),
    ('[[rule]]\nname = 3\ndestination = "pet"\n', 21,
     r"expected a rule name \(a non-empty string\); found an integer 3"),
    (RULE + RULE, 24, r"expected a rule name that is unique.*; found 'r'"),
    ('[[rule]]\nname = "default"\ndestination = "pet"\n', 21,
     r"expected a rule name that is unique, .*; found 'default'"),
    ('[[rule]]\nname = "a;b"\ndestination = "pet"\n', 21,
     r"expected a rule name that is unique, has no ';'.*; found 'a;b'"),
    ('[rule]\nname = "r"\n', 20, r"expected \[\[rule\]\] tables; found a table"),
    ('!rule = 1\ndefault = "a"\nurgent = "a"\n' + DESTINATION_A, 1,
     r"expected \[\[rule\]\] tables; found an integer 1"),
]


@pytest.mark.parametrize("text, line, match", BAD_FILES)
def test_every_error_names_the_file_and_line(tmp_path, text, line, match):
    path = write(tmp_path, text[1:] if text.startswith("!") else HEAD + text)
    with pytest.raises(RoutesError, match=f"^{re.escape(str(path))}, line {line}: {match}") as caught:
        load_routes(path)
    assert caught.value.line == line


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(RoutesError, match=r"nowhere.toml: no such file; expected a TOML file"):
        load_routes(tmp_path / "nowhere.toml")


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "routes.toml"
    path.write_bytes(HEAD.encode() + b'# caf\xe9\n')
    with pytest.raises(RoutesError, match=r"routes.toml: expected a UTF-8 text file"):
        load_routes(path)


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "routes.toml"
    path.write_bytes(b"\xef\xbb\xbf" + HEAD.encode())
    assert load_routes(path).default == "pet"
