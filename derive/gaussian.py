"""Gaussian constants of an activation, in closed form (MODELS.md §2).

For the pre-activation variance ``q`` every constant is that of ``ρ_q(g) = ρ(√q g)``, ``g ~ N(0, 1)``:

    μ0 = E ρ_q(g),   μ1 = E[g ρ_q(g)],   ‖ρ‖² = E ρ_q(g)²,   μ*² = ‖ρ‖² − μ0² − μ1²,
    c_k = E[ρ_q(g) He_k(g)],   c(γ) = K(γ, q, q) = Σ_k c_k² γ^k / k!.

At diffusion time ``t`` two noisy copies ``a x + √h z`` and ``a x + √h z'`` of one point whose pre-activation has
variance ``q`` have correlation ``γ_t = 1 − h/q`` (``= a² = e^{−2t}`` for ``q = 1``), and

    κ = (c(γ_t) − μ0² − γ_t μ1²)/μ*²,   v² = μ*² κ,   s² = μ*² (1 − κ).

This module is the symbolic side only; the numbers come from the generated modules.
"""

from __future__ import annotations

import sympy as sp

from derive.activations import Activation, gamma, q1, q2, x

g = sp.Symbol("g", real=True)
q = sp.Symbol("q", positive=True)
t = sp.Symbol("t", positive=True)

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


def hermite_coefficient(act: Activation, k: int, variance: sp.Expr = q) -> sp.Expr:
    """``c_k = E[ρ(√q g) He_k(g)]`` (so ``c_0 = μ0``, ``c_1 = μ1``)."""
    return gaussian_mean(preactivation(act, variance) * sp.hermite_prob(k, g))


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


def moments(act: Activation) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(μ0, μ1, ‖ρ‖²)`` as closed forms in ``q``; ``‖ρ‖² = K(1, q, q)``."""
    norm2 = sp.simplify(kernel(act).subs({gamma: 1, q1: q, q2: q}))
    return hermite_coefficient(act, 0), hermite_coefficient(act, 1), norm2


def mustar2(act: Activation) -> sp.Expr:
    """``μ*² = ‖ρ‖² − μ0² − μ1²`` in closed form, as a function of ``q``."""
    mu0, mu1, norm2 = moments(act)
    return sp.simplify(norm2 - mu0**2 - mu1**2)


def kappa(act: Activation) -> sp.Expr:
    """``κ(t, q) = (c(γ_t) − μ0² − γ_t μ1²)/μ*²`` with ``γ_t = 1 − (1 − e^{−2t})/q``."""
    mu0, mu1, norm2 = moments(act)
    gamma_t = 1 - (1 - sp.exp(-2 * t)) / q
    c = kernel(act).subs({gamma: gamma_t, q1: q, q2: q})
    return (c - mu0**2 - gamma_t * mu1**2) / (norm2 - mu0**2 - mu1**2)
