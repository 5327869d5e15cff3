"""Data on a manifold (rfdsm/data/manifold.py): the Gauss rule of the Marchenko–Pastur law and its quantiles, the
convergence of the curves in the number of atoms, ψ_D = 1, the spectrum against drawn matrices, the realisations
(eigendecomposition, Gaussian-equivalent score), learning curves, the command line, bad input."""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import comb

import rfdsm
from rfdsm.data import Gaussian, Isotropic, Manifold
from rfdsm.data.manifold import ATOMS, marchenko_pastur_quantiles, marchenko_pastur_rule

ERRORS = ("test", "train", "train_ridge", "score")


def mp_density(x, c):
    a, b = (1 - math.sqrt(c)) ** 2, (1 + math.sqrt(c)) ** 2
    return math.sqrt(max((b - x) * (x - a), 0.0)) / (2 * math.pi * c * x)


@pytest.mark.parametrize("c", [0.05, 0.5, 0.97, 1.0])
def test_gauss_rule_has_the_narayana_moments(c):
    rule = marchenko_pastur_rule(c, 40)
    for k in range(0, 12):  # E X^k = Σ_j N(k, j) c^{j−1}, exact for k ≤ 2·40 − 1
        narayana = 1.0 if k == 0 else sum(comb(k, j) * comb(k, j - 1) / k * c ** (j - 1) for j in range(1, k + 1))
        assert rule[:, 1] @ rule[:, 0] ** k == pytest.approx(narayana, rel=1e-12), k
    assert np.all(rule[:, 1] > 0) and rule[0, 0] >= (1 - math.sqrt(c)) ** 2 and rule[-1, 0] <= (1 + math.sqrt(c)) ** 2


@pytest.mark.parametrize("c", [0.1, 0.6, 1.0])
def test_quantiles_invert_the_distribution_function(c):
    levels = np.array([0.01, 0.3, 0.5, 0.9, 0.999])
    x = marchenko_pastur_quantiles(c, levels)
    lower = (1 - math.sqrt(c)) ** 2
    for level, point in zip(levels, x):
        mass, _ = quad(mp_density, lower, point, args=(c,), limit=200, epsabs=1e-13)
        assert mass == pytest.approx(level, abs=1e-9)


def test_spectrum_is_the_law_of_psi_D_and_sigma():
    linear, tanh = Manifold(0.3), Manifold(0.3, "tanh")
    law = linear.spectrum()
    assert law.shape == (ATOMS + 1, 2) and law[0].tolist() == pytest.approx([0.0, 0.7])  # the null space of M Mᵀ/D
    assert law[:, 1].sum() == pytest.approx(1, abs=1e-14) and linear.second_moment() == pytest.approx(1, rel=1e-13)
    rule = marchenko_pastur_rule(0.3, ATOMS)
    np.testing.assert_allclose(law[1:, 0], rule[:, 0] / 0.3, rtol=1e-14)
    # the Gaussian equivalent ν1² M Mᵀ/D + ν*² I: tr Σ/d = E σ(g)² − ν0²
    nu1, nustar2 = tanh.nu1, tanh.nustar2
    assert tanh.second_moment() == pytest.approx(0.39429449039784104, rel=1e-12)  # E tanh(g)², ν0 = 0
    np.testing.assert_allclose(tanh.spectrum()[:, 0], nu1**2 * law[:, 0] + nustar2, rtol=1e-14)
    assert Manifold(1.0).spectrum().shape == (ATOMS, 2)  # no null space at D = d
    relu = Manifold(0.5, "relu")
    assert relu.nu0 == pytest.approx(1 / math.sqrt(2 * math.pi)) and relu.second_moment() == pytest.approx(
        0.5 - 1 / (2 * math.pi), rel=1e-12)  # centred: E relu(g)² − ν0²


