"""Prediction intervals: split-conformal half-widths from held-out errors, scaled per series and step.

Each held-out window i (series j, its targets at steps k = 1..H) has an absolute error |e_ik| in the
network's normalised units. The interval of series j at step k is

    half-width_jk = sigma_jk * s_k * Q,     sigma_jk = spread_j * exp(a_k + c . x_jk)

* ``spread_j``: the series' mean |z_t - z_{t-1}| (its in-sample naive error, the prepared scale);
* ``x_jk``, the **scale features** (``ErrorScale.features``):

  - log(d_jk / spread_j), where d_jk is the series' own k-step drift error, the mean
    |z_{t+k} - z_t - k mu| over its last ``SPAN`` origins (mu: its mean step; ``window_stats``), which
    tells a steady trend from an erratic one and how fast errors grow with the step;
  - log(r_j), the forecast's mean error on the series' own last training windows in spread units
    (what the network finds hard);
  - log(spread_j) itself, less the median over the held-out windows (so that the model is the same
    whatever the data's units);
  - log(min(n_j, SPAN)), the history the series' statistics rest on (n_j: its points before the
    targets): a short series is harder to forecast than its spread says;
  - log(v_jr / spread_j), r = 1, 2, 4, where v_jr is the mean |z_t - z_{t-1}| over the series' last
    r * max(m, 8) steps (``recent_spans``; m the season length): how calm or agitated the series has
    been lately against its whole history, as volatility clusters (GARCH's premise);
  - log(p_jk), the **phase ratio**: the mean |z_t - z_{t-m}| at the points t of the same seasonal
    phase as target k, over the series' last ``PHASE_SEASONS`` seasons, divided by its mean over every
    phase (1 without a season, m < 2): hourly rentals change little from one night to the next and a
    lot from one morning peak to the next, and so do their forecast errors;
* ``a_k, c``: a fit of sigma on per-step intercepts and the features by maximum likelihood under Laplace
  errors (Fisher scoring from the least-squares fit of log(|e_ik| / spread_i)), the slopes shrunk towards
  0 (a ridge worth ``KAPPA`` series, so a panel of a few series gets intervals proportional to the
  spread; the phase ratio's worth ``KAPPA`` series-phases, as it varies within a series:
  ``ErrorScale.fit``). The likelihood follows the mean error, where least squares on the log follows the
  geometric mean, which errors mostly near 0 (intermittent sales) drag far below the mean;
* ``Q``: the ``ceil((N + 1) level)``-th smallest of the N pooled scores |e_ik| / (sigma_ik s_k), where
  each window's sigma comes from a fit on the series of the *other* folds (``FOLDS``-fold cross-fitting
  by series, ``cross_folds``), so the scores are out-of-sample as the forecast's will be; ``s_k`` is
  step k's typical score, a winsorised mean (``step_scale``, ``conformal_halfwidth``). Each fit takes
  out its own step bias: the fitted unit is rescaled so that its in-sample scores' ``s_k`` is 1, the
  cross-fitted scores so that theirs is (``ErrorScale.fit``). Intermittent series pool their own
  windows' scores, the others theirs (``INTERMITTENT``, ``conformal_ends``), and take each tail from its
  own side: the ends are the ``(1 -+ level) / 2`` quantiles of the signed scores e_ik / (sigma_ik s_k)
  (``conformal_tails``). A series whose unit is off by an order of magnitude (``MISJUDGED``) is calibrated
  on its own errors, and the others without them.

Every feature of a held-out window is computed from its series' points **before its targets** (the
prefix up to the window's inputs' end), never from the whole series: the whole series includes the
window's own targets, which made the calibration optimistic (M4 dev Yearly 95 % coverage 0.93 with the
spread of the whole series, 0.95 with the prefix's). When there are too few held-out errors for the
level (``ceil((N + 1) level) > N``: a few short series), Q is the normal approximation z_level * RMS of
the pooled scores, and a warning says so. Steps past the network's horizon H (recursive forecasts) reuse
the unit of the network step b they repeat, each with its own point's phase ratio, widened by how much
the series' own drift error grows from b to k steps, g_jk = d_jk / d_jb (``recursion_growth``; at
least 1). The held-out windows are a bounded, seeded sample (``tsrnn.store.Windows``), so calibration
costs the same for 1,000 or 100,000 series.

Measured on the M4 dev sample (``docs/intervals.md``): 95 % MSIS 15.1-15.2 with the first three
features against 16.8-17.1 with the previous error scale (the spread times a power of the in-sample
error), and 13.9-14.0 with the first six (coverage 0.957-0.960). The phase ratio took Hourly's from
9.31-9.90 to 8.86-9.39, and that of one hourly series of bike rentals from 8.26-8.97 to 6.92-7.52
(``benchmarks/interval_backtests.py``).
"""
from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numba import njit

from ._config import JIT

__all__ = ["calibrate", "check_levels", "check_quantiles", "conformal_halfwidth", "conformal_ends", "conformal_tails",
           "interval_groups", "misjudged_series", "window_stats", "recent_spans", "cross_folds", "recursion_growth",
           "ErrorScale"]

