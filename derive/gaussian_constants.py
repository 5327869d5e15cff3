"""Gaussian constants of an activation, in closed form (docs/models.md §2).

For the pre-activation variance ``q`` every constant is that of ``ρ_q(g) = ρ(√q g)``, ``g ~ N(0, 1)``:

    μ0 = E ρ_q(g),   μ1 = E[g ρ_q(g)],   ‖ρ‖² = E ρ_q(g)²,   μ*² = ‖ρ‖² − μ0² − μ1²,
    c_k = E[ρ_q(g) He_k(g)],   c(γ) = K(γ, q, q) = Σ_k c_k² γ^k / k!,
    κ(γ) = (c(γ) − μ0² − γ μ1²)/μ*².

At diffusion time ``t``, with ``a² = e^{−2t}``, ``h = 1 − a²`` and data of second moment ``tr Σ/d``, the noisy copies
``a x + √h z`` and ``a x + √h z'`` of one point have ``q = a² tr Σ/d + h`` and correlation ``γ_t = a² (tr Σ/d)/q``
(``= a²`` for ``tr Σ/d = 1``); then ``v² = μ*² κ(γ_t)`` and ``s² = μ*² (1 − κ(γ_t))``.

This module is the symbolic side only; the numbers come from the generated modules.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from derive.activations import Activation, gamma, q1, q2, x

g = sp.Symbol("g", real=True)
q = sp.Symbol("q", positive=True)

_PHI = sp.exp(-(g**2) / 2) / sp.sqrt(2 * sp.pi)


def gaussian_mean(expr: sp.Expr) -> sp.Expr:
    """``E f(g)`` for ``g ~ N(0, 1)``, integrated by SymPy; raises if SymPy leaves an unevaluated integral."""
    value = sp.integrate(sp.expand(expr * _PHI), (g, -sp.oo, sp.oo))
    if value.has(sp.Integral):
        raise NotImplementedError(f"SymPy cannot integrate E[{expr}] in closed form")
    return sp.simplify(value)


def preactivation(act: Activation, variance: sp.Expr = q) -> sp.Expr:
    """``ρ(√variance g)``."""
    return act.expr.subs(x, sp.sqrt(variance) * g)


@cache
def hermite_coefficient(act: Activation, k: int, variance: sp.Expr = q) -> sp.Expr:
    """``c_k = E[ρ(√q g) He_k(g)]`` (so ``c_0 = μ0``, ``c_1 = μ1``)."""
    return gaussian_mean(preactivation(act, variance) * sp.hermite_prob(k, g))


@cache
def kernel(act: Activation) -> sp.Expr:
    """``K(γ, q1, q2) = E[ρ(√q1 g) ρ(√q2 g')]`` with ``corr(g, g') = γ``: the closed form of the table, or the finite
    Hermite series ``Σ_k c_k(q1) c_k(q2) γ^k / k!`` of a polynomial."""
    if act.kernel is not None:
        return act.kernel
    if not act.is_polynomial:
        raise NotImplementedError(f"activation {act.name!r} has no closed-form kernel; it is integrated by quadrature")
    degree = sp.Poly(act.expr, x).degree()
    series = sum(
        hermite_coefficient(act, k, q1) * hermite_coefficient(act, k, q2) * gamma**k / sp.factorial(k)
        for k in range(degree + 1)
    )
    return sp.simplify(series)


@cache
def moments(act: Activation) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(μ0, μ1, ‖ρ‖²)`` as closed forms in ``q``; ``‖ρ‖² = K(1, q, q)``."""
    norm2 = sp.simplify(kernel(act).subs({gamma: 1, q1: q, q2: q}))
    return hermite_coefficient(act, 0), hermite_coefficient(act, 1), norm2


def mustar2(act: Activation) -> sp.Expr:
    """``μ*² = ‖ρ‖² − μ0² − μ1²`` in closed form, as a function of ``q``."""
    mu0, mu1, norm2 = moments(act)
    return sp.simplify(norm2 - mu0**2 - mu1**2)


def kappa(act: Activation) -> sp.Expr:
    """``κ(γ, q) = (K(γ, q, q) − μ0² − γ μ1²)/μ*²``."""
    mu0, mu1, norm2 = moments(act)
    c = kernel(act).subs({q1: q, q2: q})
    return (c - mu0**2 - gamma * mu1**2) / (norm2 - mu0**2 - mu1**2)
