"""One-step linear denoiser and memorisation by relative distance (MODELS.md §6).

Conventions (choices made here are marked *)
--------------------------------------------
* Data ``x_0 ~ rho_O = N(m 1, sigma^2 I_d)``.  Forward noise with scale ``ell`` and cut-off time ``T``:
  ``x_T = a x_0 + sqrt(ell (1 - a^2)) xi``, ``a = e^{-T}``; so ``x_T ~ N(a m 1, v_T I)``,
  ``v_T = a^2 sigma^2 + ell (1 - a^2)``.
* Training: ``n`` pairs ``(x_0,i, x_T,i)`` (one noise draw each); least squares with intercept,
  ``A = X0c^T XTc (XTc^T XTc)^+`` (minimum norm; ``c`` = centred by the sample means), ``b = xbar_0 - A xbar_T``.
* *Generation starts from the exact forward marginal ``x_T ~ N(a m 1, v_T I)``:
  ``rho_G = N(a A m 1 + b, v_T A A^T)``.  ``rank A <= n - 1``, so ``Sigma_G`` is singular for ``n <= d``.
  With infinite data ``rho_G = N(m 1, r sigma^2 I)``, ``r = a^2 sigma^2 / v_T``.
* Gaussian-kernel approximation of a set of ``N`` points: ``(1/N) sum_i N(x_i, eps^2 I)``,
  ``eps = sigma N^{-1/d}``.  ``rho_T`` is that of the training points ``x_0,i``.
  *The reference ``rho_R`` is the sampling law ``rho_O`` itself (default) or, with ``n_ref``, the kernel
  approximation of an independent set of ``n_ref`` points from ``rho_O``.
* ``D(p, q) = int (p - q)^2`` (squared L2).  ``E_TG = D(rho_T, rho_G)``, ``E_OG = D(rho_R, rho_G)`` and
  ``Delta = E_TG - E_OG = <T,T> - 2<T,G> - <R,R> + 2<R,G>``: ``<G,G>`` cancels exactly, which keeps
  ``Delta`` finite when ``Sigma_G`` is singular (then ``E_TG = E_OG = inf``).  Each inner product is
  ``exp`` of a large positive or negative number (hundreds in ``d ~ 100``); ``Delta`` is formed from their
  logarithms (:func:`rfdsm.gaussians.signed_logsumexp`), never from the inner products themselves.
* Generalisation regime: ``P(Delta > 0) -> 1`` over training sets (the generated law is closer to the
  sampling law than to the training set); memorisation: ``P(Delta > 0) -> 0``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from . import gaussians
from .gaussians import GaussianMixture, SignedLog


@dataclass(frozen=True)
class OneStepModel:
    """Data ``N(m 1, sigma^2 I_d)``, forward noise scale ``ell``, cut-off time ``T``."""

    d: int
    sigma: float = 1.0
    m: float = 1.0
    ell: float = 1.0
    T: float = 1.0

    def __post_init__(self):
        if int(self.d) != self.d or self.d <= 0:
            raise ValueError(f"d: must be a positive integer, got {self.d}")
        for name in ("sigma", "ell", "T"):
            v = getattr(self, name)
            if not (v > 0 and math.isfinite(v)):
                raise ValueError(f"{name}: must be finite and > 0, got {v}")
        if not math.isfinite(self.m):
            raise ValueError(f"m: must be finite, got {self.m}")

    @property
    def a(self) -> float:
        return math.exp(-self.T)

    @property
    def noise_var(self) -> float:
        """``ell (1 - e^{-2T})``."""
        return -self.ell * math.expm1(-2 * self.T)

    @property
    def xT_var(self) -> float:
        """``v_T = a^2 sigma^2 + ell (1 - a^2)``."""
        return self.a**2 * self.sigma**2 + self.noise_var

    @property
    def r(self) -> float:
        """Infinite-data shrinkage ``r = a^2 sigma^2 / v_T`` of the generated variance."""
        return self.a**2 * self.sigma**2 / self.xT_var

    def sampling_law(self) -> GaussianMixture:
        return gaussians.gaussian(np.full(self.d, self.m), self.sigma**2)

    def infinite_data_law(self) -> GaussianMixture:
        return gaussians.gaussian(np.full(self.d, self.m), self.r * self.sigma**2)

    def kernel_width(self, N: int) -> float:
        """``eps = sigma N^{-1/d}``."""
        return self.sigma * N ** (-1.0 / self.d)


def infinite_data_kl(model: OneStepModel) -> float:
    """``KL(rho_G || rho_O) = (d/2)(r - 1 - ln r)`` for infinite data."""
    r = model.r
    return 0.5 * model.d * (r - 1 - math.log(r))


def infinite_data_hellinger2(model: OneStepModel) -> float:
    """Squared Hellinger ``1 - (2 sqrt(r)/(1 + r))^{d/2}`` for infinite data."""
    r = model.r
    return -math.expm1(0.5 * model.d * math.log(2 * math.sqrt(r) / (1 + r)))


def sample_pairs(model: OneStepModel, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clean points and their noisy versions ``x_T = a x_0 + sqrt(ell (1 - a^2)) xi``."""
    x0 = model.m + model.sigma * rng.standard_normal((n, model.d))
    xT = model.a * x0 + math.sqrt(model.noise_var) * rng.standard_normal((n, model.d))
    return x0, xT


