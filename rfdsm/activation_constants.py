"""Gaussian constants of an activation at diffusion time ``t`` (docs/models.md §2), from its generated module.

With ``g ~ N(0, 1)`` and the pre-activation variance ``q``: ``μ0 = E ρ(√q g)``, ``μ1 = E[g ρ(√q g)]``,
``‖ρ‖² = E ρ(√q g)²``, ``μ*² = ‖ρ‖² − μ0² − μ1²``, so that ``ρ(u) ≈ μ0 + μ1 u/√q + μ* ω`` (Gaussian equivalence).

At time ``t``, with ``a² = e^{−2t}``, ``h = −expm1(−2t)`` (``1 − a²`` without cancellation) and data of second moment
``second_moment = tr Σ/d``, two noisy copies ``a x + √h z``, ``a x + √h z'`` of one point have

    q = a² tr Σ/d + h,   γ_t = a² (tr Σ/d)/q,

a sum of positive terms and a ratio, exact to round-off at every ``t > 0`` (``1 − h/q`` lost every digit once ``h``
rounds to 1, from ``t ≈ 18.4``); ``κ = (c(γ_t) − μ0² − γ_t μ1²)/μ*²``, ``v² = μ*² κ``, ``s² = μ*² (1 − κ)`` with
``c(γ) = E[ρ(√q g) ρ(√q g')]``.

Accuracy. ``c``, ``μ0²`` and ``μ1²`` are each within ``ACCURACY ‖ρ‖²`` of their values (round-off of the closed forms,
or the certified quadrature error, derive/certify.py), so κ is within ``δκ = 3 ACCURACY ‖ρ‖²/μ*²``:

- ``μ*² ≤ 3 ACCURACY ‖ρ‖²``: no non-linear part can be told from round-off (the linear activation): ``κ = v² = s² = 0``;
- ``δκ > KAPPA_ACCURACY``: the non-linear part is too small against ``‖ρ‖²`` for κ in double precision (sigmoid at
  small ``q``, say): refused;
- a κ outside ``[0, 1]`` by at most ``δκ`` is round-off and clipped (κ ≈ 0 at large ``t``, ≈ 1 at small ``t``); by more,
  refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rfdsm.activations import load
from rfdsm.validate import positive

#: Bound on the errors of ``c(γ)``, ``μ0²``, ``μ1²``, relative to ``‖ρ‖²`` (derive/certify.py, TOLERANCE).
ACCURACY = 1e-13
#: Largest error bound ``δκ`` accepted.
KAPPA_ACCURACY = 1e-8


@dataclass(frozen=True)
class Constants:
    """The Gaussian constants of ``activation`` at time ``t`` for data of second moment ``second_moment = tr Σ/d``:
    the pre-activation variance ``q``, the correlation ``gamma`` of two noisy copies, and the rest (module docstring).
    """

    activation: str
    t: float
    second_moment: float
    q: float
    gamma: float
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


def constants(activation: str, t: float, second_moment: float = 1.0) -> Constants:
    """``q, γ_t, μ0, μ1, ‖ρ‖², μ*², κ, v², s²`` of ``activation`` at time ``t > 0`` for data with ``tr Σ/d =
    second_moment > 0``; ``ValueError`` naming the argument where they cannot be given to the accuracy stated in the
    module docstring."""
    module = load(activation)
    t = positive("t", t)
    second_moment = positive("second_moment", second_moment)
    a2, h = math.exp(-2 * t), -math.expm1(-2 * t)
    q = a2 * second_moment + h
    gamma_t = a2 * second_moment / q
    where = f"q = a² tr Σ/d + h = {q:.6g} (t = {t:g}, second_moment = {second_moment:g})"
    if not module.Q_MIN <= q <= module.Q_MAX:
        raise ValueError(f"second_moment: the pre-activation variance {where} lies outside [{module.Q_MIN:g}, "
                         f"{module.Q_MAX:g}], where the constants of {activation} are certified")
    mu0, mu1, norm2 = (float(v) for v in module.moments(q))
    mustar2 = norm2 - mu0**2 - mu1**2
    if mustar2 <= 3 * ACCURACY * norm2:
        return Constants(activation, t, second_moment, q, gamma_t, mu0, mu1, norm2, 0.0, 0.0, 0.0, 0.0)
    bound = 3 * ACCURACY * norm2 / mustar2
    if bound > KAPPA_ACCURACY:
        argument = "activation" if second_moment == 1 else "second_moment"
        raise ValueError(
            f"{argument}: at {where} the non-linear part of {activation} is μ*² = {mustar2 / norm2:.2g} ‖ρ‖², too "
            f"small to give κ to {KAPPA_ACCURACY:g} in double precision (error bound {bound:.1e})"
        )
    kappa = (float(module.kernel(gamma_t, q, q)) - mu0**2 - gamma_t * mu1**2) / mustar2
    if not -bound <= kappa <= 1 + bound:
        raise ValueError(
            f"activation: κ = {kappa!r} of {activation} at {where} lies outside [0, 1] by more than its error bound "
            f"{bound:.1e}: its constants are not accurate there"
        )
    kappa = min(1.0, max(0.0, kappa))
    v2 = mustar2 * kappa
    return Constants(activation, t, second_moment, q, gamma_t, mu0, mu1, norm2, mustar2, kappa, v2, mustar2 - v2)
