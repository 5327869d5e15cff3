"""Gaussian expectations of the features ``ρ(W y/√d)``, computed exactly (no Monte Carlo).

Rows ``w_k`` of ``W`` give pre-activation variances ``q_k = ‖w_k‖²/d`` and correlations
``γ_kl = w_k·w_l / (d √(q_k q_l))``.

*Zero-mean kernel* (test and score errors, ``y ~ N(0, I_d)``): ``u = W y/√d ~ N(0, Q)``, ``Q = W Wᵀ/d``, and

    K_kl = E ρ(u_k) ρ(u_l) = kernel(γ_kl, q_k, q_l)                      (closed form, EXACT activations)
         = Σ_j c_j(q_k) c_j(q_l) γ_kl^j / j!   (k ≠ l),   K_kk = ‖ρ‖²(q_k)  (Mehler, quadrature activations)

with ``c_j(q) = E[ρ(√q g) He_j(g)]`` from the generated module's ``hermite``; the pairs with ``|γ_kl| > GAMMA_MAX``,
where the Mehler series converges too slowly, take the generated two-dimensional quadrature ``kernel``.

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
#: Features per task of the Taylor shifts (one scratch row per task), and points per vector operation in them.
SHIFT_BLOCK = 16
CHUNK = 8
#: How many times a multiply-add of the pairwise dot products of ``mehler_sum`` costs one of a SYRK (8 to 13 measured
#: at d = 1000 on one core, 8 with one order's dot products per pass: 3 against 23 GFMA/s; the split is flat near its
#: optimum): it sets how many orders go to SYRK.
SYRK_ADVANTAGE = 8.0
#: Added to every relative power and to the share past the last order (``order_roots``): the powers are exact to about
#: 1e-13 (quadrature, Taylor shifts), the share is a difference of them over tens of orders, and the truncation bound of
#: ``mehler_sum`` must stay an upper bound.
TAIL_MARGIN = 1e-11

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
def _largest_off_diagonal(gamma, limit):
    """``max |Γ_kl|`` over the pairs ``k < l`` with ``|Γ_kl| ≤ limit`` (0 if none), and the pairs beyond ``limit``
    (two index arrays)."""
    largest, beyond = 0.0, 0
    for l in range(gamma.shape[0]):
        for k in range(l):
            size = abs(gamma[k, l])
            if size > limit:
                beyond += 1
            else:
                largest = max(largest, size)
    first, second = np.empty(beyond, dtype=np.int64), np.empty(beyond, dtype=np.int64)
    beyond = 0
    for l in range(gamma.shape[0]):
        for k in range(l):
            if abs(gamma[k, l]) > limit:
                first[beyond], second[beyond] = k, l
                beyond += 1
    return largest, first, second


def _order(largest: float) -> int:
    """Least ``J ≥ 1`` with ``largest^{J+1} ≤ MEHLER_TOL``."""
    if largest == 0.0:
        return 1
    return max(1, math.ceil(math.log(MEHLER_TOL) / math.log(largest)) - 1)


def mehler_order(gamma: np.ndarray) -> int:
    """Least ``J`` with ``γ_max^{J+1} ≤ MEHLER_TOL``, ``γ_max`` the largest off-diagonal ``|Γ_kl|`` (upper triangle)."""
    gmax = _largest_off_diagonal(gamma, math.inf)[0]
    if gmax > GAMMA_MAX:
        raise ValueError(
            f"d: rows of W are too correlated at this size (max |γ| = {gmax:.2f} > {GAMMA_MAX}) for the exact Mehler "
            "expectations; use a larger d (≥ 50 is safe)"
        )
    return _order(gmax)


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
    with the diagonal ``K_kk = ‖ρ‖²(q_k) = norm2[k]`` (``module.row_moments(q)[2]``).

    Quadrature activations take the Mehler sum for the pairs with ``|γ_kl| ≤ GAMMA_MAX`` and the generated
    two-dimensional quadrature ``module.kernel`` (certified at every γ) for the few beyond: rows nearly parallel, which a
    strongly anisotropic ``Σ_t`` gives at small d (the features ``W Σ_t^{1/2} y``)."""
    K = np.zeros_like(gamma)
    if module.EXACT:
        module.kernel_upper(q, gamma, K)
    else:
        largest, first, second = _largest_off_diagonal(gamma, GAMMA_MAX)
        _mehler_pairs(module.hermite_rows(q, _order(largest)), gamma, K)
        for k, l in zip(first, second):
            K[k, l] = module.kernel(gamma[k, l], q[k], q[l])
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


