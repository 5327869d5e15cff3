"""``simulate``: Monte Carlo over draws of ``W``, the data and the noises of the real finite-size RF-DSM model.

One draw is one pure unit: ``draw_errors(point, seed, index)`` gives the same record whether it runs alone, in a loop
or on another machine, because its random numbers come from ``SeedSequence(seed, spawn_key=(index, d))`` (the key of
the draw: seed, draw index, size). The other parameters (ψn, ψp, t, m, λ, the data model) are not in the key, so the
draws of a grid share their random numbers across those (common random numbers: smoother curves, the same W prefix at
every ψp).

The data come from a data model of ``rfdsm.data`` (``data=``, default ``Isotropic()``): each draw realises its law at
size ``d`` (``data.realise``: a manifold draws its ``M`` there) and samples the training set from it. A point carries
the data model itself (for the draws) and a record its ``repr`` (for files and keys).
Aggregation (means and standard errors over draws) is a separate step, ``aggregate``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from rfdsm.activations import load
from rfdsm.data import Isotropic
from rfdsm.results import Result
from rfdsm.simulation.errors import population_errors
from rfdsm.simulation.expectations import correlations
from rfdsm.simulation.ridge import averaged_moments, fit, sampled_moments, train_errors
from rfdsm.validate import count, noise_samples, positive

#: The errors of one draw, in this order.
ERRORS = ("test", "train", "train_ridge", "score")
#: The parameters of a simulated point, in this order.
PARAMETERS = ("activation", "t", "d", "psi_n", "psi_p", "m", "lam")
#: What the draws of one simulated point share: the parameters, the data model (its ``repr``) and the seed.
FIXED = (*PARAMETERS, "data", "seed")


def point(activation: str, t, d, psi_n, psi_p, m=math.inf, lam=1e-3, data=None) -> dict:
    """The checked parameters of a simulated point, as a dict keyed by ``PARAMETERS`` and ``"data"`` (the data model;
    ``None``: ``Isotropic()``)."""
    load(activation)
    d, n, p = sizes(d, psi_n, psi_p)
    m = noise_samples(m)
    check_memory(d, n, p, m)
    data = Isotropic() if data is None else data
    if not callable(getattr(data, "realise", None)):
        raise ValueError(f"data: expected a data model of rfdsm.data (Isotropic(), PowerLaw(k), …), got {data!r}")
    return {"activation": activation, "t": positive("t", t), "d": d, "psi_n": float(psi_n), "psi_p": float(psi_p),
            "m": m, "lam": positive("lam", lam), "data": data}


def record_key(record: dict) -> tuple:
    """The identity of a draw's record: its parameters, the ``repr`` of its data model, its seed and its index."""
    data = record["data"] if isinstance(record["data"], str) else repr(record["data"])
    return (*(record[name] for name in PARAMETERS), data, record["seed"], record["index"])


def memory(d: int, n: int, p: int, m: float) -> int:
    """Bytes a draw holds at its peak, in doubles: ``W``, ``X``, the noises and the features of the ``n m`` noisy points
    (``m`` finite) or, for ``m = ∞``, the means ``μ``, one order of the Hermite coefficients and the points sorted by
    node (3.5 p × n), the p × p matrices (``U`` or the Mehler sums, the kernel ``K``, the correlations ``Γ``) and ``S``
    (256 MB at d = 1000, n = p = 2000, m = ∞; measured, the resident size grew by 224 MB past W and X)."""
    points = 3.5 * p * n if math.isinf(m) else n * int(m) * (d + p)
    return int(8 * (p * d + n * d + points + 3 * p * p + p * d))


def check_memory(d: int, n: int, p: int, m: float) -> None:
    """``ValueError`` naming ``d`` if a draw needs more memory than this machine has."""
    need = memory(d, n, p, m)
    have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if need > have:
        raise ValueError(f"d: a draw at d = {d}, n = {n}, p = {p}, m = {m:g} needs {need / 2**30:.1f} GiB; this machine "
                         f"has {have / 2**30:.1f} GiB")


