"""Gaussian data whose covariance has two eigenvalues (docs/data.md): the simplest anisotropic law."""

from __future__ import annotations

from rfdsm.data.gaussian import Gaussian
from rfdsm.validate import positive


class TwoAtoms(Gaussian):
    """Eigenvalues ``λ1`` with weight ``weight`` and ``λ2`` with weight ``1 − weight``, both scaled so that the mean is
    1 (``tr Σ/d = 1``, as the isotropic data): ``TwoAtoms(1, 3)`` has eigenvalues 0.5 and 1.5 in equal numbers. At
    dimension ``d`` the eigenvalues are the law's quantiles, about ``weight · d`` of them ``λ1``."""

    def __init__(self, l1: float, l2: float, *, weight: float = 0.5, seed: int = 0):
        l1 = positive("l1", l1, allow_zero=True)
        l2 = positive("l2", l2, allow_zero=True)
        weight = positive("weight", weight)
        if weight >= 1:
            raise ValueError(f"weight: must be < 1 (the weight of l1), got {weight!r}")
        mean = weight * l1 + (1 - weight) * l2
        if mean == 0:
            raise ValueError("l1: l1 and l2 are both zero (Σ = 0 is no data law)")
        self.l1, self.l2, self.weight = l1 / mean, l2 / mean, weight
        super().__init__([self.l1, self.l2], [weight, 1 - weight], seed=seed)

    def __repr__(self) -> str:
        return f"TwoAtoms({self.l1:.4g}, {self.l2:.4g}, weight={self.weight:g})"
