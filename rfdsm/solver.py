"""Solve the fixed point of a generated model (``generated/models/<name>.py``, see derive/model_code.py).

A model's unknowns ``x`` solve ``r(x) = x − [(L0 − η(x))^{-1}]_x = 0`` (PENCILS.md §2). The solver:

- Newton's method with a backtracking line search on ``‖r‖₂`` (Armijo, step halved down to ``2^-20``); it stops on the
  residual, ``‖r(x)‖₂ ≤ tol · max(1, ‖x‖₂)``, never on the step;
- continuation in the model's continuation parameter ``c`` (the ridge ``λ``, or ``z``) from its start value ``c0``, where
  ``η`` is negligible and ``x ≈ [L0^{-1}]_x``: ``c = c_target + f (c0 − c_target)`` with ``f`` shrinking geometrically
  from 1 to 0 (the shrink factor squares after a success, down to 1/10, and is square-rooted after a failure). For a non-real target
  (``z`` with ``Im z ≠ 0``) the start is ``Re z + i |c0| sign(Im z)`` instead: the path comes straight down to ``z``
  far from the real axis, where the branches of the solution meet, so it stays on the Herglotz branch;
- warm starts along a sweep (the previous point's solution), with continuation as the fallback;
- derivatives ``dg/dp`` by the implicit function theorem and the observables at every point.

Every point has a status (``CONVERGED`` = 0), a residual and an iteration count; a point that does not converge raises
``ConvergenceError`` naming the model and its parameters — never a silent NaN.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import numba
import numpy as np

import generated
from rfdsm.validate import positive

CONVERGED, MAX_ITERATIONS, LINE_SEARCH, SINGULAR, NOT_FINITE, CONTINUATION = range(6)
MESSAGES = (
    "converged",
    "maximum number of Newton iterations reached",
    "line search failed to decrease the residual",
    "singular Jacobian",
    "residual not finite",
    "continuation failed (step became too small)",
)


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
    ``(points, blocks)``; ``status``, ``residual``, ``iterations`` per point (the Newton steps of that point)."""

    model: str
    params: dict
    g: np.ndarray
    observables: dict
    status: np.ndarray
    residual: np.ndarray
    iterations: np.ndarray

    def __getitem__(self, name: str) -> np.ndarray:
        return self.observables[name]


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


# -- compiled core ----------------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _linear_solve(A, b):
    """``A^{-1} b`` by Gaussian elimination with partial pivoting (tiny systems; no exception on a singular ``A``)."""
    n = b.size
    M = A.copy()
    y = b.copy()
    for k in range(n):
        pivot = k
        for i in range(k + 1, n):
            if abs(M[i, k]) > abs(M[pivot, k]):
                pivot = i
        if not abs(M[pivot, k]) > 1e-300:
            return y, False
        if pivot != k:
            for j in range(n):
                M[k, j], M[pivot, j] = M[pivot, j], M[k, j]
            y[k], y[pivot] = y[pivot], y[k]
        for i in range(k + 1, n):
            factor = M[i, k] / M[k, k]
            for j in range(k, n):
                M[i, j] -= factor * M[k, j]
            y[i] -= factor * y[k]
    for k in range(n - 1, -1, -1):
        for j in range(k + 1, n):
            y[k] -= M[k, j] * y[j]
        y[k] /= M[k, k]
    return y, True


@numba.njit(cache=True)
def _newton(residual, jacobian, x, p, tol, maxiter):
    """Damped Newton from ``x``: ``(x, status, ‖r‖₂, iterations)``."""
    r = residual(x, p)
    norm = np.sqrt(np.sum(np.abs(r) ** 2))
    if not np.isfinite(norm):
        return x, NOT_FINITE, norm, 0
    for it in range(maxiter + 1):
        if norm <= tol * max(1.0, np.sqrt(np.sum(np.abs(x) ** 2))):
            return x, CONVERGED, norm, it
        if it == maxiter:
            break
        step, ok = _linear_solve(jacobian(x, p), -r)
        if not ok:
            return x, SINGULAR, norm, it
        t = 1.0
        while True:
            trial = x + t * step
            r_trial = residual(trial, p)
            n_trial = np.sqrt(np.sum(np.abs(r_trial) ** 2))
            if np.isfinite(n_trial) and n_trial <= (1.0 - 1e-4 * t) * norm:
                break
            t *= 0.5
            if t < 1e-6:
                return x, LINE_SEARCH, norm, it
        x, r, norm = trial, r_trial, n_trial
    return x, MAX_ITERATIONS, norm, maxiter


@numba.njit(cache=True)
def _continue(residual, jacobian, x, p, index, start, tol, maxiter):
    """Newton at ``p`` reached by continuation in ``p[index]`` from ``start`` (``index < 0``: plain Newton from ``x``)."""
    if index < 0:
        return _newton(residual, jacobian, x, p, tol, maxiter)
    q = p.copy()
    target = p[index]
    delta = start - target
    q[index] = start
    x, status, norm, total = _newton(residual, jacobian, x, q, tol, maxiter)
    if status != CONVERGED:
        return x, status, norm, total
    fraction = 1.0
    shrink = 0.5
    while fraction > 0.0:
        trial = fraction * shrink
        if trial * abs(delta) <= 1e-3 * abs(target) or trial < 1e-14:
            trial = 0.0
        q[index] = target + trial * delta
        x_new, status, norm, it = _newton(residual, jacobian, x, q, tol, maxiter)
        total += it
        if status == CONVERGED:
            x, fraction, shrink = x_new, trial, max(shrink * shrink, 0.1)
        else:
            shrink = np.sqrt(shrink)
            if shrink > 0.999:
                return x, CONTINUATION, norm, total
    return x, CONVERGED, norm, total


