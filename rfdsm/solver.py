"""Solve the fixed point of a generated model (``generated/models/<name>.py``, see derive/model_code.py).

A model's unknowns ``x`` solve ``r(x) = x − [(L0 − η(x))^{-1}]_x = 0`` (docs/method.md). The loop is emitted into
every model module (derive/solver_loop.py); it does, at each point:

- Newton's method on the system scaled component by component, ``r_i/s_i`` with ``s_i = max(|x_i|, |G_i(x)|)``: the
  unknowns span many orders of magnitude (1e-7 next to 1e6 at small ridge), and only the scaled Jacobian is well
  conditioned. A point is converged when, *after at least one Newton step*, the scaled residual ``max |r_i|/s_i`` and
  the scaled Newton step ``max |δ_i|/s_i`` — the error estimate of ``x`` — are both ``≤ tol``. A test relative to
  ``‖x‖`` alone accepted a neighbour's solution with an error of 25 % in some unknowns;
- warm starts along a sweep: Newton from the previous point's solution; failing that, continuation along the segment
  from the previous point (steps that shrink after a failure; each must converge within ``STEP_ITERATIONS`` Newton
  steps, so it cannot jump to another solution of the equations);
- a physical check of every accepted point: finite observables, and the model's conditions (``violation``: for
  RF-DSM ``0 ≤ ε_train ≤ ε_train_ridge ≤ 1``, ``ε_test ≥`` the baseline, and the sign and Jensen bounds of the
  resolvent trace, derive/models/rfdsm.py). A warm-started point that fails it is solved again from the safe start:
  continuation in the model's parameter ``c`` (the ridge ``λ``, or ``z``) from its start value ``c0``, where ``η``
  is negligible and ``x ≈ [L0^{-1}]_x``. For a non-real target (``z`` with ``Im z ≠ 0``) the start is
  ``Re z + i |c0| sign(Im z)``: the path comes straight down to ``z`` far from the real axis, where the branches of
  the solution meet, so it stays on the Herglotz branch;
- derivatives ``dg/dp`` by the implicit function theorem and the observables at every point.

Every point has a status (``CONVERGED`` = 0, else an index into the model's ``MESSAGES``), a scaled residual and an
iteration count. A point that is not solved raises ``ConvergenceError`` naming the model and its parameters, or, with
``on_failure="nan"``, gets NaN values and its status — never a silent NaN or a wrong number.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np

import generated
from rfdsm.validate import positive, positive_array

#: Status of a converged point (the other codes and their messages: ``MESSAGES`` of each generated model).
CONVERGED = 0


class ConvergenceError(RuntimeError):
    """The fixed point was not found at some parameters (named in the message)."""


@dataclass(frozen=True)
class Solution:
    """The fixed point at one parameter point: ``g`` (every block trace), ``dg`` (``"dg[b,c]/dp"``), observables."""

    model: str
    params: dict
    x: np.ndarray
    g: dict
    dg: dict
    observables: dict
    status: int
    residual: float
    iterations: int

    def __getitem__(self, name: str):
        return self.observables[name]


@dataclass(frozen=True)
class Sweep:
    """Fixed points along a sweep: ``params`` and every entry of ``observables`` are arrays over the points; ``g`` is
    ``(points, blocks)``; ``status``, ``residual``, ``iterations`` per point (the Newton steps of that point); ``x``
    the unknowns ``(points, UNKNOWNS)``."""

    model: str
    params: dict
    g: np.ndarray
    observables: dict
    status: np.ndarray
    residual: np.ndarray
    iterations: np.ndarray
    x: np.ndarray | None = None

    def __getitem__(self, name: str) -> np.ndarray:
        return self.observables[name]

    def failures(self) -> list[str]:
        """One line per point that was not solved: its parameters and why."""
        module = load(self.model)
        return [f"{_where(module, self.params, i)}: {module.MESSAGES[self.status[i]]}"
                for i in np.flatnonzero(self.status != CONVERGED)]


def available() -> list[str]:
    """Names of the generated models."""
    folder = Path(generated.__file__).parent / "models"
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


@cache
def load(model: str) -> ModuleType:
    """The generated module of ``model``."""
    if not isinstance(model, str) or model not in available():
        raise ValueError(f"model: no generated model {model!r} (available: {', '.join(available())})")
    return importlib.import_module(f"generated.models.{model}")


# -- Python interface -------------------------------------------------------------------------------------------------


def _parameter_table(module: ModuleType, params) -> tuple[np.ndarray, dict]:
    """Validated parameter rows ``(points, PARAMETERS)`` (complex if any value is) and the broadcast columns by name.
    Callers give every parameter but the ``MARKERS``, which mark derivatives and are held at 0."""
    names = tuple(k for k in module.PARAMETERS if k not in module.MARKERS)
    if isinstance(params, dict):
        unknown = sorted(set(params) - set(names))
        missing = [k for k in names if k not in params]
        if unknown or missing:
            raise ValueError(
                f"params: model {module.NAME} takes {', '.join(names)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unknown {', '.join(unknown)}" if unknown else "")
            )
        columns = [params[k] for k in names]
    else:
        columns = list(np.asarray(params).T)
        if len(columns) != len(names):
            raise ValueError(f"params: model {module.NAME} takes {len(names)} parameters ({', '.join(names)})")
    try:
        columns = np.broadcast_arrays(*[np.atleast_1d(np.asarray(c)) for c in columns])
    except ValueError:
        raise ValueError("params: the swept parameters must have the same length") from None
    table = {}
    for name, column in zip(names, columns):
        if column.ndim != 1:
            raise ValueError(f"{name}: expected a number or a 1-D array")
        if name in module.POSITIVE or name in module.NONNEGATIVE:
            if np.iscomplexobj(column):
                raise ValueError(f"{name}: must be real, got {column!r}")
            column = positive_array(name, column, allow_zero=name in module.NONNEGATIVE)
        else:
            try:
                column = np.asarray(column, dtype=complex if np.iscomplexobj(column) else float)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: expected numbers, got {column!r}") from None
            if not np.all(np.isfinite(column)):
                raise ValueError(f"{name}: expected finite numbers, got {column!r}")
        table[name] = column
    dtype = complex if any(np.iscomplexobj(c) for c in table.values()) else float
    zeros = np.zeros(len(next(iter(table.values()))))
    rows = np.stack([table.get(k, zeros) for k in module.PARAMETERS], axis=1)
    return np.ascontiguousarray(rows, dtype=dtype), table


#: What a failed point does: raise ``ConvergenceError``, or become NaN with a non-zero status.
ON_FAILURE = ("raise", "nan")


def _where(module: ModuleType, table: dict, i: int) -> str:
    return ", ".join(f"{k}={v[i].item()!r}" for k, v in table.items())


def _run(model: str, params, guess, tol: float, maxiter: int, on_failure: str, spectrum=None):
    module = load(model)
    # The spectral law of Σ (rows ev, weight) for models with a deterministic block; the isotropic law otherwise.
    s = np.ones((1, 2)) if spectrum is None else np.ascontiguousarray(spectrum, dtype=float)
    tol = positive("tol", tol)
    if not (isinstance(maxiter, int) and maxiter >= 1):
        raise ValueError(f"maxiter: expected an integer ≥ 1, got {maxiter!r}")
    if on_failure not in ON_FAILURE:
        raise ValueError(f"on_failure: expected one of {', '.join(ON_FAILURE)}, got {on_failure!r}")
    P, table = _parameter_table(module, params)
    index, start = module.CONTINUATION if module.CONTINUATION is not None else (-1, 0.0)
    if index >= 0 and P.dtype == complex:
        # One start for the whole sweep: above (or below) the real axis, on the side of the targets.
        imag = P[:, index].imag
        if np.any(imag > 0) and np.any(imag < 0):
            raise ValueError(f"{module.PARAMETERS[index]}: a sweep must stay on one side of the real axis")
        side = -1.0 if np.any(imag < 0) else 1.0
        start = complex(np.mean(P[:, index].real), side * abs(start))
    if guess is None:
        x0, warm = np.zeros(len(module.UNKNOWNS), dtype=P.dtype), False
    else:
        x0, warm = np.asarray(guess, dtype=P.dtype).copy(), True
        if x0.shape != (len(module.UNKNOWNS),):
            raise ValueError(f"guess: expected {len(module.UNKNOWNS)} values ({', '.join(module.UNKNOWNS)})")
    X, G, dG, O, status, norms, iterations = module.solve_points(
        P, s, index, P.dtype.type(start), tol, maxiter, x0, warm)
    bad = np.flatnonzero(status != CONVERGED)
    if bad.size:
        i = bad[0]
        message = (f"model {model}: no fixed point at {_where(module, table, i)}: {module.MESSAGES[status[i]]} "
                   f"(scaled residual {norms[i]:.3g} after {iterations[i]} Newton steps; {bad.size} of {len(status)} "
                   "points failed)")
        if on_failure == "raise":
            raise ConvergenceError(message)
        X[bad], G[bad], dG[bad], O[bad] = np.nan, np.nan, np.nan, np.nan
    if P.dtype == float:
        G, dG, O = G.real, dG.real, O.real
    return module, table, X, G, dG, O, status, norms, iterations


def solve(model: str, params, guess=None, tol: float = 1e-12, maxiter: int = 50, spectrum=None) -> Solution:
    """The fixed point of ``model`` at one parameter point (``params``: name → number, or the vector in ``PARAMETERS``
    order), from ``guess`` (the unknowns) or by continuation from the model's start value."""
    module, table, X, G, dG, O, status, norms, iterations = _run(model, params, guess, tol, maxiter, "raise", spectrum)
    if len(status) != 1:
        raise ValueError("params: solve takes one point; use sweep for arrays")
    scalar = lambda v: complex(v) if np.iscomplexobj(v) else float(v)  # noqa: E731
    return Solution(
        model=model,
        params={k: scalar(v[0]) for k, v in table.items()},
        x=X[0],
        g={name: scalar(G[0, i]) for i, name in enumerate(module.BLOCKS)},
        dg={f"d{g}/d{p}": scalar(dG[0, i, j]) for i, g in enumerate(module.BLOCKS)
            for j, p in enumerate(module.DERIVATIVES)},
        observables={name: scalar(O[0, i]) for i, name in enumerate(module.OBSERVABLES)},
        status=int(status[0]),
        residual=float(norms[0]),
        iterations=int(iterations[0]),
    )


def sweep(model: str, params, guess=None, tol: float = 1e-12, maxiter: int = 50, on_failure: str = "raise",
          spectrum=None) -> Sweep:
    """Fixed points along a sweep: ``params`` maps each parameter to a number or to a 1-D array (arrays of one length,
    numbers broadcast); points are solved in order, each warm-started from the previous one (module docstring), so the
    numbers do not depend on the order. A point that is not solved raises ``ConvergenceError``
    (``on_failure="raise"``) or gets NaN and its non-zero status (``"nan"``; ``Sweep.failures()`` lists them)."""
    module, table, X, G, dG, O, status, norms, iterations = _run(model, params, guess, tol, maxiter, on_failure, spectrum)
    return Sweep(
        model=model,
        params=table,
        g=G,
        observables={name: O[:, i] for i, name in enumerate(module.OBSERVABLES)},
        status=status,
        residual=norms,
        iterations=iterations,
        x=X,
    )


__all__ = ["ConvergenceError", "Solution", "Sweep", "available", "load", "solve", "sweep"]
