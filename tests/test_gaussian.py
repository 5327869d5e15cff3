"""Symbolic closed forms of the Gaussian constants (derive/gaussian.py) and the kernel table (derive/activations.py)."""

import pytest
import sympy as sp

from derive import gaussian
from derive.activations import BUILTINS, gamma, leaky_relu, q1, q2, x

q = gaussian.q
EXACT = [name for name, act in BUILTINS.items() if act.exact]


def equal(a, b) -> bool:
    return sp.simplify(sp.expand((a - b).rewrite(sp.exp))) == 0


def test_relu_closed_forms():
    mu0, mu1, norm2 = (e.subs(q, 1) for e in gaussian.moments(BUILTINS["relu"]))
    assert equal(mu0, 1 / sp.sqrt(2 * sp.pi))
    assert mu1 == sp.Rational(1, 2) and norm2 == sp.Rational(1, 2)
    assert equal(gaussian.mustar2(BUILTINS["relu"]).subs(q, 1), sp.Rational(1, 4) - 1 / (2 * sp.pi))


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
    assert equal(gaussian.moments(act)[1].subs(q, 1), mu1)
    assert equal(gaussian.mustar2(act).subs(q, 1), mustar2)


def test_leaky_relu_constants_follow_the_slope():
    alpha = sp.Rational(1, 5)
    act = leaky_relu(alpha)
    mu0, mu1, norm2 = gaussian.moments(act)
    assert equal(mu0, sp.sqrt(q) * (1 - alpha) / sp.sqrt(2 * sp.pi))
    assert equal(mu1, sp.sqrt(q) * (1 + alpha) / 2)
    assert equal(norm2, q * (1 + alpha**2) / 2)


@pytest.mark.parametrize("name", EXACT)
def test_kernel_taylor_coefficients_are_squared_hermite_coefficients(name):
    """K(γ, q1, q2) = Σ_k c_k(q1) c_k(q2) γ^k / k!: the table's closed forms against SymPy's own integrals."""
    act = BUILTINS[name]
    series = sp.series(gaussian.kernel(act), gamma, 0, 5).removeO()
    for k in range(5):
        expected = (
            gaussian.hermite_coefficient(act, k, q1) * gaussian.hermite_coefficient(act, k, q2) / sp.factorial(k)
        )
        assert equal(series.coeff(gamma, k), expected), (name, k)


@pytest.mark.parametrize("name", [n for n in EXACT if n != "erf"])  # SymPy cannot integrate erf(x)²
def test_kernel_at_one_is_the_second_moment(name):
    act = BUILTINS[name]
    second = gaussian.gaussian_mean(gaussian.preactivation(act) ** 2)
    assert equal(gaussian.kernel(act).subs({gamma: 1, q1: q, q2: q}), second)


def test_erf_second_moment_against_mpmath():
    import mpmath as mp

    mp.mp.dps = 30
    value = mp.quad(lambda u: mp.erf(u) ** 2 * mp.npdf(u), [-mp.inf, 0, mp.inf])
    closed = gaussian.kernel(BUILTINS["erf"]).subs({gamma: 1, q1: 1, q2: 1})
    assert abs(sp.N(closed, 30) - value) < 1e-25


def test_kappa_is_zero_at_large_time_and_one_at_small_time():
    kappa = gaussian.kappa(BUILTINS["relu"]).subs(q, 1)
    assert sp.limit(kappa, gaussian.t, sp.oo) == 0
    assert sp.limit(kappa, gaussian.t, 0) == 1


def test_hermite_activation_has_a_single_hermite_coefficient():
    act = BUILTINS["cubic"]
    he3 = sp.hermite_prob(3, x)
    assert equal(gaussian.hermite_coefficient(act, 3, 1), 6)
    assert equal(gaussian.kernel(act).subs({q1: 1, q2: 1}) - 6 * gamma**3, 9 * gamma)  # x³ = He_3 + 3 He_1
    assert equal(he3, x**3 - 3 * x)
