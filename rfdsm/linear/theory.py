"""Proportional limit ``N, d -> inf`` (``N/d`` fixed) of the linear DDPM, and exact Wishart KL expectations.

The limit is taken with the known-mean convention of :mod:`.chain` at ``mean = 0`` (``known_mean=True``), so
``C`` is the standard sample covariance of :mod:`.equivalents` with ``n = N``.  Every quantity is
``(1/d) tr(B f(C))`` for a spectral function ``f`` of the chain (``B`` = ``I``, ``Sigma`` or
``Sigma^{-1}``), evaluated by :class:`.equivalents.SpectralContour`; per dimension:

* ``KL(p_gen || p)/d = 1/2 [ (1/d) tr(Sigma^{-1} g(C)) - 1 + (1/d) ln det Sigma - (1/d) tr ln g(C) ]``,
* ``KL(p || p_gen)/d = 1/2 [ (1/d) tr(Sigma g(C)^{-1}) - 1 - (1/d) ln det Sigma + (1/d) tr ln g(C) ]``,
* ``train_t = (1/d) tr[w_t^2 (a C + s) - 2 sqrt(s) w_t + 1]``,
  ``test_t = (a/d) tr(Sigma w_t^2) + (1/d) tr[s w_t^2 - 2 sqrt(s) w_t + 1]``,

with ``g`` and ``w_t`` from :mod:`.chain`.  For ``N < d`` the atom of ``C`` at 0 enters through ``g(0)``;
``g(0) = 0`` exactly when ``c = 0``, ``tau = inf`` and the posterior sampler variance is used, and then
both KLs are ``math.inf``.  With a learned mean (the default of :func:`.chain.realise`) the limit is the
same; finite-``d`` differences are ``O(1/N)`` per dimension (:func:`proportional_limit`).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma

from ..validate import count, positive_array
from .chain import Losses, Schedule, Training, check_spectrum, denoiser_weights, generated_spectrum, linear_schedule
from .equivalents import SpectralContour


class LinearTheory(Losses):
    """Proportional-limit values, per dimension: KLs and per-step losses."""


def _log_on_contour(gz: np.ndarray) -> np.ndarray:
    """``ln g`` continuous along the contour; raises if ``g`` winds around 0 (a zero inside the contour)."""
    arg = np.unwrap(np.angle(gz))
    if abs(arg[0]) > 1.0 or abs(arg[-1]) > 1.0:
        raise RuntimeError("proportional_limit: g(z) vanishes inside the contour; reduce half_angle")
    return np.log(np.abs(gz)) + 1j * arg


def proportional_limit(spectrum, N: int, schedule: Schedule | None = None,
                       training: Training | None = None, half_angle: float = 0.5) -> LinearTheory:
    """Deterministic-equivalent values of the KLs (per dimension) and of the per-step losses (module docstring).

    Accuracy at finite ``d`` (docs/linear.md, ``scripts/linear_excess_kl.py``).  For ``N > d`` the limit keeps only
    the leading ``1/(4 psi)`` per dimension of the excess KL over ``N = inf``, ``psi = N/d``; the finite-``d``
    chain's excess is the Wishart one, ``(d+1)/(4N)`` per dimension with a known mean and ``(d+3)/(4N)`` with the
    learned mean.  So the limit's excess is low by ``d/(d+1)`` (known mean) or ``d/(d+3)`` (learned mean): measured
    0.985 and 0.947 against the exact Wishart expectations at ``d = 50``, ``k = 0``, where ``d/(d+1) = 0.980`` and
    ``d/(d+3) = 0.943`` (the rest is the 1000-step chain's own +0.5 %).  That chain excess does not depend on the
    spectrum for ``k <= 1`` (to 0.3 % for ``KL(p_gen || p)``, 0.8 % for ``KL(p || p_gen)``); at ``k = 2`` it is +3.2 %
    and +9 % above the Wishart value at ``d = 50``, a time-step effect on the small eigenvalues (10 times finer
    steps: +0.35 % and +1.2 %).
    """
    lam = check_spectrum(spectrum)
    N = count("N", N)
    schedule = linear_schedule() if schedule is None else schedule
    training = Training() if training is None else training
    sc = SpectralContour(lam, N, half_angle=half_angle)
    z = sc.z

    gz, _ = generated_spectrum(z, schedule, training)
    g0 = float(generated_spectrum(np.zeros(1), schedule, training)[0][0])
    exact_zero = training.c == 0 and math.isinf(training.tau) and schedule.sigma2[0] == 0
    mean_log_lam = float(np.mean(np.log(lam)))
    if sc.atom > 0 and exact_zero:
        kl_gt = kl_tg = math.inf
    else:
        # g(0) only matters through the atom at 0, which exists for N < d
        at0 = sc.atom > 0
        lng = _log_on_contour(gz)
        tr_lng = sc.trace(lng, f0=math.log(g0) if at0 else None)
        kl_gt = 0.5 * (sc.trace(gz, f0=g0, b=1 / lam) - 1 + mean_log_lam - tr_lng)
        kl_tg = 0.5 * (sc.trace(1 / gz, f0=1 / g0 if at0 else None, b=lam) - 1 - mean_log_lam + tr_lng)

    w = denoiser_weights(z, schedule, training)
    w0 = denoiser_weights(np.zeros(1), schedule, training)[:, 0]
    a, s = schedule.abar[:, None], schedule.s[:, None]
    rs = np.sqrt(s)
    common = s * w * w - 2 * rs * w + 1
    common0 = schedule.s * w0**2 - 2 * np.sqrt(schedule.s) * w0 + 1
    train = sc.trace(common + a * z * w * w, f0=common0)
    test = sc.trace(common, f0=common0) + schedule.abar * sc.trace(w * w, f0=w0**2, b=lam)
    return LinearTheory(N, lam.size, training, float(kl_gt), float(kl_tg), train, test)


def wishart_kl(N: int, d: int, known_mean: bool = True):
    """Exact ``(E KL(p_gen || p), E KL(p || p_gen))`` (totals, nats) when ``p_gen = N(centre, C)`` reproduces the
    training Gaussian: ``C`` the sample covariance about ``centre`` = the true mean (``known_mean``) or the sample
    mean.  ``N C`` is Wishart with ``n = N`` (known) or ``n = N - 1`` (learned) degrees of freedom, whatever
    ``Sigma`` is; the sample mean's error exactly offsets the lost degree of freedom in ``tr(Sigma^{-1} C)``:

    ``E KL(p_gen||p) = -1/2 [sum_{i=1..d} digamma((n-i+1)/2) + d ln 2 - d ln N]`` (finite for ``n >= d``),
    ``E KL(p||p_gen) = 1/2 [(N + [learned]) d/(n-d-1) - d] + 1/2 [same sum]`` (finite for ``n >= d + 2``);
    ``math.inf`` otherwise.  For ``N >> d`` both are ``d(d+1)/(4N)`` (known) and ``d(d+3)/(4N)`` (learned).
    """
    N, d = count("N", N), count("d", d)
    n = N if known_mean else N - 1
    if n < d:
        return math.inf, math.inf
    i = np.arange(1, d + 1)
    psi_sum = float(np.sum(digamma((n - i + 1) / 2.0))) + d * math.log(2.0) - d * math.log(N)
    gen_true = -0.5 * psi_sum
    trace = (N if known_mean else N + 1) * d / (n - d - 1) if n >= d + 2 else math.inf
    return gen_true, 0.5 * (trace - d) + 0.5 * psi_sum


def wishart_kl_limit(psi):
    """Per-dimension limits for ``psi = N/d > 1``: ``1/2 [1 + (psi-1) ln(1-1/psi)]`` and
    ``1/2 [1/(psi-1) - 1 - (psi-1) ln(1-1/psi)]``; both ``~ 1/(4 psi)`` for large ``psi``."""
    psi = positive_array("psi", psi)
    if np.any(psi <= 1):
        raise ValueError(f"psi: must be > 1, got {psi}")
    L = (psi - 1) * np.log1p(-1 / psi)
    return 0.5 * (1 + L), 0.5 * (1 / (psi - 1) - 1 - L)
