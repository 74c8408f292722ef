"""The report's statistics against cases worked by hand, and properties that hold for any counts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_nlp.reporting import spc


def test_xmr_limits_are_the_mean_plus_or_minus_2_66_mean_moving_ranges():
    # values 10, 12, 11, 15, 12: mean 60 / 5 = 12; moving ranges 2, 1, 4, 3, mean 10 / 4 = 2.5;
    # limits 12 +/- 2.66 x 2.5 = 12 +/- 6.65 -> 5.35 and 18.65.
    chart = spc.xmr_chart([10, 12, 11, 15, 12])
    assert chart["centre"].tolist() == pytest.approx([12] * 5)
    assert chart["lower"].tolist() == pytest.approx([5.35] * 5)
    assert chart["upper"].tolist() == pytest.approx([18.65] * 5)
    assert set(chart["variation"]) == {spc.COMMON}


def test_xmr_lower_limit_stops_at_zero_and_a_high_count_is_neither_good_nor_bad():
    # 1, 1, 1, 9, 1: mean 13 / 5 = 2.6; moving ranges 0, 0, 8, 8, mean 4; limits 2.6 +/- 10.64.
    chart = spc.xmr_chart([1, 1, 1, 9, 1])
    assert chart["lower"].iloc[0] == 0
    assert chart["upper"].iloc[0] == pytest.approx(13.24)


def test_p_prime_chart_widens_p_chart_limits_by_sigma_z():
    # events 10, 20, 30 of 100, 100, 200: p = 60 / 400 = 0.15.
    # sigma_p: sqrt(0.15 x 0.85 / 100) = 0.0357071 (n = 100), sqrt(0.15 x 0.85 / 200) = 0.0252488.
    # z: (0.10 - 0.15) / 0.0357071 = -1.40028, (0.20 - 0.15) / 0.0357071 = 1.40028, 0.
    # moving ranges of z: 2.80056, 1.40028, mean 2.10042; sigma_z = 2.10042 / 1.128 = 1.86207.
    # n = 100: 0.15 +/- 3 x 0.0357071 x 1.86207 = 0.15 +/- 0.199468 -> 0 (cut at 0) and 0.349468.
    # n = 200: 0.15 +/- 3 x 0.0252488 x 1.86207 = 0.15 +/- 0.141045 -> 0.008955 and 0.291045.
    chart = spc.p_prime_chart([10, 20, 30], [100, 100, 200])
    assert chart["centre"].tolist() == pytest.approx([0.15] * 3)
    assert chart["sigma_z"].iloc[0] == pytest.approx(1.86207, abs=1e-5)
    assert chart["lower"].tolist() == pytest.approx([0, 0, 0.008955], abs=1e-6)
    assert chart["upper"].tolist() == pytest.approx([0.349468, 0.349468, 0.291045], abs=1e-6)


def test_p_prime_chart_leaves_a_period_without_comments_out():
    chart = spc.p_prime_chart([2, 0, 4], [10, 0, 20])
    assert np.isnan(chart["value"].iloc[1]) and np.isnan(chart["upper"].iloc[1])
    assert chart["centre"].iloc[0] == pytest.approx(6 / 30)
    assert chart["signal"].iloc[1] == ""


@pytest.mark.parametrize("value, signal", [(3.5, "above the upper limit"), (-3.5, "below the lower limit")])
def test_a_point_outside_the_limits_is_a_special_cause(value, signal):
    found, variation = spc.special_causes([0, 0.5, value, 0], [0] * 4, [1] * 4, lower_is_better=True)
    assert found[2] == signal
    assert variation[2] == (spc.CONCERN if value > 0 else spc.IMPROVEMENT)


def test_seven_points_above_the_mean_are_a_shift_and_six_are_not():
    seven = [0.5] * 7 + [-0.5]
    found, variation = spc.special_causes(seven, [0] * 8, [1] * 8, lower_is_better=True)
    assert found[:7] == ["7 or more points above the mean"] * 7 and found[7] == ""
    assert variation[:7] == [spc.CONCERN] * 7  # more negative comments is worse
    found, _ = spc.special_causes([0.5] * 6 + [-0.5], [0] * 7, [1] * 7, lower_is_better=True)
    assert found == [""] * 7


def test_a_point_on_the_mean_breaks_a_run():
    values = [0.5] * 3 + [0] + [0.5] * 4
    found, _ = spc.special_causes(values, [0] * 8, [1] * 8, lower_is_better=True)
    assert found == [""] * 8


def test_seven_points_falling_are_a_trend_and_an_improvement_for_a_negative_share():
    values = [0.9, 0.6, 0.3, 0.0, -0.3, -0.6, -0.9, 0.1]
    found, variation = spc.special_causes(values, [0] * 8, [1] * 8, lower_is_better=True)
    assert found[:7] == ["7 or more points falling"] * 7 and found[7] == ""
    assert variation[0] == spc.IMPROVEMENT


def test_two_of_three_points_beyond_two_sigma_on_one_side_mark_those_two():
    # sigma 1: 2.5 and 2.2 are beyond 2 sigma, 0.1 between them is above the mean but not beyond.
    found, _ = spc.special_causes([0.5, 2.5, 0.1, 2.2, -0.3], [0] * 5, [1] * 5, lower_is_better=True)
    assert found == ["", "2 of 3 points near the upper limit", "", "2 of 3 points near the upper limit", ""]


def test_neither_way_better_marks_high_and_low():
    _, variation = spc.special_causes([0, 4, -4], [0] * 3, [1] * 3, lower_is_better=None)
    assert variation == [spc.COMMON, spc.HIGH, spc.LOW]


def test_funnel_without_overdispersion_has_binomial_limits():
    # 10, 12, 8, 10 negative of 100 each: target 40 / 400 = 0.1; s = sqrt(0.1 x 0.9 / 100) = 0.03.
    # z = 0, 0.667, -0.667, 0; phi = (0.444 + 0.444) / 4 = 0.222; 4 x 0.222 < 3, so tau2 = 0.
    # 95%: 0.1 +/- 1.959964 x 0.03 = 0.1 +/- 0.058799; 99.8%: 0.1 +/- 3.090232 x 0.03 = +/- 0.092707.
    funnel, points = spc.funnel([10, 12, 8, 10], [100] * 4)
    assert funnel.target == pytest.approx(0.1)
    assert funnel.phi == pytest.approx(2 / 9)
    assert funnel.tau2 == 0
    assert points["lower95"].iloc[0] == pytest.approx(0.041201, abs=1e-6)
    assert points["upper95"].iloc[0] == pytest.approx(0.158799, abs=1e-6)
    assert points["lower998"].iloc[0] == pytest.approx(0.007293, abs=1e-6)
    assert points["upper998"].iloc[0] == pytest.approx(0.192707, abs=1e-6)
    assert set(points["position"]) == {"within"}


def test_funnel_adds_spiegelhalters_between_group_variance():
    # 0, 5, 5, 10, 15, 15, 20, 25, 25, 30 negative of 100 each: target 150 / 1000 = 0.15;
    # s^2 = 0.15 x 0.85 / 100 = 0.001275, s = 0.0357071; z = -4.20, -2.80, -2.80, -1.40, 0, 0,
    # 1.40, 2.80, 2.80, 4.20. Winsorised (k = floor(10% x 10) = 1): -4.20 -> -2.80, 4.20 -> 2.80.
    # z^2: six of 0.01 / 0.001275 = 7.843137, two of 0.0025 / 0.001275 = 1.960784: 50.980392;
    # phi = 5.098039; I phi = 50.98 > 16.919, chi-squared's 95th centile on 9 df.
    # w = 1 / 0.001275 = 784.3137 each: sum(w) - sum(w^2) / sum(w) = 7843.137 - 784.314 = 7058.824;
    # tau2 = (50.980392 - 9) / 7058.824 = 0.0059472.
    # 95% at n = 100: 0.15 +/- 1.959964 x sqrt(0.001275 + 0.0059472) = 0.15 +/- 0.166565.
    events = [0, 5, 5, 10, 15, 15, 20, 25, 25, 30]
    funnel, points = spc.funnel(events, [100] * 10)
    assert funnel.phi == pytest.approx(5.098039, abs=1e-6)
    assert funnel.tau2 == pytest.approx(0.0059472, abs=1e-7)
    assert points["upper95"].iloc[0] == pytest.approx(0.316565, abs=1e-6)
    assert points["lower95"].iloc[0] == 0
    assert set(points["position"]) == {"within"}
    # unadjusted: 0.15 +/- 3.090232 x 0.0357071 = 0.15 +/- 0.110344, so 0 and 0.30 are outside
    _, unadjusted = spc.funnel(events, [100] * 10, overdispersion=False)
    assert unadjusted["position"].tolist() == ["below 99.8%", "below 95%", "below 95%", *["within"] * 4,
                                               "above 95%", "above 95%", "above 99.8%"]


def test_funnel_with_fewer_than_ten_groups_keeps_plain_limits():
    # one site at 100% negative among four: phi is large, but widening for it would hide that site
    funnel, points = spc.funnel([100, 30, 30, 30], [100] * 4)
    assert funnel.phi > 10 and funnel.tau2 == 0
    assert points["position"].iloc[0] == "above 99.8%"


def test_funnel_adds_nothing_when_the_spread_is_what_chance_gives():
    # 13 and 7 of 100, five times each: target 0.1, s = 0.03, z = +/- 1, phi = 1; I phi = 10 is over
    # I - 1 = 9 (the estimate alone would widen) but under 16.919 (chi-squared, 9 df): not widened.
    # 14 and 6: z = +/- 1.333, phi = 1.778, I phi = 17.78 > 16.919: widened.
    funnel, _ = spc.funnel([13, 7] * 5, [100] * 10)
    assert funnel.phi == pytest.approx(1)
    assert funnel.tau2 == 0
    assert spc.funnel([14, 6] * 5, [100] * 10)[0].tau2 > 0


def test_funnel_does_not_show_or_judge_small_groups_but_counts_them_in_the_target():
    funnel, points = spc.funnel([19, 10, 10], [19, 100, 100])
    assert funnel.target == pytest.approx(39 / 219)
    assert points["shown"].tolist() == [False, True, True]
    assert points["position"].iloc[0] == ""
    assert funnel.groups == 2


def test_winsorising_sets_the_lowest_and_highest_tenth_to_the_next_value_in():
    z = np.array([-5, -1, 0, 0, 0, 0, 0, 0, 1, 9], dtype=float)
    assert spc.winsorised(z).tolist() == [-1, -1, 0, 0, 0, 0, 0, 0, 1, 1]
    assert spc.winsorised(z[:9]).tolist() == z[:9].tolist()  # 9 groups: floor(0.9) = 0


_counts = st.lists(
    st.tuples(st.integers(1, 5_000), st.floats(0, 1)).map(lambda t: (round(t[0] * t[1]), t[0])),
    min_size=1, max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(_counts)
def test_p_prime_limits_hold_the_centre_inside_zero_and_one(pairs):
    events, totals = zip(*pairs)
    chart = spc.p_prime_chart(events, totals)
    assert chart["centre"].iloc[0] == pytest.approx(sum(events) / sum(totals))
    assert (chart["lower"] >= 0).all() and (chart["upper"] <= 1).all()
    assert (chart["lower"] <= chart["centre"] + 1e-12).all()
    assert (chart["upper"] >= chart["centre"] - 1e-12).all()


@settings(max_examples=200, deadline=None)
@given(_counts)
def test_funnel_limits_nest_and_narrow_as_groups_grow(pairs):
    events, totals = zip(*pairs)
    funnel, points = spc.funnel(events, totals)
    assert funnel.tau2 >= 0
    assert (points["lower998"] <= points["lower95"] + 1e-12).all()
    assert (points["upper95"] <= points["upper998"] + 1e-12).all()
    assert (points["lower95"] <= funnel.target + 1e-12).all() and (points["upper95"] >= funnel.target - 1e-12).all()
    n = np.array([20, 50, 200, 1000, 10_000])
    low, up = funnel.limits(n, spc.Z95)
    assert (np.diff(up - low) <= 1e-12).all()
