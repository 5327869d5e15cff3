"""The theory returns the same numbers on every path — arrays in any order, grids, phase diagrams, point by point —
and every number it returns is physical; otherwise a named failure. Each reproducer of the issue that found paths
returning wrong numbers silently is kept here."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rfdsm

ERRORS = ("test", "train", "train_ridge")
BUILTINS = ("linear", "relu", "leaky_relu", "abs", "sign", "erf", "sin", "quadratic", "cubic", "tanh", "sigmoid",
            "softplus", "gelu", "silu")


def assert_physical(c):
    solved = c.status == 0
    assert np.all(c.test[solved] >= np.broadcast_to(c.baseline, c.test.shape)[solved])
    assert np.all(c.train[solved] >= 0) and np.all(c.train[solved] <= c.train_ridge[solved])
    assert np.all(c.train_ridge[solved] <= 1)


def assert_same(c, alone):
    """Equal to 1e-8 relative; ε_train also to 1e-13 ε_train_ridge absolute, its round-off floor past the
    interpolation threshold (an O(λ²) difference of two O(λ) traces)."""
    for e in ERRORS:
        a, b = getattr(c, e), getattr(alone, e)
        floor = 1e-13 * alone.train_ridge if e == "train" else 0.0
        np.testing.assert_array_less(np.abs(a - b), 1e-8 * np.abs(b) + floor + 1e-300, err_msg=e)


def point_by_point(activation, t, psi_n, psi_p, m, lam):
    """The same grid solved one point per call (cold continuation from λ = 10⁴ at each), as arrays."""
    t, lam, psi_n, psi_p = np.broadcast_arrays(t, lam, psi_n, psi_p)
    cells = [rfdsm.learning_curve(activation, a, n, p, m=m, lam=b, on_failure="nan")
             for a, b, n, p in zip(t.ravel(), lam.ravel(), psi_n.ravel(), psi_p.ravel())]
    fields = {e: np.array([float(getattr(c, e)) for c in cells]).reshape(psi_n.shape) for e in ERRORS + ("status",)}
    return type("PointByPoint", (), fields)


def test_psi_n_sweep_at_small_ridge_is_physical_and_equals_point_by_point():
    """`rfdsm curve --activation erf --m 4 --lam 1e-5 --psi-n 0.1:100:40 --psi-p 100` printed a lowest test error of
    −728.19: the stopping test, relative to ‖x‖ ≈ 1/λ, accepted the previous point's solution with 0 Newton steps."""
    psi_n = np.geomspace(0.1, 100, 40)
    c = rfdsm.learning_curve("erf", 0.1, psi_n, 100.0, m=4, lam=1e-5)
    assert_physical(c)
    assert np.all(c.iterations >= 1)
    assert_same(c, point_by_point("erf", 0.1, psi_n, 100.0, 4, 1e-5))
    assert np.unique(c.train_ridge).size == psi_n.size  # no value carried over from a neighbour


def test_sign_sweep_equals_a_single_point_solve():
    """sign, m = 4, λ = 1e-4: the sweep gave 1.0615 at ψn = 0.1425, a single solve 1.0087."""
    psi_n = np.geomspace(0.1, 100, 40)
    swept = rfdsm.learning_curve("sign", 0.1, psi_n, 100.0, m=4, lam=1e-4)
    alone = rfdsm.learning_curve("sign", 0.1, psi_n[2], 100.0, m=4, lam=1e-4)
    assert swept.test[2] == pytest.approx(float(alone.test), rel=1e-8)
    assert float(alone.test) == pytest.approx(1.00871, abs=1e-5)


