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
Most pairs need far fewer orders (``|γ| ~ 1/√d``, and for smooth activations the coefficients left after order ``J``
are small): the shifted Mehler sum takes the low orders for every pair by SYRK and the high ones only for the pairs
whose own ``|γ_kl|`` and tails need them (``mehler_sum``).

The coefficients ``c_j(μ, σ)`` are integrals against the Gaussian weight done by Gauss–Legendre on two panels of
``[−L, L]`` in ``g``, split where ``μ + σ g = 0``: every activation of the project is analytic away from 0 (ReLU, |x|,
sign, leaky ReLU have their kink or jump there), so each panel converges exponentially; a second cut at ``g = 0``
keeps every panel at most ``L`` long. With 32 nodes on each of the 3 panels and ``L = 10`` (cut ``e^{−50}``) the ReLU
coefficients match their closed form to 5e-14 for ``j ≤ 15`` and 2e-11 for ``j ≤ 30`` (where ``γ^j`` makes them
irrelevant), and the tanh ones the generated module's to 3e-12; see ``tests/test_simulate.py``. The quadrature runs
only on a grid of nodes in ``μ``; every data point gets its coefficients from the nearest node by an exact Taylor
shift (``ShiftedHermite``), a few FMAs per order instead of 96 activations and their Hermite recursion.

The symmetric p×p matrices (``Γ``, ``K``, the Mehler sums) are held as their upper triangle (Fortran order, zero below
the diagonal), as SYRK writes them and the Cholesky reads them: every consumer reads that triangle only.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numba
import numpy as np
from numba import njit, prange
from scipy.linalg.blas import dsyrk
from scipy.special import gammaln

#: Relative accuracy of every truncated Mehler sum (entrywise, Cauchy–Schwarz bound).
MEHLER_TOL = 1e-12
#: Largest off-diagonal |γ| accepted: beyond it the Mehler series needs too many Hermite orders (d too small).
GAMMA_MAX = 0.75
#: Half-width of the quadrature interval in units of the standard deviation.
HALF_WIDTH = 10.0
#: Panels of the quadrature (cuts at 0 and at the kink) and Gauss–Legendre nodes per panel.
PANELS = 3
PANEL_NODES = 32
#: Nodes per block when building the quadrature grids (bounds the memory to block × p × PANELS PANEL_NODES).
BLOCK = 32
#: Spacing of the Taylor nodes in units of σ (offsets |u| ≤ STEP/2), and the truncation of the Taylor shifts relative
#: to ‖ρ‖ (see ``ShiftedHermite``).
STEP = 0.25
TAYLOR_TOL = 1e-13
#: How many times a multiply-add of the pairwise dot products of ``mehler_sum`` costs one of a SYRK (8 to 13 measured
#: at d = 1000 on one core; the split is flat near its optimum): it sets how many orders go to SYRK.
SYRK_ADVANTAGE = 8.0
#: Added to every computed relative tail ``r_J`` of ``mehler_sum``: the tails are differences of numbers exact to about
#: 1e-13 (quadrature, Taylor shifts) over tens of orders, and the bound must stay an upper bound.
TAIL_MARGIN = 1e-11
#: Orders computed before the tails are looked at (``needed_coefficients``).
FIRST_ORDERS = 8

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
def _project(mu, sigma, values, order, square_order):
    """``c_j/√j! = Σ w ρ He_j(g)/√j!`` for ``j ≤ order`` and ``e_r/√r! = Σ w ρ² He_r(g)/√r!`` for ``r ≤ square_order``
    (normalised recursion ``h_{j+1} = (g h_j − √j h_{j−1})/√(j+1)``); shapes ``(order+1, c, p)`` and
    ``(square_order+1, c, p)``."""
    c, p = mu.shape
    N = _GL_X.size
    top = max(order, square_order)
    root = np.sqrt(np.arange(top + 2.0))
    inverse = 1.0 / np.maximum(root, 1.0)
    coefficients = np.empty((order + 1, c, p))
    squares = np.empty((square_order + 1, c, p))
    for ik in prange(c * p):
        i, k = ik // p, ik % p
        # Orders outside, nodes inside: the node loop has no carried dependency and vectorises.
        g = np.empty(PANELS * N)
        wr = np.empty(PANELS * N)
        wr2 = np.empty(PANELS * N)
        for side in range(PANELS):
            for r in range(N):
                g[side * N + r], w = _panel(mu[i, k], sigma[k], side, r)
                value = values[i, k, side * N + r]
                wr[side * N + r] = w * value
                wr2[side * N + r] = w * value * value
        previous = np.zeros(PANELS * N)
        current = np.ones(PANELS * N)
        for j in range(top + 1):
            total = total2 = 0.0
            for r in range(PANELS * N):
                total += wr[r] * current[r]
                total2 += wr2[r] * current[r]
                following = (g[r] * current[r] - root[j] * previous[r]) * inverse[j + 1]
                previous[r] = current[r]
                current[r] = following
            if j <= order:
                coefficients[j, i, k] = total
            if j <= square_order:
                squares[j, i, k] = total2
    return coefficients, squares


