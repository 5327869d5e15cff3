"""Learning curves on data with a covariance spectrum (``data=``): the isotropic limit, the identity
ε_test = C_t + h ε_score, physical values, saved results that keep the data model, bad input."""

import math

import numpy as np
import pytest

import rfdsm
from rfdsm.data import Gaussian, PowerLaw, TwoAtoms

PSI_P = np.geomspace(0.1, 30, 25)
ERRORS = ("test", "train", "train_ridge", "score")


@pytest.mark.parametrize("m", [1, 3, math.inf])
def test_all_ones_spectrum_gives_the_isotropic_curve(m):
    isotropic = rfdsm.learning_curve("tanh", 0.2, 1.5, PSI_P, m=m)
    ones = rfdsm.learning_curve("tanh", 0.2, 1.5, PSI_P, m=m, data=Gaussian([1.0, 1.0, 1.0]))
    for e in ERRORS:
        np.testing.assert_allclose(getattr(ones, e), getattr(isotropic, e), rtol=1e-10, err_msg=e)
    assert ones.baseline == pytest.approx(math.exp(-0.4), rel=1e-15)


@pytest.mark.parametrize("data", [TwoAtoms(0.2, 1.8), PowerLaw(0.5), PowerLaw(0.9)], ids=repr)
@pytest.mark.parametrize("m", [1, 4, math.inf])
def test_test_error_is_the_baseline_plus_h_times_the_score_error(data, m):
    c = rfdsm.learning_curve("relu", 0.1, 2.0, PSI_P, m=m, lam=1e-4, data=data)
    h = -math.expm1(-0.2)
    assert c.baseline == pytest.approx(data.baseline(0.1), rel=1e-15) and c.baseline < 1 - h  # C_t < a² off Σ = I
    np.testing.assert_allclose(c.test, c.baseline + h * c.score, rtol=1e-12)
    assert np.all(c.score >= 0) and np.all(c.train >= 0) and np.all(c.train <= c.train_ridge)
    # the spectrum changes the curve: it is not the isotropic one relabelled
    assert not np.allclose(c.test, rfdsm.learning_curve("relu", 0.1, 2.0, PSI_P, m=m, lam=1e-4).test, rtol=1e-3)


def test_phase_diagram_and_saved_results_keep_the_data_model(tmp_path):
    grid = np.geomspace(0.1, 100, 8)
    d = rfdsm.phase_diagram("erf", 0.1, grid, grid, m=2, data=TwoAtoms(0.5, 1.5))
    assert d.curve.data == "TwoAtoms(0.5, 1.5, weight=0.5)" and "data=TwoAtoms" in repr(d.curve)
    d.curve.save(tmp_path / "c.nc")
    loaded = rfdsm.load(tmp_path / "c.nc")
    assert loaded.data == d.curve.data
    np.testing.assert_array_equal(loaded.test, d.curve.test)
    with pytest.raises(ValueError, match=r"^data: TwoAtoms"):
        loaded.constants  # noqa: B018 -- the isotropic constants would be silently wrong here


def test_bad_data_names_the_argument():
    with pytest.raises(ValueError, match=r"^data: expected a data model of rfdsm.data"):
        rfdsm.learning_curve("tanh", 0.1, 1.0, 1.0, data="powerlaw")


def test_cli_draws_a_curve_on_a_power_law_and_refuses_bad_data(tmp_path, capsys):
    from rfdsm.cli import main

    assert main(["curve", "--data", "powerlaw:k=0.5", "--psi-p", "0.1:10:5", "--out", str(tmp_path)]) == 0
    (saved,) = tmp_path.glob("*.nc")
    assert rfdsm.load(saved).data == "PowerLaw(k=0.5)" and len(list(tmp_path.glob("*.png"))) == 1
    with pytest.raises(SystemExit):
        main(["curve", "--data", "powerlaw:k=2", "--out", str(tmp_path)])
    assert "data: 'powerlaw:k=2': k: must be < 1" in capsys.readouterr().err