def test_eigenvalues_at_d_follow_a_drawn_matrix():
    """The deterministic quantiles at d against the eigenvalues of one drawn M Mᵀ/D: the linear statistics of a
    Wishart matrix fluctuate by O(1/d)."""
    d, data = 1000, Manifold(0.25)
    values = data.eigenvalues(d)
    assert values.size == d and np.sum(values == 0) == 750 and np.all(np.diff(values) >= 0)
    drawn, _ = data.realise(np.random.default_rng(3), d).eigh()
    for f in (lambda x: x, lambda x: x**2, lambda x: 1 / (x + 0.1)):
        assert np.mean(f(values)) == pytest.approx(np.mean(f(drawn)), rel=5 / d)


@pytest.mark.parametrize("m", [1, math.inf])
@pytest.mark.parametrize("sigma", ["linear", "tanh"])
def test_curves_converge_in_the_number_of_atoms(sigma, m):
    """The hardest corner of ATOMS: ψ_D = 1 (the inverse-square-root edge at 0) at t = 1e-3 (Σ_t's smallest eigenvalue
    h ≈ 2e-3 sits at that edge). Doubling the atoms changes the curves by less than 1e-8 (the train error, which
    falls to round-off where the model interpolates, relative to the minimised loss)."""
    psi_p, psi_n = np.geomspace(0.1, 100, 9)[:, None], np.geomspace(0.1, 100, 9)[None, :]
    curves = [rfdsm.learning_curve("relu", 1e-3, psi_n, psi_p, m=m, lam=1e-6, data=Manifold(1.0, sigma, atoms=k))
              for k in (ATOMS, 2 * ATOMS)]
    for name in ("test", "train_ridge", "score"):
        np.testing.assert_allclose(getattr(curves[0], name), getattr(curves[1], name), rtol=1e-8, err_msg=name)
    assert np.max(np.abs(curves[0].train - curves[1].train) / curves[1].train_ridge) < 1e-8
    if sigma == "linear":  # the study has something to resolve (tanh's spectrum stays ≥ ν*², away from the edge)
        coarse = rfdsm.learning_curve("relu", 1e-3, psi_n, psi_p, m=m, lam=1e-6, data=Manifold(1.0, atoms=64))
        assert not np.allclose(coarse.score, curves[1].score, rtol=1e-4)


@pytest.mark.parametrize("m", [1, 3, math.inf])
def test_psi_D_one_is_gaussian_data_with_the_marchenko_pastur_spectrum(m):
    """At D = d the linear manifold is N(0, M Mᵀ/d): the curve of Gaussian data whose spectrum is MP(1), discretised
    independently (the midpoint rule in the angle, x = 4 cos²(θ/2), density (1 − cos θ)/π, smooth and periodic), and
    not the isotropic curve: M Mᵀ/d is not I."""
    theta = (np.arange(4000) + 0.5) * math.pi / 4000
    midpoint = Gaussian(4 * np.cos(theta / 2) ** 2, 1 - np.cos(theta))
    psi_p = np.geomspace(0.1, 30, 15)
    manifold = rfdsm.learning_curve("tanh", 0.05, 1.5, psi_p, m=m, lam=1e-4, data=Manifold(1.0))
    reference = rfdsm.learning_curve("tanh", 0.05, 1.5, psi_p, m=m, lam=1e-4, data=midpoint)
    for name in ERRORS:
        np.testing.assert_allclose(getattr(manifold, name), getattr(reference, name), rtol=1e-8, err_msg=name)
    isotropic = rfdsm.learning_curve("tanh", 0.05, 1.5, psi_p, m=m, lam=1e-4)
    assert np.max(np.abs(manifold.score / isotropic.score - 1)) > 0.1


@pytest.mark.parametrize("data", [Manifold(0.3), Manifold(0.3, "tanh")], ids=repr)
@pytest.mark.parametrize("m", [1, 4, math.inf])
def test_learning_curve_on_a_manifold(data, m):
    c = rfdsm.learning_curve("relu", 0.1, 2.0, np.geomspace(0.1, 30, 20), m=m, lam=1e-4, data=data)
    h = -math.expm1(-0.2)
    assert c.data == repr(data) and c.baseline == pytest.approx(data.baseline(0.1), rel=1e-15)
    np.testing.assert_allclose(c.test, c.baseline + h * c.score, rtol=1e-12)
    assert np.all(c.score > 0) and np.all(c.train >= 0) and np.all(c.train <= c.train_ridge)


