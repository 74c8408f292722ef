"""Routing tagged comments to the teams that can act on them, by rules read from a TOML file.

The file (see ``data/routing.example.toml``) names the destinations, a ``default`` one for
comments no rule matches and an ``urgent`` one that every safeguarding-flagged comment goes to
first, optional per-theme ``[thresholds]``, and ``[[rule]]`` tables tried in file order. Every
rule whose conditions hold adds its destination (each destination once, first match wins);
``stop = true`` on a matching rule means the rules after it are not tried.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, NoReturn

import numpy as np
import pandas as pd

from .decide import SCORE_DECIMALS
from .exceptions import ColumnError, RoutesError
from .themes import FLAGS, SENTIMENTS, THEME_IDS

if TYPE_CHECKING:
    from .decide import Decisions
    from .tagging import Tag

URGENT_RULE = "urgent: safeguarding"
DEFAULT_RULE = "default"
ROUTE_COLUMNS = ("route", "route_rule")
TOP_KEYS = ("destinations", "default", "urgent", "thresholds", "rule")
DESTINATION_KEYS = ("team", "address")
RULE_KEYS = ("name", "destination", "themes", "sentiment", "flags", "stop")
# bool before int: TOML's true/false arrive as Python bools, which are ints too.
_TOML_TYPES = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
               (list, "an array"), (dict, "a table"))


@dataclass(frozen=True)
class Destination:
    """Where comments go: the key the rules file gives it, the team's name and its address."""

    key: str
    team: str
    address: str


@dataclass(frozen=True)
class Rule:
    """One ``[[rule]]``: send comments to ``destination`` when every condition given holds.

    Each condition holds when the comment has any of its values; an empty one is not a condition.
    """

    name: str
    destination: str
    themes: tuple[str, ...] = ()
    sentiment: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    stop: bool = False


@dataclass(frozen=True)
class Route:
    """Where one comment goes.

    Attributes
    ----------
    destinations : tuple of Destination
        In precedence order: the urgent destination first for a safeguarding-flagged comment,
        then those of the matching rules in file order, or the default when no rule matched.
    rules : tuple of str
        For each destination, the name of the rule that sent the comment there:
        ``"urgent: safeguarding"`` and ``"default"`` for those two.
    needs_review : bool
        A person should read the comment before acting: its tag needs review, or it is
        safeguarding-flagged.
    """

    destinations: tuple[Destination, ...]
    rules: tuple[str, ...]
    needs_review: bool


