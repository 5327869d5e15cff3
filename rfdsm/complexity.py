"""Sample complexity of RF-DSM, ``rfdsm.sample_complexity`` (the module is not named after the function, which would
shadow it in the package) (docs/manifolds.md): the least ``ψn = n/d`` at which the score error comes within a
target of its value with unlimited data.

The definition. For a data model, ``ε_score(ψn)`` is the learning curve at fixed ``t, ψp, m, λ`` and
``ε_∞ = lim_{ψn→∞} ε_score`` what the network (``p = ψp d`` features, ridge ``λ``) reaches with unlimited data. The
sample complexity is

    ψn* = min { ψn : ε_score(ψn) − ε_∞ ≤ target },

the excess over ``ε_∞`` rather than the score error itself, because ``ε_∞ > 0`` at finite ``ψp`` and depends on the
data: a target on ``ε_score`` would mix what the samples buy with what the features cannot represent. The target is
absolute (in units of the score error, which grows like ``1/h`` at small ``t``: choose it per ``t``).

The computation. ``ε_∞`` is the curve at ``ψn = LIMIT``: the excess falls like ``C/ψn``, so this shifts every excess by
about ``C/LIMIT``, ``1e-9`` of the excess at ``ψn = 1``. ``ψn*`` is bracketed on a grid of ``PER_DECADE`` points
a decade from ``psi_n_range[0]`` (the first grid point whose excess is at most the target, and the one before it) and
refined by bisection in ``log ψn`` to ``rtol``. The excess is not monotone in ``ψn`` (it peaks near the interpolation
threshold ``ψn ≈ ψp`` at small ridge), so "least" holds to the grid's resolution: an excursion below the target
narrower than a grid step can be missed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rfdsm.curves import learning_curve
from rfdsm.results import Result
from rfdsm.validate import noise_samples, positive

#: ψn standing for n → ∞.
LIMIT = 1e9
#: Grid points a decade in the bracketing scan.
PER_DECADE = 16


@dataclass(frozen=True, repr=False)
class SampleComplexity(Result):
    """``psi_n[i]``: the sample complexity ``ψn*`` of ``data[i]`` (the data models' ``repr``); ``limit[i]``: its
    ``ε_∞``; ``excess[i]``: ``ε_score(ψn*) − ε_∞`` (the target, to the bisection's tolerance)."""

    activation: str
    t: float
    psi_p: float
    m: float
    lam: float
    target: float
    data: tuple
    psi_n: np.ndarray
    limit: np.ndarray
    excess: np.ndarray

    def _dataset(self):
        import xarray as xr

        variables = {name: ("data", getattr(self, name)) for name in ("psi_n", "limit", "excess")}
        attrs = {name: getattr(self, name) for name in ("activation", "t", "psi_p", "m", "lam", "target")}
        return xr.Dataset(variables, coords={"data": list(self.data)}, attrs=attrs)

    @classmethod
    def _from_dataset(cls, data, attrs):
        fixed = {name: attrs[name] for name in ("activation", "t", "psi_p", "m", "lam", "target")}
        arrays = {name: data[name].values for name in ("psi_n", "limit", "excess")}
        return cls(**fixed, data=tuple(str(v) for v in data["data"].values), **arrays)

    def _summary(self) -> str:
        return (f"{self.activation}, t={self.t:g}, ψp={self.psi_p:g}, m={self.m:g}, λ={self.lam:g}, "
                f"target={self.target:g}; {len(self.data)} data models")


def sample_complexity(activation: str, t: float, psi_p: float, data, target: float, m=math.inf, lam: float = 1e-3,
                      *, psi_n_range=(1e-3, 1e6), rtol: float = 1e-6) -> SampleComplexity:
    """``ψn* = min {ψn : ε_score(ψn) − ε_∞ ≤ target}`` (module docstring) for ``data``, a data model of ``rfdsm.data``
    or a sequence of them, searched in ``psi_n_range``; the other arguments are ``learning_curve``'s. A target that is
    met at the lower end of the range, or not within it, raises ``ValueError`` naming the data model."""
    t, psi_p, lam = positive("t", t), positive("psi_p", psi_p), positive("lam", lam)
    target, rtol, m = positive("target", target), positive("rtol", rtol), noise_samples(m)
    low, high = (positive("psi_n_range", v) for v in psi_n_range)
    if not low < high < LIMIT:
        raise ValueError(f"psi_n_range: expected 0 < low < high < {LIMIT:g}, got {psi_n_range!r}")
    models = list(data) if isinstance(data, Sequence) else [data]
    grid = np.geomspace(low, high, 1 + math.ceil(PER_DECADE * math.log10(high / low)))

    def score(model, psi_n):
        return learning_curve(activation, t, psi_n, psi_p, m=m, lam=lam, data=model).score

    found = []
    for model in models:
        limit = float(score(model, LIMIT))
        excess = score(model, grid) - limit
        met = np.flatnonzero(excess <= target)
        if met.size == 0 or met[0] == 0:
            where = "not within" if met.size == 0 else "already at the lower end of"
            raise ValueError(f"target: {target:g} is {where} psi_n_range {psi_n_range} for {model!r} "
                             f"(excess {excess[0]:.3g} at ψn = {low:g}, {excess[-1]:.3g} at ψn = {high:g})")
        above, below = grid[met[0] - 1], grid[met[0]]
        while below / above - 1 > rtol:
            middle = math.sqrt(above * below)
            if score(model, middle) - limit <= target:
                below = middle
            else:
                above = middle
        found.append((below, limit, float(score(model, below)) - limit))
    psi_n, limits, excess = (np.array(column) for column in zip(*found))
    return SampleComplexity(activation, t, psi_p, m, lam, target, tuple(repr(model) for model in models), psi_n,
                            limits, excess)
