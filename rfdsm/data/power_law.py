"""Gaussian data with a power-law spectrum ``λ_ν ∝ ν^{−k}``, ``ν = 1 … d``, normalised to ``tr Σ/d = 1`` (docs/linear.md,
§7; seed 2505.24769).

The high-dimensional limit. With ``u = ν/d``, ``λ = (1 − k) u^{−k}`` up to ``O(d^{k−1})``: the spectral law converges
to that of ``(1 − k) U^{−k}``, ``U`` uniform on ``(0, 1)`` (a Pareto law of index ``1/k``, mean 1), if and only if
``k < 1``. The top eigenvalue ``λ_1 ≈ (1 − k) d^k`` grows with ``d`` for every ``k > 0``, but carries a vanishing
fraction ``d^{k−1}`` of ``tr Σ``, and the pre-activations ``w·y/√d`` of a random feature still concentrate (their
variance fluctuates by ``(tr Σ²)^{1/2}/d → 0``). At ``k = 1`` the normalising sum grows like ``log d`` and for
``k > 1`` it converges: a few top eigenvalues hold a finite fraction of the trace, the bulk law tends to ``δ_0``, and no
proportional limit exists; so ``k ≥ 1`` is refused. The law's variance is finite only for ``k < 1/2``: for
``1/2 ≤ k < 1`` the limit holds but the approach is slow (errors ``O(d^{k−1})``).

The limit law for the pencils (``spectrum()``). In ``v = U^k = (1 − k)/λ`` the size-biased law ``λ dμ(λ)`` is
``Beta(1/k − 1, 1)``, on which the functions the pencils average are smooth; its Gauss–Jacobi rule with ``atoms``
nodes, reweighted by ``1/λ``, gives atoms whose weights sum to 1 and whose mean is 1 exactly (both are polynomials of
degree ≤ 1 in ``v``), where equal-weight quantiles would lose the heavy tail.
"""

from __future__ import annotations

import numpy as np
from scipy.special import roots_jacobi

from rfdsm.data.gaussian import Gaussian
from rfdsm.validate import count, positive


class PowerLaw(Gaussian):
    """Eigenvalues ``λ_ν ∝ ν^{−k}`` (``0 ≤ k < 1``), mean 1; ``spectrum()`` has ``atoms`` atoms (module docstring),
    ``spectrum(d)`` the ``d`` eigenvalues themselves. ``k = 0`` is the isotropic law."""

    def __init__(self, k: float, *, atoms: int = 64, seed: int = 0):
        k = positive("k", k, allow_zero=True)
        if k >= 1:
            raise ValueError(f"k: must be < 1, got {k!r}: for k ≥ 1 the spectrum has no high-dimensional limit (the "
                             "top eigenvalues hold a finite fraction of tr Σ)")
        self.k = k
        self.atoms = count("atoms", atoms)
        if k == 0:
            super().__init__([1.0], seed=seed)
            return
        nodes, weights = roots_jacobi(self.atoms, 0.0, 1 / k - 2)
        values = (1 - k) / ((1 + nodes) / 2)
        super().__init__(values, weights / weights.sum() / values, seed=seed)

    def __repr__(self) -> str:
        return f"PowerLaw(k={self.k:g})"

    def eigenvalues(self, d: int) -> np.ndarray:
        """``ν^{−k}`` for ``ν = d … 1`` (increasing), divided by their mean."""
        values = np.arange(count("d", d), 0, -1, dtype=float) ** -self.k
        return values / values.mean()
