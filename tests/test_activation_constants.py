"""Runtime constants (rfdsm/activation_constants.py) from the generated activation modules: the certified quadrature
against mpmath at small and large variance, kernel identities, κ's round-off tolerance, every time t > 0, bad input.

The mpmath values come from tests/data/activation_references.json (tests/data/make_references.py)."""

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import rfdsm
from rfdsm import activation_constants
from rfdsm.activations import available, load

REFERENCES = json.loads((Path(__file__).parent / "data" / "activation_references.json").read_text(encoding="utf-8"))
QUADRATURE = ["tanh", "sigmoid", "softplus", "gelu", "silu", "xerf"]


def test_references_are_current():
    for name in QUADRATURE:
        assert REFERENCES["inputs"][name] == load(name).EXPRESSION, f"rerun tests/data/make_references.py ({name})"


@pytest.mark.parametrize("name", QUADRATURE)
def test_quadrature_moments_against_mpmath_from_small_to_large_variance(name):
    """Within 1e-14 of 30-digit mpmath, relative to ‖ρ‖² (to √‖ρ‖² for μ0, μ1), at q from 1e-4 to 1e8: the uniform
    trapezoid rule this replaced was 4 % off in ‖ρ‖² for tanh at q = 1e4."""
    for q, exact in REFERENCES["moments"][name].items():
        mu0, mu1, norm2 = (float(v) for v in exact)
        got = load(name).moments(float(q))
        scale = np.array([math.sqrt(norm2), math.sqrt(norm2), norm2])
        assert np.max(np.abs(np.array(got) - [mu0, mu1, norm2]) / scale) < 1e-14, q


@pytest.mark.parametrize("name, gamma, q1, q2, exact", REFERENCES["kernels"])
def test_quadrature_kernel_against_mpmath(name, gamma, q1, q2, exact):
    """Within 1e-14 of 20-digit mpmath, relative to √(‖ρ‖²(q1) ‖ρ‖²(q2)): unit, small, large and unequal variances."""
    module = load(name)
    scale = math.sqrt(module.moments(q1)[2] * module.moments(q2)[2])
    assert abs(module.kernel(gamma, q1, q2) - float(exact)) < 1e-14 * scale


@pytest.mark.parametrize("name, t, second_moment, exact", REFERENCES["kappa"])
def test_kappa_at_large_variance_against_mpmath(name, t, second_moment, exact):
    """tanh at q = 1e4, where the trapezoid rule gave κ = 1.0000365."""
    c = rfdsm.constants(name, t, second_moment)
    assert c.q == pytest.approx(1e4, rel=1e-12)
    assert abs(c.kappa - float(exact)) < 1e-10


def test_reference_constants_of_tanh_and_relu():
    tanh = rfdsm.constants("tanh", 0.1)
    assert tanh.mu1 == pytest.approx(0.6057055, abs=1e-7)
    assert tanh.norm2 == pytest.approx(0.3942945, abs=1e-7)
    assert tanh.mustar2 == pytest.approx(0.0274153, abs=1e-7)
    assert tanh.kappa == pytest.approx(0.50488, abs=1e-5)
    assert rfdsm.constants("relu", 0.1).kappa == pytest.approx(0.62982, abs=1e-5)
    assert rfdsm.constants("relu", 0.1).mustar2 == pytest.approx(0.25 - 1 / (2 * math.pi), abs=1e-15)


@pytest.mark.parametrize("name", available())
def test_kernel_identities_over_the_certified_range(name):
    """K(1, q, q) = ‖ρ‖², K(0, q, q) = μ0², |K(γ, q, q)| ≤ ‖ρ‖² at the ends of the certified range and inside."""
    module = load(name)
    for q in (module.Q_MIN, 0.5, 1.0, 2.0, module.Q_MAX):
        mu0, _, norm2 = module.moments(q)
        assert module.kernel(1.0, q, q) == pytest.approx(norm2, rel=1e-12, abs=1e-300)
        assert module.kernel(0.0, q, q) == pytest.approx(mu0**2, rel=1e-12, abs=1e-14 * norm2)
        assert abs(module.kernel(0.7, q, q)) <= norm2 * (1 + 1e-12)