# The k-step drift errors d_jk average over a series' last SPAN origins: recent behaviour, and a cost of
# O(SPAN * H) per series whatever its length. Measured on the M4 dev sample (95 % MSIS, 3 seeds): every
# origin 15.29, the last 128 15.17, the last 64 15.20.
SPAN = 128
# The ridge on the feature slopes, in series: the fit is worth KAPPA series at slope 0 more than the data
# (errors of one series are strongly correlated, so the number of series is the sample size that counts).
# M4 dev 95 % MSIS: kappa 1 15.09, 5 15.17, 20 15.55; 5 keeps a panel of a handful of series close to
# intervals proportional to the spread.
KAPPA = 5.0
# The recent spreads v_jr look back r whole seasons of at least RECENT_BASE steps (a shorter look is a
# handful of steps, mostly noise), r in RECENT: the fit weighs the three. Measured on the same M4 dev fits
# (95 % MSIS, 3 seeds): without them 14.4, one span 14.2, the three 14.0.
RECENT = (1, 2, 4)
RECENT_BASE = 8
# The phase ratios p_jk look back PHASE_SEASONS seasons (16 seasonal changes per phase). Measured, 95 % MSIS
# over 3 seeds: the hourly bike rentals (benchmarks/interval_backtests.py) 7.07-7.72 with 8 seasons, 6.92-7.52
# with 16, 6.98-7.68 with 32; M4 dev Hourly (seeds 0, 1) 9.19/9.75, 8.86/9.39 and 8.89/9.46.
PHASE_SEASONS = 16
# The step factor s_k is each step's mean score with the scores above its STEP_TRIM quantile counted at that
# quantile (``step_scale``). The median, before: where more than half a step's errors are about 0 (a
# forecast that rounds to the count sold, a series at rest between rare jumps) the median is about 0, and
# that step's other scores, divided by it and pooled, set every step's quantile: a fuzzed pair of count
# series got 95 % intervals 8.8e11 wide. The plain mean: a few windows the cross-fitted scale misjudged
# (scores of 500-3,500 among 1,200 on M4 Yearly, ``conformal_halfwidth``) widened their steps. Against
# the median floored at half this mean (both with each fit's own step bias taken out, ``ErrorScale.fit``;
# docs/intervals.md): M4 dev 80 % MSIS 8.295-8.352 against 8.300-8.356, 95 % 13.55-13.61 against
# 13.61-13.66, and the widest 95 % interval of two fuzzed panels 16 and 51 times its series' range
# against 176 and 431.
STEP_TRIM = 0.9
_LOG_LIMIT = 5.0          # feature ratios are clipped to e^-5 .. e^5 (a constant prefix, a perfect fit)
# The unit never reads a feature more than _EXTRAPOLATION beyond the range of the windows it was fitted on
# (``ErrorScale.bounds``): a new series of one point (log history 0, where every fitted prefix held a window
# of 36 points or more) got a 90 % interval 842 million wide for a level of 100 from the slopes'
# extrapolation. The forecast series' statistics rest on a few more points than their held-out windows'
# prefixes, so they may sit a little outside that range: on the M4 dev sample at most 0.44 (the drift
# feature), which this margin leaves alone.
_EXTRAPOLATION = 1.0
# The Laplace fit's Fisher scoring steps at most; it stops once no coefficient moves by 1e-6. Measured on
# 4,096 windows of 48 steps (the validation_size of an hourly fit): about 9 steps per fit, 0.35 s for the
# fit and its 10 cross-fits, against 0.05 s for least squares alone.
_SCORING_STEPS = 25
# The calibration scores are cross-fitted in FOLDS folds of series: each fold's scores come from the error
# scale (and the blend, ``Forecaster._cross_fitted_errors``) fitted on the other folds. The forecast's own
# scale and blend are fitted on every fold, so the fewer series the other folds hold, the more the
# calibration's errors exceed the forecast's, and the wider (over-covering) the intervals. Measured on the
# M4 dev sample (the networks of the committed run, 3 seeds, the step factor then a mean): 2 folds (halves)
# 80 % MSIS 8.34-8.40 at 80 % coverage 0.815-0.821 (means over series), 95 % MSIS 13.78-13.81; 5 folds
# 8.33-8.39, 13.59-13.72; 10 folds 8.30-8.35 at 0.811-0.816, 13.55-13.59; 20 folds 8.32-8.35, 13.55-13.64.
# With the median step factor (``conformal_halfwidth``): 2 folds 8.32-8.39, 13.80-13.82; 10 folds 8.29-8.34,
# 13.56-13.60.
FOLDS = 10
# A forecast past the horizon H repeats the network: its step k = (r - 1) H + b (recursion round r) gets
# the unit of network step b times g_jk = d_jk / d_jb, the series' own drift error grown from b to k steps
# (``recursion_growth``): sqrt(k / b) for a random walk, about 1 for noise around a level. The store keeps
# d_jk at the rounds' ends k = rH, r = 2 .. ROUNDS (``window_stats``' ``rounds``), and the steps between
# are interpolated. Measured on the M4 dev sample with the default horizon (1 on Yearly and Weekly, the
# season elsewhere; 95 % MSIS, seeds 0 and 1): Yearly 28.60 and 29.70 against 34.74 and 40.63 with the
# previous rule (the last horizon's units times sqrt(r), which also made step H + 1 narrower than step H
# wherever errors grow within the horizon), Quarterly 7.43 against 7.96-7.97, Monthly 9.05-9.08 against
# 9.21-9.25, Weekly 20.88-20.97 against 21.57-21.68; at 80 % 0.1-2.7 % better on each. Exact d_jk at
# every step instead of the interpolation and the floor: within 0.6 % (docs/intervals.md).
ROUNDS = 16


def cross_folds(series: np.ndarray) -> np.ndarray:
    """The fold (0 .. ``FOLDS`` - 1) of each held-out window, by its series: every ``FOLDS``-th series
    together, so a series' windows share a fold and a panel of fewer series leaves one out at a time.

    >>> cross_folds(np.array([0, 0, 1, 12])).tolist()
    [0, 0, 1, 2]
    """
    return np.asarray(series) % FOLDS


def check_levels(level) -> list[float]:
    """Coverage levels in (0, 100) as floats (``None`` -> no interval). A level below 1 is most likely a
    probability meant as a percentage (0.95 for 95), so it is kept but warned about.

    >>> check_levels([80, 95])
    [80.0, 95.0]
    """
    levels = _numbers(level, 100, "level must be a number or a list of numbers in (0, 100), e.g. [80, 95]",
                      "level must be a coverage in (0, 100), e.g. [80, 95]")
    for v in levels:
        if v < 1:
            warnings.warn(f"level {v:g} asks for a {v:g} % interval; levels are percentages: for {100 * v:g} % "
                          f"pass {100 * v:g}", UserWarning, stacklevel=3)
    return levels


