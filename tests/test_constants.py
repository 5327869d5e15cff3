"""Runtime constants (rfdsm.constants) from the generated activation modules: quadrature against mpmath, kernel
identities, generated/ reproducible from derive/, the custom-activation path, and bad input."""

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import mpmath as mp
import pytest

import rfdsm
from derive.build import generate_all, recorded_customs
from rfdsm.activations import available, load

ROOT = Path(__file__).resolve().parent.parent
QUADRATURE = ["tanh", "sigmoid", "softplus", "gelu", "silu", "xerf"]
MP_RHO = {
    "tanh": mp.tanh,
    "sigmoid": lambda u: 1 / (1 + mp.exp(-u)),
    "softplus": lambda u: mp.log(1 + mp.exp(u)),
    "gelu": lambda u: u * (1 + mp.erf(u / mp.sqrt(2))) / 2,
    "silu": lambda u: u / (1 + mp.exp(-u)),
    "xerf": lambda u: u * mp.erf(u),
}


def mp_mean(f):
    return mp.quad(lambda u: f(u) * mp.npdf(u), [-mp.inf, -4, 0, 4, mp.inf])


@pytest.mark.parametrize("name", QUADRATURE)
@pytest.mark.parametrize("q", [0.6, 1.0, 1.7])
def test_quadrature_moments_within_1e_12_of_50_digit_mpmath(name, q):
    mp.mp.dps = 50
    rho, s = MP_RHO[name], mp.sqrt(q)
    exact = [mp_mean(lambda u: rho(s * u)), mp_mean(lambda u: u * rho(s * u)), mp_mean(lambda u: rho(s * u) ** 2)]
    got = load(name).moments(q)
    assert max(abs(float(e) - g) for e, g in zip(exact, got)) < 1e-12


@pytest.mark.parametrize("name, t", [("tanh", 0.1), ("gelu", 1.0)])
def test_quadrature_kernel_within_1e_12_of_mpmath(name, t):
    """c(a²) = E[ρ(u) ρ(a² u + √(1 − a⁴) w)] by 2-D Gauss–Legendre at 30 digits (10 s each; 50 digits take 75 s)."""
    mp.mp.dps = 30
    rho, gamma = MP_RHO[name], mp.exp(-2 * t)
    c = mp.sqrt(1 - gamma**2)
    box = [-11, 0, 11]  # the Gaussian weight beyond 11 is below 1e-26
    value = mp.quad(lambda u, w: rho(u) * rho(gamma * u + c * w) * mp.npdf(u) * mp.npdf(w), box, box,
                    method="gauss-legendre")
    assert abs(float(value) - load(name).kernel(float(gamma), 1.0, 1.0)) < 1e-12


def test_reference_constants_of_tanh_and_relu():
    tanh = rfdsm.constants("tanh", 0.1)
    assert tanh.mu1 == pytest.approx(0.6057055, abs=1e-7)
    assert tanh.norm2 == pytest.approx(0.3942945, abs=1e-7)
    assert tanh.mustar2 == pytest.approx(0.0274153, abs=1e-7)
    assert tanh.kappa == pytest.approx(0.50488, abs=1e-5)
    assert rfdsm.constants("relu", 0.1).kappa == pytest.approx(0.62982, abs=1e-5)
    assert rfdsm.constants("relu", 0.1).mustar2 == pytest.approx(0.25 - 1 / (2 * math.pi), abs=1e-15)


@pytest.mark.parametrize("name", available())
def test_kernel_identities_and_kappa_range(name):
    module = load(name)
    for q in (0.5, 1.0, 2.0):
        mu0, mu1, norm2 = module.moments(q)
        assert module.kernel(1.0, q, q) == pytest.approx(norm2, rel=1e-12, abs=1e-14)
        assert module.kernel(0.0, q, q) == pytest.approx(mu0**2, rel=1e-12, abs=1e-14)
    for t in (0.01, 0.1, 1.0, 5.0):
        c = rfdsm.constants(name, t)
        assert -1e-12 <= c.kappa <= 1 + 1e-12
        assert c.v2 == pytest.approx(c.mustar2 * c.kappa) and c.s2 == pytest.approx(c.mustar2 - c.v2)


def test_kernel_at_minus_one_for_odd_and_even_activations():
    """γ = −1: K = E ρ(g) ρ(−g); −‖ρ‖² for odd ρ, +‖ρ‖² for even ρ."""
    for name, sign in (("tanh", -1), ("erf", -1), ("sign", -1), ("abs", 1), ("quadratic", 1), ("xerf", 1)):
        norm2 = load(name).moments(1.0)[2]
        assert load(name).kernel(-1.0, 1.0, 1.0) == pytest.approx(sign * norm2, rel=1e-12)


def test_generated_folder_is_reproduced_byte_for_byte(tmp_path):
    generate_all(tmp_path, recorded_customs(ROOT / "generated"))
    committed = {p.relative_to(ROOT / "generated") for p in (ROOT / "generated").rglob("*.py")}
    fresh = {p.relative_to(tmp_path) for p in tmp_path.rglob("*.py")}
    assert committed == fresh
    for rel in committed:
        assert (tmp_path / rel).read_bytes() == (ROOT / "generated" / rel).read_bytes(), rel


def test_custom_activation_touches_no_other_file(tmp_path):
    run = subprocess.run([sys.executable, "-m", "derive", "--activation", "exp(-x**2/2)", "--name", "bump",
                          "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "certified" in run.stdout
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.py")] == ["activations/bump.py"]
    spec = importlib.util.spec_from_file_location("bump", tmp_path / "activations" / "bump.py")
    bump = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bump)
    # E exp(−q g²/2) = 1/√(1 + q); E[e^{−u²/2} e^{−v²/2}] = 1/√((1 + q)² − q² γ²)
    assert bump.moments(1.5)[0] == pytest.approx(1 / math.sqrt(2.5), abs=1e-13)
    assert bump.kernel(0.4, 1.0, 1.0) == pytest.approx(1 / math.sqrt(4 - 0.16), abs=1e-13)


def test_missing_activation_error_gives_the_command():
    with pytest.raises(ValueError, match=r"python -m derive --activation .* --name nosuch"):
        rfdsm.constants("nosuch", 0.1)
    with pytest.raises(ValueError, match=r"python -m derive --activation 'x\*erf\(x\)' --name NAME"):
        rfdsm.constants("x*erf(x)", 0.1)


@pytest.mark.parametrize(
    "args, name",
    [(("tanh", 0.0), "t"), (("tanh", -1.0), "t"), (("tanh", math.nan), "t"), (("tanh", 0.1, 0.0), "q"),
     (("tanh", 0.1, -2.0), "q"), (("tanh", 1.0, 0.5), "q"), (("tanh", 0.1, math.nan), "q"), ((3, 0.1), "activation")],
)
def test_bad_input_raises_value_error_naming_the_argument(args, name):
    with pytest.raises(ValueError, match=name):
        rfdsm.constants(*args)


@pytest.mark.parametrize("spec", ["x**", "exp(-y)", "leaky_relu(2)"])
def test_derive_rejects_bad_expressions(spec, tmp_path):
    run = subprocess.run([sys.executable, "-m", "derive", "--activation", spec, "--name", "bad", "--out",
                          str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2 and "error:" in run.stderr
    assert not list(tmp_path.rglob("*.py"))