def _apply(rho, values: np.ndarray) -> None:
    """``values ← ρ(values)`` in place, one chunk per Numba thread: NumPy releases the GIL in the ufunc's loop, and
    the activation over the quadrature nodes was the part of the quadrature that ran on one core."""
    chunks = np.array_split(values.reshape(-1), numba.get_num_threads())
    with ThreadPoolExecutor(len(chunks)) as pool:
        for _ in pool.map(lambda chunk: rho(chunk, out=chunk), chunks):
            pass


@njit(cache=True, parallel=True)
def _node_range(mu, sigma):
    """The lowest and the highest node ``round(μ_ki/(STEP σ_k))`` over the points ``i`` of every feature ``k``."""
    p, n = mu.shape
    lowest = np.empty(p, dtype=np.int64)
    highest = np.empty(p, dtype=np.int64)
    for k in prange(p):
        low = high = np.rint(mu[k, 0] / sigma[k] / STEP)
        for i in range(1, n):
            g = np.rint(mu[k, i] / sigma[k] / STEP)
            low, high = min(low, g), max(high, g)
        lowest[k], highest[k] = int(low), int(high)
    return lowest, highest


@cache
def taylor_terms(j: int) -> int:
    """Least ``R`` with ``Σ_{r≥R} (STEP/2)^r √((j+r)!/j!)/r! ≤ TAYLOR_TOL``: the bound, relative to ``‖ρ‖``, on the
    truncation of the Taylor shift of order ``j`` (``|ĉ_j| ≤ ‖ρ‖`` by Cauchy–Schwarz); 11 at ``j = 0``, 14 at 15."""
    u = 0.5 * STEP

    def tail(R):
        return sum(math.exp(r * math.log(u) + 0.5 * (math.lgamma(j + r + 1) - math.lgamma(j + 1)) - math.lgamma(r + 1))
                   for r in range(R, R + 200))

    return next(R for R in range(1, 200) if tail(R) <= TAYLOR_TOL)


@njit(cache=True, parallel=True, fastmath={"contract"})  # FMAs in the Horner steps
def _shift(table, weights, terms, mu, sigma, lowest, first, out):
    """``out[j − first, k, i] = Σ_{r < terms[j]} table[k, j + r, g] weights[j, r] u^r`` (Horner in ``u``) for
    ``j = first, …``, with the node ``g = round(μ_ki/(STEP σ_k)) − lowest_k`` and the offset
    ``u = μ_ki/σ_k − STEP round(μ_ki/(STEP σ_k))``."""
    p, n = mu.shape
    for k in prange(p):
        # One feature at a time: its rows of the table stay in cache.
        node = np.empty(n, dtype=np.int64)
        u = np.empty(n)
        for i in range(n):
            scaled = mu[k, i] / sigma[k]
            g = np.rint(scaled / STEP)  # as in ShiftedHermite; the clip only guards the table against a stray tie
            u[i] = scaled - STEP * g
            node[i] = min(max(int(g) - lowest[k], 0), table.shape[2] - 1)
        for j in range(first, first + out.shape[0]):
            rows, w, values = table[k, j:], weights[j], out[j - first, k]
            row, factor = rows[terms[j] - 1], w[terms[j] - 1]
            for i in range(n):
                values[i] = row[node[i]] * factor
            for r in range(terms[j] - 2, -1, -1):
                row, factor = rows[r], w[r]
                for i in range(n):
                    values[i] = values[i] * u[i] + row[node[i]] * factor


