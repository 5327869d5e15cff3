"""``simulate``: Monte Carlo over draws of ``W``, the data and the noises of the real finite-size RF-DSM model."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from rfdsm.activations import load
from rfdsm.simulation.errors import population_errors
from rfdsm.simulation.gaussian import correlations
from rfdsm.simulation.ridge import averaged_moments, fit, sampled_moments, train_errors
from rfdsm.validate import count, noise_samples, positive

#: The errors ``simulate`` reports, in this order.
ERRORS = ("test", "train", "train_ridge", "score")


@dataclass(frozen=True)
class Simulation:
    """Means and standard errors over seeds of the four errors of MODELS.md §1, the per-seed values and the inputs.

    ``test``, ``train``, ``train_ridge``, ``score`` are means over seeds; ``*_se`` their standard errors
    (sample standard deviation / √seeds; NaN for one seed); ``per_seed[name]`` the values of each seed.
    ``n = round(ψn d)`` and ``p = round(ψp d)`` are the sizes actually simulated.
    """

    activation: str
    t: float
    d: int
    psi_n: float
    psi_p: float
    m: float
    lam: float
    seeds: int
    seed: int
    n: int
    p: int
    test: float
    test_se: float
    train: float
    train_se: float
    train_ridge: float
    train_ridge_se: float
    score: float
    score_se: float
    per_seed: dict = field(repr=False)


def sizes(d, psi_n, psi_p) -> tuple[int, int, int]:
    """``(d, n, p)`` with ``n = round(ψn d)``, ``p = round(ψp d)``, each at least 1."""
    d = count("d", d)
    n = round(positive("psi_n", psi_n) * d)
    p = round(positive("psi_p", psi_p) * d)
    if n < 1 or p < 1:
        raise ValueError(f"psi_n, psi_p: n = round(ψn d) = {n} and p = round(ψp d) = {p} must both be ≥ 1")
    return d, n, p


def draw(rng: np.random.Generator, d: int, n: int, p: int, m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``W`` (p×d), the data ``X`` (n×d) and the noises ``Z`` (n×m×d; ``None`` for ``m = ∞``), in this order."""
    W = rng.standard_normal((p, d))
    X = rng.standard_normal((n, d))
    Z = None if math.isinf(m) else rng.standard_normal((n, int(m), d))
    return W, X, Z


def one_draw(module, t: float, W: np.ndarray, X: np.ndarray, Z: np.ndarray | None, lam: float) -> dict[str, float]:
    """The four errors of the score trained on one draw (``Z = None``: ``m = ∞``)."""
    a, h = math.exp(-t), -math.expm1(-2.0 * t)
    q, gamma = correlations(W)
    if Z is None:
        moments = averaged_moments(module.rho, W, X, a, h, q, gamma)
    else:
        moments = sampled_moments(module.rho, W, X, Z, a, h)
    S = fit(moments, lam, overwrite=True)
    train, train_ridge = train_errors(moments, S, lam, h)
    test, score = population_errors(module, W, S, t, q, gamma)
    return {"test": test, "train": train, "train_ridge": train_ridge, "score": score}


def simulate(
    activation: str,
    t: float,
    d: int,
    psi_n: float,
    psi_p: float,
    m=1,
    lam: float = 1e-3,
    seeds: int = 10,
    *,
    seed: int = 0,
    progress: bool = True,
) -> Simulation:
    """Train the real random-features score on ``seeds`` independent draws and return its errors (MODELS.md §1).

    Each draw takes ``W ∈ R^{p×d}``, ``n`` data points ``x_i ~ N(0, I_d)`` and ``m`` noises per point
    (``p = round(ψp d)``, ``n = round(ψn d)``), trains ``B = −Vᵀ(U + λI)^{−1}`` by Cholesky, and evaluates

    - ``train``, ``train_ridge``: on the training set itself (``m = ∞``: exact expectation over the noises);
    - ``test``, ``score``: exact Gaussian expectations over the test point (kernel of the activation with the actual
      rows of ``W`` and Stein's lemma, see ``rfdsm.simulation.errors``), so the only randomness is that of the draw.

    Draw ``k`` uses the generator ``default_rng(SeedSequence(seed).spawn(seeds)[k])``: every run is reproducible and
    seed ``k`` gives the same ``W``, data and noises whatever ``seeds`` is.
    """
    module = load(activation)
    t = positive("t", t)
    d, n, p = sizes(d, psi_n, psi_p)
    m = noise_samples(m)
    lam = positive("lam", lam)
    seeds = count("seeds", seeds)
    seed = count("seed", seed, minimum=0)
    values = {name: np.empty(seeds) for name in ERRORS}
    children = np.random.SeedSequence(seed).spawn(seeds)
    for k in tqdm(range(seeds), desc=f"simulate ψp={psi_p:g}", disable=not progress, leave=False):
        errors = one_draw(module, t, *draw(np.random.default_rng(children[k]), d, n, p, m), lam)
        for name in ERRORS:
            values[name][k] = errors[name]
    summary = {}
    for name in ERRORS:
        summary[name] = float(values[name].mean())
        summary[f"{name}_se"] = float(values[name].std(ddof=1) / math.sqrt(seeds)) if seeds > 1 else math.nan
    return Simulation(activation, t, d, float(psi_n), float(psi_p), m, lam, seeds, seed, n, p, **summary, per_seed=values)
