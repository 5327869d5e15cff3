"""RF-DSM learning curves from the pencils (rfdsm.curves) against the independent equations of docs/reference.md, the
landmarks of the curves, the identity ε_test = a² + h ε_score, and bad input."""

import math

import numpy as np
import pytest

import rfdsm
from rfdsm.curves import classify
from tests import reference_equations

PSI_P = np.geomspace(0.2, 10.0, 11)


@pytest.mark.parametrize("activation", ["relu", "tanh", "erf"])
@pytest.mark.parametrize("m", [1, 3, math.inf])
@pytest.mark.parametrize("t, lam", [(0.1, 1e-3), (0.7, 0.05), (0.02, 1e-4)])
def test_pencil_solvers_agree_with_the_reference_equations(activation, m, t, lam):
    """To 1e-8 relative, on both sides of the interpolation threshold ψp = m ψn; past it, at small ridge, ε_train is
    O(λ²) while the traces it is made of are O(1), so this also tests the conditioning of the pencil (module
    docstring of derive/models/rfdsm.py)."""
    ours = rfdsm.learning_curve(activation, t, 1.5, PSI_P, m=m, lam=lam, on_failure="nan")
    ref = reference_equations.learning_curve(activation, t, 1.5, PSI_P, m=m, lam=lam)
    for name in ("test", "train", "train_ridge", "score"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-8, err_msg=name)
    assert np.all(ours.status == 0) and np.all(ours.residual <= 1e-12)


def test_test_error_is_baseline_plus_h_times_score_error():
    c = rfdsm.learning_curve("tanh", 0.3, 2.0, PSI_P, m=2)
    h = 1 - math.exp(-0.6)
    np.testing.assert_allclose(c.test, c.baseline + h * c.score, rtol=1e-12)
    assert c.baseline == pytest.approx(math.exp(-0.6))


def test_m_large_approaches_m_infinite():
    finite = rfdsm.learning_curve("tanh", 0.1, 2.0, PSI_P, m=10**6)
    infinite = rfdsm.learning_curve("tanh", 0.1, 2.0, PSI_P, m=math.inf)
    np.testing.assert_allclose(finite.test, infinite.test, rtol=1e-4)


@pytest.mark.parametrize("m", [1, 2, 4])
def test_interpolation_peak_at_m_psi_n(m):
    psi_n = 1.0
    psi_p = np.geomspace(0.2 * m, 5.0 * m, 161)
    c = rfdsm.learning_curve("tanh", 0.1, psi_n, psi_p, m=m)
    peak = psi_p[np.argmax(c.test)]
    assert abs(peak / (m * psi_n) - 1) < 0.1, peak


def test_m_infinite_has_a_single_minimum_below_psi_n_and_memorises_beyond():
    psi_n = 2.0
    psi_p = np.geomspace(0.1, 20, 200)
    c = rfdsm.learning_curve("tanh", 0.1, psi_n, psi_p, m=math.inf)
    slopes = np.sign(np.diff(c.test))
    assert np.count_nonzero(np.diff(slopes)) == 1  # one change of direction: down, then up; no peak
    assert psi_p[np.argmin(c.test)] < psi_n
    beyond = psi_p > 2 * psi_n
    assert np.all(c.train[beyond] < c.baseline) and np.all(c.test[beyond] > 1.5 * c.baseline)


def test_phase_diagram_classifies_by_the_documented_rule():
    psi = np.geomspace(0.2, 8, 12)
    d = rfdsm.phase_diagram("tanh", 1.0, psi, psi, m=math.inf, lam=1e-3)
    np.testing.assert_array_equal(d.regime, classify(d.curve.test, d.curve.train, d.curve.baseline, 0.1))
    assert d.regime.shape == (12, 12) and set(np.unique(d.regime)) >= {1, 2}
    assert np.all(d.curve.psi_n[3] == psi) and np.all(d.curve.psi_p[:, 5] == psi)
    # the snake order is undone: the grid equals independent curves row by row
    row = rfdsm.learning_curve("tanh", 1.0, psi, psi[7], m=math.inf)
    np.testing.assert_allclose(d.curve.test[7], row.test, rtol=1e-8)  # both solved to a 1e-12 residual


@pytest.mark.parametrize("m", [1, 3, math.inf])
def test_every_point_of_a_wide_grid_is_on_the_physical_branch(m):
    """ε_test ≥ a² and ε_train_ridge ≥ ε_train ≥ 0 everywhere, and a point solved alone (cold continuation in λ) equals
    the same point reached by warm starts: the fixed-point equations also have unphysical roots (erf, m = 3, ψp = 10,
    λ = 1e-3 once gave ε_test = 0.48 a² from a long continuation step)."""
    psi = np.geomspace(0.1, 1000, 25)
    d = rfdsm.phase_diagram("erf", 0.1, psi, psi, m=m, lam=1e-3)
    c = d.curve
    assert np.all(c.test >= c.baseline) and np.all(c.train >= 0) and np.all(c.train_ridge >= c.train)
    alone = rfdsm.learning_curve("erf", 0.1, 1.5, 10.0, m=m)
    swept = rfdsm.learning_curve("erf", 0.1, 1.5, np.geomspace(7.0, 10.0, 5), m=m)
    assert float(alone.test) == pytest.approx(swept.test[-1], rel=1e-9)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"t": 0.0}, "t"), ({"t": -1}, "t"), ({"lam": -1e-3}, "lam"), ({"lam": 0}, "lam"),
        ({"psi_n": 0.0}, "psi_n"), ({"psi_p": [1.0, -2.0]}, "psi_p"), ({"psi_p": math.nan}, "psi_p"),
        ({"m": 0}, "m"), ({"m": 2.5}, "m"), ({"m": "many"}, "m"), ({"activation": "nope"}, "activation"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(kwargs, name):
    args = {"activation": "tanh", "t": 0.1, "psi_n": 2.0, "psi_p": 1.0, "m": 1, "lam": 1e-3} | kwargs
    with pytest.raises(ValueError, match=rf"^{name}:"):
        rfdsm.learning_curve(**args)
