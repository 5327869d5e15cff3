"""One-step linear denoiser and memorisation by relative distance (docs/distance.md).

Conventions (choices made here are marked *)
--------------------------------------------
* Data ``x_0 ~ rho_O = N(mean 1, sigma^2 I_d)``.  Forward noise with scale ``ell`` up to the cut-off time
  ``t_cut``: ``x_c = a x_0 + sqrt(ell (1 - a^2)) xi``, ``a = e^{-t_cut}``; so ``x_c ~ N(a mean 1, v I)``,
  ``v = a^2 sigma^2 + ell (1 - a^2)``.
* Training: ``n`` pairs ``(x_0,i, x_c,i)`` (one noise draw each); least squares with intercept,
  ``A = X0c^T Xcc (Xcc^T Xcc)^+`` (minimum norm; the second ``c`` = centred by the sample means),
  ``b = xbar_0 - A xbar_c``.
* *Generation starts from the exact forward marginal ``x_c ~ N(a mean 1, v I)``:
  ``rho_G = N(a A mean 1 + b, v A A^T)``, given to :mod:`rfdsm.divergences` by its factor ``sqrt(v) A``, so that
  singularity is decided on ``A`` (rank rule ``s_min(A) <= d eps s_max(A)``, ``eps`` = 2.2e-16).
  ``rank A <= n - 1``, so ``Sigma_G`` is singular for ``n <= d``.  With infinite data
  ``rho_G = N(mean 1, r sigma^2 I)``, ``r = a^2 sigma^2 / v``.
* Gaussian-kernel approximation of a set of ``N`` points: ``(1/N) sum_i N(x_i, eps_N^2 I)``,
  ``eps_N = sigma N^{-1/d}``.  ``rho_T`` is that of the training points ``x_0,i``.
  *The reference ``rho_R`` is the sampling law ``rho_O`` itself (default), or the kernel approximation of a
  reference set from ``rho_O``: fresh for each training set (``reference=N``) or fixed (a :class:`KernelReference`).
* ``D(p, q) = int (p - q)^2`` (squared L2).  ``E_TG = D(rho_T, rho_G)``, ``E_OG = D(rho_R, rho_G)`` and
  ``Delta = E_TG - E_OG = <T,T> - 2<T,G> - <R,R> + 2<R,G>``: ``<G,G>`` cancels exactly, which keeps ``Delta``
  finite when ``Sigma_G`` is singular (then ``E_TG = E_OG = inf``).
* Cancelled form.  The ``i = j`` terms of a kernel density's ``<K,K>`` sum to
  ``(1/N) (4 pi eps_N^2)^{-d/2} = (4 pi sigma^2)^{-d/2} = <O,O>`` whatever ``N`` is.  So, with ``off(K)`` the
  ``i != j`` part of ``<K,K>`` (and ``off(O) = 0``),
      ``Delta = off(T) - off(R) - 2<T,G> + 2<R,G>``,
  with the equal terms removed analytically.  Forming ``<T,T>`` and ``<O,O>`` and subtracting them instead
  loses ``Delta`` near ``n ~ d`` (at ``d = 100``, ``|Delta| ~ e^{-32} <O,O>`` while their rounding is
  ``~1e-14 <O,O>``: the sign came out wrong in 30 % of training sets).  Each term is ``exp`` of a large positive
  or negative number; ``Delta`` is summed from their logarithms (:func:`rfdsm.divergences.signed_logsumexp`).
* Generalisation regime: ``P(Delta > 0) -> 1`` over training sets (the generated law is closer to the reference
  than to the training set); memorisation: ``P(Delta > 0) -> 0``.
* KL and Hellinger are between ``rho_G`` and the sampling law ``rho_O``, totals in nats (not per dimension).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest
from tqdm.auto import tqdm

from . import divergences
from .divergences import GaussianMixture, SignedLog
from .results import Result
from .validate import count, finite, finite_array, positive

_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class OneStepModel:
    """Data ``N(mean 1, sigma^2 I_d)``, forward noise scale ``ell``, cut-off time ``t_cut``.

    ``t_cut`` is limited to where ``r = e^{-2 t_cut} sigma^2 / v >= eps`` (about 18.4 at ``sigma = ell = 1``):
    beyond it the signal ``a x_0`` in ``x_c`` is below the rounding of the noise, the fit regresses on rounding
    errors, and ``r sigma^2`` is lost against ``sigma^2``.
    """

    d: int
    sigma: float = 1.0
    mean: float = 1.0
    ell: float = 1.0
    t_cut: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "d", count("d", self.d))
        for name in ("sigma", "ell", "t_cut"):
            object.__setattr__(self, name, positive(name, getattr(self, name)))
        object.__setattr__(self, "mean", finite("mean", self.mean))
        if not self.r >= _EPS:
            raise ValueError(f"t_cut: the signal e^(-2 t_cut) sigma^2 is below rounding against the noise "
                             f"(r = {self.r:.3g} < 2.2e-16), got t_cut = {self.t_cut}")

    @property
    def a(self) -> float:
        """``e^{-t_cut}``."""
        return math.exp(-self.t_cut)

    @property
    def noise_var(self) -> float:
        """``ell (1 - e^{-2 t_cut})``."""
        return -self.ell * math.expm1(-2 * self.t_cut)

    @property
    def noisy_var(self) -> float:
        """``v = a^2 sigma^2 + ell (1 - a^2)``: the variance of each coordinate of ``x_c``."""
        return self.a**2 * self.sigma**2 + self.noise_var

    @property
    def r(self) -> float:
        """Infinite-data shrinkage ``r = a^2 sigma^2 / v`` of the generated variance."""
        return self.a**2 * self.sigma**2 / self.noisy_var

    @property
    def log_self_overlap(self) -> float:
        """``ln <O,O> = -(d/2) ln(4 pi sigma^2)``, also the ``i = j`` part of every kernel density's ``<K,K>``."""
        return -0.5 * self.d * math.log(4 * math.pi * self.sigma**2)

    def sampling_law(self) -> GaussianMixture:
        return divergences.gaussian(np.full(self.d, self.mean), self.sigma**2)

    def infinite_data_law(self) -> GaussianMixture:
        return divergences.gaussian(np.full(self.d, self.mean), self.r * self.sigma**2)

    def kernel_width(self, N: int) -> float:
        """``eps_N = sigma N^{-1/d}``."""
        return self.sigma * count("N", N) ** (-1.0 / self.d)

    def kernel_density(self, points) -> GaussianMixture:
        """``(1/N) sum_i N(x_i, eps_N^2 I)`` of the ``N`` rows of ``points``."""
        points = np.atleast_2d(points)
        return divergences.kernel_density(points, self.kernel_width(points.shape[0]))

    def sample(self, n: int, rng) -> np.ndarray:
        """``n`` points from ``rho_O``."""
        return self.mean + self.sigma * rng.standard_normal((n, self.d))


