"""Symbolic closed forms of the Gaussian constants (derive/gaussian_constants.py) and the kernel table
(derive/activations.py). SymPy's Hermite integrals, the slow part, are read from tests/data/activation_references.json
(written by tests/data/make_references.py); one of them is recomputed here to show the file is current."""

import json
from pathlib import Path

import pytest
import sympy as sp

from derive import gaussian_constants
from derive.activations import BUILTINS, gamma, leaky_relu, q1, q2, x

q = gaussian_constants.q
REFERENCES = json.loads((Path(__file__).parent / "data" / "activation_references.json").read_text(encoding="utf-8"))
EXACT = [name for name, act in BUILTINS.items() if act.exact]


def equal(a, b) -> bool:
    return sp.simplify(sp.expand((a - b).rewrite(sp.exp))) == 0


def stored(text: str, variance: sp.Symbol = q) -> sp.Expr:
    return sp.sympify(text, locals={"q": q}).subs(q, variance)


def test_references_are_current():
    """The stored Hermite integrals were made from today's activations; recompute the cheapest ones."""
    for name in EXACT:
        assert REFERENCES["inputs"][name] == sp.sstr(BUILTINS[name].expr), f"stale: rerun make_references.py ({name})"
    for k, text in enumerate(REFERENCES["hermite"]["sign"]):
        assert equal(gaussian_constants.hermite_coefficient(BUILTINS["sign"], k), stored(text)), k


def test_relu_closed_forms():
    mu0, mu1, norm2 = (e.subs(q, 1) for e in gaussian_constants.moments(BUILTINS["relu"]))
    assert equal(mu0, 1 / sp.sqrt(2 * sp.pi))
    assert mu1 == sp.Rational(1, 2) and norm2 == sp.Rational(1, 2)
    assert equal(gaussian_constants.mustar2(BUILTINS["relu"]).subs(q, 1), sp.Rational(1, 4) - 1 / (2 * sp.pi))


@pytest.mark.parametrize(
    "name, mu1, mustar2",
    [
        ("linear", 1, 0),
        ("abs", 0, 1 - 2 / sp.pi),
        ("sign", sp.sqrt(2 / sp.pi), 1 - 2 / sp.pi),
        ("erf", 2 / sp.sqrt(3 * sp.pi), 2 / sp.pi * sp.asin(sp.Rational(2, 3)) - 4 / (3 * sp.pi)),
        ("sin", sp.exp(-sp.Rational(1, 2)), (1 - sp.exp(-2)) / 2 - sp.exp(-1)),
        ("quadratic", 0, 2),
        ("cubic", 3, 6),
    ],
)
def test_closed_forms_at_unit_variance(name, mu1, mustar2):
    act = BUILTINS[name]
    assert equal(gaussian_constants.moments(act)[1].subs(q, 1), mu1)
    assert equal(gaussian_constants.mustar2(act).subs(q, 1), mustar2)


def test_leaky_relu_constants_follow_the_slope():
    alpha = sp.Rational(1, 5)
    act = leaky_relu(alpha)
    mu0, mu1, norm2 = gaussian_constants.moments(act)
    assert equal(mu0, sp.sqrt(q) * (1 - alpha) / sp.sqrt(2 * sp.pi))
    assert equal(mu1, sp.sqrt(q) * (1 + alpha) / 2)
    assert equal(norm2, q * (1 + alpha**2) / 2)


@pytest.mark.parametrize("name", EXACT)
def test_kernel_taylor_coefficients_are_squared_hermite_coefficients(name):
    """K(γ, q1, q2) = Σ_k c_k(q1) c_k(q2) γ^k / k!: the table's closed forms against SymPy's own integrals."""
    series = sp.series(gaussian_constants.kernel(BUILTINS[name]), gamma, 0, 5).removeO()
    for k, text in enumerate(REFERENCES["hermite"][name]):
        assert equal(series.coeff(gamma, k), stored(text, q1) * stored(text, q2) / sp.factorial(k)), (name, k)


@pytest.mark.parametrize("name", [n for n in EXACT if n != "erf"])  # SymPy cannot integrate erf(x)²
def test_kernel_at_one_is_the_second_moment(name):
    assert equal(gaussian_constants.kernel(BUILTINS[name]).subs({gamma: 1, q1: q, q2: q}),
                 stored(REFERENCES["norm2"][name]))


def test_erf_second_moment_against_mpmath():
    closed = gaussian_constants.kernel(BUILTINS["erf"]).subs({gamma: 1, q1: 1, q2: 1})
    assert abs(sp.N(closed, 30) - sp.Float(REFERENCES["erf_second_moment"], 30)) < 1e-25


def test_kappa_is_zero_at_zero_correlation_and_one_at_full_correlation():
    """κ(γ_t): γ_t → 0 at large time, → 1 at small time."""
    kappa = gaussian_constants.kappa(BUILTINS["relu"]).subs(q, 1)
    assert sp.limit(kappa, gamma, 0) == 0
    assert sp.limit(kappa, gamma, 1) == 1


def test_sine_kernel_is_exp_times_sinh_without_overflow():
    """The table writes e^{−(q1+q2)/2} sinh(γ √(q1 q2)) as two exponentials with exponents ≤ 0."""
    kernel = gaussian_constants.kernel(BUILTINS["sin"])
    assert equal(kernel, sp.exp(-(q1 + q2) / 2) * sp.sinh(gamma * sp.sqrt(q1 * q2)))
    for exponential in kernel.atoms(sp.exp):
        exponent = exponential.args[0].subs({q1: 2.0e6, q2: 3.0e6})
        assert all(exponent.subs(gamma, g) <= 0 for g in (-1, 0, 1))


def test_hermite_activation_has_a_single_hermite_coefficient():
    act = BUILTINS["cubic"]
    he3 = sp.hermite_prob(3, x)
    assert equal(gaussian_constants.hermite_coefficient(act, 3, 1), 6)
    assert equal(gaussian_constants.kernel(act).subs({q1: 1, q2: 1}) - 6 * gamma**3, 9 * gamma)  # x³ = He_3 + 3 He_1
    assert equal(he3, x**3 - 3 * x)
