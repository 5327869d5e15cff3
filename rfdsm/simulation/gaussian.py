"""Gaussian expectations of the features ``ρ(W y/√d)``, computed exactly (no Monte Carlo).

Rows ``w_k`` of ``W`` give pre-activation variances ``q_k = ‖w_k‖²/d`` and correlations
``γ_kl = w_k·w_l / (d √(q_k q_l))``.

*Zero-mean kernel* (test and score errors, ``y ~ N(0, I_d)``): ``u = W y/√d ~ N(0, Q)``, ``Q = W Wᵀ/d``, and

    K_kl = E ρ(u_k) ρ(u_l) = kernel(γ_kl, q_k, q_l)                      (closed form, EXACT activations)
         = Σ_j c_j(q_k) c_j(q_l) γ_kl^j / j!   (k ≠ l),   K_kk = ‖ρ‖²(q_k)  (Mehler, quadrature activations)

with ``c_j(q) = E[ρ(√q g) He_j(g)]`` from the generated module's ``hermite``.

*Shifted kernel* (``m = ∞``: expectation over the noise ``z`` at a fixed data point ``x``): ``u = μ + √h W z/√d`` with
means ``μ_k = a w_k·x/√d`` and covariance ``h Q``, so with ``σ_k = √(h q_k)`` and ``c_j(μ, σ) = E[ρ(μ + σ g) He_j(g)]``

    E_z ρ(u_k) ρ(u_l) = Σ_j c_j(μ_k, σ_k) c_j(μ_l, σ_l) γ_kl^j / j!   (k ≠ l),   E_z ρ(u_k)² = E ρ(μ_k + σ_k g)².

Truncation: by Cauchy–Schwarz the tail of a Mehler sum after ``j = J`` is at most
``|γ|^{J+1} √(E ρ_k² E ρ_l²)``; ``J`` is the least order with ``γ_max^{J+1} ≤ MEHLER_TOL`` for the largest
off-diagonal ``|γ|`` of the draw (``γ_max = O(√(log p / d))``), so every entry is exact to ``MEHLER_TOL`` relative.

The coefficients ``c_j(μ, σ)`` are integrals against the Gaussian weight done by Gauss–Legendre on two panels of
``[−L, L]`` in ``g``, split where ``μ + σ g = 0``: every activation of the project is analytic away from 0 (ReLU, |x|,
sign, leaky ReLU have their kink or jump there), so each panel converges exponentially; a second cut at ``g = 0``
keeps every panel at most ``L`` long. With 32 nodes on each of the 3 panels and ``L = 10`` (cut ``e^{−50}``) the ReLU
coefficients match their closed form to 5e-14 for ``j ≤ 15`` and 2e-11 for ``j ≤ 30`` (where ``γ^j`` makes them
irrelevant), and the tanh ones the generated module's to 3e-12; see ``tests/test_simulate.py``.

The symmetric p×p matrices (``Γ``, ``K``, the Mehler sums) are held as their upper triangle (Fortran order, zero below
the diagonal), as SYRK writes them and the Cholesky reads them: every consumer reads that triangle only.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from scipy.linalg.blas import dsyrk

#: Relative accuracy of every truncated Mehler sum (entrywise, Cauchy–Schwarz bound).
MEHLER_TOL = 1e-12
#: Largest off-diagonal |γ| accepted: beyond it the Mehler series needs too many Hermite orders (d too small).
GAMMA_MAX = 0.75
#: Half-width of the quadrature interval in units of the standard deviation.
HALF_WIDTH = 10.0
#: Panels of the quadrature (cuts at 0 and at the kink) and Gauss–Legendre nodes per panel.
PANELS = 3
PANEL_NODES = 32
#: Data points per block when building the quadrature grids (bounds the memory to block × p × PANELS PANEL_NODES).
BLOCK = 32

_GL_X, _GL_W = np.polynomial.legendre.leggauss(PANEL_NODES)


def correlations(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``q = ‖w_k‖²/d`` and the upper triangle of the correlation matrix ``Γ = Ŵ Ŵᵀ`` of the unit rows
    ``ŵ_k = w_k/‖w_k‖`` (``Γ_kk = 1``)."""
    squares = np.einsum("ij,ij->i", W, W)
    unit = W / np.sqrt(squares)[:, None]  # normalising the p×d rows first spares passes over the p×p matrix
    gamma = dsyrk(1.0, unit.T, trans=1)  # half the flops of a GEMM; unitᵀ is Fortran-ordered, so BLAS copies nothing
    np.fill_diagonal(gamma, 1.0)
    return squares / W.shape[1], gamma


