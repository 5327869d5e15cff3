"""Learning curves and phase diagrams of RF-DSM on isotropic Gaussian data (MODELS.md §1), in the proportional limit.

The numbers come from the generated pencil models ``rfdsm_infinite`` (``m = ∞``) and ``rfdsm_finite`` (every finite
``m ≥ 1``), see derive/models/rfdsm.py; the activation enters through its Gaussian constants ``μ1, μ*², κ`` at time
``t`` (rfdsm/constants.py). Errors are per dimension:

    ε_test  = (1/d) E‖√h s(a x + √h z) + z‖²,   ε_train = training loss without the ridge term,
    ε_train_ridge = the minimised loss,          ε_score = (1/d) E‖s(y) + y‖² = (ε_test − a²)/h,

with ``a² = e^{−2t}`` (the baseline: the test error of the exact score) and ``h = 1 − a²``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rfdsm import solver
from rfdsm.constants import Constants, constants
from rfdsm.results import Result
from rfdsm.validate import noise_samples, positive, positive_array

#: Relative residual at which a point counts as solved. Where ψp ≫ ψn the unknowns grow like 1/λ and the residual
#: of the double-precision fixed point stalls near 1e-16 · cond(J) · ‖x‖, above the solver's default 1e-12.
_TOL = 1e-12

#: Regimes of the phase diagram, by code.
REGIMES = ("generalisation", "memorisation", "underfitting")


#: The arrays of a ``LearningCurve`` on its grid (besides ``psi_n``, ``psi_p``, and ``t``, ``lam`` when they vary).
_CURVE_ARRAYS = ("test", "train", "train_ridge", "score", "status", "residual", "iterations")


@dataclass(frozen=True, repr=False)
class LearningCurve(Result):
    """Errors on the broadcast grid of ``psi_n`` and ``psi_p`` (arrays of one shape), with the solver's report."""

    activation: str
    t: float
    m: float
    lam: float
    psi_n: np.ndarray
    psi_p: np.ndarray
    test: np.ndarray
    train: np.ndarray
    train_ridge: np.ndarray
    score: np.ndarray
    baseline: float
    constants: Constants
    status: np.ndarray
    residual: np.ndarray
    iterations: np.ndarray

    def _generated(self) -> list[str]:
        return [*super()._generated(), f"generated.models.rfdsm_{'infinite' if self.m == math.inf else 'finite'}"]

    def _dataset(self, dims=None):
        import xarray as xr

        dims = dims or (("point",) if self.test.ndim == 1 else tuple(f"axis_{k}" for k in range(self.test.ndim)))
        variables = {name: (dims, getattr(self, name)) for name in _CURVE_ARRAYS}
        attrs = {"activation": self.activation, "m": self.m}
        for name in ("t", "lam", "baseline"):  # a number, or an array over the grid
            value = getattr(self, name)
            if np.ndim(value):
                variables[name] = (dims, value)
            else:
                attrs[name] = value
        if getattr(self, "failures", ()):
            attrs["failures"] = "\n".join(self.failures)
        return xr.Dataset(variables, coords={"psi_n": (dims, self.psi_n), "psi_p": (dims, self.psi_p)}, attrs=attrs)

    @classmethod
    def _from_dataset(cls, data, attrs):
        fields = {name: data[name].values if name in data else attrs[name] for name in ("t", "lam", "baseline")}
        fields |= {name: data[name].values for name in _CURVE_ARRAYS}
        grid = np.broadcast_arrays(data["psi_n"].values, data["psi_p"].values)
        fields["psi_n"], fields["psi_p"] = (a.copy() for a in grid)
        if "constants" in cls.__dataclass_fields__:  # a function of the activation and t: computed again
            fields["constants"] = constants(attrs["activation"], fields["t"])
        if "failures" in cls.__dataclass_fields__:
            fields["failures"] = tuple(attrs.get("failures", "").splitlines())
        return cls(activation=attrs["activation"], m=attrs["m"], **fields)

    def _summary(self) -> str:
        fixed = ", ".join(f"{name}={getattr(self, name):g}" for name in ("t", "m", "lam")
                          if not np.ndim(getattr(self, name)))
        return f"{self.activation}, {fixed}; {self.test.size} points {self.test.shape}"