@numba.njit(cache=True)
def _sweep(residual, jacobian, initial, P, index, start, tol, maxiter, guess, warm):
    """Solve at every row of ``P``: from ``guess`` (if given) or the previous solution (``warm``), falling back on
    continuation from ``initial``."""
    n = P.shape[0]
    X = np.empty((n, guess.size), dtype=P.dtype)
    status = np.empty(n, dtype=np.int64)
    norms = np.empty(n)
    iterations = np.empty(n, dtype=np.int64)
    x = guess.copy()
    have = warm
    for i in range(n):
        s = MAX_ITERATIONS
        it = 0
        x_new = x
        norm = np.inf
        if have:
            x_new, s, norm, it = _newton(residual, jacobian, x, P[i], tol, maxiter)
        if s != CONVERGED:
            x_new, s, norm, more = _continue(residual, jacobian, initial(_start(P[i], index, start)), P[i], index,
                                             start, tol, maxiter)
            it += more
        X[i] = x_new
        status[i], norms[i], iterations[i] = s, norm, it
        if s == CONVERGED:
            x = x_new
            have = True
    return X, status, norms, iterations


@numba.njit(cache=True)
def _start(p, index, start):
    q = p.copy()
    if index >= 0:
        q[index] = start
    return q


@numba.njit(cache=True)
def _finish(resolvent, derivatives, observables, X, P, n_blocks, n_derivatives, n_observables):
    n = P.shape[0]
    G = np.empty((n, n_blocks), dtype=P.dtype)
    dG = np.empty((n, n_blocks, n_derivatives), dtype=P.dtype)
    O = np.empty((n, n_observables), dtype=P.dtype)
    for i in range(n):
        G[i] = resolvent(X[i], P[i])
        dG[i] = derivatives(X[i], P[i])
        O[i] = observables(G[i], dG[i], P[i])
    return G, dG, O


# -- Python interface -------------------------------------------------------------------------------------------------


def _parameter_table(module: ModuleType, params) -> tuple[np.ndarray, dict]:
    """Validated parameter rows ``(points, parameters)`` (complex if any value is) and the broadcast columns by name."""
    names = module.PARAMETERS
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
            column = np.array([positive(name, v, allow_zero=name in module.NONNEGATIVE) for v in column])
        else:
            try:
                column = np.asarray(column, dtype=complex if np.iscomplexobj(column) else float)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: expected numbers, got {column!r}") from None
            if not np.all(np.isfinite(column)):
                raise ValueError(f"{name}: expected finite numbers, got {column!r}")
        table[name] = column
    dtype = complex if any(np.iscomplexobj(c) for c in table.values()) else float
    return np.ascontiguousarray(np.stack([table[k] for k in names], axis=1), dtype=dtype), table


def _run(model: str, params, guess, tol: float, maxiter: int):
    module = load(model)
    tol = positive("tol", tol)
    if not (isinstance(maxiter, int) and maxiter >= 1):
        raise ValueError(f"maxiter: expected an integer ≥ 1, got {maxiter!r}")
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
    X, status, norms, iterations = _sweep(
        module.residual, module.jacobian, module.initial, P, index, P.dtype.type(start), tol, maxiter, x0, warm
    )
    bad = np.flatnonzero(status != CONVERGED)
    if bad.size:
        i = bad[0]
        where = ", ".join(f"{k}={table[k][i].item()!r}" for k in module.PARAMETERS)
        raise ConvergenceError(
            f"model {model}: no fixed point at {where}: {MESSAGES[status[i]]} "
            f"(residual {norms[i]:.3g} after {iterations[i]} Newton steps; {bad.size} of {len(status)} points failed)"
        )
    G, dG, O = _finish(module.resolvent, module.derivatives, module.observables, X, P,
                       len(module.BLOCKS), len(module.DERIVATIVES), len(module.OBSERVABLES))
    if not np.all(np.isfinite(O)):
        i = np.flatnonzero(~np.all(np.isfinite(O), axis=1))[0]
        where = ", ".join(f"{k}={table[k][i].item()!r}" for k in module.PARAMETERS)
        raise ConvergenceError(f"model {model}: observables not finite at {where}")
    if P.dtype == float:
        G, dG, O = G.real, dG.real, O.real
    return module, table, X, G, dG, O, status, norms, iterations


def solve(model: str, params, guess=None, tol: float = 1e-12, maxiter: int = 50) -> Solution:
    """The fixed point of ``model`` at one parameter point (``params``: name → number, or the vector in ``PARAMETERS``
    order), from ``guess`` (the unknowns) or by continuation from the model's start value."""
    module, table, X, G, dG, O, status, norms, iterations = _run(model, params, guess, tol, maxiter)
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


def sweep(model: str, params, guess=None, tol: float = 1e-12, maxiter: int = 50) -> Sweep:
    """Fixed points along a sweep: ``params`` maps each parameter to a number or to a 1-D array (arrays of one length,
    numbers broadcast); points are solved in order, each warm-started from the previous one."""
    module, table, X, G, dG, O, status, norms, iterations = _run(model, params, guess, tol, maxiter)
    return Sweep(
        model=model,
        params=table,
        g=G,
        observables={name: O[:, i] for i, name in enumerate(module.OBSERVABLES)},
        status=status,
        residual=norms,
        iterations=iterations,
    )


__all__ = ["ConvergenceError", "Solution", "Sweep", "available", "load", "solve", "sweep"]