@njit(cache=True)
def _largest_off_diagonal(gamma):
    """``max_{k<l} |Γ_kl|`` (0 for a 1×1 matrix)."""
    largest = 0.0
    for l in range(gamma.shape[0]):
        for k in range(l):
            largest = max(largest, abs(gamma[k, l]))
    return largest


def mehler_order(gamma: np.ndarray) -> int:
    """Least ``J`` with ``γ_max^{J+1} ≤ MEHLER_TOL``, ``γ_max`` the largest off-diagonal ``|Γ_kl|`` (upper triangle)."""
    gmax = _largest_off_diagonal(gamma)
    if gmax > GAMMA_MAX:
        raise ValueError(
            f"d: rows of W are too correlated at this size (max |γ| = {gmax:.2f} > {GAMMA_MAX}) for the exact Mehler "
            "expectations; use a larger d (≥ 50 is safe)"
        )
    if gmax == 0.0:
        return 1
    return max(1, math.ceil(math.log(MEHLER_TOL) / math.log(gmax)) - 1)


def mehler_sum(coefficients: np.ndarray, gamma: np.ndarray, diagonal: np.ndarray) -> np.ndarray:
    """Upper triangle of ``(1/n) Σ_i Σ_j Γ^{∘j} ∘ (C_j[i] C_j[i]ᵀ)`` with diagonal ``diagonal``.

    ``coefficients[j, i, k] = c_j(·)/√j!`` for data point ``i`` and feature ``k``; each ``C_jᵀ C_j`` is one SYRK.
    """
    n = coefficients.shape[1]
    total = np.zeros_like(gamma)
    power = np.ones_like(gamma)
    for c in coefficients:
        term = dsyrk(1.0, c.T)  # cᵀ is Fortran-ordered: no copy
        term *= power  # in place: one p×p temporary
        total += term
        power *= gamma
    total /= n
    np.fill_diagonal(total, diagonal)
    return total


@njit(cache=True)
def _mehler_pairs(coefficients, gamma, out):
    """``out_kl = Σ_j c_j[k] c_j[l] γ_kl^j`` by Horner for ``k < l`` (one point: cheaper than ``mehler_sum``'s
    rank-one products)."""
    top, p = coefficients.shape
    for l in range(p):
        # Horner on the whole column at once: the k loop has no carried dependency and vectorises.
        for k in range(l):
            out[k, l] = coefficients[top - 1, k] * coefficients[top - 1, l]
        for j in range(top - 2, -1, -1):
            for k in range(l):
                out[k, l] = out[k, l] * gamma[k, l] + coefficients[j, k] * coefficients[j, l]


def feature_kernel(module, q: np.ndarray, gamma: np.ndarray, norm2: np.ndarray) -> np.ndarray:
    """Upper triangle of ``K_kl = E ρ(u_k) ρ(u_l)`` for ``u ~ N(0, Q)`` (see the module docstring for the two cases),
    with the diagonal ``K_kk = ‖ρ‖²(q_k) = norm2[k]`` (``module.row_moments(q)[2]``)."""
    K = np.zeros_like(gamma)
    if module.EXACT:
        module.kernel_upper(q, gamma, K)
    else:
        _mehler_pairs(module.hermite_rows(q, mehler_order(gamma)), gamma, K)
    np.fill_diagonal(K, norm2)
    return K