def learning_curve(activation: str, t: float, psi_n, psi_p, m=math.inf, lam: float = 1e-3) -> LearningCurve:
    """Test, train, ridge-train and score errors at every point of ``np.broadcast(psi_n, psi_p)``.

    ``m`` noise samples per data point (a positive integer or ``math.inf``), ridge ``lam > 0``, time ``t > 0``.
    Points are solved in order with warm starts (so sweep a curve monotonically for speed); a point where the fixed
    point is not found raises ``rfdsm.solver.ConvergenceError`` naming it.
    """
    t = positive("t", t)
    lam = positive("lam", lam)
    m = noise_samples(m)
    psi_n, psi_p = np.broadcast_arrays(positive_array("psi_n", psi_n), positive_array("psi_p", psi_p))
    consts = constants(activation, t)
    params = {
        "lam": lam, "psi_n": psi_n.ravel(), "psi_p": psi_p.ravel(), "h": consts.h, "mu1": consts.mu1,
        "mustar2": consts.mustar2, "kappa": consts.kappa, "zeta": 0.0,
    }
    if m == math.inf:
        result = solver.sweep("rfdsm_infinite", params, tol=_TOL)
    else:
        result = solver.sweep("rfdsm_finite", params | {"m": m}, tol=_TOL)
    shape = psi_n.shape
    return LearningCurve(
        activation=activation, t=t, m=m, lam=lam, psi_n=psi_n.copy(), psi_p=psi_p.copy(),
        test=result["test"].reshape(shape), train=result["train"].reshape(shape),
        train_ridge=result["train_ridge"].reshape(shape), score=result["score"].reshape(shape),
        baseline=consts.a2, constants=consts, status=result.status.reshape(shape),
        residual=result.residual.reshape(shape), iterations=result.iterations.reshape(shape),
    )


@dataclass(frozen=True, repr=False)
class PhaseDiagram(Result):
    """A grid ``psi_p × psi_n`` (rows × columns) of errors and regimes (codes into ``REGIMES``)."""

    curve: LearningCurve
    tolerance: float
    regime: np.ndarray

    @property
    def psi_n(self) -> np.ndarray:
        return self.curve.psi_n[0]

    @property
    def psi_p(self) -> np.ndarray:
        return self.curve.psi_p[:, 0]

    def _generated(self) -> list[str]:
        return self.curve._generated()

    def _dataset(self):
        data = self.curve._dataset(("psi_p", "psi_n")).assign_coords(psi_p=self.psi_p, psi_n=self.psi_n)
        data["regime"] = (("psi_p", "psi_n"), self.regime)
        data.attrs |= {"tolerance": self.tolerance, "regimes": ", ".join(REGIMES)}
        return data

    @classmethod
    def _from_dataset(cls, data, attrs):
        grid_p, grid_n = np.meshgrid(data["psi_p"].values, data["psi_n"].values, indexing="ij")
        curve = LearningCurve._from_dataset(data.assign_coords(psi_n=(("psi_p", "psi_n"), grid_n),
                                                               psi_p=(("psi_p", "psi_n"), grid_p)), attrs)
        return cls(curve, attrs["tolerance"], data["regime"].values)

    def _summary(self) -> str:
        c = self.curve
        return (f"{c.activation}, t={c.t:g}, m={c.m:g}, λ={c.lam:g}, tolerance={self.tolerance:g}; "
                f"{self.psi_p.size} ψp × {self.psi_n.size} ψn")


def classify(test, train, baseline: float, tolerance: float) -> np.ndarray:
    """Regime codes (``REGIMES``). The test error never falls below the baseline ``a²`` (``ε_test = a² + h ε_score``),
    so with the relative excess ``δ = (ε_test − a²)/a²``:

    - generalisation: ``δ ≤ tolerance``;
    - memorisation: ``δ > tolerance`` while ``ε_train < a²`` (the model fits the training noise better than the
      exact score does);
    - underfitting: ``δ > tolerance`` and ``ε_train ≥ a²``.
    """
    excess = (np.asarray(test) - baseline) / baseline
    return np.where(excess <= tolerance, 0, np.where(np.asarray(train) < baseline, 1, 2))


def phase_diagram(activation: str, t: float, m, lam: float, psi_n, psi_p, tolerance: float = 0.1) -> PhaseDiagram:
    """Errors and regimes on the grid of the 1-D arrays ``psi_n`` (columns) and ``psi_p`` (rows); ``classify`` states
    the rule. The grid is swept column by column (``ψp`` at fixed ``ψn``, alternately up and down), so every point is
    warm-started from a neighbour: along ``ψp`` the fixed point varies smoothly through the interpolation threshold
    (along ``ψn`` at small ridge it jumps there, and Newton's warm starts fail ten times as often)."""
    tolerance = positive("tolerance", tolerance)
    psi_n = positive_array("psi_n", psi_n).ravel()
    psi_p = positive_array("psi_p", psi_p).ravel()
    grid_p, grid_n = np.meshgrid(psi_p, psi_n)  # rows: one ψn each
    curve = learning_curve(activation, t, _snake(grid_n), _snake(grid_p), m=m, lam=lam)
    fields = {name: _snake(getattr(curve, name)).T for name in
              ("psi_n", "psi_p", "test", "train", "train_ridge", "score", "status", "residual", "iterations")}
    curve = LearningCurve(**{**curve.__dict__, **fields})
    return PhaseDiagram(curve, tolerance, classify(curve.test, curve.train, curve.baseline, tolerance))


def _snake(a: np.ndarray) -> np.ndarray:
    """Odd rows reversed (its own inverse)."""
    out = a.copy()
    out[1::2] = out[1::2, ::-1]
    return out
