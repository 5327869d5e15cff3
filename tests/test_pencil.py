"""The symbolic pencil engine: η, validation, the identity check of every model pencil, reproducible generated/models."""

import numpy as np
import pytest
import sympy as sp

from derive.models import MODELS
from derive.pencil import Pencil, atoms, check_identity

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