def fit_one_step(x0, xT) -> tuple[np.ndarray, np.ndarray]:
    """Least squares with intercept of ``x0`` on ``xT`` (minimum-norm ``A``): returns ``(A, b)``."""
    x0, xT = np.asarray(x0, float), np.asarray(xT, float)
    if x0.shape != xT.shape or x0.ndim != 2:
        raise ValueError(f"x0, xT: need equal (n, d) shapes, got {x0.shape}, {xT.shape}")
    m0, mT = x0.mean(axis=0), xT.mean(axis=0)
    B, *_ = np.linalg.lstsq(xT - mT, x0 - m0, rcond=None)
    A = B.T
    return A, m0 - A @ mT


def generated_law(model: OneStepModel, A, b) -> GaussianMixture:
    """``N(a A m 1 + b, v_T A A^T)``: the one-step map applied to the forward marginal at ``T``."""
    return gaussians.gaussian(model.a * model.m * A.sum(axis=1) + b, model.xT_var * (A @ A.T))


@dataclass(frozen=True)
class RelativeDistance:
    """One training set: ``ln E_TG``, ``ln E_OG`` (``inf`` when ``Sigma_G`` is singular), ``Delta`` and divergences."""

    n: int
    d: int
    log_E_TG: float
    log_E_OG: float
    delta: SignedLog
    kl_gen_true: float
    kl_true_gen: float
    hellinger2: float


def _log_inner_or_inf(p, q) -> float:
    try:
        return gaussians.log_inner(p, q)
    except ValueError:  # singular summed covariance: the inner product is infinite
        return math.inf


def relative_distance(model: OneStepModel, n: int, seed=None, n_ref: int | None = None) -> RelativeDistance:
    """Draw a training set of size ``n`` (and a reference set if ``n_ref``), fit, and compare (module docstring)."""
    if int(n) != n or n < 2:
        raise ValueError(f"n: need an integer >= 2 (the fit has an intercept), got {n}")
    if n_ref is not None and (int(n_ref) != n_ref or n_ref < 1):
        raise ValueError(f"n_ref: must be a positive integer, got {n_ref}")
    rng = np.random.default_rng(seed)
    x0, xT = sample_pairs(model, int(n), rng)
    G = generated_law(model, *fit_one_step(x0, xT))
    Tk = gaussians.kernel_density(x0, model.kernel_width(int(n)))
    O = model.sampling_law()
    if n_ref is None:
        R = O
    else:
        xr = model.m + model.sigma * rng.standard_normal((int(n_ref), model.d))
        R = gaussians.kernel_density(xr, model.kernel_width(int(n_ref)))
    ltt, ltg = gaussians.log_inner(Tk, Tk), gaussians.log_inner(Tk, G)
    lrr, lrg = gaussians.log_inner(R, R), gaussians.log_inner(R, G)
    delta = gaussians.signed_logsumexp([ltt, ltg + math.log(2), lrr, lrg + math.log(2)], [1, -1, -1, 1])
    lgg = _log_inner_or_inf(G, G)
    if math.isinf(lgg):
        log_etg = log_eog = math.inf
    else:
        log_etg = gaussians.signed_logsumexp([ltt, ltg + math.log(2), lgg], [1, -1, 1]).log_abs
        log_eog = gaussians.signed_logsumexp([lrr, lrg + math.log(2), lgg], [1, -1, 1]).log_abs
    return RelativeDistance(int(n), model.d, log_etg, log_eog, delta,
                            gaussians.kl(G, O), gaussians.kl(O, G), gaussians.hellinger2(G, O))


@dataclass(frozen=True)
class DeltaProbability:
    """Monte Carlo estimate of ``P(Delta > 0)`` over ``n_sets`` training sets, with a Wilson 95% interval."""

    n: int
    d: int
    n_sets: int
    p: float
    ci_low: float
    ci_high: float
    results: tuple


def _wilson(k: int, m: int, z: float = 1.96):
    p = k / m
    den = 1 + z * z / m
    centre = (p + z * z / (2 * m)) / den
    half = z * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def prob_delta_positive(model: OneStepModel, n: int, n_sets: int = 200, seed=0, n_ref: int | None = None,
                        progress: bool = True) -> DeltaProbability:
    """``P(Delta > 0)`` over ``n_sets`` independent training sets (seeds spawned from ``seed``)."""
    if int(n_sets) != n_sets or n_sets <= 0:
        raise ValueError(f"n_sets: must be a positive integer, got {n_sets}")
    seeds = np.random.SeedSequence(seed).spawn(int(n_sets))
    res = tuple(relative_distance(model, n, seed=s, n_ref=n_ref)
                for s in tqdm(seeds, desc=f"P(Delta>0) n={n}", disable=not progress, leave=False))
    k = sum(r.delta.sign > 0 for r in res)
    lo, hi = _wilson(k, int(n_sets))
    return DeltaProbability(int(n), model.d, int(n_sets), k / n_sets, lo, hi, res)
