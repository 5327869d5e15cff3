"""Certify the Gaussian constants of an activation over a grid of pre-activation variances ``q``, before its module is
written: the range found becomes ``Q_MIN, Q_MAX`` of the module, whose functions refuse any ``q`` outside it.

Quadrature (derive/quadrature.py): at every ``q`` of ``GRID`` the moments, the Hermite coefficients up to
``HERMITE_ORDER`` and the kernel at the correlations ``GAMMAS`` are computed with the module's rule and with
``REFERENCE``, a finer rule of the same family (more nodes a panel, a wider interval, the grading carried ``FINER``
times deeper); their difference, relative to ``‖ρ‖²`` (to ``√‖ρ‖²`` for first moments and Hermite
coefficients ``c_k/√k!``), is the error estimate. Both rules take their nodes from the same compiled ``gaussian_rule``
as the module; only the sums are redone here, with NumPy.

Closed forms: at every ``q`` the constants must be finite and satisfy ``K(1, q, q) = ‖ρ‖²`` and ``K(0, q, q) = μ0²``.

The certified range is the longest run of ``GRID`` around ``q = 1`` where every check passes. An activation is refused
(``ValueError``, nothing written) unless that range contains ``REQUIRED``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derive import gaussian_constants, quadrature
from derive.activations import Activation, gamma, q1, q2, x

#: Largest error estimate accepted (relative to ‖ρ‖², or to √‖ρ‖² for first moments and Hermite coefficients).
TOLERANCE = 1e-13
#: The Hermite coefficients ``c_k/√k!`` only ever enter the simulator's Mehler sums, as ``c_k c_k' γ^k/k!`` with
#: ``|γ| ≤ 3/4`` (rfdsm/simulation/expectations.py, GAMMA_MAX); their errors are weighted by ``(3/4)^k`` accordingly (high
#: orders lose digits to the size of ``He_k`` at the nodes: 1e-12 at k = 100 unweighted).
MEHLER_GAMMA = 0.75
#: The pre-activation variances checked: every decade from 1e-8 to 1e8.
GRID = 10.0 ** np.arange(-8, 9)
#: The least certified range an activation needs: the theory's ``q = 1`` (``tr Σ/d = 1``) and the simulator's
#: ``q_k = ‖w_k‖²/d`` at ``d ≥ 50``.
REQUIRED = (0.1, 10.0)
#: Correlations at which kernels are checked (``q1 = q2 = q``; the last pair is ``(q, 2q)``).
GAMMAS = (-1.0, -0.6, 0.5, 0.95, 0.9999, 1.0)
#: The finer rule of the error estimate, and how much deeper it grades toward the activation's kink.
REFERENCE = (*np.polynomial.legendre.leggauss(24), quadrature.PANEL_WIDTH, quadrature.HALF_WIDTH + 2)
FINER = 1 / 16


@dataclass(frozen=True)
class Certificate:
    """Where an activation's constants are certified, ``q_min ≤ q ≤ q_max``, and the largest error estimate there
    relative to ``‖ρ‖²`` (closed forms: the largest residual of the kernel identities)."""

    q_min: float
    q_max: float
    error: float


def certify(act: Activation) -> Certificate:
    """The certified range of ``act`` (module docstring), found by walking ``GRID`` outwards from ``q = 1`` to the
    first failure on each side; ``ValueError`` naming the activation if it does not contain ``REQUIRED``."""
    error = _closed_form_error(act) if act.exact else _quadrature_error(act)
    centre = int(np.argmin(np.abs(np.log(GRID))))
    errors = {centre: error(GRID[centre])}
    failure = None if errors[centre] <= 1 else (GRID[centre], errors[centre])
    ends = [centre, centre]
    for side, step, stop in ((0, -1, 0), (1, 1, GRID.size - 1)):
        while failure is None and ends[side] != stop:
            q, value = GRID[ends[side] + step], error(GRID[ends[side] + step])
            if value > 1:
                short = GRID[ends[side]] > REQUIRED[0] if side == 0 else GRID[ends[side]] < REQUIRED[1]
                failure = (q, value) if short else None
                break
            ends[side] += step
            errors[ends[side]] = value
    if failure is not None:
        where = ("cannot be certified" if errors[centre] > 1 else
                 f"are certified for q in [{GRID[ends[0]]:g}, {GRID[ends[1]]:g}] only, not on all of [{REQUIRED[0]:g}, "
                 f"{REQUIRED[1]:g}]")
        what = "the residual of the kernel identities" if act.exact else "the quadrature error estimate"
        raise ValueError(
            f"activation: the constants of {act.name} = {sp.sstr(act.expr)} {where}: at q = {failure[0]:g} {what} is "
            f"{failure[1] * TOLERANCE:.1e} > {TOLERANCE:g} (inf: a constant is not finite). Is ρ square-integrable "
            "against the Gaussian, and smooth away from 0?"
        )
    return Certificate(float(GRID[ends[0]]), float(GRID[ends[1]]), float(max(errors.values())) * TOLERANCE)


def _closed_form_error(act: Activation):
    """``q ↦`` the residual of ``K(1, q, q) = ‖ρ‖²`` and ``K(0, q, q) = μ0²`` relative to ``‖ρ‖²``, over TOLERANCE
    (inf if a closed form is not finite at ``q``)."""
    mu0, mu1, norm2 = (sp.lambdify(gaussian_constants.q, e, "numpy") for e in gaussian_constants.moments(act))
    kernel = sp.lambdify((gamma, q1, q2), gaussian_constants.kernel(act), "numpy")

    def error(q: float) -> float:
        with np.errstate(all="ignore"):
            m0, n2 = float(mu0(q)), float(norm2(q))
            values = [m0, float(mu1(q)), n2] + [float(kernel(g, q, q)) for g in GAMMAS]
            values.append(float(kernel(GAMMAS[2], q, 2 * q)))
        if not (np.all(np.isfinite(values)) and n2 > 0):
            return math.inf
        return max(abs(kernel(1.0, q, q) - n2), abs(kernel(0.0, q, q) - m0**2)) / n2 / TOLERANCE

    return error


def _quadrature_error(act: Activation):
    """``q ↦`` the largest error estimate at ``q`` over its tolerance (inf if a constant is not finite)."""
    rho = sp.lambdify(x, act.expr, ["scipy", "numpy"])

    def f(u: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.asarray(rho(u), dtype=float), np.shape(u))

    def error(q: float) -> float:
        with np.errstate(all="ignore"):
            fast = _constants(f, q, quadrature.RULE, 1.0)
            fine = _constants(f, q, REFERENCE, FINER)
        if not all(np.isfinite(v).all() for v in fast + fine) or fine[0][2] <= 0 or fine[0][-1] <= 0:
            return math.inf
        norm2, norm2_pair = fine[0][2], fine[0][-1]
        scales = np.array([math.sqrt(norm2)] * 2 + [norm2] * (1 + len(GAMMAS))
                          + [math.sqrt(norm2 * norm2_pair), norm2_pair])
        weights = MEHLER_GAMMA ** np.arange(fast[1].size) / math.sqrt(norm2)
        return max(np.max(np.abs(fast[0] - fine[0]) / scales), np.max(np.abs(fast[1] - fine[1]) * weights)) / TOLERANCE

    return error


def _constants(f, q: float, rule, finer: float) -> tuple[np.ndarray, np.ndarray]:
    """``[μ0, μ1, ‖ρ‖², K(γ, q, q) for γ in GAMMAS, K(GAMMAS[2], q, 2q), ‖ρ‖²(2q)]`` and ``c_k/√k!``, k ≤
    HERMITE_ORDER, by ``rule`` (the sums of derive/quadrature.py, with its grading scaled by ``finer``)."""
    s = math.sqrt(q)
    g, w = quadrature.gaussian_rule(0.0, finer / s, rule)
    r = f(s * g)
    values = [w @ r, w @ (g * r), w @ r**2]
    values += [_kernel(f, c, q, q, rule, finer) for c in GAMMAS] + [_kernel(f, GAMMAS[2], q, 2 * q, rule, finer)]
    g2, w2 = quadrature.gaussian_rule(0.0, finer / math.sqrt(2 * q), rule)
    values.append(w2 @ f(math.sqrt(2 * q) * g2) ** 2)
    hermite = np.empty(quadrature.HERMITE_ORDER + 1)
    he_prev, he = np.zeros_like(g), np.ones_like(g)
    for k in range(hermite.size):  # the recurrence of hermite_by, then hermite_rows' division by √k!
        hermite[k] = (w * r) @ he / math.exp(0.5 * math.lgamma(k + 1))
        he_prev, he = he, g * he - k * he_prev
    return np.array(values), hermite


def _kernel(f, gamma_: float, q1_: float, q2_: float, rule, finer: float) -> float:
    """``quadrature.kernel_by`` with NumPy sums."""
    c, outer_scale, inner_scale = quadrature.kernel_scales(gamma_, q1_, q2_)
    s1, s2 = math.sqrt(q1_), math.sqrt(q2_)
    u, wu = quadrature.gaussian_rule(0.0, finer * outer_scale, rule)
    if c == 0.0:
        return float(wu @ (f(s1 * u) * f(s2 * gamma_ * u)))
    g, w = quadrature.gaussian_rules(-gamma_ * u / c, finer * inner_scale, rule)
    smoothed = np.einsum("ij,ij->i", w, f(s2 * (gamma_ * u[:, None] + c * g)))
    return float(wu @ (f(s1 * u) * smoothed))