@njit(cache=True, parallel=True)
def _runs(mu, sigma, lowest, nodes):
    """Every feature's points sorted by node (a counting sort): ``order[k]`` lists the points ``i`` of node ``g`` in
    ``start[k, g] ≤ s < start[k, g + 1]``, and ``offset[k, s]`` is the offset ``u`` of point ``order[k, s]``, with
    the node ``round(μ_ki/(STEP σ_k)) − lowest_k`` and ``u = μ_ki/σ_k − STEP round(μ_ki/(STEP σ_k))`` (and zero in
    ``CHUNK`` slots past the last point, which ``_shift`` reads)."""
    p, n = mu.shape
    order = np.empty((p, n), dtype=np.int32)
    offset = np.zeros((p, n + CHUNK))
    start = np.zeros((p, nodes + 1), dtype=np.int64)
    for k in prange(p):
        node = np.empty(n, dtype=np.int64)
        u = np.empty(n)
        for i in range(n):  # no carried dependency: vectorises
            scaled = mu[k, i] / sigma[k]
            g = np.rint(scaled / STEP)  # as in _node_range; the clip only guards the table against a stray tie
            u[i] = scaled - STEP * g
            node[i] = min(max(int(g) - lowest[k], 0), nodes - 1)
        for i in range(n):
            start[k, node[i] + 1] += 1
        for g in range(nodes):
            start[k, g + 1] += start[k, g]
        filled = start[k, :nodes].copy()
        for i in range(n):
            order[k, filled[node[i]]] = i
            offset[k, filled[node[i]]] = u[i]
            filled[node[i]] += 1
    return order, offset, start


