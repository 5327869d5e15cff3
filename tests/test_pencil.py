"""The symbolic pencil engine: η, validation, the identity check of every model pencil, deterministic blocks f(Σ) and
their spectral means, the emitted modules' headers and names."""

import numpy as np
import pytest
import sympy as sp

from derive import model_code
from derive.build import model_sources
from derive.models import MODELS, ridge
from derive.pencil import EV, SIGMA, Mean, Pencil, atoms, check_identity

z, psi = sp.Symbol("z"), sp.Symbol("psi", positive=True)


def mp_pencil() -> Pencil:
    P = Pencil("mp", sizes={"u": psi, "w": 1}, parameters=[z, psi])
    P.constant("u", "u", -z)
    P.constant("w", "w", -1)
    P.gaussian("u", "w", "W", 1)
    return P


def test_eta_of_marchenko_pastur():
    P = mp_pencil()
    eta = P.eta()
    assert eta[0, 0] == P.g("w", "w")
    assert eta[1, 1] == psi * P.g("u", "u")
    assert eta[0, 1] == eta[1, 0] == 0


def test_eta_cross_terms_of_a_shared_atom():
    # W in (u,a) and (u,b): η couples a and b through α α' (N_u/d) g_uu; X·X^T pairs of one orientation only.
    a1, a2 = sp.symbols("a1 a2", positive=True)
    P = Pencil("two", sizes={"u": psi, "a": 1, "b": 1}, parameters=[psi, a1, a2])
    P.gaussian("u", "a", "W", a1)
    P.gaussian("u", "b", "W", a2)
    eta = P.eta()
    assert sp.simplify(eta[1, 2] - a1 * a2 * psi * P.g("u", "u")) == 0
    assert sp.simplify(eta[0, 0] - (a1**2 * P.g("a", "a") + 2 * a1 * a2 * P.g("a", "b") + a2**2 * P.g("b", "b"))) == 0


def test_from_blocks_matches_the_builder_and_rejects_non_symmetric():
    (W,) = atoms("W")
    P = Pencil.from_blocks("mp", {"u": psi, "w": 1}, [[-z, W], [sp.transpose(W), -1]], [z, psi])
    assert P.eta() == mp_pencil().eta()
    with pytest.raises(ValueError, match="not symmetric"):
        Pencil.from_blocks("bad", {"u": psi, "w": 1}, [[-z, W], [2 * sp.transpose(W), -1]], [z, psi])
    with pytest.raises(ValueError, match="not symmetric"):
        Pencil.from_blocks("bad", {"u": 1, "w": 1}, [[-z, W], [W, -1]], [z])
    with pytest.raises(ValueError, match="not an atom"):
        Pencil.from_blocks("bad", {"u": 1, "w": 1}, [[W * W, 0], [0, -1]], [z])


def test_validation_errors():
    P = mp_pencil()
    with pytest.raises(ValueError, match="different sizes"):
        P.constant("u", "w", 1)
    with pytest.raises(ValueError, match="atom W is used with shape"):
        P.gaussian("w", "u", "W", 1)
    with pytest.raises(ValueError, match="unknown block"):
        P.constant("v", "v", 1)
    with pytest.raises(ValueError, match="different sizes"):
        P.g("u", "w")
    with pytest.raises(ValueError, match="set twice"):
        P.constant("u", "u", 1)
    with pytest.raises(ValueError, match="unknown symbols"):
        P.observable("bad", sp.Symbol("q") * P.g("u", "u"))
    with pytest.raises(ValueError, match="not positive"):
        Pencil("neg", sizes={"u": -1}, parameters=[])
    Q = Pencil("free", sizes={"u": 1, "w": 1}, parameters=[z])
    Q.gaussian("u", "w", "W", sp.Symbol("c"))
    with pytest.raises(ValueError, match="not in parameters"):
        Q.equations()


def test_fixed_point_derivative_by_implicit_function_theorem():
    # MP: dx/dz from the emitted formulas equals the derivative of the closed-form root.
    P = mp_pencil()
    P.dg("u", "u", z)
    eq = P.equations()
    zv, pv = -0.7, 0.4
    s = max(np.roots([pv * zv, zv + pv - 1, 1]).real)
    x = {eq.unknowns[0]: s, eq.unknowns[1]: -1 / (1 + pv * s)}
    values = {z: zv, psi: pv, **x}
    G = {gs: float(e.subs(values)) for gs, e in zip(eq.resolvent_symbols, eq.resolvent)}
    J = np.array(eq.jacobian.subs(values).subs(G), dtype=float)
    R = np.array(eq.parameter_jacobian.subs(values).subs(G), dtype=float)
    dx = np.linalg.solve(J, -R)[0, 0]
    ds = -(pv * s * s + s) / (2 * pv * zv * s + zv + pv - 1)
    assert abs(dx - ds) < 1e-12


@pytest.mark.parametrize("builder", MODELS, ids=lambda b: b.__module__.rsplit(".", 1)[-1])
def test_identity_of_every_model_pencil(builder):
    P = builder()
    assert P.identities, f"pencil {P.name} records no identity"
    for block, target, params in P.identities:
        for seed in (0, 1):
            assert check_identity(P, block, target, d=10, params=params, seed=seed) < 1e-9


def test_identity_check_catches_a_wrong_target():
    P = mp_pencil()
    wrong = lambda a, q: np.linalg.inv(a["W"] @ a["W"].T - (q["z"] + 1e-6) * np.eye(a["W"].shape[0]))  # noqa: E731
    assert check_identity(P, ("u", "u"), wrong, d=10, params={"z": -0.5, "psi": 0.5}) > 1e-8


lam = sp.Symbol("lam", positive=True)


