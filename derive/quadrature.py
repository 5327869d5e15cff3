"""The Gaussian quadrature of an activation without closed forms, appended verbatim (below the marker) to its generated
module, which defines ``rho``, ``check_q`` and ``check_gamma`` (derive/activation_loops.py).

Every constant is an expectation ``E f(g)``, ``g ~ N(0, 1)``, of an integrand built from ``ρ(μ + σ g)``. The rule is
composite Gauss–Legendre (``PANEL_NODES`` nodes a panel) on ``[−HALF_WIDTH, HALF_WIDTH]`` (the weight beyond is below
``e^{−72}``), with the cuts

- ``−HALF_WIDTH, −HALF_WIDTH + PANEL_WIDTH, …, HALF_WIDTH``: the scale of the Gaussian weight;
- ``c`` and ``c ± ℓ 2^k`` for every ``ℓ 2^k < PANEL_WIDTH``, where ``ρ`` changes: at ``c = −μ/σ`` (``x = 0``, the
  kink or the steepest part of every activation of the project) on the scale ``ℓ = 1/σ`` (``|x| = 1, 2, 4, …``).

So ``ρ(√q g)`` is integrated as accurately at ``q = 10⁸`` as at ``q = 1`` (tanh at ``q = 10⁴``: 1e-15 relative error
in ‖ρ‖², against 4 % with the uniform trapezoid rule this replaces): on every panel the integrand is analytic (a kink
only at a cut) and resolved on the panel's own scale, where Gauss–Legendre converges exponentially. The grading costs
``2 log₂ √q`` panels.

The kernel ``E[ρ(√q1 u) ρ(√q2 u')]``, ``u' = γ u + √(1 − γ²) w``, is an inner rule in ``w`` at each node of an outer
rule in ``u``. The inner integral ``E_w ρ(√q2 (γ u + c w))`` is ρ smoothed over ``σ = √q2 c``, ``c = √(1 − γ²)``; as a
function of ``u`` its features have width at least ``c/|γ|`` (a kink, smoothed) and ``1/(√q2 |γ|)`` (the scale of ρ),
so the outer rule is graded down to the least of those and ``1/√q1``.

``python -m derive`` measures the error of this rule against a finer one over a grid of ``q`` and writes the range
where it is below ``derive.certify.TOLERANCE`` into ``Q_MIN, Q_MAX``; ``check_q`` refuses any other ``q``.
"""
# ruff: noqa: F821 -- rho and the checks are defined by the generated module this text is appended to.

import math

import numba
import numpy as np

# --- emitted below ---
#: The rule: Gauss–Legendre nodes per panel, the widest panel and the half-width of the interval, in units of g.
PANEL_NODES = 16
PANEL_WIDTH = 2.0
HALF_WIDTH = 12.0
#: Highest Hermite order certified (the simulator's Mehler sums need at most 96, at the largest correlation it accepts).
HERMITE_ORDER = 100
RULE = (*np.polynomial.legendre.leggauss(PANEL_NODES), PANEL_WIDTH, HALF_WIDTH)


@numba.njit(cache=True)
def cuts(center, scale, width, half_width):
    """Sorted cuts of ``[−half_width, half_width]``: the grid of step ``width``, and ``center + {0, ±scale 2^k}`` for
    ``scale 2^k < width`` (those inside); a merge of the two sorted lists."""
    grid = round(2.0 * half_width / width)
    levels = 0 if scale >= width else math.ceil(math.log2(width / scale))
    graded = np.empty(2 * levels + 1)
    graded[levels] = center
    offset = scale
    for k in range(levels):
        graded[levels - 1 - k] = center - offset
        graded[levels + 1 + k] = center + offset
        offset *= 2.0
    out = np.empty(grid + 1 + graded.size)
    n = i = j = 0
    while i <= grid or j < graded.size:
        if j == graded.size or (i <= grid and -half_width + i * width <= graded[j]):
            cut = -half_width + i * width
            i += 1
        else:
            cut = graded[j]
            j += 1
            if not -half_width < cut < half_width:
                continue
        if n == 0 or cut > out[n - 1]:
            out[n] = cut
            n += 1
    return out[:n]


@numba.njit(cache=True)
def gaussian_rule(center, scale, rule):
    """Nodes ``g`` and weights ``w φ(g)`` of the composite rule on ``cuts(center, scale, …)``:
    ``E f(g) ≈ Σ w_i f(g_i)``."""
    base, base_weights, width, half_width = rule
    edges = cuts(center, scale, width, half_width)
    n = base.size
    nodes = np.empty((edges.size - 1) * n)
    weights = np.empty(nodes.size)
    for p in range(edges.size - 1):
        mid = 0.5 * (edges[p] + edges[p + 1])
        half = 0.5 * (edges[p + 1] - edges[p])
        for i in range(n):
            g = mid + half * base[i]
            nodes[p * n + i] = g
            weights[p * n + i] = half * base_weights[i] * math.exp(-0.5 * g * g) / math.sqrt(2.0 * math.pi)
    return nodes, weights


@numba.njit(cache=True)
def gaussian_rules(centers, scale, rule):
    """``gaussian_rule(centers[i], scale, rule)`` as the rows of two arrays, padded with weight 0 (at a node of the
    row, so that the padding never evaluates ρ anywhere new)."""
    base = rule[0]
    width, half_width = rule[2], rule[3]
    levels = 0 if scale >= width else math.ceil(math.log2(width / scale))
    size = (round(2.0 * half_width / width) + 1 + 2 * levels) * base.size
    nodes = np.empty((centers.size, size))
    weights = np.zeros((centers.size, size))
    for i in range(centers.size):
        g, w = gaussian_rule(centers[i], scale, rule)
        nodes[i, :g.size] = g
        nodes[i, g.size:] = g[0]
        weights[i, :g.size] = w
    return nodes, weights