def sizes(d, psi_n, psi_p) -> tuple[int, int, int]:
    """``(d, n, p)`` with ``n = round(ψn d)``, ``p = round(ψp d)``, each at least 1."""
    d = count("d", d)
    n = round(positive("psi_n", psi_n) * d)
    p = round(positive("psi_p", psi_p) * d)
    if n < 1 or p < 1:
        raise ValueError(f"psi_n, psi_p: n = round(ψn d) = {n} and p = round(ψp d) = {p} must both be ≥ 1")
    return d, n, p


def generator(seed: int, index: int, d: int) -> np.random.Generator:
    """The generator of draw ``index`` at size ``d``: ``default_rng(SeedSequence(seed, spawn_key=(index, d)))``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index, d)))


def draw(rng: np.random.Generator, data, d: int, n: int, p: int, m: float):
    """``W`` (p×d), the law of ``data`` at size ``d``, its training set ``X`` (n×d) and the noises ``Z`` (n×m×d;
    ``None`` for ``m = ∞``), drawn from ``rng`` in this order."""
    W = rng.standard_normal((p, d))
    law = data.realise(rng, d)
    X = law.sample(rng, n)
    Z = None if math.isinf(m) else rng.standard_normal((n, int(m), d))
    return W, law, X, Z


def one_draw(module, t: float, W: np.ndarray, law, X: np.ndarray, Z: np.ndarray | None, lam: float,
             rng: np.random.Generator) -> dict[str, float]:
    """The four errors of the score trained on one draw (``Z = None``: ``m = ∞``); ``rng`` draws the test points when
    the errors are not exact expectations (``law.gaussian`` false)."""
    a, h = math.exp(-t), -math.expm1(-2.0 * t)
    q, gamma = correlations(W)
    if Z is None:
        moments = averaged_moments(module.rho, W, X, a, h, q, gamma)
    else:
        moments = sampled_moments(module.rho, W, X, Z, a, h)
    S = fit(moments, lam, overwrite=True)
    train, train_ridge = train_errors(moments, S, lam, h)
    test, score = population_errors(module, W, S, t, q, gamma, law, rng)
    return {"test": test, "train": train, "train_ridge": train_ridge, "score": score}


def draw_errors(point: dict, seed: int, index: int) -> dict:
    """The record of draw ``index`` at ``point`` (a dict from ``point(...)``): the point (its data model as its
    ``repr``), ``seed``, ``index`` and the four errors. A pure function of its arguments."""
    d, n, p = sizes(point["d"], point["psi_n"], point["psi_p"])
    rng = generator(seed, index, d)
    W, law, X, Z = draw(rng, point["data"], d, n, p, point["m"])
    errors = one_draw(load(point["activation"]), point["t"], W, law, X, Z, point["lam"], rng)
    return {**point, "data": repr(point["data"]), "seed": seed, "index": index, **errors}


def mean_and_se(values: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean over ``axis`` and its standard error ``std(ddof=1)/√count`` (NaN for one value)."""
    values = np.asarray(values, dtype=float)
    size = values.shape[axis]
    if size < 2:
        return values.mean(axis=axis), np.full_like(values.mean(axis=axis), math.nan)
    return values.mean(axis=axis), values.std(axis=axis, ddof=1) / math.sqrt(size)