def check_quantiles(quantiles) -> list[float]:
    """Probabilities in (0, 1) as floats, sorted and without repeats (``None`` -> none).

    >>> check_quantiles([0.9, 0.1, 0.5])
    [0.1, 0.5, 0.9]
    """
    message = "quantiles must be probabilities in (0, 1), e.g. [0.1, 0.5, 0.9]"
    return sorted(set(_numbers(quantiles, 1, message, message)))


def _numbers(values, upper: float, not_numbers: str, out_of_range: str) -> list[float]:
    """A number or a list of numbers strictly between 0 and ``upper``, as floats (None -> [])."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{not_numbers}; got {values!r}")
    items = [values] if isinstance(values, numbers.Real) else list(values)
    for v in items:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < v < upper:
            raise ValueError(f"{out_of_range}; got {v!r}")
    return [float(v) for v in items]


# Intermittent series (sales of slow movers: mostly 0, now and then 1 or 2) are calibrated apart from the
# others (Mondrian conformal prediction, Vovk et al. 2005): their scaled errors are shaped otherwise (many
# near 0, a few near 1 / unit), so one pooled quantile under-covers them and over-covers their steady
# neighbours. A series is intermittent when more than INTERMITTENT of its points are 0: an average
# interval between non-zero demands above 1.32, Syntetos, Boylan & Croston's (2005) cut-off. Measured on a
# panel of 20 never-sold, 20 intermittent (Poisson, mean 0.3-0.6) and 20 steady (Poisson, 20-30) daily
# series, 14 days ahead (``tests/test_intervals.py``): pooled, 80 % / 95 % coverage 0.686 / 0.871 on the
# intermittent ones and 0.879 / 0.993 on the steady ones (95 % width 32.0); apart, 0.729 / 0.921 and
# 0.850 / 0.957 (width 21.9; 0.746 / 0.911 and 0.850 / 0.961 before the winsorised step factor). Over three
# draws of the panel: docs/intervals.md.
INTERMITTENT = 1 - 1 / 1.32
# A group is calibrated apart only with at least GROUP_SCORES scores (windows x steps) of its own, whatever
# the level: a 95 % quantile then rests on its 5 largest scores at least, and one slow mover among many
# steady series joins the pool instead of getting a quantile from a handful of its own. The rule must not
# depend on the level: a group calibrated apart at 50 % and pooled at 90 % crossed quantiles.
GROUP_SCORES = 100
# A steady series is misjudged when its held-out windows' median score is more than MISJUDGED times the
# steady series' median score: its unit is off by an order of magnitude, beyond what its features could
# tell (a level that barely moves, 100 stepping by 0.1 now and then, forecast to the 1 % the network
# resolves: errors of 221 spreads). Pooled, such a series' scores set its group's quantile once they are
# more than 1 - level of them: in a fuzzed panel of 12 series, one such series held 6 % of the steady
# scores, up to 509, and the 95 % intervals of a log-scaled series of 1s and 9s beside it came out e^57
# wide. A misjudged series is calibrated on its own scores, however few, and the pool goes on without
# them. Its median (not a high quantile) is what is compared, 10 times the others': held-out scores of a
# well-judged series have t(3)-t(4) tails, whose 99 % quantile is about 6 times their median, and a
# series with one surprise among ordinary windows stays in the pool, which is there to cover it.
MISJUDGED = 10.0


def calibrate(errors: np.ndarray, spread: np.ndarray, steps: np.ndarray, insample: np.ndarray, history: np.ndarray,
              recent: np.ndarray, phase: np.ndarray, series: np.ndarray, zero_share: np.ndarray,
              season_length: int = 1) -> tuple["ErrorScale", np.ndarray, np.ndarray]:
    """The intervals' calibration from the held-out windows' errors e_ik (N, H; target less forecast),
    each window described as for ``ErrorScale.fit``, and each series' share of zeros (n,): the fitted
    ``ErrorScale``; the windows' signed scores e_ik / sigma_ik over their cross-fitted unit (and step
    factor: ``ErrorScale.fit``), a misjudged series' over the unit its forecast takes (it is calibrated on
    its own errors: ``MISJUDGED``); and each series' calibration group (``interval_groups``).

    >>> rng = np.random.default_rng(0)
    >>> n, series = 40, np.repeat(np.arange(8), 5)
    >>> errors = rng.normal(size=(n, 2)) * np.where(series == 7, 500.0, 1.0)[:, None]   # series 7: misjudged
    >>> described = np.ones(n), np.ones((n, 2)), np.full(n, np.nan), np.full(n, 30), np.ones((n, len(RECENT)))
    >>> scale, scores, groups = calibrate(errors, *described, np.ones((n, 2)), series, np.zeros(8))
    >>> scores.shape, bool((np.sign(scores) == np.sign(errors)).all()), groups.tolist()
    ((40, 2), True, [0, 0, 0, 0, 0, 0, 0, 2])
    """
    scale, scores = ErrorScale.fit(np.abs(errors), spread, steps, insample, history, recent, phase, series,
                                   season_length)
    misjudged = misjudged_series(scores, series, interval_groups(zero_share))
    own = misjudged[series]
    if own.any():
        described = (spread, steps, insample, history, recent, phase)
        scores[own] = np.abs(errors[own]) / scale.unit(*(a[own] for a in described))
    return scale, np.sign(errors) * scores, interval_groups(zero_share, misjudged)


def interval_groups(zero_share: np.ndarray, misjudged: np.ndarray | None = None) -> np.ndarray:
    """(n,) int64 each series' calibration group from the share of its points that are 0: 1 intermittent
    (more than ``INTERMITTENT``, not all: a series that never sold has no interval between demands), else
    0; 2 where ``misjudged`` (``misjudged_series``).

    >>> interval_groups(np.array([0.0, 0.1, 0.5, 1.0]), np.array([False, True, False, False])).tolist()
    [0, 2, 1, 0]
    """
    zero_share = np.asarray(zero_share)
    groups = ((zero_share > INTERMITTENT) & (zero_share < 1)).astype(np.int64)
    return groups if misjudged is None else np.where(misjudged, 2, groups)


def misjudged_series(residuals: np.ndarray, series: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(n,) bool: the steady series (group 0 of ``groups``, each series' zero-share group) whose held-out
    scores (``residuals`` (N, H), of the windows of ``series`` (N,)) have a median more than
    ``MISJUDGED`` times that of the steady series' windows. Not the intermittent ones: their median score
    is the forecast's overshoot of a day without sales, not a measure of how well their unit fits (on
    the retail panel of ``test_intervals.py`` a few of them came out "misjudged", and their interval
    score got up to 3 % worse).

    >>> scores = np.r_[np.ones((20, 2)), np.full((2, 2), 50.0)]
    >>> misjudged_series(scores, np.repeat([0, 1, 2], [10, 10, 2]), np.zeros(4, np.int64)).tolist()
    [False, False, True, False]
    """
    out = np.zeros(len(groups), dtype=bool)
    steady = groups[series] == 0
    if not steady.any():
        return out
    size, series = np.abs(residuals[steady]), series[steady]
    order = np.argsort(series, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(series[order]) != 0])
    own = np.array([np.median(block) for block in np.split(size[order], starts[1:])])
    out[series[order][starts]] = own > MISJUDGED * np.median(size)
    return out


