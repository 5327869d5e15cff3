"""Theory versus simulation: simulated errors at several sizes ``d`` next to the asymptotic learning curve.

``compare`` simulates every ``(d, ψp)`` (``rfdsm.sweep``) on a data model and evaluates the theory (any function with
the signature ``learning_curve(activation, t, psi_n, psi_p, m=math.inf, lam=1e-3, *, data=None)`` returning arrays
``.test``, ``.train``, ``.train_ridge``, ``.score``; by default ``rfdsm.learning_curve``). Deviations are reported
in units of the standard error over seeds, ``z = (simulated − theory)/se``, at each size and for the finite-size
extrapolation

    ε(d) − ε_d = δ_∞ + c₁/d [+ c₂/d²]   (weighted least squares over the sizes, weights 1/se²),   ε_∞ = theory + δ_∞,

with the ``1/d²`` term when three or more sizes are given. ``ε_d`` is the theory on the spectral law that the
simulation at size ``d`` actually draws, ``data.spectrum(d)`` (its deterministic equivalent, ``O(1/d)`` from the
simulated mean); it is the limit curve itself for isotropic data and for laws whose ``d`` quantiles are the limit's
atoms (two atoms at even ``d``). For a power law it is not: its ``d`` eigenvalues ``ν^{−k}`` approach the limit law
only like ``d^{k−1}`` (a test error off by 0.010 at ψp = 2, k = 0.3, d = 100; 0.05 at k = 0.5), a slow approach that a
fit in ``1/d`` cannot remove but the theory at each ``d`` takes exactly. The simulated means carry ``O(1/d)`` finite-size
corrections while their standard errors, thanks to the exact expectations over test points (and over noises for
``m = ∞``), also shrink like ``1/d``: at one size the ratio of the two does not go to zero as ``d`` grows, only with
more seeds. The second-order term is not a luxury: at m = ∞, ψp = 8 (tanh, t = 0.3, ψn = 1) the deviation of the
train error is 0.0069, 0.0044, 0.0024, 0.0011 at d = 100, 200, 400, 800, i.e. ≈ 1.0/d − 30/d², and a straight
line through d = 100 and 400 misses its intercept by 5 standard errors (benchmarks/agreement.txt).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rfdsm.curves import learning_curve
from rfdsm.data import Gaussian, Isotropic
from rfdsm.results import Result
from rfdsm.runner import sweep
from rfdsm.validate import count, noise_samples, positive, positive_array

#: The errors compared. For Gaussian data the score error is ``(ε_test − C_t)/h`` on both sides; for other data (a
#: non-linear manifold, images) it is measured against the Gaussian model's score and tested on its own.
COMPARED = ("test", "train", "train_ridge", "score")
#: The arrays of a ``Comparison``, per error: their dimensions.
_FIXED = ("activation", "t", "psi_n", "m", "lam", "data", "seeds", "seed")
_ARRAYS = {"theory": ("psi_p",), "theory_d": ("d", "psi_p"), "mean": ("d", "psi_p"), "se": ("d", "psi_p"), "extrapolated": ("psi_p",),
           "extrapolated_se": ("psi_p",)}


@dataclass(frozen=True, repr=False)
class Comparison(Result):
    """Simulated means/standard errors ``[error][size, ψp]``, theory ``[error][ψp]`` in the limit and ``theory_d
    [error][size, ψp]`` on the spectrum of each size, extrapolation and z-scores (module docstring)."""

    activation: str
    t: float
    psi_n: float
    psi_p: np.ndarray
    m: float
    lam: float
    data: str
    sizes: tuple
    seeds: int
    seed: int
    theory: dict
    theory_d: dict
    mean: dict
    se: dict
    extrapolated: dict
    extrapolated_se: dict

    def z(self, error: str) -> np.ndarray:
        """``(simulated − theory at that size)/se`` at every size and ψp, shape ``(len(sizes), len(psi_p))``."""
        return (self.mean[error] - self.theory_d[error]) / self.se[error]

    def z_extrapolated(self, error: str) -> np.ndarray:
        """``(ε_∞ − theory)/se(ε_∞)`` of the extrapolation to ``d = ∞`` at every ψp."""
        return (self.extrapolated[error] - self.theory[error]) / self.extrapolated_se[error]

    def _dataset(self):
        import xarray as xr

        variables = {f"{error}_{kind}": (dims, getattr(self, kind)[error])
                     for error in COMPARED for kind, dims in _ARRAYS.items()}
        attrs = {name: getattr(self, name) for name in _FIXED}
        return xr.Dataset(variables, coords={"d": list(self.sizes), "psi_p": self.psi_p}, attrs=attrs)

    @classmethod
    def _from_dataset(cls, data, attrs):
        arrays = {kind: {error: data[f"{error}_{kind}"].values for error in COMPARED} for kind in _ARRAYS}
        return cls(**{name: attrs[name] for name in _FIXED},
                   psi_p=data["psi_p"].values, sizes=tuple(data["d"].values.tolist()), **arrays)

    def _summary(self) -> str:
        worst = max(float(np.max(np.abs(self.z_extrapolated(e)))) for e in COMPARED)
        return (f"{self.activation}, t={self.t:g}, ψn={self.psi_n:g}, m={self.m:g}, λ={self.lam:g}, {self.data}, "
                f"seed={self.seed}; "
                f"{self.psi_p.size} ψp × d = {', '.join(map(str, self.sizes))}, {self.seeds} draws; "
                f"largest |z| after extrapolation {worst:.2f}")

    def table(self) -> str:
        """One line per ψp: theory, simulation ± se and z at each size, extrapolation and its z (test error first)."""
        lines = [f"{self.activation}, t = {self.t:g}, ψn = {self.psi_n:g}, m = {self.m:g}, λ = {self.lam:g}, "
                 f"{self.data}, {self.seeds} seeds, d = {', '.join(map(str, self.sizes))}"]
        for error in COMPARED:
            lines.append(f"  {error}:")
            z, zx = self.z(error), self.z_extrapolated(error)
            for j, x in enumerate(self.psi_p):
                cells = "  ".join(
                    f"d={d}: {self.mean[error][i, j]:.6g}±{self.se[error][i, j]:.2g} (z={z[i, j]:+.1f})"
                    for i, d in enumerate(self.sizes)
                )
                lines.append(f"    ψp={x:<6g} theory {self.theory[error][j]:.6g}  {cells}  "
                             f"1/d→0: {self.extrapolated[error][j]:.6g}±{self.extrapolated_se[error][j]:.2g} "
                             f"(z={zx[j]:+.1f})")
        return "\n".join(lines)


def extrapolate(sizes, mean: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares fit ``mean[i] = ε_∞ + Σ_k c_k/d_i^k`` (``k ≤ 1`` for two sizes, ``k ≤ 2`` for more;
    weights ``1/se²``) at every column: ``(ε_∞, se(ε_∞))``."""
    x = 1.0 / np.asarray(sizes, dtype=float)
    powers = np.vander(x, min(len(x), 3), increasing=True)  # columns 1, 1/d[, 1/d²]
    out, out_se = np.empty(mean.shape[1]), np.empty(mean.shape[1])
    for j in range(mean.shape[1]):
        design = powers / se[:, j, None]
        out[j] = np.linalg.lstsq(design, mean[:, j] / se[:, j], rcond=None)[0][0]
        # se(ε_∞)² = [(DᵀD)^{-1}]_00 = ‖row 0 of D⁺‖² (the SVD behind lstsq; no normal equations)
        out_se[j] = float(np.linalg.norm(np.linalg.pinv(design)[0]))
    return out, out_se