@pytest.mark.parametrize("name", available())
def test_constants_at_every_time(name):
    """κ in [0, 1] with v² + s² = μ*², q = a² + h and γ_t = a²/q exactly enough, from t = 1e-3 to beyond t = 18.75
    (where h rounds to 1 and 1 − h/q used to leave nothing)."""
    for t in (1e-3, 0.1, 1.0, 5.75, 6.5, 18.75, 50.0, 1e3):
        c = rfdsm.constants(name, t)
        assert 0.0 <= c.kappa <= 1.0
        assert c.v2 == pytest.approx(c.mustar2 * c.kappa) and c.v2 + c.s2 == pytest.approx(c.mustar2)
        assert c.q == pytest.approx(1.0, rel=1e-15) and c.gamma == pytest.approx(math.exp(-2 * t), rel=1e-15)
    assert rfdsm.constants(name, 50.0).gamma == pytest.approx(math.exp(-100), rel=1e-15)  # not 0: no cancellation


def test_second_moment_sets_the_preactivation_variance_and_correlation():
    t, second_moment = 0.3, 2.5
    a2, h = math.exp(-2 * t), -math.expm1(-2 * t)
    c = rfdsm.constants("relu", t, second_moment)
    assert c.q == pytest.approx(a2 * second_moment + h, rel=1e-15)
    assert c.gamma == pytest.approx(a2 * second_moment / c.q, rel=1e-15)
    # ReLU is positively homogeneous: κ depends on γ_t only, μ*² scales with q.
    kernel = (math.sqrt(1 - c.gamma**2) + c.gamma * (math.pi - math.acos(c.gamma))) / (2 * math.pi)
    assert c.kappa == pytest.approx((kernel - 1 / (2 * math.pi) - c.gamma / 4) / (0.25 - 1 / (2 * math.pi)), rel=1e-13)
    assert c.mustar2 == pytest.approx(c.q * (0.25 - 1 / (2 * math.pi)), rel=1e-14)


def test_learning_curve_at_large_time_is_the_stationary_limit():
    """From t ≈ 18.75 every curve failed with an error about q; at t = 50 it equals the t = 1000 one (a² < 1e-43)."""
    late = rfdsm.learning_curve("tanh", 50.0, [0.5, 2.0], 1.5)
    stationary = rfdsm.learning_curve("tanh", 1e3, [0.5, 2.0], 1.5)
    assert np.all(np.isfinite(late.test))
    assert np.allclose(late.test, stationary.test, rtol=1e-12, atol=0)


def _stub(kernel_value: float) -> SimpleNamespace:
    """A module whose constants at any q are μ0 = 0, μ1 = 0.6, ‖ρ‖² = 1 (μ*² = 0.64) and K = kernel_value."""
    return SimpleNamespace(Q_MIN=1e-8, Q_MAX=1e8, moments=lambda q: (0.0, 0.6, 1.0),
                           kernel=lambda gamma, q1, q2: kernel_value)


def test_kappa_is_clipped_within_its_round_off_bound_and_refused_beyond(monkeypatch):
    """δκ = 3 ACCURACY ‖ρ‖²/μ*²: a κ below 0 (above 1) by less is set to 0 (1); by more, a ValueError saying where."""
    bound = 3 * activation_constants.ACCURACY / 0.64
    t = 20.0  # γ_t = e^{−40}: K − γ μ1² = K to round-off
    for kappa, expected in ((-0.5 * bound, 0.0), (1 + 0.5 * bound, 1.0), (0.25, 0.25)):
        monkeypatch.setattr(activation_constants, "load", lambda name, k=kappa: _stub(0.64 * k))
        assert rfdsm.constants("stub", t).kappa == pytest.approx(expected, abs=1e-15)
    for kappa in (-2 * bound, 1 + 2 * bound):
        monkeypatch.setattr(activation_constants, "load", lambda name, k=kappa: _stub(0.64 * k))
        with pytest.raises(ValueError, match=r"^activation: κ = .* of stub at q = .*t = 20.* outside \[0, 1\]"):
            rfdsm.constants("stub", t)