def errors_needed(level: float) -> int:
    """The fewest held-out errors whose conformal quantile resolves ``level``: N with
    ceil((N + 1) level / 100) <= N, rounded past binary noise (99.9 % of 1,000 is 999).

    >>> errors_needed(80), errors_needed(95), errors_needed(99.9)
    (4, 19, 999)
    """
    return int(np.ceil(round(level / (100 - level), 9)))


def conformal_ends(residuals: np.ndarray, residual_groups: np.ndarray, series_groups: np.ndarray,
                   level: float, h: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper), each (n, h): the ends of the ``level`` interval in units of each step's sigma,
    lower <= 0 <= upper, of the n series in the calibration groups ``series_groups`` (``interval_groups``),
    from the signed residuals (N, horizon) of their own group (``residual_groups``, (N,)) where they hold
    at least ``GROUP_SCORES`` scores, else from all of them but the misjudged series' (group 2, which is
    calibrated on its own scores however few: ``MISJUDGED``). A steady or misjudged group's interval is
    symmetric (``conformal_halfwidth`` of the scores' sizes), an intermittent group's reaches as far as its
    upper tail does (``conformal_tails``). Nested in the level either way.

    >>> r = np.random.default_rng(0).normal(size=(200, 2)) * np.repeat([[1.0], [5.0]], 100, axis=0)
    >>> lo, hi = conformal_ends(r, np.repeat([0, 1], 100), np.array([0, 1, 1]), 80, 2, 2)
    >>> lo.shape, bool((lo[0] == -hi[0]).all()), bool((hi[1] == hi[2]).all())
    ((3, 2), True, True)
    """
    lower, upper = np.empty((len(series_groups), h)), np.empty((len(series_groups), h))
    pooled = None
    for g in np.unique(series_groups):
        own = residual_groups == g
        if g != 2 and own.sum() * residuals.shape[1] < GROUP_SCORES:     # too few of its own: the pool's
            if pooled is None:                          # interval, without the misjudged series
                pooled = _symmetric(residuals[residual_groups != 2], level, h, horizon)
            ends = pooled
        else:
            ends = (conformal_tails if g == 1 else _symmetric)(residuals[own], level, h, horizon)
        lower[series_groups == g], upper[series_groups == g] = ends
    return lower, upper


def _symmetric(residuals: np.ndarray, level: float, h: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    half = conformal_halfwidth(np.abs(residuals), level, h, horizon)
    return -half, half


def conformal_halfwidth(residuals: np.ndarray, level: float, h: int, horizon: int) -> np.ndarray:
    """Half-width (h,) in units of each step's sigma for coverage ``level`` from absolute residuals (N,
    horizon): the scores of step k divided by s_k, their winsorised mean (``step_scale``), then pooled; a
    step past the horizon takes the factor of the network step it repeats (its unit grows instead:
    ``recursion_growth``).

    Why not the plain mean: a window whose unit the cross-fitted scale model misjudged can score hundreds of
    times the rest. On the M4 dev Yearly training histories cut 12 years before their end (seed 1), the
    1,200 windows' largest scores were 737, 555 and 440 (3,530, 2,601 and 2,159 with 10 folds), in the
    first three steps, whose mean scores came out 2.6-3.2 (5.6-8.1) against 1.7-1.9 (1.8-2.1) for the
    last three: their intervals were that much wider, and the 95 % MSIS of that backtest went from
    28.6-28.8 to 39.7-57.1 with 10 folds. With the median it is 29.8-30.8 (29.2-29.9 since the unit
    stopped extrapolating: ``_EXTRAPOLATION``), and on the M4 test values the 95 % MSIS is 13.56-13.60
    (the mean: 13.55-13.59). Why not the median: ``STEP_TRIM``.

    >>> r = np.abs(np.random.default_rng(0).normal(size=(200, 2)))
    >>> conformal_halfwidth(r, 80, 3, 2).shape
    (3,)
    """
    scale = step_scale(residuals)
    return scale[np.arange(h) % horizon] * _quantile(np.sort((residuals / scale).ravel()), level)


def conformal_tails(residuals: np.ndarray, level: float, h: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) ends (h,) in units of each step's sigma of the ``level`` interval of an intermittent
    group from its signed residuals (N, horizon): the symmetric interval (``conformal_halfwidth``), each
    end moved out to its own tail's conformal quantile where that lies further. The tails' scores are
    divided by their step's factor (``step_scale`` of their sizes) and pooled; the upper tail's end is the
    rank ceil((N + 1) (1 + level) / 2) from below, the lower tail's the same rank from above (with fewer
    scores than that rank needs, the widest on each side). Holding the symmetric interval, it covers the
    level as that does, and a higher level is never narrower.

    Why: a day that mostly sells nothing is forecast near 0 (0.03), and its held-out errors are -0.03,
    0.97 or 1.97. The symmetric interval's lower end is below 0 (clipped there by ``nonnegative``), so
    it leaves the whole ``1 - level`` above the forecast, where the interval score wants the
    ``(1 + level) / 2`` quantile: on a panel of 20 intermittent series among 60, three draws, their 80 %
    coverage went from 0.729-0.786 to 0.854-0.900 and their interval score fell 4-9 % at 80 % and
    7-19 % at 95 % (docs/intervals.md). Why the symmetric interval stays under it: the lower tail's
    scores are the forecast's overshoot of days without sales, -f / sigma, which moves with the forecast
    rather than by chance; each tail alone put the lower end above 0 on days whose test forecast ran
    higher than the held-out windows' (95 % coverage 0.882 on one draw, 0.939 symmetric).

    >>> r = np.where(np.random.default_rng(0).random((400, 1)) < 0.7, -0.1, 1.0)    # mostly a small overshoot
    >>> lower, upper = conformal_tails(r, 80, 1, 1)
    >>> float(upper[0]), bool(lower[0] == -conformal_halfwidth(np.abs(r), 80, 1, 1)[0])
    (1.0, True)
    """
    scale = step_scale(np.abs(residuals))
    pooled = np.sort((residuals / scale).ravel())
    half = _quantile(np.sort(np.abs(pooled)), level)                   # the symmetric interval's
    rank = min(_rank(len(pooled), 50 + level / 2), len(pooled))       # the upper end's quantile, in percent
    steps = scale[np.arange(h) % horizon]
    return steps * min(-half, pooled[len(pooled) - rank]), steps * max(half, pooled[rank - 1])