def test_non_monotone_array_stays_on_the_physical_branch():
    """Newton from the ψp = 0.336 solution landed, at ψp = 54.6, on a root with ε_train_ridge < ε_train and
    ε_test = 1.0164; the physical point is 3.917 (a simulation at d = 100 gives 3.840 ± 0.002)."""
    c = rfdsm.learning_curve("relu", 0.1, 2.0, [0.3359818286283781, 54.555947811685144], m=math.inf, lam=1e-4)
    assert c.test[1] == pytest.approx(3.91701, abs=1e-4)
    assert c.train[1] <= c.train_ridge[1]
    alone = rfdsm.learning_curve("relu", 0.1, 2.0, 54.555947811685144, m=math.inf, lam=1e-4)
    assert c.test[1] == pytest.approx(float(alone.test), rel=1e-10)


@pytest.mark.parametrize("activation, m, lam", [("tanh", 1, 1e-3), ("sign", 1, 1e-3), ("erf", 1, 1e-4)])
def test_phase_diagram_corners_are_physical_and_equal_point_by_point(activation, m, lam):
    """`rfdsm phase --activation tanh --m 1` had negative train errors at ψp = 1000; at λ = 1e-4 (erf, m = 1) errors
    reached 54 %. The default range [0.1, 1000]² at 30 × 30, and a sub-grid solved point by point."""
    grid = np.geomspace(0.1, 1000, 30)
    d = rfdsm.phase_diagram(activation, 0.1, grid, grid, m=m, lam=lam)
    assert_physical(d.curve)
    every = (slice(None, None, 5), slice(None, None, 5))
    sub = type("Sub", (), {e: getattr(d.curve, e)[every] for e in ERRORS})
    assert_same(sub, point_by_point(activation, 0.1, d.curve.psi_n[every], d.curve.psi_p[every], m, lam))


def test_two_dimensional_broadcast_equals_its_rows():
    psi_n = np.geomspace(0.1, 100, 7)[:, None]
    psi_p = np.geomspace(0.1, 1000, 9)[None, :]
    grid = rfdsm.learning_curve("erf", 0.1, psi_n, psi_p, m=1, lam=1e-4)
    assert grid.test.shape == (7, 9)
    for i in (0, 3, 6):
        row = rfdsm.learning_curve("erf", 0.1, psi_n[i, 0], psi_p[0, ::-1], m=1, lam=1e-4)
        assert_same(type("Row", (), {e: getattr(grid, e)[i] for e in ERRORS}),
                    type("Rev", (), {e: getattr(row, e)[::-1] for e in ERRORS}))


def test_t_and_lam_broadcast_with_psi():
    c = rfdsm.learning_curve("tanh", [0.1, 0.5, 1.0], 2.0, 1.0, m=2, lam=[[1e-3], [1e-2]])
    assert c.test.shape == (2, 3) and c.t.shape == (2, 3) and c.lam.shape == (2, 3)
    alone = rfdsm.learning_curve("tanh", 0.5, 2.0, 1.0, m=2, lam=1e-2)
    assert c.test[1, 1] == pytest.approx(float(alone.test), rel=1e-10)
    np.testing.assert_allclose(c.baseline, np.exp(-2 * c.t), rtol=1e-15)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_large_t_is_solved_like_any_other(activation):
    """From t ≈ 6.5 (tanh) κ came out as −1.4e-16 and was refused as a parameter; from t = 18.75 h rounded to 1 and
    every activation failed with an error about q. The theory now runs where the simulation does (t = 50)."""
    c = rfdsm.learning_curve(activation, [6.5, 18.75, 50.0], 2.0, 3.0, m=4)
    assert np.all(c.status == 0)
    assert_physical(c)
    # past t ≈ 18 the noise has erased the data: the curve no longer depends on t
    assert c.test[2] == pytest.approx(c.test[1], rel=1e-12)