@njit(cache=True, parallel=True, fastmath={"contract"})  # FMAs in the Horner steps
def _shift(table, weights, terms, order, offset, start, j, out):
    """``out[k, i] = Σ_{r < terms[j]} table[k, j + r, g] weights[j, r] u^r`` (Horner in ``u``) at every point ``i`` of
    every feature ``k``, with the node ``g`` and the offset ``u`` of ``_runs``."""
    p, n = order.shape
    nodes, top = start.shape[1] - 1, terms[j]
    for block in prange((p + SHIFT_BLOCK - 1) // SHIFT_BLOCK):
        held = np.empty(n + CHUNK)
        coefficients = np.empty((nodes, top))
        for k in range(block * SHIFT_BLOCK, min(p, (block + 1) * SHIFT_BLOCK)):
            for g in range(nodes):
                for r in range(top):
                    coefficients[g, r] = table[k, j + r, g] * weights[j, r]
            # A node's run of points in chunks of CHUNK, a fixed count the compiler makes one vector operation (runs
            # are short, and a loop over a whole run spent its time in its scalar remainder). A chunk may reach into
            # the next run, which overwrites it, or into the CHUNK slots past the last point.
            for g in range(nodes):
                c = coefficients[g]
                for first in range(start[k, g], start[k, g + 1], CHUNK):
                    h, u = held[first : first + CHUNK], offset[k, first : first + CHUNK]
                    for s in range(CHUNK):
                        h[s] = c[top - 1]
                    for r in range(top - 2, -1, -1):
                        for s in range(CHUNK):
                            h[s] = h[s] * u[s] + c[r]
            for s in range(n):
                out[k, order[k, s]] = held[s]


@njit(cache=True, parallel=True, fastmath={"reassoc"})  # lets the sums over the runs and the nodes vectorise
def _averages(table, weights, terms, squares, square_weights, offset, start):
    """Means over the points ``i`` of ``ĉ_j(μ_ki, σ_k)`` and ``ĉ_j²`` for ``j < weights.shape[0]``, and of
    ``E ρ(μ_ki + σ_k g)²``, from the moments of the offsets at each node: with ``a_r = table[k, j + r, g] weights[j, r]``
    and ``M_g[m] = Σ_{i at node g} u_i^m``,

        Σ_{i at g} ĉ_j = Σ_r a_r M_g[r],        Σ_{i at g} ĉ_j² = Σ_{r,s} a_r a_s M_g[r + s],

    the Taylor shifts of ``_shift`` summed without being evaluated at every point."""
    p, n = offset.shape[0], offset.shape[1] - CHUNK
    orders, nodes = weights.shape[0], table.shape[2]
    size = 2 * max(terms.max(), squares.shape[1]) - 1
    means = np.empty((orders, p))
    powers = np.empty((orders, p))
    second = np.empty(p)
    for k in prange(p):
        power = np.ones(n)
        moments = np.empty((size, nodes))
        for m in range(size):
            for g in range(nodes):
                total = 0.0
                for s in range(start[k, g], start[k, g + 1]):
                    total += power[s]
                moments[m, g] = total
            for s in range(n):
                power[s] *= offset[k, s]
        # Orders and pairs (r, s) outside, nodes inside: the loops over the nodes have no carried dependency.
        a = np.empty((terms.max(), nodes))
        total, total2 = np.empty(nodes), np.empty(nodes)
        for j in range(orders):
            for r in range(terms[j]):
                for g in range(nodes):
                    a[r, g] = table[k, j + r, g] * weights[j, r]
            total[:] = 0.0
            total2[:] = 0.0
            for r in range(terms[j]):
                for g in range(nodes):
                    total[g] += a[r, g] * moments[r, g]
                    total2[g] += a[r, g] * a[r, g] * moments[2 * r, g]
                for s in range(r + 1, terms[j]):
                    for g in range(nodes):
                        total2[g] += 2.0 * a[r, g] * a[s, g] * moments[r + s, g]
            means[j, k], powers[j, k] = total.sum() / n, total2.sum() / n
        result = 0.0
        for r in range(squares.shape[1]):
            for g in range(nodes):
                result += squares[k, r, g] * square_weights[r] * moments[r, g]
        second[k] = result / n
    return means, powers, second


class ShiftedHermite:
    """``ĉ_j(μ_ki, σ_k) = c_j(μ_ki, σ_k)/√j!`` for ``j ≤ order``, features ``k`` and points ``i`` (``mu`` is ``p × n``),
    by exact Taylor shifts from a grid of quadrature nodes, and their means over the points.

    ``c_j(μ, σ) = σ^j ∂^j_μ E ρ(μ + σ g)``, so ``∂_μ c_j = c_{j+1}/σ`` and, with ``μ = μ₀ + u σ``,

        ĉ_j(μ, σ) = Σ_r ĉ_{j+r}(μ₀, σ) u^r √((j+r)!/j!)/r!,      E ρ(μ + σ g)² = Σ_r ê_r(μ₀, σ) u^r/√r!,

    with ``ê_r = E[ρ(μ₀ + σ g)² He_r(g)]/√r!``. Both series converge for every ``u`` (``E ρ(μ + σ g)`` is entire in
    ``μ`` for ``σ > 0``, kinks and jumps included). The nodes are ``μ₀ = STEP σ_k · g`` (integer ``g``), so
    ``|u| ≤ STEP/2``; there the quadrature gives ``ĉ`` up to ``order + taylor_terms(order) − 1`` and ``ê`` up to
    ``taylor_terms(0) − 1``, and order ``j`` takes ``taylor_terms(j)`` terms (11 to 14 FMAs a point). The quadrature
    runs at ``(range of μ)/(STEP σ)`` nodes per feature instead of at every one of the ``n`` points (about 40 instead of
    2000 at t = 0.3, d = 1000, ψn = 2).

    The means over the points (``means[j]``: ``ĉ_j``; ``powers[j]``: ``ĉ_j²``; ``second``: ``E ρ²``) come from the
    moments of the offsets at each node (``_averages``), without the coefficients at every point; ``coefficients``
    evaluates one order at every point, so a caller holds one ``p × n`` page at a time.
    """

    def __init__(self, rho, mu: np.ndarray, sigma: np.ndarray, order: int):
        mu, sigma = np.ascontiguousarray(mu), np.asarray(sigma, dtype=float)
        self.shape, self.order = mu.shape, order
        lowest, highest = _node_range(mu, sigma)
        count = int((highest - lowest).max()) + 1
        nodes = (lowest + np.arange(count)[:, None]) * (STEP * sigma)  # count × p
        self._terms = np.array([taylor_terms(j) for j in range(order + 1)])
        top, square_top = order + self._terms[-1] - 1, taylor_terms(0) - 1  # the terms needed grow with the order
        table = np.empty((top + 1, count, sigma.size))
        squares = np.empty((square_top + 1, count, sigma.size))
        for start in range(0, count, BLOCK):
            block = np.ascontiguousarray(nodes[start : start + BLOCK])
            values = _points(block, sigma)
            _apply(rho, values)
            table[:, start : start + BLOCK], squares[:, start : start + BLOCK] = _project(block, sigma, values, top,
                                                                                          square_top)
        # feature, order, node: the rows a feature reads are contiguous
        self._table = np.ascontiguousarray(table.transpose(2, 0, 1))
        j, r = np.arange(order + 1)[:, None], np.arange(self._terms[-1])[None, :]
        self._weights = np.exp(0.5 * (gammaln(j + r + 1) - gammaln(j + 1)) - gammaln(r + 1))
        self._sorted, self._offset, self._start = _runs(mu, sigma, lowest, count)
        self.means, self.powers, self.second = _averages(
            self._table, self._weights, self._terms, np.ascontiguousarray(squares.transpose(2, 0, 1)),
            np.exp(-0.5 * gammaln(np.arange(square_top + 1.0) + 1.0)), self._offset, self._start)

    def coefficients(self, j: int, out: np.ndarray) -> np.ndarray:
        """``ĉ_j`` at every feature and point, written into ``out`` (``p × n``, C order) and returned."""
        _shift(self._table, self._weights, self._terms, self._sorted, self._offset, self._start, j, out)
        return out


def order_roots(powers: np.ndarray, diagonal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The relative roots ``s_j(k) = √(powers[j, k]/E_k + TAIL_MARGIN)`` of every order ``j`` of ``powers``
    (``(orders, p)``: ``(1/n) Σ_i ĉ_j(k, i)²``) and ``R(k) = √(r(k) + TAIL_MARGIN)`` of the share past the last one,
    ``r(k) = (E_k − Σ_j powers[j, k])/E_k`` (each at most 1; ``E_k = diagonal[k]``)."""
    share = powers / diagonal
    rest = np.maximum(1.0 - share.sum(axis=0), 0.0)
    return np.sqrt(np.minimum(share + TAIL_MARGIN, 1.0)), np.sqrt(np.minimum(rest + TAIL_MARGIN, 1.0))


@njit(cache=True)
def _column(m, p):
    """Column ``l`` of iteration ``m`` of a parallel loop over the upper triangle: ``0, p−1, 1, p−2, …``, so that the
    contiguous blocks of ``m`` a static schedule gives each thread hold as many pairs ``k < l`` as the others."""
    return m // 2 if m % 2 == 0 else p - 1 - m // 2


@njit(cache=True, parallel=True)
def _pair_orders(gamma, roots, remainder):
    """``J_kl`` for every pair ``k < l`` (upper triangle of an ``int8`` matrix) and how many pairs need each
    ``J = 0 … top`` (``top = roots.shape[0] − 1``): the least ``J ≥ 1`` with

        B_J = Σ_{J < j ≤ top} |γ_kl|^j s_j(k) s_j(l) + |γ_kl|^{top+1} R(k) R(l) ≤ MEHLER_TOL

    (``roots``, ``remainder`` from ``order_roots``). ``B_J`` falls with ``J``, so ``J_kl = 1 + #{1 ≤ J < top:
    B_J > MEHLER_TOL}``, summed from ``top`` down without branches; the loops over ``k`` vectorise.
    """
    top = roots.shape[0] - 1
    p = gamma.shape[0]
    orders = np.zeros((p, p), dtype=np.int8)
    counts = np.zeros((p, top + 1), dtype=np.int64)  # one row per column l: no two threads write the same count
    for m in prange(p):
        l = _column(m, p)
        size = np.abs(gamma[:l, l])
        terms = np.empty((top + 1, l))
        power = size.copy()
        for j in range(1, top + 1):
            for k in range(l):
                terms[j, k] = power[k] * roots[j, k] * roots[j, l]
                power[k] *= size[k]
        bound = power * remainder[:l] * remainder[l]
        order = np.ones(l, dtype=np.int64)
        for J in range(top - 1, 0, -1):
            for k in range(l):
                bound[k] += terms[J + 1, k]
                order[k] += bound[k] > MEHLER_TOL
        for k in range(l):
            orders[k, l] = order[k]
            counts[l, order[k]] += 1
    return orders, counts.sum(axis=0)


@njit(cache=True, parallel=True, fastmath={"reassoc"})  # lets the dot products vectorise
def _sparse_order(page, j, first, second, orders, gamma, total):
    """``total[k, l] += γ_kl^j ⟨c_j[k], c_j[l]⟩/n`` for the pairs ``(first, second)`` with ``J_kl ≥ j`` (``page`` is
    ``c_j``, ``p × n``; ``orders`` from ``_pair_orders``)."""
    n = page.shape[1]
    for pair in prange(first.size):
        k, l = first[pair], second[pair]
        if orders[k, l] >= j:
            dot = 0.0
            for i in range(n):
                dot += page[k, i] * page[l, i]
            total[k, l] += gamma[k, l] ** j * dot / n


def mehler_sum(shifted: ShiftedHermite, gamma: np.ndarray) -> np.ndarray:
    """Upper triangle of ``(1/n) Σ_i Σ_{j ≤ J_kl} Γ^{∘j} ∘ (C_j[:, i] C_j[:, i]ᵀ)`` with diagonal
    ``E_k = (1/n) Σ_i E ρ(μ_ki + σ_k g)²``, where ``C_j[k, i] = ĉ_j(μ_ki, σ_k)`` (``shifted``).

    Each pair stops at its own order ``J_kl`` (``_pair_orders``): by Cauchy–Schwarz over the points,
    ``|⟨c_j[k], c_j[l]⟩|/n ≤ √(P_j(k) P_j(l))`` with ``P_j(k) = (1/n) Σ_i ĉ_j(k, i)²``, and over the orders past the
    last one computed, so the truncated tail is at most ``B_J √(E_k E_l)`` with

        B_J = Σ_{J < j ≤ top} |γ_kl|^j s_j(k) s_j(l) + |γ_kl|^{top+1} R(k) R(l),

    ``s_j = √(P_j/E + TAIL_MARGIN)`` and ``R`` the root of the share of ``E`` past ``top`` (``order_roots``).
    ``B_J ≤ MEHLER_TOL`` is the accuracy of the module docstring. The margin covers the error of the computed
    ``P_j`` (quadrature and Taylor shifts, about 1e-13 of ``E``). For smooth activations the coefficients decay fast
    and most pairs stop orders earlier than ``|γ_kl|^{J+1} ≤ MEHLER_TOL`` alone would allow. Weighing each order by
    its own power, rather than the whole tail past ``J`` by ``|γ_kl|^{J+1}``, matters for ReLU, whose coefficients
    decay slowly: at d = 1000, ψ = 2 its mean ``J_kl`` falls from 5.14 to 4.84 and the SYRKs from 8 to 7.

    Orders ``j ≤ J₀`` for every pair by Horner in ``Γ`` from ``J₀`` down, ``T ← T ∘ Γ + (1/n) C_j C_jᵀ``: one SYRK
    accumulating into ``T`` in place (``beta = 1``) and one NumPy product per order (single-threaded on purpose: a
    Numba parallel loop between the SYRKs waits on OpenBLAS's spinning threads, several times its own cost on two
    cores). Orders ``J₀ < j ≤ J_kl`` by dot products for the few pairs that need them. ``J₀`` minimises the cost of
    the two, counted in multiply-adds with SYRK's ``SYRK_ADVANTAGE``. One order's ``C_j`` is held at a time: a fresh
    ``(orders, p, n)`` array (400 MB at d = 1000) cost more in page faults than its Taylor shifts.
    """
    p, n = shifted.shape
    needed, counts = _pair_orders(gamma, *order_roots(shifted.powers, shifted.second))
    levels = np.arange(counts.size)
    sparse = np.array([np.sum(counts * np.maximum(levels - J, 0)) for J in levels])
    dense = max(1, int(np.argmin((levels + 1) * (p * (p + 1) / 2) / SYRK_ADVANTAGE + sparse)))
    page = np.empty((p, n))  # C_j, p × n rows seen by BLAS as an n × p Fortran matrix
    total = dsyrk(1.0 / n, shifted.coefficients(dense, page).T, trans=1)
    for j in range(dense - 1, -1, -1):
        total *= gamma
        total = dsyrk(1.0 / n, shifted.coefficients(j, page).T, beta=1.0, c=total, trans=1, overwrite_c=True)
    last = int(np.flatnonzero(counts)[-1]) if p > 1 else 0
    if last > dense:
        first, second = np.nonzero(needed > dense)
        for j in range(dense + 1, last + 1):
            _sparse_order(shifted.coefficients(j, page), j, first, second, needed, gamma, total)
    np.fill_diagonal(total, shifted.second)
    return total