class ShiftedHermite:
    """``ĉ_j(μ_ki, σ_k) = c_j(μ_ki, σ_k)/√j!`` for ``j ≤ order`` and ``E ρ(μ_ki + σ_k g)²`` for features ``k`` and
    points ``i`` (``mu`` is ``p × n``), by exact Taylor shifts from a grid of quadrature nodes.

    ``c_j(μ, σ) = σ^j ∂^j_μ E ρ(μ + σ g)``, so ``∂_μ c_j = c_{j+1}/σ`` and, with ``μ = μ₀ + u σ``,

        ĉ_j(μ, σ) = Σ_r ĉ_{j+r}(μ₀, σ) u^r √((j+r)!/j!)/r!,      E ρ(μ + σ g)² = Σ_r ê_r(μ₀, σ) u^r/√r!,

    with ``ê_r = E[ρ(μ₀ + σ g)² He_r(g)]/√r!``. Both series converge for every ``u`` (``E ρ(μ + σ g)`` is entire in
    ``μ`` for ``σ > 0``, kinks and jumps included). The nodes are ``μ₀ = STEP σ_k · g`` (integer ``g``), so
    ``|u| ≤ STEP/2``; there the quadrature gives ``ĉ`` up to ``order + taylor_terms(order) − 1`` and ``ê`` up to
    ``taylor_terms(0) − 1``, and order ``j`` takes ``taylor_terms(j)`` terms (11 to 14 FMAs a point). The quadrature
    runs at ``(range of μ)/(STEP σ)`` nodes per feature instead of at every one of the ``n`` points (about 40 instead of
    2000 at t = 0.3, d = 1000, ψn = 2). ``coefficients`` computes the orders asked for, so a caller can stop early.
    """

    def __init__(self, rho, mu: np.ndarray, sigma: np.ndarray, order: int):
        self.mu = np.ascontiguousarray(mu)
        self.sigma = np.asarray(sigma, dtype=float)
        self.order = order
        self._lowest, highest = _node_range(self.mu, self.sigma)
        count = int((highest - self._lowest).max()) + 1
        nodes = (self._lowest + np.arange(count)[:, None]) * (STEP * self.sigma)  # count × p
        self._terms = np.array([taylor_terms(j) for j in range(order + 1)])
        top, square_top = order + self._terms[-1] - 1, taylor_terms(0) - 1  # the terms needed grow with the order
        table = np.empty((top + 1, count, self.sigma.size))
        squares = np.empty((square_top + 1, count, self.sigma.size))
        for start in range(0, count, BLOCK):
            block = np.ascontiguousarray(nodes[start : start + BLOCK])
            values = _points(block, self.sigma)
            _apply(rho, values)
            table[:, start : start + BLOCK], squares[:, start : start + BLOCK] = _project(block, self.sigma, values, top,
                                                                                          square_top)
        # feature, order, node: the rows a feature reads are contiguous
        self._table = np.ascontiguousarray(table.transpose(2, 0, 1))
        self._squares = np.ascontiguousarray(squares.transpose(2, 0, 1))
        j, r = np.arange(order + 1)[:, None], np.arange(self._terms[-1])[None, :]
        self._weights = np.exp(0.5 * (gammaln(j + r + 1) - gammaln(j + 1)) - gammaln(r + 1))

    def coefficients(self, first: int, last: int, out: np.ndarray | None = None) -> np.ndarray:
        """``ĉ_j`` for ``first ≤ j ≤ last`` as ``out[j]`` (``out`` of shape ``(≥ last+1, p, n)``, made if not given)."""
        out = np.empty((last + 1, *self.mu.shape)) if out is None else out
        _shift(self._table, self._weights, self._terms, self.mu, self.sigma, self._lowest, first, out[first : last + 1])
        return out

    def second(self) -> np.ndarray:
        """``E ρ(μ_ki + σ_k g)²``, shape ``(p, n)``."""
        terms = self._squares.shape[1]
        weights = np.exp(-0.5 * gammaln(np.arange(terms) + 1.0))[None, :]
        out = np.empty((1, *self.mu.shape))
        _shift(self._squares, weights, np.array([terms]), self.mu, self.sigma, self._lowest, 0, out)
        return out[0]


