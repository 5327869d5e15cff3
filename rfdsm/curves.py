"""Learning curves and phase diagrams of RF-DSM on isotropic Gaussian data (docs/models.md §1), in the proportional limit.

The numbers come from the generated pencil models ``rfdsm_infinite`` (``m = ∞``) and ``rfdsm_finite`` (every finite
``m ≥ 1``), see derive/models/rfdsm.py; the activation enters through its Gaussian constants ``μ1, μ*², κ`` at time
``t`` (rfdsm/activation_constants.py). Errors are per dimension:

    ε_test  = (1/d) E‖√h s(a x + √h z) + z‖²,   ε_train = training loss without the ridge term,
    ε_train_ridge = the minimised loss,          ε_score = (1/d) E‖s(y) + y‖² = (ε_test − a²)/h,

with ``a² = e^{−2t}`` (the baseline: the test error of the exact score) and ``h = 1 − a²``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rfdsm import solver
from rfdsm.activation_constants import Constants, constants
from rfdsm.data import Gaussian, Isotropic
from rfdsm.results import Result
from rfdsm.validate import noise_samples, positive, positive_array

#: Tolerance of the solver on the scaled residual and Newton step (rfdsm/solver.py).
_TOL = 1e-12

#: Regimes of the phase diagram, by code.
REGIMES = ("generalisation", "memorisation", "underfitting")


#: The arrays of a ``LearningCurve`` on its grid (besides ``psi_n``, ``psi_p``, and ``t``, ``lam`` when they vary).
_CURVE_ARRAYS = ("test", "train", "train_ridge", "score", "status", "residual", "iterations")


@dataclass(frozen=True, repr=False)
class LearningCurve(Result):
    """Errors on the broadcast grid of ``t``, ``lam``, ``psi_n`` and ``psi_p`` (arrays of one shape; ``t`` and ``lam``
    stay numbers when given as numbers), with the solver's report: ``status`` (0 = solved; else an index into
    ``MESSAGES``; such points hold NaN with ``on_failure="nan"``), ``residual`` (scaled) and ``iterations``."""

    activation: str
    t: float | np.ndarray
    m: float
    lam: float | np.ndarray
    psi_n: np.ndarray
    psi_p: np.ndarray
    test: np.ndarray
    train: np.ndarray
    train_ridge: np.ndarray
    score: np.ndarray
    baseline: float | np.ndarray
    status: np.ndarray
    residual: np.ndarray
    iterations: np.ndarray
    failures: tuple = ()
    data: str = "Isotropic()"

    @property
    def constants(self) -> Constants:
        """The activation's Gaussian constants at ``t`` (``t`` a number; isotropic data)."""
        if np.ndim(self.t):
            raise ValueError("t: varies over this curve; call rfdsm.constants(activation, t) for each value")
        if self.data != "Isotropic()":
            raise ValueError(f"data: {self.data}; its constants are data.constants(activation, t)")
        return constants(self.activation, self.t)

    def _generated(self) -> list[str]:
        return [*super()._generated(), f"generated.models.{_model(self.m, self.data == 'Isotropic()')}"]

    def _dataset(self, dims=None):
        import xarray as xr

        dims = dims or (("point",) if self.test.ndim == 1 else tuple(f"axis_{k}" for k in range(self.test.ndim)))
        variables = {name: (dims, getattr(self, name)) for name in _CURVE_ARRAYS}
        attrs = {"activation": self.activation, "m": self.m, "data": self.data}
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
        if "data" in cls.__dataclass_fields__:
            fields["data"] = attrs.get("data", "Isotropic()")
        return cls(activation=attrs["activation"], m=attrs["m"], **fields)

    def _summary(self) -> str:
        fixed = ", ".join(f"{name}={getattr(self, name):g}" for name in ("t", "m", "lam")
                          if not np.ndim(getattr(self, name)))
        on = "" if self.data == "Isotropic()" else f", data={self.data}"
        return f"{self.activation}, {fixed}{on}; {self.test.size} points {self.test.shape}"


def _broadcast(**arrays) -> list[np.ndarray]:
    try:
        return np.broadcast_arrays(*arrays.values())
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise ValueError(f"{', '.join(arrays)}: shapes do not broadcast together ({shapes})") from None


def sweep_order(t: np.ndarray, lam: np.ndarray, psi_n: np.ndarray, psi_p: np.ndarray) -> np.ndarray:
    """The order in which ``learning_curve`` solves the points: by ``t``, then ``λ``, then ``ψn``, and along ``ψp``
    alternately up and down (a snake), so that each point is warm-started from a neighbour. Along ``ψp`` the fixed
    point varies smoothly through the interpolation threshold; along ``ψn`` at small ridge it changes fast there.
    The order affects only the speed: every point is converged and checked on its own (rfdsm/solver.py)."""
    column = np.unique(psi_n, return_inverse=True)[1].ravel()
    return np.lexsort((np.where(column % 2 == 0, psi_p, -psi_p), psi_n, lam, t))