def _rank(n: int, level: float) -> int:
    """The rank (from 1) of the conformal ``level`` quantile of n scores: ceil((n + 1) level / 100), rounded
    past binary noise (99.9 % of 1,000 is 999)."""
    return int(np.ceil(round((n + 1) * level / 100.0, 9)))


def _quantile(pooled: np.ndarray, level: float) -> float:
    """The conformal ``level`` quantile of the sorted scores ``pooled``; with too few of them for it, the
    normal approximation from their RMS, at least the largest (which a lower level may have taken), and
    a warning."""
    if len(pooled) >= errors_needed(level):
        return float(pooled[_rank(len(pooled), level) - 1])
    warnings.warn(f"level {level:g} needs at least {errors_needed(level)} held-out errors "
                  f"for a conformal interval; these series' calibration has {len(pooled)} (longer or more "
                  "series give more): the interval is the normal approximation from their RMS, at least their "
                  "largest", UserWarning,
                  stacklevel=5)                       # the caller of predict, through conformal_ends
    return float(max(NormalDist().inv_cdf(0.5 + level / 200.0) * np.sqrt(np.mean(pooled ** 2)), pooled[-1]))


def step_scale(scores: np.ndarray) -> np.ndarray:
    """(H,) s_k, the typical score of each step of ``scores`` (N, H): the mean of its scores, those above
    the step's ``STEP_TRIM`` quantile counted at that quantile (a winsorised mean; 1e-12 at least).

    >>> scores = np.abs(np.random.default_rng(0).normal(size=(1000, 2)))
    >>> scores[:600, 0] = 0.0                     # most of step 1's errors exactly 0: its median is 0
    >>> scores[:5, 1] = 1e6                       # five windows the scale misjudged: step 2's mean is 5,000
    >>> step_scale(scores).round(2).tolist()
    [0.3, 0.75]
    """
    if not len(scores):
        return np.ones(scores.shape[1])
    top = np.quantile(scores, STEP_TRIM, axis=0)
    return np.minimum(scores, top).mean(axis=0) + 1e-12


def recent_spans(season_length: int) -> np.ndarray:
    """The look-backs of the recent spreads: r whole seasons of at least ``RECENT_BASE`` steps, r in ``RECENT``.

    >>> recent_spans(12).tolist(), recent_spans(1).tolist()
    ([12, 24, 48], [8, 16, 32])
    """
    return np.array([r * max(int(season_length), RECENT_BASE) for r in RECENT], np.int64)


@njit(**JIT)
def _drift_error(z, a, n, k, mu, span):
    """d_k of z[a : a + n]: the mean |z_{t+k} - z_t - k mu| over its last ``span`` origins t; -1 where
    fewer than two origins have a k-step change."""
    pairs = n - k
    if pairs < 2:
        return -1.0
    first = max(0, pairs - span)
    acc = 0.0
    for t in range(a + first, a + pairs):
        acc += abs(z[t + k] - z[t] - k * mu)             # the k-step change less the drift
    return acc / (pairs - first)


