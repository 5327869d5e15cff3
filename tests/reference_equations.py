"""Independent solver of the asymptotic RF-DSM equations of docs/reference.md (Urfin, Bonnaire, Biroli, Mézard).

Tests only: it is the cross-check of the simulator (and later of the project's own solver), written straight from
docs/reference.md. Unknowns ``(q, r)`` solve two equations ``E(q, r; z, ζ) = 0`` at ``z = −λ``, ``ζ = 0``; the total
derivatives ``∂z``, ``∂ζ`` of ``(q, r)`` come from the implicit function theorem, ``d(q, r) = −J^{−1} ∂E``, with every
partial derivative taken by the complex step (the equations are rational, so it is exact to round-off).
The solution is followed by continuation in ``ψp`` from ``ψp = 0.02``, where ``q ≈ r ≈ 1/(μ1² + μ*² + λ)``.

``learning_curve(activation, t, psi_n, psi_p, m=math.inf, lam=1e-3)`` has the signature of ``rfdsm.learning_curve``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import fsolve

from rfdsm.activation_constants import constants

_STEP = 1e-30  # complex step
_START = 0.02  # smallest ψp of the continuation
_RATIO = 1.05  # largest ψp ratio between continuation steps


@dataclass(frozen=True)
class Curve:
    activation: str
    t: float
    psi_n: float
    psi_p: np.ndarray
    m: float
    lam: float
    test: np.ndarray
    train: np.ndarray
    train_ridge: np.ndarray
    score: np.ndarray


def _parts(c, psi_n, psi_p, m):
    """``(E(q, r, z, ζ), T(q, r))``: the residual of the two equations and the train/test building blocks."""
    a2, h, mu1, ms2, kappa = c.a2, c.h, c.mu1, c.mustar2, c.kappa
    if math.isinf(m):

        def L(q, r):
            return 1 + psi_p / psi_n * (mu1**2 * a2 * r + c.v2 * q)

        def residual(q, r, z, zeta):
            return (
                1 / r + psi_p * zeta - (1 / q + mu1**2 * psi_p * a2 / L(q, r) + psi_p * mu1**2 * h),
                psi_p * z - ((1 - psi_p) / q - r / q**2 + psi_p * c.v2 / L(q, r) + psi_p * c.s2),
            )

        def blocks(q, r):  # docs/reference.md §m = ∞ in the general-m form: T1 = h μ1² ψp r, T2 = μ1 √h ψp r
            T1 = h * mu1**2 * psi_p * r
            return T1, mu1 * math.sqrt(h) * psi_p * r

        return residual, blocks

    def L12(q, r):
        L1 = 1 + psi_p / (psi_n * m) * (mu1**2 * r * (a2 * m + h) + ms2 * q * (1 + (m - 1) * kappa))
        L2 = 1 + psi_p / (psi_n * m) * (mu1**2 * r * h + ms2 * q * (1 - kappa))
        return L1, L2

    def residual(q, r, z, zeta):
        L1, L2 = L12(q, r)
        return (
            1 / r + psi_p * zeta
            - (1 / q + mu1**2 * psi_p * (a2 + h / m) / L1 + (m - 1) * psi_p * mu1**2 * (h / m) / L2),
            psi_p * z
            - (
                (1 - psi_p) / q
                - r / q**2
                + psi_p * ms2 * (1 + (m - 1) * kappa) / (m * L1)
                + (m - 1) * psi_p * ms2 * (1 - kappa) / (m * L2)
            ),
        )

    def blocks(q, r):
        L1, L2 = L12(q, r)
        T = 1 / L1 + (m - 1) / L2
        T1 = 1 - T / m + mu1**2 * psi_p * h * r * T**2 / m**2
        return T1, psi_p / m * mu1 * math.sqrt(h) * r * T

    return residual, blocks


def _cstep(f, args, index):
    """Partial derivatives of ``f`` (a tuple of outputs) with respect to argument ``index``, by the complex step."""
    shifted = [complex(v) for v in args]
    shifted[index] += 1j * _STEP
    return np.array([np.imag(v) / _STEP for v in f(*shifted)])


def _point(c, psi_n, psi_p, m, lam, guess):
    residual, blocks = _parts(c, psi_n, psi_p, m)
    z = -lam

    def equations(logs):  # both equations are O(ψp) near ψp = 0: solve them divided by ψp, in log variables
        q, r = np.exp(logs)
        return [v / psi_p for v in residual(q, r, z, 0.0)]

    logs, info, ok, message = fsolve(equations, np.log(guess), full_output=True, xtol=1e-14)
    q, r = np.exp(logs)
    if max(abs(v) for v in equations(logs)) > 1e-9 * (1 / q + 1 / r):
        raise RuntimeError(f"reference equations: no solution at ψp = {psi_p} ({message})")
    args = (q, r, z, 0.0)
    J = np.column_stack([_cstep(residual, args, 0), _cstep(residual, args, 1)])
    dz = -np.linalg.solve(J, _cstep(residual, args, 2))
    dzeta = -np.linalg.solve(J, _cstep(residual, args, 3))
    T1, T2 = blocks(q, r)
    grad = np.column_stack([_cstep(blocks, (q, r), 0), _cstep(blocks, (q, r), 1)])  # rows: T1, T2
    dT1_dz, dT1_dzeta = grad[0] @ dz, grad[0] @ dzeta
    ridge = 1 - T1
    train = ridge - lam * dT1_dz
    test = 1 - 2 * c.mu1 * math.sqrt(c.h) * T2 + c.mu1**2 * dT1_dzeta + c.mustar2 * dT1_dz
    return (q, r), test, train, ridge


def learning_curve(activation, t, psi_n, psi_p, m=math.inf, lam=1e-3, *, data=None) -> Curve:
    """Asymptotic ``test``, ``train``, ``train_ridge`` and ``score`` errors at every ``ψp`` (docs/reference.md), on
    isotropic data only (``data``: ``None`` or ``Isotropic()``)."""
    if data is not None and repr(data) != "Isotropic()":
        raise ValueError(f"data: the reference equations are those of isotropic data, got {data!r}")
    c = constants(activation, t)
    psi_p = np.atleast_1d(np.asarray(psi_p, dtype=float))
    order = np.argsort(psi_p)
    out = {name: np.empty(psi_p.size) for name in ("test", "train", "train_ridge")}
    current = _START
    guess = np.full(2, 1 / (c.mu1**2 + c.mustar2 + lam))
    for i in order:
        target = psi_p[i]
        steps = max(1, math.ceil(abs(math.log(target / current)) / math.log(_RATIO)))
        for x in np.geomspace(current, target, steps + 1)[1:]:
            guess, test, train, ridge = _point(c, psi_n, x, m, lam, guess)
        current = target
        out["test"][i], out["train"][i], out["train_ridge"][i] = test, train, ridge
    score = (out["test"] - c.a2) / c.h
    return Curve(activation, float(t), float(psi_n), psi_p, m, float(lam), score=score, **out)
