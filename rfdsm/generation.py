"""Generation with trained random-features scores and the memorised fraction of the samples (docs/models.md §1).

- ``train_scores``: one score ``s_t(y) = B_t ρ(W y/√d)`` per time of a grid, all on the same training set ``X`` and the
  same frozen ``W`` (fresh noises at each time; ``m = ∞`` by the exact noise average of ``rfdsm.simulation``).
- ``sample``: the reverse of the Ornstein–Uhlenbeck process ``dx = −x dt + √2 dB`` from ``t_max`` to ``t_min``,
  started from ``N(0, Σ_{t_max})``, ``Σ_t = a² Σ + h I`` (``P_{t_max}`` for Gaussian data, its Gaussian model for the
  others; ``N(0, I)`` for isotropic data, which is ``P_t`` at every ``t``). The reverse drifts are ``y + 2 s`` (SDE) and
  ``y + s`` (ODE); writing ``s = −y + r`` each step integrates the stationary part exactly and freezes ``r = s + y``
  (exponential integrator, first order in the step ``Δ``):

      reverse SDE:          y ← e^{−Δ} y + 2 (1 − e^{−Δ}) r + √(1 − e^{−2Δ}) ξ,
      probability-flow ODE: y ← y + Δ r,

  so the score of ``N(0, I)`` (``r = 0``) leaves it invariant at any step size. Features by the Numba ufunc, products
  by BLAS, the update by Numba.
- ``memorised_fraction``: a sample is memorised when ``‖y − x_(1)‖/‖y − x_(2)‖ < 1/3`` (nearest and second-nearest
  training points); the 95 % interval is a bootstrap over samples (resampling ``N`` indicators with replacement, i.e.
  ``Binomial(N, f̂)/N`` draws, percentile interval).

The samples are compared at ``t_min`` without denoising: a memorised sample sits at ``a x_i + O(√(h d))``, far inside the
1/3 ratio when ``h(t_min) ≪ 2/9``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.linalg.blas import dgemm
from tqdm.auto import tqdm

from rfdsm.activations import load
from rfdsm.results import Result
from rfdsm.simulation.expectations import correlations
from rfdsm.simulation.ridge import averaged_moments, features, fit, sampled_moments
from rfdsm.simulation.run import draw, generator, point, sizes
from rfdsm.validate import count, positive

#: Memorisation criterion on the nearest/second-nearest distance ratio.
THRESHOLD = 1.0 / 3.0


#: The scalars of a ``Generation`` (its inputs and the measured fraction), saved as attrs.
_FIXED = ("activation", "d", "psi_n", "psi_p", "m", "lam", "data", "ode", "seed", "fraction", "low", "high")


@dataclass(frozen=True, repr=False)
class Generation(Result):
    """Samples, their distance ratios and the memorised fraction with its bootstrap 95 % interval, the training set
    ``training``, plus the inputs (``data``: the ``repr`` of the data model)."""

    activation: str
    d: int
    psi_n: float
    psi_p: float
    m: float
    lam: float
    data: str
    ode: bool
    times: np.ndarray
    seed: int
    fraction: float
    low: float
    high: float
    ratios: np.ndarray
    samples: np.ndarray
    training: np.ndarray

    def _dataset(self):
        import xarray as xr

        variables = {"ratio": ("sample", self.ratios), "samples": (("sample", "dimension"), self.samples),
                     "training": (("datum", "dimension"), self.training)}
        return xr.Dataset(variables, coords={"time": self.times}, attrs={name: getattr(self, name) for name in _FIXED})

    @classmethod
    def _from_dataset(cls, data, attrs):
        fixed = {name: attrs[name] for name in _FIXED} | {"ode": bool(attrs["ode"])}
        return cls(**fixed, times=data["time"].values, ratios=data["ratio"].values, samples=data["samples"].values,
                   training=data["training"].values)

    def _summary(self) -> str:
        return (f"{self.activation}, d={self.d}, ψn={self.psi_n:g}, ψp={self.psi_p:g}, m={self.m:g}, λ={self.lam:g}, "
                f"{self.data}, {'ODE' if self.ode else 'SDE'}, {self.times.size} times, seed={self.seed}; {self.ratios.size} "
                f"samples, memorised {self.fraction:.3f} [{self.low:.3f}, {self.high:.3f}]")


def train_scores(module, W: np.ndarray, X: np.ndarray, times: np.ndarray, m: float, lam: float,
                 rng: np.random.Generator, progress: bool = False) -> np.ndarray:
    """``B_t`` (shape ``(len(times), d, p)``) of the score trained at each time on ``X`` with fresh noises."""
    n, d = X.shape
    out = np.empty((times.size, d, W.shape[0]))
    q, gamma = correlations(W)  # the same W at every time
    for k in tqdm(range(times.size), desc="train scores", disable=not progress, leave=False):
        a, h = math.exp(-times[k]), -math.expm1(-2.0 * times[k])
        if math.isinf(m):
            moments = averaged_moments(module.rho, W, X, a, h, q, gamma)
        else:
            moments = sampled_moments(module.rho, W, X, rng.standard_normal((n, int(m), d)), a, h)
        out[k] = -fit(moments, lam, overwrite=True).T
    return out


@njit(cache=True)
def _step(y, score, noise, delta, ode):
    """One step of the reverse process, in place (see the module docstring)."""
    shrink = 1.0 if ode else math.exp(-delta)
    drift = delta if ode else 2.0 * -math.expm1(-delta)
    spread = 0.0 if ode else math.sqrt(-math.expm1(-2.0 * delta))
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            residual = score[i, j] + y[i, j]
            y[i, j] = shrink * y[i, j] + drift * residual + spread * noise[i, j]


def sample(rho, W: np.ndarray, B: np.ndarray, times: np.ndarray, y: np.ndarray, rng: np.random.Generator,
           ode: bool = False) -> np.ndarray:
    """Run the reverse process from ``times[-1]`` down to ``times[0]`` (increasing grid), score ``B[k] ρ(W y/√d)``
    on ``[times[k], times[k+1]]`` taken at its upper end; ``y`` (samples × d) is updated in place and returned."""
    for k in range(times.size - 1, 0, -1):
        score = dgemm(1.0, B[k].T, features(rho, W, y), trans_a=1).T  # (B F)ᵀ, on the BLAS of the features
        noise = np.zeros_like(y) if ode else rng.standard_normal(y.shape)
        _step(y, score, noise, times[k] - times[k - 1], ode)
    return y


@njit(cache=True)
def _ratios(squared):
    """Nearest over second-nearest distance for every row of a (samples × data) matrix of squared distances."""
    out = np.empty(squared.shape[0])
    for i in range(squared.shape[0]):
        first = second = np.inf
        for j in range(squared.shape[1]):
            value = squared[i, j]
            if value < first:
                first, second = value, first
            elif value < second:
                second = value
        out[i] = math.sqrt(max(first, 0.0) / second)
    return out


def distance_ratios(samples: np.ndarray, data: np.ndarray) -> np.ndarray:
    """``‖y − x_(1)‖ / ‖y − x_(2)‖`` of every sample (squared distances by one GEMM)."""
    if data.shape[0] < 2:
        raise ValueError("data: the ratio needs at least two training points")
    squared = (samples**2).sum(1)[:, None] - 2.0 * samples @ data.T + (data**2).sum(1)[None, :]
    return _ratios(squared)


def memorised_fraction(ratios: np.ndarray, rng: np.random.Generator, bootstrap: int = 4000,
                       level: float = 0.95) -> tuple[float, float, float]:
    """Fraction of ratios below ``THRESHOLD`` and its bootstrap percentile interval: ``(fraction, low, high)``."""
    hits = int(np.count_nonzero(ratios < THRESHOLD))
    size = ratios.size
    resampled = rng.binomial(size, hits / size, bootstrap) / size
    tail = 50.0 * (1.0 - level)
    return hits / size, float(np.percentile(resampled, tail)), float(np.percentile(resampled, 100.0 - tail))


def generate(
    activation: str,
    d: int,
    psi_n: float,
    psi_p: float,
    m=math.inf,
    lam: float = 1e-3,
    samples: int = 500,
    *,
    data=None,
    steps: int = 40,
    t_min: float = 0.01,
    t_max: float = 2.0,
    ode: bool = False,
    seed: int = 0,
    progress: bool = False,
) -> Generation:
    """Draw ``W`` and ``n = round(ψn d)`` points of ``data`` (a data model of ``rfdsm.data``; default
    ``Isotropic()``), train a score at each of ``steps`` log-spaced times in ``[t_min, t_max]``, generate ``samples``
    points by the reverse SDE (``ode=True``: probability-flow ODE) and measure the memorised fraction (module
    docstring). The draw is keyed like a simulation's draw 0 (``SeedSequence(seed, spawn_key=(0, d))``): the same
    ``W`` and training set as ``simulate(..., seed=seed)``'s first draw."""
    t_min, t_max = positive("t_min", t_min), positive("t_max", t_max)
    if t_max <= t_min:
        raise ValueError(f"t_max: must exceed t_min = {t_min!r}, got {t_max!r}")
    where = point(activation, t_min, d, psi_n, psi_p, m, lam, data)
    module = load(activation)
    d, n, p = sizes(d, psi_n, psi_p)
    m, lam = where["m"], where["lam"]
    samples = count("samples", samples)
    steps = count("steps", steps, minimum=2)
    seed = count("seed", seed, minimum=0)
    rng = generator(seed, 0, d)
    W, law, X, _ = draw(rng, where["data"], d, n, p, math.inf)  # the noises are drawn at each time by train_scores
    times = np.geomspace(t_min, t_max, steps)
    B = train_scores(module, W, X, times, m, lam, rng, progress)
    values, basis = law.eigh()
    start = rng.standard_normal((samples, d)) * np.sqrt(math.exp(-2 * t_max) * values - math.expm1(-2 * t_max))
    y = sample(module.rho, W, B, times, start if basis is None else start @ basis.T, rng, ode)
    ratios = distance_ratios(y, X)
    fraction, low, high = memorised_fraction(ratios, rng)
    return Generation(activation, d, float(psi_n), float(psi_p), m, lam, repr(where["data"]), bool(ode), times, seed,
                      fraction, low, high, ratios, y, X)
