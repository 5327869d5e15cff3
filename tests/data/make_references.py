"""Write tests/data/activation_references.json: the reference values of tests/test_activation_constants.py and
tests/test_gaussian_constants.py, too slow to recompute on every test run (about an hour of CPU).

    python tests/data/make_references.py

- ``moments``, ``kernels``: Gaussian integrals of the quadrature activations by mpmath at 30 (kernels: 20) digits,
  each split where the integrand changes (at ``x = 0`` on the scale 1/√q): at large ``q`` as well as at ``q = 1``.
- ``hermite``: the Hermite coefficients ``c_k(q) = E[ρ(√q g) He_k(g)]``, k ≤ 4, and ``E ρ(√q g)²`` of the closed-form
  activations, integrated by SymPy (derive/gaussian_constants.py), as SymPy strings in ``q``.
- ``inputs``: what the values were computed from (the expression of each activation), so that a test can tell when
  they are stale.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import sys
from pathlib import Path

import mpmath as mp
import sympy as sp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from derive import gaussian_constants
from derive.activations import BUILTINS, parse

OUT = Path(__file__).with_name("activation_references.json")
QUADRATURE = {"tanh": "tanh", "sigmoid": "sigmoid", "softplus": "softplus", "gelu": "gelu", "silu": "silu",
              "xerf": "x*erf(x)"}
MP_RHO = {
    "tanh": mp.tanh,
    "sigmoid": lambda u: 1 / (1 + mp.exp(-u)),
    "softplus": lambda u: mp.log(1 + mp.exp(u)),
    "gelu": lambda u: u * (1 + mp.erf(u / mp.sqrt(2))) / 2,
    "silu": lambda u: u / (1 + mp.exp(-u)),
    "xerf": lambda u: u * mp.erf(u),
}
MOMENT_Q = [1e-4, 0.6, 1.0, 1.7, 1e4, 1e8]
#: (activation, γ, q1, q2): the two of the original tests, and large, small and unequal variances.
KERNELS = [("tanh", math.exp(-0.2), 1.0, 1.0), ("gelu", math.exp(-2.0), 1.0, 1.0), ("tanh", 0.9, 1e4, 1e4),
           ("softplus", 0.5, 1e2, 2e2), ("sigmoid", -0.6, 1e-4, 1e-4), ("xerf", 0.99, 1e4, 1e4)]
#: (activation, t, tr Σ/d) where q = a² tr Σ/d + h = 1e4: the case where the uniform trapezoid rule gave κ > 1.
KAPPA = [("tanh", 0.01, (1e4 + math.expm1(-0.02)) / math.exp(-0.02))]
HERMITE_ORDER = 4
CLOSED_FORMS = [name for name, act in BUILTINS.items() if act.exact]


def cuts(scale: mp.mpf, center=0) -> list:
    """Breakpoints for mp.quad: ``center ± scale 2^k`` up to 16, and the Gaussian's ±16 (its weight beyond: 1e-57)."""
    points = {mp.mpf(center)}
    offset = mp.mpf(scale)
    while offset < 16:
        points |= {center - offset, center + offset}
        offset *= 2
    return [-mp.inf] + sorted(p for p in points | {mp.mpf(-16), mp.mpf(16)} if -16 <= p <= 16) + [mp.inf]


def mean(f, scale) -> mp.mpf:
    return mp.quad(lambda u: f(u) * mp.npdf(u), cuts(scale))


def moments(name: str, q: float) -> list[str]:
    rho, s = MP_RHO[name], mp.sqrt(q)
    values = [mean(lambda u: rho(s * u), 1 / s), mean(lambda u: u * rho(s * u), 1 / s),
              mean(lambda u: rho(s * u) ** 2, 1 / s)]
    return [mp.nstr(v, 25) for v in values]


def kernel(name: str, gamma: float, q1: float, q2: float) -> str:
    """``E[ρ(√q1 u) ρ(√q2 (γ u + c w))]``: the inner integral split at the kink ``w = −γ u/c`` on the scale
    ``1/(√q2 c)``, the outer at ``u = 0`` on the finest scale of the integrand."""
    rho = MP_RHO[name]
    gamma = mp.mpf(gamma)
    c, s1, s2 = mp.sqrt(1 - gamma**2), mp.sqrt(q1), mp.sqrt(q2)

    def inner(u):
        return mp.quad(lambda w: rho(s2 * (gamma * u + c * w)) * mp.npdf(w), cuts(1 / (s2 * c), -gamma * u / c),
                       method="gauss-legendre")

    outer_scale = min(1 / s1, 1 / (s2 * abs(gamma)), c / abs(gamma))
    return mp.nstr(mp.quad(lambda u: rho(s1 * u) * inner(u) * mp.npdf(u), cuts(outer_scale),
                           method="gauss-legendre"), 20)


def kernel_row(case: tuple) -> list:
    mp.mp.dps = 20
    return [*case, kernel(*case)]


def kappa_row(case: tuple) -> list:
    """``κ(γ_t) = (K(γ_t, q, q) − μ0² − γ_t μ1²)/μ*²`` at ``q = a² tr Σ/d + h``, ``γ_t = a² (tr Σ/d)/q``."""
    name, t, second_moment = case
    mp.mp.dps = 20
    a2, h = math.exp(-2 * t), -math.expm1(-2 * t)
    q = a2 * second_moment + h
    gamma = a2 * second_moment / q
    mu0, mu1, norm2 = (mp.mpf(v) for v in moments(name, q))
    value = (mp.mpf(kernel(name, gamma, q, q)) - mu0**2 - gamma * mu1**2) / (norm2 - mu0**2 - mu1**2)
    return [name, t, second_moment, mp.nstr(value, 15)]


def main() -> None:
    mp.mp.dps = 30
    data = {"inputs": {name: sp.sstr(parse(spec, name).expr) for name, spec in QUADRATURE.items()}}
    data["inputs"].update({name: sp.sstr(BUILTINS[name].expr) for name in CLOSED_FORMS})
    data["moments"] = {name: {repr(q): moments(name, q) for q in MOMENT_Q} for name in QUADRATURE}
    print("moments done", flush=True)
    with multiprocessing.Pool(2) as pool:  # the 2-D integrals take minutes each
        kappa = pool.map_async(kappa_row, KAPPA)
        data["kernels"] = pool.map(kernel_row, KERNELS)
        data["kappa"] = kappa.get()
    print("kernels done", flush=True)
    data["hermite"] = {name: [str(gaussian_constants.hermite_coefficient(BUILTINS[name], k))
                              for k in range(HERMITE_ORDER + 1)] for name in CLOSED_FORMS}
    # E ρ(√q g)², which SymPy integrates for every closed form but erf (whose value at q = 1 comes from mpmath).
    data["norm2"] = {name: str(gaussian_constants.gaussian_mean(gaussian_constants.preactivation(BUILTINS[name]) ** 2))
                     for name in CLOSED_FORMS if name != "erf"}
    mp.mp.dps = 30
    data["erf_second_moment"] = mp.nstr(mp.quad(lambda u: mp.erf(u) ** 2 * mp.npdf(u), [-mp.inf, 0, mp.inf]), 28)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