def test_the_manifold_changes_the_curve():
    """ψ_D and σ each matter (so the tests above compare curves that could differ)."""
    psi_p = np.geomspace(0.1, 30, 10)
    curves = [rfdsm.learning_curve("relu", 0.1, 2.0, psi_p, m=2, lam=1e-4, data=data).score
              for data in (Manifold(0.3), Manifold(0.35), Manifold(0.3, "tanh"), Isotropic())]
    for i in range(len(curves)):
        for j in range(i):
            assert np.max(np.abs(curves[i] / curves[j] - 1)) > 1e-2


@pytest.mark.parametrize("sigma", ["linear", "tanh", "relu"])
def test_realisation_eigendecomposition_and_score(sigma):
    data, d = Manifold(0.2, sigma), 150
    law = data.realise(np.random.default_rng(0), d)
    M = law.M
    assert M.shape == (150, 30) and law.d == d and law.gaussian == (sigma == "linear")
    values, basis = law.eigh()
    covariance = data.nu1**2 * M @ M.T / 30 + data.nustar2 * np.eye(d)
    np.testing.assert_allclose((basis * values) @ basis.T, covariance, atol=1e-12)
    assert np.allclose(basis.T @ basis, np.eye(d), atol=1e-12)
    y = np.random.default_rng(1).standard_normal((5, d))
    a2, h = math.exp(-0.2), -math.expm1(-0.2)
    np.testing.assert_allclose(law.score(y, 0.1), -np.linalg.solve(a2 * covariance + h * np.eye(d), y.T).T,
                               atol=1e-10)
    # a fresh M for every realisation, drawn from the generator
    assert not np.array_equal(data.realise(np.random.default_rng(1), d).M, M)
    np.testing.assert_array_equal(data.realise(np.random.default_rng(0), d).M, M)


def test_linear_samples_are_gaussian_with_the_covariance():
    law = Manifold(0.5).realise(np.random.default_rng(0), 40)
    x = law.sample(np.random.default_rng(1), 200_000)
    values, basis = law.eigh()
    np.testing.assert_allclose(x.T @ x / x.shape[0], (basis * values) @ basis.T, atol=0.03)  # 1/√n ≈ 0.002 per unit


@pytest.mark.parametrize("sigma", ["tanh", "relu"])
def test_gaussian_equivalent_score_reaches_the_baseline_on_the_real_data(sigma):
    """The score error of a non-linear manifold is measured against the Gaussian-equivalent score −Σ_t^{-1} y,
    Σ = ν1² M Mᵀ/D + ν*² I. That choice is sound if this score has, on the real data σ(Mξ/√D) − ν0, the test error
    C_t of the theory (ε_test = C_t + h ε_score with ε_score = 0). Its test error is a quadratic form in x, so this
    checks that the real centred data have the Gaussian-equivalent covariance where the score looks (an uncentred
    ReLU manifold fails it by a² ν0²)."""
    d, t, n = 300, 0.1, 4000
    data = Manifold(0.4, sigma)
    law = data.realise(np.random.default_rng(0), d)
    rng = np.random.default_rng(1)
    x, z = law.sample(rng, n), rng.standard_normal((n, d))
    a, h = math.exp(-t), -math.expm1(-2 * t)
    y = a * x + math.sqrt(h) * z
    per_point = np.sum((math.sqrt(h) * law.score(y, t) + z) ** 2, axis=1) / d
    values, _ = law.eigh()
    baseline = a**2 * np.mean(values / (a**2 * values + h))  # C_t of this M
    assert abs(per_point.mean() - baseline) < 4 * per_point.std() / math.sqrt(n) + 2 / d
    assert baseline == pytest.approx(data.baseline(t), rel=0.05)
    # centred: the per-coordinate means ν0 (√(‖M_i‖²/D) − 1) for ReLU are O(1/√D), their average O(1/D)
    assert abs(np.mean(x)) < 5 / math.sqrt(n * d) + 2 / d