@njit(cache=True)
def _panel(mu, sigma, side, r):
    """Node ``g`` and weight ``φ(g) dg`` number ``r`` of panel ``side`` of ``[−L, L]`` cut at ``0`` and at ``−μ/σ``.

    The cut at ``−μ/σ`` (where ``μ + σ g = 0``) keeps the kink of the activation on a panel boundary; the cut at 0
    keeps every panel at most ``L`` long when the kink is far out.
    """
    kink = min(HALF_WIDTH, max(-HALF_WIDTH, -mu / sigma))
    cuts = (-HALF_WIDTH, min(kink, 0.0), max(kink, 0.0), HALF_WIDTH)
    lo, hi = cuts[side], cuts[side + 1]
    half = 0.5 * (hi - lo)
    g = 0.5 * (hi + lo) + half * _GL_X[r]
    return g, half * _GL_W[r] * math.exp(-0.5 * g * g) / math.sqrt(2.0 * math.pi)


@njit(cache=True, parallel=True)
def _points(mu, sigma):
    """The pre-activations ``μ_ik + σ_k g`` at every quadrature node, shape ``(c, p, PANELS PANEL_NODES)``."""
    c, p = mu.shape
    N = _GL_X.size
    out = np.empty((c, p, PANELS * N))
    for ik in prange(c * p):
        i, k = ik // p, ik % p
        for side in range(PANELS):
            for r in range(N):
                out[i, k, side * N + r] = mu[i, k] + sigma[k] * _panel(mu[i, k], sigma[k], side, r)[0]
    return out


@njit(cache=True, parallel=True, fastmath={"reassoc"})  # lets the node sums vectorise (reassociation, nothing else)
def _project(mu, sigma, values, order):
    """``c_j/√j! = Σ w ρ He_j(g)/√j!`` (normalised recursion ``h_{j+1} = (g h_j − √j h_{j−1})/√(j+1)``) and ``Σ w ρ²``."""
    c, p = mu.shape
    N = _GL_X.size
    root = np.sqrt(np.arange(order + 2.0))
    inverse = 1.0 / np.maximum(root, 1.0)
    coefficients = np.empty((order + 1, c, p))
    second = np.empty((c, p))
    for ik in prange(c * p):
        i, k = ik // p, ik % p
        # Orders outside, nodes inside: the node loop has no carried dependency and vectorises.
        g = np.empty(PANELS * N)
        wr = np.empty(PANELS * N)
        for side in range(PANELS):
            for r in range(N):
                g[side * N + r], w = _panel(mu[i, k], sigma[k], side, r)
                wr[side * N + r] = w * values[i, k, side * N + r]
        total = 0.0
        for r in range(PANELS * N):
            total += wr[r] * values[i, k, r]
        second[i, k] = total
        previous = np.zeros(PANELS * N)
        current = np.ones(PANELS * N)
        for j in range(order + 1):
            total = 0.0
            for r in range(PANELS * N):
                total += wr[r] * current[r]
                following = (g[r] * current[r] - root[j] * previous[r]) * inverse[j + 1]
                previous[r] = current[r]
                current[r] = following
            coefficients[j, i, k] = total
    return coefficients, second


def shifted_hermite(rho, mu: np.ndarray, sigma: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """``c_j(μ_ik, σ_k)/√j!`` for ``j ≤ order`` (shape ``(order+1, n, p)``) and ``E ρ(μ_ik + σ_k g)²`` (``(n, p)``)."""
    n, p = mu.shape
    coefficients = np.empty((order + 1, n, p))
    second = np.empty((n, p))
    for start in range(0, n, BLOCK):
        block = np.ascontiguousarray(mu[start : start + BLOCK])
        values = _points(block, sigma)
        rho(values, out=values)
        coefficients[:, start : start + BLOCK], second[start : start + BLOCK] = _project(block, sigma, values, order)
    return coefficients, second
