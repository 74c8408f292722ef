"""The report's statistics: control charts over time and funnel plots across groups.

Pure functions of counts, so each can be checked against a case worked by hand.

- :func:`xmr_chart`: an XmR (individuals) chart, as NHS England's "Making Data Count" draws one:
  limits at the mean plus or minus 2.66 times the mean moving range.
- :func:`p_prime_chart`: Laney's p'-chart of a proportion. A plain p-chart's limits shrink with
  the number of comments, and with hundreds of comments a month the real month-to-month variation
  puts nearly every point outside them; Laney widens them by the variation of the points' z-scores
  (sigma_z). With sigma_z = 1 it is the p-chart; with equal denominators it is the XmR chart.
- :func:`special_causes`: the Making Data Count rules, each point of a pattern marked.
- :func:`funnel`: share per group against the number of comments, 95% and 99.8% limits around the
  overall share, widened for overdispersion as Spiegelhalter describes (Statistics in Medicine
  2005; 24:1185-1202): winsorised z-scores, a chi-squared test, additive random effects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2

# d2 for moving ranges of two points: sigma = mean moving range / 1.128 (Laney's sigma_z).
D2 = 1.128
# Making Data Count's XmR limits: the mean +/- 2.66 x the mean moving range (3 / 1.128, rounded as
# NHS England's tools round it, so figures agree with theirs).
XMR_LIMIT = 2.66
# Two-sided normal quantiles of the funnel limits: 95% and 99.8%.
Z95 = 1.959964
Z998 = 3.090232
# Groups with fewer comments are not plotted or judged (the National Cancer Patient Experience
# Survey suppresses counts under 20): a share of 5 comments says little and could identify.
MIN_GROUP_COMMENTS = 20
# Making Data Count: a run of 7 points on one side of the mean, or 7 rising or falling.
RUN = 7
# Spiegelhalter winsorises the top and bottom 10% of z-scores before estimating overdispersion;
# with fewer than 10 groups nothing is trimmed and one extreme group inflates the estimate until
# its own limits hide it, so fewer groups get plain limits.
WINSOR = 0.10
MIN_GROUPS_OVERDISPERSION = 10

# Variation of a point, as Making Data Count colours it.
COMMON = "common cause"
CONCERN = "special cause: concern"
IMPROVEMENT = "special cause: improvement"
HIGH = "special cause: high"
LOW = "special cause: low"


def xmr_chart(values, *, lower_is_better: bool | None = None) -> pd.DataFrame:
    """An XmR chart: the mean, and limits at the mean +/- 2.66 x the mean moving range.

    Parameters
    ----------
    values : sequence of float
        One value a period, in time order; NaN (no data) is left out of the limits and marked
        nothing.
    lower_is_better : bool or None
        Which way is improvement; None when neither is (a count of comments).

    Returns
    -------
    DataFrame
        One row a value: ``value``, ``centre``, ``lower``, ``upper`` (the process limits, the lower
        one not below 0: counts and shares cannot be negative), ``signal`` (the rule a point
        breaks, "" when none) and ``variation`` (:data:`COMMON`, :data:`CONCERN`, ...).

    Example
    -------
    >>> float(xmr_chart([10, 12, 11])["upper"].iloc[0])  # 11 + 2.66 x mean(2, 1)
    14.99
    """
    value = np.asarray(values, dtype=float)
    known = value[~np.isnan(value)]
    centre = known.mean() if len(known) else np.nan
    sigma = np.abs(np.diff(known)).mean() * XMR_LIMIT / 3 if len(known) > 1 else 0.0
    spread = np.full(len(value), sigma)
    return _chart(value, np.full(len(value), centre), spread, lower_is_better)


def p_prime_chart(events, totals, *, lower_is_better: bool | None = True) -> pd.DataFrame:
    """Laney's p'-chart of ``events / totals`` per period (e.g. negative comments of a theme).

    The centre is the pooled share p = sum(events) / sum(totals); a period's sigma is
    sqrt(p (1 - p) / n) x sigma_z, where sigma_z is the mean moving range of the periods' z-scores
    (z = (share - p) / sqrt(p (1 - p) / n)) divided by 1.128. A period with no comments is NaN.

    Parameters
    ----------
    events, totals : sequence of int
        Per period, in time order.
    lower_is_better : bool or None
        True for a share of negative comments.

    Returns
    -------
    DataFrame
        As :func:`xmr_chart`, plus ``events``, ``totals`` and ``sigma_z`` (the same on each row).
    """
    events, totals = np.asarray(events, dtype=float), np.asarray(totals, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(totals > 0, events / totals, np.nan)
    seen = totals > 0
    centre = events[seen].sum() / totals[seen].sum() if seen.any() else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):  # no limits for a period with no comments
        binomial = np.where(seen, np.sqrt(centre * (1 - centre) / totals), np.nan)
    sigma_z = 1.0
    if seen.sum() > 1 and 0 < centre < 1:
        z = (share[seen] - centre) / binomial[seen]
        sigma_z = np.abs(np.diff(z)).mean() / D2
    chart = _chart(share, np.full(len(share), centre), binomial * sigma_z, lower_is_better)
    chart["upper"] = chart["upper"].clip(upper=1.0)  # a share cannot pass 100%
    chart.insert(0, "events", events.astype(int))
    chart.insert(1, "totals", totals.astype(int))
    chart["sigma_z"] = sigma_z
    return chart


def _chart(value, centre, sigma, lower_is_better) -> pd.DataFrame:
    upper, lower = centre + 3 * sigma, np.maximum(centre - 3 * sigma, 0.0)
    signal, variation = special_causes(value, centre, sigma, lower_is_better=lower_is_better)
    return pd.DataFrame({"value": value, "centre": centre, "lower": lower, "upper": upper,
                         "signal": signal, "variation": variation})


def special_causes(value, centre, sigma, *, lower_is_better: bool | None) -> tuple[list[str], list[str]]:
    """The Making Data Count rules, in their order of precedence, for each point.

    1. a point outside the limits (centre +/- 3 sigma);
    2. a run of 7 or more points rising, or falling (each point of the run is marked);
    3. two of three points in a row beyond 2 sigma on the same side of the mean (the points
       beyond are marked);
    4. a run of 7 or more points above, or below, the mean (a point on the mean breaks a run).

    Returns ``(signal, variation)``: for each point the rule it breaks ("" when none) and its
    variation: :data:`COMMON`, or :data:`IMPROVEMENT` / :data:`CONCERN` by ``lower_is_better``,
    or :data:`HIGH` / :data:`LOW` when neither way is better. NaN points break no rule and are
    skipped over by runs.
    """
    value, centre, sigma = (np.asarray(a, dtype=float) for a in (value, centre, sigma))
    n = len(value)
    signal, side = [""] * n, [0] * n  # side: +1 high, -1 low, for the point's variation
    known = [i for i in range(n) if not np.isnan(value[i])]
    rel = {i: int(np.sign(value[i] - centre[i])) for i in known}
    limit = 3 * sigma[known] if known else []
    for i, spread in zip(known, limit):
        if value[i] > centre[i] + spread:
            signal[i], side[i] = "above the upper limit", 1
        elif value[i] < centre[i] - spread:
            signal[i], side[i] = "below the lower limit", -1

    def mark(indices, text, direction):
        for i in indices:
            if not signal[i]:
                signal[i], side[i] = text, direction

    steps = [int(np.sign(value[b] - value[a])) for a, b in zip(known, known[1:])]
    for start, length, direction in _runs(steps):
        if direction and length >= RUN - 1:  # 6 steps the same way join 7 points
            mark(known[start:start + length + 1], f"{RUN} or more points {'rising' if direction > 0 else 'falling'}", direction)
    near = {i: (abs(value[i] - centre[i]) > 2 * sigma[i]) * rel[i] for i in known}
    for a, b, c in zip(known, known[1:], known[2:]):
        sides = {rel[a], rel[b], rel[c]}
        beyond = [i for i in (a, b, c) if near[i]]
        if len(sides) == 1 and 0 not in sides and len(beyond) >= 2:
            where = "upper" if rel[a] > 0 else "lower"
            mark(beyond, f"2 of 3 points near the {where} limit", rel[a])
    for start, length, direction in _runs([rel[i] for i in known]):
        if direction and length >= RUN:
            mark(known[start:start + length], f"{RUN} or more points {'above' if direction > 0 else 'below'} the mean", direction)
    variation = [_variation(s, lower_is_better) for s in side]
    return signal, variation


def _runs(signs):
    """(start, length, sign) of each run of equal signs."""
    start = 0
    for i in range(1, len(signs) + 1):
        if i == len(signs) or signs[i] != signs[start]:
            if len(signs):
                yield start, i - start, signs[start]
            start = i


def _variation(side: int, lower_is_better: bool | None) -> str:
    if side == 0:
        return COMMON
    if lower_is_better is None:
        return HIGH if side > 0 else LOW
    return IMPROVEMENT if (side < 0) == lower_is_better else CONCERN


@dataclass(frozen=True)
class Funnel:
    """A funnel plot's target and spread: the limits at ``n`` comments are
    ``target +/- z * sqrt(target (1 - target) / n + tau2)``, cut to [0, 1].

    ``phi`` is the overdispersion factor (mean squared winsorised z-score) and ``tau2`` the
    between-group variance added for it (0 when the test finds no overdispersion, or when not
    adjusting); ``groups`` is the number of groups they were estimated from.
    """

    target: float
    phi: float
    tau2: float
    groups: int

    def limits(self, n, z: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper limits at ``n`` comments for the normal quantile ``z``."""
        n = np.asarray(n, dtype=float)
        spread = z * np.sqrt(self.target * (1 - self.target) / n + self.tau2)
        return np.clip(self.target - spread, 0, 1), np.clip(self.target + spread, 0, 1)