def test_linear_activation_has_no_nonlinear_part():
    c = rfdsm.constants("linear", 0.1)
    assert c.mustar2 == c.kappa == c.v2 == c.s2 == 0.0


def test_kappa_refused_where_the_nonlinear_part_drowns_in_round_off():
    """sigmoid at q ≈ 1e-3: μ*² ≈ 1e-10 ‖ρ‖², so κ could not be told to 1e-8."""
    with pytest.raises(ValueError, match=r"^second_moment: at q = .* non-linear part of sigmoid .* too small"):
        rfdsm.constants("sigmoid", 1e-4, 1e-3)


def test_generated_functions_refuse_q_outside_the_certified_range():
    tanh, relu = load("tanh"), load("relu")
    for call in (lambda: tanh.moments(2 * tanh.Q_MAX), lambda: tanh.kernel(0.5, 1.0, math.nan),
                 lambda: tanh.hermite(0.0, 3), lambda: relu.moments(0.0), lambda: relu.kernel(0.5, -1.0, 1.0),
                 lambda: tanh.row_moments(np.array([1.0, math.inf]))):
        with pytest.raises(ValueError, match=r"^q: must lie in \[1e-08, 1e\+08\], where the constants of (tanh|relu)"):
            call()
    with pytest.raises(ValueError, match=r"^K:"):
        tanh.hermite(1.0, tanh.HERMITE_ORDER + 1)
    for module, gamma in ((tanh, math.nan), (relu, 1.5), (relu, -1.0 - 1e-9)):
        with pytest.raises(ValueError, match=r"^gamma: a correlation must lie in \[-1, 1\]"):
            module.kernel(gamma, 1.0, 1.0)
    assert relu.kernel(1.0 + 1e-13, 1.0, 1.0) == relu.kernel(1.0, 1.0, 1.0)  # round-off above 1 is clipped


def test_kernel_at_minus_one_for_odd_and_even_activations():
    """γ = −1: K = E ρ(g) ρ(−g); −‖ρ‖² for odd ρ, +‖ρ‖² for even ρ."""
    for name, sign in (("tanh", -1), ("erf", -1), ("sign", -1), ("abs", 1), ("quadratic", 1), ("xerf", 1)):
        norm2 = load(name).moments(1.0)[2]
        assert load(name).kernel(-1.0, 1.0, 1.0) == pytest.approx(sign * norm2, rel=1e-12)


def test_missing_activation_error_gives_the_command():
    with pytest.raises(ValueError, match=r"(?s)^activation: no generated module .*python -m derive .* --name nosuch"):
        rfdsm.constants("nosuch", 0.1)
    with pytest.raises(ValueError, match=r"(?s)^activation: .*python -m derive --activation 'x\*erf\(x\)' --name NAME"):
        rfdsm.constants("x*erf(x)", 0.1)


@pytest.mark.parametrize(
    "args, name",
    [(("tanh", 0.0), "t"), (("tanh", -1.0), "t"), (("tanh", math.nan), "t"), (("tanh", math.inf), "t"),
     (("tanh", None), "t"), (("tanh", 0.1, 0.0), "second_moment"), (("tanh", 0.1, -2.0), "second_moment"),
     (("tanh", 0.1, math.nan), "second_moment"), (("tanh", 0.1, math.inf), "second_moment"),
     (("tanh", 0.01, 1e9), "second_moment"), ((3, 0.1), "activation"), (("class", 0.1), "activation")],
)
def test_bad_input_raises_value_error_naming_the_argument(args, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        rfdsm.constants(*args)