def test_repr_and_cli(tmp_path, capsys):
    from rfdsm.cli import main

    assert repr(Manifold(0.25, "tanh")) == "Manifold(psi_D=0.25, sigma='tanh', atoms=256)"
    assert main(["curve", "--data", "manifold:psi_D=0.25,sigma=tanh", "--psi-p", "0.1:10:5", "--out",
                 str(tmp_path)]) == 0
    (saved,) = tmp_path.glob("*.nc")
    assert rfdsm.load(saved).data == "Manifold(psi_D=0.25, sigma='tanh', atoms=256)"
    with pytest.raises(SystemExit):
        main(["curve", "--data", "manifold:psi_D=2", "--out", str(tmp_path)])
    assert "psi_D: must be ≤ 1" in capsys.readouterr().err


@pytest.mark.parametrize("psi_D", [0, -0.5, 1.01, math.nan, math.inf, "0.5", None])
def test_bad_psi_D(psi_D):
    with pytest.raises(ValueError, match=r"^psi_D:"):
        Manifold(psi_D)


@pytest.mark.parametrize("sigma", ["cosh", "", 3, None, "tanh(x)"])
def test_bad_sigma(sigma):
    with pytest.raises(ValueError, match=r"^sigma:"):
        Manifold(0.5, sigma)


def test_bad_realisation_arguments():
    data = Manifold(0.5)
    with pytest.raises(ValueError, match=r"^rng:"):
        data.realise(0, 10)
    with pytest.raises(ValueError, match=r"^d:"):
        data.realise(np.random.default_rng(0), 0)
    with pytest.raises(ValueError, match=r"^n:"):
        data.realise(np.random.default_rng(0), 10).sample(np.random.default_rng(0), -1)
    with pytest.raises(ValueError, match=r"^y:"):
        data.exact_score(np.zeros(10), 0.1)
    with pytest.raises(ValueError, match=r"^d:"):
        data.covariance(10)


def _agreement(sigma, m, sizes, seeds):
    """ReLU score, t = 0.1, ψn = 1, ψp ∈ {0.5, 2}, λ = 1e-3 on ψ_D = 0.3 (ψ_D d whole at every size): the simulated
    errors (a fresh M a draw; real data σ(Mξ/√D) − ν0, the score error of tanh data against the Gaussian-equivalent
    score), extrapolated in 1/d (rfdsm.agreement), against the theory."""
    result = rfdsm.compare("relu", 0.1, 1.0, [0.5, 2.0], m=m, sizes=sizes, seeds=seeds, data=Manifold(0.3, sigma))
    for name in ERRORS:
        assert np.all(np.abs(result.z_extrapolated(name)) < 4), (name, result.table())
    return result


@pytest.mark.parametrize("m", [1, 3])
@pytest.mark.parametrize("sigma", ["linear", "tanh"])
def test_agreement_with_simulation(sigma, m):
    """d = 50 and 100, 8 seeds: within 4 standard errors after extrapolation (measured |z| ≤ 3.1). The simulated
    tanh manifold rejects the linear manifold's theory (σ matters beyond the data's scale)."""
    result = _agreement(sigma, m, (50, 100), 8)
    if sigma == "tanh":
        linear = rfdsm.learning_curve("relu", 0.1, 1.0, [0.5, 2.0], m=m, data=Manifold(0.3)).test
        assert np.max(np.abs(result.extrapolated["test"] - linear) / result.extrapolated_se["test"]) > 4


@pytest.mark.slow
@pytest.mark.parametrize("m", [1, 3])
@pytest.mark.parametrize("sigma", ["linear", "tanh"])
def test_agreement_with_simulation_up_to_d_400(sigma, m):
    """d = 100, 200, 400, 10 seeds (22 s for the four): within 4
    standard errors after extrapolation (measured |z| ≤ 2.3), where the deviation at a single size reaches 14."""
    _agreement(sigma, m, (100, 200, 400), 10)


@pytest.mark.slow  # a subprocess and a figure each: CI runs them
@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_figure_scripts_write_their_figures(number, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / f"fig_manifold_{number}.py"
    run = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / f"manifold_fig{number}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