def funnel(events, totals, *, overdispersion: bool = True,
           min_comments: int = MIN_GROUP_COMMENTS) -> tuple[Funnel, pd.DataFrame]:
    """Compare groups' shares (``events / totals``) with the overall share, Spiegelhalter's way.

    The target is the share over all groups, small ones included (it is the whole service's
    share). Groups with fewer than ``min_comments`` are not judged and do not inform the
    overdispersion estimate. For the others, z = (share - target) / s with
    s = sqrt(target (1 - target) / n); the k = floor(10% x I) lowest and highest z are set to the
    next one in (winsorised); phi = mean(z^2) over the I groups. With at least 10 groups,
    they are overdispersed when I x phi passes the 95th centile of chi-squared on I - 1 degrees of
    freedom (without the test, groups with phi under 1 could get wider limits), and then the
    between-group variance is tau2 = (I phi - (I - 1)) / (sum(w) - sum(w^2) / sum(w)), w = 1/s^2.
    With fewer groups the limits are plain: nothing is winsorised, and one extreme group would
    widen its own limits until they hid it.

    Parameters
    ----------
    events, totals : sequence of int
        Per group (e.g. a theme's negative comments, and its comments, at each site).
    overdispersion : bool
        Widen the limits by tau2 (Spiegelhalter's additive random-effects model).

    Returns
    -------
    (Funnel, DataFrame)
        The target and spread, and one row a group: ``events``, ``totals``, ``share``, ``shown``
        (enough comments to judge), ``lower95``, ``upper95``, ``lower998``, ``upper998`` and
        ``position``: "above 99.8%", "above 95%", "within", "below 95%", "below 99.8%", or ""
        for a group not shown.
    """
    events, totals = np.asarray(events, dtype=float), np.asarray(totals, dtype=float)
    target = events.sum() / totals.sum() if totals.sum() else np.nan
    shown = totals >= min_comments
    phi, tau2 = 1.0, 0.0
    if shown.sum() >= 2 and 0 < target < 1:
        s2 = target * (1 - target) / totals[shown]
        z = winsorised((events[shown] / totals[shown] - target) / np.sqrt(s2))
        groups = len(z)
        phi = float(np.mean(z**2))
        w = 1 / s2
        if (overdispersion and groups >= MIN_GROUPS_OVERDISPERSION
                and groups * phi > chi2.ppf(0.95, groups - 1)):
            tau2 = float((groups * phi - (groups - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    result = Funnel(float(target), phi, tau2 if overdispersion else 0.0, int(shown.sum()))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(totals > 0, events / totals, np.nan)
        lower95, upper95 = result.limits(totals, Z95)
        lower998, upper998 = result.limits(totals, Z998)
    position = np.select(
        [~shown, share > upper998, share > upper95, share < lower998, share < lower95],
        ["", "above 99.8%", "above 95%", "below 99.8%", "below 95%"], "within",
    )
    return result, pd.DataFrame({
        "events": events.astype(int), "totals": totals.astype(int), "share": share, "shown": shown,
        "lower95": lower95, "upper95": upper95, "lower998": lower998, "upper998": upper998,
        "position": position,
    })


def winsorised(z: np.ndarray) -> np.ndarray:
    """``z`` with its floor(10%) lowest and highest values set to the next value in."""
    k = math.floor(WINSOR * len(z))
    if k == 0:
        return z
    ordered = np.sort(z)
    return np.clip(z, ordered[k], ordered[-k - 1])