def infinite_data_kl(model: OneStepModel) -> float:
    """``KL(rho_G || rho_O) = (d/2)(r - 1 - ln r)`` for infinite data (nats)."""
    r = model.r
    return 0.5 * model.d * (r - 1 - math.log(r))


def infinite_data_hellinger2(model: OneStepModel) -> float:
    """Squared Hellinger ``1 - (2 sqrt(r)/(1 + r))^{d/2}`` for infinite data."""
    r = model.r
    return -math.expm1(0.5 * model.d * math.log(2 * math.sqrt(r) / (1 + r)))


def sample_pairs(model: OneStepModel, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clean points and their noisy versions ``x_c = a x_0 + sqrt(ell (1 - a^2)) xi``."""
    clean = model.sample(n, rng)
    noisy = model.a * clean + math.sqrt(model.noise_var) * rng.standard_normal((n, model.d))
    return clean, noisy


def fit_one_step(clean, noisy) -> tuple[np.ndarray, np.ndarray]:
    """Least squares with intercept of ``clean`` on ``noisy`` (minimum-norm ``A``): returns ``(A, b)``."""
    clean, noisy = finite_array("clean", clean), finite_array("noisy", noisy)
    if clean.ndim != 2 or noisy.shape != clean.shape:
        raise ValueError(f"noisy: need the (n, d) shape of clean, got {noisy.shape} and {clean.shape}")
    mc, mn = clean.mean(axis=0), noisy.mean(axis=0)
    B, *_ = np.linalg.lstsq(noisy - mn, clean - mc, rcond=None)
    A = B.T
    return A, mc - A @ mn


def generated_law(model: OneStepModel, A, b) -> GaussianMixture:
    """``N(a A mean 1 + b, v A A^T)``: the one-step map applied to the forward marginal at ``t_cut``."""
    return divergences.gaussian(model.a * model.mean * A.sum(axis=1) + b, factor=math.sqrt(model.noisy_var) * A)


@dataclass(frozen=True)
class KernelReference:
    """A fixed reference set as its kernel density ``rho_R`` and ``ln off(R)`` (computed once, ``O(N^2 d)``)."""

    law: GaussianMixture
    log_off: float


def kernel_reference(model: OneStepModel, points) -> KernelReference:
    """The kernel density of ``points`` (width ``eps_N``) as a reusable reference for :func:`relative_distance`."""
    law = model.kernel_density(points)
    if law.dim != model.d:
        raise ValueError(f"points: dimension {law.dim}, expected {model.d}")
    return KernelReference(law, divergences.log_inner_off_diagonal(law))


@dataclass(frozen=True)
class RelativeDistance:
    """One training set: ``ln E_TG``, ``ln E_OG`` (``inf`` when ``Sigma_G`` is singular), ``Delta`` and divergences.

    ``log_dist_train = ln E_TG``, ``log_dist_ref = ln E_OG`` (``rho_R`` in place of ``rho_O`` with a kernel
    reference); ``kl_gen_true = KL(rho_G || rho_O)``, ``kl_true_gen = KL(rho_O || rho_G)`` (nats, totals),
    ``hellinger2`` between ``rho_G`` and ``rho_O``.
    """

    n: int
    d: int
    log_dist_train: float
    log_dist_ref: float
    delta: SignedLog
    kl_gen_true: float
    kl_true_gen: float
    hellinger2: float


def _log_dist(log_diag: float, log_off: float, log_cross: float, log_gg: float) -> float:
    """``ln(<K,K> - 2<K,G> + <G,G>)``, ``<K,K>`` = diagonal + off-diagonal, from the logs (``inf`` with ``<G,G>``)."""
    if math.isinf(log_gg):
        return math.inf
    logs = [log_diag, log_off, log_cross + math.log(2), log_gg]
    return divergences.signed_logsumexp(logs, [1, 1, -1, 1]).log_abs


def relative_distance(model: OneStepModel, n: int, seed=None, reference=None) -> RelativeDistance:
    """Draw a training set of size ``n``, fit, and compare (module docstring).

    ``reference``: ``None`` for ``rho_O``; an integer ``N`` for the kernel density of ``N`` fresh points drawn
    after the training set from the same generator; or a :class:`KernelReference` (a fixed set).
    """
    n = count("n", n, minimum=2)  # the fit has an intercept
    rng = np.random.default_rng(seed)
    clean, noisy = sample_pairs(model, n, rng)
    G = generated_law(model, *fit_one_step(clean, noisy))
    T = model.kernel_density(clean)
    O = model.sampling_law()
    if reference is None:
        R, log_off_r = O, -math.inf
    else:
        if not isinstance(reference, KernelReference):
            reference = kernel_reference(model, model.sample(count("reference", reference), rng))
        R, log_off_r = reference.law, reference.log_off
    log_off_t = divergences.log_inner_off_diagonal(T)
    log_tg, log_rg = divergences.log_inner(T, G), divergences.log_inner(R, G)
    ln2 = math.log(2)
    delta = divergences.signed_logsumexp([log_off_t, log_off_r, log_tg + ln2, log_rg + ln2], [1, -1, -1, 1])
    log_gg = math.inf if G.singular else divergences.log_inner(G, G)
    log_diag = model.log_self_overlap
    return RelativeDistance(n, model.d, _log_dist(log_diag, log_off_t, log_tg, log_gg),
                            _log_dist(log_diag, log_off_r, log_rg, log_gg), delta,
                            divergences.kl(G, O), divergences.kl(O, G), divergences.hellinger2(G, O))


#: The per-set values of a ``DeltaProbability`` as saved: every field of ``RelativeDistance`` but n and d, with the
#: signed log ``delta`` in two columns.
_PER_SET = ("log_dist_train", "log_dist_ref", "kl_gen_true", "kl_true_gen", "hellinger2")


@dataclass(frozen=True, repr=False)
class DeltaProbability(Result):
    """Monte Carlo estimate ``prob`` of ``P(Delta > 0)`` over ``n_sets`` training sets, with a Wilson 95% interval."""

    n: int
    d: int
    n_sets: int
    prob: float
    ci_low: float
    ci_high: float
    results: tuple

    def _dataset(self):
        import xarray as xr

        variables = {name: ("set", np.array([getattr(r, name) for r in self.results])) for name in _PER_SET}
        variables["delta_sign"] = ("set", np.array([r.delta.sign for r in self.results], dtype=np.int32))
        variables["delta_log_abs"] = ("set", np.array([r.delta.log_abs for r in self.results]))
        attrs = {name: getattr(self, name) for name in ("n", "d", "n_sets", "prob", "ci_low", "ci_high")}
        return xr.Dataset(variables, coords={"set": np.arange(self.n_sets)}, attrs=attrs)

    @classmethod
    def _from_dataset(cls, data, attrs):
        columns = {name: data[name].values.tolist() for name in (*_PER_SET, "delta_sign", "delta_log_abs")}
        results = tuple(
            RelativeDistance(attrs["n"], attrs["d"], columns["log_dist_train"][i], columns["log_dist_ref"][i],
                             SignedLog(columns["delta_sign"][i], columns["delta_log_abs"][i]),
                             *(columns[name][i] for name in _PER_SET[2:]))
            for i in range(attrs["n_sets"]))
        return cls(**{name: attrs[name] for name in ("n", "d", "n_sets", "prob", "ci_low", "ci_high")},
                   results=results)

    def _summary(self) -> str:
        return (f"n={self.n}, d={self.d}; P(Δ > 0) = {self.prob:.3f} [{self.ci_low:.3f}, {self.ci_high:.3f}] over "
                f"{self.n_sets} training sets")


def prob_delta_positive(model: OneStepModel, n: int, n_sets: int = 200, seed=0, reference=None,
                        progress: bool = False) -> DeltaProbability:
    """``P(Delta > 0)`` over ``n_sets`` independent training sets (seeds spawned from ``seed``)."""
    n_sets = count("n_sets", n_sets)
    seeds = np.random.SeedSequence(seed).spawn(n_sets)
    res = tuple(relative_distance(model, n, seed=s, reference=reference)
                for s in tqdm(seeds, desc=f"P(Delta>0) n={n}", disable=not progress, leave=False))
    k = sum(r.delta.sign > 0 for r in res)
    ci = binomtest(k, n_sets).proportion_ci(method="wilson")
    return DeltaProbability(int(n), model.d, n_sets, k / n_sets, float(ci.low), float(ci.high), res)