def test_linear_activation_at_tiny_ridge_is_physical_or_a_named_failure():
    """ψp ≥ 1 at m = ∞ with λ ≤ 1e-6: the features span only d of p directions, the scaled Jacobian's condition grows
    like 1/λ, and the continuation stops; before, such points came back with ε_train_ridge < ε_train."""
    c = rfdsm.learning_curve("linear", 0.1, np.geomspace(0.1, 100, 20), 100.0, m=math.inf, lam=1e-7,
                             on_failure="nan")
    failed = c.status != 0
    assert failed.any() and np.all(np.isnan(c.test[failed])) and len(c.failures) == failed.sum()
    assert "lam=1e-07" in c.failures[0] and "continuation failed" in c.failures[0]
    assert_physical(c)
    with pytest.raises(rfdsm.ConvergenceError, match=r"^model rfdsm_infinite: no fixed point at lam=1e-07"):
        rfdsm.learning_curve("linear", 0.1, 0.1, 100.0, m=math.inf, lam=1e-7)
    small = rfdsm.learning_curve("linear", 0.1, np.geomspace(0.1, 100, 20), 0.5, m=math.inf, lam=1e-8)
    assert np.all(small.status == 0)
    assert_physical(small)


@settings(max_examples=40, deadline=None)
@given(
    activation=st.sampled_from(BUILTINS),
    m=st.sampled_from([1, 2, 4, math.inf]),
    log_lam=st.floats(-6, 0),
    log_t=st.floats(-3, 1),
    log_psi=st.lists(st.tuples(st.floats(-2, 3), st.floats(-2, 3)), min_size=2, max_size=6),
)
def test_arrays_in_any_order_equal_point_by_point_and_are_physical(activation, m, log_lam, log_t, log_psi):
    psi_n, psi_p = (10.0 ** np.array(v) for v in zip(*log_psi))
    lam, t = 10.0**log_lam, 10.0**log_t
    c = rfdsm.learning_curve(activation, t, psi_n, psi_p, m=m, lam=lam, on_failure="nan")
    alone = point_by_point(activation, t, psi_n, psi_p, m, lam)
    np.testing.assert_array_equal(c.status != 0, alone.status != 0)
    assert_physical(c)
    solved = c.status == 0
    assert_same(type("Solved", (), {e: getattr(c, e)[solved] for e in ERRORS}),
                type("Alone", (), {e: getattr(alone, e)[solved] for e in ERRORS}))


@pytest.mark.parametrize(
    "kwargs, name",
    [({"t": "0.1"}, "t"), ({"psi_p": "2"}, "psi_p"), ({"m": 10**400}, "m"), ({"m": math.nan}, "m"),
     ({"lam": True}, "lam"), ({"psi_n": [[1.0, 2.0], [3.0]]}, "psi_n"), ({"psi_n": [1.0, 2.0], "psi_p": [1.0, 2.0, 3.0]},
                                                                           "t, lam, psi_n, psi_p"),
     ({"on_failure": "ignore"}, "on_failure")],
)
def test_bad_input_names_the_argument(kwargs, name):
    args = {"activation": "tanh", "t": 0.1, "psi_n": 2.0, "psi_p": 1.0, "m": 1, "lam": 1e-3} | kwargs
    with pytest.raises(ValueError, match=rf"^{name}:"):
        rfdsm.learning_curve(**args)


def test_cli_writes_what_it_has_and_reports_failed_points(tmp_path, capsys):
    from rfdsm.cli import main

    code = main(["curve", "--activation", "linear", "--m", "inf", "--lam", "1e-7", "--psi-n", "0.1:100:4",
                 "--psi-p", "100", "--out", str(tmp_path)])
    assert code == 3
    assert "rfdsm: not solved: lam=1e-07, psi_n=0.1," in capsys.readouterr().err
    (saved,) = tmp_path.glob("*.nc")
    curve = rfdsm.load(saved)
    assert curve.test.size == 4 and np.all(np.isnan(curve.test)) and np.all(curve.status != 0)
    blocker = tmp_path / "file.txt"
    blocker.touch()
    assert main(["curve", "--out", str(blocker / "x")]) == 2
    assert "rfdsm: error: out: cannot write into" in capsys.readouterr().err
