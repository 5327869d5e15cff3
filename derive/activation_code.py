"""Emit the module ``generated/activations/<name>.py`` of an activation.

Every module defines

- ``rho(x)``: the activation, a Numba ufunc (works on arrays from Python and on scalars inside jitted code);
- ``moments(q) -> (μ0, μ1, ‖ρ‖²)`` of ``ρ(√q g)``;
- ``kernel(gamma, q1, q2) = E[ρ(√q1 g) ρ(√q2 g')]``, ``corr(g, g') = γ ∈ [−1, 1]``;
- ``hermite(q, K)``: the Hermite coefficients ``c_0 … c_K`` of ``ρ(√q g)`` (quadrature modules only; the simulator
  sums the Mehler series with them where no closed-form kernel exists);
- ``row_moments(q)``, ``kernel_upper(q, gamma, out)`` and (quadrature modules) ``hermite_rows(q, K)``: the same over
  arrays, for the simulator. They live here, calling the module's own functions as globals, because Numba caches no
  function that takes compiled functions as arguments: a generic loop in rfdsm/ would recompile in every process;

and the flags ``EXACT`` (closed forms) and ``SPEC``/``EXPRESSION`` (what it was generated from).

Quadrature: the trapezoid rule with step ``STEP`` on ``[−HALF_WIDTH, HALF_WIDTH]`` against the Gaussian weight. For an
integrand analytic in a strip of half-width ``w`` its error is ``O(exp(−2π w/STEP))`` (Trefethen & Weideman 2014),
so for tanh at ``q ≤ 4`` (poles at ``±iπ/(2√q)``) it is far below 1e-15; truncation at 12 standard deviations costs
``e^{−72}``. For an activation that is not smooth the rule is only algebraically accurate: ``certify`` measures the
error by halving the step and ``python -m derive`` reports it.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derive import gaussian
from derive.activations import Activation, x
from derive.emit import assignments, code, header

STEP = 1 / 8
HALF_WIDTH = 12.0
SOURCES = ["activations.py", "activation_code.py", "emit.py", "gaussian.py"]

_PRELUDE = '''{header}"""Activation {name}: ρ(x) = {expr}. {how}"""

import math

import numba
{numpy}
NAME = "{name}"
SPEC = "{spec}"
EXPRESSION = "{expr}"
EXACT = {exact}


@numba.vectorize(["float64(float64)"], cache=True)
def rho(x):
    """ρ(x) = {expr}"""
    return {rho}
'''

_EXACT = '''

@numba.njit(cache=True)
def moments(q):
    """(μ0, μ1, ‖ρ‖²) of ρ(√q g), g ~ N(0, 1):
    μ0 = {mu0}
    μ1 = {mu1}
    ‖ρ‖² = {norm2}
    """
{moment_lines}    return ({moments})


@numba.njit(cache=True)
def kernel(gamma, q1, q2):
    """E[ρ(√q1 g) ρ(√q2 g')] with corr(g, g') = γ:
    {kernel_doc}
    """
    gamma = min(1.0, max(-1.0, gamma))
{kernel_lines}    return {kernel}
'''

_QUADRATURE = '''

STEP = {step!r}
NODES = STEP * np.arange(-{n}, {n} + 1)
WEIGHTS = STEP * np.exp(-NODES**2 / 2) / math.sqrt(2 * math.pi)


@numba.njit(cache=True)
def moments(q):
    """(μ0, μ1, ‖ρ‖²) = (E ρ(√q g), E[g ρ(√q g)], E ρ(√q g)²), g ~ N(0, 1), by the trapezoid rule."""
    s = math.sqrt(q)
    mu0 = mu1 = norm2 = 0.0
    for i in range(NODES.size):
        r = rho(s * NODES[i])
        mu0 += WEIGHTS[i] * r
        mu1 += WEIGHTS[i] * NODES[i] * r
        norm2 += WEIGHTS[i] * r * r
    return (mu0, mu1, norm2)


@numba.njit(cache=True)
def kernel(gamma, q1, q2):
    """E[ρ(√q1 u) ρ(√q2 (γ u + √(1 − γ²) w))], u, w ~ N(0, 1) independent, by the product trapezoid rule."""
    gamma = min(1.0, max(-1.0, gamma))
    c = math.sqrt(1.0 - gamma * gamma)
    s1 = math.sqrt(q1)
    s2 = math.sqrt(q2)
    total = 0.0
    for i in range(NODES.size):
        inner = 0.0
        for j in range(NODES.size):
            inner += WEIGHTS[j] * rho(s2 * (gamma * NODES[i] + c * NODES[j]))
        total += WEIGHTS[i] * rho(s1 * NODES[i]) * inner
    return total


@numba.njit(cache=True, fastmath={{"reassoc"}})  # lets the node sums vectorise (reassociation, nothing else)
def hermite(q, K):
    """c_k = E[ρ(√q g) He_k(g)] for k = 0 … K, with He_(k+1)(g) = g He_k(g) − k He_(k−1)(g)."""
    s = math.sqrt(q)
    weighted = np.empty(NODES.size)
    for i in range(NODES.size):
        weighted[i] = WEIGHTS[i] * rho(s * NODES[i])
    # Orders outside, nodes inside: the node loop carries no dependency and vectorises.
    he_prev = np.zeros(NODES.size)
    he = np.ones(NODES.size)
    c = np.empty(K + 1)
    for k in range(K + 1):
        total = 0.0
        for i in range(NODES.size):
            total += weighted[i] * he[i]
            following = NODES[i] * he[i] - k * he_prev[i]
            he_prev[i] = he[i]
            he[i] = following
        c[k] = total
    return c


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
'''

# Every module, after its moments and kernel. kernel_upper is serial on purpose: a Numba (OpenMP) parallel region
# leaves spinning threads that slow the BLAS call after it by more than it saves (2 cores, ReLU at p = 1000: −2 ms in
# the loop, +4 to 6 ms in the SYRK that follows).
_ROWS = '''

@numba.njit(cache=True)
def row_moments(q):
    """moments(q_k) for every entry q_k of the array q, as the three rows of a (3, q.size) array."""
    out = np.empty((3, q.size))
    for k in range(q.size):
        out[0, k], out[1, k], out[2, k] = moments(q[k])
    return out


@numba.njit(cache=True)
def kernel_upper(q, gamma, out):
    """out[k, l] = kernel(gamma[k, l], q[k], q[l]) for k < l: the strict upper triangle, column by column (contiguous
    in Fortran order)."""
    for l in range(q.size):
        for k in range(l):
            out[k, l] = kernel(gamma[k, l], q[k], q[l])
'''


def render(act: Activation, spec: str) -> str:
    """Source of the generated module of ``act``; ``spec`` is what ``python -m derive --activation`` was given."""
    text = _PRELUDE.format(
        header=header(SOURCES, spec),
        name=act.name,
        spec=spec,
        expr=sp.sstr(act.expr),
        how="Constants in closed form (SymPy)." if act.exact else "Constants by quadrature.",
        exact=act.exact,
        numpy="import numpy as np\n",
        rho=code(act.expr),
    )
    if not act.exact:
        return text + _QUADRATURE.format(step=STEP, n=int(HALF_WIDTH / STEP)) + _ROWS
    moment_exprs = list(gaussian.moments(act))
    moment_lines, moment_code = assignments(moment_exprs)
    kern = gaussian.kernel(act)
    kernel_lines, (kernel_code,) = assignments([kern])
    return text + _EXACT.format(
        mu0=sp.sstr(moment_exprs[0]),
        mu1=sp.sstr(moment_exprs[1]),
        norm2=sp.sstr(moment_exprs[2]),
        moment_lines="".join(line + "\n" for line in moment_lines),
        moments=", ".join(moment_code),
        kernel_doc=sp.sstr(kern),
        kernel_lines="".join(line + "\n" for line in kernel_lines),
        kernel=kernel_code,
    ) + _ROWS


def certify(act: Activation) -> float:
    """Estimated absolute error of the quadrature of a non-exact activation: the largest change of the moments and of
    the kernel over a few ``(γ, q)`` when the step is halved."""
    rho = sp.lambdify(x, act.expr, ["scipy", "numpy"])

    def constants(step: float) -> np.ndarray:
        nodes = step * np.arange(-int(HALF_WIDTH / step), int(HALF_WIDTH / step) + 1)
        weights = step * np.exp(-(nodes**2) / 2) / np.sqrt(2 * np.pi)
        values = []
        for var in (0.5, 1.0, 2.0):
            r = np.broadcast_to(rho(np.sqrt(var) * nodes), nodes.shape)
            values += [weights @ r, weights @ (nodes * r), weights @ r**2]
            for corr in (-1.0, -0.3, 0.5, 0.9, 1.0):
                inner = rho(np.sqrt(var) * (corr * nodes[:, None] + np.sqrt(1 - corr**2) * nodes[None, :]))
                values.append(weights @ (r * (np.broadcast_to(inner, (nodes.size, nodes.size)) @ weights)))
        return np.array(values)

    return float(np.max(np.abs(constants(STEP) - constants(STEP / 2))))
