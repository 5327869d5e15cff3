"""The runtime solver: Newton, continuation, complex z, IFT derivatives, warm-started sweeps, errors."""

import numpy as np
import pytest

from rfdsm.solver import CONVERGED, ConvergenceError, load, solve, sweep

MESSAGES = load("ridge").MESSAGES


def mp_root(z, psi):
    """Closed-form MP Stieltjes transform: the root of ψ z s² + (z + ψ − 1) s + 1 with Im s > 0 (s > 0 for z < 0)."""
    roots = np.roots([psi * z, z + psi - 1, 1])
    if isinstance(z, complex):
        return roots[np.argmax(roots.imag * np.sign(z.imag))]
    return roots[np.argmax(roots.real)]


@pytest.mark.parametrize("z", [-0.5, -1e-3, 0.05 - 1e-3j, 1 + 0.01j, 0.5 + 1e-6j, 3 + 0.1j, -1 + 0.5j])
@pytest.mark.parametrize("psi", [0.3, 2.0])
def test_marchenko_pastur_against_the_closed_form(z, psi):
    z = complex(z) if isinstance(z, complex) else z
    s = solve("marchenko_pastur", {"z": z, "psi": psi})
    want = mp_root(z, psi)
    assert s.status == CONVERGED and s.residual <= 1e-12 * max(1.0, np.linalg.norm(s.x))
    assert abs(s["stieltjes"] - want) < 1e-10 * abs(want)
    # Herglotz: Im s has the sign of Im z.
    if isinstance(z, complex):
        assert np.sign(s["stieltjes"].imag) == np.sign(z.imag)
    ds = -(psi * want**2 + want) / (2 * psi * z * want + z + psi - 1)
    assert abs(s["dstieltjes_dz"] - ds) < 1e-9 * abs(ds)


def test_sweep_warm_starts_and_reports_every_point():
    lam = np.geomspace(10, 1e-3, 200)
    swept = sweep("ridge", {"lam": lam, "psi_n": 1.7, "noise": 0.1}, on_failure="nan")
    assert np.all(swept.status == CONVERGED) and np.all(swept.residual < 1e-12) and swept.failures() == []
    cold = [solve("ridge", {"lam": v, "psi_n": 1.7, "noise": 0.1}) for v in lam[::20]]
    assert np.allclose([c["test_error"] for c in cold], swept["test_error"][::20], rtol=1e-10, atol=0)
    # Warm starts: a few Newton steps per point instead of a continuation from λ = 10⁴ each time.
    assert swept.iterations[1:].mean() < 0.5 * np.mean([c.iterations for c in cold])


def test_guess_is_used():
    first = solve("ridge", {"lam": 0.5, "psi_n": 2.0, "noise": 0.1})
    again = solve("ridge", {"lam": 0.5, "psi_n": 2.0, "noise": 0.1}, guess=first.x)
    # From the solution itself: one Newton step (the minimum from any start) and the final one that is applied.
    assert again.iterations == 2 < first.iterations
    assert again["test_error"] == pytest.approx(first["test_error"], rel=1e-15)


def test_no_fixed_point_raises_naming_the_parameters():
    # λ = 0 with fewer samples than dimensions: (X^T X/n)^{-1} does not exist, g_ww diverges.
    with pytest.raises(ConvergenceError, match=r"^model ridge: no fixed point at lam=0\.0, psi_n=0\.5"):
        solve("ridge", {"lam": 0.0, "psi_n": 0.5, "noise": 0.1})
    marked = sweep("ridge", {"lam": [1.0, 0.0], "psi_n": 0.5, "noise": 0.1}, on_failure="nan")
    assert marked.status[0] == CONVERGED != marked.status[1] and np.isnan(marked["test_error"][1])
    assert marked.failures() == [f"lam=0.0, psi_n=0.5, noise=0.1: {MESSAGES[marked.status[1]]}"]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"lam": -1.0, "psi_n": 1.0, "noise": 0.1}, "^lam: every value must be ≥ 0"),
        ({"lam": 1.0, "psi_n": 0.0, "noise": 0.1}, "^psi_n: every value must be > 0"),
        ({"lam": 1.0, "psi_n": 1.0}, "^params: model ridge takes lam, psi_n, noise; missing noise"),
        ({"lam": 1.0, "psi_n": 1.0, "noise": 0.1, "m": 2}, "^params: model ridge takes .*; unknown m"),
        ({"lam": 1j, "psi_n": 1.0, "noise": 0.1}, "^lam: must be real"),
        ({"lam": [1.0, 2.0], "psi_n": [1.0, 2.0, 3.0], "noise": 0.1}, "^params: .* same length"),
    ],
)
def test_bad_input(params, message):
    with pytest.raises(ValueError, match=message):
        sweep("ridge", params)


def test_unknown_model_and_bad_options():
    with pytest.raises(ValueError, match=r"^model: no generated model 'nope'"):
        solve("nope", {})
    with pytest.raises(ValueError, match=r"^tol:"):
        solve("ridge", {"lam": 1.0, "psi_n": 1.0, "noise": 0.1}, tol=-1)
    with pytest.raises(ValueError, match=r"^on_failure:"):
        sweep("ridge", {"lam": 1.0, "psi_n": 1.0, "noise": 0.1}, on_failure="skip")
    with pytest.raises(ValueError, match=r"^params: solve takes one point"):
        solve("ridge", {"lam": [1.0, 2.0], "psi_n": 1.0, "noise": 0.1})