@numba.njit(cache=True)
def moments_by(q, rule):
    """``(E ρ(√q g), E[g ρ(√q g)], E ρ(√q g)²)`` by ``rule``."""
    s = math.sqrt(q)
    nodes, weights = gaussian_rule(0.0, 1.0 / s, rule)
    mu0 = mu1 = norm2 = 0.0
    for i in range(nodes.size):
        r = rho(s * nodes[i])
        mu0 += weights[i] * r
        mu1 += weights[i] * nodes[i] * r
        norm2 += weights[i] * r * r
    return (mu0, mu1, norm2)


@numba.njit(cache=True)
def kernel_scales(gamma, q1, q2):
    """``(c, outer, inner)``: ``c = √(1 − γ²)`` and the scales of the outer rule in ``u`` (centred at 0) and of the
    inner rule in ``w`` (centred at ``−γ u/c``) of ``kernel_by``."""
    c = math.sqrt((1.0 - gamma) * (1.0 + gamma))  # no cancellation near |γ| = 1
    s1 = math.sqrt(q1)
    s2 = math.sqrt(q2)
    outer = 1.0 / s1
    if c == 0.0:  # u' = ±u: no inner rule
        return c, min(outer, 1.0 / s2), math.inf
    if gamma != 0.0:
        outer = min(outer, 1.0 / (s2 * abs(gamma)), c / abs(gamma))
    return c, outer, 1.0 / (s2 * c)


@numba.njit(cache=True)
def kernel_by(gamma, q1, q2, rule):
    """``E[ρ(√q1 u) ρ(√q2 (γ u + c w))]``, ``c = √(1 − γ²)``, ``u, w ~ N(0, 1)`` independent, by ``rule`` (module
    docstring: the grading of the outer rule)."""
    gamma = min(1.0, max(-1.0, gamma))
    c, outer_scale, inner_scale = kernel_scales(gamma, q1, q2)
    s1 = math.sqrt(q1)
    s2 = math.sqrt(q2)
    outer, outer_weights = gaussian_rule(0.0, outer_scale, rule)
    total = 0.0
    if c == 0.0:  # u' = ±u: a single integral
        for i in range(outer.size):
            total += outer_weights[i] * rho(s1 * outer[i]) * rho(s2 * gamma * outer[i])
        return total
    inner, inner_weights = gaussian_rules(-gamma * outer / c, inner_scale, rule)
    for i in range(outer.size):
        smoothed = 0.0
        for j in range(inner.shape[1]):
            smoothed += inner_weights[i, j] * rho(s2 * (gamma * outer[i] + c * inner[i, j]))
        total += outer_weights[i] * rho(s1 * outer[i]) * smoothed
    return total


@numba.njit(cache=True, fastmath={"reassoc"})  # lets the node sums vectorise (reassociation, nothing else)
def hermite_by(q, K, rule):
    """``c_k = E[ρ(√q g) He_k(g)]`` for ``k = 0 … K`` by ``rule``, with ``He_(k+1)(g) = g He_k(g) − k He_(k−1)(g)``."""
    s = math.sqrt(q)
    nodes, weights = gaussian_rule(0.0, 1.0 / s, rule)
    weighted = np.empty(nodes.size)
    for i in range(nodes.size):
        weighted[i] = weights[i] * rho(s * nodes[i])
    # Orders outside, nodes inside: the node loop carries no dependency and vectorises.
    he_prev = np.zeros(nodes.size)
    he = np.ones(nodes.size)
    c = np.empty(K + 1)
    for k in range(K + 1):
        total = 0.0
        for i in range(nodes.size):
            total += weighted[i] * he[i]
            following = nodes[i] * he[i] - k * he_prev[i]
            he_prev[i] = he[i]
            he[i] = following
        c[k] = total
    return c


@numba.njit(cache=True)
def moments(q):
    """(μ0, μ1, ‖ρ‖²) = (E ρ(√q g), E[g ρ(√q g)], E ρ(√q g)²), g ~ N(0, 1), for ``Q_MIN ≤ q ≤ Q_MAX``."""
    check_q(q)
    return moments_by(q, RULE)


@numba.njit(cache=True)
def kernel(gamma, q1, q2):
    """E[ρ(√q1 g) ρ(√q2 g')] with corr(g, g') = γ, for ``q1, q2`` in ``[Q_MIN, Q_MAX]``."""
    check_q(q1)
    check_q(q2)
    check_gamma(gamma)
    return kernel_by(gamma, q1, q2, RULE)


@numba.njit(cache=True)
def hermite(q, K):
    """The Hermite coefficients ``c_k = E[ρ(√q g) He_k(g)]``, ``k = 0 … K ≤ HERMITE_ORDER``."""
    check_q(q)
    if not 0 <= K <= HERMITE_ORDER:
        raise ValueError("K: the Hermite order must lie in [0, HERMITE_ORDER], the orders certified")
    return hermite_by(q, K, RULE)


@numba.njit(cache=True)
def hermite_rows(q, K):
    """hermite(q_k, K)[j] / √j! for every entry q_k of the array q, shape (K + 1, q.size)."""
    out = np.empty((K + 1, q.size))
    for k in range(q.size):
        c = hermite(q[k], K)
        norm = 1.0
        for j in range(K + 1):
            if j > 0:
                norm *= math.sqrt(j)
            out[j, k] = c[j] / norm
    return out