def tail_roots(coefficients: np.ndarray, diagonal: np.ndarray) -> np.ndarray:
    """``√r_J(k)`` for the orders ``J`` of ``coefficients`` (``(orders, p, n)``), with the relative tails
    ``r_J(k) = (E_k − Σ_{j≤J} (1/n) Σ_i ĉ_j(k, i)²)/E_k + TAIL_MARGIN`` (at most 1) and ``E_k = diagonal[k]``."""
    powers = np.einsum("jki,jki->jk", coefficients, coefficients) / coefficients.shape[2]
    tails = np.maximum(diagonal - np.cumsum(powers, axis=0), 0.0) / diagonal + TAIL_MARGIN
    return np.ascontiguousarray(np.sqrt(np.minimum(tails, 1.0)))


def needed_coefficients(shifted: ShiftedHermite, gamma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The coefficients ``mehler_sum`` needs, ``(orders, p, n)``, and the diagonal ``E_k = (1/n) Σ_i E ρ²``.

    The first ``FIRST_ORDERS`` orders, then up to the largest ``J_kl`` of any pair bounded with the tails known by then
    (``r_J ≤ r_{J'}`` for ``J ≥ J'``): the orders no pair needs are never computed.
    """
    first = min(FIRST_ORDERS, shifted.order + 1) - 1
    coefficients = np.empty((shifted.order + 1, *shifted.mu.shape))  # the pages of orders never computed stay untouched
    shifted.coefficients(0, first, coefficients)
    diagonal = shifted.second().mean(axis=1)
    known = tail_roots(coefficients[: first + 1], diagonal)
    bound = known[np.minimum(np.arange(shifted.order + 1), first)]  # r_J ≤ r_first past the known orders
    last = int(np.flatnonzero(_pair_orders(gamma, bound, shifted.order))[-1]) if gamma.shape[0] > 1 else first
    if last > first:
        shifted.coefficients(first + 1, last, coefficients)
    return coefficients[: max(first, last) + 1], diagonal


@njit(cache=True)
def _column(m, p):
    """Column ``l`` of iteration ``m`` of a parallel loop over the upper triangle: ``0, p−1, 1, p−2, …``, so that the
    contiguous blocks of ``m`` a static schedule gives each thread hold as many pairs ``k < l`` as the others."""
    return m // 2 if m % 2 == 0 else p - 1 - m // 2


@njit(cache=True)
def _pair_order(size, roots, k, l, top):
    """``J_kl``: the least ``J ≥ 1`` with ``|γ_kl|^{J+1} roots[J, k] roots[J, l] ≤ MEHLER_TOL``, at most ``top``."""
    power = size * size
    for J in range(1, top):
        if power * roots[J, k] * roots[J, l] <= MEHLER_TOL:
            return J
        power *= size
    return top


@njit(cache=True, parallel=True)
def _pair_orders(gamma, roots, top):
    """How many pairs ``k < l`` need exactly ``J`` orders (``_pair_order``), for ``J = 0 … top``.

    ``|γ_kl|^{J+1} roots[J, k] roots[J, l]`` falls with ``J`` (the roots are non-increasing, and rounding keeps
    products of non-increasing factors non-increasing), so ``J_kl = 1 + #{1 ≤ J < top: it exceeds MEHLER_TOL}``: a
    count without branches, whose loop over ``k`` vectorises.
    """
    p = gamma.shape[0]
    counts = np.zeros((p, top + 1), dtype=np.int64)  # one row per column l: no two threads write the same count
    for m in prange(p):
        l = _column(m, p)
        size = np.abs(gamma[:l, l])
        power = size * size
        order = np.full(l, min(1, top), dtype=np.int64)  # J_kl ≥ 1 unless top = 0
        for J in range(1, top):
            for k in range(l):
                order[k] += power[k] * roots[J, k] * roots[J, l] > MEHLER_TOL
                power[k] *= size[k]
        for k in range(l):
            counts[l, order[k]] += 1
    return counts.sum(axis=0)


@njit(cache=True, parallel=True, fastmath={"reassoc"})  # lets the dot products vectorise
def _sparse_orders(coefficients, gamma, roots, dense, total):
    """``total[k, l] += Σ_{dense < j ≤ J_kl} γ_kl^j ⟨c_j[k], c_j[l]⟩/n`` for ``k < l``: the orders past ``dense`` that
    the pair needs (``_pair_order``; ``coefficients`` is ``(orders, p, n)``)."""
    orders, p, n = coefficients.shape
    for m in prange(p):
        l = _column(m, p)
        for k in range(l):
            size = abs(gamma[k, l])
            if size ** (dense + 1) * roots[dense, k] * roots[dense, l] <= MEHLER_TOL:
                continue  # the common case, decided without the loop of _pair_order
            for j in range(dense + 1, _pair_order(size, roots, k, l, orders - 1) + 1):
                dot = 0.0
                for i in range(n):
                    dot += coefficients[j, k, i] * coefficients[j, l, i]
                total[k, l] += gamma[k, l] ** j * dot / n


def mehler_sum(coefficients: np.ndarray, gamma: np.ndarray, diagonal: np.ndarray) -> np.ndarray:
    """Upper triangle of ``(1/n) Σ_i Σ_{j ≤ J_kl} Γ^{∘j} ∘ (C_j[:, i] C_j[:, i]ᵀ)`` with diagonal ``diagonal``
    (``E_k = (1/n) Σ_i E ρ(μ_ki + σ_k g)²``); ``coefficients[j, k, i] = c_j(·)/√j!`` for feature ``k`` and point ``i``.

    Each pair stops at its own order ``J_kl``, the least with ``|γ_kl|^{J+1} √(r_J(k) r_J(l)) ≤ MEHLER_TOL``, where
    ``r_J(k) = (E_k − Σ_{j≤J} (1/n) Σ_i ĉ_j(k, i)²)/E_k + TAIL_MARGIN`` (``tail_roots``) bounds the share of ``E_k``
    left in the orders past ``J``: by Cauchy–Schwarz over orders and points, the truncated tail is then at most ``MEHLER_TOL √(E_k E_l)``,
    the accuracy of the module docstring. For smooth activations the coefficients decay fast and most pairs stop
    orders earlier than ``|γ_kl|^{J+1} ≤ MEHLER_TOL`` alone would allow.

    Orders ``j ≤ J₀`` for every pair by Horner in ``Γ`` from ``J₀`` down, ``T ← T ∘ Γ + (1/n) C_j C_jᵀ``: one SYRK
    accumulating into ``T`` in place (``beta = 1``) and one NumPy product per order (single-threaded on purpose: a
    Numba parallel loop between the SYRKs waits on OpenBLAS's spinning threads, several times its own cost on two
    cores). Orders ``J₀ < j ≤ J_kl`` by dot products for the few pairs that need them. ``J₀`` minimises the cost of
    the two, counted in multiply-adds with SYRK's ``SYRK_ADVANTAGE``.
    """
    orders, p, n = coefficients.shape
    roots = tail_roots(coefficients, diagonal)
    counts = _pair_orders(gamma, roots, orders - 1)
    levels = np.arange(orders)
    sparse = np.array([np.sum(counts * np.maximum(levels - J, 0)) for J in levels])
    dense = max(1, int(np.argmin((levels + 1) * (p * (p + 1) / 2) / SYRK_ADVANTAGE + sparse)))
    total = dsyrk(1.0 / n, coefficients[dense].T, trans=1)  # (p × n) rows seen by BLAS as an n × p Fortran matrix
    for c in coefficients[dense - 1 :: -1]:
        total *= gamma
        total = dsyrk(1.0 / n, c.T, beta=1.0, c=total, trans=1, overwrite_c=True)
    if dense < orders - 1:
        _sparse_orders(coefficients, gamma, roots, dense, total)
    np.fill_diagonal(total, diagonal)
    return total