@dataclass(frozen=True, repr=False)
class Simulation(Result):
    """Means and standard errors over draws of the four errors of docs/models.md §1, the per-draw values and the inputs.

    ``test``, ``train``, ``train_ridge``, ``score`` are means over draws; ``*_se`` their standard errors
    (sample standard deviation / √seeds; NaN for one seed); ``per_seed[name]`` the values of each draw.
    ``n = round(ψn d)`` and ``p = round(ψp d)`` are the sizes actually simulated; ``data`` is the ``repr`` of the data
    model. Made by ``aggregate``.
    """

    activation: str
    t: float
    d: int
    psi_n: float
    psi_p: float
    m: float
    lam: float
    data: str
    seed: int
    seeds: int
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
    per_seed: dict

    def _dataset(self):
        import xarray as xr

        variables = {name: ("draw", np.asarray(self.per_seed[name], dtype=float)) for name in ERRORS}
        fixed = {name: getattr(self, name) for name in FIXED}
        return xr.Dataset(variables, coords={"draw": np.arange(self.seeds)}, attrs=fixed)

    @classmethod
    def _from_dataset(cls, data, attrs):
        return _summarise({name: attrs[name] for name in FIXED},
                          {name: data[name].values for name in ERRORS})

    def _summary(self) -> str:
        return (f"{self.activation}, t={self.t:g}, d={self.d}, ψn={self.psi_n:g}, ψp={self.psi_p:g}, m={self.m:g}, "
                f"λ={self.lam:g}, {self.data}, seed={self.seed}; {self.seeds} draws; "
                f"test {self.test:.6g} ± {self.test_se:.2g}")


def _summarise(fixed: dict, per_seed: dict) -> Simulation:
    """The ``Simulation`` of per-draw values ``per_seed[error]`` at the parameters and seed ``fixed``."""
    summary = {}
    for name in ERRORS:
        summary[name], summary[f"{name}_se"] = (float(x) for x in mean_and_se(per_seed[name]))
    _, n, p = sizes(fixed["d"], fixed["psi_n"], fixed["psi_p"])
    return Simulation(**fixed, seeds=len(per_seed[ERRORS[0]]), n=n, p=p, **summary, per_seed=per_seed)


def aggregate(records: list[dict]) -> Simulation:
    """The ``Simulation`` of the records of one point (all with the same parameters and seed), in draw order."""
    if any(record[name] != records[0][name] for record in records for name in FIXED):
        raise ValueError("records: aggregate takes the draws of one point and one seed")
    ordered = sorted(records, key=lambda record: record["index"])
    return _summarise({name: records[0][name] for name in FIXED},
                      {name: np.array([record[name] for record in ordered]) for name in ERRORS})


def simulate(
    activation: str,
    t: float,
    d: int,
    psi_n: float,
    psi_p: float,
    m=math.inf,
    lam: float = 1e-3,
    seeds: int = 10,
    *,
    data=None,
    seed: int = 0,
    progress: bool = False,
) -> Simulation:
    """Train the real random-features score on ``seeds`` independent draws and return its errors (docs/models.md §1).

    Each draw takes ``W ∈ R^{p×d}``, ``n`` data points from ``data`` (a data model of ``rfdsm.data``; default
    ``Isotropic()``, ``x_i ~ N(0, I_d)``) and ``m`` noises per point (``p = round(ψp d)``, ``n = round(ψn d)``), trains
    ``B = −Vᵀ(U + λI)^{−1}`` by Cholesky, and evaluates

    - ``train``, ``train_ridge``: on the training set itself (``m = ∞``: exact expectation over the noises);
    - ``test``, ``score``: for Gaussian data, exact Gaussian expectations over the test point ``y ~ N(0, Σ_t)`` (kernel
      of the activation with the rows of ``W Σ_t^{1/2}`` and Stein's lemma, see ``rfdsm.simulation.errors``), so the
      only randomness is that of the draw; for other data, means over ``TEST_POINTS`` test points of the data.

    Draw ``k`` is ``draw_errors(point, seed, k)``, keyed by ``(seed, k, d)``: every run is reproducible, and draw ``k``
    is the same whatever ``seeds`` is and wherever it runs. For many points or a Dask cluster, see ``rfdsm.sweep``.
    """
    where = point(activation, t, d, psi_n, psi_p, m, lam, data)
    seeds = count("seeds", seeds)
    seed = count("seed", seed, minimum=0)
    records = [draw_errors(where, seed, k) for k in tqdm(range(seeds), desc=f"simulate ψp={psi_p:g}",
                                                          disable=not progress, leave=False)]
    return aggregate(records)