def deformed_pencil() -> Pencil:
    """``[L^{-1}]_ww = (λ + Σ + X̂ X̂^T/ψ)^{-1}``: ``L = [[λ + Σ, X̂/√ψ], [X̂^T/√ψ, −1]]`` (``X̂``: ``d × n``)."""
    P = Pencil("deformed", sizes={"w": 1, "y": psi}, parameters=[lam, psi])
    P.deterministic("w", "w", lam + EV)
    P.constant("y", "y", -1)
    P.gaussian("w", "y", "X", 1 / sp.sqrt(psi))
    P.identity(("w", "w"), lambda a, q: np.linalg.inv(
        q["lam"] * np.eye(a["X"].shape[0]) + a[SIGMA] + a["X"] @ a["X"].T / q["psi"]), {"lam": 0.3, "psi": 1.5})
    return P


def evaluate(expr: sp.Expr, values: dict, spectrum: np.ndarray, local: dict) -> float:
    """``expr`` at ``values`` (symbol → number), each ``Mean`` summed over the atoms ``(ev, weight)`` of
    ``spectrum``."""
    def mean(arg):
        f = sp.lambdify(EV, arg.xreplace(local).xreplace(values), "numpy")
        return sp.Float(np.sum(spectrum[:, 1] * np.broadcast_to(f(spectrum[:, 0]), spectrum[:, 0].shape)))
    return float(sp.sympify(expr).replace(lambda e: isinstance(e, Mean), lambda e: mean(e.args[0])).xreplace(values))


def test_deterministic_blocks_against_dense_matrices():
    # The fixed point of the equations (g = Mean((λ + ev − g_yy)^{-1}), g_yy = −1/(1 + g/ψ)) against the traces of a
    # dense L with Σ of a two-atom law, at d = 200 and 800: the plain and the Σ-weighted trace of the w block.
    P = deformed_pencil()
    weighted = P.g("w", "w", weight=EV)
    eq = P.equations()
    assert P.spectral_class() == ["w"] and set(eq.local) == {sp.Symbol("G(ev)[w,w]")}
    block, target, params = P.identities[0]
    assert check_identity(P, block, target, params=params) < 1e-12
    spectrum = np.array([[0.5, 0.25], [2.0, 0.75]])
    values = {lam: 0.3, psi: 1.5}
    x = [float(e.xreplace(values)) if not e.has(Mean) else evaluate(e, values, spectrum, eq.local)
         for e in eq.initial]
    for _ in range(200):
        x = [evaluate(e, {**values, **dict(zip(eq.unknowns, x))}, spectrum, eq.local)
             for e in (eq.resolvent[eq.blocks.index(u)] for u in eq.unknowns)]
    at = {**values, **dict(zip(eq.unknowns, x))}
    theory = {g: evaluate(e, at, spectrum, eq.local) for g, e in zip(eq.blocks, eq.resolvent)}
    for d in (200, 800):
        values_d = np.repeat(spectrum[:, 0], (spectrum[:, 1] * d).astype(int))
        dense = P.block_traces(d, {"lam": 0.3, "psi": 1.5}, seed=0, eigenvalues=values_d)
        for g in (P.g("w", "w"), weighted):
            assert abs(dense[g] - theory[g]) < 0.2 / np.sqrt(d) * abs(theory[g]), (g, d)
    # And Σ enters: the isotropic law of the same mean gives another trace.
    assert abs(theory[P.g("w", "w")] - evaluate(eq.resolvent[0], at, np.array([[1.625, 1.0]]), eq.local)) > 0.01


def test_deterministic_blocks_are_checked():
    P = deformed_pencil()
    with pytest.raises(ValueError, match="not the data dimension"):
        P.deterministic("y", "y", EV)
    with pytest.raises(ValueError, match="use deterministic"):
        P.constant("y", "y", EV)
    with pytest.raises(ValueError, match="not the data dimension"):
        P.g("y", "y", weight=EV)
    with pytest.raises(ValueError, match="not parameters"):
        P.mean(EV * sp.Symbol("c"))
    with pytest.raises(ValueError, match="names the data covariance"):
        P.gaussian("w", "y", SIGMA, 1)
    with pytest.raises(ValueError, match="eigenvalue symbol"):
        Pencil("bad", sizes={"w": 1}, parameters=[EV])
    with pytest.raises(ValueError, match="unknown symbols"):
        P.observable("bad", Mean(EV * sp.Symbol("c")))


def test_emitted_modules_name_their_parameters_and_hash_their_model_file():
    text = model_code.render(ridge.build(), ["models/ridge.py"])
    assert "derive/models/ridge.py" in text.splitlines()[0]
    assert "    lam = p[0]\n" in text and "p = (lam, psi_n, noise); s: unused" in text
    other = model_code.render(ridge.build(), ["models/rfdsm.py"])
    assert other.splitlines()[2] != text.splitlines()[2]  # the source hash covers the model file
    spectral = model_code.render(deformed_pencil(), ["models/ridge.py"])
    assert "SPECTRAL = True" in spectral and "for k in range(0, atoms.size, 2):" in spectral
    bad = Pencil("bad", sizes={"u": 1, "w": 1}, parameters=[sp.Symbol("s")])
    bad.gaussian("u", "w", "W", sp.Symbol("s"))
    bad.constant("u", "u", 1)
    bad.constant("w", "w", -1)
    with pytest.raises(ValueError, match="taken by the generated code"):
        model_code.render(bad, ["models/ridge.py"])
    # A pencil built on another model file's pieces is hashed with that file too (transitively).
    assert model_sources("derive.models.ridge") == ["models/ridge.py"]
    assert model_sources("derive.models.rfdsm_resolvent") == [
        "models/rfdsm.py", "models/rfdsm_resolvent.py", "models/rfdsm_spectrum.py"]