def compare(
    activation: str,
    t: float,
    psi_n: float,
    psi_p,
    m=math.inf,
    lam: float = 1e-3,
    sizes=(100, 200, 300, 400),
    seeds: int = 10,
    *,
    data=None,
    theory=None,
    seed: int = 0,
    client=None,
    records=None,
    progress: bool = False,
) -> Comparison:
    """Simulate at every size in ``sizes`` and every ``ψp`` on the data model ``data`` (default ``Isotropic()``) and
    set the results against ``theory`` (module docstring).

    Every ``ψn d`` and ``ψp d`` must be an integer: a rounded count would shift the simulated point off the curve
    by a systematic ``O(1/d)`` (at ψp = 0.25, d = 150 gives p = 38, ψp = 0.2533, and moved the m = ∞ test error by
    11 standard errors). The draws run through ``rfdsm.sweep`` — here in order, or on the Dask ``client``, streamed
    to the ``records`` file and resumed from it — and are keyed by ``(seed, draw, d)``: reproducible, and independent
    across sizes (the fit over sizes assumes independent errors).
    """
    t = positive("t", t)
    psi_n = positive("psi_n", psi_n)
    psi_p = positive_array("psi_p", psi_p).ravel()
    m = noise_samples(m)
    lam = positive("lam", lam)
    sizes = tuple(count("sizes", d) for d in np.atleast_1d(sizes).tolist())
    if len(set(sizes)) < 2:
        raise ValueError(f"sizes: need at least two different sizes d for the 1/d extrapolation, got {sizes!r}")
    seeds = count("seeds", seeds, minimum=2)
    seed = count("seed", seed, minimum=0)
    for d in sizes:
        for name, ratios in (("psi_n", [psi_n]), ("psi_p", psi_p)):
            for ratio in ratios:
                if abs(ratio * d - round(ratio * d)) > 1e-9 * ratio * d:
                    raise ValueError(
                        f"{name}: {ratio:g} × d = {ratio * d:g} is not a whole number at d = {d}, so the simulation "
                        f"would run at {round(ratio * d)}/{d} = {round(ratio * d) / d:.4g}, not at {ratio:g}: choose "
                        "sizes at which every ψ d is an integer"
                    )
    theory = learning_curve if theory is None else theory
    data = Isotropic() if data is None else data
    limit = _errors(theory(activation, t, psi_n, psi_p, m=m, lam=lam, data=data))
    at_size = [limit if np.array_equal(data.spectrum(d), data.spectrum()) else
               _errors(theory(activation, t, psi_n, psi_p, m=m, lam=lam, data=Gaussian(*data.spectrum(d).T)))
               for d in sizes]
    runs = sweep(activation, t, sizes, psi_n, psi_p, m, lam, seeds, data=data, seed=seed, client=client,
                 records=records, progress=progress)
    theory_d, mean, se, extrapolated, extrapolated_se = {}, {}, {}, {}, {}
    for e in COMPARED:
        theory_d[e] = np.stack([errors[e] for errors in at_size])
        # axes of the sweep: activation, t, d, ψn, ψp, m, λ (one value but d and ψp)
        mean[e], se[e] = (x[0, 0, :, 0, :, 0, 0] for x in runs.mean(e))
        deviation, extrapolated_se[e] = extrapolate(sizes, mean[e] - theory_d[e], se[e])
        extrapolated[e] = limit[e] + deviation
    return Comparison(activation, t, psi_n, psi_p, m, lam, runs.data, sizes, seeds, seed, limit, theory_d, mean, se,
                      extrapolated, extrapolated_se)


def _errors(curve) -> dict:
    """The compared errors of a learning curve, as arrays over ψp."""
    return {e: np.asarray(getattr(curve, e), dtype=float) for e in COMPARED}
