"""The statistical forecasts the Forecaster's networks are blended with (``Forecaster(blend=...)``, see
``docs/forecaster.md``): the Theta method, the mean of Theta and a damped trend, and exponential
smoothing with its form selected (ETS).

**Theta** (Assimakopoulos & Nikolopoulos 2000) in Hyndman & Billah's form (2003). Of a seasonally
adjusted series x_1 .. x_n, the forecast k steps after its end is simple exponential smoothing's last
level plus half the slope of the least-squares line through the series:

    l_t = l_{t-1} + alpha (x_t - l_{t-1}),   l_0 = x_1        alpha: least one-step squared error, in [0.01, 1]
    b   = sum_t (t - tbar)(x_t - xbar) / sum_t (t - tbar)^2
    f_k = l_n + b/2 (k - 1 + 1/alpha - (1 - alpha)^n / alpha)  =  a + slope k,   slope = b/2

**Damped trend** (Gardner & McKenzie 1985; ETS(A,Ad,N) in Hyndman's form):

    f_t = l_{t-1} + phi b_{t-1}                  one-step forecast, e_t = x_t - f_t
    l_t = f_t + alpha e_t
    b_t = phi b_{t-1} + alpha beta e_t           l_0 = x_1, b_0 = (x_{1+q} - x_1) / q, q = min(n - 1, 4)
    f_k = l_n + b_n (phi + phi^2 + ... + phi^k) = l_n + b_n phi / (1 - phi) (1 - phi^k)

(alpha, beta, phi): the least one-step squared error over a grid of 7 x 4 x 4, phi in [0.8, 0.98] (the
range the forecast package allows, so the trend always flattens out). All 112 candidates run in one
pass over the series, side by side (an inner loop the compiler vectorises), so a damped fit costs less
than a Theta fit (100,000 series of 180 points, one core: 0.7 s against 1.6 s).

**Their mean** (``blend="theta+damped"``) is M4's lesson twice over: combinations beat
single methods, and Theta's straight line and the damped trend's flattening one err differently.
Measured on the M4 dev sample with the same fitted networks (3 seeds), the best blend's mean absolute
held-out error, each in its series' spread: Yearly 1.676-1.686 with Theta, 1.649-1.653 with the mean;
Quarterly 1.787-1.799 and 1.762-1.770; Monthly 1.571-1.606 and 1.551-1.588. A grid of 384 (alpha and
beta up to 1) scored the same within 0.4 % at 3.4 times the cost.

**ETS** (Hyndman et al. 2002; the additive-error forms without seasonality, as the series are
seasonally adjusted): the damped trend's equations above, in three forms, N (no trend: b_t = 0),
A (Holt's linear trend: phi = 1) and Ad (damped: phi in 0.8 .. 0.98), and unlike the damped trend
above, the initial states s_0 = (l_0, b_0) are fitted too. They need no search: the one-step errors
are linear in them,

    e_t = e0_t - m_t' s_0,    m_t = w' D^{t-1},  w' = (1, phi),  D = [[1 - alpha, phi (1 - alpha)],
                                                                     [-alpha beta, phi (1 - alpha beta)]]

where e0 are the errors of the same recursion started from s_0 = 0 and D is how a change of state
carries over one step. One pass accumulates sum e0^2, sum e0 m and sum m m' per candidate, and the
best s_0 solves a 2 x 2 system (the concentrated least squares). Each of 189 candidates (alpha, beta,
phi) gets its least squared error so; each form's best, and the form with the least AICc (2, 4 and 5
parameters and sigma), give the forecast:

    N: f_k = l_n      A: f_k = l_n + b_n k      Ad: f_k = l_n + b_n phi / (1 - phi) (1 - phi^k)

Measured on the 50 Weekly series of the M4 dev sample (their raw values, OWA alone): N, A and Ad
0.970, 0.872 and 0.755, the selected form 0.741. The same grid from fixed initial states (l_0 = x_1,
b_0 from the first points, the damped trend's way) scored 0.885 selected; Nelder-Mead on all the
parameters and initial states (scipy, 3 starts; 52 s for the 50 series) 0.757. On the prepared
Weekly series (log scale) the selected form scores 0.737, against the damped-trend mean's 0.867.
It costs 91 us a window of 180 points on one core (the damped-trend mean: 23 us).

``blend="auto"`` (the default) blends with the mean of Theta and the damped trend or with ETS, whichever
(with its share) errs least on the held-out windows (``Forecaster._blend_choice``): on the M4 dev sample
the mean on Yearly and Quarterly series, ETS on Monthly and Weekly ones.

All of them read a series' last ``HISTORY`` (512) points at most, so their cost per series is bounded.

Every forecast is kept as four numbers per series, a **curve** (``c0, c1, c2, phi``):

    f_k = c0 + c1 k + c2 (1 - phi^k)      Theta: (a, slope, 0, 0); the mean: half of each;
                                          ETS: (l, 0, 0, 0), (l, b, 0, 0) or (l, 0, b phi / (1 - phi), phi)

The prepared series are what the network reads (``tsrnn/store.py``): scaled, log for strictly positive
series, seasonal indices removed. The statistical forecasts there are on the log scale, and they are
blended with the network's in the same units, so the blend's held-out errors calibrate the intervals
as the network's alone did. Array-only and jitted, one series (or one cut of a series) per loop
iteration, nothing allocated per series.

Example
-------
>>> import numpy as np
>>> curves = store_curves(np.arange(10.0), np.array([0, 10]), "theta")   # a straight line, 0 .. 9
>>> np.round(curve_forecasts(curves, 1, 3), 6).tolist()                   # continued at half its slope
[[9.5, 10.0, 10.5]]
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from ._config import JIT

__all__ = ["KINDS", "THETA", "THETA_DAMPED", "ETS", "HISTORY", "partner_curves", "fit_curves", "store_curves",
           "curve_forecasts"]

KINDS = ("theta", "theta+damped", "ets")               # the statistical forecasts a blend can use
# The statistical forecasts read each series' last HISTORY points at most: their cost is then bounded per
# series, whatever its length. They run on every series and on the prefix of every held-out window and of
# each series' last training windows (the intervals' in-sample error), which on long histories was much
# of a fit: on M5's shape (30,490 daily series of 1,941 days, 61,000 such windows; a 40 s fit) the fits on
# those windows took 14.2 s with every point, 4.0 s with the last 512 (random walks of that shape, one
# core). On the M4 dev sample only Weekly and Hourly series are longer; on Weekly the capped fits'
# held-out error is 0.7 % lower (2.074 against 2.088 alone), and the weight chosen (0) is unchanged.
HISTORY = 512
_PER_THREAD = 512                       # fewer series than this a thread are fitted on one thread

# alpha search: a grid of 20 values (0.05 .. 1), then a golden-section search on the grid step around the
# best of them. The one-step squared error of SES is smooth in alpha but not always unimodal on [0, 1]
# (a series with a level shift has a second valley near 1), so the grid picks the valley first.
_GRID = 20
_GOLDEN_STEPS = 14


@njit(**JIT)
def _ses_sse(x, start, n, alpha):
    """One-step squared error of SES with l_0 = x_1 over x[start:start + n], and the last level."""
    level = x[start]
    sse = 0.0
    for t in range(start + 1, start + n):
        e = x[t] - level                              # one-step error: x_t - l_{t-1}
        sse += e * e
        level += alpha * e                            # l_t = l_{t-1} + alpha (x_t - l_{t-1})
    return sse, level


# The damped trend's grid: 7 x 4 x 4 = 112 candidates (alpha, beta, phi), all fitted in one pass.
_ALPHA, _BETA, _PHI = np.meshgrid([0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9], [0.0, 0.05, 0.15, 0.4],
                                  [0.8, 0.9, 0.95, 0.98], indexing="ij")
_ALPHA, _ALPHA_BETA, _PHI = _ALPHA.ravel(), (_ALPHA * _BETA).ravel(), _PHI.ravel()


@njit(**JIT)
def _theta(z, start, n):
    """(a, slope) of the Theta forecast f_k = a + slope k of z[start:start + n], n >= 2."""
    # b = sum (t - tbar)(x_t - xbar) / sum (t - tbar)^2, t = 0 .. n-1
    tbar = 0.5 * (n - 1)
    xbar = 0.0
    for t in range(n):
        xbar += z[start + t]
    xbar /= n
    sxy, sxx = 0.0, 0.0
    for t in range(n):
        d = t - tbar
        sxy += d * (z[start + t] - xbar)
        sxx += d * d
    b = sxy / sxx
    # alpha: the best grid value, then golden section on [best - step, best + step]
    step = 1.0 / _GRID
    best, best_sse = 1.0, np.inf
    for g in range(_GRID):
        alpha = (g + 1) * step
        sse, _ = _ses_sse(z, start, n, alpha)
        if sse < best_sse:
            best, best_sse = alpha, sse
    lo, hi = max(0.01, best - step), min(1.0, best + step)
    ratio = 0.6180339887498949
    c, d = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fc, _ = _ses_sse(z, start, n, c)
    fd, _ = _ses_sse(z, start, n, d)
    for _ in range(_GOLDEN_STEPS):
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - ratio * (hi - lo)
            fc, _ = _ses_sse(z, start, n, c)
        else:
            lo, c, fc = c, d, fd
            d = lo + ratio * (hi - lo)
            fd, _ = _ses_sse(z, start, n, d)
    alpha = c if fc < fd else d
    if best_sse < min(fc, fd):
        alpha = best
    _, level = _ses_sse(z, start, n, alpha)
    slope = 0.5 * b
    return level + slope * (1.0 / alpha - (1.0 - alpha) ** n / alpha - 1.0), slope


@njit(**JIT)
def _damped(z, start, n, alpha, alpha_beta, phi, level, trend, sse):
    """(l_n, b_n, phi) of the damped trend of z[start:start + n], n >= 3, with the least one-step squared
    error of the candidates (alpha, alpha beta, phi); ``level``, ``trend``, ``sse``: scratch, one per
    candidate."""
    q = min(n - 1, 4)
    b0 = (z[start + q] - z[start]) / q
    for g in range(len(alpha)):
        level[g], trend[g], sse[g] = z[start], b0, 0.0
    for t in range(start + 1, start + n):
        x = z[t]
        for g in range(len(alpha)):                   # independent candidates: a vectorised loop
            f = level[g] + phi[g] * trend[g]          # f_t = l_{t-1} + phi b_{t-1}
            e = x - f
            sse[g] += e * e
            level[g] = f + alpha[g] * e               # l_t = f_t + alpha e_t
            trend[g] = phi[g] * trend[g] + alpha_beta[g] * e    # b_t = phi b_{t-1} + alpha beta e_t
    best = np.argmin(sse)
    return level[best], trend[best], phi[best]


# ETS's grid: 9 x (1 + 4 x 5) = 189 candidates (alpha, alpha beta, phi), all fitted in one pass. phi = 0
# is the form without a trend (N; its b_t stays 0), phi = 1 Holt's linear trend (A), 0.8 .. 0.98 damped (Ad).
_ETS_ALPHA = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99]
_ETS_BETA = [0.01, 0.05, 0.15, 0.4]                   # as a share of alpha: 0 < beta < alpha
_ETS_PHI = [0.8, 0.9, 0.95, 0.98, 1.0]
_ETS_GRID = np.array([candidate for a in _ETS_ALPHA                   # (alpha, alpha beta, phi)
                      for candidate in [(a, 0.0, 0.0)] + [(a, a * b, p) for b in _ETS_BETA for p in _ETS_PHI]])
_EA, _EAB, _EP = (np.ascontiguousarray(_ETS_GRID[:, i]) for i in range(3))
_ETS_PARAMETERS = (2, 4, 5)                           # N, A, Ad: alpha, beta, phi and the initial states fitted


@njit(**JIT)
def _ets(z, start, n, alpha, alpha_beta, phi, work, out):
    """The ETS form (0: N, 1: A, 2: Ad) of z[start:start + n], n >= 5, with the least AICc; ``out[k]`` =
    (least squared error, l_n, b_n, phi) of form k over the candidates (alpha, alpha beta, phi), each with
    its best initial states; ``work`` (12, candidates): scratch."""
    l, b, ul, ub, vl, vb = work[0], work[1], work[2], work[3], work[4], work[5]
    see, se1, se2, s11, s12, s22 = work[6], work[7], work[8], work[9], work[10], work[11]
    for g in range(len(alpha)):
        # the state from s_0 = 0, and its response to s_0 = (1, 0) and (0, 1): D^t's columns
        l[g], b[g], ul[g], ub[g], vl[g], vb[g] = 0.0, 0.0, 1.0, 0.0, 0.0, 1.0
        see[g], se1[g], se2[g], s11[g], s12[g], s22[g] = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    for t in range(start, start + n):
        x = z[t]
        for g in range(len(alpha)):                   # independent candidates: a vectorised loop
            p = phi[g]
            f = l[g] + p * b[g]                       # f_t = l_{t-1} + phi b_{t-1}   (from s_0 = 0)
            m1 = ul[g] + p * ub[g]                    # m_t = w' D^{t-1}: how f_t moves with l_0 and b_0
            m2 = vl[g] + p * vb[g]
            e = x - f                                 # e_t = e0_t - m_t' s_0
            see[g] += e * e
            se1[g] += e * m1
            se2[g] += e * m2
            s11[g] += m1 * m1
            s12[g] += m1 * m2
            s22[g] += m2 * m2
            l[g] = f + alpha[g] * e                   # l_t = f_t + alpha e_t
            b[g] = p * b[g] + alpha_beta[g] * e       # b_t = phi b_{t-1} + alpha beta e_t
            ul[g] = (1.0 - alpha[g]) * m1             # D = F - g w' applied to each response column
            ub[g] = p * ub[g] - alpha_beta[g] * m1
            vl[g] = (1.0 - alpha[g]) * m2
            vb[g] = p * vb[g] - alpha_beta[g] * m2
    for k in range(3):
        out[k, 0] = np.inf
    for g in range(len(alpha)):
        # s_0 = argmin sum (e0_t - m_t' s_0)^2: the normal equations (s11 >= 1: m_1 = (1, phi))
        k = 0 if phi[g] == 0.0 else 1 if phi[g] == 1.0 else 2
        det = s11[g] * s22[g] - s12[g] * s12[g]
        if k and det > 1e-12 * s11[g] * s22[g]:
            l0 = (s22[g] * se1[g] - s12[g] * se2[g]) / det
            b0 = (s11[g] * se2[g] - s12[g] * se1[g]) / det
        else:                                         # N, or a trend the data cannot tell from the level
            l0, b0 = se1[g] / s11[g], 0.0
        sse = see[g] - se1[g] * l0 - se2[g] * b0
        if sse < out[k, 0]:
            out[k, 0] = sse
            out[k, 1] = l[g] + ul[g] * l0 + vl[g] * b0      # s_n = s_n(0) + D^n s_0
            out[k, 2] = b[g] + ub[g] * l0 + vb[g] * b0
            out[k, 3] = phi[g]
    best, form = np.inf, 0
    for k in range(3):
        q = _ETS_PARAMETERS[k] + 1                    # and sigma
        if n - q - 1 > 0:
            aicc = n * np.log(max(out[k, 0], 1e-300) / n) + 2 * q + 2 * q * (q + 1) / (n - q - 1)
            if aicc < best:
                best, form = aicc, k
    return form


THETA, THETA_DAMPED, ETS = 0, 1, 2                   # partner_curves' kind codes, in KINDS' order


@njit(**JIT)
def partner_curves(z, offsets, series, cuts, kind, out):
    """out[j] = the curve (c0, c1, c2, phi) of the statistical forecast ``kind`` (THETA, THETA_DAMPED,
    ETS) of series ``series[j]`` of the store (``z``, ``offsets``) from its first ``cuts[j]`` points,
    fitted on the last ``HISTORY`` of those points at most (module docstring). A cut of one point gives
    the flat line through it; the damped trend of fewer than 3 points and ETS of fewer than 5 are the
    last point's flat line."""
    level, trend, sse = np.empty(len(_ALPHA)), np.empty(len(_ALPHA)), np.empty(len(_ALPHA))
    work, forms = np.empty((12, len(_EA))), np.empty((3, 4))
    for j in range(len(series)):
        n = min(cuts[j], HISTORY)
        start = offsets[series[j]] + cuts[j] - n
        if kind == ETS:
            form = _ets(z, start, n, _EA, _EAB, _EP, work, forms) if n >= 5 else -1
            l, b, phi = (z[start + n - 1], 0.0, 0.0) if form == -1 else (forms[form, 1], forms[form, 2], forms[form, 3])
            if form == 1:                             # Holt's straight line l + b k
                out[j, 0], out[j, 1], out[j, 2], out[j, 3] = l, b, 0.0, 0.0
            else:                                     # l + b phi / (1 - phi) (1 - phi^k); N: b = phi = 0
                out[j, 0], out[j, 1], out[j, 2], out[j, 3] = l, 0.0, b * phi / (1.0 - phi), phi
            continue
        a, slope = (z[start], 0.0) if n < 2 else _theta(z, start, n)
        if kind == THETA:
            out[j, 0], out[j, 1], out[j, 2], out[j, 3] = a, slope, 0.0, 0.0
            continue
        l, b, phi = (z[start + n - 1], 0.0, 0.0) if n < 3 else _damped(z, start, n, _ALPHA, _ALPHA_BETA, _PHI,
                                                                        level, trend, sse)
        # mean of a + slope k and l + b phi / (1 - phi) (1 - phi^k)
        out[j, 0], out[j, 1], out[j, 2], out[j, 3] = 0.5 * (a + l), 0.5 * slope, 0.5 * b * phi / (1.0 - phi), phi


