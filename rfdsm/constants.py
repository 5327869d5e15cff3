"""Gaussian constants of an activation at diffusion time ``t`` (MODELS.md §2), from its generated module.

With ``g ~ N(0, 1)`` and the pre-activation variance ``q``: ``μ0 = E ρ(√q g)``, ``μ1 = E[g ρ(√q g)]``,
``‖ρ‖² = E ρ(√q g)²``, ``μ*² = ‖ρ‖² − μ0² − μ1²``, so that ``ρ(u) ≈ μ0 + μ1 u/√q + μ* ω`` (Gaussian equivalence).
Two noisy copies of one point share the correlation ``γ_t = 1 − h/q`` (``h = 1 − e^{−2t}``; ``γ_t = a²`` at ``q = 1``),
and ``κ = (c(γ_t) − μ0² − γ_t μ1²)/μ*²``, ``v² = μ*² κ``, ``s² = μ*² (1 − κ)`` with ``c(γ) = E[ρ(√q g) ρ(√q g')]``.
For an activation with no non-linear part (``μ*² = 0``, the linear one) ``κ`` is set to 0 and ``v² = s² = 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rfdsm.activations import load
from rfdsm.validate import positive

#: ``μ*²`` below this fraction of ``‖ρ‖²`` is round-off of an activation that is linear (no non-linear part).
_LINEAR = 1e-13


@dataclass(frozen=True)
class Constants:
    """The Gaussian constants of ``activation`` at time ``t`` and pre-activation variance ``q``."""

    activation: str
    t: float
    q: float
    mu0: float
    mu1: float
    norm2: float
    mustar2: float
    kappa: float
    v2: float
    s2: float

    @property
    def a2(self) -> float:
        """``a² = e^{−2t}``, the test error of the exact score on isotropic data (the baseline)."""
        return math.exp(-2 * self.t)

    @property
    def h(self) -> float:
        """``h = 1 − e^{−2t}``, the variance of the noise added by time ``t``."""
        return -math.expm1(-2 * self.t)


def constants(activation: str, t: float, q: float = 1.0) -> Constants:
    """``μ0, μ1, ‖ρ‖², μ*², κ, v², s²`` of ``activation`` at time ``t > 0`` and pre-activation variance ``q > h``."""
    module = load(activation)
    t = positive("t", t)
    q = positive("q", q)
    h = -math.expm1(-2 * t)
    if q <= h:
        raise ValueError(f"q: the pre-activation variance must exceed h = 1 − e^(−2t) = {h:.6g} at t = {t:g}, got {q!r}")
    gamma_t = 1.0 - h / q
    mu0, mu1, norm2 = (float(v) for v in module.moments(q))
    mustar2 = norm2 - mu0**2 - mu1**2
    if mustar2 <= _LINEAR * norm2:
        mustar2 = kappa = v2 = 0.0
    else:
        v2 = module.kernel(gamma_t, q, q) - mu0**2 - gamma_t * mu1**2
        kappa = v2 / mustar2
    return Constants(activation, t, q, mu0, mu1, norm2, mustar2, kappa, v2, mustar2 - v2)