@dataclass(frozen=True)
class Router:
    """Routing rules held in memory; get one with :func:`load_routes`, which validates them.

    Plain data only, so that it pickles and can be sent to worker processes.

    Attributes
    ----------
    destinations : dict of str to Destination
        Keyed by the destination's key in the file.
    default : str
        Key of the destination of comments that no rule matches.
    urgent : str
        Key of the destination every safeguarding-flagged comment goes to first.
    rules : tuple of Rule
        In precedence (file) order.
    thresholds : dict of str to float
        Theme id -> score the theme must reach to count as present for the rules, in place of
        the model's decision for that theme. Themes not in it count as the model decided.

    Examples
    --------
    >>> router = load_routes("data/routing.example.toml")  # doctest: +SKIP
    >>> [d.team for d in router.route(tagger.tag("Nobody answers the phone")).destinations]  # doctest: +SKIP
    ['Access and Booking Team']
    """

    destinations: dict[str, Destination]
    default: str
    urgent: str
    rules: tuple[Rule, ...] = ()
    thresholds: dict[str, float] = field(default_factory=dict)
    columns: ClassVar[tuple[str, ...]] = ROUTE_COLUMNS  # what routing adds to a frame

    def route(self, tag: Tag) -> Route:
        """Return the :class:`Route` of one tagged comment.

        Parameters
        ----------
        tag : Tag
            As given by :meth:`feedback_nlp.Tagger.tag`.

        Returns
        -------
        Route
        """
        matched = self._matched(
            np.array([[t in tag.themes for t in THEME_IDS]]),
            {t: np.array([tag.theme_scores[t]]).round(SCORE_DECIMALS) for t in self.thresholds},
            np.array([[s == tag.sentiment for s in SENTIMENTS]]),
            np.array([[f in tag.flags for f in FLAGS]]),
        )[0]
        destinations, rules = self._resolve(matched)
        return Route(destinations, rules, needs_review=bool(tag.needs_review or matched[0]))

    def route_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return a copy of a tagged frame with ``route`` and ``route_rule`` added, rows in order.

        ``route`` holds the destination keys joined by ``;`` and ``route_rule`` the name of the
        rule behind each, joined by ``;`` in the same order: the answer of :meth:`route` for the
        row's tag. Only the distinct patterns of matching rules are resolved one by one, so a
        million rows take a second or two.

        Parameters
        ----------
        frame : pandas.DataFrame
            The output of :meth:`feedback_nlp.Tagger.tag_frame`: it needs the columns
            ``themes``, ``sentiment`` and ``flags``, and ``score_<theme id>`` for each theme
            with a threshold in the rules file.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ColumnError
            A column needed is missing, or the frame already has a route column.
        """
        needed = ["themes", "sentiment", "flags", *(f"score_{t}" for t in self.thresholds)]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ColumnError(
                f"expected the columns of Tagger.tag_frame; missing {missing} among "
                f"{list(frame.columns)}; tag the frame first"
            )
        clashes = [c for c in ROUTE_COLUMNS if c in frame.columns]
        if clashes:
            raise ColumnError(f"the frame already has route column(s) {clashes}; rename or drop them first")
        matched = self._matched(
            _one_hot(frame["themes"], THEME_IDS),
            {t: frame[f"score_{t}"].to_numpy(dtype=float) for t in self.thresholds},
            _one_hot(frame["sentiment"], SENTIMENTS),
            _one_hot(frame["flags"], FLAGS),
        )
        out = frame.copy()
        out["route"], out["route_rule"] = self._cells(matched)
        return out

    def route_decisions(self, decided: Decisions) -> tuple[np.ndarray, np.ndarray]:
        """The ``route`` and ``route_rule`` cells of a batch's decisions, as :meth:`route_frame`
        gives them for the frame made of those decisions; ``tag_frame(..., router=)`` uses it."""
        return self._cells(self._matched(
            decided.themes.astype(bool),
            {t: decided.shown_scores[:, THEME_IDS.index(t)] for t in self.thresholds},
            decided.sentiments[:, None] == np.array(SENTIMENTS, dtype=object),
            np.array([[f in row for f in FLAGS] for row in decided.flags], dtype=bool).reshape(-1, len(FLAGS)),
        ))

    def _cells(self, matched: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ``route`` and ``route_rule`` cells of each row of :meth:`_matched`."""
        # Number each row's pattern one column at a time: np.unique(axis=0) sorts whole rows and
        # takes seconds on a million.
        pattern = np.zeros(len(matched), dtype=np.int64)
        for column in matched.T:
            pattern = pd.factorize(pattern * 2 + column)[0]
        resolved = [self._resolve(matched[i]) for i in np.unique(pattern, return_index=True)[1]]
        routes = np.array([";".join(d.key for d in ds) for ds, _ in resolved], dtype=object)[pattern]
        return routes, np.array([";".join(names) for _, names in resolved], dtype=object)[pattern]

    def _matched(self, themes, scores: Mapping[str, np.ndarray], sentiments, flags) -> np.ndarray:
        """Rows x (1 + rules) booleans: safeguarding-flagged, then each rule that counts."""
        present = themes.copy()
        for theme, threshold in self.thresholds.items():
            present[:, THEME_IDS.index(theme)] = scores[theme] >= threshold
        columns = [flags[:, FLAGS.index("safeguarding")]]
        stopped = np.zeros(len(themes), dtype=bool)
        for rule in self.rules:
            hit = ~stopped
            for wanted, names, have in (
                (rule.themes, THEME_IDS, present),
                (rule.sentiment, SENTIMENTS, sentiments),
                (rule.flags, FLAGS, flags),
            ):
                if wanted:
                    hit &= have[:, [names.index(w) for w in wanted]].any(axis=1)
            columns.append(hit)
            if rule.stop:
                stopped |= hit
        return np.column_stack(columns)

    def _resolve(self, matched) -> tuple[tuple[Destination, ...], tuple[str, ...]]:
        """The destinations, and the rule behind each, of one row of :meth:`_matched`."""
        chosen = {self.urgent: URGENT_RULE} if matched[0] else {}
        for rule, hit in zip(self.rules, matched[1:]):
            if hit:
                chosen.setdefault(rule.destination, rule.name)
        if not any(matched[1:]):
            chosen.setdefault(self.default, DEFAULT_RULE)
        return tuple(self.destinations[key] for key in chosen), tuple(chosen.values())