def fit_curves(z: np.ndarray, offsets: np.ndarray, series: np.ndarray, cuts: np.ndarray, blend: str,
               threads: int = 1) -> np.ndarray:
    """(B, 4) the curves of ``blend`` (one of ``KINDS``) of the series ``series`` of a store (int64)
    from their first ``cuts`` points (int64), on up to ``threads`` threads."""
    out = np.empty((len(series), 4))
    kind = KINDS.index(blend)
    parts = min(threads, len(series) // _PER_THREAD)
    if parts <= 1:
        partner_curves(z, offsets, series, cuts, kind, out)
        return out
    # the compiled loop releases the GIL: a share of the series per thread, each writing its own rows
    bounds = np.linspace(0, len(series), parts + 1).astype(np.int64)
    with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="tsrnn-blend") as pool:
        list(pool.map(lambda a, b: partner_curves(z, offsets, series[a:b], cuts[a:b], kind, out[a:b]),
                      bounds[:-1], bounds[1:]))
    return out


def store_curves(z: np.ndarray, offsets: np.ndarray, blend: str, threads: int = 1) -> np.ndarray:
    """(n, 4) the curve of ``blend`` of every whole series of a store: what its forecasts blend with."""
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    return fit_curves(z, offsets, np.arange(n, dtype=np.int64), np.diff(offsets), blend, threads)


def curve_forecasts(curves: np.ndarray, first: int, steps: int) -> np.ndarray:
    """(B, steps) the curves' forecasts at k = first, ..., first + steps - 1."""
    k = np.arange(first, first + steps)
    c0, c1, c2, phi = (curves[:, i:i + 1] for i in range(4))
    return c0 + c1 * k + c2 * (1.0 - phi ** k)