def _model(m: float, isotropic: bool) -> str:
    """The generated model of RF-DSM with ``m`` noise samples on isotropic data or on data with a spectrum."""
    return f"rfdsm_{'' if isotropic else 'spectrum_'}{'infinite' if m == math.inf else 'finite'}"


def learning_curve(activation: str, t, psi_n, psi_p, m=math.inf, lam=1e-3, *, data=None, on_failure: str = "raise"
                   ) -> LearningCurve:
    """Test, train, ridge-train and score errors at every point of ``np.broadcast(t, lam, psi_n, psi_p)``.

    ``data``: a data model of ``rfdsm.data`` (default ``Isotropic()``). For Gaussian data with a covariance spectrum
    the errors come from the spectral pencils, the activation constants are taken at the pre-activation variance
    ``q = a² tr Σ/d + h``, and the baseline is ``C_t = 1 − (h/d) tr Σ_t^{-1}`` (docs/data.md).

    ``m`` noise samples per data point (a positive integer or ``math.inf``), ridge ``lam > 0``, time ``t > 0``. Points
    are solved in ``sweep_order``, whatever order they are given in, and the numbers do not depend on it. A point where
    the fixed point is not found raises ``rfdsm.ConvergenceError`` naming it (``on_failure="raise"``), or holds NaN
    with a non-zero ``status`` and a line in ``failures`` (``on_failure="nan"``).
    """
    t = positive_array("t", t)
    lam = positive_array("lam", lam)
    m = noise_samples(m)
    grids = _broadcast(t=t, lam=lam, psi_n=positive_array("psi_n", psi_n), psi_p=positive_array("psi_p", psi_p))
    shape = grids[0].shape
    t_, lam_, psi_n_, psi_p_ = (g.ravel() for g in grids)
    order = sweep_order(t_, lam_, psi_n_, psi_p_)
    data = Isotropic() if data is None else data
    if not isinstance(data, Gaussian):
        raise ValueError(f"data: expected a data model of rfdsm.data (Isotropic(), PowerLaw(k), …), got {data!r}")
    isotropic = isinstance(data, Isotropic)
    times, which = np.unique(t_, return_inverse=True)
    table = np.array([[c.h, c.q, c.mu1, c.mustar2, c.kappa, data.baseline(c.t)]
                      for c in (data.constants(activation, v) for v in times)])[which]
    params = {"lam": lam_, "psi_n": psi_n_, "psi_p": psi_p_, "h": table[:, 0], "mu1": table[:, 2],
              "mustar2": table[:, 3], "kappa": table[:, 4]}
    params |= {} if isotropic else {"q": table[:, 1]}
    params |= {} if m == math.inf else {"m": m}
    params = {k: v[order] if np.ndim(v) else v for k, v in params.items()}
    result = solver.sweep(_model(m, isotropic), params, tol=_TOL, on_failure=on_failure,
                          spectrum=None if isotropic else data.spectrum())
    back = np.empty_like(order)
    back[order] = np.arange(order.size)

    def field(values: np.ndarray) -> np.ndarray:
        return values[back].reshape(shape)

    scalar = lambda given, grid: float(given.flat[0]) if given.size == 1 else grid.copy()  # noqa: E731
    t_out = scalar(t, grids[0])
    return LearningCurve(
        activation=activation, t=t_out, m=m, lam=scalar(lam, grids[1]), psi_n=grids[2].copy(),
        psi_p=grids[3].copy(), test=field(result["test"]), train=field(result["train"]),
        train_ridge=field(result["train_ridge"]), score=field(result["score"]),
        baseline=field(table[order, 5]) if np.ndim(t_out) else float(table[0, 5]),
        status=field(result.status), residual=field(result.residual), iterations=field(result.iterations),
        failures=tuple(result.failures()), data=repr(data),
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


def phase_diagram(activation: str, t: float, psi_n, psi_p, m=math.inf, lam: float = 1e-3, *,
                  tolerance: float = 0.1, data=None, on_failure: str = "raise") -> PhaseDiagram:
    """Errors and regimes on the grid of the 1-D arrays ``psi_n`` (columns) and ``psi_p`` (rows), arguments in
    ``learning_curve``'s order; ``classify`` states the rule. The grid is one ``learning_curve``, so its numbers are
    those of point-by-point calls."""
    tolerance = positive("tolerance", tolerance)
    psi_n = positive_array("psi_n", psi_n)
    psi_p = positive_array("psi_p", psi_p)
    for name, axis in (("psi_n", psi_n), ("psi_p", psi_p)):
        if axis.ndim != 1:
            raise ValueError(f"{name}: expected a 1-D array (the axis of the grid), got shape {axis.shape}")
    for name, value in (("t", t), ("lam", lam)):
        if np.ndim(value):
            raise ValueError(f"{name}: expected a number for a phase diagram, got shape {np.shape(value)}")
    grid_p, grid_n = np.meshgrid(psi_p, psi_n, indexing="ij")
    curve = learning_curve(activation, t, grid_n, grid_p, m=m, lam=lam, data=data, on_failure=on_failure)
    return PhaseDiagram(curve, tolerance, classify(curve.test, curve.train, curve.baseline, tolerance))