def _one_hot(values: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """Rows x names booleans: which names a column of ``;``-joined names holds (missing: none)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    table = np.array(
        [[n in (u.split(";") if isinstance(u, str) else ()) for n in names] for u in uniques],
        dtype=bool,
    ).reshape(len(uniques), len(names))
    return table[codes]


def load_routes(path: str | PathLike) -> Router:
    """Read and check a TOML file of routing rules.

    Parameters
    ----------
    path : path
        The rules file; ``data/routing.example.toml`` documents the format.

    Returns
    -------
    Router

    Raises
    ------
    RoutesError
        The file is missing, not UTF-8, not valid TOML, or has an unknown key, theme, sentiment
        or flag, a value of the wrong type, a threshold outside [0, 1], a rule naming an
        undefined destination, or no ``default`` or ``urgent``. The message names the file and
        the line at fault, what was expected and what was found.

    Examples
    --------
    >>> router = load_routes("data/routing.example.toml")  # doctest: +SKIP
    >>> routed = router.route_frame(tagger.tag_frame(frame, "comment"))  # doctest: +SKIP
    """
    path = Path(path)
    try:
        # utf-8-sig: Windows editors may start the file with a byte order mark.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RoutesError(
            path, "no such file; expected a TOML file of routing rules like data/routing.example.toml"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise RoutesError(path, f"expected a UTF-8 text file; cannot read it ({err})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        where = re.search(r"\s*\(at line (\d+), column (\d+)\)|\s*\(at end of document\)", str(err))
        line = int(where[1]) if where and where[1] else max(len(text.splitlines()), 1)
        column = f" at column {where[2]}" if where and where[2] else ""
        problem = str(err)[: where.start()] if where else str(err)
        raise RoutesError(
            path, f"expected valid TOML; found an error: {problem}{column}", line=line
        ) from None
    return _Checker(path, text).router(data)


# A TOML key (bare or quoted), a dotted one, and a line starting [[array]], [table] or key =.
_KEY = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_LINE = re.compile(
    rf"\s*(?:\[\[\s*(?P<array>{_DOTTED})\s*\]\]|\[\s*(?P<table>{_DOTTED})\s*\]|(?P<key>{_DOTTED})\s*=)"
)


def key_lines(text: str) -> dict[tuple, int]:
    """Where each table header and ``key =`` line is: key path -> first line number (from 1).

    Paths are tuples of keys, with the index of an ``[[array]]`` table after its name:
    ``("rule", 0, "themes")``. tomllib keeps no positions, so this scan of the text supplies them.
    """
    lines, table, counts = {}, (), {}
    for number, line in enumerate(text.splitlines(), 1):
        found = _LINE.match(line)
        if not found:
            continue
        keys = tuple(k.strip("\"'") for k in re.findall(_KEY, next(g for g in found.groups() if g)))
        if found["array"]:
            counts[keys] = counts.get(keys, -1) + 1
            table = keys + (counts[keys],)
            path = table
        elif found["table"]:
            table = path = keys
        else:
            path = table + keys
        lines.setdefault(path, number)
    return lines


def line_of(lines: dict[tuple, int], path: tuple) -> int:
    """The line of ``path``, else of its nearest enclosing table in the file, else line 1."""
    for n in range(len(path), 0, -1):
        hits = [line for p, line in lines.items() if p[:n] == path[:n]]
        if hits:
            return min(hits)
    return 1


def _found(value) -> str:
    kind = next((name for t, name in _TOML_TYPES if isinstance(value, t)), "a date or time")
    return kind if isinstance(value, (list, dict)) else f"{kind} {value!r}"


class _Checker:
    """Turns a parsed rules file into a :class:`Router`, raising at the first thing wrong."""

    def __init__(self, path: Path, text: str):
        self.path, self.lines = path, key_lines(text)

    def fail(self, where: tuple, problem: str) -> NoReturn:
        raise RoutesError(self.path, problem, line=line_of(self.lines, where))

    def table(self, value, where: tuple, allowed: tuple | None, required: tuple, what: str) -> dict:
        """``value`` if it is a table with only ``allowed`` keys (None: any) and the ``required`` ones."""
        if not isinstance(value, dict):
            self.fail(where, f"expected {what}; found {_found(value)}")
        for key in value:
            if allowed is not None and key not in allowed:
                self.fail(where + (key,), f"unknown key {key!r} in {what}; expected one of {list(allowed)}")
        for key in required:
            if key not in value:
                self.fail(where, f"expected a key {key!r} in {what}; found none")
        return value

    def string(self, value, where: tuple, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"expected {what} (a non-empty string); found {_found(value)}")
        return value

    def key_of(self, value, where: tuple, destinations: dict) -> str:
        key = self.string(value, where, "a destination key")
        if key not in destinations:
            self.fail(where, f"expected one of the destinations {list(destinations)}; found {key!r}; "
                             f"define it in a [destinations.{key}] table or fix the name")
        return key

    def choices(self, value, where: tuple, allowed: tuple, what: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.fail(where, f"expected a non-empty array of {what}s (leave the key out to match any); "
                             f"found {_found(value)}")
        for item in value:
            if item not in allowed:
                self.fail(where, f"expected {what}s from {list(allowed)}; found {_found(item)}")
        return tuple(value)

    def router(self, data: dict) -> Router:
        self.table(data, (), TOP_KEYS, ("destinations", "default", "urgent"), "the top level of the file")
        tables = self.table(data["destinations"], ("destinations",), None, (), "[destinations.<key>] tables")
        if not tables:
            self.fail(("destinations",), "expected at least one [destinations.<key>] table; found none")
        destinations = {key: self.destination(key, value) for key, value in tables.items()}
        thresholds = self.table(data.get("thresholds", {}), ("thresholds",), THEME_IDS, (),
                                "a [thresholds] table of theme ids")
        for theme, value in thresholds.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                self.fail(
                    ("thresholds", theme), f"expected a score from 0 to 1 for {theme}; found {_found(value)}"
                )
        rules = data.get("rule", [])
        if not isinstance(rules, list):
            self.fail(("rule",), f"expected [[rule]] tables; found {_found(rules)}")
        names = set()
        checked = tuple(self.rule(i, rule, destinations, names) for i, rule in enumerate(rules))
        return Router(
            destinations=destinations,
            default=self.key_of(data["default"], ("default",), destinations),
            urgent=self.key_of(data["urgent"], ("urgent",), destinations),
            rules=checked,
            thresholds={theme: float(value) for theme, value in thresholds.items()},
        )

    def destination(self, key: str, value) -> Destination:
        where = ("destinations", key)
        if ";" in key:
            self.fail(where, "expected a destination key without ';' (it joins keys in the route "
                             f"column); found {key!r}")
        value = self.table(
            value, where, DESTINATION_KEYS, DESTINATION_KEYS, f"the [destinations.{key}] table"
        )
        return Destination(key, *(self.string(value[k], where + (k,), f"a {k}") for k in DESTINATION_KEYS))

    def rule(self, i: int, value, destinations: dict, names: set) -> Rule:
        where = ("rule", i)
        value = self.table(value, where, RULE_KEYS, ("name", "destination"), f"[[rule]] number {i + 1}")
        name = self.string(value["name"], where + ("name",), "a rule name")
        if ";" in name or name in (URGENT_RULE, DEFAULT_RULE) or name in names:
            self.fail(where + ("name",), f"expected a rule name that is unique, has no ';' and is not "
                                         f"{URGENT_RULE!r} or {DEFAULT_RULE!r}; found {name!r}")
        names.add(name)
        stop = value.get("stop", False)
        if not isinstance(stop, bool):
            self.fail(where + ("stop",), f"expected stop = true or false; found {_found(stop)}")
        conditions = {
            key: self.choices(value[key], where + (key,), allowed, what)
            for key, allowed, what in (
                ("themes", THEME_IDS, "theme id"),
                ("sentiment", SENTIMENTS, "sentiment"),
                ("flags", FLAGS, "flag"),
            )
            if key in value
        }
        destination = self.key_of(value["destination"], where + ("destination",), destinations)
        return Rule(name, destination, stop=stop, **conditions)