@njit(**JIT)
def window_stats(z, offsets, series, cuts, span, spans, season, spread, steps, recent, phase, rounds):
    """For each j, the prefix z[a : a + cuts[j]] of store series ``series[j]`` (a = offsets[series[j]]):
    spread[j] = mean |z_t - z_{t-1}| (0 below 1e-12: constant), steps[j, k-1] = d_jk, the mean
    |z_{t+k} - z_t - k mu| over the last ``span`` origins t of the prefix (mu = its mean step), for
    k = 1 .. H = steps.shape[1], rounds[j, r-2] = d_jk at the recursion rounds' ends k = rH, r = 2 ..
    rounds.shape[1] + 1 (``recursion_growth``), recent[j, r] = the mean |z_t - z_{t-1}| over its last ``spans[r]``
    steps (all of them in a shorter prefix; ``spans`` ascending, as ``recent_spans`` gives them), and
    phase[j, k-1] = p_jk for k = 1 .. phase.shape[1], the mean seasonal change |z_t - z_{t-season}| at
    the points t of the prefix's last ``PHASE_SEASONS`` seasons that share the phase of the k-th point
    after it, over the mean at every point of those seasons (1 where there is no season, no such point
    or no change; it depends on k only through the phase, so ``season`` columns hold every one). Where
    fewer than two origins have a k-step change, d_jk carries on from the d_j of the step before (the
    last round's end for a round) by sqrt(k / that step) (d_j1 = the spread). A prefix of fewer than two
    points gives 0 (and phase ratios of 1).

    >>> spread, steps, recent, phase = np.empty(1), np.empty((1, 2)), np.empty((1, 2)), np.empty((1, 2))
    >>> rounds = np.empty((1, 2))                             # d at k = 4 and 6: too few origins, grown
    >>> window_stats(np.array([0.0, 1.0, 2.0, 4.0]), np.array([0, 4]), np.array([0]), np.array([4]), 8,
    ...              np.array([1, 8]), 1, spread, steps, recent, phase, rounds)
    >>> spread.round(3).tolist(), steps.round(3).tolist(), recent.round(3).tolist(), phase.tolist()
    ([1.333], [[0.444, 0.5]], [[2.0, 1.333]], [[1.0, 1.0]])
    >>> rounds.round(3).tolist()
    [[0.707, 0.866]]
    >>> z = np.array([0.0, 5.0, 0.5, 1.0, 0.0, 9.0])          # season 2: the odd points change a lot
    >>> window_stats(z, np.array([0, 6]), np.array([0]), np.array([6]), 8, np.array([1, 8]), 2,
    ...              spread, steps, recent, phase, rounds)
    >>> phase.round(3).tolist()                              # the next point is even, the one after odd
    [[0.154, 1.846]]
    """
    H, P, R = steps.shape[1], phase.shape[1], rounds.shape[1]
    for j in range(len(series)):
        a = offsets[series[j]]
        n = cuts[j]
        for k in range(P):
            phase[j, k] = 1.0
        if n < 2:
            spread[j] = 0.0
            for k in range(H):
                steps[j, k] = 0.0
            for r in range(R):
                rounds[j, r] = 0.0
            for r in range(len(spans)):
                recent[j, r] = 0.0
            continue
        total = 0.0
        r = 0                                            # the next span to read (spans ascending)
        for t in range(a + n - 1, a, -1):                # the steps from the newest back, so that each
            total += abs(z[t] - z[t - 1])                # v_jr (the mean |step| over the last spans[r]
            if r < len(spans) and spans[r] == a + n - t:  # steps) is read on the way
                recent[j, r] = total / spans[r]
                r += 1
        sp = total / (n - 1)
        for q in range(r, len(spans)):                   # spans longer than the prefix: all its steps
            recent[j, q] = sp
        spread[j] = sp if sp > 1e-12 else 0.0
        mu = (z[a + n - 1] - z[a]) / (n - 1)             # the mean step
        for k in range(1, H + 1):
            d = _drift_error(z, a, n, k, mu, span)
            if d >= 0.0:
                steps[j, k - 1] = d
            elif k == 1:
                steps[j, 0] = sp
            else:
                steps[j, k - 1] = steps[j, k - 2] * np.sqrt(k / (k - 1.0))
        for r in range(R):                               # the rounds' ends k = (r + 2) H
            k, before = (r + 2) * H, (r + 1) * H
            d = _drift_error(z, a, n, k, mu, span)
            last = steps[j, H - 1] if r == 0 else rounds[j, r - 1]
            rounds[j, r] = d if d >= 0.0 else last * np.sqrt(k / before)
        if season < 2 or n <= season:
            continue
        lo = max(season, n - PHASE_SEASONS * season)     # the points with a seasonal change, looked at
        every = 0.0
        for t in range(a + lo, a + n):
            every += abs(z[t] - z[t - season])
        every /= n - lo
        if every <= 1e-12:
            continue
        for k in range(1, P + 1):                        # p_jk: the changes at target k's phase
            t = n - 1 + k - season * ((k + season - 1) // season)   # its phase's last point in the prefix
            acc, count = 0.0, 0
            while t >= lo:
                acc += abs(z[a + t] - z[a + t - season])
                count += 1
                t -= season
            if count:
                phase[j, k - 1] = acc / count / every


def recursion_growth(steps: np.ndarray, rounds: np.ndarray, h: int) -> np.ndarray:
    """(n, h) the factor on the unit of each of h forecast steps: 1 within the horizon H =
    steps.shape[1]; at step k = (r - 1) H + b past it (recursion round r >= 2, network step b),
    g_jk = max(1, d_jk / d_jb), the series' drift error at k steps over the one at b steps, with d_jk
    interpolated linearly between the rounds' ends d_j,(r-1)H and d_j,rH (``steps`` (n, H) and
    ``rounds`` (n, ``ROUNDS`` - 1): ``window_stats``) and carried on by sqrt(k / (``ROUNDS`` H)) past the
    last. A recursive step is never surer than the network step it repeats; a series without drift
    errors (constant, one point) grows as a random walk's would, sqrt(k / b) (sqrt(r) left step H + 1
    narrower than step H).

    >>> steps, rounds = np.array([[1.0, 2.0]]), np.array([[4.0, 6.0]])   # d_jk = k: a horizon of 2, 3 rounds
    >>> recursion_growth(steps, rounds, 8).round(3).tolist()             # k / b, then on by sqrt(k / 6)
    [[1.0, 1.0, 3.0, 2.0, 5.0, 3.0, 6.481, 3.464]]
    """
    H = steps.shape[1]
    k = np.arange(h)
    r, b = k // H + 1, k % H + 1
    knots = np.concatenate([steps[:, H - 1:], rounds], axis=1)          # d at k = H, 2H, .., (last) H
    last = knots.shape[1]
    low, high = np.clip(r - 2, 0, last - 1), np.clip(r - 1, 0, last - 1)   # the knots around step k
    share = np.where(r - 1 < last, b / H, 0.0)
    far = knots[:, low] + share * (knots[:, high] - knots[:, low])
    far *= np.sqrt(np.maximum((k + 1) / (last * H), 1.0))             # past the last knot
    base = steps[:, k % H]                                            # d_jb
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(base > 1e-12, np.where(r == 1, base, far) / base, np.sqrt((k + 1) / b))
    return np.maximum(growth, 1.0)


@dataclass
class ErrorScale:
    """The interval unit of each series and step, sigma_jk = spread_j * exp(a_k + c . x_jk) (module
    docstring): ``intercepts`` a (H,), ``slopes`` c (``FEATURES``,), ``insample_fill`` the log in-sample
    error given to a series that has none (the median of those that have one), ``spread_center`` the
    median log spread of the held-out windows (the log spread feature is relative to it), ``bounds``
    (2, ``FEATURES``) the range each feature is clipped to: the fitted windows', widened by
    ``_EXTRAPOLATION`` (None: no clip).

    >>> rng = np.random.default_rng(0)
    >>> n, H = 400, 2
    >>> spread, steps = np.ones(n), np.repeat(np.where(np.arange(n) < 200, 0.5, 2.0)[:, None], H, 1)
    >>> history, recent, phase = np.full(n, 50), np.ones((n, len(RECENT))), np.ones((n, H))
    >>> errors = np.abs(rng.normal(size=(n, H))) * steps        # the errors follow the step errors
    >>> scale, scores = ErrorScale.fit(errors, spread, steps, np.full(n, np.nan), history, recent, phase,
    ...                                np.arange(n))
    >>> bool(0.8 < scale.slopes[0] < 1.2)
    True
    """
    FEATURES = 5 + len(RECENT)

    intercepts: np.ndarray
    slopes: np.ndarray
    insample_fill: float
    spread_center: float
    bounds: np.ndarray | None = None

    @staticmethod
    def features(spread: np.ndarray, steps: np.ndarray, insample: np.ndarray, history: np.ndarray,
                 recent: np.ndarray, phase: np.ndarray, fill: float, center: float) -> np.ndarray:
        """(n, H, ``FEATURES``) x_jk: log(d_jk / spread_j), log r_j (``fill`` where r_j is NaN), log
        spread_j - ``center``, log min(n_j, SPAN) (``history``: the points before the targets), log(v_jr /
        spread_j) (``recent`` (n, R)), log p_jk (``phase`` (n, H)); each clipped to +-5 (a constant
        prefix, a perfect fit); ``spread`` must be positive (``SeriesStore.interval_spread``)."""
        n, H = steps.shape
        R = recent.shape[1]
        known = np.isfinite(insample) & (insample > 0)
        x = np.empty((n, H, 5 + R))
        with np.errstate(divide="ignore"):
            x[..., 0] = np.log(steps / spread[:, None])
            x[..., 4:4 + R] = np.log(recent / spread[:, None])[:, None, :]
            x[..., 4 + R] = np.log(phase)
        x[..., 1] = np.where(known, np.log(np.where(known, insample, 1.0)), fill)[:, None]
        x[..., 2] = (np.log(spread) - center)[:, None]
        x[..., 3] = np.log(np.clip(history, 1, SPAN))[:, None]
        return np.clip(x, -_LOG_LIMIT, _LOG_LIMIT, out=x)

    def unit(self, spread: np.ndarray, steps: np.ndarray, insample: np.ndarray, history: np.ndarray,
             recent: np.ndarray, phase: np.ndarray, step: np.ndarray | None = None) -> np.ndarray:
        """(n, H) sigma_jk of series with these spreads, step errors, in-sample errors, histories, recent
        spreads and phase ratios. ``step`` (h,): the network step (0 .. H-1) each of h columns takes its
        intercept and k-step error from, for forecasts past the horizon; ``phase`` is then (n, h), each
        column its own point's phase ratio."""
        intercepts = self.intercepts
        if step is not None:
            steps, intercepts = steps[:, step], intercepts[step]
        x = self.features(spread, steps, insample, history, recent, phase, self.insample_fill, self.spread_center)
        return self._unit_of(spread, x, intercepts)

    def _unit_of(self, spread: np.ndarray, x: np.ndarray, intercepts: np.ndarray | None = None) -> np.ndarray:
        """sigma of windows whose features ``x`` (n, h, ``FEATURES``) are already computed with this
        scale's ``insample_fill`` and ``spread_center``."""
        intercepts = self.intercepts if intercepts is None else intercepts
        if self.bounds is not None:
            x = np.clip(x, self.bounds[0], self.bounds[1])
        return spread[:, None] * np.exp(intercepts[None, :] + x @ self.slopes)

    @classmethod
    def fit(cls, errors: np.ndarray, spread: np.ndarray, steps: np.ndarray, insample: np.ndarray,
            history: np.ndarray, recent: np.ndarray, phase: np.ndarray, series: np.ndarray,
            season_length: int = 1) -> tuple["ErrorScale", np.ndarray]:
        """The scale fitted on held-out windows, and their cross-fitted scores.

        errors (N, H): |e_ik|; spread (N,), steps (N, H), history (N,), recent (N, R) and phase (N, H):
        each window's prefix statistics (``window_stats``, spread positive) and length; insample (N,):
        its series' relative in-sample error (NaN: none); series (N,): its series; ``season_length``:
        the phases the phase ratio varies over within a series (its ridge is worth ``KAPPA`` series-
        phases). Returns the ``ErrorScale`` fitted on all windows and the scores |e_ik| / sigma_ik
        (N, H), sigma_ik from a fit on the windows of the other folds' series (``cross_folds``; a single
        series: the fit on all).

        Each of the two takes out its own step bias: the fitted scale's intercepts are moved so that its
        in-sample scores |e_ik| / sigma_ik have a ``step_scale`` of 1 at every step, and the scores are
        divided by their own ``step_scale``. A cross-fit on few series can misjudge a step that the fit
        on all gets right; the step factor measured on its scores once multiplied the fitted unit, which
        did not share the bias: with two series, one of them a single window whose steps erred alike, the
        other's second step got an interval about 40 times its first's where its errors were 10 times
        (``test_intervals.py``); a fuzzed pair of count series (40 and 8 points, the short one from 15 to
        27) got 95 % intervals up to 8.8e11 wide (now up to 192, 6 steps ahead)."""
        _, first = np.unique(series, return_index=True)     # one value per series for the median
        known = insample[first][np.isfinite(insample[first]) & (insample[first] > 0)]
        fill = float(np.median(np.log(known))) if len(known) else 0.0
        center = float(np.median(np.log(spread))) if len(spread) else 0.0
        x = cls.features(spread, steps, insample, history, recent, phase, fill, center)
        target = np.log(np.maximum(errors, 1e-300) / spread[:, None])
        used = errors > 1e-12 * spread[:, None]          # an exact hit has no log; it still gets a score
        phases = max(int(season_length), 1)
        fold = cross_folds(series)
        rows = [fold == f for f in np.unique(fold)]
        # each fold's normal equations and features' range, once: the whole is their sum (and span), each
        # fold's cross-fit the whole less its own
        own = [cls._moments(x[r], target[r], used[r]) for r in rows]
        ranges = np.array([[x[r].min(axis=(0, 1)), x[r].max(axis=(0, 1))] for r in rows])
        whole = tuple(sum(parts) for parts in zip(*own)) if own else cls._moments(x, target, used)
        n_series = len(np.unique(series))
        ratio = errors / spread[:, None]
        full = cls._solve(*whole, n_series, phases, fill, center, cls._bounds(ranges), x, ratio, used)
        inside = errors / full._unit_of(spread, x)
        bias = step_scale(inside)
        full.intercepts = full.intercepts + np.log(bias)                    # its own step bias (docstring)
        if len(rows) < 2:
            return full, inside / bias
        scores = np.empty_like(errors)
        for i, r in enumerate(rows):
            part = cls._solve(*(w - o for w, o in zip(whole, own[i])), n_series - len(np.unique(series[r])), phases,
                              fill, center, cls._bounds(np.delete(ranges, i, axis=0)), x, ratio, used & ~r[:, None])
            scores[r] = errors[r] / part._unit_of(spread[r], x[r])
        return full, scores / step_scale(scores)

    @classmethod
    def _bounds(cls, ranges: np.ndarray) -> np.ndarray:
        """(2, ``FEATURES``) the clip of a fit on windows whose features span ``ranges`` (k, 2, ``FEATURES``:
        each fold's least and greatest): their least and greatest, widened by ``_EXTRAPOLATION`` (no clip
        without windows)."""
        if not len(ranges):
            return np.array([[-np.inf] * cls.FEATURES, [np.inf] * cls.FEATURES])
        return np.stack([ranges[:, 0].min(axis=0) - _EXTRAPOLATION, ranges[:, 1].max(axis=0) + _EXTRAPOLATION])

    @staticmethod
    def _moments(x: np.ndarray, target: np.ndarray, used: np.ndarray) -> tuple:
        """(gram, rhs, entries) of the least-squares problem ``target`` ~ a_k + c . x over the ``used``
        entries: the design is [one-hot step k, x], and its Gram matrix is assembled from block sums (the
        steps' entry counts, the features' sums per step, x'x) rather than from the (entries, H + p)
        design itself, which for 4,096 hourly windows is 11 million numbers."""
        N, H, p = x.shape
        step = np.broadcast_to(np.arange(H), (N, H))[used]
        X, y = x[used], target[used]
        gram = np.zeros((H + p, H + p))
        gram[:H, :H] = np.diag(np.bincount(step, minlength=H).astype(np.float64))
        by_step = np.stack([np.bincount(step, weights=X[:, j], minlength=H) for j in range(p)], axis=1)
        gram[:H, H:], gram[H:, :H] = by_step, by_step.T
        gram[H:, H:] = X.T @ X
        rhs = np.concatenate([np.bincount(step, weights=y, minlength=H), X.T @ y])
        return gram, rhs, len(y)

    @classmethod
    def _solve(cls, gram: np.ndarray, rhs: np.ndarray, entries: int, n_series: int, phases: int, fill: float,
               center: float, bounds: np.ndarray, x: np.ndarray, ratio: np.ndarray, used: np.ndarray):
        """Ridge least squares from the normal equations (``_moments``) of ``entries`` errors of
        ``n_series`` series on per-step intercepts and the features' slopes: each slope's ridge is worth
        ``KAPPA`` series, the phase ratio's (the last feature) ``KAPPA`` series-phases. Then Fisher scoring
        of the same model under a Laplace likelihood of the errors ``ratio`` (|e| / spread, (n, H), at the
        ``used`` entries of features ``x``): sigma follows their mean, not their geometric mean."""
        H = len(rhs) - cls.FEATURES
        if not entries:
            return cls(np.zeros(H), np.zeros(cls.FEATURES), fill, center, bounds)
        penalty = np.zeros(H + cls.FEATURES)
        penalty[H:] = KAPPA * entries / max(n_series, 1)
        penalty[-1] /= phases
        gram = gram + np.diag(penalty)
        gram[:H, :H] += 1e-9 * np.eye(H) * entries         # a step without any usable error gets a = 0
        beta = np.linalg.solve(gram, rhs)
        step_of = np.broadcast_to(np.arange(H), used.shape)[used]
        X, r = x[used], ratio[used]

        def loss(b):        # the negative log likelihood (less constants) and the ridge
            eta = b[:H][step_of] + X @ b[H:]
            return float(np.sum(r * np.exp(-eta) + eta) + 0.5 * np.sum(penalty * b * b)), eta
        current, eta = loss(beta)
        for _ in range(_SCORING_STEPS):
            w = r * np.exp(-eta) - 1.0                                     # the score of each error
            grad = np.concatenate([np.bincount(step_of, weights=w, minlength=H), X.T @ w]) - penalty * beta
            delta = np.linalg.solve(gram, grad)
            for _ in range(30):                                            # halved until the loss falls
                trial, trial_eta = loss(beta + delta)
                if trial <= current:
                    break
                delta = delta / 2
            else:
                break
            beta, current, eta = beta + delta, trial, trial_eta
            if np.abs(delta).max() < 1e-6:
                break
        return cls(beta[:H], beta[H:], fill, center, bounds)
